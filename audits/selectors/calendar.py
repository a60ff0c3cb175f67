"""The planning calendar (issue #14): audits by day, auditors' blocked days, days booked per
auditor, surveillance and recertification windows falling due, and every conflict a schedule
would meet before it is saved (004 §4.2, §4.3, §5.4.1.5, §5.4.4, §5.8, §9.2).

Read-only. The grid is built with a fixed number of queries whatever the number of audits.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from audits import rules
from audits.models import (
    Audit,
    Auditor,
    AuditorCompetence,
    AuditorUnavailability,
    AuditTeamMember,
    ConflictDeclaration,
)
from audits.selectors.planning import _client_scope_codes, _registration_failure
from certbody import dates

# Audits an auditor is still to carry out or is carrying out: their days are booked. A
# completed audit's days are history, a terminated one's are free again.
BOOKING_STATES = (Audit.State.PLANNED, Audit.State.IN_PROGRESS)
# Kinds whose due date is a window the calendar shows (004 §5.4.1.5, §5.7.3, §5.8).
WINDOW_KINDS = (Audit.Kind.SURVEILLANCE, Audit.Kind.RECERTIFICATION)


def audit_span(audit: Audit) -> tuple[date, date] | None:
    """The audit's first and last day on the calendar (local dates), or None when undated.

    Started audits: the actual start to the actual end (or, still running, the planned length
    from the actual start); planned ones: the planned dates.
    """
    if audit.actual_start:
        last = audit.actual_end
        if last is None and audit.planned_start and audit.planned_end:
            last = audit.actual_start + (audit.planned_end - audit.planned_start)
        return audit.actual_start, max(last or audit.actual_start, audit.actual_start)
    if audit.planned_start:
        return audit.planned_start, max(
            audit.planned_end or audit.planned_start, audit.planned_start
        )
    return None


def _overlapping_audits(first: date, last: date) -> Q:
    """Audits whose calendar span may overlap ``first``..``last`` (narrowed by ``audit_span``)."""
    planned = Q(actual_start__isnull=True, planned_start__lte=last) & (
        Q(planned_end__gte=first) | Q(planned_end__isnull=True, planned_start__gte=first)
    )
    started = Q(actual_start__lte=last) & (Q(actual_end__gte=first) | Q(actual_end__isnull=True))
    return planned | started


def _overlap(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def blocked_days(user_ids, first: date, last: date) -> list[str]:
    """The blocked days (leave, training, other work) of the people ``user_ids`` that fall
    between ``first`` and ``last`` (local dates), as messages; one query."""
    blocks = AuditorUnavailability.objects.filter(
        auditor__user_id__in=list(user_ids), start__lte=last, end__gte=first
    ).select_related("auditor__user")
    return [
        _('"%(user)s" is not available from %(start)s to %(end)s (%(kind)s).')
        % {
            "user": block.auditor.user,
            "start": block.start,
            "end": block.end,
            "kind": block.get_kind_display(),
        }
        for block in blocks.order_by("start", "pk")
    ]


def audit_bookings(
    user_ids, first: date, last: date, *, exclude_audit_id: int | None = None
) -> list[str]:
    """The planned or running audits (``BOOKING_STATES``) the people ``user_ids`` are on with a
    day between ``first`` and ``last`` (local dates), as messages; one query."""
    members = (
        AuditTeamMember.objects.filter(
            user_id__in=list(user_ids),
            audit__state__in=BOOKING_STATES,
            audit__in=Audit.objects.filter(_overlapping_audits(first, last)),
        )
        .select_related("user", "audit__programme__organization")
        .order_by("audit__planned_start", "pk")
    )
    if exclude_audit_id is not None:
        members = members.exclude(audit_id=exclude_audit_id)
    messages = []
    for member in members:
        span = audit_span(member.audit)
        if span is None or not _overlap(span, (first, last)):
            continue
        messages.append(
            _('"%(user)s" is booked on %(audit)s from %(start)s to %(end)s.')
            % {"user": member.user, "audit": member.audit, "start": span[0], "end": span[1]}
        )
    return messages


def booking_conflicts(
    user_ids,
    first: date,
    last: date,
    *,
    exclude_audit_id: int | None = None,
    today: date | None = None,
) -> list[str]:
    """Why the people ``user_ids`` cannot audit from ``first`` to ``last`` (local dates): a
    blocked day (``blocked_days``) or a day booked on another planned or running audit
    (``audit_bookings``; ``exclude_audit_id``: the audit being planned). Messages name the
    person, the days and the other audit; [] when they are free. Two queries.

    Only the days from ``today`` (default: the local date) count: a day already past is
    history, not planning (the calendar still marks past overlaps). The team and scheduling
    services refuse on it; the calendar shows it before saving.
    """
    user_ids = list(user_ids)
    first = max(first, dates.today(today))
    if not user_ids or last < first:
        return []
    return blocked_days(user_ids, first, last) + audit_bookings(
        user_ids, first, last, exclude_audit_id=exclude_audit_id
    )


def schedule_conflicts(
    audit: Audit,
    start: date,
    end: date,
    team_user_ids,
    *,
    today: date | None = None,
) -> list[str]:
    """Every conflict the rules and the data know for holding ``audit`` from ``start`` to
    ``end`` (local dates) with the people ``team_user_ids`` (the team as it would be), as
    messages naming the clause; [] when there is none. Writes nothing.

    - a person blocked or booked on another audit on one of the days from ``today``
      (``booking_conflicts``);
    - not an active auditor, or a registration not valid on every day (004 §4.2);
    - a business scope category of the client no qualified member is competent for on
      ``start`` (004 §5.4.4.1(2); CAS: any member, 001 §6.2.4);
    - a declared interest in the client (004 §5.4.4.3);
    - the audit's window missed: ``start`` after its ``due_on`` (004 §5.4.1.5, §5.8);
    - the CNCA plan report no longer possible: ``start`` less than 3 days after ``today``
      (004 §9.2; a short-notice audit is reported as soon as planned, 004 §5.9.2).
    """
    today = dates.today(today)
    audit = Audit.objects.select_related("programme__organization", "programme__application").get(
        pk=audit.pk
    )
    conflicts: list[str] = []
    if end < start:
        return [_("The audit's end date cannot be earlier than its start date.")]
    user_ids = list(dict.fromkeys(int(pk) for pk in team_user_ids))
    conflicts += booking_conflicts(user_ids, start, end, exclude_audit_id=audit.pk, today=today)
    profiles = {
        p.user_id: p for p in Auditor.objects.filter(user_id__in=user_ids).select_related("user")
    }
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids)}
    qualified = []
    for user_id in user_ids:
        profile = profiles.get(user_id)
        if profile is None or not profile.active:
            user = users.get(user_id, user_id)
            conflicts.append(
                _('"%(user)s" has no valid auditor registration (004 §4.2).') % {"user": user}
            )
            continue
        if profile.needs_registration:
            failure = _registration_failure(profile, profile, start, end)
            if failure:
                conflicts.append(failure)
                continue
        if profile.is_qualified:
            qualified.append(profile)
    scheme_cas = audit.programme.scheme == rules.SCHEME_CAS
    pool = list(profiles.values()) if scheme_cas else qualified
    codes = _client_scope_codes(audit)
    if codes and user_ids:
        competent = {
            c.business_scope.code
            for c in AuditorCompetence.objects.filter(
                auditor__in=pool, business_scope__code__in=codes
            ).select_related("business_scope")
            if c.covers(start)
        }
        missing = [f"{code:02d}" for code in codes if code not in competent]
        if missing:
            clause = "001 §6.2.4" if scheme_cas else "004 §5.4.4.1(2)"
            conflicts.append(
                _(
                    "No auditor on the team is competent for business scope %(missing)s "
                    "(%(clause)s)."
                )
                % {"missing": "、".join(missing), "clause": clause}
            )
    interested = ConflictDeclaration.objects.filter(
        organization_id=audit.programme.organization_id,
        auditor__user_id__in=user_ids,
        has_interest=True,
    ).select_related("auditor__user")
    for declaration in interested:
        conflicts.append(
            _(
                '"%(user)s" declared an interest in this client and may not be on the '
                "audit team (004 §5.4.4.3)."
            )
            % {"user": declaration.auditor.user}
        )
    if audit.due_on and start > audit.due_on:
        clause = "004 §5.8" if audit.kind == Audit.Kind.RECERTIFICATION else "004 §5.4.1.5"
        conflicts.append(
            _("The audit is due by %(due)s: starting on %(start)s misses its window (%(clause)s).")
            % {"due": audit.due_on, "start": start, "clause": clause}
        )
    if audit.needs_site_visit and rules.plan_report_due(start) < today:
        conflicts.append(
            _(
                "The audit plan must be reported to CNCA by %(due)s, 3 days before the start: "
                "that is no longer possible (004 §9.2)."
            )
            % {"due": rules.plan_report_due(start)}
        )
    return conflicts


# --- the grid ----------------------------------------------------------------------------


@dataclass
class CalendarEntry:
    """One audit on the calendar with its team, its span and what conflicts with it among the
    data shown: a member blocked or on another audit on one of its days, its window missed."""

    audit: Audit
    first: date
    last: date
    team: list[AuditTeamMember]
    conflicts: list[str] = field(default_factory=list)


@dataclass
class CalendarDay:
    day: date
    in_range: bool
    entries: list[CalendarEntry] = field(default_factory=list)
    blocks: list[AuditorUnavailability] = field(default_factory=list)
    due: list[Audit] = field(default_factory=list)

    @property
    def weekend(self) -> bool:
        return self.day.weekday() >= 5


@dataclass
class AuditorLoad:
    """Days booked on audits and days blocked, within the calendar's month (or week)."""

    auditor: Auditor
    booked_days: int
    blocked_days: int


