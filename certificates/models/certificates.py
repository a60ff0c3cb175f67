"""Certificates, their yearly number sequence and their status events
(004 §6, §7, Appendix C)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from applications.models import GRADE_CHOICES
from certbody.evidence import never_delete
from certbody.models import ACCREDITATION_CHOICES
from certificates.models.decisions import Decision


def new_token() -> str:
    """An unguessable public token for the QR code (not the number, not a database id)."""
    return secrets.token_urlsafe(24)


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
        # The public register sorts by name and by issue date (certificates/register.py).
        constraints = [
            models.UniqueConstraint(
                fields=["year", "sequence", "cycle"],
                condition=models.Q(head__isnull=True),
                name="uniq_head_certificate_sequence",
            )
        ]
        indexes = [
            models.Index(fields=["organization_name", "number"], name="cert_register_name_idx"),
            models.Index(fields=["issued_on", "number"], name="cert_register_issued_idx"),
            # The jobs' "is the programme's head certificate in force?" look-up
            # (certbody.jobs.KeyedExists), one index probe whatever the statistics say: with
            # only head_id's index PostgreSQL ANDed it with the 100,000 heads (issue #16).
            models.Index(
                fields=["programme", "status"],
                condition=models.Q(head__isnull=True),
                name="certificates_head_programme",
            ),
            # The expiry and recertification jobs walk the expiry dates of certificates in
            # force only (certbody.jobs.state_in: the same NOT IN as this predicate): the full
            # index read every certificate expired or withdrawn long ago (issue #16).
            models.Index(
                fields=["expires_on"],
                condition=~models.Q(status__in=["withdrawn", "cancelled", "expired", "superseded"]),
                name="certificates_in_force_expiry",
            ),
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
