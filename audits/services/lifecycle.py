"""An audit's own transitions: schedule, start, complete, close, terminate (004 §5.4.6.3,
§5.5, §5.11; §9.2).
"""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from audits import rules
from audits.models import (
    Audit,
    AuditProgramme,
    AuditTimeDetermination,
)
from audits.selectors.calendar import booking_conflicts
from audits.selectors.cas import require_cas_surveillance_window
from audits.selectors.gates import audit_completable, audit_startable
from audits.services._guards import HALF_DAY
from audits.services.nonconformities import nonconformity_due_recompute
from audits.services.plans import _plan_revise
from audits.services.programmes import _replan
from certbody import bounds, policy
from certbody.lifecycle import RuleViolation, fire, lock, record


def audit_schedule(
    *,
    audit: Audit,
    actor,
    planned_start: date,
    planned_end: date,
    planned_days: Decimal | None = None,
) -> Audit:
    """Set the dates (and, without a determination, the time) of a planned audit.

    Sets the CNCA plan report deadline, 3 days before the start (004 §9.2). A CAS surveillance may
    not start earlier than 9 months after the previous audit's end (001 §7.1,
    ``require_cas_surveillance_window``; a special audit is not bound). ``planned_days`` may not
    differ from a recorded determination (004 §5.4.2.3: determine again instead). A plan already
    sent is revised when the dates change (004 §5.4.6.3). New dates on which a team member is
    blocked or booked on another planned or running audit (from today on) are refused
    (``audits.selectors.calendar.booking_conflicts``).
    """
    policy.require(actor, "audits.schedule_audit", audit)
    if planned_end < planned_start:
        raise RuleViolation(_("The audit's end date cannot be earlier than its start date."))
    if planned_days is not None:
        planned_days = Decimal(planned_days)
        if planned_days <= 0 or planned_days % HALF_DAY != 0:
            raise RuleViolation(
                _("Audit time must be a positive multiple of half a day."), "004 附录A"
            )
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.PLANNED:
            raise RuleViolation(_("Only a planned audit's dates can be changed."))
        require_cas_surveillance_window(audit, planned_start)
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        if (
            determination is not None
            and planned_days is not None
            and planned_days != determination.total_days
        ):
            raise RuleViolation(
                _(
                    "The audit time is determined as %(total_days)s auditor-days; to change "
                    "it, determine the audit time again."
                )
                % {"total_days": determination.total_days},
                "004 §5.4.2.3",
            )
        dates_changed = (audit.planned_start, audit.planned_end) != (planned_start, planned_end)
        if dates_changed:
            team = list(audit.team.values_list("user_id", flat=True))
            busy = booking_conflicts(team, planned_start, planned_end, exclude_audit_id=audit.pk)
            if busy:
                raise RuleViolation(
                    _("The audit cannot be held on these days: %(conflicts)s")
                    % {"conflicts": _("; ").join(busy)}
                )
        audit.planned_start = planned_start
        audit.planned_end = planned_end
        if planned_days is not None:
            audit.planned_days = planned_days
            # A value beyond the column would be stored and then break every page showing it.
            bounds.check_instance(audit, "planned_days")
        audit.plan_report_due = rules.plan_report_due(planned_start)
        record(audit, actor=actor, reason="安排审核日期")
        audit.save(
            update_fields=["planned_start", "planned_end", "planned_days", "plan_report_due"]
        )
        if dates_changed:
            _plan_revise(audit, actor, reason="审核日期变更")
    return audit


def audit_start(*, audit: Audit, actor, started_on: date) -> Audit:
    """Start an audit whose team passes ``audit_team_check`` (004 §5.4.4).

    An on-site audit (every kind but the document review) needs its written plan confirmed
    by the client (004 §5.4.6.3) and reported to CNCA at least 3 days before ``started_on``
    (004 §9.2); a short-notice audit needs the report before the start and the reason the
    notice was short (004 §5.9.2). Raises ``RuleViolation`` naming the clause otherwise.

    Stage 2 needs a completed document review (001 §6.3). A CAS surveillance starts no earlier than
    9 months after the previous audit's end (001 §7.1). An audit timed under an ASRP needs the
    accreditation body notified before (000 §4.4.2). Starting a surveillance re-plans the next one's
    due date (004 §5.4.1.5).
    """
    policy.require(actor, "audits.start_audit", audit)
    with transaction.atomic():
        # The row locked with what the gates read (the team check's scopes and capacity, the
        # ASRP notice), so they do not read the audit again.
        audit = (
            Audit.objects.select_for_update(of=("self",))
            .select_related("programme__application", "time_determination")
            .get(pk=audit.pk)
        )
        audit_startable(audit, started_on, current=True)
        audit.actual_start = started_on
        fire(audit, "start", actor=actor, reason="审核开始", fields=["actual_start"])
        _replan_after(audit, actor)
    return audit


def audit_complete(
    *, audit: Audit, actor, ended_on: date, findings: str = "", recommendation_positive: bool
) -> Audit:
    """The team leader completes the audit with the team's recommendation (004 §5.11).

    Under an ASRP, every mandatory on-site activity must be recorded as covered (000 §4.2.2 b).
    An on-site audit needs its opening and closing meetings recorded, the closing one not
    after ``ended_on`` (004 §5.5.2; ``audit_meeting_record``).
    """
    policy.require(actor, "audits.run_audit", audit)
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        audit_completable(audit, ended_on)
        audit.actual_end = ended_on
        audit.findings_summary = findings
        audit.recommendation_positive = recommendation_positive
        fields = ["actual_end", "findings_summary", "recommendation_positive"]
        if audit.kind == Audit.Kind.STAGE2:
            audit.decision_due_on = rules.initial_decision_due(ended_on)
            fields.append("decision_due_on")
        fire(audit, "complete", actor=actor, reason="审核完成", fields=fields)
        _replan_after(audit, actor)
        # NC deadlines count from the audit's end (004 §5.10.3), known only now.
        nonconformity_due_recompute(audit, actor=actor)
    return audit


def _replan_after(audit: Audit, actor) -> None:
    # An earlier audit's actual date moves the next surveillance's due date (004 §5.4.1.5;
    # CAS 001 §7.1 counts from the end of the previous audit).
    programme = AuditProgramme.objects.select_for_update().get(pk=audit.programme_id)
    if programme.decided_on and audit.kind in (Audit.Kind.SURVEILLANCE, Audit.Kind.STAGE2):
        _replan(programme, actor, reason=f"按{audit}的实际日期重排")


def audit_close(*, audit: Audit, actor, reason: str = "审核关闭", locked: bool = False) -> Audit:
    """Close a completed audit once its decision is made (or by the audit department).

    Closed by the decision maker with the decision (``certificates.services.decision_make``),
    by the team leader's surveillance conclusion (004 §5.12.6) or, for a document review, by
    the planners (``audits.close_audit``).

    ``locked``: the caller read ``audit`` with ``select_for_update`` in the transaction it is
    in (a decision does), so the audit is closed within that transaction, neither read and
    locked again nor in a savepoint of its own (issue #16): a refusal is raised before
    anything is written, any other error rolls the caller's transaction back with it.
    """
    policy.require(actor, "audits.close_audit", audit)
    if locked:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("audit_close(locked=True) must run inside transaction.atomic()")
        fire(audit, "close", actor=actor, reason=reason)
        return audit
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        fire(audit, "close", actor=actor, reason=reason)
    return audit


def audit_terminate(*, audit: Audit, actor, reason: str) -> Audit:
    """Terminate an audit with the CB's approval and the reason (004 §5.5.3)."""
    policy.require(actor, "audits.terminate_audit", audit)
    if not reason.strip():
        raise RuleViolation(_("Terminating an audit needs a reason."), "004 §5.5.3")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        audit.termination_reason = reason
        fire(audit, "terminate", actor=actor, reason="终止审核", fields=["termination_reason"])
    return audit
