"""Columns shared by the workspace tables (django-tables2)."""

from datetime import date

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from django_tables2.utils import A


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


class SearchFilter(django_filters.FilterSet):
    """A FilterSet with a free-text ``q`` over ``search_fields`` (``icontains`` on each)."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label=_("Search"))

    def search(self, queryset, name, value):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)
