"""Workspace desks for applications (certbody.workspace): the reference pattern for every app.

Lists keep a constant number of queries (``select_related`` for every column shown); actions
call the services of ``applications.services`` through the confirm forms of
``applications.forms`` and are offered by the permissions of ``certbody.policy``.
"""

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import can_proceed

from applications import forms, services
from applications.models import Application
from certbody.workspace import Action, Desk, register
from certbody.workspace_tables import BaseTable, LocalDateTimeColumn, ObjectLinkColumn


class ApplicationTable(BaseTable):
    reference = ObjectLinkColumn("applications", verbose_name=_("reference"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    kind = tables.Column(verbose_name=_("kind"))
    state = tables.Column(verbose_name=_("state"))
    headcount = tables.Column(verbose_name=_("headcount"))
    submitted_at = LocalDateTimeColumn(verbose_name=_("submitted at"))

    class Meta:
        model = Application
        fields = ("reference", "organization", "kind", "state", "headcount", "submitted_at")
        attrs = BaseTable.Meta.attrs
        order_by = ("-submitted_at",)


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    state = django_filters.ChoiceFilter(choices=Application.State.choices, label=_("state"))
    kind = django_filters.ChoiceFilter(choices=Application.Kind.choices, label=_("kind"))

    class Meta:
        model = Application
        fields = ["q", "state", "kind"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(organization__name__icontains=value)
            | Q(organization__uscc__icontains=value)
        )


def _summary(application: Application, user):
    return [
        (_("organisation"), application.organization.name),
        (_("kind"), application.get_kind_display()),
        (_("rule scheme"), application.get_scheme_display()),
        (_("state"), application.get_state_display()),
        (_("requested scope"), application.scope_text),
        (_("requested star grade"), application.get_requested_grade_display()),
        (_("headcount"), application.headcount),
        (_("submitted at"), application.submitted_at),
        (_("reasons for rejection"), application.rejection_reason),
    ]


def _state_allows(transition: str):
    return lambda application: can_proceed(getattr(application, transition))


def _has_no_contract(application: Application) -> bool:
    return application.state == Application.State.ACCEPTED and not hasattr(application, "contract")


register(
    Desk(
        key="applications",
        model=Application,
        title=_("Applications"),
        permission="applications.view_desk",
        queryset=lambda request: Application.objects.select_related("organization"),
        table_class=ApplicationTable,
        filterset_class=ApplicationFilter,
        summary=_summary,
        order=10,
        actions=[
            Action(
                "submit",
                _("Submit"),
                services.application_submit,
                "applications.review_application",
                "application",
                available=_state_allows("submit"),
            ),
            Action(
                "start-review",
                _("Start review"),
                services.application_start_review,
                "applications.review_application",
                "application",
                available=_state_allows("start_review"),
            ),
            Action(
                "record-review",
                _("Record the review"),
                forms.review_record,
                "applications.review_application",
                "application",
                form_class=forms.ReviewForm,
                available=lambda a: a.state == Application.State.UNDER_REVIEW,
            ),
            Action(
                "accept",
                _("Accept"),
                services.application_accept,
                "applications.review_application",
                "application",
                available=_state_allows("accept"),
            ),
            Action(
                "reject",
                _("Reject"),
                services.application_reject,
                "applications.review_application",
                "application",
                form_class=forms.RejectForm,
                available=_state_allows("reject"),
                danger=True,
            ),
            Action(
                "withdraw",
                pgettext_lazy("application", "Withdraw"),
                services.application_withdraw,
                "applications.review_application",
                "application",
                available=_state_allows("withdraw"),
                danger=True,
            ),
            Action(
                "create-contract",
                _("Draft the contract"),
                services.contract_create,
                "applications.manage_contract",
                "application",
                form_class=forms.ContractForm,
                available=_has_no_contract,
            ),
        ],
    )
)
