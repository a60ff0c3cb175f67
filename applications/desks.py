"""Workspace desks for applications (certbody.workspace): the reference pattern for every app.

Desks: organisations (with their sites, contacts, applications and invitations), applications
(with the review checklist, the documents and the contract) and contracts (with their fee
schedule, invoices, payments and waivers; the invoices desk is ``applications.desks_fees``).

Lists keep a constant number of queries (``select_related`` for every column shown,
``prefetch_related`` for many-to-many columns, counts annotated); actions call the services of
``applications.services`` through the confirm forms of ``applications.forms`` and are offered
by the permissions of ``certbody.policy``. Phones are masked for roles without
``certbody.view_personal_data`` (``certbody.masking``), in the page and in the exports.
"""

import django_filters
import django_tables2 as tables
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import can_proceed

from applications import (
    eligibility,
    forms,
    guards,
    organization_forms,
    quotations,
    selectors,
    services,
)
from applications.models import (
    Application,
    ApplicationReview,
    ClientInvitation,
    ContactPerson,
    Contract,
    Organization,
    RejectionNotice,
    Site,
)
from certbody import masking, policy
from certbody.badges import state_badge
from certbody.lifecycle import refusal
from certbody.models import BusinessScope, User
from certbody.regions import PROVINCES
from certbody.workspace import Action, Create, Desk, merged_history, register
from certbody.workspace.tables import (
    BaseTable,
    LocalDateTimeColumn,
    ObjectLinkColumn,
    StateColumn,
    text_search,
)


class MaskedPhoneColumn(tables.Column):
    """A phone shown in full only to the roles that need it (page and export alike)."""

    def render(self, value, table):
        # Asked once per table: the role check reads the user's groups (a query each time).
        if not hasattr(table, "_can_see_personal_data"):
            user = getattr(getattr(table, "request", None), "user", None)
            table._can_see_personal_data = masking.can_see_personal_data(user)
        return value if table._can_see_personal_data else masking.mask_phone(value)

    def value(self, value, table):
        return self.render(value, table)


TO_REVIEW = (Application.State.SUBMITTED, Application.State.UNDER_REVIEW)


