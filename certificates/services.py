"""Write path for decisions, certificate issue and status changes (004 §5.12, §6, §7).

Keyword-only functions taking the acting user; each runs atomically, writes a
``CertificateEvent`` with the CNCA codes for every status change and raises ``RuleViolation``
with the rule named when the change is not allowed.
"""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from applications.models import Site
from audits import rules
from audits import services as audit_services
from audits.models import Audit, AuditTeamMember
from certbody import roles
from certbody.lifecycle import RuleViolation, fire, lock, record
from certbody.models import CertificationBody
from certbody.reference import cnca_label
from certificates import numbering, pdf
from certificates.models import (
    Certificate,
    CertificateDocument,
    CertificateEvent,
    CertificateSequence,
    Decision,
)

VALIDITY_MONTHS = 36  # 004 §6.2.3: valid at most 3 years

# The outcomes each kind of audit can lead to (004 §5.12; §5.12.6 for surveillance).
ALLOWED_OUTCOMES = {
    Audit.Kind.STAGE2: {Decision.Outcome.GRANT, Decision.Outcome.REFUSE},
    Audit.Kind.RECERTIFICATION: {Decision.Outcome.GRANT, Decision.Outcome.REFUSE},
    Audit.Kind.SURVEILLANCE: {Decision.Outcome.MAINTAIN},
    Audit.Kind.SPECIAL: {Decision.Outcome.MAINTAIN},
}


def decision_team_user_ids(audit: Audit) -> set[int]:
    """Ids of everyone on the team of ``audit`` and, for stage 2, of its document review."""
    kinds = [audit.kind]
    if audit.kind == Audit.Kind.STAGE2:
        kinds.append(Audit.Kind.DOCUMENT_REVIEW)
    return set(
        AuditTeamMember.objects.filter(
            audit__programme_id=audit.programme_id, audit__kind__in=kinds
        ).values_list("user_id", flat=True)
    ) | set(audit.team.values_list("user_id", flat=True))


def decision_make(
    *,
    audit: Audit,
    actor,
    outcome: str,
    decided_on: date,
    star_grade: str = "",
    reasons: str = "",
) -> Decision:
    """Record a certification decision on a completed audit and carry it out.

    A grant issues the certificate (``certificate_issue``); every decision closes the audit.
    Refused (RuleViolation) when: the actor is not a decision maker; the actor was on the
    audit team (004 §5.12.1, impartiality); the audit is not completed; the outcome does not
    fit the audit kind; a grant has no star grade; an initial decision falls more than
    6 months after stage 2 ended (004 §5.12.3); a recertification decision falls after the
    current certificate's expiry (004 §5.8.4); the date is before the audit's end or in the future.
    """
    if not roles.has_role(actor, roles.DECISION_MAKER):
        raise RuleViolation(f"“{actor}”不是认证决定人员", "004 §5.12.1")
    if outcome not in Decision.Outcome.values:
        raise RuleViolation(f"未知的认证决定：{outcome}")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if actor.pk in decision_team_user_ids(audit):
            raise RuleViolation("认证决定人员不得是该审核的审核组成员", "004 §5.12.1")
        if audit.state != Audit.State.COMPLETED:
            raise RuleViolation("审核完成后才能作出认证决定", "004 §5.12")
        if outcome not in ALLOWED_OUTCOMES.get(audit.kind, set()):
            raise RuleViolation(
                f"“{audit.get_kind_display()}”不能作出“{Decision.Outcome(outcome).label}”决定"
            )
        if decided_on > timezone.localdate():
            raise RuleViolation("认证决定日期不能晚于今天")
        if audit.actual_end and decided_on < audit.actual_end:
            raise RuleViolation("认证决定不能早于审核结束")
        if outcome == Decision.Outcome.GRANT:
            if not star_grade:
                raise RuleViolation("批准认证须确定星级", "004 §6.2.5")
            if audit.kind == Audit.Kind.STAGE2 and decided_on > rules.add_months(
                audit.actual_end, 6
            ):
                raise RuleViolation(
                    "初次认证决定须在二阶段审核后 6 个月内作出，否则须重新进行二阶段审核",
                    "004 §5.12.3",
                )
            if audit.kind == Audit.Kind.RECERTIFICATION:
                current = _current_certificate(audit.programme.organization_id)
                if current is not None and decided_on > current.expires_on:
                    raise RuleViolation(
                        "再认证决定须在现有证书到期前作出，否则须重新进行二阶段审核",
                        "004 §5.8.4",
                    )
        decision = Decision(
            audit=audit,
            outcome=outcome,
            decided_by=actor,
            decided_on=decided_on,
            star_grade=star_grade if outcome == Decision.Outcome.GRANT else "",
            reasons=reasons,
        )
        record(decision, actor=actor, reason="认证决定")
        decision.save()
        audit_services.audit_close(audit=audit, actor=actor, reason="认证决定后关闭")
        if outcome == Decision.Outcome.GRANT:
            certificate_issue(decision=decision, actor=actor)
    return decision


