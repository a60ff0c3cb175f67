"""Workspace desk of the reports the CB owes CNAS (002 §4.3.7, §4.3.8.1): each obligation with
its due date and submission, recorded through ``reporting.obligations`` and marked submitted
with its reference. Registered from ``ReportingConfig.ready``."""

from datetime import date

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody.workspace import Action, Create, Desk, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn, SearchFilter
from reporting import forms, obligations
from reporting.models import AccreditationObligation

Kind = AccreditationObligation.Kind


def accreditation_obligation_create(
    *,
    actor,
    kind: str,
    subject: str = "",
    occurred_on: date | None = None,
    year: int | None = None,
    note: str = "",
) -> AccreditationObligation:
    """``AccreditationObligationForm``'s fields → ``obligations.accreditation_change_record``
    (a major change) or ``obligations.accreditation_plan_open`` (the annual plan)."""
    if kind == Kind.ANNUAL_PLAN:
        return obligations.accreditation_plan_open(actor=actor, year=year)
    return obligations.accreditation_change_record(
        actor=actor, subject=subject, occurred_on=occurred_on, note=note
    )


class AccreditationObligationTable(BaseTable):
    due_on = ObjectLinkColumn("cnas-obligations", verbose_name=_("due on"))
    kind = tables.Column(verbose_name=_("kind"))
    subject = tables.Column(verbose_name=_("subject"))
    occurred_on = tables.DateColumn(verbose_name=_("decided on"), format="Y-m-d")
    year = tables.Column(verbose_name=_("plan year"))
    rule = tables.Column(verbose_name=_("rule"))
    overdue = tables.Column(
        empty_values=(), accessor="pk", orderable=False, verbose_name=_("overdue")
    )
    submitted_on = tables.DateColumn(verbose_name=_("submitted on"), format="Y-m-d")
    reference = tables.Column(verbose_name=_("reference"))

    class Meta:
        model = AccreditationObligation
        fields = (
            "due_on",
            "kind",
            "subject",
            "occurred_on",
            "year",
            "rule",
            "overdue",
            "submitted_on",
            "reference",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("due_on",)

    def render_due_on(self, value):
        return value.isoformat()

    def render_overdue(self, record):
        return "✔" if record.is_overdue() else ""

    def value_overdue(self, record):
        return "✔" if record.is_overdue() else ""


class AccreditationObligationFilter(SearchFilter):
    search_fields = ("subject", "reference", "note")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label=_("kind"))
    submitted = django_filters.BooleanFilter(
        field_name="submitted_on", lookup_expr="isnull", exclude=True, label=_("submitted")
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))

    class Meta:
        model = AccreditationObligation
        fields = ["q", "kind", "submitted", "overdue"]

    def filter_overdue(self, queryset, name, value):
        late = Q(submitted_on__isnull=True, due_on__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(late) if value else queryset.exclude(late)


def _summary(obligation: AccreditationObligation, user):
    return [
        (_("kind"), obligation.get_kind_display()),
        (_("subject"), obligation.subject),
        (_("decided on"), obligation.occurred_on or ""),
        (_("plan year"), obligation.year or ""),
        (_("rule"), obligation.rule),
        (_("due on"), obligation.due_on),
        (_("overdue"), _("yes") if obligation.is_overdue() else _("no")),
        (_("submitted on"), obligation.submitted_on or ""),
        (_("submitted by"), obligation.submitted_by or ""),
        (_("reference"), obligation.reference),
        (_("note"), obligation.note),
        (_("recorded by"), obligation.recorded_by),
    ]


register(
    Desk(
        key="cnas-obligations",
        model=AccreditationObligation,
        title=_("Reports owed to CNAS"),
        permission="reporting.view_desk",
        queryset=lambda request: AccreditationObligation.objects.select_related(
            "submitted_by", "recorded_by"
        ),
        table_class=AccreditationObligationTable,
        filterset_class=AccreditationObligationFilter,
        summary=_summary,
        order=93,
        create=Create(
            _("Record a report owed to CNAS"),
            accreditation_obligation_create,
            "reporting.record_accreditation_obligation",
            forms.AccreditationObligationForm,
        ),
        actions=[
            Action(
                "submit",
                _("Mark submitted to CNAS"),
                obligations.accreditation_obligation_submit,
                "reporting.submit_accreditation_obligation",
                "obligation",
                form_class=forms.AccreditationSubmitForm,
                available=lambda obligation: obligation.submitted_on is None,
            )
        ],
    )
)
