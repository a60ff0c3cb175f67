from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from audits.admin import AuditAdmin
from audits.admin_reports import REPORT_ACTIONS, AuditReportInline
from audits.models import Audit
from certbody.admin_actions import service_action
from certbody.lifecycle import RuleViolation
from certificates import services
from certificates.forms import (
    AppealAcknowledgeForm,
    AppealAssignForm,
    AppealDecideForm,
    CancelForm,
    DecisionForm,
    ObligationDoneForm,
    ProposalAcceptForm,
    ProposalDismissForm,
    ReduceScopeForm,
    RegulatoryEventForm,
    ReissueActionForm,
    RestoreForm,
    StaffAppealForm,
    SurveillanceConclusionForm,
    SuspendForm,
    WithdrawForm,
)
from certificates.models import (
    Appeal,
    Certificate,
    CertificateDocument,
    CertificateEvent,
    CertificateSequence,
    Decision,
    Proposal,
    RegulatoryEvent,
    ReportingObligation,
)

admin.site.unregister(Audit)


@admin.register(Audit)
class DecisionAuditAdmin(AuditAdmin):
    inlines = [*AuditAdmin.inlines, AuditReportInline]
    actions = [
        *AuditAdmin.actions,
        *REPORT_ACTIONS,
        service_action(
            services.surveillance_conclude,
            name="conclude_surveillance",
            label=_("Surveillance conclusion (team leader)"),
            target="audit",
            form_class=SurveillanceConclusionForm,
        ),
        service_action(
            services.decision_make,
            name="decide",
            label=_("Make the certification decision"),
            target="audit",
            form_class=DecisionForm,
        ),
    ]


