"""ASRP programmes: design, preconditions, indicators, approval, notification, end (seed 000)."""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from audits.models import (
    AsrpAuditActivity,
    AsrpEligibilityCheck,
    AsrpIndicator,
    AsrpIndicatorResult,
    AsrpProgramme,
    Audit,
    AuditProgramme,
)
from audits.selectors.nonconformities import cycle_unsettled_nonconformities
from audits.selectors.planning import (
    _ASRP_KINDS,
    _opening_audit,
    asrp_approval_failures,
    asrp_full_cycle_failures,
)
from audits.services._guards import _not_future
from audits.services.programmes import _asrp_activities_ensure
from certbody import dates, policy
from certbody.lifecycle import RuleViolation, fire, lock, record


def asrp_programme_create(
    *,
    programme: AuditProgramme,
    actor,
    reliance: str,
    witnessing_criteria: str,
    internal_auditor_criteria: str,
    adjustment_criteria: str,
    audit_components: str,
    special_competences: str,
) -> AsrpProgramme:
    """Draft an ASRP programme for a client that completed a full normal cycle (000 §4.1.1, §4.3).

    The audit department designs it (000 §3.2) with the six contents of 000 §4.3.1–4.3.6. The
    full-cycle precondition is checked here and recorded with its evidence; the other
    preconditions are recorded with ``asrp_eligibility_record`` and checked at approval.
    """
    policy.require(actor, "audits.manage_asrp", programme)
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        if programme.state != AuditProgramme.State.ACTIVE:
            raise RuleViolation(_("The audit programme is closed."))
        if AsrpProgramme.objects.filter(programme=programme).exists():
            raise RuleViolation(_("This certification cycle already has an ASRP programme."))
        failures = asrp_full_cycle_failures(programme)
        if failures:
            raise RuleViolation(
                _("The ASRP programme cannot be created: %(failures)s")
                % {"failures": _("; ").join(failures)}
            )
        asrp = AsrpProgramme(
            programme=programme,
            reliance=reliance,
            witnessing_criteria=witnessing_criteria,
            internal_auditor_criteria=internal_auditor_criteria,
            adjustment_criteria=adjustment_criteria,
            audit_components=audit_components,
            special_competences=special_competences,
        )
        record(asrp, actor=actor, reason="设计 ASRP 方案")
        asrp.save()
        previous = AuditProgramme.objects.get(
            organization_id=programme.organization_id, cycle=programme.cycle - 1
        )
        closed = previous.audits.filter(state=Audit.State.CLOSED).count()
        check = AsrpEligibilityCheck(
            asrp=asrp,
            criterion=AsrpEligibilityCheck.Criterion.FULL_CYCLE,
            met=True,
            evidence=(
                f"系统核对：上一周期（R{previous.cycle}）已关闭审核 {closed} 项，含初次/再认证"
                f"与监督审核；本周期常规再认证审核“{_opening_audit(programme)}”已作出认证决定。"
            ),
            checked_by=actor,
            checked_on=dates.today(),
        )
        record(check, actor=actor, reason="ASRP 许用准则核对")
        check.save()
    return asrp


def asrp_eligibility_record(
    *, asrp: AsrpProgramme, actor, criterion: str, met: bool, evidence: str, checked_on: date
) -> AsrpEligibilityCheck:
    """Record one precondition of 000 §4.1.2–4.1.6 / §4.4.1 with its evidence (draft only).

    The full-cycle precondition (000 §4.1.1) is checked by the system, not recorded by hand.
    "Every NC of the cycle resolved" (000 §4.1.2) cannot be recorded as met against the NC
    records; approval computes it again from them (``asrp_approval_failures``).
    """
    policy.require(actor, "audits.manage_asrp", asrp)
    if criterion not in AsrpEligibilityCheck.Criterion.values:
        raise RuleViolation(
            _("Unknown ASRP eligibility criterion: %(criterion)s.") % {"criterion": criterion}
        )
    if criterion == AsrpEligibilityCheck.Criterion.FULL_CYCLE:
        raise RuleViolation(
            _("The full certification cycle is checked by the system from the audit records."),
            "000 §4.1.1",
        )
    if not evidence.strip():
        raise RuleViolation(
            _("An ASRP eligibility criterion needs its evidence recorded."), "000 §4.4.2"
        )
    _not_future(checked_on, _("the check date"))
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        if asrp.state != AsrpProgramme.State.DRAFT:
            raise RuleViolation(
                _("Once the ASRP programme is approved its eligibility records cannot change.")
            )
        if met and criterion == AsrpEligibilityCheck.Criterion.NCS_RESOLVED:
            unresolved = list(cycle_unsettled_nonconformities(asrp.programme))
            if unresolved:
                raise RuleViolation(
                    _(
                        "The nonconformities of the certification cycle cannot be recorded as "
                        "resolved while these are not: %(ncs)s"
                    )
                    % {"ncs": _("; ").join(str(nc) for nc in unresolved)},
                    "000 §4.1.2",
                )
        check = (
            AsrpEligibilityCheck.objects.select_for_update()
            .filter(asrp=asrp, criterion=criterion)
            .first()
        ) or AsrpEligibilityCheck(asrp=asrp, criterion=criterion)
        check.met = bool(met)
        check.evidence = evidence
        check.checked_by = actor
        check.checked_on = checked_on
        record(check, actor=actor, reason="ASRP 许用准则核对")
        check.save()
    return check


