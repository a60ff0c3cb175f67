"""Columns shared by the workspace tables (django-tables2)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone


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
    """Workspace table defaults: the site's list style and a stable test hook."""

    class Meta:
        attrs = {"class": "list", "data-testid": "list-table"}
        template_name = "django_tables2/table.html"
