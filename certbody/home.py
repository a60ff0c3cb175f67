"""The staff home page: what is due and overdue for me, by role, and the dashboard panels.

Each ``Section`` is one piece of work a role owns (surveillance due, plans to report, NCs to
verify, decisions to make, reports to submit, appeals, applications to review …) with its
count, how many are overdue, and the first few rows linking to the workspace object pages
(never to the admin, which is for superusers). A section costs two queries whatever the number
of rows (an aggregate and a sliced list, ``section``), so the page stays at a bounded number
of queries.

The apps contribute, like desks: each app's ``<app>/home.py`` calls ``register_section`` (a
builder, the roles that see it, its place on the page) and ``register_panel`` (a dashboard
template and its context) when its ``AppConfig.ready`` imports it. This module imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody import roles

ROWS = 5  # rows shown per section


@dataclass
class Row:
    label: str
    detail: str
    url: str
    day: date | None = None  # the due date, or the date ``Section.day_label`` names
    overdue: bool = False


@dataclass
class Section:
    key: str
    title: str
    count: int
    overdue: int
    rows: list[Row] = field(default_factory=list)
    more_url: str = ""
    day_label: str = ""
    detail_label: str = ""
    empty: str = ""

    @property
    def more(self) -> int:
        return max(self.count - len(self.rows), 0)


def _desks():
    from certbody.workspace.desks import DESKS

    return DESKS


def object_url(desk_key: str, obj) -> str:
    """The workspace page of ``obj`` on desk ``desk_key``; "" (no link) when that desk is not
    registered (staff are never sent to the admin)."""
    if desk_key in _desks():
        return reverse("workspace:object", args=[desk_key, obj.pk])
    return ""


def list_url(desk_key: str, query: str = "") -> str:
    """The workspace list of ``desk_key`` (with ``query``); "" when that desk is not
    registered."""
    if desk_key not in _desks():
        return ""
    url = reverse("workspace:list", args=[desk_key])
    return f"{url}?{query}" if query else url


def section(
    key: str,
    title,
    queryset: QuerySet,
    *,
    due_field: str | None,
    today: date,
    order_by: tuple[str, ...],
    row: Callable[[object], Row],
    more_url: str = "",
    day_label=None,
    detail_label=None,
) -> Section:
    """Two queries: the count (and overdue count) of ``queryset``, then its first rows."""
    aggregates = {"n": Count("pk")}
    if due_field:
        aggregates["late"] = Count("pk", filter=Q(**{f"{due_field}__lt": today}))
    figures = queryset.aggregate(**aggregates)
    rows = [row(obj) for obj in queryset.order_by(*order_by)[:ROWS]] if figures["n"] else []
    if due_field:
        for r in rows:
            r.overdue = bool(r.day and r.day < today)
    return Section(
        key=key,
        title=str(title),
        count=figures["n"],
        overdue=figures.get("late", 0) or 0,
        rows=rows,
        more_url=more_url,
        empty=str(_("Nothing to do.")),
        day_label=str(day_label or _("due on")),
        detail_label=str(detail_label or _("organisation")),
    )


# --- the registries -------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeSection:
    """A section an app contributes: ``build(user, today) -> Section`` for users holding one
    of ``roles`` (or for whom ``also_for(user)`` is true), placed by ``order`` on the page."""

    key: str
    build: Callable[[Any, date], Section]
    roles: tuple[str, ...]
    order: int = 100
    also_for: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class Panel:
    """A dashboard panel an app contributes: ``template`` is included on the home page with
    ``context(user)`` (a dict) merged into the page's context; placed by ``order``."""

    key: str
    template: str
    context: Callable[[Any], dict]
    order: int = 100


SECTIONS: dict[str, HomeSection] = {}
PANELS: dict[str, Panel] = {}


def register_section(
    key: str,
    build: Callable[[Any, date], Section],
    *,
    roles: tuple[str, ...] | list[str],
    order: int = 100,
    also_for: Callable[[Any], bool] | None = None,
) -> HomeSection:
    """Add a section to the home page (idempotent by ``key``; apps call it from ``ready``)."""
    entry = HomeSection(key, build, tuple(roles), order, also_for)
    SECTIONS[key] = entry
    return entry


def register_panel(key: str, template: str, context: Callable[[Any], dict], *, order: int = 100):
    """Add a dashboard panel to the home page (idempotent by ``key``)."""
    entry = Panel(key, template, context, order)
    PANELS[key] = entry
    return entry


def role_names(user) -> set[str]:
    """The user's staff roles in one query, as ``roles.has_role`` answers them (superusers:
    every role); kept on the user object for the rest of the request."""
    cached = getattr(user, "_home_role_names", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        names = set()
    elif user.is_superuser:
        names = set(roles.STAFF_ROLES)
    elif not user.is_staff:
        names = set()
    else:
        names = set(user.groups.values_list("name", flat=True)) & set(roles.STAFF_ROLES)
    user._home_role_names = names
    return names


def sections_for(user, today: date | None = None) -> list[Section]:
    """The sections of the user's roles (superusers: all), in page order, each built with two
    queries; a section's ``also_for`` adds it whatever the role (e.g. an appeal's handler)."""
    today = today or timezone.localdate()
    mine = role_names(user)
    chosen = [
        entry
        for entry in sorted(SECTIONS.values(), key=lambda e: (e.order, e.key))
        if mine.intersection(entry.roles) or (entry.also_for is not None and entry.also_for(user))
    ]
    return [entry.build(user, today) for entry in chosen]


def panels_for(user) -> tuple[list[str], dict]:
    """The dashboard panels' templates in page order and their merged context."""
    templates, context = [], {}
    for panel in sorted(PANELS.values(), key=lambda p: (p.order, p.key)):
        templates.append(panel.template)
        context.update(panel.context(user))
    return templates, context
