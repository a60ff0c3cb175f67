from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from applications.models import GRADE_CHOICES
from audits.admin import AuditAdmin
from audits.models import Audit
from certbody.admin_actions import DateInput, service_action
from certbody.reference import read_json
from certificates import services
from certificates.models import (
    Certificate,
    CertificateDocument,
    CertificateEvent,
    CertificateSequence,
    Decision,
)


def _reasons(table):
    return [
        (code, f"{code} {label}") for code, label in read_json("cnca_codes.json")[table].items()
    ]


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=Decision.Outcome.choices)
    decided_on = forms.DateField(label=_("decided on"), widget=DateInput)
    star_grade = forms.ChoiceField(
        label=_("star grade"), choices=[("", "—"), *GRADE_CHOICES], required=False
    )
    reasons = forms.CharField(label=_("reasons"), required=False, widget=forms.Textarea)


admin.site.unregister(Audit)


@admin.register(Audit)
class DecisionAuditAdmin(AuditAdmin):
    actions = [
        *AuditAdmin.actions,
        service_action(
            services.decision_make,
            name="decide",
            label=_("Make the certification decision"),
            target="audit",
            form_class=DecisionForm,
        ),
    ]


class SuspendForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("reason"), choices=())
    starts_on = forms.DateField(label=_("suspended from"), widget=DateInput)
    ends_on = forms.DateField(label=_("suspended until"), widget=DateInput)
    evidence = forms.CharField(label=_("evidence"), required=False, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason_code"].choices = _reasons("suspension_reason")


class RestoreForm(forms.Form):
    restored_on = forms.DateField(label=_("restored on"), widget=DateInput)
    evidence = forms.CharField(label=_("evidence"), widget=forms.Textarea)


class WithdrawForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("reason"), choices=())
    withdrawn_on = forms.DateField(label=_("withdrawn on"), widget=DateInput)
    evidence = forms.CharField(label=_("evidence"), required=False, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason_code"].choices = _reasons("withdrawal_reason")


class CancelForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("reason"), choices=())
    cancelled_on = forms.DateField(label=_("cancelled on"), widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason_code"].choices = _reasons("cancellation_reason")


class EventInline(admin.TabularInline):
    model = CertificateEvent
    extra = 0
    fields = ("kind", "occurred_on", "status_code", "change_code", "reason_code", "reason", "actor")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DocumentInline(admin.TabularInline):
    model = CertificateDocument
    extra = 0
    fields = ("kind", "created_at", "sha256", "download")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        url = reverse("certificates:portal_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download PDF"))


@admin.register(Certificate)
class CertificateAdmin(SimpleHistoryAdmin):
    list_display = (
        "number",
        "organization",
        "status",
        "star_grade",
        "issued_on",
        "expires_on",
        "public_page",
    )
    list_filter = ("status", "star_grade", "cycle")
    search_fields = ("number", "organization__name")
    date_hierarchy = "issued_on"
    list_select_related = ("organization",)
    readonly_fields = [f.name for f in Certificate._meta.fields if f.name != "token"] + [
        "public_page"
    ]
    exclude = ("business_scopes",)
    inlines = [DocumentInline, EventInline]
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
    list_display = ("audit", "outcome", "decided_by", "decided_on", "star_grade")
    list_filter = ("outcome",)
    readonly_fields = ("audit", "outcome", "decided_by", "decided_on", "star_grade", "reasons")

    def has_add_permission(self, request):
        return False


@admin.register(CertificateEvent)
class CertificateEventAdmin(admin.ModelAdmin):
    list_display = ("certificate", "kind", "occurred_on", "status_code", "change_code", "actor")
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
