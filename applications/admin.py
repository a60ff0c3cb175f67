from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from applications import forms as forms_
from applications import services
from applications.forms import ContractForm, NewApplicationForm, RejectForm, ReviewForm, SignForm
from applications.models import (
    Application,
    ApplicationReview,
    Contract,
    Organization,
    Site,
)
from certbody.admin_actions import service_action


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ("name", "uscc", "division_code", "headcount", "contact_name")
    search_fields = ("name", "uscc")
    list_filter = ("business_scopes",)
    filter_horizontal = ("business_scopes",)
    inlines = [SiteInline]
    actions = [
        service_action(
            services.application_create,
            name="create_application",
            label=_("Create an application"),
            target="organization",
            form_class=NewApplicationForm,
        )
    ]


class ReviewInline(admin.StackedInline):
    model = ApplicationReview
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(SimpleHistoryAdmin):
    list_display = ("reference", "organization", "kind", "state", "headcount", "submitted_at")
    list_filter = ("state", "kind", "scheme")
    search_fields = ("reference", "organization__name")
    readonly_fields = ("reference", "state", "submitted_at", "decided_at", "created_by")
    fields = (
        "reference",
        "organization",
        "kind",
        "scheme",
        "scope_text",
        "business_scopes",
        "requested_grade",
        "headcount",
        "outsourced_processes",
        "state",
        "submitted_at",
        "decided_at",
        "rejection_reason",
        "created_by",
    )
    filter_horizontal = ("business_scopes",)
    inlines = [ReviewInline]
    actions = [
        service_action(
            services.application_submit, name="submit", label=_("Submit"), target="application"
        ),
        service_action(
            services.application_start_review,
            name="start_review",
            label=_("Start review"),
            target="application",
        ),
        service_action(
            forms_.review_record,
            name="record_review",
            label=_("Record the review"),
            target="application",
            form_class=ReviewForm,
        ),
        service_action(
            services.application_accept, name="accept", label=_("Accept"), target="application"
        ),
        service_action(
            services.application_reject,
            name="reject",
            label=_("Reject"),
            target="application",
            form_class=RejectForm,
        ),
        service_action(
            services.application_withdraw,
            name="withdraw",
            label=pgettext_lazy("application", "Withdraw"),
            target="application",
        ),
        service_action(
            services.contract_create,
            name="create_contract",
            label=_("Draft the contract"),
            target="application",
            form_class=ContractForm,
        ),
    ]

    def has_add_permission(self, request):
        return False  # applications are created through the organisation's action (service)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != Application.State.DRAFT:
            return [f for f in self.fields if f != "business_scopes"] + ["business_scopes"]
        return self.readonly_fields


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ("number", "application", "state", "fee", "signed_on")
    list_filter = ("state",)
    search_fields = ("number", "application__organization__name")
    readonly_fields = ("application", "state", "signed_on", "signed_by_client")
    actions = [
        service_action(
            services.contract_sign,
            name="sign",
            label=_("Record the signature"),
            target="contract",
            form_class=SignForm,
        )
    ]

    def has_add_permission(self, request):
        return False
