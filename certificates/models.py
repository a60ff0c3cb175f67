"""Decisions, certificates, their numbers, status events and issued documents; regulatory
events at clients, proposals for status changes, reporting obligations, appeals and complaints."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from applications.models import GRADE_CHOICES
from certbody.evidence import never_delete
from certbody.models import ACCREDITATION_CHOICES


def new_token() -> str:
    """An unguessable public token for the QR code (not the number, not a database id)."""
    return secrets.token_urlsafe(24)


@never_delete
class Decision(models.Model):
    """A certification decision on an audit (004 §5.12), by someone not on its team.

    ``basis`` says who decided: a decision maker (004 §5.12.1), or, for a surveillance audit
    only, the team leader's positive conclusion that maintains the certificate without a
    separate decision (004 §5.12.6). Such a row has outcome maintain and ``decided_by`` the
    team leader; listing them by ``basis`` is how the CB monitors those conclusions
    (004 §5.12.6(3)).
    """

    class Outcome(models.TextChoices):
        GRANT = "grant", _("Grant")
        REFUSE = "refuse", _("Refuse")
        MAINTAIN = "maintain", _("Maintain")

    class Basis(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Certification decision maker")
        TEAM_LEADER_CONCLUSION = (
            "team_leader_conclusion",
            _("Team leader's positive surveillance conclusion"),
        )

    audit = models.ForeignKey(
        "audits.Audit", on_delete=models.PROTECT, related_name="decisions", verbose_name=_("audit")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("decision maker"),
    )
    decided_on = models.DateField(_("decided on"))
    basis = models.CharField(
        _("basis"),
        max_length=30,
        choices=Basis.choices,
        default=Basis.DECISION_MAKER,
        help_text=_("004 §5.12.1; §5.12.6 for a team leader's surveillance conclusion"),
    )
    star_grade = models.CharField(_("star grade"), max_length=20, choices=GRADE_CHOICES, blank=True)
    reasons = models.TextField(_("reasons"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = _("certification decision")
        verbose_name_plural = _("certification decisions")

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.audit}"


@never_delete
class CertificateSequence(models.Model):
    """The CB's running count of FW certificates per year (004 Appendix C); gapless."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("certificate number sequence")
        verbose_name_plural = _("certificate number sequences")

    def __str__(self):
        return f"{self.year}: {self.last}"


