"""Working days follow China's holidays and make-up working days, from an editable table."""

import logging
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.urls import reverse

from certbody import roles, workdays
from certbody.checks import calendar_published_check
from certbody.models import CalendarDay, CalendarYear
from certbody.workdays import (
    add_working_days,
    is_working_day,
    provisional_years,
    published_years,
    working_days_between,
)
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # A rolled-back test transaction sends no signal: never leave its calendar in the cache.
    workdays.clear_cache()
    yield
    workdays.clear_cache()


@pytest.fixture
def unpublished_2027():
    """2027 as an unpublished year, even once chinesecalendar ships it."""
    CalendarDay.objects.filter(date__year=2027).delete()
    CalendarYear.objects.filter(year=2027).delete()


def test_the_package_years_are_loaded_by_the_migration():
    assert set(workdays.package_years()) <= published_years()
    assert {2025, 2026} <= published_years()


@pytest.mark.parametrize(
    ("day", "working", "name"),
    [
        (date(2026, 2, 14), True, "春节"),  # Saturday, make-up working day
        *[(date(2026, 2, d), False, "春节") for d in range(15, 24)],
        (date(2026, 2, 28), True, "春节"),  # Saturday, make-up working day
        (date(2026, 9, 20), True, "国庆节"),  # Sunday, make-up working day
        (date(2026, 9, 25), False, "中秋"),
        *[(date(2026, 10, d), False, "国庆节") for d in range(1, 8)],
        (date(2026, 10, 10), True, "国庆节"),  # Saturday, make-up working day
    ],
)
def test_2026_spring_festival_and_national_day_rows(day, working, name):
    row = CalendarDay.objects.get(date=day)
    assert (row.is_working_day, row.name, row.source) == (working, name, "chinesecalendar")
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Spring Festival 2026: 02-15…02-23 off, Saturdays 02-14 and 02-28 worked.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 14), 1, date(2026, 2, 24)),
        (date(2026, 2, 12), 5, date(2026, 2, 26)),
        (date(2026, 2, 26), 2, date(2026, 2, 28)),
        # National Day 2026: 09-25 and 10-01…07 off, 09-20 (Sun) and 10-10 (Sat) worked.
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        (date(2026, 9, 24), 2, date(2026, 9, 29)),
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # 004 §7.2: suspend within 5 working days
        (date(2026, 9, 30), 2, date(2026, 10, 9)),  # 002 §4.3.8.3: report within 2 working days
        (date(2026, 10, 9), 1, date(2026, 10, 10)),
        # A plain weekend.
        (date(2026, 3, 6), 1, date(2026, 3, 9)),
        (date(2026, 3, 7), 1, date(2026, 3, 9)),
        (date(2026, 3, 4), 5, date(2026, 3, 11)),
        # Zero returns the start, even on a holiday.
        (date(2026, 10, 3), 0, date(2026, 10, 3)),
    ],
)
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


def test_working_days_between_is_the_inverse_of_add_working_days():
    for offset in range(0, 366, 3):
        start = date(2026, 1, 1) + timedelta(days=offset)
        for days in range(8):
            assert working_days_between(start, add_working_days(start, days)) == days


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="0 or more"):
        add_working_days(date(2026, 3, 2), -1)
    with pytest.raises(TypeError, match="local date"):
        add_working_days(datetime(2026, 3, 2, tzinfo=SHANGHAI), 1)
    with pytest.raises(TypeError):
        add_working_days(date(2026, 3, 2), 1.5)
    with pytest.raises(ValueError, match="before"):
        working_days_between(date(2026, 3, 2), date(2026, 3, 1))


def test_an_unpublished_year_falls_back_to_monday_to_friday_with_one_warning(
    unpublished_2027, caplog
):
    caplog.set_level(logging.WARNING, logger="certbody.workdays")
    # 2026-12-31 Thu counts; 2027-01-01 (Fri, New Year in practice) counts as provisional.
    assert add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 4)
    assert add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 4)
    assert is_working_day(date(2027, 1, 2)) is False
    warnings = [r for r in caplog.records if r.name == "certbody.workdays"]
    assert len(warnings) == 1
    assert "2027" in warnings[0].getMessage()
    assert provisional_years(date(2026, 12, 30), date(2027, 1, 4)) == {2027}
    assert provisional_years(date(2026, 1, 1), date(2026, 12, 31)) == set()
    assert 2027 not in published_years()


def test_exception_rows_already_entered_apply_before_the_year_is_published(unpublished_2027):
    assert is_working_day(date(2027, 1, 1)) is True
    CalendarDay.objects.create(
        date=date(2027, 1, 1), is_working_day=False, kind=CalendarDay.HOLIDAY, name="元旦"
    )
    assert is_working_day(date(2027, 1, 1)) is False
    assert provisional_years(date(2027, 1, 1), date(2027, 1, 1)) == {2027}


