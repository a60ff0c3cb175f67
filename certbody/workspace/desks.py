"""The workspace's desks: what an app declares to list, show and act on one kind of record
(``Desk``, ``Action``, ``Create``), the registry the apps fill from ``AppConfig.ready``
(``register``, ``DESKS``), and the helpers the generic views share (``build_form``,
``run_service``, ``require``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certbody import bounds, policy
from certbody.lifecycle import RuleViolation
from certbody.workspace.bulk import BulkAction, export_selected

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Action:
    """A transition offered on an object page.

    ``service(**{target: obj, "actor": user, **form.cleaned_data, **extra(obj, user)})`` is
    called on confirmation. ``permission``: a name in ``certbody.policy.MATRIX``, checked with
    the object. ``available(obj)``: whether the object's state allows the transition at all
    (e.g. ``can_proceed``); an unavailable action is not offered and its URL answers 409.
    ``precheck(obj, user) -> str | None``: why the service would refuse now whatever the form
    holds (no date or other input of the form), built on the same guard functions the service
    calls (``certbody.lifecycle.refusal``); with a reason the button is shown disabled with it
    and the confirm page says it, the service still deciding on confirmation (issue #14).
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
    precheck: Callable[[Any, Any], str | None] | None = None

    def refusal(self, obj, user) -> str:
        """The precheck's reason ("" when none or no precheck)."""
        return _precheck(self, obj, user)


@dataclass(frozen=True)
class ActionButton:
    """An offered action on an object page and, when its precheck refuses, why (``reason``)."""

    action: Action
    reason: str = ""

    @property
    def disabled(self) -> bool:
        return bool(self.reason)

    def __getattr__(self, name):  # name, label, danger … read through to the action
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.action, name)


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
    # Where an object that has left this desk's list now lives (e.g. an audit whose decision
    # is made → the decision's page): ``moved_on(obj) -> URL | None``. Without it (or when it
    # answers None) the workspace looks for another desk of the same model that holds it.
    moved_on: Callable[[Any], str | None] | None = None
    # The navigation group (a key of ``GROUPS``); "" = the registering app's group
    # (``APP_GROUPS``), filled in by ``register``.
    group: str = ""
    # The list's default order (issue #14), used when the user has not sorted by a column:
    # rows matching ``needs_action()`` (a Q, built when the list is shown: it may read today)
    # first, then newest first by the field ``newest``, then by id, newest first.
    # Without both the table's own ``Meta.order_by`` applies.
    needs_action: Callable[[], Q] | None = None
    newest: str = ""
    # Date-range filters (from/to, two date inputs) on the main date columns: (field, label)
    # pairs; ``register`` adds them to the filterset as ``<field>_after``/``<field>_before``.
    date_filters: tuple[tuple[str, Any], ...] = ()
    # Actions repeated over the ticked rows of the list (``certbody.workspace.bulk``); every
    # desk also has "export selected".
    bulk_actions: list[BulkAction] = field(default_factory=list)

    def url(self) -> str:
        return reverse("workspace:list", args=[self.key])

    def object_url(self, obj) -> str:
        return reverse("workspace:object", args=[self.key, obj.pk])

    def action(self, name: str) -> Action:
        for action in self.actions:
            if action.name == name:
                return action
        raise Http404(_("No such action."))

    def all_bulk_actions(self) -> list[BulkAction]:
        return [export_selected(self.permission), *self.bulk_actions]

    def bulk_action(self, name: str) -> BulkAction:
        for bulk in self.all_bulk_actions():
            if bulk.name == name:
                return bulk
        raise Http404(_("No such action."))

    def offered_bulk_actions(self, user) -> list[BulkAction]:
        """The bulk actions ``user`` holds the permission of (rows are asked again one by
        one when the action runs)."""
        return [b for b in self.all_bulk_actions() if policy.allowed(user, b.permission)]

    def ordered(self, queryset: models.QuerySet) -> models.QuerySet:
        """``queryset`` in the desk's default order: needing action first, newest first."""
        order = []
        if self.needs_action is not None:
            queryset = queryset.annotate(
                _waits=Case(When(self.needs_action(), then=Value(0)), default=Value(1))
            )
            order.append("_waits")
        if self.newest:
            order.append(F(self.newest).desc(nulls_last=True))
        return queryset.order_by(*order, "-pk")

    @property
    def has_default_order(self) -> bool:
        return self.needs_action is not None or bool(self.newest)

    def offered_actions(self, obj, user) -> list[Action]:
        """The actions this user may perform on ``obj`` now (permission and state)."""
        return [
            a
            for a in self.actions
            if _available(a, obj) and policy.allowed(user, a.permission, obj)
        ]

    def action_buttons(self, obj, user) -> list[ActionButton]:
        """``offered_actions`` as buttons, each with its precheck's reason ("" = enabled)."""
        return [ActionButton(a, _precheck(a, obj, user)) for a in self.offered_actions(obj, user)]


DESKS: dict[str, Desk] = {}

# The navigation groups in page order, following the data flow (issue #14).
GROUPS: dict[str, Any] = {
    "clients": _("Clients and applications"),
    "audits": _("Audits"),
    "certificates": _("Certificates"),
    "reporting": _("Reporting"),
}
# A desk without a ``group`` goes to the group of the app whose module registers it.
APP_GROUPS = {
    "applications": "clients",
    "audits": "audits",
    "certificates": "certificates",
    "reporting": "reporting",
}


