"""The object page's history: every simple-history record of an object (and, merged, of its
related records) as rows a person reads, with personal-data fields masked for those who may not
see them (``certbody.masking``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody import masking

# The kind of a historical record (simple-history's ``history_type``) in words.
HISTORY_KINDS = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
# Who a row by the named system user (scheduled jobs, migrations) or by nobody is shown as.
SYSTEM_ACTOR = _("system")
# One format for every date and time the history shows (local time, settings.TIME_ZONE).
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass
class HistoryRow:
    """One historical record as a person reads it. ``when``: the aware datetime of the record
    (sorting; ``when_text`` is its local ``YYYY-MM-DD HH:MM``); ``who``: the actor's name, or
    ``SYSTEM_ACTOR``; ``what``: the kind of change in words, prefixed with the related record's
    label in a merged history; ``reason``: ``history_change_reason``; ``changes``: (field label,
    value before, value after), every value a display string ("—" when empty)."""

    when: Any
    who: str
    what: str
    reason: str
    changes: list[tuple[str, str, str]]
    # index in ``changes`` → the masking of a personal-data field (certbody.masking), applied by
    # ``history_for`` for users who may not see it.
    personal: dict[int, Callable[[str | None], str]] = field(default_factory=dict)

    @property
    def when_text(self) -> str:
        return local_text(self.when)


def local_text(value) -> str:
    """A date as ``YYYY-MM-DD``, a datetime as local ``YYYY-MM-DD HH:MM`` (an aware datetime
    is converted to the current time zone, Asia/Shanghai by default); "—" for None."""
    from datetime import date, datetime

    if value is None:
        return "—"
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    return str(value)


def _actor(user) -> str:
    """The name of whoever made a change: never an id; the system user is "system"."""
    from certbody.roles import SYSTEM_USERNAME

    if user is None or user.get_username() == SYSTEM_USERNAME:
        return str(SYSTEM_ACTOR)
    return str(user) or user.get_username()


def _m2m_target(field) -> str:
    """The name under which simple-history's m2m diff gives the linked record's pk."""
    from simple_history.utils import get_m2m_reverse_field_name

    return get_m2m_reverse_field_name(field)


def _linked_pks(field, value) -> list:
    """The pks of the records a changed link (FK, one-to-one or m2m) points to."""
    if value in (None, "", []):
        return []
    if field.many_to_many:
        target = _m2m_target(field)
        return [row[target] for row in value if isinstance(row, dict) and row.get(target)]
    return [value]


def _linked_name(related, pk, linked: dict | None) -> str:
    found = (linked or {}).get((related, pk))
    if found is None:
        return str(_("(deleted record)"))
    if related is get_user_model():
        return _actor(found)
    return str(found)


def _display(field, value, linked: dict | None = None) -> str:
    """``value`` of ``field`` as a person reads it: the choice's label, the linked record's
    name (from ``linked``: {(model, pk): object}, see ``_load_linked``), a date as
    ``YYYY-MM-DD``, a datetime as local ``YYYY-MM-DD HH:MM``, Yes/No, "—" for empty. A link
    to a record that no longer exists says so instead of showing its id."""
    from datetime import date

    if value is None or value == "" or value == []:
        return "—"
    if field is not None and field.is_relation:
        pks = _linked_pks(field, value)
        return "、".join(_linked_name(field.related_model, pk, linked) for pk in pks) or "—"
    choices = getattr(field, "flatchoices", None)
    if choices:
        return str(dict(choices).get(value, value))
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, date):  # datetime included
        return local_text(value)
    return str(value)


def _load_linked(model, diffs) -> dict:
    """The records that the changed links in ``diffs`` (simple-history ``ModelDelta``s of
    ``model``) point to, one query per linked model, never one per history row:
    {(model, pk): object}."""
    wanted: dict = {}
    for delta in diffs:
        for change in delta.changes:
            try:
                model_field = model._meta.get_field(change.field)
            except Exception:
                continue
            if not model_field.is_relation:
                continue
            for value in (change.old, change.new):
                pks = _linked_pks(model_field, value)
                wanted.setdefault(model_field.related_model, set()).update(pks)
    linked = {}
    for related, pks in wanted.items():
        if not pks:
            continue
        # The base manager: a record hidden by a default manager's filter is still named.
        # select_related(): the non-null links a record's str() may follow come in the same
        # query, e.g. an audit named after its programme's organisation.
        for pk, obj in related._base_manager.select_related().in_bulk(pks).items():
            linked[(related, pk)] = obj
    return linked


@dataclass
class _Values:
    """A creation or deletion shown as changes from or to "—" (the shape of a simple-history
    ``ModelDelta``: ``changes`` with ``field``, ``old``, ``new``)."""

    changes: list


def _values(record, *, parent, deleted: bool) -> _Values:
    """The non-empty values of ``record`` (a historical record) as changes from "—" (created)
    or to "—" (``deleted``), leaving out the link to ``parent`` (the page's own object) and
    many-to-many fields (which would cost queries per record)."""
    from django.forms.models import model_to_dict
    from simple_history.models import ModelChange

    names = [
        f.name
        for f in record.tracked_fields
        if f.editable
        and not f.many_to_many
        and not (f.is_relation and parent is not None and f.related_model is parent)
    ]
    values = model_to_dict(record, fields=names)
    changes = [
        ModelChange(name, values[name], None) if deleted else ModelChange(name, None, values[name])
        for name in sorted(names)
        if values.get(name) not in (None, "")
    ]
    return _Values(changes)


def _record_rows(records, model, label: str = "", parent=None) -> list[HistoryRow]:
    """Rows for historical records (newest first, possibly of several objects of ``model``):
    each record is diffed against the previous record of the same object, each changed field
    shown with its label and display values (``_display``). With a ``label`` (a related record
    in a merged history, whose page is its ``parent`` model's) a creation or deletion shows the
    record's values, so "audit team · Created" says who joined in which role. Queries: one per
    model linked from a changed field, whatever the number of records."""
    pk_name = model._meta.pk.attname
    by_object: dict = {}
    for record in records:
        by_object.setdefault(getattr(record, pk_name), []).append(record)
    diffs = {}
    for versions in by_object.values():
        for n, record in enumerate(versions):
            if label and record.history_type in ("+", "-"):
                diffs[id(record)] = _values(
                    record, parent=parent, deleted=record.history_type == "-"
                )
            elif n + 1 < len(versions):
                diffs[id(record)] = record.diff_against(versions[n + 1])
    linked = _load_linked(model, diffs.values())
    rows = []
    for versions in by_object.values():
        for record in versions:
            changes, personal = [], {}
            delta = diffs.get(id(record))
            for change in delta.changes if delta is not None else []:
                try:
                    model_field = model._meta.get_field(change.field)
                    name = str(model_field.verbose_name)
                except Exception:
                    model_field, name = None, change.field
                mask = masking.field_mask(model, change.field)
                if mask is not None:
                    personal[len(changes)] = mask
                changes.append(
                    (
                        name,
                        _display(model_field, change.old, linked),
                        _display(model_field, change.new, linked),
                    )
                )
            what = str(HISTORY_KINDS.get(record.history_type, record.history_type))
            if label:
                what = f"{label} · {what}"
            rows.append(
                HistoryRow(
                    when=record.history_date,
                    who=_actor(record.history_user),
                    what=what,
                    reason=record.history_change_reason or "",
                    changes=changes,
                    personal=personal,
                )
            )
    return rows


def history_for(rows: list[HistoryRow], user) -> list[HistoryRow]:
    """``rows`` as ``user`` may see them: personal-data fields (``certbody.masking
    .PERSONAL_FIELDS``) masked, before and after, unless the user holds
    ``certbody.view_personal_data`` — the same masking as the rest of the page."""
    if masking.can_see_personal_data(user):
        return rows

    def hide(mask, shown: str) -> str:
        return shown if shown == "—" else mask(shown)

    masked = []
    for row in rows:
        if not row.personal:
            masked.append(row)
            continue
        changes = [
            (label, hide(row.personal[n], old), hide(row.personal[n], new))
            if n in row.personal
            else (label, old, new)
            for n, (label, old, new) in enumerate(row.changes)
        ]
        masked.append(replace(row, changes=changes, personal={}))
    return masked


def history_rows(obj, *, limit: int = 200) -> list[HistoryRow]:
    """The object's simple-history as rows, newest first: who, when, what changed (field,
    before, after) and why. One query for the records plus one per model linked from a changed
    field, whatever the number of records (records of one instant in the order they were
    written)."""
    records = obj.history.select_related("history_user").order_by("-history_date", "-history_id")[
        :limit
    ]
    return _record_rows(list(records), type(obj))


def merged_history(obj, related, *, limit: int = 200) -> list[HistoryRow]:
    """The object's history merged with its related records' (newest first), so an object page
    shows everything done to it: ``related`` is a list of ``(label, model, filter kwargs)``,
    e.g. ``(_("team"), AuditTeamMember, {"audit_id": audit.pk})`` — deleted rows included,
    since their history outlives them. One query per source, plus one per model linked from
    the changed fields."""
    rows = history_rows(obj, limit=limit)
    for label, model, lookup in related:
        records = (
            model.history.filter(**lookup)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:limit]
        )
        rows += _record_rows(list(records), model, str(label), parent=type(obj))
    rows.sort(key=lambda row: row.when, reverse=True)
    return rows[:limit]
