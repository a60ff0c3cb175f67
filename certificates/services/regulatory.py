"""What regulators, the press or the public found at a client, and what follows (004 §5.3.3(4),
§5.9.2, §9.5; 002 §4.3.8.2; 003 §4.6): short-notice audits, reporting obligations after a major
accident, a withdrawal proposal after the third failed official spot check.
"""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.models import Organization
from audits import services as audit_services
from audits.models import (
    Audit,
    AuditProgramme,
)
from certbody import policy, workdays
from certbody.lifecycle import RuleViolation, lock, record
from certificates import causes, guards, selectors
from certificates.models import (
    Certificate,
    Proposal,
    RegulatoryEvent,
    ReportingObligation,
)
from certificates.services.proposals import proposal_open

logger = logging.getLogger("certificates.services")

SPOT_CHECK_FAILURES_TO_WITHDRAW = 3  # 003 §4.6


CNAS_ACCIDENT_REPORT_DAYS = 10  # 002 §4.3.8.2: within 10 days of learning of it


REGULATOR_ACCIDENT_REPORT_WORKING_DAYS = 2  # 004 §9.5: within 2 working days of the accident


def regulatory_event_record(
    *,
    actor,
    kind: str,
    occurred_on: date,
    source: str,
    description: str,
    organization: Organization | None = None,
    certificate: Certificate | None = None,
    notified_on: date | None = None,
    level: str = "",
    result: str = "",
    written_finding: bool = False,
    major: bool = False,
) -> RegulatoryEvent:
    """Record what a regulator, the press or the public found at a client, and act on it.

    ``kind``: a ``RegulatoryEvent.Kind``. ``certificate`` defaults to the organisation's current
    head certificate. ``notified_on``: the regulator's notice date or the day the CB learned of
    it (default ``occurred_on``). Spot checks need ``level`` (national/provincial/other) and
    ``result`` (pass/fail). Side effects, in the same transaction:

    - a written regulator finding (``written_finding``) at a certified client adds a
      short-notice special audit due within 30 days of the notice (004 §5.9.2(3)), through
      ``audits.services.audit_add_special``;
    - a major accident (``major``) at a certified client creates the reporting obligations:
      CNAS within 10 days of learning of it (002 §4.3.8.2), the local regulator within
      2 working days of the accident (004 §9.5);
    - the third failed national or provincial spot check on one certificate opens a withdrawal
      proposal (003 §4.6) for a person to decide: nothing is withdrawn automatically.
    """
    policy.require(actor, "certificates.record_regulatory_event", certificate)
    if kind not in RegulatoryEvent.Kind.values:
        raise RuleViolation(gettext("Unknown kind of information: %(kind)s") % {"kind": kind})
    if certificate is not None:
        if certificate.head_id is not None:
            certificate = certificate.head
        if organization is not None and organization.pk != certificate.organization_id:
            raise RuleViolation(gettext("The certificate does not belong to this organisation."))
        organization = certificate.organization
    if organization is None:
        raise RuleViolation(gettext("Name the certified organisation or the certificate."))
    if not source.strip() or not description.strip():
        raise RuleViolation(
            gettext("Record where the information came from and what it says."), "004 §5.3.3(4)"
        )
    notified_on = notified_on or occurred_on
    guards.not_future(occurred_on, _("The date it happened"))
    guards.not_future(notified_on, _("The notice date"))
    if notified_on < occurred_on:
        raise RuleViolation(
            gettext("The notice (learned) date cannot be earlier than the date it happened.")
        )
    spot_check = kind == RegulatoryEvent.Kind.SPOT_CHECK
    if spot_check and (
        level not in RegulatoryEvent.Level.values or result not in RegulatoryEvent.Result.values
    ):
        raise RuleViolation(
            gettext(
                "A spot check records its level (national, provincial or other) and its result "
                "(pass or fail)."
            )
        )
    if not spot_check and (level and level not in RegulatoryEvent.Level.values or result):
        raise RuleViolation(gettext("Only a spot check records a spot-check result."))
    if written_finding and kind != RegulatoryEvent.Kind.REGULATOR_FINDING:
        raise RuleViolation(
            gettext("A written nonconformity applies only to a regulator's inspection finding."),
            "004 §5.9.2(3)",
        )
    if major and kind != RegulatoryEvent.Kind.ACCIDENT:
        raise RuleViolation(
            gettext("A major accident applies only to accident information."), "002 §4.3.8.2"
        )
    with transaction.atomic():
        if certificate is None:
            certificate = selectors.current_certificate(organization.pk)
        if certificate is not None:
            # Serialises the spot-check count per certificate (one proposal, 003 §4.6).
            certificate = lock(Certificate, certificate.pk)
        event = RegulatoryEvent(
            organization=organization,
            certificate=certificate,
            kind=kind,
            occurred_on=occurred_on,
            notified_on=notified_on,
            source=source.strip()[:200],
            description=description.strip(),
            level=level,
            result=result,
            written_finding=written_finding,
            major=major,
            recorded_by=actor,
        )
        record(event, actor=actor, reason="登记监管信息")
        event.save()
        if certificate is None:
            return event  # not (or no longer) certified: nothing the CB owes
        if written_finding:
            event.special_audit = _short_notice_audit(event, actor)
            record(event, actor=actor, reason="安排提前较短时间通知的审核")
            event.save(update_fields=["special_audit"])
        if major:
            _accident_obligations(event)
        if event.is_failed_official_spot_check:
            _propose_withdrawal_after_spot_checks(event, actor)
    return event


