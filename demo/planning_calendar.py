"""Demo data for the planning calendar (issue #14): planned surveillance and recertification
audits scheduled over the current and the next month with ``auditor3`` and ``auditor4``, their
leave and training days, and one conflict to show (a leave recorded on a day ``auditor3`` is
already booked, as happens when an auditor falls ill after the audit was planned).

Everything goes through the audits services. ``auditor1`` and ``auditor2`` are left free: the
browser journeys book them on days of their own.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import date, timedelta

from audits import services as audit_services
from audits.models import Audit, AuditorUnavailability
from certbody import dates
from certbody.lifecycle import RuleViolation
from certbody.models import User

CALENDAR_AUDITORS = ("auditor3", "auditor4")
# At most this many unstaffed planned audits are scheduled; the lowest-numbered stay unstaffed
# for the journeys that pick one.
SCHEDULED = 6
KEEP_UNSTAFFED = 2


def _working_days(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def seed_calendar(staff, log) -> None:
    """Schedule up to ``SCHEDULED`` unstaffed planned surveillance/recertification audits from
    5 days after today (the CNCA plan report stays possible, 004 §9.2) into the next month, each
    two days with ``auditor3`` or ``auditor4`` leading; block leave and training days; record one
    leave on a booked day (the conflict the calendar shows). Does nothing when a blocked day
    exists already."""
    if AuditorUnavailability.objects.exists():
        return
    leaders = list(User.objects.filter(username__in=CALENDAR_AUDITORS).order_by("username"))
    if len(leaders) < 2:
        return
    today = dates.today()
    candidates = list(
        Audit.objects.filter(
            state=Audit.State.PLANNED,
            kind__in=[Audit.Kind.SURVEILLANCE, Audit.Kind.RECERTIFICATION],
            team__isnull=True,
            actual_start__isnull=True,
        ).order_by("-pk")
    )
    candidates = candidates[: max(0, min(SCHEDULED, len(candidates) - KEEP_UNSTAFFED))]
    slots = _working_days(today + timedelta(days=5), 2 * len(candidates) + 6)[::3]
    booked = []
    for n, audit in enumerate(candidates):
        start = slots[n]
        leader = leaders[n % 2]
        try:
            audit_services.audit_calendar_schedule(
                audit=audit,
                actor=staff.planner,
                planned_start=start,
                planned_end=start + timedelta(days=1),
                leader=leader,
            )
        except RuleViolation as exc:
            log(f"calendar: {audit} not scheduled: {exc}")
            continue
        booked.append((leader, start))
    # Leave and training on days nobody is booked on.
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    last = stdlib_calendar.monthrange(next_month.year, next_month.month)[1]
    busy = {(u.pk, s + timedelta(days=d)) for u, s in booked for d in (0, 1)}
    wishes = [
        (leaders[1], next_month + timedelta(days=min(19, last - 3)), 3, "leave", "年休假"),
        (leaders[0], today + timedelta(days=2), 1, "training", "审核员继续教育培训"),
        (leaders[1], today + timedelta(days=3), 1, "other_work", "内部审核"),
    ]
    for user, first, length, kind, note in wishes:
        days = [first + timedelta(days=d) for d in range(length)]
        if any((user.pk, d) in busy for d in days):
            continue
        audit_services.auditor_block_days(
            auditor=user.auditor_profile,
            actor=staff.planner,
            start=days[0],
            end=days[-1],
            kind=kind,
            note=note,
        )
    if booked:
        # The conflict to show: a sick leave on the first day of a booked audit.
        user, start = booked[0]
        audit_services.auditor_block_days(
            auditor=user.auditor_profile,
            actor=user,
            start=start,
            end=start,
            kind="leave",
            note="病假（审核已安排，须调整审核组）",
        )
    log(f"calendar: {len(booked)} audits scheduled, blocked days recorded")
