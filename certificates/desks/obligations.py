"""Reports owed after a major accident (002 §4.3.8.2; 004 §9.5)."""

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody.workspace import Action, Desk, register
from certbody.workspace.tables import (
    BaseTable,
    ObjectLinkColumn,
    SearchFilter,
)
from certificates import forms, services
from certificates.models import ReportingObligation


class ReportingObligationTable(BaseTable):
    due_on = ObjectLinkColumn("obligations", verbose_name=_("due on"))
    recipient = tables.Column(verbose_name=_("recipient"))
    subject = tables.Column(verbose_name=_("subject"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    certificate = tables.Column(accessor="certificate__number", verbose_name=_("certificate"))
    rule = tables.Column(verbose_name=_("rule"))
    provisional = tables.BooleanColumn(verbose_name=_("deadline provisional"), yesno="✔,")
    done_on = tables.DateColumn(verbose_name=_("reported on"), format="Y-m-d")
    overdue = tables.Column(
        empty_values=(), accessor="pk", orderable=False, verbose_name=_("overdue")
    )

    class Meta:
        model = ReportingObligation
        fields = (
            "due_on",
            "recipient",
            "subject",
            "organization",
            "certificate",
            "rule",
            "provisional",
            "done_on",
            "overdue",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("due_on",)

    def render_due_on(self, value):
        return value.isoformat()

    def render_overdue(self, record):
        return "✔" if _obligation_overdue(record) else ""

    def value_overdue(self, record):
        return "✔" if _obligation_overdue(record) else ""


def _obligation_overdue(obligation) -> bool:
    return obligation.done_on is None and obligation.due_on < timezone.localdate()


class ReportingObligationFilter(SearchFilter):
    search_fields = ("subject", "organization__name", "certificate__number")
    recipient = django_filters.ChoiceFilter(
        choices=ReportingObligation.Recipient.choices, label=_("recipient")
    )
    reported = django_filters.BooleanFilter(
        field_name="done_on", lookup_expr="isnull", exclude=True, label=_("reported")
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))

    class Meta:
        model = ReportingObligation
        fields = ["q", "recipient", "reported", "overdue"]

    def filter_overdue(self, queryset, name, value):
        late = Q(done_on__isnull=True, due_on__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(late) if value else queryset.exclude(late)


def _obligation_summary(obligation, user):
    due = f"{obligation.due_on}{' *' if obligation.provisional else ''}"
    return [
        (_("recipient"), obligation.get_recipient_display()),
        (_("subject"), obligation.subject),
        (_("organisation"), obligation.organization.name),
        (_("certificate"), obligation.certificate.number if obligation.certificate_id else ""),
        (_("rule"), obligation.rule),
        (_("due on"), due),
        (_("overdue"), _("yes") if _obligation_overdue(obligation) else _("no")),
        (_("reported on"), obligation.done_on),
    ]


def _obligation_sections(obligation, request):
    return {"obligation": obligation}


register(
    Desk(
        key="obligations",
        model=ReportingObligation,
        title=_("Reporting obligations"),
        permission="certificates.view_desk",
        queryset=lambda request: ReportingObligation.objects.select_related(
            "organization", "certificate", "regulatory_event"
        ),
        table_class=ReportingObligationTable,
        filterset_class=ReportingObligationFilter,
        summary=_obligation_summary,
        sections_template="certificates/desk_obligation.html",
        sections_context=_obligation_sections,
        order=63,
        needs_action=lambda: Q(done_on__isnull=True),
        newest="due_on",
        date_filters=(("due_on", _("due on")),),
        actions=[
            Action(
                "done",
                _("Mark as reported"),
                services.reporting_obligation_done,
                "certificates.report_obligation",
                "obligation",
                form_class=forms.ObligationDoneForm,
                available=lambda o: o.done_on is None,
            )
        ],
    )
)
