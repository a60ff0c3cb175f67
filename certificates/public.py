"""What the public may see of a certificate (002 §4.1.2; 004 §7.2.3, §9.4): one place for the
search page, the QR page, the list of invalid certificates and the API.

Reasons shown are the rule's wording of the cause (``certificates.causes``) or the CNCA label,
never the staff's free-text particulars.
"""

import re
import unicodedata
from datetime import date

from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from certbody.reference import cnca_label
from certificates import causes, numbering
from certificates.models import Certificate, CertificateEvent

Status = Certificate.Status

# Plain meaning of each status for the public page, in the reader's language.
STATUS_TEXT = {
    Status.VALID: (
        pgettext_lazy("certificate status", "Valid"),
        _(
            "The certificate is within its period of validity; the organisation may use the "
            "certificate and the certification mark as the rules allow."
        ),
    ),
    Status.SUSPENDED: (
        pgettext_lazy("certificate status", "Suspended"),
        _(
            "While the certificate is suspended the organisation may not use the certificate "
            "or the certification mark, nor refer to the certification."
        ),
    ),
    Status.WITHDRAWN: (
        pgettext_lazy("certificate status", "Withdrawn"),
        _("The certificate has been withdrawn and its number is void; it may no longer be used."),
    ),
    Status.CANCELLED: (
        pgettext_lazy("certificate status", "Cancelled"),
        _("The certificate was cancelled at the organisation's request; it may no longer be used."),
    ),
    Status.EXPIRED: (
        pgettext_lazy("certificate status", "Expired"),
        _(
            "The certificate's period of validity has ended without recertification; it may no "
            "longer be used."
        ),
    ),
    Status.SUPERSEDED: (
        pgettext_lazy("certificate status", "Replaced by a new certificate"),
        _(
            "This certificate lapsed when a new certificate was issued on recertification; "
            "look up the new certificate."
        ),
    ),
}
# 002 §4.1.2: the QR page reminds the client how the certificate stays valid.
KEEP_VALID_REMINDER = _(
    "The certified organisation must accept the certification body's surveillance audits on "
    "time, keep meeting the certification requirements, use the certificate and the "
    "certification mark as the rules allow, and report promptly changes of name, address or "
    "scope, serious accidents and administrative penalties; otherwise the certificate may be "
    "suspended or withdrawn."
)
# 004 §9.4: the CB publishes suspended, withdrawn and cancelled certificates.
INVALID_LIST_STATUSES = (Status.SUSPENDED, Status.WITHDRAWN, Status.CANCELLED)

EVENT_LABELS = {
    CertificateEvent.Kind.ISSUED: pgettext_lazy("certificate event", "Issued"),
    CertificateEvent.Kind.REISSUED: pgettext_lazy("certificate event", "Reissued"),
    CertificateEvent.Kind.SUSPENDED: pgettext_lazy("certificate event", "Suspended"),
    CertificateEvent.Kind.RESTORED: pgettext_lazy("certificate event", "Restored"),
    CertificateEvent.Kind.WITHDRAWN: pgettext_lazy("certificate event", "Withdrawn"),
    CertificateEvent.Kind.CANCELLED: pgettext_lazy("certificate event", "Cancelled"),
    CertificateEvent.Kind.EXPIRED: pgettext_lazy("certificate event", "Expired"),
    CertificateEvent.Kind.SUPERSEDED: pgettext_lazy("certificate event", "Replaced"),
}


# Any kind of space a pasted number may carry (ASCII, no-break, ideographic …) and dashes that
# word processors substitute for the sub-certificate hyphen.
_SPACES = re.compile(r"\s+")
_DASHES = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\uff0d": "-",
    }
)


