"""Decisions made (004 §5.12)."""

import django_filters
import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from certbody.workspace import Desk, register
from certbody.workspace.tables import (
    BaseTable,
    ObjectLinkColumn,
    SearchFilter,
)
from certificates.models import Decision


class DecisionTable(BaseTable):
    organization = ObjectLinkColumn(
        "decided", accessor="audit__programme__organization__name", verbose_name=_("organisation")
    )
    audit_kind = tables.Column(accessor="audit__kind", verbose_name=_("audit"))
    outcome = tables.Column(verbose_name=_("outcome"))
    star_grade = tables.Column(verbose_name=_("star grade"))
    basis = tables.Column(verbose_name=_("basis"))
    decided_by = tables.Column(verbose_name=_("decided by"))
    decided_on = tables.DateColumn(verbose_name=_("decided on"), format="Y-m-d")

    class Meta:
        model = Decision
        fields = (
            "organization",
            "audit_kind",
            "outcome",
            "star_grade",
            "basis",
            "decided_by",
            "decided_on",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("-decided_on",)

    def render_audit_kind(self, record):
        return record.audit.get_kind_display()

    def value_audit_kind(self, record):
        return record.audit.get_kind_display()


class DecisionFilter(SearchFilter):
    search_fields = ("audit__programme__organization__name",)
    outcome = django_filters.ChoiceFilter(choices=Decision.Outcome.choices, label=_("outcome"))
    basis = django_filters.ChoiceFilter(choices=Decision.Basis.choices, label=_("basis"))

    class Meta:
        model = Decision
        fields = ["q", "outcome", "basis"]


def _decision_summary(decision, user):
    return [
        (_("organisation"), decision.audit.programme.organization.name),
        (_("audit"), str(decision.audit)),
        (_("outcome"), decision.get_outcome_display()),
        (_("basis"), decision.get_basis_display()),
        (_("star grade"), decision.get_star_grade_display()),
        (_("decided by"), decision.decided_by),
        (_("decided on"), decision.decided_on),
        (_("reasons"), decision.reasons),
    ]


def _decision_sections(decision, request):
    return {
        "documents": list(decision.documents.all()),
        "issued": list(decision.certificates.order_by("number")),
    }


register(
    Desk(
        key="decided",
        model=Decision,
        title=_("Decisions made"),
        permission="certificates.view_desk",
        queryset=lambda request: Decision.objects.select_related(
            "audit__programme__organization", "decided_by"
        ),
        table_class=DecisionTable,
        filterset_class=DecisionFilter,
        summary=_decision_summary,
        sections_template="certificates/desk_decision.html",
        sections_context=_decision_sections,
        order=51,
    )
)