def _current_certificate(organization_id: int) -> Certificate | None:
    return (
        Certificate.objects.filter(
            organization_id=organization_id,
            head__isnull=True,
            status__in=[Certificate.Status.VALID, Certificate.Status.SUSPENDED],
        )
        .order_by("-expires_on")
        .first()
    )


def allocate_sequence(year: int) -> int:
    """Next number of the CB's yearly FW sequence (004 Appendix C), gapless.

    Must run inside the issuing transaction: the year row stays locked until commit, so two
    issues never get the same number, and a rolled-back issue gives its number back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate_sequence must run inside transaction.atomic()")
    CertificateSequence.objects.bulk_create(
        [CertificateSequence(year=year, last=0)], ignore_conflicts=True
    )
    row = CertificateSequence.objects.select_for_update().get(year=year)
    row.last += 1
    row.save(update_fields=["last"])
    return row.last


def certificate_issue(*, decision: Decision, actor, issued_on: date | None = None) -> Certificate:
    """Issue the certificate a grant decision allows, with sub-certificates for other sites.

    ``issued_on`` defaults to the decision date and may not precede it (004 §6.2.2).
    Initial validity: 3 years from issue, ending the day before. Recertification: validity
    continues from the previous certificate's expiry, which becomes superseded (004 §6.2.3,
    Appendix C.4). Renders and stores the PDFs; plans the cycle's surveillance audits.
    """
    if decision.outcome != Decision.Outcome.GRANT:
        raise RuleViolation("只有批准认证的决定才能发证", "004 §6.2")
    issued_on = issued_on or decision.decided_on
    if issued_on < decision.decided_on:
        raise RuleViolation("发证日期不能早于认证决定日期", "004 §6.2.2")
    cb = CertificationBody.get()
    with transaction.atomic():
        decision = lock(Decision, decision.pk)
        if decision.certificates.exists():
            raise RuleViolation("该认证决定已发证")
        audit = decision.audit
        programme = audit.programme
        organization = programme.organization
        application = programme.application
        previous = _current_certificate(organization.pk)
        if previous is not None and audit.kind == Audit.Kind.RECERTIFICATION:
            expires_on = rules.add_months(previous.expires_on, VALIDITY_MONTHS)
        else:
            expires_on = rules.add_months(issued_on, VALIDITY_MONTHS) - timedelta(days=1)
        sequence = allocate_sequence(issued_on.year)
        number = numbering.format_number(
            cb.number_prefix, issued_on.year, sequence, programme.cycle, cb.accreditation
        )
        head = Certificate(
            number=number,
            organization=organization,
            programme=programme,
            decision=decision,
            year=issued_on.year,
            sequence=sequence,
            cycle=programme.cycle,
            accreditation=cb.accreditation,
            scope_text=application.scope_text,
            star_grade=decision.star_grade,
            standard=cb.standard,
            issued_on=issued_on,
            expires_on=expires_on,
            status_changed_on=issued_on,
        )
        record(head, actor=actor, reason="发证")
        head.save()
        scopes = list(application.business_scopes.all())
        head.business_scopes.set(scopes)
        certificates = [head]
        other_sites = list(
            Site.objects.filter(organization=organization, is_head_office=False).order_by("pk")
        )
        if other_sites and Site.objects.filter(organization=organization).count() > 1:
            for k, site in enumerate(other_sites, start=1):
                sub = Certificate(
                    number=numbering.format_number(
                        cb.number_prefix,
                        issued_on.year,
                        sequence,
                        programme.cycle,
                        cb.accreditation,
                        sub=k,
                    ),
                    organization=organization,
                    programme=programme,
                    decision=decision,
                    head=head,
                    site=site,
                    year=head.year,
                    sequence=sequence,
                    cycle=head.cycle,
                    accreditation=head.accreditation,
                    scope_text=site.scope_text or head.scope_text,
                    star_grade=head.star_grade,
                    standard=head.standard,
                    issued_on=issued_on,
                    expires_on=expires_on,
                    status_changed_on=issued_on,
                )
                record(sub, actor=actor, reason="发子证书")
                sub.save()
                sub.business_scopes.set(scopes)
                certificates.append(sub)
        for certificate in certificates:
            _event(certificate, CertificateEvent.Kind.ISSUED, issued_on, actor, reason="发证")
        if previous is not None and audit.kind == Audit.Kind.RECERTIFICATION:
            _change_status(
                previous,
                "supersede",
                CertificateEvent.Kind.SUPERSEDED,
                actor=actor,
                on=issued_on,
                change_code="97_03",
                reason_code="0120",
                reason=cnca_label("withdrawal_reason", "0120"),
            )
        audit_services.programme_plan_cycle(
            programme=programme,
            actor=actor,
            decision_date=decision.decided_on,
            expires_on=expires_on,
        )
        for certificate in certificates:
            pdf.store_document(
                certificate=certificate,
                kind=CertificateDocument.Kind.CERTIFICATE,
                content=pdf.render_certificate_pdf(certificate),
                actor=actor,
                note="初次发证" if certificate.cycle == 0 else "再认证发证",
            )
    return head


def _event(certificate, kind, on, actor, *, change_code="", reason_code="", reason="", evidence=""):
    return CertificateEvent.objects.create(
        certificate=certificate,
        kind=kind,
        occurred_on=on,
        status_code=certificate.status_code,
        change_code=change_code,
        reason_code=reason_code,
        reason=reason,
        evidence=evidence,
        actor=actor,
    )


def _change_status(
    certificate: Certificate,
    transition_name: str,
    kind: str,
    *,
    actor,
    on: date,
    change_code: str,
    reason_code: str = "",
    reason: str = "",
    evidence: str = "",
    fields=(),
) -> Certificate:
    """Fire one status transition on a locked certificate and its sub-certificates."""
    targets = [certificate, *Certificate.objects.select_for_update().filter(head=certificate)]
    for target in targets:
        for name in fields:
            setattr(target, name, getattr(certificate, name))
        target.status_changed_on = on
        target.status_reason = reason[:300]
        if target is not certificate and not _can(target, transition_name):
            continue  # a sub-certificate already in a final state stays there
        fire(
            target,
            transition_name,
            actor=actor,
            reason=reason or kind,
            fields=["status_changed_on", "status_reason", *fields],
            label="证书",
        )
        _event(
            target,
            kind,
            on,
            actor,
            change_code=change_code,
            reason_code=reason_code,
            reason=reason,
            evidence=evidence,
        )
    return certificate


def _can(certificate, transition_name):
    from django_fsm import can_proceed

    return can_proceed(getattr(certificate, transition_name))


def _head_only(certificate: Certificate) -> None:
    if certificate.head_id is not None:
        raise RuleViolation("子证书的状态随主证书变化，请对主证书操作", "004 §6.2.6")


def _reason_label(table: str, reason_code: str, rule: str) -> str:
    label = cnca_label(table, reason_code)
    if not label:
        raise RuleViolation(f"未知的原因代码：{reason_code}", rule)
    return label


def certificate_suspend(
    *,
    certificate: Certificate,
    actor,
    reason_code: str,
    starts_on: date,
    ends_on: date,
    reason: str = "",
    evidence: str = "",
) -> Certificate:
    """Suspend a valid certificate from ``starts_on`` to ``ends_on`` (004 §7.2).

    ``reason_code`` is a CNCA suspension reason (cnca_codes.json). The period may not exceed
    6 months (004 §7.2.2) nor end before it starts, nor start before issue.
    """
    _require_status_officer(actor)
    _head_only(certificate)
    label = _reason_label("suspension_reason", reason_code, "004 §7.2.1")
    if ends_on <= starts_on:
        raise RuleViolation("暂停结束日期必须晚于开始日期", "004 §7.2.2")
    if ends_on > rules.add_months(starts_on, 6):
        raise RuleViolation("暂停期限不得超过 6 个月", "004 §7.2.2")
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if starts_on < certificate.issued_on:
            raise RuleViolation("暂停开始日期不能早于发证日期")
        certificate.suspended_from = starts_on
        certificate.suspended_until = ends_on
        return _change_status(
            certificate,
            "suspend",
            CertificateEvent.Kind.SUSPENDED,
            actor=actor,
            on=starts_on,
            change_code="97_01",
            reason_code=reason_code,
            reason=reason or label,
            evidence=evidence,
            fields=["suspended_from", "suspended_until"],
        )


def certificate_restore(
    *, certificate: Certificate, actor, restored_on: date, evidence: str
) -> Certificate:
    """Restore a suspended certificate when the cause is removed, with the evidence (004 §7.2.4)."""
    _require_status_officer(actor)
    _head_only(certificate)
    if not evidence.strip():
        raise RuleViolation("恢复证书须记录原因已消除的证据", "004 §7.2.4")
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if certificate.suspended_from and restored_on < certificate.suspended_from:
            raise RuleViolation("恢复日期不能早于暂停开始日期")
        certificate.suspended_from = None
        certificate.suspended_until = None
        return _change_status(
            certificate,
            "restore",
            CertificateEvent.Kind.RESTORED,
            actor=actor,
            on=restored_on,
            change_code="97_02",
            reason="暂停原因已消除，恢复证书",
            evidence=evidence,
            fields=["suspended_from", "suspended_until"],
        )


def certificate_withdraw(
    *,
    certificate: Certificate,
    actor,
    reason_code: str,
    withdrawn_on: date,
    reason: str = "",
    evidence: str = "",
) -> Certificate:
    """Withdraw a certificate (004 §7.3); its number is void and never reused (Appendix C.5)."""
    _require_status_officer(actor)
    _head_only(certificate)
    label = _reason_label("withdrawal_reason", reason_code, "004 §7.3.1")
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if withdrawn_on < certificate.issued_on:
            raise RuleViolation("撤销日期不能早于发证日期")
        return _change_status(
            certificate,
            "withdraw",
            CertificateEvent.Kind.WITHDRAWN,
            actor=actor,
            on=withdrawn_on,
            change_code="97_03",
            reason_code=reason_code,
            reason=reason or label,
            evidence=evidence,
        )


def certificate_cancel(
    *,
    certificate: Certificate,
    actor,
    cancelled_on: date,
    reason_code: str = "0204",
    reason: str = "",
) -> Certificate:
    """Cancel (注销) a certificate, normally at the client's request (004 §7.4)."""
    _require_status_officer(actor)
    _head_only(certificate)
    label = _reason_label("cancellation_reason", reason_code, "004 §7.4")
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if cancelled_on < certificate.issued_on:
            raise RuleViolation("注销日期不能早于发证日期")
        return _change_status(
            certificate,
            "cancel",
            CertificateEvent.Kind.CANCELLED,
            actor=actor,
            on=cancelled_on,
            change_code="99",
            reason_code=reason_code,
            reason=reason or label,
        )


def certificate_expire(
    *, certificate: Certificate, actor, today: date | None = None
) -> Certificate:
    """Mark a certificate expired once its validity has ended without renewal (004 §7.5)."""
    _head_only(certificate)
    today = today or timezone.localdate()
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if certificate.expires_on >= today:
            raise RuleViolation(f"证书有效期至 {certificate.expires_on}，尚未到期")
        return _change_status(
            certificate,
            "expire",
            CertificateEvent.Kind.EXPIRED,
            actor=actor,
            on=certificate.expires_on + timedelta(days=1),
            change_code="97_05",
            reason_code="0201",
            reason=cnca_label("cancellation_reason", "0201"),
        )


STATUS_ROLES = (roles.DECISION_MAKER, roles.TECHNICAL_MANAGER, roles.AUDIT_DEPARTMENT)


def _require_status_officer(actor) -> None:
    if actor.username == roles.SYSTEM_USERNAME:
        return
    if not any(roles.has_role(actor, role) for role in STATUS_ROLES):
        raise RuleViolation(f"“{actor}”无权变更证书状态")
