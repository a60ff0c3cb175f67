"""Shared input guards of the audits services: dates not in the future, day counts and counts
parsed from forms, required texts, model validation. Role checks are not here: services ask
``certbody.policy.require``.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from certbody import dates
from certbody.lifecycle import RuleViolation

HALF_DAY = Decimal("0.5")


def _not_future(day: date, label: str) -> None:
    if day > dates.today():
        raise RuleViolation(f"{label}不能晚于今天")


def _days(value, label: str) -> Decimal:
    """A day count from a form or a caller: Decimal, int or str; never a float."""
    if isinstance(value, bool | float):
        raise RuleViolation(f"{label}须为数字（人日）")
    try:
        days = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise RuleViolation(f"{label}须为数字（人日）") from None
    if not days.is_finite():
        raise RuleViolation(f"{label}须为数字（人日）")
    return days


def _validate(instance) -> None:
    """Run the model's validation (the rules the forms share) as a RuleViolation."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise RuleViolation("；".join(exc.messages)) from None


def _check_sites_fit(rows, onsite: Decimal) -> None:
    planned = sum((r.onsite_days or Decimal("0") for r in rows), Decimal("0"))
    if planned > onsite:
        raise RuleViolation(
            f"抽样方案中各场所现场审核时间合计 {planned} 人日，超过确定的现场审核时间 "
            f"{onsite} 人日；请增加审核时间或调整抽样方案",
            "004 §5.4.3.3",
        )


def _check_day(day: date, label: str, *, not_before: date | None = None, before_label=""):
    if not isinstance(day, date):
        raise RuleViolation(f"{label}须为日期")
    if day > dates.today():
        raise RuleViolation(f"{label}不能晚于今天")
    if not_before is not None and day < not_before:
        raise RuleViolation(f"{label}不能早于{before_label}（{not_before:%Y-%m-%d}）")


def _text(value: str, label: str, clause: str = "") -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolation(f"须填写{label}", clause)
    return value


def _count(value, label: str) -> int:
    """A count of samples from a caller or a form: a non-negative int (or its digits)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RuleViolation(f"{label}须为非负整数")
    try:
        number = int(value)
    except ValueError:
        raise RuleViolation(f"{label}须为非负整数") from None
    if number < 0:
        raise RuleViolation(f"{label}须为非负整数")
    return number
