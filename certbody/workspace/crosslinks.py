"""Cross-links on a workspace object page (issue #14): the records it belongs to and the
records that belong to it, each on the page of a desk the user may open (organisation ↔
applications ↔ programme ↔ audits ↔ certificates ↔ decisions).

Built from the models' relations, so this module imports no app: a forward relation
(``programme.organization``) links its target; a one-to-one back relation
(``audit.score_sheet`` …) and the first ``PER_RELATION`` rows of a one-to-many back relation
(``organization.programmes``) link theirs, when some desk the user may open shows that model.
Apps add links to pages that are not desks (a score sheet) with ``register``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from certbody import policy

PER_RELATION = 5
# Relations followed one step further: an audit's programme's organisation.
THROUGH = {"programme": "organization", "audit": "programme"}
# Relations never shown (history, internal rows, people).
SKIPPED = {"history", "head", "recorded_by", "created_by", "decided_by", "handler", "user"}

EXTRA: dict[type, list[Callable[[Any, Any], list[tuple[str, str]]]]] = {}


def register(model: type, links: Callable[[Any, Any], list[tuple[str, str]]]) -> None:
    """Add ``links(obj, user) -> [(label, url)]`` to the object pages of ``model``."""
    EXTRA.setdefault(model, [])
    if links not in EXTRA[model]:
        EXTRA[model].append(links)


def _desk_for(model, user, exclude: str = ""):
    from certbody.workspace.desks import DESKS

    candidates = sorted(
        (d for d in DESKS.values() if d.model is model and d.key != exclude),
        key=lambda d: (d.order, d.key),
    )
    for desk in candidates:
        if policy.allowed(user, desk.permission):
            return desk
    return None


def _label(model, obj) -> str:
    return f"{str(model._meta.verbose_name).capitalize()}: {obj}"


def crosslinks(obj, user, *, desk_key: str = "") -> list[tuple[str, str]]:
    """``[(label, url)]`` for ``obj``'s page on desk ``desk_key`` as seen by ``user``: the
    objects it refers to (and one step further through ``THROUGH``), then the objects
    referring to it (``PER_RELATION`` each, newest first), then the apps' ``EXTRA`` links."""
    links: list[tuple[str, str]] = []
    seen: set[tuple[type, int]] = {(type(obj), obj.pk)}

    def add(target):
        if not isinstance(target, models.Model) or target.pk is None:
            return
        key = (type(target), target.pk)
        if key in seen:
            return
        seen.add(key)
        desk = _desk_for(type(target), user)
        if desk is not None:
            links.append((_label(type(target), target), desk.object_url(target)))

    for field in obj._meta.get_fields():
        if field.name in SKIPPED or not field.is_relation or field.many_to_many:
            continue
        if field.concrete and (field.many_to_one or field.one_to_one):
            if _desk_for(field.related_model, user) is None:
                continue
            target = getattr(obj, field.name, None)
            add(target)
            further = THROUGH.get(field.name)
            if target is not None and further and hasattr(target, further):
                add(getattr(target, further, None))
        elif field.auto_created and field.one_to_one:
            if _desk_for(field.related_model, user) is None:
                continue
            with contextlib.suppress(ObjectDoesNotExist):
                add(getattr(obj, field.get_accessor_name()))
        elif field.auto_created and field.one_to_many:
            if _desk_for(field.related_model, user) is None:
                continue
            manager = getattr(obj, field.get_accessor_name(), None)
            if manager is None:
                continue
            for target in manager.order_by("-pk")[:PER_RELATION]:
                add(target)
    for extra in EXTRA.get(type(obj), []):
        links.extend(extra(obj, user))
    return links
