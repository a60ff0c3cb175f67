"""Recorded audit time determinations and their adjustments (004 §5.4.2)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from audits.models.programmes import Audit
from certbody.evidence import never_delete
from certbody.models import SCHEME_CHOICES


@never_delete
class AuditTimeDetermination(models.Model):
    """How an audit's time was determined (004 §5.4.2.3: every determination is recorded).

    Days are auditor-days (1 day = 8 h). ``total_days`` = ``table_days`` + the adjustments;
    ``onsite_days`` is the part from opening to closing meeting (004 §12.1.5), of which
    ``remote_days`` are audited with remote methods (004 §5.4.5); the rest of the total is
    off-site planning, document review and reporting (004 §5.4.2.1).
    """

    audit = models.OneToOneField(
        Audit,
        on_delete=models.PROTECT,
        related_name="time_determination",
        verbose_name=_("audit"),
    )
    scheme = models.CharField(_("rule scheme"), max_length=20, choices=SCHEME_CHOICES)
    audit_type = models.CharField(_("audit type"), max_length=20)
    full_time_headcount = models.PositiveIntegerField(_("full-time people in scope"))
    part_time_hours = models.DecimalField(
        _("hours of part-time and temporary staff"),
        max_digits=10,
        decimal_places=1,
        default=Decimal("0"),
    )
    standard_hours = models.DecimalField(
        _("hours of one full-time person"),
        max_digits=8,
        decimal_places=1,
        default=Decimal("2000"),
    )
    effective_headcount = models.PositiveIntegerField(_("effective headcount"))
    table_days = models.DecimalField(_("Appendix A time"), max_digits=5, decimal_places=1)
    reference_days = models.DecimalField(
        _("initial audit time of reference"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Surveillance ≥ 1/3 and recertification ≥ 2/3 of it (004 §5.7.5, §5.8.5)."),
    )
    least_days = models.DecimalField(_("least time allowed"), max_digits=5, decimal_places=1)
    total_days = models.DecimalField(_("audit time"), max_digits=5, decimal_places=1)
    onsite_days = models.DecimalField(_("on-site time"), max_digits=5, decimal_places=1)
    remote_days = models.DecimalField(
        _("of which remote"), max_digits=5, decimal_places=1, default=Decimal("0")
    )
    remote_reason = models.TextField(_("remote methods and why"), blank=True)
    asrp = models.BooleanField(_("determined under an ASRP programme"), default=False)
    asrp_justification = models.TextField(_("ASRP justification"), blank=True)
    determined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("determined by"),
    )
    determined_at = models.DateTimeField(_("determined at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("audit time determination")
        verbose_name_plural = _("audit time determinations")

    def __str__(self):
        return f"{self.audit} · {self.total_days}"

    @property
    def offsite_days(self) -> Decimal:
        return self.total_days - self.onsite_days


class AuditTimeAdjustment(models.Model):
    """One increase (+) or reduction (−) of the Appendix A time with its reason (004 §5.4.2.3)."""

    determination = models.ForeignKey(
        AuditTimeDetermination,
        on_delete=models.PROTECT,
        related_name="adjustments",
        verbose_name=_("determination"),
    )
    days = models.DecimalField(_("days (+ increase, − reduction)"), max_digits=4, decimal_places=1)
    reason = models.CharField(_("reason"), max_length=300)
    history = HistoricalRecords()

    class Meta:
        ordering = ["determination", "pk"]
        verbose_name = _("audit time adjustment")
        verbose_name_plural = _("audit time adjustments")

    def __str__(self):
        return f"{self.days:+} {self.reason}"
