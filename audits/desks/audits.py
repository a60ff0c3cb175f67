"""The audits desk: schedule, time, sampling, team, plan, start, complete, close, report and
terminate an audit (004 §5.4–5.11)."""

from datetime import date

import django_filters
import django_tables2 as tables
from django import forms as django_forms
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from applications.models import Organization, Site
from audits import forms, home, selectors, services
from audits.desks._common import OPEN_AUDIT_STATES, _link, _yes_no
from audits.models import (
    Audit,
    Auditor,
    AuditPlan,
    AuditProgramme,
    AuditTeamMember,
    AuditTimeDetermination,
    Nonconformity,
    SamplingPlan,
    ScoreSheet,
)
from certbody import dates, policy
from certbody.badges import state_badge
from certbody.dates import add_months
from certbody.lifecycle import RuleViolation, refusal
from certbody.models import User
from certbody.workspace import Action, Desk, merged_history, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn, StateColumn, text_search


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
        raise RuleViolation(_("Write the audit plan first."), "004 §5.4.6.1")
    return plan


class AuditTable(BaseTable):
    organization = tables.Column(
        accessor="programme__organization__name", verbose_name=_("organisation")
    )
    kind = ObjectLinkColumn("audits", verbose_name=_("kind"))
    state = StateColumn(verbose_name=_("state"))
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

    month = django_filters.CharFilter(
        method="filter_month", label=_("month (YYYY-MM)"), max_length=7
    )
    todo = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _build) in home.TODO.items()],
        method="filter_todo",
        label=_("my tasks"),
    )
    plan_overdue = django_filters.BooleanFilter(
        method="filter_plan_overdue", label=_("audit plan not reported to CNCA in time")
    )

    def filter_todo(self, queryset, name, value):
        # A home section's rows (audits.home.TODO) for the signed-in user.
        if value not in home.TODO or self.request is None:
            return queryset
        rows = home.TODO[value][1](self.request.user, dates.today())
        return queryset.filter(pk__in=rows.values("pk"))

    def filter_plan_overdue(self, queryset, name, value):
        # The dashboard's bar (issue #14): planned audits (not document reviews) whose plan
        # is past its CNCA reporting date and not reported.
        if not value:
            return queryset
        reported = AuditPlan.objects.filter(audit_id=OuterRef("pk"), cnca_reported_on__isnull=False)
        return (
            queryset.filter(state=Audit.State.PLANNED, plan_report_due__lt=dates.today())
            .exclude(kind=Audit.Kind.DOCUMENT_REVIEW)
            .exclude(Exists(reported))
        )

    class Meta:
        model = Audit
        fields = ["q", "kind", "state", "due", "mine", "month"]

    def filter_month(self, queryset, name, value):
        # The dashboard's "audits planned per month" bar: planned start, else due date.
        try:
            year, month = (int(part) for part in value.split("-"))
            first = date(year, month, 1)
        except ValueError:
            return queryset.none()
        return queryset.annotate(_month_day=Coalesce("planned_start", "due_on")).filter(
            _month_day__gte=first, _month_day__lt=add_months(first, 1)
        )

    PEOPLE_LIMIT = 500  # people matched by a search term, passed as a list of ids

    def search(self, queryset, name, value):
        # Also by the name of anyone on the team (issue #14). Sub-selects of the small tables
        # (organisations → programmes, people → team rows) rather than joins or a correlated
        # EXISTS on every audit row: an audit appears once however many members match, and a
        # count over 300,000 audits stays one pass (issue #16).
        organizations = Organization.objects.filter(
            text_search(value, ("name", "uscc"), ascii_fields=("uscc",))
        ).values("pk")
        by_organization = Q(
            programme__in=AuditProgramme.objects.filter(organization__in=organizations)
        )
        # The people first, in a query of their own (a few rows, usually none): an OR with a
        # sub-select of team rows makes PostgreSQL read every audit to test both (a count of
        # 300,000 audits took ~90 ms); alone, the organisations' audits come from indexes.
        matched = User.objects.filter(
            text_search(value, ("display_name", "first_name", "last_name", "username"))
        )
        people = list(matched.values_list("pk", flat=True)[: self.PEOPLE_LIMIT + 1])
        if not people:
            return queryset.filter(by_organization)
        if len(people) > self.PEOPLE_LIMIT:  # a term most people match: one sub-select
            people = matched.values("pk")
        return queryset.filter(
            by_organization
            | Q(pk__in=AuditTeamMember.objects.filter(user__in=people).values("audit_id"))
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
        (_("state"), state_badge(audit)),
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
        "agenda": list(plan.agenda.select_related("site", "auditor")) if plan else [],
        "may_edit_agenda": bool(plan)
        and audit.state in OPEN_AUDIT_STATES
        and policy.allowed(request.user, "audits.manage_plan", audit),
        "team_roles": dict(AuditTeamMember.Role.choices),
        "scored": audit.kind in selectors.SCORED_KINDS,
        "sheet": sheet,
        "grade_label": selectors.grade_label(sheet.grade) if sheet else "",
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
        raise RuleViolation(_("This audit has no audit report yet."))
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
        needs_action=lambda: Q(state__in=OPEN_AUDIT_STATES),
        newest="due_on",
        date_filters=(("due_on", _("due on")), ("planned_start", _("planned start"))),
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
                precheck=lambda audit, user: refusal(selectors.audit_startable, audit),
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
                precheck=lambda audit, user: refusal(selectors.audit_completable, audit),
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
