"""Client organisations and their sites, applications, application review and contracts
with their fee schedule, invoices and payments (004 §5.3.2(1)); the documents a client uploads
with an application and the invitations that let a client user register.

Evidence is never deleted: every foreign key between these records is
``PROTECT``, a site is closed (``Site.closed_on``) rather than deleted, and a head-office site
or a site an audit plan covered refuses deletion (:func:`site_delete_guard`).
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from applications.validators import validate_division_code, validate_uscc
from certbody.evidence import never_delete
from certbody.models import SCHEME_CHOICES
from certbody.regions import province_of

_NON_NEGATIVE = MinValueValidator(Decimal(0))

GRADE_CHOICES = [
    ("standard", pgettext_lazy("star grade", "Standard")),
    ("three_star", _("Three star")),
    ("four_star", _("Four star")),
    ("five_star", _("Five star")),
]


class Organization(models.Model):
    """An applicant or certified client (认证委托人 / 获证组织)."""

    name = models.CharField(_("name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    former_name = models.CharField(_("former name"), max_length=200, blank=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    registered_address = models.CharField(_("registered address"), max_length=300)
    postcode = models.CharField(_("postcode"), max_length=6, blank=True)
    division_code = models.CharField(
        _("administrative division code"), max_length=6, validators=[validate_division_code]
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    headcount = models.PositiveIntegerField(
        _("effective headcount"), validators=[MinValueValidator(1)]
    )
    business_scopes = models.ManyToManyField(
        "certbody.BusinessScope", verbose_name=_("business scope categories"), blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name

    @property
    def province(self) -> str:
        return province_of(self.division_code)


class Site(models.Model):
    """A place where the client provides the certified service (head office, outlet, temporary)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="sites", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    division_code = models.CharField(
        _("administrative division code"),
        max_length=6,
        blank=True,
        validators=[validate_division_code],
    )
    headcount = models.PositiveIntegerField(_("headcount"), default=1)
    is_head_office = models.BooleanField(_("head office"), default=False)
    is_temporary = models.BooleanField(_("temporary site"), default=False)
    scope_text = models.CharField(_("scope at this site"), max_length=500, blank=True)
    closed_on = models.DateField(
        _("closed on"),
        null=True,
        blank=True,
        help_text=_(
            "A site that no longer provides the service is closed, never deleted: audits and "
            "certificates that covered it keep pointing at it."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "-is_head_office", "pk"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self):
        return f"{self.name}（{_('temporary')}）" if self.is_temporary else self.name


class ContactPerson(models.Model):
    """A person the CB deals with at a client organisation (market, audit planning, invoices).

    The primary contact is mirrored in ``Organization.contact_name/phone/email``, which the
    portal, notices and reports read; the services of ``applications.organizations`` keep the
    two in step and exactly one contact primary once an organisation has contacts.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="contacts",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=50)
    position = models.CharField(_("role or position"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30)
    email = models.EmailField(_("e-mail"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "-is_primary", "pk"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")

    def __str__(self):
        return f"{self.name}（{self.position}）" if self.position else self.name


@never_delete
class Application(FSMModelMixin, models.Model):
    """An application for certification (004 §5.1–5.2), a django-fsm state machine."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        UNDER_REVIEW = "under_review", _("Under review")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        # Context: a withdrawn application is 已撤回, a withdrawn certificate is 撤销.
        WITHDRAWN = "withdrawn", pgettext_lazy("application state", "Withdrawn")

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Initial certification")
        RECERTIFICATION = "recertification", _("Recertification")
        CHANGE = "change", _("Change")
        TRANSFER = "transfer", _("Transfer from another CB")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("organisation"),
    )
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INITIAL)
    scheme = models.CharField(
        _("rule scheme"), max_length=20, choices=SCHEME_CHOICES, default="ZXRZ-2025"
    )
    scope_text = models.TextField(_("requested scope"))
    business_scopes = models.ManyToManyField(
        "certbody.BusinessScope", verbose_name=_("business scope categories")
    )
    requested_grade = models.CharField(
        _("requested star grade"), max_length=20, choices=GRADE_CHOICES, default="standard"
    )
    headcount = models.PositiveIntegerField(
        _("effective headcount in scope"), validators=[MinValueValidator(1)]
    )
    outsourced_processes = models.TextField(_("outsourced processes"), blank=True)
    state = FSMField(
        _("state"), default=State.DRAFT, choices=State.choices, protected=True, db_index=True
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    received_on = models.DateField(
        _("received on"),
        null=True,
        blank=True,
        help_text=_("The day the CB received the application (004 §5.8.1 counts from it)."),
    )
    decided_at = models.DateTimeField(_("accepted or rejected at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reasons for rejection"), blank=True)
    # 001 §6.1.5: the written notice of non-acceptance within 5 (calendar) days of the decision.
    rejection_notice_due = models.DateField(
        _("rejection notice due"), null=True, blank=True, db_index=True
    )
    rejection_notice_sent_on = models.DateField(
        _("rejection notice sent on"), null=True, blank=True
    )
    handled_as_initial_reason = models.TextField(
        _("why it is handled as initial certification"),
        blank=True,
        help_text=_("A recertification applied for too late (004 §5.8.1)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")

    def __str__(self):
        return f"{self.reference} {self.organization}"

    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED)
    def submit(self):
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.UNDER_REVIEW)
    def start_review(self):
        pass

    @transition(field=state, source=State.UNDER_REVIEW, target=State.ACCEPTED)
    def accept(self):
        pass

    @transition(field=state, source=State.UNDER_REVIEW, target=State.REJECTED)
    def reject(self):
        pass

    @transition(
        field=state,
        source=[State.DRAFT, State.SUBMITTED, State.UNDER_REVIEW],
        target=State.WITHDRAWN,
    )
    def withdraw(self):
        pass


