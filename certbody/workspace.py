"""The staff workspace: one list page, one object page and one confirm page per transition,
for every kind of record, declared as a ``Desk`` by the app that owns the records.

An app describes its desks in ``<app>/desks.py`` (imported from its ``AppConfig.ready``):

- ``queryset(request)`` with the ``select_related``/``prefetch_related`` that keep a list page at
  a constant number of queries whatever the number of rows;
- a django-tables2 ``Table`` (columns, sorting) and a django-filter ``FilterSet`` (search and
  filters); the list exports the filtered rows to CSV or XLSX (``certbody.spreadsheets``);
- the object page's summary fields and related sections (a template included by the page);
- ``Action``s: each names its service, its confirm form and its permission in
  ``certbody.policy.MATRIX``; the page offers an action only when the user holds its permission
  and the object's state allows it, and the action URL refuses a forged request with 403.

Views stay thin (style.md): check access, bind the form, call one service, turn its
``RuleViolation`` into a form error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody import bounds, masking, spreadsheets
from certbody.lifecycle import RuleViolation
from certbody.policy import denial_message


@dataclass(frozen=True)
class Action:
    """A transition offered on an object page.

    ``service(**{target: obj, "actor": user, **form.cleaned_data, **extra(obj, user)})`` is
    called on confirmation. ``permission``: a name in ``certbody.policy.MATRIX``, checked with
    the object. ``available(obj)``: whether the object's state allows the transition at all
    (e.g. ``can_proceed``); an unavailable action is not offered and its URL answers 409.
    ``form_class(obj=…, user=…, data=…)`` when it accepts those keywords (see ``ActionForm``).
    """

    name: str
    label: str
    service: Callable[..., Any]
    permission: str
    target: str
    form_class: type[forms.Form] | None = None
    available: Callable[[Any], bool] = lambda obj: True
    extra: Callable[[Any, Any], dict] | None = None
    confirm: str = ""
    danger: bool = False
    # Where to go after success: the object page by default; a callable (result, obj) → URL.
    next_url: Callable[[Any, Any], str] | None = None


class ActionForm(bounds.BoundedForm):
    """Base for confirm forms that need the object or the user (choices, initial values)."""

    def __init__(self, *args, obj=None, user=None, **kwargs):
        self.obj = obj
        self.user = user
        super().__init__(*args, **kwargs)


@dataclass(frozen=True)
class Create:
    """A "new …" page: ``service(actor=user, **form.cleaned_data, **extra(user))`` returns the
    new object, whose page the user is sent to."""

    label: str
    service: Callable[..., Any]
    permission: str
    form_class: type[forms.Form]
    extra: Callable[[Any], dict] | None = None


@dataclass
class Desk:
    """Everything the workspace needs to list, show and act on one kind of record."""

    key: str
    model: type[models.Model]
    title: str
    permission: str
    queryset: Callable[[Any], models.QuerySet]
    table_class: type
    filterset_class: type | None = None
    summary: Callable[[Any, Any], list[tuple[str, Any]]] | None = None
    sections_template: str = ""
    sections_context: Callable[[Any, Any], dict] | None = None
    actions: list[Action] = field(default_factory=list)
    create: Create | None = None
    history: Callable[[Any], list] | None = None
    nav: bool = True
    order: int = 100

    def url(self) -> str:
        return reverse("workspace:list", args=[self.key])

    def object_url(self, obj) -> str:
        return reverse("workspace:object", args=[self.key, obj.pk])

    def action(self, name: str) -> Action:
        for action in self.actions:
            if action.name == name:
                return action
        raise Http404(_("No such action."))

    def offered_actions(self, obj, user) -> list[Action]:
        """The actions this user may perform on ``obj`` now (permission and state)."""
        return [a for a in self.actions if _available(a, obj) and user.has_perm(a.permission, obj)]


DESKS: dict[str, Desk] = {}


def register(desk: Desk) -> Desk:
    """Add a desk to the workspace (called at import by ``<app>/desks.py``)."""
    from certbody.policy import MATRIX

    for name in [desk.permission, *(a.permission for a in desk.actions)] + (
        [desk.create.permission] if desk.create else []
    ):
        if name not in MATRIX:
            raise ImproperlyConfigured(
                f"desk {desk.key}: {name!r} is not in certbody.policy.MATRIX"
            )
    DESKS[desk.key] = desk
    return desk


def get_desk(key: str) -> Desk:
    try:
        return DESKS[key]
    except KeyError:
        raise Http404(_("No such list.")) from None


def object_url_for(obj) -> str:
    """The page of ``obj`` on the first desk (in navigation order) that shows its model, e.g.
    for a notification's link; "" when no desk does."""
    desks = sorted(
        (d for d in DESKS.values() if d.model is type(obj)), key=lambda d: (d.order, d.key)
    )
    return desks[0].object_url(obj) if desks else ""


