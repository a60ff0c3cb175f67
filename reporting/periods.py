"""Report periods and their deadlines (002 §4.3.2–4.3.6; 004 §9.3). Pure: no ORM.

Dates are local ``datetime.date`` values (Asia/Shanghai). Monthly reports cover a calendar
month and are due on a day of the next month; annual reports cover a calendar year and are due
on a day of the next year. Status-change reports are due 2 *working* days after the change and
are counted with ``certbody.workdays`` by the services, not here.

- organisations_monthly: a month, due the 5th of the next month (002 §4.3.3.2; 004 §9.3 says
  the 10th: the earlier wins);
- failures_monthly: a month, due the 10th of the next month (002 §4.3.4.2);
- cb_changes_monthly: a month, due the 10th of the next month, even with nothing to report
  (002 §4.3.2.2);
- statistics_annual: a year, due 10 January (002 §4.3.5.2);
- auditors_annual: a year, due 10 March (002 §4.3.6.2).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils.translation import gettext

MONTHLY = "monthly"
ANNUAL = "annual"


@dataclass(frozen=True)
class Schedule:
    """When a periodic report is due: ``due_day`` of ``due_month`` after the period's end."""

    period: str  # MONTHLY or ANNUAL
    due_month: int  # annual: the month of the next year; monthly: unused (next month)
    due_day: int
    rule: str


SCHEDULES = {
    "organisations_monthly": Schedule(MONTHLY, 0, 5, "002 §4.3.3.2；004 §9.3"),
    "failures_monthly": Schedule(MONTHLY, 0, 10, "002 §4.3.4.2"),
    "cb_changes_monthly": Schedule(MONTHLY, 0, 10, "002 §4.3.2.2"),
    "statistics_annual": Schedule(ANNUAL, 1, 10, "002 §4.3.5.2"),
    "auditors_annual": Schedule(ANNUAL, 3, 10, "002 §4.3.6.2"),
    # The monthly report in the platform's three-sheet upload structure (issue #17): the same
    # month and deadline as the 获证组织基本信息月报 it carries.
    "platform_upload": Schedule(MONTHLY, 0, 5, "002 §4.3.3.2；004 §9.3"),
}
STATUS_CHANGE_WORKING_DAYS = 2  # 002 §4.3.8.3; 004 §9.4
STATUS_CHANGE_RULE = "002 §4.3.8.3；004 §9.4"


def _check_date(value, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(
            gettext("%(name)s must be a local date, not %(value)r") % {"name": name, "value": value}
        )
    return value


def _schedule(kind: str) -> Schedule:
    try:
        return SCHEDULES[kind]
    except KeyError:
        raise ValueError(
            gettext("%(kind)r is not a periodic report kind") % {"kind": kind}
        ) from None


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_of(kind: str, day: date) -> tuple[date, date]:
    """``(first, last)`` day of the period of ``kind`` that contains ``day``.

    Raises ``ValueError`` for a kind without a period (status changes) or a non-date.
    """
    _check_date(day, "day")
    if _schedule(kind).period == MONTHLY:
        return day.replace(day=1), month_end(day)
    return date(day.year, 1, 1), date(day.year, 12, 31)


def last_closed_period(kind: str, today: date) -> tuple[date, date]:
    """The latest period of ``kind`` that ended before ``today`` (the one now being reported)."""
    _check_date(today, "today")
    first, _ = period_of(kind, today)
    return period_of(kind, first - timedelta(days=1))


def due_on(kind: str, period_start: date) -> date:
    """The day the report of ``kind`` for the period starting ``period_start`` is due."""
    _check_date(period_start, "period_start")
    schedule = _schedule(kind)
    if schedule.period == MONTHLY:
        following = month_end(period_start) + timedelta(days=1)
        return following.replace(day=schedule.due_day)
    return date(period_start.year + 1, schedule.due_month, schedule.due_day)


def rule_of(kind: str) -> str:
    """The clause that sets the deadline of ``kind``."""
    if kind == "status_change":
        return STATUS_CHANGE_RULE
    return _schedule(kind).rule


# --- reports owed to CNAS, the accreditation body (002 §4.3.7, §4.3.8.1) ----------------------

# 002 §4.3.8.1: a major change of the CB reaches CNAS "应于决定之日起十日内": ten calendar days
# (日, not 工作日) from the decision, the same count as the accident report (002 §4.3.8.2).
CNAS_CHANGE_DAYS = 10
CNAS_CHANGE_RULE = "002 §4.3.8.1"
# 002 §4.3.7.2: "每年8 月前" the next year's 年度认可申请计划 is submitted: by 31 July.
ANNUAL_PLAN_DUE_MONTH, ANNUAL_PLAN_DUE_DAY = 7, 31
ANNUAL_PLAN_RULE = "002 §4.3.7.2"


def cnas_change_due(decided_on: date) -> date:
    """The day the report of a major change of the CB decided on ``decided_on`` is due at
    CNAS: 10 calendar days later (002 §4.3.8.1). ``ValueError`` for a non-date."""
    return _check_date(decided_on, "decided_on") + timedelta(days=CNAS_CHANGE_DAYS)


def annual_plan_due(plan_year: int) -> date:
    """The day the annual accreditation plan for ``plan_year`` is due at CNAS: 31 July of the
    year before (002 §4.3.7.2, "每年8 月前" the next year's plan). ``ValueError`` for a year
    outside 2000–2999."""
    if (
        isinstance(plan_year, bool)
        or not isinstance(plan_year, int)
        or not 2000 <= plan_year <= 2999
    ):
        raise ValueError(gettext("%(year)r is not a plan year") % {"year": plan_year})
    return date(plan_year - 1, ANNUAL_PLAN_DUE_MONTH, ANNUAL_PLAN_DUE_DAY)


def annual_plan_year(today: date) -> int:
    """The plan year whose accreditation plan is prepared during ``today``'s year: the next
    one (002 §4.3.7.2)."""
    return _check_date(today, "today").year + 1
