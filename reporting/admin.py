"""Admin pages of reporting: reports (generate, download, regenerate, mark submitted), the CB's
own changes, auditors' personnel records, the jobs' records and each superuser's own
notifications.

The admin is for superusers only (``certbody.admin``); staff do this work on the workspace
desks (``reporting.desks``, ``/notifications/``). The role checks below are what they were
when staff used these pages; reports change only through the services, offered as actions
(``certbody.admin_actions``).
"""

from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from certbody import roles
from certbody.admin_actions import service_action
from certbody.lifecycle import RuleViolation
from certbody.models import Notification
from certbody.notifications import mark_read
from reporting import services
from reporting.forms import GenerateForm, SubmitForm
from reporting.models import CbChange, JobMark, PersonnelRecord, ReportRun


class RoleAdminMixin:
    """Visible to staff in ``view_roles``, editable by those in ``edit_roles`` (superusers:
    all); deleting is never offered."""

    view_roles: tuple = (roles.REPORTING_OFFICER, roles.TECHNICAL_MANAGER)
    edit_roles: tuple = ()

    def _has(self, request, role_names) -> bool:
        return any(roles.has_role(request.user, role) for role in role_names)

    def has_module_permission(self, request):
        return self._has(request, self.view_roles + self.edit_roles)

    def has_view_permission(self, request, obj=None):
        return self._has(request, self.view_roles + self.edit_roles)

    def has_add_permission(self, request):
        return self._has(request, self.edit_roles)

    def has_change_permission(self, request, obj=None):
        return self._has(request, self.edit_roles)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReportRun)
class ReportRunAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    view_roles = (roles.REPORTING_OFFICER, roles.TECHNICAL_MANAGER, roles.AUDIT_DEPARTMENT)
    list_display = (
        "title_column",
        "period_label",
        "due_on",
        "state",
        "overdue_column",
        "row_count",
        "generated_at",
        "submitted_at",
        "receipt_number",
        "downloads",
    )
    list_filter = ("kind", "state", "due_on")
    date_hierarchy = "due_on"
    search_fields = ("receipt_number", "event__certificate__number")
    readonly_fields = (
        "kind",
        "period_start",
        "period_end",
        "event",
        "rule",
        "due_on",
        "provisional",
        "state",
        "row_count",
        "generated_by",
        "generated_at",
        "submitted_by",
        "submitted_at",
        "receipt_number",
        "downloads",
    )
    exclude = ("file", "csv_file")
    change_list_template = "reporting/admin_reportrun_change_list.html"
    actions = [
        service_action(
            services.report_regenerate,
            name="regenerate",
            label=_("Regenerate from the current data"),
            target="run",
        ),
        service_action(
            services.report_submit,
            name="submit",
            label=_("Mark submitted to the platform"),
            target="run",
            form_class=SubmitForm,
        ),
    ]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._has(request, (roles.REPORTING_OFFICER, roles.TECHNICAL_MANAGER)):
            return {}
        return actions

    @admin.display(description=_("report"), ordering="kind")
    def title_column(self, obj):
        return obj.title

    @admin.display(description=_("overdue"), boolean=True)
    def overdue_column(self, obj):
        return obj.is_overdue()

    @admin.display(description=_("files"))
    def downloads(self, obj):
        if not obj.pk:
            return ""
        return format_html(
            '<a href="{}">XLSX</a> · <a href="{}">CSV</a>',
            reverse("reporting:download", args=[obj.pk, "xlsx"]),
            reverse("reporting:download", args=[obj.pk, "csv"]),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("generate/", view(self.generate_view), name="reporting_reportrun_generate"),
            *super().get_urls(),
        ]

    def generate_view(self, request):
        if not self._has(request, (roles.REPORTING_OFFICER, roles.TECHNICAL_MANAGER)):
            raise Http404
        form = GenerateForm(request.POST or None, initial={"period": timezone.localdate()})
        if request.method == "POST" and form.is_valid():
            try:
                run = services.report_generate(
                    kind=form.cleaned_data["kind"],
                    actor=request.user,
                    period_start=form.cleaned_data["period"],
                )
            except RuleViolation as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"{run} 已生成，共 {run.row_count} 行", messages.SUCCESS)
                for problem in run.problems:
                    self.message_user(request, problem, messages.WARNING)
                return redirect("admin:reporting_reportrun_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Generate a report"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "reporting/generate.html", context)


@admin.register(CbChange)
class CbChangeAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    view_roles = (roles.TECHNICAL_MANAGER,)
    edit_roles = (roles.REPORTING_OFFICER, roles.TECHNICAL_MANAGER)
    list_display = ("occurred_on", "category", "description", "recorded_by")
    list_filter = ("category",)
    date_hierarchy = "occurred_on"
    fields = ("category", "occurred_on", "description", "evidence")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(PersonnelRecord)
class PersonnelRecordAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    view_roles = (roles.TECHNICAL_MANAGER,)
    edit_roles = (roles.AUDIT_DEPARTMENT, roles.REPORTING_OFFICER)
    list_display = ("auditor", "gender", "education", "title", "employed_on", "left_on")
    search_fields = ("auditor__user__username", "auditor__user__display_name", "id_number")
    raw_id_fields = ("auditor",)


@admin.register(JobMark)
class JobMarkAdmin(RoleAdminMixin, admin.ModelAdmin):
    view_roles = (roles.TECHNICAL_MANAGER, roles.REPORTING_OFFICER)
    list_display = ("created_at", "job", "object_id", "threshold", "acted_on", "failed", "note")
    list_filter = ("job", "failed")
    date_hierarchy = "acted_on"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Each staff member's own notifications (the in-app list); reading one marks it read."""

    list_display = ("created_at", "subject", "kind", "is_read", "open_link")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "body")
    readonly_fields = ("created_at", "kind", "subject", "body", "open_link", "read_at")
    fields = readonly_fields
    actions = ["mark_as_read"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(recipient=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or obj.recipient_id == request.user.pk
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        # The admin offers actions only to users with a change or delete permission.
        actions = super().get_actions(request)
        if "mark_as_read" not in actions and self.has_module_permission(request):
            actions["mark_as_read"] = self.get_action("mark_as_read")
        return actions

    @admin.display(description=_("read"), boolean=True)
    def is_read(self, obj):
        return obj.read_at is not None

    @admin.display(description=_("link"))
    def open_link(self, obj):
        return format_html('<a href="{}">{}</a>', obj.link, _("open")) if obj.link else ""

    @admin.action(description=_("Mark as read"))
    def mark_as_read(self, request, queryset):
        done = mark_read(user=request.user, ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} 条已标记为已读", messages.SUCCESS)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if object_id and str(object_id).isdigit():
            mark_read(user=request.user, ids=[int(object_id)])
        return super().change_view(request, object_id, form_url, extra_context)