def _short_notice_audit(event: RegulatoryEvent, actor) -> Audit:
    programme = (
        AuditProgramme.objects.filter(
            organization=event.organization, state=AuditProgramme.State.ACTIVE
        )
        .order_by("-cycle")
        .first()
    )
    if programme is None:
        raise RuleViolation(
            gettext(
                "The client has no active audit programme, so the audit within 30 days of the "
                "notice cannot be arranged."
            ),
            "004 §5.9.2(3)",
        )
    return audit_services.audit_add_special(
        programme=programme,
        actor=actor,
        special_kind=Audit.SpecialKind.REGULATOR_FINDING,
        reason=f"{event.source}于 {event.notified_on} 通报书面不合格：{event.description}"[:300],
        notified_on=event.notified_on,
        short_notice=True,
    )


def _accident_obligations(event: RegulatoryEvent) -> list[ReportingObligation]:
    regulator_due = workdays.add_working_days(
        event.occurred_on, REGULATOR_ACCIDENT_REPORT_WORKING_DAYS
    )
    provisional = bool(workdays.provisional_years(event.occurred_on, regulator_due))
    subject = f"{event.organization}重大事故（{event.occurred_on}）"
    rows = [
        ReportingObligation(
            organization=event.organization,
            certificate=event.certificate,
            regulatory_event=event,
            recipient=ReportingObligation.Recipient.CNAS,
            subject=f"{subject}：事故原因背景、调查结论、采取的措施和处理意见",
            rule="002 §4.3.8.2",
            due_on=event.notified_on + timedelta(days=CNAS_ACCIDENT_REPORT_DAYS),
        ),
        ReportingObligation(
            organization=event.organization,
            certificate=event.certificate,
            regulatory_event=event,
            recipient=ReportingObligation.Recipient.LOCAL_REGULATOR,
            subject=f"{subject}：认证情况及最近一个认证周期的认证材料",
            rule="004 §9.5",
            due_on=regulator_due,
            provisional=provisional,
        ),
    ]
    for row in rows:
        row.save()
    return rows


def _propose_withdrawal_after_spot_checks(event: RegulatoryEvent, actor) -> Proposal | None:
    certificate = event.certificate
    failed = [
        e
        for e in RegulatoryEvent.objects.filter(
            certificate=certificate, kind=RegulatoryEvent.Kind.SPOT_CHECK
        )
        if e.is_failed_official_spot_check
    ]
    if len(failed) < SPOT_CHECK_FAILURES_TO_WITHDRAW:
        return None
    if certificate.status not in (Certificate.Status.VALID, Certificate.Status.SUSPENDED):
        return None
    if Proposal.objects.filter(
        certificate=certificate, action=Proposal.Action.WITHDRAW, state=Proposal.State.OPEN
    ).exists():
        return None
    proposal = proposal_open(
        certificate=certificate,
        actor=actor,
        action=Proposal.Action.WITHDRAW,
        cause=causes.SPOT_CHECKS_FAILED_WITHDRAWAL,
        reason=(
            f"同一证书在国家级或省级监督抽查中已 {len(failed)} 次不合格"
            f"（{'、'.join(str(e.occurred_on) for e in failed)}），建议撤销证书（003 §4.6）"
        ),
        regulatory_event=event,
        history_reason="三次国家或省级监督抽查不合格",
    )
    logger.info("withdrawal proposed for %s after %s failed spot checks", certificate, len(failed))
    return proposal


def reporting_obligation_done(
    *, obligation: ReportingObligation, actor, done_on: date
) -> ReportingObligation:
    """Record that a report was sent (``done_on``, not in the future)."""
    policy.require(actor, "certificates.report_obligation", obligation)
    guards.not_future(done_on, _("The date sent"))
    with transaction.atomic():
        obligation = lock(ReportingObligation, obligation.pk)
        if obligation.done_on:
            raise RuleViolation(gettext("Sent on %(day)s already.") % {"day": obligation.done_on})
        obligation.done_on = done_on
        record(obligation, actor=actor, reason="已报送")
        obligation.save(update_fields=["done_on"])
    return obligation