@never_delete
class ApplicationReview(models.Model):
    """The review record of an application (004 §5.2; 001 §6.1.3)."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="review", verbose_name=_("application")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    information_sufficient = models.BooleanField(_("information sufficient"), default=False)
    legal_status_verified = models.BooleanField(_("legal status verified"), default=False)
    differences_resolved = models.BooleanField(
        _("differences of understanding resolved"), default=False
    )
    scope_defined = models.BooleanField(_("scope defined"), default=False)
    competence_available = models.BooleanField(_("CB competent for the scope"), default=False)
    sites_considered = models.BooleanField(
        _("sites, headcount and audit time considered"), default=False
    )
    # Eligibility of the applicant (004 §5.1.2(3)–(7), §5.2.2(1); 001 §6.1.4), each with its note;
    # the CB's own records pre-fill them (``applications.eligibility``).
    system_operating = models.BooleanField(
        _("service system operated for at least 3 months"), default=False
    )
    system_operating_note = models.TextField(_("note on operation"), blank=True)
    not_ordered_to_suspend = models.BooleanField(
        _("not ordered to suspend business for rectification"), default=False
    )
    not_ordered_to_suspend_note = models.TextField(_("note on suspension orders"), blank=True)
    not_seriously_dishonest = models.BooleanField(
        _("not on the list of seriously dishonest entities"), default=False
    )
    not_seriously_dishonest_note = models.TextField(_("note on the dishonesty list"), blank=True)
    no_major_accident = models.BooleanField(
        _("no major service-quality accident in the past year"), default=False
    )
    no_major_accident_note = models.TextField(_("note on accidents"), blank=True)
    no_spot_check_failure = models.BooleanField(
        _("no unrectified failed national spot check in the past year"), default=False
    )
    no_spot_check_failure_note = models.TextField(_("note on spot checks"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"))
    history = HistoricalRecords()

    CHECKS = (
        "information_sufficient",
        "legal_status_verified",
        "differences_resolved",
        "scope_defined",
        "competence_available",
        "sites_considered",
        # 004 §5.1.2(3)–(7): see ELIGIBILITY
        "system_operating",
        "not_ordered_to_suspend",
        "not_seriously_dishonest",
        "no_major_accident",
        "no_spot_check_failure",
    )
    ELIGIBILITY = CHECKS[6:]

    class Meta:
        verbose_name = _("application review")
        verbose_name_plural = _("application reviews")

    def __str__(self):
        return f"{_('Review')} {self.application.reference}"

    @property
    def all_passed(self) -> bool:
        return all(getattr(self, name) for name in self.CHECKS)

    @property
    def eligible(self) -> bool:
        """Every eligibility condition recorded as met (004 §5.2.2(1))."""
        return all(getattr(self, name) for name in self.ELIGIBILITY)


@never_delete
class Contract(FSMModelMixin, models.Model):
    """The certification contract, signed before any audit (004 §5.3; 001 §6.1.7)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")

    application = models.OneToOneField(
        Application,
        on_delete=models.PROTECT,
        related_name="contract",
        verbose_name=_("application"),
    )
    number = models.CharField(_("contract number"), max_length=30, unique=True)
    # The fee schedule (004 §5.3.2(1), §5.3.3(6); 001 §6.1.7(7)): what a quotation reads and
    # what invoices are issued against. ``fee`` is their stored total (the sum of the four).
    application_fee = models.DecimalField(
        _("application fee (CNY)"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[_NON_NEGATIVE],
    )
    audit_fee = models.DecimalField(
        _("audit fee (CNY)"), max_digits=12, decimal_places=2, default=0, validators=[_NON_NEGATIVE]
    )
    certificate_fee = models.DecimalField(
        _("certificate fee (CNY)"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[_NON_NEGATIVE],
    )
    surveillance_fee = models.DecimalField(
        _("surveillance fee per audit (CNY)"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[_NON_NEGATIVE],
    )
    fee = models.DecimalField(_("fee (CNY)"), max_digits=12, decimal_places=2, default=0)
    terms = models.TextField(_("terms"), blank=True)
    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, protected=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_by_client = models.CharField(_("signed for the client by"), max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    FEE_FIELDS = ("application_fee", "audit_fee", "certificate_fee", "surveillance_fee")

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(application_fee__gte=0)
                & models.Q(audit_fee__gte=0)
                & models.Q(certificate_fee__gte=0)
                & models.Q(surveillance_fee__gte=0),
                name="contract_fees_not_negative",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def fee_schedule(self) -> dict[str, Decimal]:
        """The fee schedule as data (a quotation reads it): field name → amount in CNY."""
        return {name: getattr(self, name) for name in self.FEE_FIELDS}

    def schedule_total(self) -> Decimal:
        """The sum of the fee schedule in CNY (what ``fee`` stores)."""
        return sum(self.fee_schedule.values(), Decimal(0))

    @transition(field=state, source=State.DRAFT, target=State.SIGNED)
    def sign(self):
        pass


@never_delete
class Invoice(models.Model):
    """An invoice the CB issued to the client under a contract (004 §5.3.2(1), §5.3.3(6)).

    What is paid is the sum of its ``payments`` (``applications.selectors``). An unpaid
    invoice for certification fees holds back the contract's certificate unless the
    technical manager waived it (``waived_on``, ``waived_by``, ``waived_reason``).
    """

    class Kind(models.TextChoices):
        APPLICATION = "application", _("Application fee")
        AUDIT = "audit", _("Audit fee")
        CERTIFICATE = "certificate", _("Certificate fee")
        CERTIFICATION = "certification", _("Certification fees (application, audit, certificate)")
        SURVEILLANCE = "surveillance", _("Surveillance fee")
        OTHER = "other", _("Other fee")

    # The fees a certificate is issued against (004 §5.3.2(1)); surveillance fees fall due
    # with the surveillance audits after the issue, other fees (travel, reissue) are not
    # certification fees.
    CERTIFICATION_KINDS = (
        Kind.APPLICATION,
        Kind.AUDIT,
        Kind.CERTIFICATE,
        Kind.CERTIFICATION,
    )

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("contract")
    )
    number = models.CharField(_("invoice number"), max_length=40, unique=True)
    kind = models.CharField(_("fee invoiced"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount (CNY)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    issued_on = models.DateField(_("invoiced on"))
    due_on = models.DateField(_("payment due on"), db_index=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    waived_on = models.DateField(_("waived on"), null=True, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("waived by"),
    )
    waived_reason = models.TextField(_("reason for the waiver"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-issued_on", "-pk"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="invoice_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("issued_on")),
                name="invoice_due_not_before_issue",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_waived(self) -> bool:
        return self.waived_on is not None


@never_delete
class Payment(models.Model):
    """A payment received against an invoice (004 §5.3.3(6)); corrections are new records
    reviewed by the market department, never deletions."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice")
    )
    amount = models.DecimalField(
        _("amount (CNY)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    received_on = models.DateField(_("received on"), db_index=True)
    reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["invoice", "received_on", "pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self):
        return f"{self.invoice} · {self.amount}"


def application_document_path(instance, filename):
    # ``filename`` is generated (certbody.uploads.storage_name); never the client's own name.
    application = instance.application
    return f"applications/{application.organization_id}/{application.pk}/{filename}"


@never_delete
class ApplicationDocument(models.Model):
    """A document uploaded with an application (004 §5.1.3; 001 §6.1.2); stored outside the
    web root and served only through a permission-checked view."""

    class Kind(models.TextChoices):
        LEGAL_STATUS = "legal_status", _("Legal status proof (business licence)")
        LICENCES = "licences", _("Administrative licences")
        ORGANISATION_CHART = "organisation_chart", _("Organisation chart")
        OUTLETS = "outlets", _("List of sales and service outlets")
        SERVICE_DOCUMENTS = (
            "service_documents",
            _("After-sales service management documents, incl. the service blueprint"),
        )
        OPERATION_EVIDENCE = "operation_evidence", _("Evidence of three months' operation")
        COMPLIANCE_RECORD = (
            "compliance_record",
            _("Accidents, penalties and spot-check failures of the last three years"),
        )
        SELF_ASSESSMENT = "self_assessment", _("Self-assessment against GB/T 27922")
        OTHER = "other", _("Other")

    # What an online application must carry (004 §5.1.3); licences only where the business
    # needs them, and the record of accidents and penalties is a declaration even when empty.
    REQUIRED = (
        Kind.LEGAL_STATUS,
        Kind.ORGANISATION_CHART,
        Kind.OUTLETS,
        Kind.SERVICE_DOCUMENTS,
        Kind.OPERATION_EVIDENCE,
        Kind.COMPLIANCE_RECORD,
        Kind.SELF_ASSESSMENT,
    )

    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("document"), max_length=30, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=application_document_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["application", "kind", "pk"]
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")

    def __str__(self):
        return self.original_name


class DocumentRequest(models.Model):
    """A document the market department asks the applicant for during the review (004 §5.2;
    001 §6.1.3), with a note and a due date; open until the client uploads it from the
    portal's to-do list (``answered_at``), the uploads joining the application's documents."""

    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="document_requests",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("document"), max_length=30, choices=ApplicationDocument.Kind.choices)
    note = models.TextField(_("what is needed"))
    due_on = models.DateField(_("due on"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("document request")
        verbose_name_plural = _("document requests")

    def __str__(self):
        return f"{self.application.reference} · {self.get_kind_display()}"


def invitation_expiry():
    return timezone.now() + timedelta(days=ClientInvitation.VALID_DAYS)


class ClientInvitation(models.Model):
    """An invitation for a client user to register, sent by the market department.

    Only the SHA-256 of the token is stored: the link in the e-mail is the only copy of the
    token, so a database dump opens no account. An invitation is used once and expires after
    ``VALID_DAYS``; a new invitation to the same address and organisation replaces the old one.
    """

    VALID_DAYS = 14

    # CASCADE on purpose: an invitation is no evidence, and an organisation with applications,
    # sites or users cannot be deleted anyway (PROTECT), so only a bare record goes with it.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("e-mail"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), default=invitation_expiry)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitation",
        verbose_name=_("user"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("client invitation")
        verbose_name_plural = _("client invitations")

    def __str__(self):
        return f"{self.email} · {self.organization}"

    @property
    def is_expired(self) -> bool:
        return self.accepted_at is None and self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and not self.is_expired


@receiver(pre_delete, sender=Site, dispatch_uid="applications.site_delete_guard")
def site_delete_guard(sender, instance: Site, **kwargs) -> None:
    """Refuse to delete a head-office site, or a site another record covers through a
    many-to-many (an audit plan's sites: 004 §5.4.6.1), which Django would otherwise unlink
    silently. Foreign keys to a site (sampling plans, sub-certificates) are ``PROTECT``.

    Raises ``ProtectedError``; close the site (``closed_on``) instead.
    """
    from django.db.models import ProtectedError

    if instance.is_head_office:
        raise ProtectedError(_("A head-office site is closed, never deleted."), {instance})
    for rel in Site._meta.get_fields(include_hidden=True):
        if not (rel.many_to_many and rel.auto_created and not rel.concrete):
            continue  # only the reverse side of other models' many-to-many fields
        through = rel.through
        link = next(f for f in through._meta.fields if f.related_model is Site)
        used = through.objects.filter(**{link.name: instance})
        if used.exists():
            raise ProtectedError(
                _("The site is covered by %(model)s records; close it instead.")
                % {"model": rel.related_model._meta.verbose_name},
                set(used),
            )


def rejection_notice_path(instance, filename):
    application = instance.application
    return f"applications/{application.organization_id}/{application.pk}/notices/{filename}"


@never_delete
class RejectionNotice(models.Model):
    """The written notice of non-acceptance of an application, with the reasons (001 §6.1.5;
    004 §5.2.4): a PDF in Chinese, stored once with its SHA-256 and never changed (004 §10),
    downloaded by the client in the portal. ``html`` is the exact content it was made from."""

    application = models.OneToOneField(
        Application,
        on_delete=models.PROTECT,
        related_name="rejection_notice",
        verbose_name=_("application"),
    )
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    issued_on = models.DateField(_("issued on"))
    reasons = models.TextField(_("reasons for rejection"))
    html = models.TextField(_("source HTML"))
    file = models.FileField(_("file"), upload_to=rejection_notice_path)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rejection notice")
        verbose_name_plural = _("rejection notices")

    def __str__(self):
        return self.reference


from applications.pending_uploads import PendingUpload  # noqa: E402, F401  (a model of this app)