def normalize_number(text: str) -> str | None:
    """The canonical certificate number a person meant, or None when ``text`` is not one.

    Forgiving where people are sloppy and nowhere else: full-width characters are folded
    (NFKC: ``０１２３`` → ``0123``), every space is dropped, dashes become ``-`` and letters are
    upper-cased, then the result must parse strictly (004 Appendix C; ``numbering.parse_number``).
    ``"0123 25fw 0001 r0c"`` → ``"012325FW0001R0C"``.
    """
    if not isinstance(text, str):
        return None
    folded = _SPACES.sub("", unicodedata.normalize("NFKC", text).translate(_DASHES)).upper()
    try:
        return str(numbering.parse_number(folded))
    except ValueError:
        return None


def name_query(text: str) -> Q:
    """Certificates whose organisation name contains ``text``, or contains its characters in
    order with others between them (``苏州金桥`` finds ``苏州市金桥电器有限公司``): people leave
    out the administrative words (省, 市, 区) and spaces that the registered name carries.

    ``text`` is folded like a number (NFKC, spaces dropped); SQL wildcards in it are matched
    literally. Matches the name on the certificate and the organisation's current name.
    """
    folded = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    pattern = ".*".join(re.escape(ch) for ch in folded)
    return Q(organization_name__regex=pattern) | Q(organization__name__regex=pattern)


def public_queryset():
    return Certificate.objects.select_related(
        "organization", "head", "superseded_by"
    ).prefetch_related("business_scopes")


def invalid_queryset(status: str = ""):
    """Suspended, withdrawn and cancelled certificates, the latest change first (004 §9.4)."""
    statuses = [status] if status in INVALID_LIST_STATUSES else list(INVALID_LIST_STATUSES)
    return (
        public_queryset()
        .filter(status__in=statuses)
        .order_by("-status_changed_on", "organization_name", "number")
    )


def organization_name(certificate: Certificate) -> str:
    """The name the certificate bears (its snapshot; the organisation's for old rows)."""
    return certificate.organization_name or certificate.organization.name


def _d(day: date | None) -> str:
    return day.isoformat() if day else ""


def status_since(certificate: Certificate) -> str:
    """One plain sentence with the dates of the current status, in the active language."""
    status = certificate.status
    on = _d(certificate.status_changed_on)
    if status == Status.VALID:
        return gettext("Valid from %(start)s to %(end)s") % {
            "start": _d(certificate.issued_on),
            "end": _d(certificate.expires_on),
        }
    if status == Status.SUSPENDED:
        return gettext("Suspended since %(start)s, until %(end)s") % {
            "start": _d(certificate.suspended_from),
            "end": _d(certificate.suspended_until),
        }
    if status == Status.SUPERSEDED and certificate.superseded_by_id:
        return gettext("Replaced by certificate %(number)s on %(date)s") % {
            "number": certificate.superseded_by.number,
            "date": on,
        }
    return gettext("%(status)s on %(date)s") % {"status": STATUS_TEXT[status][0], "date": on}


def event_text(event: CertificateEvent) -> str:
    """The public wording of one status event, with its reason where the rule gives one."""
    kind = event.kind
    if kind == CertificateEvent.Kind.SUSPENDED:
        text = gettext("Suspended, from %(start)s to %(end)s") % {
            "start": _d(event.occurred_on),
            "end": _d(event.ends_on),
        }
        reason = _cause_label("suspension", event)
    elif kind == CertificateEvent.Kind.WITHDRAWN:
        text = gettext("Withdrawn; the certificate number is void")
        reason = _cause_label("withdrawal", event)
    elif kind == CertificateEvent.Kind.CANCELLED:
        text = str(EVENT_LABELS[kind])
        reason = cnca_label("cancellation_reason", event.reason_code)
    elif kind == CertificateEvent.Kind.REISSUED:
        text = gettext("Reissued (%(change)s)") % {
            "change": cnca_label("change_type", event.change_code)
        }
        reason = ""
    elif kind == CertificateEvent.Kind.RESTORED:
        text, reason = gettext("Restored; the cause of the suspension was removed"), ""
    elif kind == CertificateEvent.Kind.SUPERSEDED:
        text = gettext("Lapsed when a new certificate was issued on recertification")
        reason = ""
    elif kind == CertificateEvent.Kind.EXPIRED:
        text, reason = gettext("Lapsed at the end of its period of validity"), ""
    else:
        text, reason = str(EVENT_LABELS.get(kind, kind)), ""
    if not reason:
        return text
    return gettext("%(text)s; reason: %(reason)s") % {"text": text, "reason": reason}


