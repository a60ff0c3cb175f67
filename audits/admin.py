"""Admin for the audit department: programmes, audits, auditors, ASRP.

Every change goes through ``audits.services`` (actions with a confirm form); the read-only
panels on the audit page show what the services computed and recorded: the audit time
determination (or the proposal), the sampling plan, the team check and the audit plan.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from applications.admin import ApplicationAdmin
from applications.models import Application, Site
from audits import score_sheets, scoring, services
from audits.catalogue import part_totals
from audits.forms import (  # the workspace (audits.desks) shares these forms
    AsrpActivityForm,
    AsrpApproveForm,
    AsrpEligibilityForm,
    AsrpEndForm,
    AsrpForm,
    AsrpIndicatorForm,
    AsrpIndicatorResultForm,
    AsrpNotifyForm,
    CatalogueNewVersionForm,
    CompleteForm,
    DetermineTimeForm,
    HeadcountForm,
    PlanConfirmForm,
    PlanForm,
    PlanReportForm,
    PlanSendForm,
    SamplingForm,
    ScheduleForm,
    SpecialAuditForm,
    StartForm,
    TeamMemberForm,
    TeamRemoveForm,
    TerminateForm,
    parse_adjustments,  # noqa: F401  (re-exported: it used to live here)
)
from audits.models import (
    AsrpAuditActivity,
    AsrpEligibilityCheck,
    AsrpIndicator,
    AsrpProgramme,
    Audit,
    Auditor,
    AuditorCompetence,
    AuditPlan,
    AuditProgramme,
    AuditTeamMember,
    ConflictDeclaration,
    Indicator,
    IndicatorCatalogue,
    ScoreItem,
    ScoreSheet,
    SpecialDeduction,
)
from audits.views import plan_context
from certbody.admin_actions import service_action
from certbody.lifecycle import RuleViolation


def object_action(*, name: str, label: str, form_class, apply):
    """An admin action on exactly one object whose form is built for that object.

    ``form_class(data=None, obj=…)`` proposes values for the object; ``apply(obj, user, data)``
    calls the service. Refusals are shown as error messages, as ``service_action`` does.
    """

    def action(modeladmin, request, queryset):
        if queryset.count() != 1:
            modeladmin.message_user(request, "此操作每次只能选择一项", messages.ERROR)
            return None
        obj = queryset.get()
        if "apply" not in request.POST:
            return _confirm(modeladmin, request, queryset, form_class(obj=obj), name, label)
        form = form_class(request.POST, obj=obj)
        if not form.is_valid():
            return _confirm(modeladmin, request, queryset, form, name, label)
        try:
            with transaction.atomic():
                apply(obj, request.user, form.cleaned_data)
        except (RuleViolation, ValidationError) as exc:
            text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{obj}：{text}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{label}：1 项已完成", messages.SUCCESS)
        return None

    action.__name__ = name
    return admin.action(description=label)(action)


def _confirm(modeladmin, request, queryset, form, name, label):
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": label,
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action_name": name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/service_action.html", context)


# --- programmes ---------------------------------------------------------------------------


class AuditInline(admin.TabularInline):
    model = Audit
    extra = 0
    fields = (
        "kind",
        "sequence",
        "special_kind",
        "short_notice",
        "state",
        "due_on",
        "planned_start",
        "planned_end",
        "planned_days",
        "plan_report_due",
    )
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AuditProgramme)
class AuditProgrammeAdmin(SimpleHistoryAdmin):
    list_display = (
        "organization",
        "cycle",
        "scheme",
        "state",
        "decided_on",
        "expires_on",
        "recert_application_due",
        "asrp_state",
    )
    list_filter = ("state", "scheme")
    search_fields = ("organization__name",)
    date_hierarchy = "recert_application_due"
    readonly_fields = (
        "organization",
        "application",
        "cycle",
        "scheme",
        "state",
        "headcount",
        "decided_on",
        "expires_on",
        "recert_application_due",
        "recertification_status",
        "asrp_summary",
    )
    inlines = [AuditInline]
    actions = [
        service_action(
            services.programme_replan,
            name="replan",
            label=_("Re-plan due dates"),
            target="programme",
        ),
        object_action(
            name="change_headcount",
            label=_("Change the effective headcount"),
            form_class=HeadcountForm,
            apply=lambda obj, user, data: services.programme_headcount_change(
                programme=obj, actor=user, **data
            ),
        ),
        service_action(
            services.audit_add_special,
            name="add_special_audit",
            label=_("Add an extra or short-notice audit"),
            target="programme",
            form_class=SpecialAuditForm,
        ),
        service_action(
            services.asrp_programme_create,
            name="create_asrp",
            label=_("Design an ASRP programme"),
            target="programme",
            form_class=AsrpForm,
        ),
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("ASRP"))
    def asrp_state(self, obj):
        asrp = AsrpProgramme.objects.filter(programme=obj).first()
        return asrp.get_state_display() if asrp else "—"

    @admin.display(description=_("recertification"))
    def recertification_status(self, obj):
        return render_to_string(
            "admin/audits/recertification_status.html",
            _recertification_context(obj),
        )

    @admin.display(description=_("ASRP programme"))
    def asrp_summary(self, obj):
        asrp = AsrpProgramme.objects.filter(programme=obj).first()
        if asrp is None:
            failures = services.asrp_full_cycle_failures(obj)
            return "；".join(failures) if failures else "可设计 ASRP 方案（000 §4.1.1 已满足）"
        url = reverse("admin:audits_asrpprogramme_change", args=[asrp.pk])
        return format_html('<a href="{}">{}</a>', url, asrp.get_state_display())


def _recertification_context(programme: AuditProgramme) -> dict:
    """The recertification application deadline and whether it was met (004 §5.8.1)."""
    due = programme.recert_application_due
    later = (
        Application.objects.filter(
            organization_id=programme.organization_id,
            kind=Application.Kind.RECERTIFICATION,
            created_at__gte=programme.created_at,
        )
        .exclude(pk=programme.application_id)
        .order_by("created_at")
        .first()
    )
    submitted = timezone.localdate(later.submitted_at) if later and later.submitted_at else None
    today = timezone.localdate()
    return {
        "due": due,
        "expires_on": programme.expires_on,
        "application": later,
        "submitted": submitted,
        "late": bool(due and submitted and submitted > due),
        "overdue": bool(due and submitted is None and today > due),
    }


# --- audits -------------------------------------------------------------------------------


class TeamInline(admin.TabularInline):
    model = AuditTeamMember
    extra = 0
    fields = ("user", "role", "registration", "full_time", "whole_audit", "counted", "tasks")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("registration number"))
    def registration(self, member):
        profile = Auditor.objects.filter(user=member.user).first()
        return profile.registration_number if profile and profile.registration_number else "—"

    @admin.display(description=_("full-time (专职)"), boolean=True)
    def full_time(self, member):
        profile = Auditor.objects.filter(user=member.user).first()
        return bool(profile and profile.is_full_time)

    @admin.display(description=_("counted in audit time"), boolean=True)
    def counted(self, member):
        return member.counted_in_audit_time


def _has(obj, name) -> bool:
    try:
        getattr(obj, name)
    except AttributeError:
        return False
    return True


def _plan_of(audit):
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is None:
        raise RuleViolation("请先编制审核计划", "004 §5.4.6.1")
    return plan


AUDIT_ACTIONS = [
    service_action(
        services.audit_schedule,
        name="schedule",
        label=_("Schedule dates and time"),
        target="audit",
        form_class=ScheduleForm,
    ),
    object_action(
        name="determine_time",
        label=_("Determine the audit time"),
        form_class=DetermineTimeForm,
        apply=lambda obj, user, data: services.audit_time_determine(audit=obj, actor=user, **data),
    ),
    object_action(
        name="record_sampling",
        label=_("Record the multi-site sampling plan"),
        form_class=SamplingForm,
        apply=lambda obj, user, data: services.sampling_plan_record(
            audit=obj,
            actor=user,
            **SamplingForm.service_kwargs(data),
        ),
    ),
    service_action(
        services.audit_team_add,
        name="add_team_member",
        label=_("Add a team member"),
        target="audit",
        form_class=TeamMemberForm,
    ),
    object_action(
        name="remove_team_member",
        label=_("Remove a team member"),
        form_class=TeamRemoveForm,
        apply=lambda obj, user, data: services.audit_team_remove(audit=obj, actor=user, **data),
    ),
    object_action(
        name="prepare_plan",
        label=_("Write or change the audit plan"),
        form_class=PlanForm,
        apply=lambda obj, user, data: services.audit_plan_prepare(audit=obj, actor=user, **data),
    ),
    service_action(
        lambda audit, **kwargs: services.audit_plan_send(plan=_plan_of(audit), **kwargs),
        name="send_plan",
        label=_("Send the plan to the client"),
        target="audit",
        form_class=PlanSendForm,
    ),
    service_action(
        lambda audit, **kwargs: services.audit_plan_confirm(plan=_plan_of(audit), **kwargs),
        name="confirm_plan",
        label=_("Record the client's confirmation of the plan"),
        target="audit",
        form_class=PlanConfirmForm,
    ),
    service_action(
        lambda audit, **kwargs: services.audit_plan_report_cnca(plan=_plan_of(audit), **kwargs),
        name="report_plan",
        label=_("Record the plan's report to CNCA"),
        target="audit",
        form_class=PlanReportForm,
    ),
    service_action(
        services.audit_start, name="start", label=_("Start"), target="audit", form_class=StartForm
    ),
    object_action(
        name="record_asrp_activity",
        label=_("Record an ASRP mandatory activity"),
        form_class=AsrpActivityForm,
        apply=lambda obj, user, data: services.asrp_activity_record(audit=obj, actor=user, **data),
    ),
    service_action(
        services.audit_complete,
        name="complete",
        label=_("Complete (team leader)"),
        target="audit",
        form_class=CompleteForm,
    ),
    service_action(services.audit_close, name="close", label=_("Close"), target="audit"),
    service_action(
        services.audit_terminate,
        name="terminate",
        label=_("Terminate"),
        target="audit",
        form_class=TerminateForm,
    ),
]


@admin.register(Audit)
class AuditAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "kind",
        "sequence",
        "state",
        "due_on",
        "planned_start",
        "planned_days",
        "plan_report_due",
    )
    list_filter = ("state", "kind", "short_notice")
    search_fields = ("programme__organization__name",)
    date_hierarchy = "due_on"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "programme",
                    "kind",
                    "sequence",
                    "state",
                    "due_on",
                    "special_kind",
                    "short_notice",
                    "notified_on",
                    "reason",
                )
            },
        ),
        (
            _("Dates"),
            {
                "fields": (
                    "planned_start",
                    "planned_end",
                    "planned_days",
                    "plan_report_due",
                    "actual_start",
                    "actual_end",
                )
            },
        ),
        (_("Audit time"), {"fields": ("time_determination_panel",)}),
        (_("Multi-site sampling"), {"fields": ("sampling_plan_panel",)}),
        (_("Audit team"), {"fields": ("team_check_panel",)}),
        (_("Audit plan"), {"fields": ("plan_panel",)}),
        (_("ASRP"), {"fields": ("asrp_panel",)}),
        (_("Score sheet"), {"fields": ("score_sheet_panel",)}),
        (
            _("Outcome"),
            {"fields": ("findings_summary", "recommendation_positive", "termination_reason")},
        ),
    )
    readonly_fields = (
        "programme",
        "kind",
        "sequence",
        "state",
        "due_on",
        "special_kind",
        "short_notice",
        "notified_on",
        "reason",
        "planned_start",
        "planned_end",
        "planned_days",
        "plan_report_due",
        "actual_start",
        "actual_end",
        "time_determination_panel",
        "sampling_plan_panel",
        "team_check_panel",
        "plan_panel",
        "asrp_panel",
        "score_sheet_panel",
        "findings_summary",
        "recommendation_positive",
        "termination_reason",
    )
    inlines = [TeamInline]
    actions = AUDIT_ACTIONS

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/plan/",
                self.admin_site.admin_view(self.plan_document),
                name="audits_audit_plan_document",
            ),
            *super().get_urls(),
        ]

    def plan_document(self, request, pk):
        """The audit plan as sent to the client, for printing (004 §5.4.6.1)."""
        audit = self.get_object(request, str(pk))
        if audit is None or not self.has_view_permission(request, audit):
            raise PermissionDenied
        plan = _plan_of_or_none(audit)
        return TemplateResponse(request, "audits/audit_plan.html", plan_context(audit, plan))

    @admin.display(description=_("audit time"))
    def time_determination_panel(self, obj):
        determination = getattr(obj, "time_determination", None) if obj.pk else None
        proposal = None
        error = ""
        if determination is None and obj.kind != Audit.Kind.DOCUMENT_REVIEW:
            try:
                proposal = services.audit_time_propose(obj)
            except RuleViolation as exc:
                error = str(exc)
        return render_to_string(
            "admin/audits/audit_time.html",
            {
                "audit": obj,
                "determination": determination,
                "adjustments": list(determination.adjustments.all()) if determination else [],
                "proposal": proposal,
                "error": error,
                "headcount_changed": bool(
                    determination
                    and determination.effective_headcount != obj.programme.planning_headcount
                ),
                "programme_headcount": obj.programme.planning_headcount,
            },
        )

    @admin.display(description=_("sampling plan"))
    def sampling_plan_panel(self, obj):
        plan = getattr(obj, "sampling_plan", None) if _has(obj, "sampling_plan") else None
        site_count = Site.objects.filter(organization_id=obj.programme.organization_id).count()
        return render_to_string(
            "admin/audits/sampling_plan.html",
            {
                "plan": plan,
                "rows": list(plan.rows.select_related("site")) if plan else [],
                "multi_site": site_count > 1,
            },
        )

    @admin.display(description=_("team check"))
    def team_check_panel(self, obj):
        return render_to_string(
            "admin/audits/team_check.html", {"failures": services.audit_team_check(obj)}
        )

    @admin.display(description=_("audit plan"))
    def plan_panel(self, obj):
        plan = _plan_of_or_none(obj)
        url = reverse("admin:audits_audit_plan_document", args=[obj.pk]) if plan else ""
        return render_to_string(
            "admin/audits/audit_plan_panel.html",
            {"audit": obj, "plan": plan, "url": url, "today": timezone.localdate()},
        )

    @admin.display(description=_("score sheet"))
    def score_sheet_panel(self, obj):
        if obj.kind not in score_sheets.SCORED_KINDS:
            return "—"
        sheet = ScoreSheet.objects.filter(audit=obj).first()
        url = reverse("audits:score_sheet", args=[obj.pk])
        if sheet is None:
            return format_html('<a href="{}">{}</a>', url, _("No score sheet yet: open it"))
        return format_html(
            '<a href="{}">{} · {} · {}</a>',
            url,
            sheet.score,
            scoring.GRADES.get(sheet.grade, sheet.grade),
            sheet.get_state_display(),
        )

    @admin.display(description=_("ASRP mandatory activities"))
    def asrp_panel(self, obj):
        activities = list(AsrpAuditActivity.objects.filter(audit=obj))
        return render_to_string("admin/audits/asrp_activities.html", {"activities": activities})


def _plan_of_or_none(audit):
    return AuditPlan.objects.filter(audit=audit).first() if audit.pk else None


# --- auditors -----------------------------------------------------------------------------


class CompetenceInline(admin.TabularInline):
    model = AuditorCompetence
    extra = 0
    fields = ("business_scope", "evidence", "granted_on", "valid_until")
    autocomplete_fields = ("business_scope",)


class ConflictDeclarationInline(admin.TabularInline):
    model = ConflictDeclaration
    extra = 0
    fields = ("organization", "has_interest", "description", "declared_on")
    autocomplete_fields = ("organization",)


@admin.register(Auditor)
class AuditorAdmin(SimpleHistoryAdmin):
    list_display = (
        "user",
        "registration_number",
        "qualification",
        "is_full_time",
        "codes",
        "active",
    )
    list_filter = ("qualification", "is_full_time", "active", "competences__business_scope")
    search_fields = ("user__username", "user__display_name", "registration_number")
    inlines = [CompetenceInline, ConflictDeclarationInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(
                is_staff=True, organization__isnull=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("competence codes"))
    def codes(self, obj):
        return "、".join(f"{code:02d}" for code in obj.competence_codes(timezone.localdate()))


# --- ASRP ---------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class EligibilityInline(ReadOnlyInline):
    model = AsrpEligibilityCheck
    fields = ("criterion", "met", "evidence", "checked_by", "checked_on")


class IndicatorInline(ReadOnlyInline):
    model = AsrpIndicator
    fields = ("name", "target", "method", "agreed_on", "latest_results")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description=_("results"))
    def latest_results(self, indicator):
        return "；".join(
            f"{r.period} {r.value}{'' if r.met else '（未达到）'}" for r in indicator.results.all()
        )


@admin.register(AsrpProgramme)
class AsrpProgrammeAdmin(SimpleHistoryAdmin):
    list_display = ("programme", "state", "approved_on", "accreditation_notified_on")
    list_filter = ("state",)
    search_fields = ("programme__organization__name",)
    readonly_fields = (
        "programme",
        "state",
        "reliance",
        "witnessing_criteria",
        "internal_auditor_criteria",
        "adjustment_criteria",
        "audit_components",
        "special_competences",
        "approved_by",
        "approved_on",
        "accreditation_notified_on",
        "ended_on",
        "end_reason",
        "approval_check",
    )
    inlines = [EligibilityInline, IndicatorInline]
    actions = [
        service_action(
            services.asrp_eligibility_record,
            name="record_eligibility",
            label=_("Record an eligibility check"),
            target="asrp",
            form_class=AsrpEligibilityForm,
        ),
        service_action(
            services.asrp_indicator_add,
            name="add_indicator",
            label=_("Add an agreed performance indicator"),
            target="asrp",
            form_class=AsrpIndicatorForm,
        ),
        object_action(
            name="record_indicator_result",
            label=_("Record an indicator result"),
            form_class=AsrpIndicatorResultForm,
            apply=lambda obj, user, data: services.asrp_indicator_result_record(actor=user, **data),
        ),
        service_action(
            services.asrp_programme_approve,
            name="approve",
            label=_("Approve (technical manager)"),
            target="asrp",
            form_class=AsrpApproveForm,
        ),
        service_action(
            services.asrp_accreditation_notify,
            name="notify_accreditation_body",
            label=_("Record the notification of the accreditation body"),
            target="asrp",
            form_class=AsrpNotifyForm,
        ),
        service_action(
            services.asrp_programme_end,
            name="end",
            label=_("End the ASRP programme"),
            target="asrp",
            form_class=AsrpEndForm,
        ),
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("approval check"))
    def approval_check(self, obj):
        if obj.state != AsrpProgramme.State.DRAFT:
            return "—"
        return render_to_string(
            "admin/audits/team_check.html",
            {"failures": services.asrp_approval_failures(obj), "ok_text": "可以批准"},
        )


# --- indicator catalogue and score sheets (004 §5.6.5.2) ------------------------------------


class CatalogueIndicatorFormSet(forms.BaseInlineFormSet):
    """Keeps the current version complete: its parts must still add up to 40 / 35 / 25."""

    def clean(self):
        super().clean()
        if not self.instance.pk or not self.instance.is_current:
            return
        rows = [
            (form.cleaned_data["part"], form.cleaned_data["max_points"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("part")
            and form.cleaned_data.get("max_points") is not None
        ]
        problems = score_sheets.part_total_problems(rows)
        if problems:
            raise ValidationError(
                "当前版本各部分分值须合计为 40/35/25（004 §5.6.5.2）：" + "；".join(problems)
            )


class CatalogueIndicatorInline(admin.TabularInline):
    """The indicators of a version; read-only once a score sheet uses the version."""

    model = Indicator
    formset = CatalogueIndicatorFormSet
    extra = 0
    fields = ("position", "part", "code", "name", "max_points", "method", "guidance")

    def _locked(self, obj) -> bool:
        return obj is not None and obj.is_locked

    def get_readonly_fields(self, request, obj=None):
        return self.fields if self._locked(obj) else ()

    def has_add_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(IndicatorCatalogue)
class IndicatorCatalogueAdmin(SimpleHistoryAdmin):
    """Versions of the checklist; a version used by a score sheet is locked (copy it instead)."""

    list_display = ("version", "title", "is_current", "locked", "totals")
    list_filter = ("is_current",)
    search_fields = ("version", "title")
    fields = ("version", "title", "notes", "is_current", "totals", "created_at")
    inlines = [CatalogueIndicatorInline]
    actions = [
        service_action(
            score_sheets.catalogue_new_version,
            name="new_catalogue_version",
            label=_("Copy as a new version"),
            target="source",
            form_class=CatalogueNewVersionForm,
        ),
        service_action(
            score_sheets.catalogue_make_current,
            name="make_catalogue_current",
            label=_("Make the current version"),
            target="catalogue",
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return self.fields
        return ("is_current", "totals", "created_at")

    @admin.display(description=_("used by score sheets (locked)"), boolean=True)
    def locked(self, obj):
        return obj.is_locked

    @admin.display(description=_("points per part"))
    def totals(self, obj):
        if obj.pk is None:
            return "—"
        sums = part_totals(obj.indicators.values_list("part", "max_points"))
        return "；".join(
            f"{scoring.PART_NAMES[part]} {sums[part].normalize():f}/{total}"
            + ("" if sums[part] == total else " ✗")
            for part, total in scoring.PART_TOTALS.items()
        )


class ScoreItemInline(ReadOnlyInline):
    model = ScoreItem
    fields = (
        "indicator",
        "excluded",
        "exclusion_justification",
        "met",
        "samples",
        "nonconforming",
        "points",
        "evidence",
    )


class SpecialDeductionInline(ReadOnlyInline):
    model = SpecialDeduction
    fields = ("category", "description", "correction_required")


@admin.register(ScoreSheet)
class ScoreSheetAdmin(SimpleHistoryAdmin):
    """Read-only: the team fills and signs off the sheet on its staff page."""

    list_display = ("audit", "state", "score", "grade_label", "passed", "submitted_on")
    list_filter = ("state", "grade", "passed")
    search_fields = ("audit__programme__organization__name",)
    fields = (
        "staff_page",
        "audit",
        "catalogue",
        "state",
        "earned",
        "applicable",
        "score",
        "grade_label",
        "passed",
        "special_bonus",
        "bonus_justification",
        "submitted_by",
        "submitted_on",
    )
    readonly_fields = fields
    inlines = [ScoreItemInline, SpecialDeductionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("grade"), ordering="grade")
    def grade_label(self, obj):
        return scoring.GRADES.get(obj.grade, obj.grade)

    @admin.display(description=_("score sheet page"))
    def staff_page(self, obj):
        url = reverse("audits:score_sheet", args=[obj.audit_id])
        return format_html('<a href="{}">{}</a>', url, _("Open the score sheet page"))


# Creating the programme is an audit-department action on an accepted application.
admin.site.unregister(Application)


@admin.register(Application)
class ApplicationWithProgrammeAdmin(ApplicationAdmin):
    actions = [
        *ApplicationAdmin.actions,
        service_action(
            services.programme_create,
            name="create_programme",
            label=_("Create the audit programme"),
            target="application",
        ),
    ]


# The nonconformity and audit report admins live in their own modules; registering them here
# keeps Django's admin autodiscovery to this one module.
from audits import admin_nonconformities, admin_reports  # noqa: E402,F401
