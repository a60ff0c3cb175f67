"""Bounds of user input: every form field gets the limits of the database column it fills.

A plain ``forms.Form`` that mirrors model fields (the workspace's confirm forms, the portal's
forms) declares no ``max_digits`` or ``max_value`` of its own, so a number too large for its
column passed validation and broke the page — or was stored and broke every page showing it.
``bound_form`` gives each field of a form:

- the bounds of the model field of the same name (``model``) or named in ``fields``:
  ``CharField.max_length``; ``DecimalField.max_digits``/``decimal_places`` (so ``max_value``
  below ``10 ** (max_digits - decimal_places)``); the range of ``IntegerField``,
  ``PositiveIntegerField``, ``BigIntegerField`` … as PostgreSQL stores it (the same limits on
  SQLite, so both databases accept the same input);
- otherwise generic limits: integers within a 32-bit column, decimals within 12 digits, text
  within ``MAX_TEXT`` characters, dates within ``EARLIEST``…``LATEST`` (date arithmetic on year
  9999 overflows).

The workspace binds every confirm and create form through ``certbody.workspace.build_form``,
which calls ``bound_form`` with the desk's model; other forms derive from ``BoundedForm``.
Services that store such values call ``check_instance`` so a value that bypassed the form is
refused with a ``RuleViolation`` (a ``ValueError``) and never stored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.apps import apps
from django.core import validators
from django.db import models
from django.utils.translation import gettext_lazy as _

from certbody.lifecycle import RuleViolation

# BaseDatabaseOperations.integer_field_ranges (PostgreSQL's), written out: importing the base
# operations at module load is circular.
INTEGER_RANGES = {
    "SmallIntegerField": (-32768, 32767),
    "IntegerField": (-2147483648, 2147483647),
    "BigIntegerField": (-9223372036854775808, 9223372036854775807),
    "PositiveBigIntegerField": (0, 9223372036854775807),
    "PositiveSmallIntegerField": (0, 32767),
    "PositiveIntegerField": (0, 2147483647),
    "SmallAutoField": (-32768, 32767),
    "AutoField": (-2147483648, 2147483647),
    "BigAutoField": (-9223372036854775808, 9223372036854775807),
}
DEFAULT_MAX_DIGITS = 12
MAX_TEXT = 20000  # a TextField column is unbounded; one form post never needs more
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


def model_field(spec) -> models.Field:
    """A model field from ``"app_label.Model.field"`` (or a field, returned as is)."""
    if isinstance(spec, models.Field):
        return spec
    app_label, model_name, name = spec.split(".")
    return apps.get_model(app_label, model_name)._meta.get_field(name)


def _model(spec):
    if spec is None or isinstance(spec, type):
        return spec
    return apps.get_model(spec)


def decimal_limit(max_digits: int, decimal_places: int) -> Decimal:
    """The largest value of a decimal column: ``(5, 1)`` → ``9999.9``."""
    return Decimal(10) ** (max_digits - decimal_places) - Decimal(10) ** -decimal_places


def _set_range(field: forms.Field, low, high) -> None:
    """Narrow an integer or decimal form field to ``low``…``high`` (keeping a narrower one)."""
    if low is not None and (field.min_value is None or field.min_value < low):
        field.min_value = low
        field.validators.append(validators.MinValueValidator(low))
        field.widget.attrs["min"] = str(low)
    if high is not None and (field.max_value is None or field.max_value > high):
        field.max_value = high
        field.validators.append(validators.MaxValueValidator(high))
        field.widget.attrs["max"] = str(high)


def _set_max_length(field: forms.CharField, limit: int) -> None:
    if field.max_length is None or field.max_length > limit:
        field.max_length = limit
        field.validators.append(validators.MaxLengthValidator(limit))
        field.widget.attrs["maxlength"] = str(limit)


def _set_digits(field: forms.DecimalField, max_digits: int, decimal_places: int) -> None:
    places = decimal_places if field.decimal_places is None else field.decimal_places
    places = min(places, decimal_places)
    if field.max_digits is None or field.max_digits > max_digits:
        field.max_digits, field.decimal_places = max_digits, places
        field.validators.append(validators.DecimalValidator(max_digits, places))
    limit = decimal_limit(max_digits, places)
    _set_range(field, -limit, limit)


def bound_field(field: forms.Field, column: models.Field | None) -> None:
    """Give the form ``field`` the bounds of the model field ``column`` (None: generic bounds)
    — only ever narrowing what the form field already allows."""
    if isinstance(field, forms.DecimalField):
        if isinstance(column, models.DecimalField):
            _set_digits(field, column.max_digits, column.decimal_places)
        else:
            places = 2 if field.decimal_places is None else field.decimal_places
            _set_digits(field, DEFAULT_MAX_DIGITS, places)
    elif isinstance(field, forms.IntegerField):
        kind = column.get_internal_type() if column is not None else ""
        _set_range(field, *INTEGER_RANGES.get(kind, INTEGER_RANGES["IntegerField"]))
    elif isinstance(field, forms.DateField) and not isinstance(field, forms.DateTimeField):
        _set_range_date(field)
    elif isinstance(field, forms.CharField):
        limit = getattr(column, "max_length", None) if column is not None else None
        _set_max_length(field, limit or MAX_TEXT)


def _set_range_date(field: forms.DateField) -> None:
    if getattr(field, "_bounded", False):
        return
    field._bounded = True
    message = _("Enter a date between %(earliest)s and %(latest)s.") % {
        "earliest": EARLIEST.isoformat(),
        "latest": LATEST.isoformat(),
    }
    field.validators.append(validators.MinValueValidator(EARLIEST, message=message))
    field.validators.append(validators.MaxValueValidator(LATEST, message=message))


def bound_form(form: forms.BaseForm, *, model=None, fields: dict | None = None) -> forms.BaseForm:
    """Bound every field of ``form`` (in place; returns it): by the column named in ``fields``
    (form field name → ``"app_label.Model.field"``), else by ``model``'s field of the same name
    (a model class or ``"app_label.Model"``), else generically. Idempotent."""
    model = _model(model)
    fields = fields or {}
    for name, field in form.fields.items():
        column = None
        if name in fields:
            column = model_field(fields[name])
        elif model is not None:
            try:
                column = model._meta.get_field(name)
            except Exception:
                column = None
            if not isinstance(column, models.Field) or column.is_relation:
                column = None
        bound_field(field, column)
    return form


class BoundedForm(forms.Form):
    """A plain form whose fields get their columns' bounds (``bound_form``): set
    ``bounds_model`` (``"app_label.Model"``) for fields named like the model's, and
    ``bounds_fields`` for the others."""

    bounds_model: str | type[models.Model] | None = None
    bounds_fields: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_form(self, model=self.bounds_model, fields=self.bounds_fields)


def check_value(column: models.Field, value) -> None:
    """Raise ``RuleViolation`` unless ``value`` fits the model field ``column``'s bounds
    (digits of a decimal, range of an integer, length of text). None and "" pass."""
    if value is None or value == "":
        return
    label = str(column.verbose_name)
    if isinstance(column, models.DecimalField):
        value = Decimal(value)
        if not value.is_finite() or abs(value) > decimal_limit(
            column.max_digits, column.decimal_places
        ):
            raise RuleViolation(
                _("%(field)s: %(value)s is out of range (at most %(limit)s).")
                % {
                    "field": label,
                    "value": value,
                    "limit": decimal_limit(column.max_digits, column.decimal_places),
                }
            )
    elif isinstance(column, models.IntegerField):
        low, high = INTEGER_RANGES.get(column.get_internal_type(), INTEGER_RANGES["IntegerField"])
        if not low <= int(value) <= high:
            raise RuleViolation(
                _("%(field)s: %(value)s is out of range (%(low)s to %(high)s).")
                % {"field": label, "value": value, "low": low, "high": high}
            )
    elif (
        isinstance(column, models.CharField)
        and column.max_length
        and len(str(value)) > column.max_length
    ):
        raise RuleViolation(
            _("%(field)s: at most %(limit)d characters (it has %(length)d).")
            % {"field": label, "limit": column.max_length, "length": len(str(value))}
        )


def check_instance(instance: models.Model, *names: str) -> None:
    """``check_value`` for the fields ``names`` of a model instance about to be saved."""
    for name in names:
        check_value(instance._meta.get_field(name), getattr(instance, name))
