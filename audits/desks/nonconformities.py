"""The nonconformities desk (004 §5.10)."""

from datetime import date

import django_filters
import django_tables2 as tables
from django import forms as django_forms
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audits import forms, selectors, services
from audits.desks._common import _link, _yes_no
from audits.desks.audits import _kind_label
from audits.models import (
    Nonconformity,
)
from certbody import dates
from certbody.badges import state_badge
from certbody.workspace import Action, BulkAction, Desk, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn, StateColumn


def _overdue(nc: Nonconformity, today: date) -> bool:
    return nc.due_on < today and not nc.is_settled


class NonconformityTable(BaseTable):
    number = ObjectLinkColumn("nonconformities", verbose_name=_("number"))
    audit = tables.Column(
        accessor="audit",
        verbose_name=_("audit"),
        order_by=("audit__due_on",),
        linkify=lambda record: reverse("workspace:object", args=["audits", record.audit_id]),
    )
    organization = tables.Column(
        accessor="audit__programme__organization__name", verbose_name=_("organisation")
    )
    severity = tables.Column(verbose_name=_("severity"))
    state = StateColumn(verbose_name=_("state"))
    due_on = tables.DateColumn(verbose_name=_("due on"))
    overdue = tables.Column(
        empty_values=(), orderable=False, accessor="pk", verbose_name=_("overdue")
    )

    class Meta:
        model = Nonconformity
        fields = ("number", "audit", "organization", "severity", "state", "due_on", "overdue")
        attrs = BaseTable.Meta.attrs
        order_by = ("due_on",)

    def render_number(self, value):
        return f"NC-{value:02d}"

    def render_audit(self, record):
        return _kind_label(record.audit)

    def render_overdue(self, record):
        if _overdue(record, dates.today()):
            return format_html('<span class="badge status-withdrawn">{}</span>', _("overdue"))
        return ""

    def value_overdue(self, record):
        return _yes_no(_overdue(record, dates.today()))


class NonconformityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    state = django_filters.ChoiceFilter(choices=Nonconformity.State.choices, label=_("state"))
    severity = django_filters.ChoiceFilter(
        choices=Nonconformity.Severity.choices, label=_("severity")
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("overdue"), widget=django_forms.CheckboxInput
    )
    unsettled = django_filters.BooleanFilter(
        method="filter_unsettled", label=_("not settled"), widget=django_forms.CheckboxInput
    )
    to_verify = django_filters.BooleanFilter(
        method="filter_to_verify", label=_("to verify by me"), widget=django_forms.CheckboxInput
    )

    class Meta:
        model = Nonconformity
        fields = ["q", "state", "severity", "overdue", "unsettled", "to_verify"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(audit__programme__organization__name__icontains=value)
            | Q(clause__icontains=value)
            | Q(description__icontains=value)
        )

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(selectors.unsettled_q(), due_on__lt=dates.today())

    def filter_unsettled(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(selectors.unsettled_q())

    def filter_to_verify(self, queryset, name, value):
        if not value or self.request is None:
            return queryset
        return queryset.filter(
            state=Nonconformity.State.ANSWERED,
            audit__team__user=self.request.user,
            audit__team__role__in=selectors.AUDITING_ROLES,
        ).distinct()


def _nonconformities(request):
    return Nonconformity.objects.select_related(
        "audit__programme__organization", "raised_by", "verified_at"
    )


def _nc_summary(nc: Nonconformity, user):
    today = dates.today()
    return [
        (_("organisation"), nc.audit.programme.organization.name),
        (_("audit"), _link("audits", nc.audit)),
        (_("severity"), nc.get_severity_display()),
        (_("clause of the criteria"), nc.clause),
        (_("nonconformity"), nc.description),
        (_("objective evidence"), nc.evidence),
        (_("raised by"), nc.raised_by),
        (_("raised on"), nc.raised_on),
        (_("due on"), nc.due_on),
        (_("overdue"), _yes_no(_overdue(nc, today))),
        (_("state"), state_badge(nc)),
        (_("What happens next"), selectors.next_step(nc)),
        (_("closed on"), nc.closed_on),
        (_("verified at audit"), _link("audits", nc.verified_at)),
    ]


def _nc_sections(nc: Nonconformity, request) -> dict:
    return {
        "responses": list(
            nc.responses.select_related("submitted_by", "reviewed_by").prefetch_related(
                "attachments"
            )
        )
    }


def _nc_in(*states):
    return lambda nc: nc.state in states


register(
    Desk(
        key="nonconformities",
        model=Nonconformity,
        title=_("Nonconformities"),
        permission="audits.view_desk",
        queryset=_nonconformities,
        table_class=NonconformityTable,
        filterset_class=NonconformityFilter,
        summary=_nc_summary,
        sections_template="audits/desk_nonconformity.html",
        sections_context=_nc_sections,
        order=22,
        needs_action=selectors.unsettled_q,
        newest="raised_on",
        date_filters=(("due_on", _("due on")), ("raised_on", _("raised on"))),
        bulk_actions=[
            BulkAction(
                "remind",
                _("Remind the client to answer (e-mail)"),
                "audits.remind_nonconformity",
                services.nonconformity_remind_client,
                "nonconformity",
                available=_nc_in(Nonconformity.State.OPEN, Nonconformity.State.REJECTED),
                confirm=_(
                    "Each organisation's contact and users get an e-mail saying which "
                    "nonconformity awaits their answer and by when (004 §5.10.1)."
                ),
            )
        ],
        actions=[
            Action(
                "accept",
                _("Accept the latest answer (close, or accept the plan)"),
                services.nonconformity_review_pending,
                "audits.verify_nonconformity",
                "nonconformity",
                form_class=forms.NonconformityReviewForm,
                available=_nc_in(Nonconformity.State.ANSWERED),
                extra=lambda nc, user: {"accepted": True},
            ),
            Action(
                "reject",
                _("Reject the latest answer"),
                services.nonconformity_review_pending,
                "audits.verify_nonconformity",
                "nonconformity",
                form_class=forms.NonconformityRejectForm,
                available=_nc_in(Nonconformity.State.ANSWERED),
                extra=lambda nc, user: {"accepted": False},
                danger=True,
            ),
            Action(
                "verify-plan",
                _("Verify the corrective action plan at the next audit"),
                services.nonconformity_verify_plan,
                "audits.verify_nonconformity_plan",
                "nonconformity",
                form_class=forms.NonconformityVerifyPlanForm,
                available=_nc_in(Nonconformity.State.PLAN_ACCEPTED),
            ),
        ],
    )
)
