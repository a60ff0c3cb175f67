"""Bulk actions on a workspace list (issue #14): staff tick rows (a checkbox column, a
select-all box on the page) and repeat one action over them — send reminders, assign a handler,
mark reports submitted, export the selected rows.

A desk declares its ``BulkAction``s (``Desk.bulk_actions``); every desk has "export selected"
(``EXPORT``). Each selected row goes through the action's existing service in its own
transaction, with the matrix asked for that row: a refused row (no permission on it, a state
that does not allow it, the service's ``RuleViolation``) is listed with its reason and never
half-written, the others are done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certbody import policy
from certbody.lifecycle import RuleViolation

EXPORT = "export"
# The most rows one bulk request acts on (a page holds at most MAX_PER_PAGE).
MAX_SELECTED = 500


@dataclass(frozen=True)
class BulkAction:
    """An action repeated over the selected rows of a list.

    ``service(**{target: obj, "actor": user, **form.cleaned_data, **extra(obj, user)})`` per
    row, like ``Action``. ``permission``: a ``certbody.policy.MATRIX`` name, asked without an
    object to offer the action (and to answer a forged POST with 403), then with each row.
    ``available(obj)``: whether the row's state allows it. ``form_class``: the shared
    parameters (e.g. the handler), built without an object (``ActionForm`` gets ``obj=None``).
    ``service=None`` only for the built-in ``EXPORT``.
    """

    name: str
    label: Any
    permission: str
    service: Callable[..., Any] | None = None
    target: str = ""
    form_class: type[forms.Form] | None = None
    available: Callable[[Any], bool] = lambda obj: True
    extra: Callable[[Any, Any], dict] | None = None
    confirm: Any = ""
    danger: bool = False

    @property
    def is_export(self) -> bool:
        return self.name == EXPORT


def export_selected(permission: str) -> BulkAction:
    """The built-in "export selected" of a desk whose list needs ``permission``."""
    return BulkAction(EXPORT, _("Export selected (XLSX)"), permission)


@dataclass
class Outcome:
    """What happened to one selected row: ``ok`` with no message, or refused with why."""

    obj: Any
    ok: bool
    message: str = ""


def selected_ids(values: list[str]) -> list[int]:
    """The row ids posted as ``selected`` (positive integers; anything else is ignored), at
    most ``MAX_SELECTED``, in the order given, without repeats."""
    ids: list[int] = []
    for value in values[: MAX_SELECTED * 2]:
        value = (value or "").strip()
        if value.isascii() and value.isdigit() and 0 < len(value) < 19:
            number = int(value)
            if number not in ids:
                ids.append(number)
    return ids[:MAX_SELECTED]


def _row_available(bulk: BulkAction, obj) -> bool:
    try:
        return bool(bulk.available(obj))
    except Exception:  # a state test is a hint, never a crash of the whole batch
        return False


def run_bulk(bulk: BulkAction, objects, *, user, cleaned: dict) -> list[Outcome]:
    """Call ``bulk.service`` on each of ``objects`` (model instances, in order) as ``user``
    with the shared ``cleaned`` form data; one transaction per row. Returns one ``Outcome``
    per row: refused when the matrix refuses ``bulk.permission`` on it, when its state does
    not allow the action, or when the service raises ``RuleViolation``/``ValidationError``/
    ``PermissionDenied`` (the row is then left as it was)."""
    outcomes = []
    for obj in objects:
        if not policy.allowed(user, bulk.permission, obj):
            message = policy.denial_message(bulk.permission) or gettext(
                "You may not do this on this record."
            )
            outcomes.append(Outcome(obj, False, message))
            continue
        if not _row_available(bulk, obj):
            outcomes.append(
                Outcome(obj, False, gettext("This action is not possible in the current state."))
            )
            continue
        kwargs = {bulk.target: obj, "actor": user, **cleaned}
        if bulk.extra:
            kwargs.update(bulk.extra(obj, user))
        try:
            with transaction.atomic():
                bulk.service(**kwargs)
        except ValidationError as exc:
            outcomes.append(Outcome(obj, False, "；".join(exc.messages)))
        except (RuleViolation, PermissionDenied) as exc:
            outcomes.append(Outcome(obj, False, str(exc)))
        else:
            outcomes.append(Outcome(obj, True))
    return outcomes
