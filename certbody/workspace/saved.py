"""Saved filters of the workspace lists (issue #14): a staff member names the filters of a list
(its query string) and opens the list with them again from the list's page. Each person sees,
applies and deletes only their own."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.utils.translation import gettext

from certbody.lifecycle import RuleViolation
from certbody.models import SavedFilter

# Parameters that are not filters: the page shown, the page size, a download.
NOT_FILTERS = {"page", "per_page", "export"}
MAX_QUERY = SavedFilter._meta.get_field("query").max_length
MAX_NAME = SavedFilter._meta.get_field("name").max_length


def filter_query(query: str) -> str:
    """``query`` (a list's query string) without empty values and the parameters that are not
    filters (``NOT_FILTERS``), e.g. ``"state=open&page=3&q="`` → ``"state=open"``."""
    pairs = [
        (key, value)
        for key, value in parse_qsl(query or "", keep_blank_values=False)
        if key not in NOT_FILTERS
    ]
    return urlencode(pairs)


def saved_filters(user, desk_key: str):
    """The filters ``user`` saved for the list ``desk_key``, by name (a queryset)."""
    if not getattr(user, "pk", None):
        return SavedFilter.objects.none()
    return SavedFilter.objects.filter(user_id=user.pk, desk=desk_key)


def saved_filter_save(*, actor, desk_key: str, name: str, query: str) -> SavedFilter:
    """Save the list ``desk_key``'s filters ``query`` (a query string) under ``name`` for
    ``actor``; a filter of the same name is replaced. Raises ``RuleViolation`` for an empty or
    too long name, no filters, or a query over ``MAX_QUERY`` characters."""
    name = (name or "").strip()
    if not name:
        raise RuleViolation(gettext("Give the filter a name."))
    if len(name) > MAX_NAME:
        raise RuleViolation(gettext("The name is too long."))
    query = filter_query(query)
    if not query:
        raise RuleViolation(gettext("Choose some filters before saving them."))
    if len(query) > MAX_QUERY:
        raise RuleViolation(gettext("These filters are too long to save."))
    with transaction.atomic():
        saved, _created = SavedFilter.objects.select_for_update().update_or_create(
            user=actor, desk=desk_key, name=name, defaults={"query": query}
        )
    return saved


def saved_filter_delete(*, actor, desk_key: str, pk: int) -> bool:
    """Delete ``actor``'s saved filter ``pk`` of the list ``desk_key``; False when there is no
    such filter of theirs (someone else's is never touched)."""
    with transaction.atomic():
        deleted, _rows = SavedFilter.objects.filter(pk=pk, user_id=actor.pk, desk=desk_key).delete()
    return bool(deleted)
