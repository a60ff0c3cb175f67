"""Admin for audit reports (004 §5.11): the reports list with download and delivery, and the
"generate the report" action offered on the audit page (``REPORT_ACTIONS``).

Imported at the end of ``audits/admin.py`` so the registration happens with the rest of the
audits admin. Every change goes through ``audits.audit_reports``.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audits import audit_reports
from audits.models import AuditReport
from certbody import roles
from certbody.admin_actions import DateInput, service_action

READERS = (
    roles.AUDIT_DEPARTMENT,
    roles.TECHNICAL_MANAGER,
    roles.AUDITOR,
    roles.DECISION_MAKER,
    roles.REPORTING_OFFICER,
)


class ReportGenerateForm(forms.Form):
    signed_on = forms.DateField(label=_("signed on"), widget=DateInput)


class ReportDeliverForm(forms.Form):
    delivered_on = forms.DateField(label=_("delivered on"), widget=DateInput)
    evidence = forms.CharField(
        label=_("proof of delivery"),
        max_length=300,
        help_text=_("Signed receipt, courier number or e-mail (004 §5.11.5)."),
    )


# Offered on the audit page (certificates.admin.DecisionAuditAdmin adds them).
REPORT_ACTIONS = [
    service_action(
        audit_reports.audit_report_generate,
        name="generate_report",
        label=_("Generate and sign the audit report (team leader)"),
        target="audit",
        form_class=ReportGenerateForm,
    ),
]


class AuditReportInline(admin.TabularInline):
    model = AuditReport
    extra = 0
    fields = ("kind", "version", "signed_by", "signed_on", "delivered_on", "download")
    readonly_fields = fields
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return _reader(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        return _download_link(obj)


def _reader(request) -> bool:
    return any(roles.has_role(request.user, role) for role in READERS)


def _download_link(report):
    url = reverse("admin:audits_auditreport_download", args=[report.pk])
    return format_html('<a href="{}">{}</a>', url, _("Download PDF"))


@admin.register(AuditReport)
class AuditReportAdmin(admin.ModelAdmin):
    """Reports are records: never added, edited or deleted here, only generated (on the audit
    page) and delivered (action) through the services."""

    list_display = (
        "audit",
        "kind",
        "version",
        "signed_by",
        "signed_on",
        "delivered_on",
        "download",
    )
    list_filter = ("kind", ("delivered_on", admin.EmptyFieldListFilter))
    search_fields = ("audit__programme__organization__name",)
    date_hierarchy = "signed_on"
    list_select_related = ("audit", "audit__programme__organization", "signed_by")
    readonly_fields = (
        "audit",
        "kind",
        "version",
        "sha256",
        "size",
        "signed_by",
        "signed_on",
        "delivered_on",
        "delivered_by",
        "delivery_evidence",
        "download",
    )
    exclude = ("file",)
    actions = [
        service_action(
            audit_reports.audit_report_deliver,
            name="deliver",
            label=_("Record delivery to the client"),
            target="report",
            form_class=ReportDeliverForm,
        )
    ]

    def has_module_permission(self, request):
        return _reader(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _reader(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="audits_auditreport_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        """The stored PDF exactly as signed, for staff who may view reports."""
        report = AuditReport.objects.filter(pk=pk).first()
        if report is None or not self.has_view_permission(request, report):
            raise PermissionDenied
        response = FileResponse(
            report.file.open("rb"),
            content_type="application/pdf",
            as_attachment=True,
            filename=report.file.name.rsplit("/", 1)[-1],
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.display(description=_("file"))
    def download(self, obj):
        return _download_link(obj)
