"""Shared input guards of the audits services: dates not in the future, day counts and counts
parsed from forms, required texts, model validation. Role checks are not here: services ask
``certbody.policy.require``.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from certbody import dates
from certbody.lifecycle import RuleViolation

HALF_DAY = Decimal("0.5")


def _not_future(day: date, label: str) -> None:
    if day > dates.today():
        raise RuleViolation(_("%(value)s cannot be later than today.") % {"value": capfirst(label)})


def _days(value, label: str) -> Decimal:
    """A day count from a form or a caller: Decimal, int or str; never a float."""
    if isinstance(value, bool | float):
        raise RuleViolation(
            _("%(value)s must be a number (auditor-days).") % {"value": capfirst(label)}
        )
    try:
        days = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise RuleViolation(
            _("%(value)s must be a number (auditor-days).") % {"value": capfirst(label)}
        ) from None
    if not days.is_finite():
        raise RuleViolation(
            _("%(value)s must be a number (auditor-days).") % {"value": capfirst(label)}
        )
    return days


def _validate(instance) -> None:
    """Run the model's validation (the rules the forms share) as a RuleViolation."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise RuleViolation(_("; ").join(exc.messages)) from None


def _check_sites_fit(rows, onsite: Decimal) -> None:
    planned = sum((r.onsite_days or Decimal("0") for r in rows), Decimal("0"))
    if planned > onsite:
        raise RuleViolation(
            _(
                "The sampling plan's sites need %(planned)s auditor-days on site in total, "
                "more than the determined on-site time of %(onsite)s auditor-days; increase "
                "the audit time or change the sampling plan."
            )
            % {"planned": planned, "onsite": onsite},
            "004 §5.4.3.3",
        )


def _check_day(day: date, label: str, *, not_before: date | None = None, before_label=""):
    if not isinstance(day, date):
        raise RuleViolation(_("%(value)s must be a date.") % {"value": capfirst(label)})
    if day > dates.today():
        raise RuleViolation(_("%(value)s cannot be later than today.") % {"value": capfirst(label)})
    if not_before is not None and day < not_before:
        raise RuleViolation(
            _("%(value)s cannot be earlier than %(before_label)s (%(not_before)s).")
            % {
                "value": capfirst(label),
                "before_label": before_label,
                "not_before": format(not_before, "%Y-%m-%d"),
            }
        )


def _text(value: str, label: str, clause: str = "") -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolation(_("Fill in %(value)s.") % {"value": label}, clause)
    return value


def _count(value, label: str) -> int:
    """A count of samples from a caller or a form: a non-negative int (or its digits)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RuleViolation(
            _("%(value)s must be a whole number, not negative.") % {"value": capfirst(label)}
        )
    try:
        number = int(value)
    except ValueError:
        raise RuleViolation(
            _("%(value)s must be a whole number, not negative.") % {"value": capfirst(label)}
        ) from None
    if number < 0:
        raise RuleViolation(
            _("%(value)s must be a whole number, not negative.") % {"value": capfirst(label)}
        )
    return number
