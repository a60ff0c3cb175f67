"""Working days under China's statutory holidays and make-up working days (domain.md §19).

Deadlines such as "suspend within 5 working days" (004 §7.2) or "publish and report within
2 working days" (004 §9.4; 002 §4.3.8.3) are counted with these functions. They take and return
local ``date`` values (use ``timezone.localdate()`` for today) and never touch the ORM in their
signatures; the calendar behind them is the ``CalendarDay`` / ``CalendarYear`` tables:

- ``CalendarDay`` holds only the exceptions to Monday–Friday: holidays (rest on any day) and
  make-up working days (work on a weekend). Every other day follows Monday–Friday.
- ``CalendarYear`` has one row per year whose arrangement is published and entered. For a year
  without one, the days count Monday–Friday (plus any exception rows already entered), a warning
  is logged once per year and process, and the system check ``certbody.W001`` reports the year.
  Callers that must flag such deadlines as provisional use ``provisional_years()``.

The tables are seeded from the ``chinesecalendar`` package (migration 0004 and
``manage.py load_calendar``) and edited by staff in the admin.

Each year's exceptions are cached in process memory, because periodic jobs call these functions in
loops. A save or delete of a ``CalendarDay`` or ``CalendarYear`` clears the cache (signals wired in
``CertbodyConfig.ready``); other processes pick the change up within ``CACHE_SECONDS``.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

logger = logging.getLogger("certbody.workdays")

# Other processes (Celery workers) do not receive this process's signals: bound their staleness.
CACHE_SECONDS = 300

# year -> (loaded at, monotonic seconds; published; {date: is_working_day})
_cache: dict[int, tuple[float, bool, dict[date, bool]]] = {}
_warned_years: set[int] = set()


def clear_cache() -> None:
    """Forget the cached calendar years and the years already warned about (tests, signals)."""
    _cache.clear()
    _warned_years.clear()


def calendar_changed(**kwargs) -> None:
    """Signal receiver for saves and deletes of ``CalendarDay`` and ``CalendarYear``."""
    clear_cache()


def _year(year: int) -> tuple[bool, dict[date, bool]]:
    entry = _cache.get(year)
    now = time.monotonic()
    if entry is None or now - entry[0] > CACHE_SECONDS:
        from certbody.models import CalendarDay, CalendarYear

        published = CalendarYear.objects.filter(year=year).exists()
        days = dict(
            CalendarDay.objects.filter(
                date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
            ).values_list("date", "is_working_day")
        )
        entry = (now, published, days)
        _cache[year] = entry
    return entry[1], entry[2]


def _check_date(value, name: str) -> None:
    # A datetime is a date too, but an aware one may fall on another local day (UTC vs Shanghai).
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a local date (timezone.localdate()), not {value!r}")


def is_working_day(day: date) -> bool:
    """Whether the local date ``day`` is a working day in mainland China.

    A ``CalendarDay`` row decides when there is one (holiday → False, make-up working day → True);
    otherwise Monday–Friday are working days. For a year with no published calendar the answer is
    provisional (Monday–Friday) and a warning is logged on ``certbody.workdays``; never raises for
    that. Raises ``TypeError`` for anything but a ``date`` (a ``datetime`` included).
    """
    _check_date(day, "day")
    published, exceptions = _year(day.year)
    if day in exceptions:
        return exceptions[day]
    if not published and day.year not in _warned_years:
        _warned_years.add(day.year)
        logger.warning(
            "No published working-day calendar for %s: counting Monday–Friday only (provisional). "
            "Run `manage.py load_calendar` with an updated chinesecalendar, or enter the year's "
            "holidays and a published calendar year in the admin.",
            day.year,
        )
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The local date that is the ``days``-th working day after ``start``.

    Counting starts the day after ``start`` (``start`` itself never counts, working day or not);
    ``days == 0`` returns ``start``. The result is the last day of a "within N working days"
    period, e.g. suspension or withdrawal within 5 working days after the cause is verified
    (004 §7.2, §7.3) and publication and report to CNCA within 2 working days (004 §9.4;
    002 §4.3.8.3). Years without a published calendar count Monday–Friday (see
    ``provisional_years``).

    Raises ``ValueError`` when ``days`` is negative, ``TypeError`` when ``start`` is not a
    ``date`` or ``days`` not an ``int``.
    """
    _check_date(start, "start")
    if not isinstance(days, int) or isinstance(days, bool):
        raise TypeError(f"days must be an int, not {days!r}")
    if days < 0:
        raise ValueError(f"days must be 0 or more, got {days}")
    day = start
    while days:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days fall after ``start`` up to and including ``end`` (local dates).

    The inverse of ``add_working_days``: ``working_days_between(s, add_working_days(s, n)) == n``.
    Use it to tell how many working days of a period have been used, e.g. of the 5 working days
    of 004 §7.2. Raises ``ValueError`` when ``end`` is before ``start``, ``TypeError`` for
    non-dates.
    """
    _check_date(start, "start")
    _check_date(end, "end")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return sum(
        is_working_day(start + timedelta(days=offset))
        for offset in range(1, (end - start).days + 1)
    )


def published_years() -> set[int]:
    """The years whose holiday arrangement is published in the calendar table (fresh query)."""
    from certbody.models import CalendarYear

    return set(CalendarYear.objects.values_list("year", flat=True))


def provisional_years(start: date, end: date) -> set[int]:
    """The years from ``start`` to ``end`` (local dates, inclusive) without a published calendar.

    Non-empty means a deadline counted over that span fell back to Monday–Friday and must be shown
    as provisional (domain.md §19, §20). Raises ``ValueError`` when ``end`` is before ``start``.
    """
    _check_date(start, "start")
    _check_date(end, "end")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return {year for year in range(start.year, end.year + 1) if not _year(year)[0]}


# Loading from the chinesecalendar package ------------------------------------------------------


def package_years() -> list[int]:
    """The years the installed chinesecalendar package covers, ascending."""
    from chinese_calendar import constants

    return sorted({day.year for day in (*constants.holidays, *constants.workdays)})


def package_days(year: int) -> dict[date, tuple[bool, str, str]]:
    """The package's exceptions of ``year``: {date: (is_working_day, kind, Chinese name)}."""
    from chinese_calendar import constants

    def chinese(english: str) -> str:
        try:
            return constants.Holiday(english).chinese
        except ValueError:
            return english

    days = {}
    for day, english in constants.holidays.items():
        if day.year == year:
            days[day] = (False, "holiday", chinese(english))
    for day, english in constants.workdays.items():
        if day.year == year:
            days[day] = (True, "makeup_workday", chinese(english))
    return days


