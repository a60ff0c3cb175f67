"""Reissue within validity (004 Appendix C.3; 001 §6.1.8, §7.5) and the scope reduction that
replaces a suspension when a cause touches only part of the scope (001 §9.3.2.1): same number
and validity, a new PDF, an event per changed certificate.
"""

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.models import GRADE_CHOICES
from certbody import bounds, policy
from certbody.lifecycle import RuleViolation, lock, record
from certbody.models import BusinessScope
from certbody.reference import cnca_label
from certificates import causes, guards, pdf, public_rows
from certificates.models import (
    Certificate,
    CertificateDocument,
    CertificateEvent,
    Proposal,
)
from certificates.services.status import close_open_proposals, record_event

# CNCA change type → the certificate fields such a reissue changes (cnca_codes.json
# "change_type"). A star grade change has no own code: 99 other (001 §7.5).
REISSUE_FIELDS = {
    "01": {"organization_name"},
    "02": {"registered_address"},
    "05": {"scope_text", "business_scope_codes"},
    "06": {"scope_text", "business_scope_codes"},
    "99": {"organization_name", "registered_address", "scope_text", "star_grade"},
}


CHANGE_KEYS = {
    "organization_name",
    "registered_address",
    "scope_text",
    "business_scope_codes",
    "star_grade",
}


# What follows the head onto its sub-certificates (a site's own scope text stays its own).
SUB_FOLLOWS = {"organization_name", "registered_address", "star_grade", "business_scope_codes"}


REISSUE_REASON_CODE = "0104"  # 证书内容变更换证书


def certificate_reissue(
    *,
    certificate: Certificate,
    actor,
    reason: str,
    reissued_on: date,
    changes: dict,
    note: str = "",
    evidence: str = "",
) -> Certificate:
    """Reissue a valid certificate within its validity (004 Appendix C.3; 001 §6.1.8).

    ``reason``: the CNCA change type — "01" name, "02" address, "05" scope extension, "06" scope
    reduction, "99" other (e.g. a star grade change, 001 §7.5). ``changes``: the new values,
    keys among ``organization_name``, ``registered_address``, ``scope_text``,
    ``business_scope_codes`` (list of Appendix B codes) and ``star_grade``; at least one of
    them must fit ``reason`` and differ from the certificate. The number and validity stay; the
    reissue date and reason are recorded; name, address, grade and scope categories follow onto
    the sub-certificates. Every changed certificate gets an event (change code, reissue reason
    0104) and a new PDF; earlier PDFs are kept unchanged.
    """
    policy.require(actor, "certificates.change_status", certificate)
    guards.head_only(certificate)
    return _reissue(
        certificate=certificate,
        actor=actor,
        change_code=reason,
        reissued_on=reissued_on,
        changes=changes,
        note=note,
        evidence=evidence,
    )


def certificate_reduce_scope(
    *,
    certificate: Certificate,
    actor,
    cause: int,
    verified_on: date,
    reduced_on: date,
    scope_text: str,
    business_scope_codes: Iterable[int] | None = None,
    evidence: str = "",
) -> Certificate:
    """Reduce the scope instead of suspending when a suspension ``cause`` of the certificate's
    scheme (004 §7.2.1; 001 §9.3.2.1) touches only part of it (001 §9.3.2.1): within 5
    working days of ``verified_on`` like the suspension it replaces; reissued with change code
    06 (same number and validity, new PDF)."""
    policy.require(actor, "certificates.change_status", certificate)
    guards.head_only(certificate)
    found = guards.suspension_cause(causes.scheme_causes(certificate.scheme), cause)
    guards.within_working_days(verified_on, reduced_on, what=_("scope reduction"), rule=found.rule)
    changes = {"scope_text": scope_text}
    if business_scope_codes is not None:
        changes["business_scope_codes"] = list(business_scope_codes)
    return _reissue(
        certificate=certificate,
        actor=actor,
        change_code="06",
        reissued_on=reduced_on,
        changes=changes,
        note=f"因（{found.number}）{found.label}，缩小认证范围（001 §9.3.2.1）",
        evidence=evidence,
        cause=found.number,
    )