@dataclass
class CalendarView:
    first: date  # the first day shown (a Monday)
    last: date  # the last day shown (a Sunday)
    period_first: date  # the month's (or week's) first day
    period_last: date
    weeks: list[list[CalendarDay]]
    loads: list[AuditorLoad]
    due: list[Audit]


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def calendar_range(
    period_first: date,
    period_last: date,
    *,
    auditor: Auditor | None = None,
    organization_id: int | None = None,
) -> CalendarView:
    """The calendar from ``period_first`` to ``period_last`` (local dates), padded to whole
    weeks (Monday to Sunday): audits on each day with their team, blocked days, the
    surveillance and recertification windows due (``Audit.due_on``) and, per auditor, the days
    booked and blocked within the period. ``auditor`` keeps only their audits and blocks;
    ``organization_id`` only that client's audits (blocks are then hidden). Five queries
    whatever the number of audits.
    """
    first = period_first - timedelta(days=period_first.weekday())
    last = period_last + timedelta(days=6 - period_last.weekday())
    audits = (
        Audit.objects.filter(_overlapping_audits(first, last))
        .exclude(state=Audit.State.TERMINATED)
        .select_related("programme__organization")
        .prefetch_related(
            Prefetch(
                "team",
                queryset=AuditTeamMember.objects.select_related("user").order_by("role", "pk"),
            )
        )
        .order_by("planned_start", "pk")
    )
    blocks = AuditorUnavailability.objects.filter(start__lte=last, end__gte=first).select_related(
        "auditor__user"
    )
    due = (
        Audit.objects.filter(
            kind__in=WINDOW_KINDS,
            state=Audit.State.PLANNED,
            due_on__gte=first,
            due_on__lte=last,
        )
        .select_related("programme__organization")
        .order_by("due_on", "pk")
    )
    if auditor is not None:
        audits = audits.filter(team__user_id=auditor.user_id).distinct()
        blocks = blocks.filter(auditor=auditor)
        due = due.filter(team__user_id=auditor.user_id).distinct()
    if organization_id is not None:
        audits = audits.filter(programme__organization_id=organization_id)
        due = due.filter(programme__organization_id=organization_id)
        blocks = blocks.none()
    by_day: dict[date, CalendarDay] = {
        d: CalendarDay(d, period_first <= d <= period_last) for d in _days(first, last)
    }
    booked: dict[int, set[date]] = defaultdict(set)
    for audit in audits:
        span = audit_span(audit)
        if span is None:
            continue
        team = list(audit.team.all())
        entry = CalendarEntry(audit, span[0], span[1], team)
        for d in _days(max(span[0], first), min(span[1], last)):
            by_day[d].entries.append(entry)
            if period_first <= d <= period_last:
                for member in team:
                    booked[member.user_id].add(d)
    blocked: dict[int, set[date]] = defaultdict(set)
    profiles: dict[int, Auditor] = {}
    blocks = list(blocks.order_by("start", "pk"))
    for block in blocks:
        profiles[block.auditor.user_id] = block.auditor
        for d in _days(max(block.start, first), min(block.end, last)):
            by_day[d].blocks.append(block)
            if period_first <= d <= period_last:
                blocked[block.auditor.user_id].add(d)
    _flag_conflicts(by_day, first, last)
    due = list(due)
    for audit in due:
        by_day[audit.due_on].due.append(audit)
    auditors = Auditor.objects.filter(active=True).select_related("user")
    if auditor is not None:
        auditors = auditors.filter(pk=auditor.pk)
    loads = [
        AuditorLoad(a, len(booked.get(a.user_id, ())), len(blocked.get(a.user_id, ())))
        for a in auditors
        if booked.get(a.user_id) or blocked.get(a.user_id) or auditor is not None
    ]
    days = list(by_day.values())
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    return CalendarView(first, last, period_first, period_last, weeks, loads, due)


