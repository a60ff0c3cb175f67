"""Issued documents: certificate PDFs and notices, stored once with their SHA-256 (004 §10)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from certbody.evidence import never_delete
from certificates.models.certificates import Certificate
from certificates.models.decisions import Decision


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
    # before the HTML was kept).
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
