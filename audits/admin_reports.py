"""Admin for audit reports (004 §5.11): the reports list with download and delivery, and the
"generate the report" action offered on the audit page (``REPORT_ACTIONS``).

Imported at the end of ``audits/admin.py`` so the registration happens with the rest of the
audits admin. Every change goes through ``audits.audit_reports``.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audits import audit_reports, forms
from audits.models import AuditReport
from certbody.admin_actions import service_action

# Offered on the audit page (certificates.admin.DecisionAuditAdmin adds them).
REPORT_ACTIONS = [
    service_action(
        audit_reports.audit_report_generate,
        name="generate_report",
        label=_("Generate and sign the audit report (team leader)"),
        target="audit",
        form_class=forms.ReportSignForm,
    ),
]


class AuditReportInline(admin.TabularInline):
    model = AuditReport
    extra = 0
    fields = ("kind", "version", "signed_by", "signed_on", "delivered_on", "download")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        return _download_link(obj)


def _download_link(report):
    # The one permission-checked download (audits.portal.report_download) serves staff too.
    url = reverse("audits_client:report", args=[report.pk])
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
            form_class=forms.ReportDeliverForm,
        )
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        return _download_link(obj)