@never_delete
class Certificate(FSMModelMixin, models.Model):
    """A certificate (head or sub-certificate), a state machine over domain.md §13 statuses."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        SUPERSEDED = "superseded", _("Superseded")

    # CNCA certificate status codes (cnca_codes.json "certificate_status"). A superseded
    # certificate is reported as withdrawn with reason 0120 "因换发新证而撤销旧证书".
    CNCA_STATUS = {
        Status.VALID: "01",
        Status.SUSPENDED: "02",
        Status.WITHDRAWN: "03",
        Status.CANCELLED: "04",
        Status.EXPIRED: "05",
        Status.SUPERSEDED: "03",
    }

    number = models.CharField(_("certificate number"), max_length=24, unique=True)
    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("organisation"),
    )
    # What the certificate says, kept apart from the organisation's live record: a PDF issued
    # before a change of name stays true, a reissue shows the new data (004 Appendix C.3).
    organization_name = models.CharField(_("organisation name on the certificate"), max_length=200)
    registered_address = models.CharField(
        _("registered address on the certificate"), max_length=300
    )
    programme = models.ForeignKey(
        "audits.AuditProgramme",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("programme"),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("decision"),
    )
    head = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_certificates",
        verbose_name=_("head certificate"),
    )
    site = models.ForeignKey(
        "applications.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("site"),
    )
    year = models.PositiveSmallIntegerField(_("year of issue"))
    sequence = models.PositiveIntegerField(_("sequence"))
    cycle = models.PositiveSmallIntegerField(_("cycle (R)"), default=0)
    accreditation = models.CharField(
        _("accreditation"), max_length=1, choices=ACCREDITATION_CHOICES
    )
    scope_text = models.TextField(_("scope"))
    business_scopes = models.ManyToManyField(
        "certbody.BusinessScope", verbose_name=_("business scope categories"), blank=True
    )
    star_grade = models.CharField(_("star grade"), max_length=20, choices=GRADE_CHOICES)
    standard = models.CharField(_("standard"), max_length=100)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), db_index=True)
    status = FSMField(
        _("status"), default=Status.VALID, choices=Status.choices, protected=True, db_index=True
    )
    status_changed_on = models.DateField(_("status changed on"), null=True, blank=True)
    status_reason = models.CharField(_("reason for the status"), max_length=300, blank=True)
    suspended_from = models.DateField(_("suspended from"), null=True, blank=True)
    suspended_until = models.DateField(_("suspended until"), null=True, blank=True, db_index=True)
    reissued_on = models.DateField(_("reissued on"), null=True, blank=True)
    reissue_reason = models.CharField(_("reissue reason"), max_length=200, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name=_("superseded by"),
    )
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at", "token"])

    class Meta:
        ordering = ["-issued_on", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "sequence", "cycle"],
                condition=models.Q(head__isnull=True),
                name="uniq_head_certificate_sequence",
            )
        ]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("certificates:verify_token", args=[self.token])

    @property
    def status_code(self) -> str:
        """CNCA certificate status code 01–05."""
        return self.CNCA_STATUS[self.status]

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.VALID

    @property
    def scheme(self) -> str:
        """The rule scheme of the certificate's programme (the CB's scheme without one)."""
        if self.programme_id:
            return self.programme.scheme
        from certbody.models import CertificationBody

        return CertificationBody.get().scheme

    @transition(field=status, source=Status.VALID, target=Status.SUSPENDED)
    def suspend(self):
        pass

    @transition(field=status, source=Status.SUSPENDED, target=Status.VALID)
    def restore(self):
        pass

    @transition(field=status, source=[Status.VALID, Status.SUSPENDED], target=Status.WITHDRAWN)
    def withdraw(self):
        pass

    @transition(field=status, source=[Status.VALID, Status.SUSPENDED], target=Status.CANCELLED)
    def cancel(self):
        pass

    @transition(field=status, source=[Status.VALID, Status.SUSPENDED], target=Status.EXPIRED)
    def expire(self):
        pass

    @transition(field=status, source=[Status.VALID, Status.SUSPENDED], target=Status.SUPERSEDED)
    def supersede(self):
        pass


@never_delete
class CertificateEvent(models.Model):
    """A status change or issue of a certificate, with CNCA codes; reports are built from these."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Issued")
        SUSPENDED = "suspended", _("Suspended")
        RESTORED = "restored", _("Restored")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        SUPERSEDED = "superseded", _("Superseded")
        REISSUED = "reissued", _("Reissued")

    certificate = models.ForeignKey(
        Certificate, on_delete=models.PROTECT, related_name="events", verbose_name=_("certificate")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    occurred_on = models.DateField(_("effective date"), db_index=True)
    status_code = models.CharField(_("CNCA status code"), max_length=2)
    change_code = models.CharField(_("CNCA change type code"), max_length=6, blank=True)
    reason_code = models.CharField(_("CNCA reason code"), max_length=4, blank=True)
    cause = models.PositiveSmallIntegerField(
        _("cause"),
        null=True,
        blank=True,
        help_text=_("004 §7.2.1 (suspension) or §7.3.1 (withdrawal) cause number"),
    )
    ends_on = models.DateField(
        _("suspended until"), null=True, blank=True, help_text=_("For a suspension (002 §4.1.1)")
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["certificate", "occurred_on", "pk"]
        verbose_name = _("certificate event")
        verbose_name_plural = _("certificate events")

    def __str__(self):
        return f"{self.certificate} {self.get_kind_display()} {self.occurred_on}"


def document_path(instance, filename):
    return f"certificates/{instance.organization_id or 'public'}/{filename}"


@never_delete
class CertificateDocument(models.Model):
    """An issued PDF (certificate or notice), immutable, with its SHA-256 recorded.

    A document belongs to an organisation (the client who may download it in the portal) and
    to what it is about: a certificate, a decision (a refusal has no certificate) or an appeal.
    The written answer to a member of the public's complaint has no organisation.

    Issue #11: a lifecycle change commits first and its documents follow. The service writes
    the row **pending**, with the exact HTML it rendered from the records (``html``) and the
    texts the PDF must show (``expected_text``: the organisation's name and the certificate
    number or notice reference); the render step (``certificates.pdf.document_render``,
    after commit, retried by the ``pending_documents`` job) lays it out, reads the text back
    and fills ``file``, ``sha256``, ``size`` once, turning it **stored**. Staff and clients
    see a pending document as "being prepared" until then. A stored row never changes again;
    a missing or altered file is replaced by a new row that ``replaces`` it (both kept).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        STORED = "stored", _("Stored")

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", _("Certificate")
        APPROVAL_NOTICE = "approval_notice", _("Approval notice")
        MAINTENANCE_NOTICE = "maintenance_notice", _("Surveillance maintenance notice")
        RESTORATION_NOTICE = "restoration_notice", _("Restoration notice")
        SUSPENSION_NOTICE = "suspension_notice", _("Suspension notice")
        WITHDRAWAL_NOTICE = "withdrawal_notice", _("Withdrawal notice")
        CANCELLATION_NOTICE = "cancellation_notice", _("Cancellation notice")
        REFUSAL_NOTICE = "refusal_notice", _("Refusal notice")
        APPEAL_DECISION = "appeal_decision", _("Written result of an appeal or complaint")

    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("certificate"),
    )
    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificate_documents",
        verbose_name=_("organisation"),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("decision"),
    )
    appeal = models.ForeignKey(
        "Appeal",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("appeal or complaint"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    file = models.FileField(_("file"), upload_to=document_path, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # What the render step needs, recorded when the change is made (empty on rows stored
    # before issue #11).
    html = models.TextField(_("source HTML"), blank=True)
    expected_text = models.JSONField(_("texts the PDF must show"), default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("render attempts"), default=0)
    last_error = models.CharField(_("last render error"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("next render attempt"), null=True, blank=True)
    stored_at = models.DateTimeField(_("stored at"), null=True, blank=True)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacements",
        verbose_name=_("replaces"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="certdoc_pending_idx"),
        ]
        verbose_name = _("certificate document")
        verbose_name_plural = _("certificate documents")

    def __str__(self):
        about = self.certificate or self.appeal or self.organization or ""
        return f"{self.get_kind_display()} {about} {self.created_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        # Issued documents are records (004 §10): never rewritten, a change makes a new row.
        # The one fill of a pending row is a conditional UPDATE in certificates.pdf.
        if self.pk is not None:
            raise ValueError("an issued document is immutable; issue a new one instead")
        super().save(*args, **kwargs)

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING

    @property
    def is_replaced(self) -> bool:
        return self.replacements.exists()


@never_delete
class RegulatoryEvent(models.Model):
    """Something a regulator, the press or the public found at a client (004 §5.3.3(4), §5.7.7(9),
    §5.9.2; 003 §4.6): recorded with its date and source, and what the CB did about it."""

    class Kind(models.TextChoices):
        SPOT_CHECK = "spot_check", _("Supervisory spot check")
        REGULATOR_FINDING = "regulator_finding", _("Regulator's finding")
        ACCIDENT = "accident", _("Accident")
        MEDIA_EXPOSURE = "media_exposure", _("Media exposure")
        COMPLAINT = "complaint", _("Complaint about the client")

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCIAL = "provincial", _("Provincial")
        OTHER = "other", _("Other")

    class Result(models.TextChoices):
        PASS = "pass", _("Passed")
        FAIL = "fail", _("Failed")

    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="regulatory_events",
        verbose_name=_("organisation"),
    )
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="regulatory_events",
        verbose_name=_("certificate"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    occurred_on = models.DateField(_("occurred on"))
    notified_on = models.DateField(
        _("notified on"),
        help_text=_("When the regulator issued its notice or the CB learned of the event."),
    )
    source = models.CharField(_("source"), max_length=200)
    description = models.TextField(_("description"))
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    result = models.CharField(_("result"), max_length=4, choices=Result.choices, blank=True)
    written_finding = models.BooleanField(
        _("written nonconformity"), default=False, help_text=_("004 §5.9.2(3)")
    )
    major = models.BooleanField(_("major accident"), default=False, help_text=_("002 §4.3.8.2"))
    special_audit = models.ForeignKey(
        "audits.Audit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="regulatory_events",
        verbose_name=_("short-notice audit"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["recorded_at"])

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name = _("regulatory event")
        verbose_name_plural = _("regulatory events")

    def __str__(self):
        return f"{self.organization} {self.get_kind_display()} {self.occurred_on}"

    @property
    def is_failed_official_spot_check(self) -> bool:
        """A failed national or provincial spot check (counted by 003 §4.6)."""
        return (
            self.kind == self.Kind.SPOT_CHECK
            and self.result == self.Result.FAIL
            and self.level in (self.Level.NATIONAL, self.Level.PROVINCIAL)
        )


@never_delete
class Proposal(FSMModelMixin, models.Model):
    """A status change the system proposes for a person to decide (never carried out alone),
    e.g. withdrawal after three failed national or provincial spot checks (003 §4.6), or a
    reissue at the lower star grade a surveillance evaluation achieved (001 §7.5)."""

    class Action(models.TextChoices):
        WITHDRAW = "withdraw", _("Withdraw")
        SUSPEND = "suspend", _("Suspend")
        REISSUE = "reissue", _("Reissue at the grade achieved")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")

    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        related_name="proposals",
        verbose_name=_("certificate"),
    )
    action = models.CharField(_("proposed action"), max_length=10, choices=Action.choices)
    cause = models.PositiveSmallIntegerField(
        _("cause"),
        null=True,
        blank=True,
        help_text=_("004 §7.3.1 (withdrawal) or §7.2.1 (suspension) cause number"),
    )
    star_grade = models.CharField(
        _("proposed star grade"),
        max_length=20,
        choices=GRADE_CHOICES,
        blank=True,
        help_text=_("For a reissue: the grade the evaluation achieved (001 §7.5)."),
    )
    reason = models.CharField(_("reason"), max_length=300)
    regulatory_event = models.ForeignKey(
        RegulatoryEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("regulatory event"),
    )
    audit = models.ForeignKey(
        "audits.Audit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("audit"),
        help_text=_("The audit whose result led to the proposal."),
    )
    state = FSMField(
        _("state"), default=State.OPEN, choices=State.choices, protected=True, db_index=True
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open proposal per certificate and action: two job runners at once (beat and
            # cron, or two workers) once opened two withdrawal proposals for one certificate.
            models.UniqueConstraint(
                fields=["certificate", "action"],
                condition=models.Q(state="open"),
                name="one_open_proposal_per_action",
            )
        ]
        verbose_name = _("status change proposal")
        verbose_name_plural = _("status change proposals")

    def __str__(self):
        return f"{self.get_action_display()} {self.certificate}"

    @transition(field=state, source=State.OPEN, target=State.ACCEPTED)
    def accept(self):
        pass

    @transition(field=state, source=State.OPEN, target=State.DISMISSED)
    def dismiss(self):
        pass


@never_delete
class ReportingObligation(models.Model):
    """A report the CB owes an authority by a date (domain.md §16), e.g. after a major accident
    at a client: CNAS within 10 days (002 §4.3.8.2), the local regulator within 2 working days
    (004 §9.5). ``due_on`` is the stored deadline the reporting jobs ask about."""

    class Recipient(models.TextChoices):
        CNAS = "cnas", "CNAS"
        CNCA = "cnca", "CNCA"
        LOCAL_REGULATOR = "local_regulator", _("Local market regulator")

    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="reporting_obligations",
        verbose_name=_("organisation"),
    )
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reporting_obligations",
        verbose_name=_("certificate"),
    )
    regulatory_event = models.ForeignKey(
        RegulatoryEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reporting_obligations",
        verbose_name=_("regulatory event"),
    )
    recipient = models.CharField(_("recipient"), max_length=20, choices=Recipient.choices)
    subject = models.CharField(_("subject"), max_length=300)
    rule = models.CharField(_("rule"), max_length=60)
    due_on = models.DateField(_("due on"), db_index=True)
    provisional = models.BooleanField(
        _("deadline provisional"),
        default=False,
        help_text=_("Counted Monday–Friday: the year's holidays are not published yet."),
    )
    done_on = models.DateField(_("reported on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("reporting obligation")
        verbose_name_plural = _("reporting obligations")

    def __str__(self):
        return f"{self.get_recipient_display()} {self.subject} ≤ {self.due_on}"


APPEAL_DAYS = 60  # 004 §8.3; 001 §10: written result within 60 days of receipt


@never_delete
class Appeal(FSMModelMixin, models.Model):
    """An appeal against a decision or a complaint (004 §8; 001 §10), handled by someone not
    involved in the matter and answered in writing within 60 days (``due_on``)."""

    class Kind(models.TextChoices):
        APPEAL = "appeal", _("Appeal")
        COMPLAINT = "complaint", _("Complaint")

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        UNDER_INVESTIGATION = "under_investigation", _("Under investigation")
        DECIDED = "decided", _("Decided (closed)")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Upheld")
        PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
        NOT_UPHELD = "not_upheld", _("Not upheld")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Client portal")
        PUBLIC = "public", _("Public web form")
        STAFF = "staff", _("Recorded by staff")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("written result due"), db_index=True)
    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("from organisation"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    about_organization = models.CharField(_("about the organisation"), max_length=200, blank=True)
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("about the certificate"),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("about the decision"),
    )
    audit = models.ForeignKey(
        "audits.Audit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("about the audit"),
    )
    state = FSMField(
        _("state"), default=State.RECEIVED, choices=State.choices, protected=True, db_index=True
    )
    acknowledged_on = models.DateField(_("acknowledged on"), null=True, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals_handled",
        verbose_name=_("handler"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    decision_text = models.TextField(_("written decision"), blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("appeal or complaint")
        verbose_name_plural = _("appeals and complaints")

    def __str__(self):
        return f"{self.reference} {self.subject}"

    @property
    def is_overdue(self) -> bool:
        """Open past its due date, or answered after it."""
        if self.decided_on:
            return self.decided_on > self.due_on
        return timezone.localdate() > self.due_on

    @staticmethod
    def due_date(received_on):
        return received_on + timedelta(days=APPEAL_DAYS)

    @transition(field=state, source=State.RECEIVED, target=State.ACKNOWLEDGED)
    def acknowledge(self):
        pass

    @transition(field=state, source=State.ACKNOWLEDGED, target=State.UNDER_INVESTIGATION)
    def investigate(self):
        pass

    @transition(field=state, source=State.UNDER_INVESTIGATION, target=State.DECIDED)
    def decide(self):
        pass


@never_delete
class ClientRequest(FSMModelMixin, models.Model):
    """A client's request, made in the portal, for a change of its certificate, its cancellation
    or its suspension (004 §7.2.1(11), §7.4; 004 Appendix C.3).

    The request is a record of what the client asked and how staff answered it; the change
    itself is carried out through the ordinary certificate actions (``certificate_reissue``,
    ``certificate_cancel``, ``certificate_suspend``), whose rules it does not bypass.
    """

    class Kind(models.TextChoices):
        CHANGE = "change", _("Change of the certificate")
        CANCELLATION = "cancellation", _("Cancellation")
        SUSPENSION = "suspension", _("Suspension")

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        HANDLED = "handled", _("Handled")
        DECLINED = "declined", _("Declined")

    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="client_requests",
        verbose_name=_("organisation"),
    )
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="client_requests",
        verbose_name=_("certificate"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    details = models.TextField(_("details"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    state = FSMField(
        _("state"), default=State.RECEIVED, choices=State.choices, protected=True, db_index=True
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("client request")
        verbose_name_plural = _("client requests")

    def __str__(self):
        about = f" {self.certificate}" if self.certificate_id else ""
        return f"{self.get_kind_display()}{about} · {self.organization}"

    @transition(field=state, source=State.RECEIVED, target=State.HANDLED)
    def handle(self):
        pass

    @transition(field=state, source=State.RECEIVED, target=State.DECLINED)
    def decline(self):
        pass
