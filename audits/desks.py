"""Workspace desks for the audits app (certbody.workspace): programmes, audits,
nonconformities, auditors, ASRP programmes (seed 000) and the versions of the indicator
catalogue (004 §5.6.5.2).

Built like the reference desk (``applications.desks``): lists keep a constant number of
queries (``select_related`` for every column, one ``prefetch_related`` for the team leader and
the competences, annotations for the catalogue's lock and points); each action calls one
service of ``audits.services``, ``audits.nonconformities``, ``audits.audit_reports`` or
``audits.score_sheets`` through a confirm form of ``audits.forms`` and is offered by its
permission in ``certbody.policy.MATRIX`` and only in the states the service accepts. The
services check again (a forged POST meets both).

The small ``_…`` adapters below only find the record a service works on (the audit's plan, its
latest report) or unpack a form; they never write.
"""

from datetime import date
from decimal import Decimal

import django_filters
import django_tables2 as tables
from django import forms as django_forms
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from applications.models import Site
from audits import forms, scoring, selectors, services
from audits.models import (
    AsrpAuditActivity,
    AsrpEligibilityCheck,
    AsrpIndicator,
    AsrpIndicatorResult,
    AsrpProgramme,
    Audit,
    Auditor,
    AuditorCompetence,
    AuditPlan,
    AuditProgramme,
    AuditTeamMember,
    AuditTimeDetermination,
    Indicator,
    IndicatorCatalogue,
    Nonconformity,
    SamplingPlan,
    ScoreSheet,
)
from certbody import dates, masking
from certbody.lifecycle import RuleViolation
from certbody.workspace import Action, Create, Desk, merged_history, register
from certbody.workspace_tables import BaseTable, ObjectLinkColumn

OPEN_AUDIT_STATES = (Audit.State.PLANNED, Audit.State.IN_PROGRESS)


def _link(desk_key: str, obj, text=None):
    if obj is None:
        return None
    url = reverse("workspace:object", args=[desk_key, obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def _yes_no(value) -> str:
    if value is None:
        return ""
    return str(_("yes") if value else _("no"))


# --- programmes -------------------------------------------------------------------------------


class ProgrammeTable(BaseTable):
    organization = ObjectLinkColumn(
        "programmes", accessor="organization__name", verbose_name=_("organisation")
    )
    cycle = tables.Column(verbose_name=_("cycle"))
    scheme = tables.Column(verbose_name=_("rule scheme"))
    state = tables.Column(verbose_name=_("state"))
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
        (_("state"), programme.get_state_display()),
        (_("effective headcount for planning"), programme.planning_headcount),
        (_("certification decision date"), programme.decided_on),
        (_("certificate expires on"), programme.expires_on),
        (_("recertification application due"), programme.recert_application_due),
        (_("next audit due"), getattr(programme, "next_due", None)),
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


# --- audits -----------------------------------------------------------------------------------


def _leader(audit: Audit):
    """The team leader from the prefetched team (no query)."""
    for member in audit.team.all():
        if member.role == AuditTeamMember.Role.LEADER:
            return member.user
    return None


def _kind_label(audit: Audit) -> str:
    label = audit.get_kind_display()
    if audit.kind in (Audit.Kind.SURVEILLANCE, Audit.Kind.SPECIAL):
        label = f"{label} {audit.sequence}"
    return label


def _plan_or_none(audit: Audit) -> AuditPlan | None:
    try:
        return audit.plan
    except AuditPlan.DoesNotExist:
        return None


def _plan_of(audit: Audit) -> AuditPlan:
    plan = AuditPlan.objects.filter(audit_id=audit.pk).first()
    if plan is None:
        raise RuleViolation("请先编制审核计划", "004 §5.4.6.1")
    return plan


class AuditTable(BaseTable):
    organization = tables.Column(
        accessor="programme__organization__name", verbose_name=_("organisation")
    )
    kind = ObjectLinkColumn("audits", verbose_name=_("kind"))
    state = tables.Column(verbose_name=_("state"))
    due_on = tables.DateColumn(verbose_name=_("due on"))
    planned_start = tables.DateColumn(verbose_name=_("planned start"))
    planned_end = tables.DateColumn(verbose_name=_("planned end"))
    leader = tables.Column(
        empty_values=(), orderable=False, verbose_name=_("Team leader"), accessor="pk"
    )

    class Meta:
        model = Audit
        fields = (
            "organization",
            "kind",
            "state",
            "due_on",
            "planned_start",
            "planned_end",
            "leader",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("due_on",)

    def render_kind(self, record):
        return _kind_label(record)

    def render_leader(self, record):
        leader = _leader(record)
        return str(leader) if leader else "—"

    def value_leader(self, record):
        leader = _leader(record)
        return str(leader) if leader else ""


DUE_CHOICES = [("this_month", _("due this month")), ("overdue", _("overdue"))]


class AuditFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=Audit.Kind.choices, label=_("kind"))
    state = django_filters.ChoiceFilter(choices=Audit.State.choices, label=_("state"))
    due = django_filters.ChoiceFilter(choices=DUE_CHOICES, method="filter_due", label=_("due"))
    mine = django_filters.BooleanFilter(
        method="filter_mine", label=_("my audits"), widget=django_forms.CheckboxInput
    )

    class Meta:
        model = Audit
        fields = ["q", "kind", "state", "due", "mine"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(programme__organization__name__icontains=value)
            | Q(programme__organization__uscc__icontains=value)
        )

    def filter_due(self, queryset, name, value):
        today = dates.today()
        open_audits = queryset.filter(state__in=OPEN_AUDIT_STATES)
        if value == "overdue":
            return open_audits.filter(due_on__lt=today)
        if value == "this_month":
            return open_audits.filter(due_on__year=today.year, due_on__month=today.month)
        return queryset

    def filter_mine(self, queryset, name, value):
        if not value or self.request is None:
            return queryset
        return queryset.filter(team__user=self.request.user).distinct()


def _audits(request):
    return Audit.objects.select_related("programme__organization", "plan").prefetch_related(
        Prefetch("team", queryset=AuditTeamMember.objects.select_related("user"))
    )


def _audit_summary(audit: Audit, user):
    rows = [
        (_("organisation"), audit.programme.organization.name),
        (_("programme"), _link("programmes", audit.programme)),
        (_("kind"), _kind_label(audit)),
        (_("state"), audit.get_state_display()),
        (_("due on"), audit.due_on),
        (_("planned start"), audit.planned_start),
        (_("planned end"), audit.planned_end),
        (_("audit time (auditor-days)"), audit.planned_days),
        (_("plan report to CNCA due"), audit.plan_report_due),
        (_("actual start"), audit.actual_start),
        (_("actual end"), audit.actual_end),
    ]
    if audit.kind == Audit.Kind.SPECIAL:
        rows += [
            (_("special audit kind"), audit.get_special_kind_display()),
            (_("reason (special audits)"), audit.reason),
            (_("short-notice audit"), _yes_no(audit.short_notice)),
        ]
    rows += [
        (_("findings"), audit.findings_summary),
        (
            _("team recommends certification / maintenance"),
            _yes_no(audit.recommendation_positive),
        ),
        (_("termination reason"), audit.termination_reason),
    ]
    return rows


def _audit_sections(audit: Audit, request) -> dict:
    """What the audit page shows besides the summary (object pages only: a few queries)."""
    team = list(audit.team.all())
    profiles = {p.user_id: p for p in Auditor.objects.filter(user__in=[m.user for m in team])}
    for member in team:
        member.profile = profiles.get(member.user_id)
    determination = getattr(audit, "time_determination", None)
    proposal, proposal_error = None, ""
    if determination is None and audit.kind != Audit.Kind.DOCUMENT_REVIEW:
        try:
            proposal = selectors.audit_time_propose(audit)
        except RuleViolation as exc:
            proposal_error = str(exc)
    sampling = getattr(audit, "sampling_plan", None)
    plan = _plan_or_none(audit)
    sheet = None
    if audit.kind in selectors.SCORED_KINDS:
        sheet = getattr(audit, "score_sheet", None)
    return {
        "team": team,
        "team_failures": selectors.audit_team_check(audit)
        if audit.state in OPEN_AUDIT_STATES
        else [],
        # The plan gate on the planned first day (today before any date is set).
        "start_blocker": selectors.audit_start_blocker(
            audit, on=audit.planned_start or timezone.localdate()
        ),
        "determination": determination,
        "adjustments": list(determination.adjustments.all()) if determination else [],
        "proposal": proposal,
        "proposal_error": proposal_error,
        "sampling": sampling,
        "sampling_rows": list(sampling.rows.select_related("site")) if sampling else [],
        "multi_site": Site.objects.filter(organization_id=audit.programme.organization_id).count()
        > 1,
        "plan": plan,
        "plan_sites": list(plan.sites.all()) if plan else [],
        "team_roles": dict(AuditTeamMember.Role.choices),
        "scored": audit.kind in selectors.SCORED_KINDS,
        "sheet": sheet,
        "grade_label": scoring.GRADES.get(sheet.grade, sheet.grade) if sheet else "",
        "score_sheet_url": reverse("audits:score_sheet", args=[audit.pk]),
        "audit_ncs": list(audit.nonconformities.order_by("number")),
        "reports": list(audit.reports.select_related("signed_by", "delivered_by")),
        "asrp_activities": list(audit.asrp_activities.all()),
        "today": dates.today(),
    }


def _in(*states):
    return lambda audit: audit.state in states


def _plan_in(*states):
    def check(audit):
        plan = _plan_or_none(audit)
        return plan is not None and plan.state in states and audit.state in OPEN_AUDIT_STATES

    return check


def _plan_to_report(audit: Audit) -> bool:
    plan = _plan_or_none(audit)
    return plan is not None and plan.state != AuditPlan.State.DRAFT and not plan.cnca_reported_on


def _latest_report(audit: Audit):
    return audit.reports.order_by("-version").first()


def _report_to_deliver(audit: Audit) -> bool:
    report = _latest_report(audit)
    return report is not None and report.delivered_on is None


def _can_sample(audit: Audit) -> bool:
    return (
        audit.state == Audit.State.PLANNED
        and Site.objects.filter(organization_id=audit.programme.organization_id).count() > 1
    )


def _can_plan(audit: Audit) -> bool:
    return audit.state in OPEN_AUDIT_STATES and bool(audit.planned_start and audit.planned_end)


def _asrp_open(audit: Audit) -> bool:
    return audit.state in OPEN_AUDIT_STATES and audit.asrp_activities.filter(covered=False).exists()


def _sampling_record(*, audit, actor, **data):
    return services.sampling_plan_record(
        audit=audit, actor=actor, **forms.SamplingForm.service_kwargs(data)
    )


def _plan_send(*, audit, actor, **data):
    return services.audit_plan_send(plan=_plan_of(audit), actor=actor, **data)


def _plan_confirm(*, audit, actor, **data):
    return services.audit_plan_confirm(plan=_plan_of(audit), actor=actor, **data)


def _plan_report(*, audit, actor, **data):
    return services.audit_plan_report_cnca(plan=_plan_of(audit), actor=actor, **data)


def _report_deliver(*, audit, actor, **data):
    report = _latest_report(audit)
    if report is None:
        raise RuleViolation("该审核还没有审查报告")
    return services.audit_report_deliver(report=report, actor=actor, **data)


def _to_audit(result, audit):
    return reverse("workspace:object", args=["audits", audit.pk])


def _audit_history(audit: Audit):
    """Everything done to the audit, including its team, time, sampling, plan, score sheet and
    NCs, which are stored on related records."""
    return merged_history(
        audit,
        [
            (_("audit team"), AuditTeamMember, {"audit_id": audit.pk}),
            (_("audit time"), AuditTimeDetermination, {"audit_id": audit.pk}),
            (_("sampling plan"), SamplingPlan, {"audit_id": audit.pk}),
            (_("audit plan"), AuditPlan, {"audit_id": audit.pk}),
            (_("score sheet"), ScoreSheet, {"audit_id": audit.pk}),
            (_("nonconformity"), Nonconformity, {"audit_id": audit.pk}),
        ],
    )


register(
    Desk(
        key="audits",
        model=Audit,
        title=_("Audits"),
        permission="audits.view_desk",
        queryset=_audits,
        table_class=AuditTable,
        filterset_class=AuditFilter,
        summary=_audit_summary,
        sections_template="audits/desk_audit.html",
        sections_context=_audit_sections,
        history=_audit_history,
        order=21,
        actions=[
            Action(
                "schedule",
                _("Schedule dates and time"),
                services.audit_schedule,
                "audits.schedule_audit",
                "audit",
                form_class=forms.ScheduleForm,
                available=_in(Audit.State.PLANNED),
                next_url=_to_audit,
            ),
            Action(
                "determine-time",
                _("Determine the audit time"),
                services.audit_time_determine,
                "audits.determine_audit_time",
                "audit",
                form_class=forms.DetermineTimeForm,
                available=lambda a: (
                    a.state == Audit.State.PLANNED and a.kind != Audit.Kind.DOCUMENT_REVIEW
                ),
                next_url=_to_audit,
            ),
            Action(
                "record-sampling",
                _("Record the multi-site sampling plan"),
                _sampling_record,
                "audits.plan_sampling",
                "audit",
                form_class=forms.SamplingForm,
                available=_can_sample,
                next_url=_to_audit,
            ),
            Action(
                "add-member",
                _("Add a team member"),
                services.audit_team_add,
                "audits.manage_team",
                "audit",
                form_class=forms.TeamMemberForm,
                available=_in(*OPEN_AUDIT_STATES),
                next_url=_to_audit,
            ),
            Action(
                "remove-member",
                _("Remove a team member"),
                services.audit_team_remove,
                "audits.manage_team",
                "audit",
                form_class=forms.TeamRemoveForm,
                available=lambda a: a.state in OPEN_AUDIT_STATES and a.team.exists(),
                danger=True,
                next_url=_to_audit,
            ),
            Action(
                "prepare-plan",
                _("Write or change the audit plan"),
                services.audit_plan_prepare,
                "audits.manage_plan",
                "audit",
                form_class=forms.PlanForm,
                available=_can_plan,
                next_url=_to_audit,
            ),
            Action(
                "send-plan",
                _("Send the plan to the client"),
                _plan_send,
                "audits.manage_plan",
                "audit",
                form_class=forms.PlanSendForm,
                available=_plan_in(AuditPlan.State.DRAFT),
                next_url=_to_audit,
            ),
            Action(
                "confirm-plan",
                _("Record the client's confirmation of the plan"),
                _plan_confirm,
                "audits.manage_plan",
                "audit",
                form_class=forms.PlanConfirmForm,
                available=_plan_in(AuditPlan.State.SENT),
                next_url=_to_audit,
            ),
            Action(
                "report-plan",
                _("Record the plan's report to CNCA"),
                _plan_report,
                "audits.report_plan",
                "audit",
                form_class=forms.PlanReportForm,
                available=_plan_to_report,
                next_url=_to_audit,
            ),
            Action(
                "start",
                _("Start"),
                services.audit_start,
                "audits.start_audit",
                "audit",
                form_class=forms.StartForm,
                available=lambda a: can_proceed(a.start),
                next_url=_to_audit,
            ),
            Action(
                "record-meeting",
                _("Record the opening or closing meeting"),
                services.audit_meeting_record,
                "audits.run_audit",
                "audit",
                form_class=forms.MeetingForm,
                available=lambda a: a.state == Audit.State.IN_PROGRESS and a.needs_site_visit,
                next_url=_to_audit,
            ),
            Action(
                "record-asrp-activity",
                _("Record an ASRP mandatory activity"),
                services.asrp_activity_record,
                "audits.manage_plan",
                "audit",
                form_class=forms.AsrpActivityForm,
                available=_asrp_open,
                next_url=_to_audit,
            ),
            Action(
                "raise-nc",
                _("Raise a nonconformity"),
                services.nonconformity_raise,
                "audits.raise_nonconformity",
                "audit",
                form_class=forms.NonconformityRaiseOnAuditForm,
                available=_in(*selectors.RAISE_STATES),
                next_url=lambda nc, audit: reverse(
                    "workspace:object", args=["nonconformities", nc.pk]
                ),
            ),
            Action(
                "complete",
                _("Complete (team leader)"),
                services.audit_complete,
                "audits.run_audit",
                "audit",
                form_class=forms.CompleteForm,
                available=lambda a: can_proceed(a.complete),
                next_url=_to_audit,
            ),
            Action(
                "close-review",
                _("Close the document review"),
                services.audit_close,
                "audits.plan_programme",
                "audit",
                # Other audits close with their decision (certificates.services.decision_make);
                # a document review has none (004 §5.4.5.1).
                available=lambda a: (
                    a.kind == Audit.Kind.DOCUMENT_REVIEW and a.state == Audit.State.COMPLETED
                ),
                extra=lambda a, user: {"reason": "文件审核完成后关闭"},
            ),
            Action(
                "generate-report",
                _("Generate and sign the audit report (team leader)"),
                services.audit_report_generate,
                "audits.sign_audit_report",
                "audit",
                form_class=forms.ReportSignForm,
                available=_in(Audit.State.COMPLETED, Audit.State.CLOSED, Audit.State.TERMINATED),
                next_url=_to_audit,
            ),
            Action(
                "deliver-report",
                _("Record delivery of the report to the client"),
                _report_deliver,
                "audits.deliver_audit_report",
                "audit",
                form_class=forms.ReportDeliverForm,
                available=_report_to_deliver,
                next_url=_to_audit,
            ),
            Action(
                "terminate",
                _("Terminate"),
                services.audit_terminate,
                "audits.terminate_audit",
                "audit",
                form_class=forms.TerminateForm,
                available=lambda a: can_proceed(a.terminate),
                danger=True,
                next_url=_to_audit,
            ),
        ],
    )
)


# --- nonconformities --------------------------------------------------------------------------


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
    state = tables.Column(verbose_name=_("state"))
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
        (_("state"), nc.get_state_display()),
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


# --- auditors ---------------------------------------------------------------------------------


def _current_codes(auditor: Auditor, today: date) -> str:
    """The competence codes valid today, from the prefetched competences (no query)."""
    return "、".join(
        f"{c.business_scope.code:02d}" for c in auditor.competences.all() if c.covers(today)
    )


class AuditorTable(BaseTable):
    name = ObjectLinkColumn(
        "auditors",
        accessor="user",
        verbose_name=_("name"),
        order_by=("user__display_name", "user__username"),
    )
    registration_number = tables.Column(verbose_name=_("registration number"))
    qualification = tables.Column(verbose_name=_("qualification"))
    registration_valid_until = tables.DateColumn(verbose_name=_("registration valid until"))
    is_full_time = tables.BooleanColumn(verbose_name=_("full-time (专职)"))
    competences = tables.Column(
        empty_values=(), orderable=False, accessor="pk", verbose_name=_("competence codes")
    )
    active = tables.BooleanColumn(verbose_name=_("active"))

    class Meta:
        model = Auditor
        fields = (
            "name",
            "registration_number",
            "qualification",
            "registration_valid_until",
            "is_full_time",
            "competences",
            "active",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("name",)

    def render_competences(self, record):
        return _current_codes(record, dates.today()) or "—"

    def value_competences(self, record):
        return _current_codes(record, dates.today())


class AuditorFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    qualification = django_filters.ChoiceFilter(
        choices=Auditor.Qualification.choices, label=_("qualification")
    )
    scope = django_filters.NumberFilter(method="filter_scope", label=_("competent for scope code"))
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Auditor
        fields = ["q", "qualification", "scope", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(user__display_name__icontains=value)
            | Q(user__username__icontains=value)
            | Q(registration_number__icontains=value)
        )

    def filter_scope(self, queryset, name, value):
        today = dates.today()
        return queryset.filter(
            Q(competences__valid_until__isnull=True) | Q(competences__valid_until__gte=today),
            competences__business_scope__code=value,
            competences__granted_on__lte=today,
        ).distinct()


def _auditors(request):
    return Auditor.objects.select_related("user").prefetch_related(
        Prefetch(
            "competences",
            queryset=AuditorCompetence.objects.select_related("business_scope"),
        )
    )


def _auditor_summary(auditor: Auditor, user):
    phone = auditor.user.phone
    # The ID number is kept with the personnel data of the CNCA annual report (reporting's
    # PersonnelRecord); read through the reverse relation, never imported (layering).
    record = getattr(auditor, "personnel_record", None)
    id_number = getattr(record, "id_number", "")
    if not masking.can_see_personal_data(user):
        phone, id_number = masking.mask_phone(phone), masking.mask_id_number(id_number)
    return [
        (_("name"), str(auditor.user)),
        (_("user"), auditor.user.username),
        (_("ID number"), id_number),
        (_("phone"), phone),
        (_("registration number"), auditor.registration_number),
        (_("registration valid until"), auditor.registration_valid_until),
        (_("qualification"), auditor.get_qualification_display()),
        (_("full-time (专职)"), _yes_no(auditor.is_full_time)),
        (_("active"), _yes_no(auditor.active)),
        (_("competence codes"), _current_codes(auditor, dates.today())),
        (_("notes"), auditor.notes),
    ]


def _auditor_sections(auditor: Auditor, request) -> dict:
    today = dates.today()
    competences = list(auditor.competences.all())
    for competence in competences:
        competence.current = competence.covers(today)
    return {
        "competences": competences,
        "declarations": list(auditor.declarations.select_related("organization")),
        "memberships": list(
            AuditTeamMember.objects.filter(user_id=auditor.user_id)
            .select_related("audit__programme__organization")
            .order_by("-audit__planned_start", "-pk")[:20]
        ),
    }


register(
    Desk(
        key="auditors",
        model=Auditor,
        title=_("Auditors"),
        permission="audits.view_desk",
        queryset=_auditors,
        table_class=AuditorTable,
        filterset_class=AuditorFilter,
        summary=_auditor_summary,
        sections_template="audits/desk_auditor.html",
        sections_context=_auditor_sections,
        order=23,
        create=Create(
            _("Register an auditor"),
            services.auditor_register,
            "audits.manage_auditors",
            forms.AuditorRegisterForm,
        ),
        actions=[
            Action(
                "grant-competence",
                _("Grant a competence"),
                services.auditor_competence_grant,
                "audits.manage_auditors",
                "auditor",
                form_class=forms.CompetenceGrantForm,
            ),
            Action(
                "declare-conflict",
                _("Record a conflict-of-interest declaration"),
                services.conflict_declare,
                "audits.declare_conflict",
                "auditor",
                form_class=forms.ConflictDeclareForm,
            ),
        ],
    )
)


# --- ASRP programmes (seed 000) ---------------------------------------------------------------


class AsrpTable(BaseTable):
    organization = ObjectLinkColumn(
        "asrp", accessor="programme__organization__name", verbose_name=_("organisation")
    )
    cycle = tables.Column(accessor="programme__cycle", verbose_name=_("cycle"))
    state = tables.Column(verbose_name=_("state"))
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
        (_("state"), asrp.get_state_display()),
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
        raise RuleViolation("该绩效指标不属于本 ASRP 方案")
    return services.asrp_indicator_result_record(indicator=indicator, actor=actor, **data)


def _asrp_activity_record(*, asrp, actor, activity, notes=""):
    if activity.audit.programme_id != asrp.programme_id:
        raise RuleViolation("该审核不属于本 ASRP 方案的认证周期")
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


# --- indicator catalogue versions (004 §5.6.5.2) ----------------------------------------------


def _points(value) -> str:
    """Points without trailing zeros or an exponent: 40, 5.5."""
    return f"{(value or Decimal(0)).normalize():f}"


def _part_totals_text(sums: dict) -> str:
    return "；".join(
        f"{scoring.PART_NAMES[part]} {_points(sums.get(part))}/{total}"
        + ("" if (sums.get(part) or Decimal(0)) == total else " ✗")
        for part, total in scoring.PART_TOTALS.items()
    )


def _annotated_sums(catalogue) -> dict:
    return {part: getattr(catalogue, f"points_{part}", None) for part in scoring.PART_TOTALS}


class CatalogueTable(BaseTable):
    version = ObjectLinkColumn("catalogues", verbose_name=_("version"))
    title = tables.Column(verbose_name=_("title"))
    is_current = tables.BooleanColumn(verbose_name=_("current"))
    locked = tables.BooleanColumn(verbose_name=_("used by score sheets (locked)"))
    indicator_count = tables.Column(verbose_name=_("indicators"))
    totals = tables.Column(
        empty_values=(), orderable=False, accessor="pk", verbose_name=_("points per part")
    )

    class Meta:
        model = IndicatorCatalogue
        fields = ("version", "title", "is_current", "locked", "indicator_count", "totals")
        attrs = BaseTable.Meta.attrs

    def render_totals(self, record):
        return _part_totals_text(_annotated_sums(record))

    def value_totals(self, record):
        return _part_totals_text(_annotated_sums(record))


class CatalogueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    is_current = django_filters.BooleanFilter(label=_("current"))

    class Meta:
        model = IndicatorCatalogue
        fields = ["q", "is_current"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(version__icontains=value) | Q(title__icontains=value))


def _catalogues(request):
    """Versions with their lock, indicator count and points per part, in one query."""
    return IndicatorCatalogue.objects.annotate(
        locked=Exists(ScoreSheet.objects.filter(catalogue_id=OuterRef("pk"))),
        indicator_count=Count("indicators"),
        **{
            f"points_{part}": Sum("indicators__max_points", filter=Q(indicators__part=part))
            for part in scoring.PART_TOTALS
        },
    ).order_by("-is_current", "-created_at", "-pk")


def _catalogue_summary(catalogue: IndicatorCatalogue, user):
    return [
        (_("version"), catalogue.version),
        (_("title"), catalogue.title),
        (_("current"), _yes_no(catalogue.is_current)),
        (_("used by score sheets (locked)"), _yes_no(catalogue.locked)),
        (_("indicators"), catalogue.indicator_count),
        (_("points per part"), _part_totals_text(_annotated_sums(catalogue))),
        (_("notes"), catalogue.notes),
    ]


def _catalogue_sections(catalogue: IndicatorCatalogue, request) -> dict:
    indicators = list(catalogue.indicators.all())
    parts = []
    for part, total in scoring.PART_TOTALS.items():
        rows = [i for i in indicators if i.part == part]
        for indicator in rows:
            indicator.points_text = _points(indicator.max_points)
        points = sum((i.max_points for i in rows), Decimal(0))
        parts.append(
            {
                "part": part,
                "label": Indicator.Part(part).label,
                "indicators": rows,
                "points": _points(points),
                "total": total,
                "ok": points == total,
            }
        )
    return {
        "catalogue_parts": parts,
        "catalogue_problems": selectors.part_total_problems(
            (i.part, i.max_points) for i in indicators
        ),
        "catalogue_sheets": catalogue.score_sheets.count(),
    }


def _catalogue_indicators_update(*, catalogue, actor, **data):
    return services.catalogue_indicators_update(
        catalogue=catalogue, actor=actor, rows=forms.CatalogueIndicatorsForm.rows(data)
    )


register(
    Desk(
        key="catalogues",
        model=IndicatorCatalogue,
        title=_("Indicator catalogues"),
        permission="audits.view_desk",
        queryset=_catalogues,
        table_class=CatalogueTable,
        filterset_class=CatalogueFilter,
        summary=_catalogue_summary,
        sections_template="audits/desk_catalogue.html",
        sections_context=_catalogue_sections,
        order=25,
        actions=[
            Action(
                "edit-indicators",
                _("Edit the indicators"),
                _catalogue_indicators_update,
                "audits.manage_catalogue",
                "catalogue",
                form_class=forms.CatalogueIndicatorsForm,
                available=lambda c: not c.is_locked,
                confirm=_(
                    "A version used by a score sheet cannot change; the current version's parts "
                    "must still add up to 40 / 35 / 25 (004 §5.6.5.2)."
                ),
            ),
            Action(
                "copy",
                _("Copy as a new version"),
                services.catalogue_new_version,
                "audits.manage_catalogue",
                "source",
                form_class=forms.CatalogueNewVersionForm,
                next_url=lambda new, source: reverse(
                    "workspace:object", args=["catalogues", new.pk]
                ),
            ),
            Action(
                "make-current",
                _("Make the current version"),
                services.catalogue_make_current,
                "audits.manage_catalogue",
                "catalogue",
                available=lambda c: not c.is_current,
                confirm=_(
                    "New score sheets will use this version; sheets already opened keep theirs."
                ),
            ),
        ],
    )
)
