"""The staff workspace: one list page, one object page and one confirm page per transition,
for every kind of record, declared as a ``Desk`` by the app that owns the records.

An app describes its desks in ``<app>/desks.py`` (imported from its ``AppConfig.ready``):

- ``queryset(request)`` with the ``select_related``/``prefetch_related`` that keep a list page at
  a constant number of queries whatever the number of rows;
- a django-tables2 ``Table`` (columns, sorting) and a django-filter ``FilterSet`` (search and
  filters); the list exports the filtered rows to CSV or XLSX (``certbody.spreadsheets``);
- the object page's summary fields and related sections (a template included by the page);
- ``BulkAction``s (``bulk``): one action repeated over the rows ticked on the list, each row
  through the service and the matrix, plus "export selected" on every desk; the default order
  (``needs_action`` first, ``newest`` first), date-range filters (``date_filters``) and the
  user's saved filters (``saved``) of every list;
- ``Action``s: each names its service, its confirm form and its permission in
  ``certbody.policy.MATRIX``; the page offers an action only when the user holds its permission
  and the object's state allows it, and the action URL refuses a forged request with 403.

Views stay thin (style.md): check access, bind the form, call one service, turn its
``RuleViolation`` into a form error.

The package: ``desks`` (the declarations and their registry), ``views`` and ``urls`` (the
generic pages, mounted at ``/staff/``), ``tables`` (shared columns, paging, exports),
``history`` (the object page's history) and ``templatetags`` (the ``{% load workspace %}``
library). The names the apps use are importable from ``certbody.workspace`` itself.
"""

from certbody.workspace.bulk import BulkAction
from certbody.workspace.desks import (
    DESKS,
    GROUPS,
    Action,
    ActionForm,
    Create,
    Desk,
    add_filters,
    back_to,
    build_form,
    desks_for,
    get_desk,
    nav_groups,
    object_url_for,
    register,
    require,
    run_service,
)
from certbody.workspace.history import (
    HISTORY_KINDS,
    SYSTEM_ACTOR,
    HistoryRow,
    history_for,
    history_rows,
    merged_history,
)
from certbody.workspace.tables import MAX_PER_PAGE, configure_table, export_response, int_param

__all__ = [
    "DESKS",
    "GROUPS",
    "HISTORY_KINDS",
    "MAX_PER_PAGE",
    "SYSTEM_ACTOR",
    "Action",
    "ActionForm",
    "BulkAction",
    "Create",
    "Desk",
    "HistoryRow",
    "add_filters",
    "back_to",
    "build_form",
    "configure_table",
    "desks_for",
    "nav_groups",
    "export_response",
    "get_desk",
    "history_for",
    "history_rows",
    "int_param",
    "merged_history",
    "object_url_for",
    "register",
    "require",
    "run_service",
]
