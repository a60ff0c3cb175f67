"""The planning calendar's writes (issue #14): an auditor's blocked days, and scheduling an
audit with its team in one step through the existing services (004 §5.4.4, §5.4.6, §9.2).
"""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from audits.models import Audit, Auditor, AuditorUnavailability, AuditTeamMember
from audits.services.lifecycle import audit_schedule
from audits.services.teams import audit_team_add
from certbody import policy
from certbody.lifecycle import RuleViolation, lock, record

# No block longer than a year: a longer absence is an auditor made inactive, not a block.
MAX_BLOCK_DAYS = 366


def auditor_block_days(
    *, auditor: Auditor, actor, start: date, end: date, kind: str, note: str = ""
) -> AuditorUnavailability:
    """Block the days ``start``..``end`` (local dates, both included) of ``auditor`` for
    ``kind`` (``AuditorUnavailability.Kind``: leave, training, other work), with a ``note``.

    The auditor themself or the planners (``audits.block_days``). Refused: an end before the
    start, more than ``MAX_BLOCK_DAYS`` days, an unknown kind. A block on a day the auditor is
    already booked is recorded all the same (a leave or an illness is a fact): the calendar
    marks that audit in conflict until the planner moves it or changes its team. Raises
    ``RuleViolation`` (or ``NotPermitted``).
    """
    policy.require(actor, "audits.block_days", auditor)
    if kind not in AuditorUnavailability.Kind.values:
        raise RuleViolation(_("Unknown kind of blocked days: %(kind)s.") % {"kind": kind})
    if end < start:
        raise RuleViolation(_("The last blocked day cannot be before the first."))
    if (end - start).days + 1 > MAX_BLOCK_DAYS:
        raise RuleViolation(_("Block at most %(days)s days at once.") % {"days": MAX_BLOCK_DAYS})
    with transaction.atomic():
        auditor = lock(Auditor, auditor.pk)
        block = AuditorUnavailability(
            auditor=auditor,
            start=start,
            end=end,
            kind=kind,
            note=note.strip()[:200],
            recorded_by=actor,
        )
        record(block, actor=actor, reason="登记不可安排日期")
        block.save()
    return block


def auditor_unblock_days(*, block: AuditorUnavailability, actor, reason: str = "") -> None:
    """Remove blocked days entered by mistake or no longer taken; the history keeps the row
    with who removed it and ``reason``. The auditor themself or the planners."""
    policy.require(actor, "audits.block_days", block.auditor)
    with transaction.atomic():
        block = lock(AuditorUnavailability, block.pk)
        record(block, actor=actor, reason=reason.strip() or "撤销不可安排日期")
        block.delete()


def audit_calendar_schedule(
    *,
    audit: Audit,
    actor,
    planned_start: date,
    planned_end: date,
    leader=None,
    auditors=(),
    planned_days: Decimal | None = None,
) -> Audit:
    """Schedule ``audit`` from the calendar: set its dates (``audit_schedule``) and put
    ``leader`` (a user, optional when the team has one) and ``auditors`` (users) on its team
    (``audit_team_add``), all or nothing.

    Each step asks its own permission and rules: a person blocked or booked elsewhere on an
    audit day is refused (``booking_conflicts``), as are the team-assignment refusals (004
    §5.4.4, §5.4.4.3). Raises ``RuleViolation``.
    """
    with transaction.atomic():
        audit = audit_schedule(
            audit=audit,
            actor=actor,
            planned_start=planned_start,
            planned_end=planned_end,
            planned_days=planned_days,
        )
        on_team = set(audit.team.values_list("user_id", flat=True))
        if leader is not None and leader.pk not in on_team:
            audit_team_add(audit=audit, actor=actor, user=leader, role=AuditTeamMember.Role.LEADER)
            on_team.add(leader.pk)
        for user in auditors:
            if user.pk in on_team:
                continue
            audit_team_add(audit=audit, actor=actor, user=user, role=AuditTeamMember.Role.AUDITOR)
            on_team.add(user.pk)
    audit.refresh_from_db()
    return audit
