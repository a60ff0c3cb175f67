"""Admin for nonconformities (004 §5.10): the list with deadlines, each NC with its answers
(read-only) and the team's actions.

Every change goes through ``audits.nonconformities``: raising is the "add" page (a form that
calls ``nonconformity_raise``), reviewing the latest answer and verifying a minor NC's plan at
the next audit are actions with a confirm form (``certbody.admin_actions.service_action``). The
NC page itself is read-only. Imported at the end of ``audits/admin.py``.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from audits import nonconformities
from audits.forms import (
    NonconformityRaiseForm,
    NonconformityRejectForm,
    NonconformityReviewForm,
    NonconformityVerifyPlanForm,
)
from audits.models import Nonconformity, NonconformityResponse
from certbody.admin_actions import service_action
from certbody.lifecycle import RuleViolation


class NonconformityResponseInline(admin.StackedInline):
    model = NonconformityResponse
    extra = 0
    can_delete = False
    fields = (
        "submitted_on",
        "submitted_by",
        "is_plan",
        "cause_analysis",
        "correction",
        "corrective_action",
        "files",
        "review",
        "reviewed_by",
        "reviewed_on",
        "review_note",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Evidence files"))
    def files(self, obj):
        rows = [
            (reverse("audits_portal:attachment", args=[a.pk]), a.original_name, a.size)
            for a in obj.attachments.all()
        ]
        if not rows:
            return "—"
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> ({} B)', rows)


@admin.register(Nonconformity)
class NonconformityAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "organization_name",
        "severity",
        "clause",
        "state",
        "due_on",
        "closed_on",
        "late",
    )
    list_filter = ("state", "severity", "audit__kind")
    search_fields = ("audit__programme__organization__name", "clause", "description")
    date_hierarchy = "due_on"
    list_select_related = ("audit__programme__organization",)
    readonly_fields = (
        "audit",
        "number",
        "severity",
        "clause",
        "description",
        "evidence",
        "raised_by",
        "raised_on",
        "due_on",
        "state",
        "next_step",
        "closed_on",
        "verified_at",
        "late",
    )
    fields = readonly_fields
    inlines = [NonconformityResponseInline]
    actions = [
        service_action(
            nonconformities.nonconformity_review_pending,
            name="accept_answer",
            label=_("Accept the latest answer (close, or accept the plan)"),
            target="nonconformity",
            form_class=NonconformityReviewForm,
            extra=lambda obj: {"accepted": True},
        ),
        service_action(
            nonconformities.nonconformity_review_pending,
            name="reject_answer",
            label=_("Reject the latest answer"),
            target="nonconformity",
            form_class=NonconformityRejectForm,
            extra=lambda obj: {"accepted": False},
        ),
        service_action(
            nonconformities.nonconformity_verify_plan,
            name="verify_plan",
            label=_("Verify the corrective action plan at the next audit"),
            target="nonconformity",
            form_class=NonconformityVerifyPlanForm,
        ),
    ]

    def has_change_permission(self, request, obj=None):
        return False  # every change goes through the actions (style.md "one write path")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("organisation"), ordering="audit__programme__organization")
    def organization_name(self, obj):
        return obj.audit.programme.organization.name

    @admin.display(description=_("What happens next"))
    def next_step(self, obj):
        return nonconformities.next_step(obj)

    @admin.display(description=_("settled after the deadline"), boolean=True)
    def late(self, obj):
        return nonconformities.verified_late(obj)

    def add_view(self, request, form_url="", extra_context=None):
        """Raise an NC through ``nonconformity_raise`` (``?audit=<pk>`` preselects the audit)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"audit": request.GET.get("audit")} if request.GET.get("audit") else {}
        form = NonconformityRaiseForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                nc = nonconformities.nonconformity_raise(actor=request.user, **form.cleaned_data)
            except RuleViolation as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request, f"已开具 {nc}，期限 {nc.due_on:%Y-%m-%d}", messages.SUCCESS
                )
                return redirect(reverse("admin:audits_nonconformity_change", args=[nc.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Raise a nonconformity"),
            "form": form,
            "opts": self.model._meta,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/audits/nonconformity_raise.html", context)
