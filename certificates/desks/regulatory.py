"""Regulatory events at clients (004 §5.9.2, §9.5; 002 §4.3.8.2; 003 §4.6)."""

import django_filters
import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from certbody.workspace import Create, Desk, register
from certbody.workspace.tables import (
    BaseTable,
    ObjectLinkColumn,
    SearchFilter,
)
from certificates import forms, services
from certificates.models import RegulatoryEvent


class RegulatoryEventTable(BaseTable):
    occurred_on = ObjectLinkColumn("regulatory-events", verbose_name=_("occurred on"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    certificate = tables.Column(accessor="certificate__number", verbose_name=_("certificate"))
    kind = tables.Column(verbose_name=_("kind"))
    level = tables.Column(verbose_name=_("level"))
    result = tables.Column(verbose_name=_("result"))
    source = tables.Column(verbose_name=_("source"))

    class Meta:
        model = RegulatoryEvent
        fields = ("occurred_on", "organization", "certificate", "kind", "level", "result", "source")
        attrs = BaseTable.Meta.attrs
        order_by = ("-occurred_on",)

    def render_occurred_on(self, value):
        return value.isoformat()


class RegulatoryEventFilter(SearchFilter):
    search_fields = ("organization__name", "certificate__number", "source")
    kind = django_filters.ChoiceFilter(choices=RegulatoryEvent.Kind.choices, label=_("kind"))
    level = django_filters.ChoiceFilter(choices=RegulatoryEvent.Level.choices, label=_("level"))
    result = django_filters.ChoiceFilter(choices=RegulatoryEvent.Result.choices, label=_("result"))

    class Meta:
        model = RegulatoryEvent
        fields = ["q", "kind", "level", "result"]


def _event_summary(event, user):
    return [
        (_("organisation"), event.organization.name),
        (_("certificate"), event.certificate.number if event.certificate_id else ""),
        (_("kind"), event.get_kind_display()),
        (_("occurred on"), event.occurred_on),
        (_("notified on"), event.notified_on),
        (_("source"), event.source),
        (_("description"), event.description),
        (_("level"), event.get_level_display()),
        (_("result"), event.get_result_display()),
        (_("written nonconformity"), _("yes") if event.written_finding else _("no")),
        (_("client failed to report"), _("yes") if event.client_failed_to_report else _("no")),
        (_("major accident"), _("yes") if event.major else _("no")),
        (_("short-notice audit"), event.special_audit),
    ]


def _event_sections(event, request):
    return {
        "regulatory_event": event,
        "proposals": list(event.proposals.select_related("certificate")),
        "obligations": list(event.reporting_obligations.all()),
    }


register(
    Desk(
        key="regulatory-events",
        model=RegulatoryEvent,
        title=_("Regulatory events"),
        permission="certificates.view_desk",
        queryset=lambda request: RegulatoryEvent.objects.select_related(
            "organization", "certificate", "special_audit__programme__organization"
        ),
        table_class=RegulatoryEventTable,
        filterset_class=RegulatoryEventFilter,
        summary=_event_summary,
        sections_template="certificates/desk_regulatory_event.html",
        sections_context=_event_sections,
        order=62,
        create=Create(
            _("Record a regulatory event"),
            services.regulatory_event_record,
            "certificates.record_regulatory_event",
            forms.RegulatoryEventCreateForm,
        ),
    )
)