def desks_for(user) -> list[Desk]:
    """The desks a user may open, in navigation order."""
    return sorted(
        (d for d in DESKS.values() if d.nav and user.has_perm(d.permission)),
        key=lambda d: (d.order, str(d.title)),
    )


def _available(action: Action, obj) -> bool:
    try:
        return bool(action.available(obj))
    except Exception:  # an availability test is a hint for the page, never a crash
        return False


def require(user, permission: str, obj=None) -> None:
    """Raise ``PermissionDenied`` (403) unless ``user`` holds ``permission`` on ``obj``."""
    if not user.has_perm(permission, obj):
        raise PermissionDenied(denial_message(permission))


def build_form(form_class, *, obj, user, data=None, files=None, model=None):
    """Instantiate a confirm form, passing ``obj``/``user`` to ``ActionForm`` subclasses, with
    every field bounded by its column (``certbody.bounds``): the form's own ``bounds_model``,
    else ``model`` (the desk's) for fields named like its fields, else generic bounds."""
    if form_class is None:
        return None
    if issubclass(form_class, ActionForm):
        form = form_class(data, files, obj=obj, user=user)
    else:
        form = form_class(data, files)
    # Again for a BoundedForm: fields added by a subclass after its __init__ need bounds too.
    bounds.bound_form(
        form,
        model=getattr(form, "bounds_model", None) or model,
        fields=getattr(form, "bounds_fields", None),
    )
    return form


def run_service(form, call: Callable[[dict], Any]) -> tuple[Any, str]:
    """Call the service with the form's cleaned data (``{}`` without a form) atomically.

    Returns ``(result, "")`` on success (``True`` when the service returns nothing) and
    ``(None, message)`` when the service refuses; the message is also put on the form.
    """
    data = form.cleaned_data if form is not None else {}
    try:
        with transaction.atomic():
            result = call(data)
    except (RuleViolation, ValidationError) as exc:
        message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        if form is not None:
            form.add_error(None, message)
        return None, message
    return (True if result is None else result), ""


# --- history -------------------------------------------------------------------------------


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


# --- list parameters -----------------------------------------------------------------------

MAX_PER_PAGE = 200


def int_param(value: str | None, *, default: int, low: int, high: int) -> int:
    """A query parameter as an integer within ``low``…``high``; ``default`` when it is
    missing, not a plain decimal number, or out of range (a list never answers 500 to a
    hand-edited URL)."""
    value = (value or "").strip()
    if not value or len(value) > 20 or not (value.isascii() and value.isdigit()):
        return default
    number = int(value)
    return number if low <= number <= high else default


def configure_table(table, request, *, per_page: int = 25, paginate: bool = True) -> None:
    """Sort and paginate a workspace table from the list's query (django-tables2's
    ``RequestConfig``, with every parameter validated): ``sort`` — orderable column names,
    optionally with a leading "-", others ignored; ``per_page`` — 1…``MAX_PER_PAGE``, else the
    default; ``page`` — a positive number, past the end shows the last page."""
    from django.core.paginator import EmptyPage

    table.request = request
    sortable = {name for name, column in table.columns.items() if column.orderable}
    sort = [
        key
        for key in request.GET.getlist(table.prefixed_order_by_field)[:5]
        if key.removeprefix("-") in sortable
    ]
    if sort:
        table.order_by = sort
    if not paginate:
        return
    per_page = int_param(
        request.GET.get(table.prefixed_per_page_field), default=per_page, low=1, high=MAX_PER_PAGE
    )
    page = int_param(request.GET.get(table.prefixed_page_field), default=1, low=1, high=10**9)
    try:
        table.paginate(per_page=per_page, page=page)
    except EmptyPage:
        table.paginate(per_page=per_page, page=table.paginator.num_pages)


# --- exports -------------------------------------------------------------------------------


def export_response(table, *, title: str, fmt: str, name: str = "export") -> HttpResponse:
    """The table's rows (all pages, as filtered and sorted) as CSV (UTF-8 BOM) or XLSX, with
    formula-looking cells neutralised; XLSX cells typed (dates, numbers, empty). The file is
    named ``<name>-<local date>.<fmt>``, e.g. ``certificates-2026-12-06.xlsx``."""
    values = list(table.as_values())
    sheet = spreadsheets.Sheet(title=str(title), columns=[str(c) for c in values[0]])
    sheet.rows = [list(row) for row in values[1:]]
    report = spreadsheets.Report(title=str(title), sheets=[sheet], dates_as_text=False)
    if fmt == "xlsx":
        content = spreadsheets.to_xlsx(report)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "csv":
        content = spreadsheets.to_csv(report)
        content_type = "text/csv; charset=utf-8"
    else:
        raise Http404(_("Unknown export format."))
    response = HttpResponse(content, content_type=content_type)
    filename = f"{name}-{timezone.localdate().isoformat()}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def back_to(desk: Desk, obj, action: Action | None = None, result=None) -> HttpResponse:
    if action is not None and action.next_url is not None:
        return redirect(action.next_url(result, obj))
    return redirect(desk.object_url(obj))