def asrp_indicator_add(
    *, asrp: AsrpProgramme, actor, name: str, target: str, agreed_on: date, method: str = ""
) -> AsrpIndicator:
    """Add a measurable performance indicator agreed with the client (000 §4.1.3; draft only)."""
    policy.require(actor, "audits.manage_asrp", asrp)
    if not name.strip() or not target.strip():
        raise RuleViolation(
            _("A performance indicator needs a name and a measurable target."), "000 §4.1.3"
        )
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        if asrp.state != AsrpProgramme.State.DRAFT:
            raise RuleViolation(_("Once the ASRP programme is approved no indicator can be added."))
        indicator = AsrpIndicator(
            asrp=asrp, name=name.strip(), target=target.strip(), method=method, agreed_on=agreed_on
        )
        record(indicator, actor=actor, reason="商定绩效指标")
        indicator.save()
    return indicator


def asrp_indicator_result_record(
    *,
    indicator: AsrpIndicator,
    actor,
    period: str,
    period_end: date,
    value: str,
    met: bool,
    evidence: str = "",
) -> AsrpIndicatorResult:
    """Record an indicator's result for a period (000 §4.1.3: continuously met).

    A missed target while the ASRP is in use is the case 000 §4.1.6 and §4.3.4 provide for:
    the result is recorded and shown; the audit department adjusts or ends the programme.
    """
    policy.require(actor, "audits.manage_asrp", indicator)
    if not period.strip() or not value.strip():
        raise RuleViolation(_("Fill in the period and the result."))
    _not_future(period_end, _("the end of the period"))
    with transaction.atomic():
        asrp = lock(AsrpProgramme, indicator.asrp_id)
        if asrp.state == AsrpProgramme.State.ENDED:
            raise RuleViolation(_("The ASRP programme has ended."))
        result = (
            AsrpIndicatorResult.objects.select_for_update()
            .filter(indicator=indicator, period=period.strip())
            .first()
        ) or AsrpIndicatorResult(indicator=indicator, period=period.strip())
        result.period_end = period_end
        result.value = value.strip()
        result.met = bool(met)
        result.evidence = evidence
        result.recorded_by = actor
        record(result, actor=actor, reason="记录绩效指标结果")
        result.save()
    return result


def asrp_programme_approve(*, asrp: AsrpProgramme, actor, approved_on: date) -> AsrpProgramme:
    """The technical manager approves the ASRP programme (000 §3.3).

    Refused with every missing precondition named (``asrp_approval_failures``), among them any
    NC of the cycle still unresolved, computed from the NCs (000 §4.1.2). The mandatory
    on-site activities (000 §4.2.2 b) are then listed for each planned surveillance and
    recertification audit of the cycle.
    """
    policy.require(actor, "audits.approve_asrp", asrp)
    _not_future(approved_on, _("the approval date"))
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        failures = asrp_approval_failures(asrp)
        if failures:
            raise RuleViolation(
                _("The ASRP programme cannot be approved: %(failures)s")
                % {"failures": _("; ").join(failures)}
            )
        asrp.approved_by = actor
        asrp.approved_on = approved_on
        fire(
            asrp,
            "approve",
            actor=actor,
            reason="批准 ASRP 方案",
            fields=["approved_by", "approved_on"],
            label="ASRP 方案",
        )
        for audit in asrp.programme.audits.filter(kind__in=_ASRP_KINDS):
            _asrp_activities_ensure(audit, actor)
    return asrp


def asrp_accreditation_notify(*, asrp: AsrpProgramme, actor, notified_on: date) -> AsrpProgramme:
    """Record the date the accreditation body was notified; needed before first use (000 §4.4.2)."""
    policy.require(actor, "audits.manage_asrp", asrp)
    _not_future(notified_on, _("the notification date"))
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        if asrp.approved_on and notified_on < asrp.approved_on:
            raise RuleViolation(
                _("The accreditation body cannot be notified before the approval date."),
                "000 §4.4.2",
            )
        asrp.accreditation_notified_on = notified_on
        fire(
            asrp,
            "notify",
            actor=actor,
            reason="已通知认可机构",
            fields=["accreditation_notified_on"],
            label="ASRP 方案",
        )
    return asrp


def asrp_activity_record(*, audit: Audit, actor, activity: str, notes: str = "") -> None:
    """Record that an ASRP audit covered one mandatory activity (000 §4.2.2 b)."""
    policy.require(actor, "audits.manage_plan", audit)
    with transaction.atomic():
        row = (
            AsrpAuditActivity.objects.select_for_update()
            .filter(audit=audit, activity=activity)
            .first()
        )
        if row is None:
            raise RuleViolation(_("This audit has no such mandatory ASRP activity."))
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation(_("The audit is over."))
        row.covered = True
        row.notes = notes
        record(row, actor=actor, reason="ASRP 活动已开展")
        row.save(update_fields=["covered", "notes"])


def asrp_programme_end(*, asrp: AsrpProgramme, actor, ended_on: date, reason: str) -> AsrpProgramme:
    """End an ASRP programme, e.g. when the client misses its indicators (000 §4.3.4, §4.1.6).

    The cycle's remaining audits are then planned and timed by the normal rules.
    """
    policy.require(actor, "audits.manage_asrp", asrp)
    if not reason.strip():
        raise RuleViolation(_("Ending an ASRP programme needs a reason."), "000 §4.3.4")
    _not_future(ended_on, _("the end date"))
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        asrp.ended_on = ended_on
        asrp.end_reason = reason
        fire(
            asrp,
            "end",
            actor=actor,
            reason="终止 ASRP 方案",
            fields=["ended_on", "end_reason"],
            label="ASRP 方案",
        )
    return asrp