@dataclass
class CalendarLoad:
    years: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    deleted: int = 0
    kept_staff: int = 0


def load_package_calendar(
    day_model, year_model, years: Iterable[int] | None = None
) -> CalendarLoad:
    """Upsert the package's holidays and make-up working days into the calendar tables.

    ``day_model`` / ``year_model`` are ``CalendarDay`` / ``CalendarYear`` (or their historical
    versions in a migration); ``years`` defaults to every year the package covers. Idempotent:
    rows with ``source="staff"`` are never touched, package rows the package no longer lists are
    deleted, and each loaded year gets a ``CalendarYear`` row. Raises ``ValueError`` for a
    requested year the package does not cover.
    """
    covered = package_years()
    wanted = covered if years is None else sorted(set(years))
    missing = [year for year in wanted if year not in covered]
    if missing:
        span = f"{covered[0]}–{covered[-1]}" if covered else "no years"
        raise ValueError(
            f"chinesecalendar covers {span}, not {', '.join(map(str, missing))}: upgrade the "
            "package or enter the year in the admin"
        )
    result = CalendarLoad(years=wanted)
    if not wanted:
        return result
    # One read of every wanted year's rows and one write of each kind (a flushed test database
    # reloads all the package's years).
    stored: dict[int, dict[date, object]] = {year: {} for year in wanted}
    for row in day_model.objects.filter(
        date__gte=date(wanted[0], 1, 1), date__lte=date(wanted[-1], 12, 31)
    ):
        if row.date.year in stored:
            stored[row.date.year][row.date] = row
    to_create, to_update, to_delete = [], [], []
    for year in wanted:
        fresh = package_days(year)
        existing = stored[year]
        for day, (working, kind, name) in sorted(fresh.items()):
            row = existing.get(day)
            if row is None:
                to_create.append(
                    day_model(
                        date=day,
                        is_working_day=working,
                        kind=kind,
                        name=name,
                        source="chinesecalendar",
                    )
                )
            elif row.source == "staff":
                result.kept_staff += 1
            elif (row.is_working_day, row.kind, row.name) != (working, kind, name):
                row.is_working_day, row.kind, row.name = working, kind, name
                to_update.append(row)
        for day, row in existing.items():
            if day not in fresh and row.source == "chinesecalendar":
                to_delete.append(day)
    day_model.objects.bulk_create(to_create)
    day_model.objects.bulk_update(to_update, ["is_working_day", "kind", "name"])
    if to_delete:
        day_model.objects.filter(date__in=to_delete).delete()
    have = set(year_model.objects.filter(year__in=wanted).values_list("year", flat=True))
    year_model.objects.bulk_create(
        [year_model(year=year, source="chinesecalendar") for year in wanted if year not in have]
    )
    result.created += len(to_create)
    result.updated += len(to_update)
    result.deleted += len(to_delete)
    # bulk_create / bulk_update send no signals.
    clear_cache()
    return result
