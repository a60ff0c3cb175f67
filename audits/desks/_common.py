"""Small helpers shared by the audits desks."""

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audits.models import (
    Audit,
)

OPEN_AUDIT_STATES = (Audit.State.PLANNED, Audit.State.IN_PROGRESS)


def _link(desk_key: str, obj, text=None):
    if obj is None:
        return None
    url = reverse("workspace:object", args=[desk_key, obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def _yes_no(value) -> str:
    if value is None:
        return ""
    return str(_("yes") if value else _("no"))