def test_a_staff_edit_changes_the_result_at_once():
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)  # cache now holds 2026
    day = CalendarDay.objects.get(date=date(2026, 10, 7))
    day.is_working_day, day.kind, day.source = True, CalendarDay.MAKEUP_WORKDAY, "staff"
    day.save()
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 7)
    day.delete()
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 7)  # Wednesday


def test_an_administrators_edit_in_the_admin_is_marked_staff_and_validated(admin_client):
    url = reverse("admin:certbody_calendarday_change", args=["2026-10-07"])
    form = {"date": "2026-10-07", "kind": "makeup_workday", "is_working_day": "on", "name": "调整"}

    refused = admin_client.post(url, {**form, "kind": "holiday"})
    assert refused.status_code == 200
    assert not CalendarDay.objects.get(date=date(2026, 10, 7)).is_working_day

    assert admin_client.post(url, form).status_code == 302
    row = CalendarDay.objects.get(date=date(2026, 10, 7))
    assert (row.is_working_day, row.source) == (True, "staff")
    assert is_working_day(date(2026, 10, 7)) is True


@pytest.mark.parametrize(
    "name", ["admin:certbody_calendarday_changelist", "admin:certbody_calendaryear_changelist"]
)
def test_calendar_changelists_open_to_superusers_only(admin_client, client, name):
    """The calendar is reference data: superusers keep it in the admin (issue 7)."""
    assert admin_client.get(reverse(name)).status_code == 200
    client.force_login(make_staff("cal-tm", roles.TECHNICAL_MANAGER))
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def _load(*args) -> str:
    out = StringIO()
    call_command("load_calendar", *args, stdout=out)
    return out.getvalue()


def test_load_calendar_is_idempotent_and_keeps_staff_rows():
    CalendarDay.objects.filter(date=date(2026, 10, 7)).update(
        is_working_day=True, kind=CalendarDay.MAKEUP_WORKDAY, source="staff"
    )
    CalendarDay.objects.filter(date=date(2026, 10, 6)).update(name="edited outside the admin")
    CalendarDay.objects.filter(date=date(2026, 10, 5)).delete()
    CalendarDay.objects.create(
        date=date(2026, 3, 3), is_working_day=False, kind="holiday", source="chinesecalendar"
    )
    before = CalendarDay.objects.count()

    first = _load()
    assert "1 created, 1 updated, 1 deleted, 1 staff-edited kept" in first
    assert CalendarDay.objects.count() == before
    assert CalendarDay.objects.get(date=date(2026, 10, 6)).name == "国庆节"
    assert CalendarDay.objects.get(date=date(2026, 10, 7)).is_working_day is True
    assert is_working_day(date(2026, 10, 5)) is False
    assert is_working_day(date(2026, 3, 3)) is True

    second = _load("--year", "2026")
    assert "0 created, 0 updated, 0 deleted, 1 staff-edited kept" in second
    assert CalendarDay.objects.count() == before


def test_load_calendar_refuses_a_year_the_package_lacks():
    with pytest.raises(CommandError, match="not 1999"):
        _load("--year", "1999")


@pytest.mark.parametrize(
    ("now", "missing"),
    [
        (datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI), []),
        # 2026-11-30 16:30 UTC is already 1 December in Shanghai.
        (datetime(2026, 11, 30, 16, 30, tzinfo=ZoneInfo("UTC")), [2027]),
        (datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI), []),
        (datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI), [2027]),
        (datetime(2027, 12, 5, 9, 0, tzinfo=SHANGHAI), [2027, 2028]),
    ],
)
def test_system_check_reports_an_unpublished_year(unpublished_2027, now, missing):
    CalendarYear.objects.filter(year=2028).delete()
    with time_machine.travel(now, tick=False):
        messages = calendar_published_check()
    # This year's gap is a warning; next year's (from 1 December) information only, so
    # `check --deploy --fail-level WARNING` passes in December (test_security.py).
    this_year = now.astimezone(SHANGHAI).year
    assert [m.id for m in messages] == [
        "certbody.W001" if year == this_year else "certbody.I001" for year in missing
    ]
    assert [m.msg for m in messages] == [
        f"The working-day calendar for {year} is not published." for year in missing
    ]


def test_system_check_is_silent_once_the_year_is_published(unpublished_2027):
    CalendarYear.objects.create(year=2027)
    with time_machine.travel(datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert calendar_published_check() == []


def test_system_check_skips_when_the_tables_do_not_exist(monkeypatch):
    def no_table():
        raise OperationalError("no such table: certbody_calendaryear")

    monkeypatch.setattr(workdays, "published_years", no_table)
    with time_machine.travel(datetime(2030, 1, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert calendar_published_check() == []


@pytest.mark.django_db(transaction=True)
def test_the_calendar_is_back_after_a_flush():
    # ensure_base_data (conftest) reloads the calendar the migration loaded.
    assert 2026 in published_years()
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