def _flag_conflicts(by_day: dict[date, CalendarDay], first: date, last: date) -> None:
    """Mark each entry whose member is blocked or on another audit on one of its shown days,
    or that starts after its due date (004 §5.4.1.5, §5.8). No query: the grid's data only."""
    for day in by_day.values():
        for entry in day.entries:
            audit = entry.audit
            members = {m.user_id: m.user for m in entry.team}
            for block in day.blocks:
                if block.auditor.user_id in members and entry.audit.state in BOOKING_STATES:
                    message = _(
                        '"%(user)s" is not available from %(start)s to %(end)s (%(kind)s).'
                    ) % {
                        "user": members[block.auditor.user_id],
                        "start": block.start,
                        "end": block.end,
                        "kind": block.get_kind_display(),
                    }
                    if message not in entry.conflicts:
                        entry.conflicts.append(message)
            for other in day.entries:
                if other is entry or audit.state not in BOOKING_STATES:
                    continue
                if other.audit.state not in BOOKING_STATES:
                    continue
                for member in other.team:
                    if member.user_id in members:
                        message = _('"%(user)s" is also on %(audit)s.') % {
                            "user": member.user,
                            "audit": other.audit,
                        }
                        if message not in entry.conflicts:
                            entry.conflicts.append(message)
    seen = set()
    for day in by_day.values():
        for entry in day.entries:
            audit = entry.audit
            if id(entry) in seen:
                continue
            seen.add(id(entry))
            if audit.due_on and audit.state == Audit.State.PLANNED and entry.first > audit.due_on:
                entry.conflicts.append(
                    _("Due by %(due)s: the window is missed.") % {"due": audit.due_on}
                )


def calendar_month(
    year: int, month: int, *, auditor: Auditor | None = None, organization_id: int | None = None
) -> CalendarView:
    """The month ``year``-``month`` on whole weeks (``calendar_range``). ``ValueError`` for a
    month outside 1–12."""
    last_day = stdlib_calendar.monthrange(year, month)[1]
    return calendar_range(
        date(year, month, 1),
        date(year, month, last_day),
        auditor=auditor,
        organization_id=organization_id,
    )


def calendar_week(
    day: date, *, auditor: Auditor | None = None, organization_id: int | None = None
) -> CalendarView:
    """The week (Monday to Sunday) holding ``day`` (``calendar_range``)."""
    monday = day - timedelta(days=day.weekday())
    return calendar_range(
        monday, monday + timedelta(days=6), auditor=auditor, organization_id=organization_id
    )