def _reissue(*, certificate, actor, change_code, reissued_on, changes, note, evidence, cause=None):
    label = cnca_label("change_type", change_code)
    if change_code not in REISSUE_FIELDS or not label:
        raise RuleViolation(
            gettext("No reissue for change type %(code)s.") % {"code": change_code}, "004 附录C.3"
        )
    unknown = set(changes) - CHANGE_KEYS
    if unknown:
        raise RuleViolation(
            gettext("Cannot change: %(fields)s") % {"fields": gettext(", ").join(sorted(unknown))}
        )
    guards.not_future(reissued_on, _("The reissue date"))
    # One rebuild of each public row for the save, the scopes and the event (issue #16).
    with transaction.atomic(), public_rows.public_rows_deferred():
        certificate = lock(Certificate, certificate.pk)
        if certificate.status != Certificate.Status.VALID:
            raise RuleViolation(
                gettext("The certificate is %(status)s: only a valid certificate is reissued.")
                % {"status": certificate.get_status_display()},
                "004 附录C.3",
            )
        if not certificate.issued_on <= reissued_on <= certificate.expires_on:
            raise RuleViolation(
                gettext("The reissue date lies within the certificate's validity."), "004 附录C.3"
            )
        new = _clean_changes(certificate, changes)
        if not new or not (set(new) & REISSUE_FIELDS[change_code]):
            raise RuleViolation(
                gettext(
                    "A reissue for %(label)s gives new content that differs from the certificate."
                )
                % {"label": label},
                "004 附录C.3",
            )
        old_codes = set(certificate.business_scopes.values_list("code", flat=True))
        if "business_scope_codes" in new:
            codes = set(new["business_scope_codes"])
            if change_code == "05" and not codes > old_codes:
                raise RuleViolation(
                    gettext("A scope extension keeps the business scopes held and adds new ones.")
                )
            if change_code == "06" and not codes < old_codes:
                raise RuleViolation(
                    gettext("A scope reduction only removes some of the business scopes held.")
                )
        reason_text = f"{label}{'：' + note.strip() if note.strip() else ''}"
        targets = [certificate, *Certificate.objects.select_for_update().filter(head=certificate)]
        for target in targets:
            if target.status != Certificate.Status.VALID:
                continue
            applied = (
                new
                if target is certificate
                else {key: value for key, value in new.items() if key in SUB_FOLLOWS}
            )
            for key, value in applied.items():
                if key != "business_scope_codes":
                    setattr(target, key, value)
            target.reissued_on = reissued_on
            target.reissue_reason = reason_text[:200]
            record(target, actor=actor, reason=f"换证：{label}")
            target.save(
                update_fields=[
                    "reissued_on",
                    "reissue_reason",
                    *(k for k in applied if k != "business_scope_codes"),
                ]
            )
            if "business_scope_codes" in applied:
                target.business_scopes.set(
                    BusinessScope.objects.filter(code__in=applied["business_scope_codes"])
                )
            record_event(
                target,
                CertificateEvent.Kind.REISSUED,
                reissued_on,
                actor,
                change_code=change_code,
                reason_code=REISSUE_REASON_CODE,
                reason=reason_text,
                evidence=evidence,
                cause=cause,
            )
            pdf.document_queue(
                certificate=target,
                kind=CertificateDocument.Kind.CERTIFICATE,
                html=pdf.certificate_html(target),
                expected=pdf.certificate_expected(target),
                actor=actor,
                note=f"换证（{label}）",
            )
        if "star_grade" in new:
            # A reissue at a new grade carries out the reissue proposed after a surveillance
            # evaluation (001 §7.5).
            close_open_proposals(
                certificate, Proposal.Action.REISSUE, actor=actor, on=reissued_on, done="换证"
            )
    return certificate


def _clean_changes(certificate: Certificate, changes: dict) -> dict:
    """The entries of ``changes`` that differ from the certificate, validated."""
    new = {}
    for key in ("organization_name", "registered_address", "scope_text"):
        if key in changes:
            value = str(changes[key] or "").strip()
            if not value:
                raise RuleViolation(gettext("The certificate's content cannot be empty."))
            bounds.check_value(Certificate._meta.get_field(key), value)
            if value != getattr(certificate, key):
                new[key] = value
    if "star_grade" in changes:
        if changes["star_grade"] not in dict(GRADE_CHOICES):
            raise RuleViolation(
                gettext("Unknown star grade: %(grade)s") % {"grade": changes["star_grade"]}
            )
        if changes["star_grade"] != certificate.star_grade:
            new["star_grade"] = changes["star_grade"]
    if "business_scope_codes" in changes:
        codes = {int(code) for code in changes["business_scope_codes"]}
        known = set(BusinessScope.objects.filter(code__in=codes).values_list("code", flat=True))
        if not codes or known != codes:
            raise RuleViolation(gettext("Invalid business scope codes."), "004 附录B")
        if codes != set(certificate.business_scopes.values_list("code", flat=True)):
            new["business_scope_codes"] = sorted(codes)
    return new