def _default_group(desk: Desk) -> str:
    app = (getattr(desk.queryset, "__module__", "") or "").split(".")[0]
    return APP_GROUPS.get(app) or APP_GROUPS.get(desk.model._meta.app_label, "reporting")


def register(desk: Desk) -> Desk:
    """Add a desk to the workspace (called at import by ``<app>/desks.py``)."""
    for name in [
        desk.permission,
        *(a.permission for a in desk.actions),
        *(b.permission for b in desk.bulk_actions),
    ] + ([desk.create.permission] if desk.create else []):
        if name not in policy.MATRIX:
            raise ImproperlyConfigured(
                f"desk {desk.key}: {name!r} is not in certbody.policy.MATRIX"
            )
    if not desk.group:
        desk.group = _default_group(desk)
    if desk.group not in GROUPS:
        raise ImproperlyConfigured(f"desk {desk.key}: unknown navigation group {desk.group!r}")
    if desk.date_filters:
        desk.filterset_class = with_date_filters(
            desk.filterset_class, desk.model, desk.date_filters
        )
    DESKS[desk.key] = desk
    return desk


def add_filters(desk_key: str, **filters) -> None:
    """Add django-filter ``filters`` (name → filter; a ``method`` may be a callable) to the
    list of the registered desk ``desk_key``: how a higher app filters a lower app's list by
    its own records (e.g. audits whose programme holds a certificate in force) without the
    lower app importing it. ``ImproperlyConfigured`` when the desk is not registered."""
    import django_filters

    desk = DESKS.get(desk_key)
    if desk is None:
        raise ImproperlyConfigured(f"add_filters: no desk {desk_key!r}")
    base = desk.filterset_class
    attrs = dict(filters)
    if base is None:
        base = django_filters.FilterSet
        attrs["Meta"] = type("Meta", (), {"model": desk.model, "fields": []})
    desk.filterset_class = type(base.__name__, (base,), attrs)


def _date_range_widget(widget_class, label):
    """Two date inputs under one label: each gets its own accessible name ("<label> from",
    "<label> to"), which screen readers announce and axe asks for."""
    widget = widget_class(attrs={"type": "date"})
    for sub, word in zip(
        widget.widgets,
        (pgettext_lazy("date range", "from"), pgettext_lazy("date range", "to")),
        strict=True,
    ):
        sub.attrs["aria-label"] = format_lazy("{} {}", label, word)
    return widget


def with_date_filters(filterset_class, model, date_filters) -> type:
    """A subclass of ``filterset_class`` (or a bare FilterSet of ``model``) with a from/to
    date-range filter per ``(field, label)`` of ``date_filters``: query parameters
    ``<field>_after`` and ``<field>_before`` (ISO dates, both inclusive; on a date-time field
    the whole local days)."""
    import django_filters
    from django_filters.widgets import DateRangeWidget

    base = filterset_class or django_filters.FilterSet
    attrs = {
        name: django_filters.DateFromToRangeFilter(
            field_name=name,
            label=label,
            widget=_date_range_widget(DateRangeWidget, label),
        )
        for name, label in date_filters
    }
    if filterset_class is None:
        attrs["Meta"] = type("Meta", (), {"model": model, "fields": []})
    return type(f"{base.__name__}WithDates", (base,), attrs)


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
        (d for d in DESKS.values() if d.nav and policy.allowed(user, d.permission)),
        key=lambda d: (d.order, str(d.title)),
    )


@dataclass
class NavGroup:
    key: str
    title: str
    desks: list[Desk]


def nav_groups(user, desks: list[Desk] | None = None) -> list[NavGroup]:
    """The desks ``user`` may open (``desks``, else ``desks_for(user)``) grouped by
    ``Desk.group`` in ``GROUPS`` order; groups without an open desk are left out."""
    mine = desks_for(user) if desks is None else desks
    return [
        NavGroup(key, str(title), [d for d in mine if d.group == key])
        for key, title in GROUPS.items()
        if any(d.group == key for d in mine)
    ]


def _available(action: Action, obj) -> bool:
    try:
        return bool(action.available(obj))
    except Exception:  # an availability test is a hint for the page, never a crash
        return False


def _precheck(action: Action, obj, user) -> str:
    if action.precheck is None:
        return ""
    try:
        return str(action.precheck(obj, user) or "")
    except Exception:  # a hint for the page, never a crash: the service still decides
        logger.exception("precheck of %s failed", action.name)
        return ""


def require(user, permission: str, obj=None) -> None:
    """Raise ``PermissionDenied`` (403, saying who may act: ``policy.denial_message``) unless
    ``user`` holds ``permission`` (a ``policy.MATRIX`` name) on ``obj``."""
    if not policy.allowed(user, permission, obj):
        raise PermissionDenied(policy.denial_message(permission))


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


def back_to(desk: Desk, obj, action: Action | None = None, result=None) -> HttpResponse:
    if action is not None and action.next_url is not None:
        return redirect(action.next_url(result, obj))
    return redirect(desk.object_url(obj))