def _cause_label(kind: str, event: CertificateEvent) -> str:
    # The cause number means the cause of the certificate's own scheme (004 §7; 001 §9.3).
    scheme = causes.scheme_causes(event.certificate.scheme)
    table = scheme.suspension if kind == "suspension" else scheme.withdrawal
    if event.cause in table:
        return table[event.cause].display
    # Events recorded before causes were numbered carry only the CNCA code.
    return cnca_label(f"{kind}_reason", event.reason_code)


def public_history(certificate: Certificate, events=None) -> list[dict]:
    """Every status event of the certificate, oldest first, in the active language.
    ``events``: the certificate's events when the caller holds them all (a new certificate's);
    by default read (or taken from a prefetch)."""
    if events is None:
        events = certificate.events.all()
    return [
        {
            "date": event.occurred_on.isoformat(),
            "kind": event.kind,
            "label": str(EVENT_LABELS.get(event.kind, event.kind)),
            "status_code": event.status_code,
            "text": event_text(event),
        }
        # all(): the refresh of many rows prefetches the events (one query per batch).
        for event in sorted(events, key=lambda e: (e.occurred_on, e.pk))
    ]


def certificate_json(certificate: Certificate, *, scopes=None, events=None) -> dict:
    """The public API representation of one certificate (no personal data, no internal ids).

    ``scopes`` (its business scopes) and ``events`` (all its events) may be passed by a caller
    that holds them (an issue, ``public_rows.public_rows_provide``); by default they are read
    (or taken from a prefetch). The certificate's organisation, head and successor are read
    through its relations."""
    if scopes is None:
        scopes = certificate.business_scopes.all()
    label, meaning = (str(text) for text in STATUS_TEXT[certificate.status])
    invalid = certificate.status != Status.VALID
    return {
        "number": certificate.number,
        "organization": organization_name(certificate),
        "uscc": certificate.organization.uscc,
        "registered_address": certificate.registered_address
        or certificate.organization.registered_address,
        "head_number": certificate.head.number if certificate.head_id else None,
        "field": "SC03",
        "standard": certificate.standard,
        "scope": certificate.scope_text,
        "business_scopes": [{"code": s.code, "name": s.name} for s in scopes],
        "star_grade": certificate.star_grade,
        "star_grade_label": str(certificate.get_star_grade_display()),
        "status": certificate.status,
        "status_code": certificate.status_code,
        "status_label": label,
        "status_meaning": meaning,
        "status_since": status_since(certificate),
        "status_changed_on": _iso(certificate.status_changed_on),
        "status_reason": certificate.status_reason if invalid else "",
        "issued_on": _iso(certificate.issued_on),
        "expires_on": _iso(certificate.expires_on),
        "reissued_on": _iso(certificate.reissued_on),
        "reissue_reason": certificate.reissue_reason.split("：", 1)[0]
        if certificate.reissued_on
        else "",
        "suspended_from": _iso(certificate.suspended_from),
        "suspended_until": _iso(certificate.suspended_until),
        "withdrawn_on": _on(certificate, Status.WITHDRAWN),
        "cancelled_on": _on(certificate, Status.CANCELLED),
        "expired_on": _on(certificate, Status.EXPIRED),
        "superseded_on": _on(certificate, Status.SUPERSEDED),
        "superseded_by": certificate.superseded_by.number if certificate.superseded_by_id else None,
        "number_void": certificate.status == Status.WITHDRAWN,
        "history": public_history(certificate, events),
    }


def _on(certificate: Certificate, status: str) -> str | None:
    return _iso(certificate.status_changed_on) if certificate.status == status else None


def _iso(day):
    return day.isoformat() if day else None
