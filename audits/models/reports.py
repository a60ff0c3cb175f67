"""Audit reports and termination reports (004 §5.11)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.models.programmes import Audit
from certbody.evidence import never_delete

REPORT_DELIVERY_FIELDS = frozenset({"delivered_on", "delivered_by", "delivery_evidence"})


def audit_report_path(instance, filename):
    return f"audit-reports/{instance.audit.programme.organization_id}/{filename}"


@never_delete
class AuditReport(models.Model):
    """The signed audit report of one audit, or the termination report (004 §5.11.6), as an
    immutable PDF; delivered to the client after the decision with the delivery recorded."""

    class Kind(models.TextChoices):
        REPORT = "report", _("Audit report")
        TERMINATION = "termination", _("Termination report")

    audit = models.ForeignKey(
        Audit, on_delete=models.PROTECT, related_name="reports", verbose_name=_("audit")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    file = models.FileField(_("file"), upload_to=audit_report_path)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed by (team leader)"),
    )
    signed_on = models.DateField(_("signed on"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivered by"),
    )
    delivery_evidence = models.CharField(
        _("proof of delivery"), max_length=300, blank=True, help_text=_("004 §5.11.5")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["audit", "-version"]
        verbose_name = _("audit report")
        verbose_name_plural = _("audit reports")
        constraints = [
            models.UniqueConstraint(fields=["audit", "version"], name="audit_report_version"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version} · {self.audit}"

    def save(self, *args, **kwargs):
        # A signed report is a record (004 §5.11.4): only its delivery is written later; a
        # changed report is a new version.
        if self.pk is not None:
            fields = set(kwargs.get("update_fields") or ())
            if not fields or not fields <= REPORT_DELIVERY_FIELDS:
                raise ValueError("a signed audit report is immutable; generate a new version")
        super().save(*args, **kwargs)
