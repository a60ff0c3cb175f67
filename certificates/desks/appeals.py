"""Appeals and complaints (004 §8; 001 §10)."""

import django_filters
import django_tables2 as tables
from django import forms as django_forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody.badges import state_badge
from certbody.masking import can_see_personal_data, mask_phone
from certbody.workspace import Action, BulkAction, Create, Desk, register
from certbody.workspace.tables import (
    BaseTable,
    ObjectLinkColumn,
    SearchFilter,
    StateColumn,
)
from certificates import forms, services
from certificates.models import Appeal


class AppealTable(BaseTable):
    reference = ObjectLinkColumn("appeals", verbose_name=_("reference"))
    kind = tables.Column(verbose_name=_("kind"))
    subject = tables.Column(verbose_name=_("subject"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    received_on = tables.DateColumn(verbose_name=_("received on"), format="Y-m-d")
    due_on = tables.DateColumn(verbose_name=_("written result due"), format="Y-m-d")
    state = StateColumn(verbose_name=_("state"))
    handler = tables.Column(verbose_name=_("handler"))
    overdue = tables.BooleanColumn(
        accessor="is_overdue", orderable=False, verbose_name=_("overdue"), yesno="✔,"
    )

    class Meta:
        model = Appeal
        fields = (
            "reference",
            "kind",
            "subject",
            "organization",
            "received_on",
            "due_on",
            "state",
            "handler",
            "overdue",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("due_on",)


class AppealFilter(SearchFilter):
    search_fields = ("reference", "subject", "organization__name", "about_organization")
    kind = django_filters.ChoiceFilter(choices=Appeal.Kind.choices, label=_("kind"))
    state = django_filters.ChoiceFilter(choices=Appeal.State.choices, label=_("state"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))

    mine = django_filters.BooleanFilter(
        method="filter_mine", label=_("assigned to me"), widget=django_forms.CheckboxInput
    )

    class Meta:
        model = Appeal
        fields = ["q", "kind", "state", "overdue", "mine"]

    def filter_mine(self, queryset, name, value):
        if not value or self.request is None:
            return queryset
        return queryset.filter(handler=self.request.user)

    def filter_overdue(self, queryset, name, value):
        late = Q(decided_on__isnull=True, due_on__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(late) if value else queryset.exclude(late)


def _appeal_summary(appeal, user):
    contact = appeal.contact if can_see_personal_data(user) else mask_phone(appeal.contact)
    return [
        (_("kind"), appeal.get_kind_display()),
        (_("channel"), appeal.get_channel_display()),
        (_("state"), state_badge(appeal)),
        (_("from organisation"), appeal.organization),
        (_("name"), appeal.name),
        (_("contact"), contact),
        (_("about the organisation"), appeal.about_organization),
        (_("subject"), appeal.subject),
        (_("description"), appeal.description),
        (_("received on"), appeal.received_on),
        (_("acknowledged on"), appeal.acknowledged_on),
        (_("written result due"), appeal.due_on),
        (_("overdue"), _("yes") if appeal.is_overdue else _("no")),
        (_("handler"), appeal.handler),
        (_("outcome"), appeal.get_outcome_display()),
        (_("written decision"), appeal.decision_text),
        (_("decided on"), appeal.decided_on),
    ]


def _appeal_sections(appeal, request):
    return {"appeal": appeal, "documents": list(appeal.documents.all())}


def _appeal_in(*states):
    return lambda appeal: appeal.state in states


register(
    Desk(
        key="appeals",
        model=Appeal,
        title=_("Appeals and complaints"),
        permission="certificates.view_desk",
        queryset=lambda request: Appeal.objects.select_related(
            "organization", "handler", "certificate", "decision__audit__programme__organization"
        ),
        table_class=AppealTable,
        filterset_class=AppealFilter,
        summary=_appeal_summary,
        sections_template="certificates/desk_appeal.html",
        sections_context=_appeal_sections,
        order=60,
        needs_action=lambda: ~Q(state=Appeal.State.DECIDED),
        newest="received_on",
        date_filters=(("received_on", _("received on")), ("due_on", _("written result due"))),
        bulk_actions=[
            BulkAction(
                "assign",
                _("Assign a handler"),
                "certificates.assign_appeal",
                services.appeal_assign,
                "appeal",
                form_class=forms.AppealAssignForm,
                available=_appeal_in(Appeal.State.ACKNOWLEDGED, Appeal.State.UNDER_INVESTIGATION),
                confirm=_(
                    "The handler must not have been involved in the matter; a case where they "
                    "were is refused and listed (004 §8.3)."
                ),
            )
        ],
        create=Create(
            _("Record an appeal or complaint"),
            services.appeal_receive,
            "certificates.handle_appeal",
            forms.StaffAppealForm,
        ),
        actions=[
            Action(
                "acknowledge",
                _("Acknowledge receipt"),
                services.appeal_acknowledge,
                "certificates.handle_appeal",
                "appeal",
                form_class=forms.AppealAcknowledgeForm,
                available=_appeal_in(Appeal.State.RECEIVED),
            ),
            Action(
                "assign",
                _("Assign a handler"),
                services.appeal_assign,
                "certificates.assign_appeal",
                "appeal",
                form_class=forms.AppealAssignForm,
                available=_appeal_in(Appeal.State.ACKNOWLEDGED, Appeal.State.UNDER_INVESTIGATION),
            ),
            Action(
                "decide",
                _("Decide in writing"),
                services.appeal_decide,
                "certificates.decide_appeal",
                "appeal",
                form_class=forms.AppealDecideForm,
                available=_appeal_in(Appeal.State.UNDER_INVESTIGATION),
            ),
        ],
    )
)
