"""Calendar helpers every app uses: today's local date and calendar-month arithmetic.

Pure where it can be (``add_months``); ``today`` reads the clock in ``settings.TIME_ZONE``
(Asia/Shanghai), never UTC, so "today" is the CB's day (style.md: ``timezone.localdate()``).
"""

import calendar
from datetime import date, datetime

from django.utils import timezone


def today(day: date | None = None) -> date:
    """``day`` when given, else today's local date (``timezone.localdate()``)."""
    return day or timezone.localdate()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the end of the target month.

    ``day``: a local ``datetime.date`` (``datetime`` refused). ``months``: an ``int`` (may be
    negative or 0). 2024-01-31 + 1 → 2024-02-29; 2024-02-29 + 12 → 2025-02-28.

    Implements domain §19 ("within N months" uses calendar months). Raises ``ValueError`` for a
    non-date, a non-integer month count or a result outside the supported years.
    """
    if isinstance(day, datetime) or not isinstance(day, date):
        # A datetime carries a time and maybe a time zone; rules work on local calendar days.
        raise ValueError(f"day must be a datetime.date, got {day!r}")
    if isinstance(months, bool) or not isinstance(months, int):
        raise ValueError(f"months must be an integer, got {months!r}")
    year, month_index = divmod(day.year * 12 + (day.month - 1) + months, 12)
    if not date.min.year <= year <= date.max.year:
        raise ValueError(f"{day.isoformat()} + {months} months is outside the supported years")
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
