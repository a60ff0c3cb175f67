"""Clients' requests from the portal."""

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody.badges import state_badge
from certbody.workspace import Action, Desk, register
from certbody.workspace.tables import (
    BaseTable,
    LocalDateTimeColumn,
    ObjectLinkColumn,
    SearchFilter,
    StateColumn,
)
from certificates import forms, services
from certificates.models import ClientRequest


class ClientRequestTable(BaseTable):
    kind = ObjectLinkColumn("requests", verbose_name=_("request"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    certificate = tables.Column(accessor="certificate__number", verbose_name=_("certificate"))
    submitted_at = LocalDateTimeColumn(verbose_name=_("submitted at"))
    state = StateColumn(verbose_name=_("state"))
    handled_by = tables.Column(verbose_name=_("handled by"))
    handled_at = LocalDateTimeColumn(verbose_name=_("handled at"))

    class Meta:
        model = ClientRequest
        fields = (
            "kind",
            "organization",
            "certificate",
            "submitted_at",
            "state",
            "handled_by",
            "handled_at",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("-submitted_at",)


class ClientRequestFilter(SearchFilter):
    search_fields = ("organization__name", "certificate__number", "details")
    state = django_filters.ChoiceFilter(choices=ClientRequest.State.choices, label=_("state"))
    kind = django_filters.ChoiceFilter(choices=ClientRequest.Kind.choices, label=_("request"))

    class Meta:
        model = ClientRequest
        fields = ["q", "state", "kind"]


def _request_summary(client_request, user):
    certificate = client_request.certificate
    return [
        (_("organisation"), client_request.organization.name),
        (_("request"), client_request.get_kind_display()),
        (
            _("certificate"),
            f"{certificate.number}（{certificate.get_status_display()}）" if certificate else "",
        ),
        (_("details"), client_request.details),
        (_("submitted by"), client_request.submitted_by),
        (_("submitted at"), timezone.localtime(client_request.submitted_at)),
        (_("state"), state_badge(client_request)),
        (_("handled by"), client_request.handled_by),
        (
            _("handled at"),
            timezone.localtime(client_request.handled_at) if client_request.handled_at else "",
        ),
        (_("outcome"), client_request.outcome_note),
    ]


def _request_sections(client_request, request):
    return {"client_request": client_request}


register(
    Desk(
        key="requests",
        model=ClientRequest,
        title=_("Client requests"),
        permission="certificates.view_desk",
        queryset=lambda request: ClientRequest.objects.select_related(
            "organization", "certificate", "submitted_by", "handled_by"
        ),
        table_class=ClientRequestTable,
        filterset_class=ClientRequestFilter,
        summary=_request_summary,
        sections_template="certificates/desk_client_request.html",
        sections_context=_request_sections,
        order=65,
        needs_action=lambda: Q(state=ClientRequest.State.RECEIVED),
        newest="submitted_at",
        date_filters=(("submitted_at", _("submitted at")),),
        actions=[
            Action(
                "handle",
                _("Answer the request"),
                services.client_request_handle,
                "certificates.handle_client_request",
                "client_request",
                form_class=forms.ClientRequestHandleForm,
                available=lambda r: r.state == ClientRequest.State.RECEIVED,
            )
        ],
    )
)
