"""Report periods and deadlines (002 §4.3.2–4.3.6; 004 §9.3), pure functions."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certbody.dates import add_months
from certbody.jobs import latest_start_for_deadline
from reporting import periods


@pytest.mark.parametrize(
    ("kind", "period_start", "due"),
    [
        ("organisations_monthly", date(2026, 10, 1), date(2026, 11, 5)),  # 002 §4.3.3.2
        ("failures_monthly", date(2026, 10, 1), date(2026, 11, 10)),  # 002 §4.3.4.2
        ("cb_changes_monthly", date(2026, 12, 1), date(2027, 1, 10)),  # 002 §4.3.2.2
        ("statistics_annual", date(2025, 1, 1), date(2026, 1, 10)),  # 002 §4.3.5.2
        ("auditors_annual", date(2025, 1, 1), date(2026, 3, 10)),  # 002 §4.3.6.2
    ],
)
def test_due_dates_follow_the_reporting_calendar(kind, period_start, due):
    assert periods.due_on(kind, period_start) == due


def test_monthly_organisations_report_takes_the_earlier_of_the_two_deadlines():
    # 002 §4.3.3.2 says the 5th, 004 §9.3 the 10th of the next month.
    assert periods.due_on("organisations_monthly", date(2026, 2, 1)).day == 5


def test_periods_and_last_closed_period():
    assert periods.period_of("organisations_monthly", date(2024, 2, 14)) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )
    assert periods.period_of("statistics_annual", date(2024, 6, 1)) == (
        date(2024, 1, 1),
        date(2024, 12, 31),
    )
    assert periods.last_closed_period("failures_monthly", date(2026, 1, 1)) == (
        date(2025, 12, 1),
        date(2025, 12, 31),
    )
    assert periods.last_closed_period("auditors_annual", date(2026, 3, 1)) == (
        date(2025, 1, 1),
        date(2025, 12, 31),
    )


def test_status_changes_have_no_period_and_datetimes_are_refused():
    from datetime import datetime

    with pytest.raises(ValueError):
        periods.period_of("status_change", date(2026, 1, 1))
    with pytest.raises(ValueError):
        periods.due_on("organisations_monthly", datetime(2026, 1, 1))
    assert periods.rule_of("status_change").startswith("002 §4.3.8.3")


@given(
    st.dates(min_value=date(2001, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from([-6, -4, -3, 3, 6, 12]),
)
def test_latest_start_for_deadline_is_exact(deadline, months):
    start = latest_start_for_deadline(deadline, months)
    assert add_months(start, months) <= deadline
    assert add_months(start + timedelta(days=1), months) > deadline
