"""The workspace lists: columns and filters shared by the desks' tables (django-tables2,
django-filter), validated sorting and paging, and the CSV/XLSX export of a list."""

import weakref
from datetime import date

import django_filters
import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import F, OrderBy, Q, QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_tables2 import utils as tables_utils
from django_tables2.rows import BoundRows
from django_tables2.utils import A

from certbody import badges, spreadsheets


def cache_render_signatures() -> None:
    """Remember django-tables2's reading of each render function's arguments (issue #16).

    ``django_tables2.utils.call_with_appropriate`` asks ``inspect.signature`` for every cell it
    renders: a 25-row page of 8 columns did it 200 times, about an eighth of the audits desk's
    CPU. A function's arguments never change, so the answer is kept per function (and per bound
    or not: binding drops ``self``); other callables are asked each time as before. Called once
    from ``CertbodyConfig.ready``; calling it again changes nothing."""
    original = getattr(tables_utils.signature, "__wrapped__", tables_utils.signature)
    # Weak keys: a table built per request (with its own lambdas) does not stay in memory.
    known = {True: weakref.WeakKeyDictionary(), False: weakref.WeakKeyDictionary()}

    def signature(fn):
        function = getattr(fn, "__func__", fn)
        if not hasattr(function, "__code__"):
            return original(fn)
        answers = known[function is not fn]
        found = answers.get(function)
        if found is None:
            found = answers[function] = original(fn)
        return found

    signature.__wrapped__ = original
    tables_utils.signature = signature


class ObjectLinkColumn(tables.Column):
    """A column whose text links to the row's page on the desk ``desk_key``."""

    def __init__(self, desk_key: str, **kwargs):
        kwargs.setdefault(
            "linkify", lambda record: reverse("workspace:object", args=[desk_key, record.pk])
        )
        super().__init__(**kwargs)


