"""The ASRP programmes desk (seed 000)."""

import django_filters
import django_tables2 as tables
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from audits import forms, selectors, services
from audits.desks._common import OPEN_AUDIT_STATES, _link
from audits.models import (
    AsrpAuditActivity,
    AsrpEligibilityCheck,
    AsrpIndicator,
    AsrpIndicatorResult,
    AsrpProgramme,
)
from certbody.badges import state_badge
from certbody.lifecycle import RuleViolation
from certbody.workspace import Action, Create, Desk, merged_history, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn, StateColumn


class AsrpTable(BaseTable):
    organization = ObjectLinkColumn(
        "asrp", accessor="programme__organization__name", verbose_name=_("organisation")
    )
    cycle = tables.Column(accessor="programme__cycle", verbose_name=_("cycle"))
    state = StateColumn(verbose_name=_("state"))
    approved_on = tables.DateColumn(verbose_name=_("approved on"))
    accreditation_notified_on = tables.DateColumn(verbose_name=_("accreditation body notified on"))
    ended_on = tables.DateColumn(verbose_name=_("ended on"))

    class Meta:
        model = AsrpProgramme
        fields = (
            "organization",
            "cycle",
            "state",
            "approved_on",
            "accreditation_notified_on",
            "ended_on",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("organization",)

    def render_cycle(self, value):
        return f"R{value}"


class AsrpFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    state = django_filters.ChoiceFilter(choices=AsrpProgramme.State.choices, label=_("state"))

    class Meta:
        model = AsrpProgramme
        fields = ["q", "state"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(programme__organization__name__icontains=value)
            | Q(programme__organization__uscc__icontains=value)
        )


def _asrps(request):
    return AsrpProgramme.objects.select_related("programme__organization", "approved_by")


def _asrp_summary(asrp: AsrpProgramme, user):
    return [
        (_("organisation"), asrp.programme.organization.name),
        (_("programme"), _link("programmes", asrp.programme)),
        (_("state"), state_badge(asrp)),
        (_("approved by"), asrp.approved_by),
        (_("approved on"), asrp.approved_on),
        (_("accreditation body notified on"), asrp.accreditation_notified_on),
        (_("ended on"), asrp.ended_on),
        (_("why ended"), asrp.end_reason),
    ]


def _asrp_sections(asrp: AsrpProgramme, request) -> dict:
    checks = {c.criterion: c for c in asrp.checks.select_related("checked_by")}
    criteria = [
        (criterion, label, checks.get(criterion))
        for criterion, label in AsrpEligibilityCheck.Criterion.choices
    ]
    indicators = list(
        asrp.indicators.prefetch_related(
            Prefetch("results", queryset=AsrpIndicatorResult.objects.select_related("recorded_by"))
        )
    )
    contents = []
    for name in AsrpProgramme.CONTENT_FIELDS:
        model_field = AsrpProgramme._meta.get_field(name)
        contents.append((model_field.verbose_name, model_field.help_text, getattr(asrp, name)))
    draft = asrp.state == AsrpProgramme.State.DRAFT
    return {
        "asrp_contents": contents,
        "asrp_criteria": criteria,
        "asrp_indicators": indicators,
        "asrp_activities": list(
            AsrpAuditActivity.objects.filter(audit__programme_id=asrp.programme_id)
            .select_related("audit")
            .order_by("audit__due_on", "audit_id", "pk")
        ),
        "approval_failures": selectors.asrp_approval_failures(asrp) if draft else [],
        "asrp_draft": draft,
    }


def _asrp_history(asrp: AsrpProgramme):
    """The programme's history with its eligibility checks, indicators, results and the
    mandatory activities of its audits."""
    return merged_history(
        asrp,
        [
            (_("eligibility check"), AsrpEligibilityCheck, {"asrp_id": asrp.pk}),
            (_("performance indicator"), AsrpIndicator, {"asrp_id": asrp.pk}),
            (_("indicator result"), AsrpIndicatorResult, {"indicator__asrp_id": asrp.pk}),
            (
                _("ASRP mandatory activity"),
                AsrpAuditActivity,
                {"audit__programme_id": asrp.programme_id},
            ),
        ],
    )


def _asrp_in(*states):
    return lambda asrp: asrp.state in states


def _open_asrp_activities(asrp: AsrpProgramme):
    return AsrpAuditActivity.objects.filter(
        audit__programme_id=asrp.programme_id, audit__state__in=OPEN_AUDIT_STATES, covered=False
    )


def _asrp_result_record(*, asrp, actor, indicator, **data):
    if indicator.asrp_id != asrp.pk:
        raise RuleViolation(_("This performance indicator does not belong to this ASRP programme."))
    return services.asrp_indicator_result_record(indicator=indicator, actor=actor, **data)


def _asrp_activity_record(*, asrp, actor, activity, notes=""):
    if activity.audit.programme_id != asrp.programme_id:
        raise RuleViolation(_("This audit is not in this ASRP programme's certification cycle."))
    return services.asrp_activity_record(
        audit=activity.audit, actor=actor, activity=activity.activity, notes=notes
    )


DRAFT_ASRP = AsrpProgramme.State.DRAFT


register(
    Desk(
        key="asrp",
        model=AsrpProgramme,
        title=_("ASRP programmes"),
        permission="audits.view_desk",
        queryset=_asrps,
        table_class=AsrpTable,
        filterset_class=AsrpFilter,
        summary=_asrp_summary,
        sections_template="audits/desk_asrp.html",
        sections_context=_asrp_sections,
        history=_asrp_history,
        order=24,
        create=Create(
            _("Design an ASRP programme"),
            services.asrp_programme_create,
            "audits.manage_asrp",
            forms.AsrpCreateForm,
        ),
        actions=[
            Action(
                "record-eligibility",
                _("Record an eligibility check"),
                services.asrp_eligibility_record,
                "audits.manage_asrp",
                "asrp",
                form_class=forms.AsrpEligibilityForm,
                available=_asrp_in(DRAFT_ASRP),
            ),
            Action(
                "add-indicator",
                _("Add an agreed performance indicator"),
                services.asrp_indicator_add,
                "audits.manage_asrp",
                "asrp",
                form_class=forms.AsrpIndicatorForm,
                available=_asrp_in(DRAFT_ASRP),
            ),
            Action(
                "record-result",
                _("Record an indicator result"),
                _asrp_result_record,
                "audits.manage_asrp",
                "asrp",
                form_class=forms.AsrpIndicatorResultForm,
                available=lambda a: a.state != AsrpProgramme.State.ENDED and a.indicators.exists(),
            ),
            Action(
                "approve",
                _("Approve (technical manager)"),
                services.asrp_programme_approve,
                "audits.approve_asrp",
                "asrp",
                form_class=forms.AsrpApproveForm,
                available=lambda a: can_proceed(a.approve),
            ),
            Action(
                "notify",
                _("Record the notification of the accreditation body"),
                services.asrp_accreditation_notify,
                "audits.manage_asrp",
                "asrp",
                form_class=forms.AsrpNotifyForm,
                available=lambda a: can_proceed(a.notify),
            ),
            Action(
                "record-activity",
                _("Record an ASRP mandatory activity"),
                _asrp_activity_record,
                "audits.manage_asrp",
                "asrp",
                form_class=forms.AsrpActivityChoiceForm,
                available=lambda a: a.in_use and _open_asrp_activities(a).exists(),
            ),
            Action(
                "end",
                _("End the ASRP programme"),
                services.asrp_programme_end,
                "audits.manage_asrp",
                "asrp",
                form_class=forms.AsrpEndForm,
                available=lambda a: can_proceed(a.end),
                danger=True,
            ),
        ],
    )
)
