"""What the public may see of a certificate (002 §4.1.2; 004 §7.2.3, §9.4): one place for the
search page, the QR page, the list of invalid certificates and the API.

Reasons shown are the rule's wording of the cause (``certificates.causes``) or the CNCA label,
never the staff's free-text particulars.
"""

import re
import unicodedata
from datetime import date

from django.db.models import Q

from certbody.reference import cnca_label
from certificates import causes, numbering
from certificates.models import Certificate, CertificateEvent

Status = Certificate.Status

# Plain-Chinese meaning of each status for the public page.
STATUS_TEXT = {
    Status.VALID: ("有效", "证书在有效期内，获证组织可按规定使用认证证书和认证标志。"),
    Status.SUSPENDED: (
        "暂停",
        "证书暂停期间，获证组织不得使用认证证书、认证标志或引用认证信息。",
    ),
    Status.WITHDRAWN: ("撤销", "证书已被撤销，证书编号作废，不得继续使用。"),
    Status.CANCELLED: ("注销", "证书已应获证组织申请注销，不得继续使用。"),
    Status.EXPIRED: ("过期失效", "证书有效期已满且未获再认证，不得继续使用。"),
    Status.SUPERSEDED: (
        "已换发新证",
        "本证书已因再认证换发新证书而失效，请查询新证书。",
    ),
}
# 002 §4.1.2: the QR page reminds the client how the certificate stays valid.
KEEP_VALID_REMINDER = (
    "获证组织应按期接受认证机构的监督审核，持续满足认证要求，按规定使用认证证书和认证标志，"
    "并及时通报名称、地址、认证范围等变更及重大事故、行政处罚等情况；否则证书可能被暂停或撤销。"
)
# 004 §9.4: the CB publishes suspended, withdrawn and cancelled certificates.
INVALID_LIST_STATUSES = (Status.SUSPENDED, Status.WITHDRAWN, Status.CANCELLED)

EVENT_LABELS = {
    CertificateEvent.Kind.ISSUED: "发证",
    CertificateEvent.Kind.REISSUED: "换证",
    CertificateEvent.Kind.SUSPENDED: "暂停",
    CertificateEvent.Kind.RESTORED: "恢复",
    CertificateEvent.Kind.WITHDRAWN: "撤销",
    CertificateEvent.Kind.CANCELLED: "注销",
    CertificateEvent.Kind.EXPIRED: "过期失效",
    CertificateEvent.Kind.SUPERSEDED: "换发新证",
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
    """One plain-Chinese sentence with the dates of the current status."""
    status = certificate.status
    on = _d(certificate.status_changed_on)
    if status == Status.VALID:
        return f"有效期 {_d(certificate.issued_on)} 至 {_d(certificate.expires_on)}"
    if status == Status.SUSPENDED:
        return (
            f"自 {_d(certificate.suspended_from)} 起暂停，暂停期至 "
            f"{_d(certificate.suspended_until)}"
        )
    if status == Status.SUPERSEDED and certificate.superseded_by_id:
        return f"自 {on} 起由新证书 {certificate.superseded_by.number} 替代"
    return f"自 {on} 起{STATUS_TEXT[status][0]}"


def event_text(event: CertificateEvent) -> str:
    """The public wording of one status event, with its reason where the rule gives one."""
    kind = event.kind
    if kind == CertificateEvent.Kind.SUSPENDED:
        text = f"暂停，暂停期 {_d(event.occurred_on)} 至 {_d(event.ends_on)}"
        reason = _cause_label(causes.SUSPENSION_CAUSES, event)
    elif kind == CertificateEvent.Kind.WITHDRAWN:
        text = "撤销，证书编号作废"
        reason = _cause_label(causes.WITHDRAWAL_CAUSES, event)
    elif kind == CertificateEvent.Kind.CANCELLED:
        text, reason = "注销", cnca_label("cancellation_reason", event.reason_code)
    elif kind == CertificateEvent.Kind.REISSUED:
        text, reason = f"换证（{cnca_label('change_type', event.change_code)}）", ""
    elif kind == CertificateEvent.Kind.RESTORED:
        text, reason = "恢复，暂停原因已消除", ""
    elif kind == CertificateEvent.Kind.SUPERSEDED:
        text, reason = "因再认证换发新证书，本证书失效", ""
    elif kind == CertificateEvent.Kind.EXPIRED:
        text, reason = "有效期届满，证书失效", ""
    else:
        text, reason = EVENT_LABELS.get(kind, kind), ""
    return f"{text}；原因：{reason}" if reason else text


def _cause_label(table, event: CertificateEvent) -> str:
    if event.cause in table:
        return table[event.cause].label
    # Events recorded before causes were numbered carry only the CNCA code.
    name = "suspension_reason" if table is causes.SUSPENSION_CAUSES else "withdrawal_reason"
    return cnca_label(name, event.reason_code)


def public_history(certificate: Certificate) -> list[dict]:
    """Every status event of the certificate, oldest first, in plain Chinese."""
    return [
        {
            "date": event.occurred_on.isoformat(),
            "kind": event.kind,
            "label": EVENT_LABELS.get(event.kind, event.kind),
            "status_code": event.status_code,
            "text": event_text(event),
        }
        for event in certificate.events.order_by("occurred_on", "pk")
    ]


def certificate_json(certificate: Certificate) -> dict:
    """The public API representation of one certificate (no personal data, no internal ids)."""
    label, meaning = STATUS_TEXT[certificate.status]
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
        "business_scopes": [
            {"code": s.code, "name": s.name} for s in certificate.business_scopes.all()
        ],
        "star_grade": certificate.star_grade,
        "star_grade_label": certificate.get_star_grade_display(),
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
        "history": public_history(certificate),
    }


def _on(certificate: Certificate, status: str) -> str | None:
    return _iso(certificate.status_changed_on) if certificate.status == status else None


def _iso(day):
    return day.isoformat() if day else None