class ApplicationTable(BaseTable):
    reference = ObjectLinkColumn("applications", verbose_name=_("reference"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    kind = tables.Column(verbose_name=_("kind"))
    state = StateColumn(verbose_name=_("state"))
    headcount = tables.Column(verbose_name=_("headcount"))
    submitted_at = LocalDateTimeColumn(verbose_name=_("submitted at"))

    class Meta:
        model = Application
        fields = ("reference", "organization", "kind", "state", "headcount", "submitted_at")
        attrs = BaseTable.Meta.attrs
        order_by = ("-submitted_at",)


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    state = django_filters.ChoiceFilter(choices=Application.State.choices, label=_("state"))
    kind = django_filters.ChoiceFilter(choices=Application.Kind.choices, label=_("kind"))
    to_review = django_filters.BooleanFilter(method="filter_to_review", label=_("to review"))

    class Meta:
        model = Application
        fields = ["q", "state", "kind", "to_review"]

    def filter_to_review(self, queryset, name, value):
        # The home page's "applications to review" (submitted or under review) as a list.
        if value is None:
            return queryset
        waiting = Q(state__in=TO_REVIEW)
        return queryset.filter(waiting) if value else queryset.exclude(waiting)

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(organization__name__icontains=value)
            | Q(organization__uscc__icontains=value)
            | contact_named(value, "organization_id")
        )


def contact_named(value: str, organization: str) -> Q:
    """Rows whose organisation (the field ``organization`` of the row: its id) has a contact
    person named like ``value`` (the primary contact or any other; issue #14). A subquery, so
    each row appears once and a list keeps its number of queries."""
    contacts = ContactPerson.objects.filter(
        organization_id=OuterRef(organization), name__icontains=value
    )
    primary = Organization.objects.filter(pk=OuterRef(organization), contact_name__icontains=value)
    return Q(Exists(contacts)) | Q(Exists(primary))


def _application_summary(application: Application, user):
    return [
        (_("organisation"), application.organization.name),
        (_("kind"), application.get_kind_display()),
        (_("rule scheme"), application.get_scheme_display()),
        (_("state"), state_badge(application)),
        (_("requested scope"), application.scope_text),
        (_("requested star grade"), application.get_requested_grade_display()),
        (_("headcount"), application.headcount),
        (_("submitted at"), application.submitted_at),
        (_("reasons for rejection"), application.rejection_reason),
        (_("rejection notice due"), application.rejection_notice_due),
        (_("rejection notice sent on"), application.rejection_notice_sent_on),
        (_("why it is handled as initial certification"), application.handled_as_initial_reason),
    ]


def _rejection_notice_unsent(application: Application) -> bool:
    return (
        application.state == Application.State.REJECTED
        and application.rejection_notice_sent_on is None
    )


def _state_allows(transition: str):
    return lambda application: can_proceed(getattr(application, transition))


def _has_no_contract(application: Application) -> bool:
    return application.state == Application.State.ACCEPTED and not hasattr(application, "contract")


register(
    Desk(
        key="applications",
        model=Application,
        title=_("Applications"),
        permission="applications.view_desk",
        queryset=lambda request: Application.objects.select_related("organization"),
        table_class=ApplicationTable,
        filterset_class=ApplicationFilter,
        summary=_application_summary,
        sections_template="applications/desk/application_sections.html",
        sections_context=lambda application, request: _application_sections(application, request),
        order=10,
        needs_action=lambda: Q(state__in=TO_REVIEW),
        newest="created_at",
        date_filters=(("submitted_at", _("submitted at")),),
        actions=[
            Action(
                "submit",
                _("Submit"),
                services.application_submit,
                "applications.review_application",
                "application",
                available=_state_allows("submit"),
            ),
            Action(
                "start-review",
                _("Start review"),
                services.application_start_review,
                "applications.review_application",
                "application",
                available=_state_allows("start_review"),
            ),
            Action(
                "record-review",
                _("Record the review"),
                forms.review_record,
                "applications.review_application",
                "application",
                form_class=forms.ReviewForm,
                available=lambda a: a.state == Application.State.UNDER_REVIEW,
            ),
            Action(
                "accept",
                _("Accept"),
                services.application_accept,
                "applications.review_application",
                "application",
                available=_state_allows("accept"),
                precheck=lambda application, user: refusal(
                    guards.application_acceptable, application
                ),
            ),
            Action(
                "reject",
                _("Reject"),
                services.application_reject,
                "applications.review_application",
                "application",
                form_class=forms.RejectForm,
                available=_state_allows("reject"),
                danger=True,
            ),
            Action(
                "send-rejection-notice",
                _("Send the notice of non-acceptance"),
                services.application_rejection_notice_send,
                "applications.review_application",
                "application",
                form_class=forms.RejectionNoticeForm,
                available=_rejection_notice_unsent,
                confirm=_(
                    "The written notice with the reasons is made as a PDF in Chinese, stored, "
                    "and e-mailed to the applicant with a link to download it (001 §6.1.5)."
                ),
            ),
            Action(
                "withdraw",
                pgettext_lazy("application", "Withdraw"),
                services.application_withdraw,
                "applications.review_application",
                "application",
                available=_state_allows("withdraw"),
                danger=True,
            ),
            Action(
                "create-contract",
                _("Draft the contract"),
                services.contract_create,
                "applications.manage_contract",
                "application",
                form_class=forms.ContractForm,
                available=_has_no_contract,
            ),
            Action(
                "request-document",
                _("Request a document from the client"),
                services.document_request_create,
                "applications.review_application",
                "application",
                form_class=forms.DocumentRequestForm,
                available=lambda a: a.state in services.DOCUMENT_STATES,
                confirm=_(
                    "The client sees the request with its note and due date on the portal's "
                    "to-do list and uploads the document there; you are told when it arrives."
                ),
            ),
            Action(
                "add-documents",
                _("Add documents"),
                forms.documents_add,
                "applications.review_application",
                "application",
                form_class=forms.DocumentsForm,
                available=lambda a: a.state in services.DOCUMENT_STATES,
            ),
        ],
    )
)


def _application_sections(application: Application, request) -> dict:
    review = ApplicationReview.objects.filter(application=application).first()
    checks = []
    conditions = []
    if review is not None:
        checks = [
            (ApplicationReview._meta.get_field(name).verbose_name, getattr(review, name))
            for name in ApplicationReview.CHECKS
        ]
        conditions = [
            (label, clause, getattr(review, name), getattr(review, f"{name}_note"))
            for name, (label, clause) in eligibility.CONDITIONS.items()
        ]
    return {
        "review": review,
        "review_checks": checks,
        "review_items": checks[
            : len(ApplicationReview.CHECKS) - len(ApplicationReview.ELIGIBILITY)
        ],
        "eligibility_conditions": conditions,
        "rejection_notice": RejectionNotice.objects.filter(application=application).first(),
        "documents": application.documents.select_related("uploaded_by"),
        "document_requests": application.document_requests.all(),
        "contract": Contract.objects.filter(application=application).first(),
        "quotable": application.state in quotations.QUOTABLE_STATES,
        "quotation": quotations.application_quotation(application),
        "may_download_quotation": policy.allowed(
            request.user, "applications.manage_contract", application
        ),
    }


# --- organisations ----------------------------------------------------------------------------


class OrganizationTable(BaseTable):
    name = ObjectLinkColumn("organizations", verbose_name=_("name"))
    uscc = tables.Column(verbose_name=_("unified social credit code"))
    province = tables.Column(
        accessor="division_code", verbose_name=_("province"), order_by=("division_code",)
    )
    scopes = tables.Column(
        accessor="pk", verbose_name=_("business scope categories"), orderable=False
    )
    headcount = tables.Column(verbose_name=_("headcount"))
    contact_name = tables.Column(verbose_name=_("contact person"))
    contact_phone = MaskedPhoneColumn(verbose_name=_("contact phone"))
    application_count = tables.Column(verbose_name=_("applications"))
    certificate_count = tables.Column(verbose_name=_("certificates"))

    class Meta:
        model = Organization
        fields = (
            "name",
            "uscc",
            "province",
            "scopes",
            "headcount",
            "contact_name",
            "contact_phone",
            "application_count",
            "certificate_count",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("name",)

    def render_province(self, value):
        return PROVINCES.get((value or "")[:2], "")

    def render_scopes(self, record):
        return "、".join(f"{scope.code:02d}" for scope in record.business_scopes.all())


class OrganizationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    province = django_filters.ChoiceFilter(
        choices=sorted(PROVINCES.items()), method="in_province", label=_("province")
    )
    division_code = django_filters.CharFilter(
        lookup_expr="startswith", label=_("administrative division code")
    )
    business_scope = django_filters.ModelChoiceFilter(
        field_name="business_scopes",
        queryset=BusinessScope.objects.all(),
        label=_("business scope category"),
    )

    class Meta:
        model = Organization
        fields = ["q", "province", "division_code", "business_scope"]

    def search(self, queryset, name, value):
        return queryset.filter(
            text_search(value, ("name",))
            | (Q(uscc__icontains=value.upper()) if value.isascii() else Q(pk__in=[]))
            | contact_named(value, "pk")
        )

    def in_province(self, queryset, name, value):
        return queryset.filter(division_code__startswith=value)


def _related_count(relation: str):
    """The number of the organisation's rows of the reverse relation ``relation`` (a name on
    ``Organization``), as a correlated subquery: PostgreSQL computes it for the page's rows
    only, where an aggregate over joins groups every organisation before paging (issue #16).
    The related model is read from the relation, so no higher app is imported."""
    field = Organization._meta.get_field(relation)
    fk = field.field.name
    rows = (
        field.related_model._base_manager.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def _organizations(request):
    # Counts in the page's query, one subquery each; scopes prefetched: a constant number of
    # queries per page whatever the number of rows.
    return Organization.objects.annotate(
        application_count=_related_count("applications"),
        certificate_count=_related_count("certificates"),
    ).prefetch_related("business_scopes")


def _organization_summary(organization: Organization, user):
    see = masking.can_see_personal_data(user)
    phone = organization.contact_phone
    return [
        (_("unified social credit code"), organization.uscc),
        (_("English name"), organization.name_en),
        (_("former name"), organization.former_name),
        (_("registered address"), organization.registered_address),
        (_("postcode"), organization.postcode),
        (_("administrative division code"), organization.division_code),
        (_("province"), PROVINCES.get(organization.division_code[:2], "")),
        (_("industry"), organization.industry),
        (_("legal representative"), organization.legal_representative),
        (_("contact person"), organization.contact_name),
        (_("contact phone"), phone if see else masking.mask_phone(phone)),
        (_("contact e-mail"), organization.contact_email),
        (_("effective headcount"), organization.headcount),
        (
            _("business scope categories"),
            "；".join(str(scope) for scope in organization.business_scopes.all()),
        ),
        (_("certificates"), organization.certificate_count),
    ]


def _organization_sections(organization: Organization) -> dict:
    return {
        "sites": organization.sites.all(),
        "contacts": organization.contacts.all(),
        "client_users": User.objects.filter(organization=organization, is_staff=False).order_by(
            "username"
        ),
        "applications": organization.applications.select_related("contract"),
        "invitations": ClientInvitation.objects.filter(organization=organization).select_related(
            "invited_by", "user"
        ),
    }


def _organization_history(organization: Organization):
    # The organisation's page shows what was done to its sites and contacts too, with reasons.
    return merged_history(
        organization,
        [
            (_("site"), Site, {"organization_id": organization.pk}),
            (_("contact person"), ContactPerson, {"organization_id": organization.pk}),
        ],
    )


def _to_application(application, organization) -> str:
    return reverse("workspace:object", args=["applications", application.pk])


register(
    Desk(
        key="organizations",
        model=Organization,
        title=_("Organisations"),
        permission="applications.view_desk",
        queryset=_organizations,
        table_class=OrganizationTable,
        filterset_class=OrganizationFilter,
        summary=_organization_summary,
        sections_template="applications/desk/organization_sections.html",
        sections_context=lambda organization, request: _organization_sections(organization),
        history=_organization_history,
        order=5,
        newest="created_at",
        create=Create(
            _("New organisation"),
            services.organization_create,
            "applications.manage_organization",
            organization_forms.OrganizationCreateForm,
        ),
        actions=[
            Action(
                "edit",
                _("Edit the organisation"),
                services.organization_update,
                "applications.manage_organization",
                "organization",
                form_class=organization_forms.OrganizationEditForm,
            ),
            Action(
                "add-site",
                _("Add a site"),
                services.site_add,
                "applications.manage_organization",
                "organization",
                form_class=organization_forms.SiteForm,
            ),
            Action(
                "add-contact",
                _("Add a contact person"),
                services.contact_add,
                "applications.manage_organization",
                "organization",
                form_class=organization_forms.ContactForm,
            ),
            Action(
                "new-application",
                _("Create an application"),
                services.application_create,
                "applications.create_application",
                "organization",
                form_class=forms.NewApplicationForm,
                next_url=_to_application,
            ),
            Action(
                "invite",
                _("Invite a client user"),
                services.client_invite,
                "applications.invite_client",
                "organization",
                form_class=forms.InviteForm,
                confirm=_(
                    "An e-mail with a registration link valid for 14 days is sent to this "
                    "address; the new user sees only this organisation's records."
                ),
            ),
        ],
    )
)


# --- contracts --------------------------------------------------------------------------------


class ContractTable(BaseTable):
    number = ObjectLinkColumn("contracts", verbose_name=_("contract number"))
    organization = tables.Column(
        accessor="application__organization__name", verbose_name=_("organisation")
    )
    application = tables.Column(
        accessor="application__reference",
        verbose_name=_("application"),
        linkify=lambda record: reverse(
            "workspace:object", args=["applications", record.application_id]
        ),
    )
    application_fee = tables.Column(verbose_name=_("application fee (CNY)"))
    audit_fee = tables.Column(verbose_name=_("audit fee (CNY)"))
    certificate_fee = tables.Column(verbose_name=_("certificate fee (CNY)"))
    surveillance_fee = tables.Column(verbose_name=_("surveillance fee per audit (CNY)"))
    fee = tables.Column(verbose_name=_("fee (CNY)"))
    state = StateColumn(verbose_name=_("state"))
    signed_on = tables.DateColumn(format="Y-m-d", verbose_name=_("signed on"))
    signed_by_client = tables.Column(verbose_name=_("signed for the client by"))
    created_at = LocalDateTimeColumn(verbose_name=_("drafted at"))

    class Meta:
        model = Contract
        fields = (
            "number",
            "organization",
            "application",
            "application_fee",
            "audit_fee",
            "certificate_fee",
            "surveillance_fee",
            "fee",
            "state",
            "signed_on",
            "signed_by_client",
            "created_at",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("-created_at",)


class ContractFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    state = django_filters.ChoiceFilter(choices=Contract.State.choices, label=_("state"))

    class Meta:
        model = Contract
        fields = ["q", "state"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(number__icontains=value)
            | Q(application__reference__icontains=value)
            | Q(application__organization__name__icontains=value)
        )


def _contract_summary(contract: Contract, user):
    return [
        (_("organisation"), contract.application.organization.name),
        (_("application"), contract.application.reference),
        (_("application fee (CNY)"), contract.application_fee),
        (_("audit fee (CNY)"), contract.audit_fee),
        (_("certificate fee (CNY)"), contract.certificate_fee),
        (_("surveillance fee per audit (CNY)"), contract.surveillance_fee),
        (_("fee (CNY)"), contract.fee),
        (_("terms"), contract.terms),
        (_("state"), state_badge(contract)),
        (_("signed on"), contract.signed_on),
        (_("signed for the client by"), contract.signed_by_client),
    ]


def _contract_sections(contract: Contract) -> dict:
    balances = {row.invoice.pk: row for row in selectors.unpaid_invoices(contract)}
    invoices = []
    for invoice in contract.invoices.select_related("waived_by").prefetch_related(
        "payments__recorded_by"
    ):
        row = balances.get(invoice.pk)
        invoice.unpaid_amount = row.unpaid if row else 0
        invoices.append(invoice)
    return {
        "invoices": invoices,
        "blocking": selectors.unpaid_certification_invoices(contract),
    }


register(
    Desk(
        key="contracts",
        model=Contract,
        title=_("Contracts"),
        permission="applications.view_desk",
        queryset=lambda request: Contract.objects.select_related("application__organization"),
        table_class=ContractTable,
        filterset_class=ContractFilter,
        summary=_contract_summary,
        sections_template="applications/desk/contract_sections.html",
        sections_context=lambda contract, request: _contract_sections(contract),
        order=15,
        needs_action=lambda: Q(state=Contract.State.DRAFT),
        newest="created_at",
        date_filters=(("signed_on", _("signed on")),),
        actions=[
            Action(
                "sign",
                _("Record the signature"),
                services.contract_sign,
                "applications.manage_contract",
                "contract",
                form_class=forms.SignForm,
                available=lambda contract: can_proceed(contract.sign),
                precheck=lambda contract, user: refusal(guards.contract_signable, contract),
            ),
            Action(
                "edit-fees",
                _("Change the fees"),
                services.contract_fees_update,
                "applications.manage_contract",
                "contract",
                form_class=forms.ContractFeesForm,
                available=lambda contract: contract.state == Contract.State.DRAFT,
            ),
            Action(
                "fees-from-quotation",
                _("Fill in the fees from the quotation"),
                quotations.contract_fees_from_quotation,
                "applications.manage_contract",
                "contract",
                available=lambda contract: contract.state == Contract.State.DRAFT,
                confirm=_(
                    "The fee schedule becomes the application's quotation: the proposed "
                    "auditor-days at the CB's day rate, with its application and certificate fees."
                ),
            ),
            Action(
                "issue-invoice",
                _("Record an invoice"),
                services.invoice_issue,
                "applications.record_invoice",
                "contract",
                form_class=forms.InvoiceForm,
            ),
            Action(
                "record-payment",
                _("Record a payment"),
                forms.payment_record,
                "applications.record_invoice",
                "contract",
                form_class=forms.PaymentForm,
                available=lambda contract: bool(selectors.unpaid_invoices(contract)),
            ),
            Action(
                "waive-fee",
                _("Waive an unpaid invoice for the certificate issue"),
                forms.fee_waiver_record,
                "applications.waive_fee",
                "contract",
                form_class=forms.WaiverForm,
                available=lambda contract: bool(selectors.unpaid_certification_invoices(contract)),
                confirm=_(
                    "The certificate may then be issued although this invoice is unpaid; the "
                    "amount stays owed and on the unpaid list."
                ),
            ),
        ],
    )
)