class LocalDateTimeColumn(tables.DateTimeColumn):
    """A timestamp shown and exported in local time to the minute."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "Y-m-d H:i")
        super().__init__(**kwargs)

    def value(self, value):
        if not value:
            return ""
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


class StateColumn(tables.Column):
    """A state or status shown as its badge (colour and icon, ``certbody.badges``) and
    exported as its label."""

    def render(self, value, record, bound_column):
        field = bound_column.accessor.split(".")[-1]
        return badges.badge(
            value,
            getattr(record, f"get_{field}_display")(),
            model_name=record._meta.model_name,
        )

    def value(self, value, record, bound_column):
        field = bound_column.accessor.split(".")[-1]
        return getattr(record, f"get_{field}_display")()


class SelectColumn(tables.CheckBoxColumn):
    """The tick box of each row for the list's bulk actions (``certbody.workspace.bulk``):
    inputs named ``selected`` tied to the page's form ``bulk-form``; the header box ticks every
    row of the page (``certbody/static/certbody/bulk.js``). Never exported."""

    def __init__(self, **kwargs):
        kwargs.setdefault("accessor", "pk")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("exclude_from_export", True)
        kwargs.setdefault(
            "attrs",
            {
                "input": {
                    "form": "bulk-form",
                    "class": "bulk-select",
                    # each box has its own accessible name (axe: a label per input); the
                    # record's id, not its name, which the row's own link already reads
                    "aria-label": lambda record: format_lazy("{} {}", _("Select row"), record.pk),
                },
                "th__input": {
                    "class": "bulk-select-all",
                    "aria-label": _("Select every row of this page"),
                },
            },
        )
        super().__init__(**kwargs)


class BaseTable(tables.Table):
    """Workspace table defaults: the site's list style and a stable test hook.

    Exports (``as_values``) carry date and date-time columns as the values themselves, not the
    text the page shows, so that a spreadsheet gets date cells (``certbody.spreadsheets``).
    """

    def as_values(self, exclude_columns=None):
        exclude_columns = exclude_columns or ()
        columns = [
            column
            for column in self.columns.iterall()
            if not (column.column.exclude_from_export or column.name in exclude_columns)
        ]
        yield [force_str(column.header, strings_only=True) for column in columns]
        for row in self.rows:
            yield [_export_value(row, column) for column in columns]

    class Meta:
        attrs = {"class": "list", "data-testid": "list-table"}
        template_name = "django_tables2/table.html"


def _export_value(row, column):
    if isinstance(column.column, tables.DateColumn | tables.DateTimeColumn):
        value = A(column.accessor).resolve(row.record, quiet=True)
        return value if isinstance(value, date) else None
    return force_str(row.get_cell_value(column.name), strings_only=True)


def text_search(value: str, fields, *, ascii_fields=()) -> Q:
    """Rows where any of ``fields`` (lookup paths) contains ``value``, ignoring case.

    Cheaper where it changes nothing (issue #16): a term without upper- or lower-case letters
    (Chinese, digits) is matched with a plain ``contains`` (PostgreSQL: ``LIKE`` instead of
    ``UPPER(column) LIKE UPPER(term)`` on every row, the same rows); ``ascii_fields`` (those
    of ``fields`` that hold only ASCII, e.g. numbers and USCCs) are left out for a term with
    any other character, which they cannot contain; with no field left nothing matches."""
    lookup = "contains" if value.upper() == value.lower() else "icontains"
    condition = Q()
    for field in fields:
        if field in ascii_fields and not value.isascii():
            continue
        condition |= Q(**{f"{field}__{lookup}": value})
    return condition if condition else Q(pk__in=[])


class SearchFilter(django_filters.FilterSet):
    """A FilterSet with a free-text ``q`` over ``search_fields`` (``text_search``: any of them
    contains it, ignoring case); ``ascii_search_fields`` are those holding only ASCII."""

    search_fields: tuple[str, ...] = ()
    ascii_search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label=_("Search"))

    def search(self, queryset, name, value):
        return queryset.filter(
            text_search(value, self.search_fields, ascii_fields=self.ascii_search_fields)
        )


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


def _unique_last_order(queryset: QuerySet) -> bool:
    """Whether ``queryset``'s explicit ordering ends with the primary key or a unique field
    of its model, so that the order is total and reading it backwards is its exact mirror."""
    terms = list(queryset.query.order_by)
    if not terms:
        return False
    last = terms[-1]
    if isinstance(last, OrderBy) and isinstance(last.expression, F):
        last = last.expression.name
    if not isinstance(last, str):
        return False
    name = last.lstrip("-")
    if name == "pk":
        return True
    try:
        field = queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(field.primary_key or field.unique)


class TailPaginator(Paginator):
    """Django's paginator over a table's rows that reads a page in the second half of a long
    list backwards: the last page of 100,000 rows is the first 25 of the reversed order
    (``OFFSET 0``) instead of ``OFFSET 99975``, which makes the database walk and drop every
    row before it (issue #16). Only when the order is total (``_unique_last_order``), so the
    page holds exactly the rows the forward read would; otherwise Django's own ``page``."""

    def page(self, number):
        number = self.validate_number(number)
        rows = self.object_list
        data = getattr(getattr(rows, "data", None), "data", None)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if not (isinstance(data, QuerySet) and bottom > self.count // 2):
            return super().page(number)
        if not _unique_last_order(data):
            return super().page(number)
        records = list(data.reverse()[self.count - top : self.count - bottom])[::-1]
        page_rows = BoundRows(records, table=rows.table, pinned_data=rows.pinned_data)
        return self._get_page(page_rows, number, self)


def configure_table(table, request, *, per_page: int = 25, paginate: bool = True) -> None:
    """Sort and paginate a workspace table from the list's query (django-tables2's
    ``RequestConfig``, with every parameter validated): ``sort`` — orderable column names,
    optionally with a leading "-", others ignored; ``per_page`` — 1…``MAX_PER_PAGE``, else the
    default; ``page`` — a positive number, past the end shows the last page."""
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
    # What ``table.paginate`` does, with one count: past the end is the last page.
    table.paginator = TailPaginator(table.rows, per_page)
    table.page = table.paginator.get_page(page)


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
