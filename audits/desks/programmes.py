"""The audit programmes desk (004 §5.4.1)."""

import django_filters
import django_tables2 as tables
from django.db.models import Min, Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audits import forms, selectors, services
from audits.desks._common import OPEN_AUDIT_STATES
from audits.desks.audits import _leader
from audits.models import (
    AsrpProgramme,
    Audit,
    AuditProgramme,
    AuditTeamMember,
)
from certbody import dates
from certbody.badges import state_badge
from certbody.workspace import Action, Create, Desk, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn, StateColumn


class ProgrammeTable(BaseTable):
    organization = ObjectLinkColumn(
        "programmes", accessor="organization__name", verbose_name=_("organisation")
    )
    cycle = tables.Column(verbose_name=_("cycle"))
    scheme = tables.Column(verbose_name=_("rule scheme"))
    state = StateColumn(verbose_name=_("state"))
    decided_on = tables.DateColumn(verbose_name=_("certification decision date"))
    expires_on = tables.DateColumn(verbose_name=_("certificate expires on"))
    next_due = tables.DateColumn(verbose_name=_("next audit due"))

    class Meta:
        model = AuditProgramme
        fields = (
            "organization",
            "cycle",
            "scheme",
            "state",
            "decided_on",
            "expires_on",
            "next_due",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("organization",)

    def render_cycle(self, value):
        return f"R{value}"


class ProgrammeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    scheme = django_filters.ChoiceFilter(
        choices=AuditProgramme._meta.get_field("scheme").choices, label=_("rule scheme")
    )
    state = django_filters.ChoiceFilter(choices=AuditProgramme.State.choices, label=_("state"))

    class Meta:
        model = AuditProgramme
        fields = ["q", "scheme", "state"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(organization__name__icontains=value) | Q(organization__uscc__icontains=value)
        )


def _programmes(request):
    return AuditProgramme.objects.select_related("organization", "application").annotate(
        next_due=Min("audits__due_on", filter=Q(audits__state=Audit.State.PLANNED))
    )


def _programme_summary(programme: AuditProgramme, user):
    return [
        (_("organisation"), programme.organization.name),
        (_("application"), programme.application.reference),
        (_("cycle"), f"R{programme.cycle}"),
        (_("rule scheme"), programme.get_scheme_display()),
        (_("state"), state_badge(programme)),
        (_("effective headcount for planning"), programme.planning_headcount),
        (_("certification decision date"), programme.decided_on),
        (_("certificate expires on"), programme.expires_on),
        (_("recertification application due"), programme.recert_application_due),
        (_("next audit due"), getattr(programme, "next_due", None)),
        # 004 §5.8.1: a late recertification application is planned as initial certification
        (
            _("why it is handled as initial certification"),
            programme.application.handled_as_initial_reason,
        ),
    ]


def _programme_sections(programme: AuditProgramme, request) -> dict:
    audits = list(
        programme.audits.select_related("plan").prefetch_related(
            Prefetch("team", queryset=AuditTeamMember.objects.select_related("user"))
        )
    )
    today = dates.today()
    for audit in audits:
        audit.overdue = bool(
            audit.due_on and audit.due_on < today and audit.state in OPEN_AUDIT_STATES
        )
        audit.leader = _leader(audit)
    asrp = _asrp_of(programme)
    return {
        "programme_audits": audits,
        "today": today,
        "asrp": asrp,
        # 000 §4.1.1: shown for a recertification cycle, whether or not an ASRP can be designed
        "asrp_failures": selectors.asrp_full_cycle_failures(programme)
        if asrp is None and programme.cycle >= 1
        else [],
        "asrp_possible": asrp is None and programme.cycle >= 1,
    }


def _asrp_of(programme: AuditProgramme) -> AsrpProgramme | None:
    try:
        return programme.asrp
    except AsrpProgramme.DoesNotExist:
        return None


def _asrp_designable(programme: AuditProgramme) -> bool:
    """An active programme without an ASRP whose client completed a full normal cycle."""
    return (
        _programme_active(programme)
        and _asrp_of(programme) is None
        and not selectors.asrp_full_cycle_failures(programme)
    )


def _programme_active(programme: AuditProgramme) -> bool:
    return programme.state == AuditProgramme.State.ACTIVE


register(
    Desk(
        key="programmes",
        model=AuditProgramme,
        title=_("Audit programmes"),
        permission="audits.view_desk",
        queryset=_programmes,
        table_class=ProgrammeTable,
        filterset_class=ProgrammeFilter,
        summary=_programme_summary,
        sections_template="audits/desk_programme.html",
        sections_context=_programme_sections,
        order=20,
        create=Create(
            _("Create the audit programme"),
            services.programme_create,
            "audits.plan_programme",
            forms.ProgrammeCreateForm,
        ),
        actions=[
            Action(
                "plan-cycle",
                _("Plan the cycle from the decision"),
                services.programme_plan_cycle,
                "audits.plan_programme",
                "programme",
                form_class=forms.PlanCycleForm,
                available=lambda p: _programme_active(p) and p.decided_on is None,
            ),
            Action(
                "replan",
                _("Re-plan due dates"),
                services.programme_replan,
                "audits.plan_programme",
                "programme",
                form_class=forms.ReplanForm,
                available=_programme_active,
            ),
            Action(
                "change-headcount",
                _("Change the effective headcount"),
                services.programme_headcount_change,
                "audits.plan_programme",
                "programme",
                form_class=forms.HeadcountForm,
                available=_programme_active,
            ),
            Action(
                "design-asrp",
                _("Design an ASRP programme"),
                services.asrp_programme_create,
                "audits.manage_asrp",
                "programme",
                form_class=forms.AsrpForm,
                available=_asrp_designable,
                next_url=lambda asrp, programme: reverse(
                    "workspace:object", args=["asrp", asrp.pk]
                ),
            ),
            Action(
                "add-special-audit",
                _("Add an extra or short-notice audit"),
                services.audit_add_special,
                "audits.plan_programme",
                "programme",
                form_class=forms.SpecialAuditForm,
                available=_programme_active,
                next_url=lambda audit, programme: reverse(
                    "workspace:object", args=["audits", audit.pk]
                ),
            ),
        ],
    )
)