class RoleAdminMixin:
    """Admin pages the services guard (the admin is for superusers, certbody.admin): adding,
    editing and deleting go through the actions only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = CertificateEvent
    extra = 0
    fields = (
        "kind",
        "occurred_on",
        "status_code",
        "change_code",
        "reason_code",
        "cause",
        "ends_on",
        "reason",
        "actor",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DocumentInline(admin.TabularInline):
    model = CertificateDocument
    extra = 0
    fields = ("kind", "note", "created_at", "sha256", "download")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        url = reverse("certificates:portal_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download PDF"))


class ProposalInline(admin.TabularInline):
    model = Proposal
    extra = 0
    fields = ("action", "cause", "star_grade", "reason", "state", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Certificate)
class CertificateAdmin(SimpleHistoryAdmin):
    list_display = (
        "number",
        "organization_name",
        "status",
        "star_grade",
        "issued_on",
        "expires_on",
        "suspended_until",
        "public_page",
    )
    list_filter = ("status", "star_grade", "cycle")
    search_fields = ("number", "organization__name", "organization_name")
    date_hierarchy = "issued_on"
    list_select_related = ("organization",)
    readonly_fields = [f.name for f in Certificate._meta.fields if f.name != "token"] + [
        "public_page"
    ]
    exclude = ("business_scopes",)
    inlines = [DocumentInline, EventInline, ProposalInline]
    actions = [
        service_action(
            services.certificate_suspend,
            name="suspend",
            label=_("Suspend"),
            target="certificate",
            form_class=SuspendForm,
        ),
        service_action(
            services.certificate_restore,
            name="restore",
            label=_("Restore"),
            target="certificate",
            form_class=RestoreForm,
        ),
        service_action(
            services.certificate_withdraw,
            name="withdraw",
            label=_("Withdraw"),
            target="certificate",
            form_class=WithdrawForm,
        ),
        service_action(
            services.certificate_cancel,
            name="cancel",
            label=_("Cancel (at the client's request)"),
            target="certificate",
            form_class=CancelForm,
        ),
        service_action(
            services.certificate_expire,
            name="expire",
            label=_("Mark expired"),
            target="certificate",
        ),
        service_action(
            services.certificate_reissue,
            name="reissue",
            label=_("Reissue within validity"),
            target="certificate",
            form_class=ReissueActionForm,
        ),
        service_action(
            services.certificate_reduce_scope,
            name="reduce_scope",
            label=_("Reduce the scope instead of suspending"),
            target="certificate",
            form_class=ReduceScopeForm,
        ),
        service_action(
            services.regulatory_event_record,
            name="record_regulatory_event",
            label=_("Record a regulatory event"),
            target="certificate",
            form_class=RegulatoryEventForm,
        ),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("public page"))
    def public_page(self, obj):
        return format_html(
            '<a href="{}" target="_blank">{}</a>', obj.get_absolute_url(), _("verify")
        )


@admin.register(Decision)
class DecisionAdmin(SimpleHistoryAdmin):
    list_display = ("audit", "outcome", "basis", "decided_by", "decided_on", "star_grade")
    list_filter = ("outcome", "basis")
    readonly_fields = (
        "audit",
        "outcome",
        "basis",
        "decided_by",
        "decided_on",
        "star_grade",
        "reasons",
    )
    inlines = [DocumentInline]

    def has_add_permission(self, request):
        return False


@admin.register(CertificateEvent)
class CertificateEventAdmin(admin.ModelAdmin):
    list_display = (
        "certificate",
        "kind",
        "occurred_on",
        "status_code",
        "change_code",
        "reason_code",
        "actor",
    )
    list_filter = ("kind", "status_code")
    date_hierarchy = "occurred_on"
    search_fields = ("certificate__number",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CertificateSequence)
class CertificateSequenceAdmin(admin.ModelAdmin):
    list_display = ("year", "last")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # gapless: only certificate_issue advances it

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RegulatoryEvent)
class RegulatoryEventAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "occurred_on",
        "organization",
        "certificate",
        "kind",
        "level",
        "result",
        "source",
        "special_audit",
    )
    list_filter = ("kind", "level", "result", "major", "written_finding")
    search_fields = ("organization__name", "certificate__number", "source")
    date_hierarchy = "occurred_on"
    list_select_related = ("organization", "certificate")


@admin.register(Proposal)
class ProposalAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "certificate",
        "action",
        "cause",
        "star_grade",
        "reason",
        "state",
        "audit",
        "created_at",
    )
    list_filter = ("state", "action")
    search_fields = ("certificate__number", "certificate__organization_name")
    list_select_related = ("certificate",)
    actions = [
        service_action(
            services.proposal_accept,
            name="accept",
            label=_("Accept: withdraw the certificate"),
            target="proposal",
            form_class=ProposalAcceptForm,
        ),
        service_action(
            services.proposal_dismiss,
            name="dismiss",
            label=_("Dismiss"),
            target="proposal",
            form_class=ProposalDismissForm,
        ),
    ]


@admin.register(ReportingObligation)
class ReportingObligationAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    list_display = ("due_on", "recipient", "subject", "rule", "provisional", "done_on")
    list_filter = ("recipient", "provisional", ("done_on", admin.EmptyFieldListFilter))
    date_hierarchy = "due_on"
    actions = [
        service_action(
            services.reporting_obligation_done,
            name="done",
            label=_("Mark as reported"),
            target="obligation",
            form_class=ObligationDoneForm,
        )
    ]


class AppealDocumentInline(DocumentInline):
    fk_name = "appeal"


@admin.register(Appeal)
class AppealAdmin(RoleAdminMixin, SimpleHistoryAdmin):
    """Appeals and complaints: staff record letters and calls on their own page (through
    ``appeal_receive``); handling goes through the actions."""

    list_display = (
        "reference",
        "kind",
        "subject",
        "received_on",
        "due_on",
        "state",
        "handler",
        "overdue",
    )
    list_filter = ("kind", "state", "channel")
    search_fields = ("reference", "subject", "name", "organization__name", "about_organization")
    date_hierarchy = "received_on"
    list_select_related = ("handler",)
    inlines = [AppealDocumentInline]
    actions = [
        service_action(
            services.appeal_acknowledge,
            name="acknowledge",
            label=_("Acknowledge receipt"),
            target="appeal",
            form_class=AppealAcknowledgeForm,
        ),
        service_action(
            services.appeal_assign,
            name="assign",
            label=_("Assign a handler"),
            target="appeal",
            form_class=AppealAssignForm,
        ),
        service_action(
            services.appeal_decide,
            name="decide",
            label=_("Decide in writing"),
            target="appeal",
            form_class=AppealDecideForm,
        ),
    ]

    def has_add_permission(self, request):
        return super(RoleAdminMixin, self).has_add_permission(request)  # the record view

    def get_urls(self):
        record = self.admin_site.admin_view(self.record_view)
        return [path("record/", record, name="certificates_appeal_record"), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:certificates_appeal_record")

    def record_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = StaffAppealForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                appeal = services.appeal_receive(actor=request.user, **form.cleaned_data)
            except RuleViolation as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    f"已登记{appeal.get_kind_display()} {appeal.reference}，"
                    f"书面答复期限 {appeal.due_on:%Y-%m-%d}",
                    messages.SUCCESS,
                )
                return redirect("admin:certificates_appeal_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record an appeal or complaint"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "certificates/admin_appeal_record.html", context)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue
