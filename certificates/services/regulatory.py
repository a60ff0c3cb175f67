"""What regulators, the press or the public found at a client, and what follows (004 §5.3.3(4),
§5.9.2, §9.5; 002 §4.3.8.2; 003 §4.6): short-notice audits, an immediate suspension when the
client failed to report a written finding (004 §5.9.2(3) note), reporting obligations after a
major accident, a withdrawal proposal after the third failed official spot check.
"""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.models import Organization
from audits import rules
from audits import services as audit_services
from audits.models import (
    Audit,
    AuditProgramme,
)
from certbody import policy, workdays
from certbody.dates import add_months
from certbody.lifecycle import RuleViolation, lock, record
from certificates import causes, guards, selectors
from certificates.models import (
    Certificate,
    Proposal,
    RegulatoryEvent,
    ReportingObligation,
)
from certificates.services.proposals import proposal_open
from certificates.services.status import certificate_suspend

logger = logging.getLogger("certificates.services")

SPOT_CHECK_FAILURES_TO_WITHDRAW = 3  # 003 §4.6


CNAS_ACCIDENT_REPORT_DAYS = 10  # 002 §4.3.8.2: within 10 days of learning of it


REGULATOR_ACCIDENT_REPORT_WORKING_DAYS = 2  # 004 §9.5: within 2 working days of the accident


UNREPORTED_FINDING_SUSPENSION_MONTHS = 6  # 004 §7.2.2: the longest period; restored earlier

# The suspension cause of a finding the client did not report: reporting a regulator's finding
# to the CB is a duty of the certification contract (004 §5.3.3(4); 001 §6.1.7(3)②), so the
# cause is "contract obligations not met" — 004 §7.2.1(8), under CAS 001 §9.3.2.1(2).
UNREPORTED_FINDING_CAUSE = {rules.SCHEME_ZXRZ: 8, rules.SCHEME_CAS: 2}


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
    client_failed_to_report: bool = False,
    failure_learned_on: date | None = None,
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
    - a written finding the client failed to report to the CB (``client_failed_to_report``)
      also suspends the valid certificate at once (004 §5.9.2(3) note): from
      ``failure_learned_on`` (the day the CB learned of the failure, default today; not before
      the notice, not in the future), cause "contract obligations not met" (004 §7.2.1(8);
      CAS 001 §9.3.2.1(2); the duty is 004 §5.3.3(4)), for the longest period of 6 months
      (004 §7.2.2), through ``certificate_suspend`` (CNCA change 97_01, suspension notice). A
      certificate suspended already stays as it is;
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
    if client_failed_to_report and not written_finding:
        raise RuleViolation(
            gettext(
                "Only a regulator's written nonconformity can be one the client failed to report."
            ),
            "004 §5.9.2(3)",
        )
    if client_failed_to_report:
        failure_learned_on = failure_learned_on or timezone.localdate()
        guards.not_future(failure_learned_on, _("The date the CB learned of the failure"))
        if failure_learned_on < notified_on:
            raise RuleViolation(
                gettext(
                    "The CB cannot have learned that the client failed to report the finding "
                    "before the regulator's notice (%(day)s)."
                )
                % {"day": notified_on},
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
            client_failed_to_report=client_failed_to_report,
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
        if client_failed_to_report:
            _suspend_for_unreported_finding(event, actor, failure_learned_on)
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


def _suspend_for_unreported_finding(
    event: RegulatoryEvent, actor, learned_on: date
) -> Certificate | None:
    certificate = event.certificate
    if certificate.status != Certificate.Status.VALID:
        logger.info("unreported finding at %s: certificate %s", certificate, certificate.status)
        return None
    cause = UNREPORTED_FINDING_CAUSE.get(
        certificate.scheme, UNREPORTED_FINDING_CAUSE[rules.SCHEME_ZXRZ]
    )
    return certificate_suspend(
        certificate=certificate,
        actor=actor,
        cause=cause,
        verified_on=learned_on,
        starts_on=learned_on,
        ends_on=add_months(learned_on, UNREPORTED_FINDING_SUSPENSION_MONTHS),
        reason=(
            f"获证组织未及时向认证机构通报{event.source}于 {event.notified_on} 发出的书面不合格"
            f"通报（004 §5.3.3(4)），获悉后立即暂停证书（004 §5.9.2(3) 注）：{event.description}"
        )[:300],
        evidence=(
            f"监管信息登记（{event.occurred_on}，{event.source}）；认证机构于 {learned_on} 获悉"
        ),
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
