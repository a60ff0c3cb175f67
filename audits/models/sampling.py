"""Multi-site sampling plans (004 §5.4.3)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from audits.models.programmes import Audit
from certbody.evidence import never_delete


@never_delete
class SamplingPlan(models.Model):
    """Which sites an audit of a multi-site client visits and why (004 §5.4.3)."""

    audit = models.OneToOneField(
        Audit, on_delete=models.PROTECT, related_name="sampling_plan", verbose_name=_("audit")
    )
    audit_type = models.CharField(_("audit type"), max_length=20)
    similar_sites_count = models.PositiveIntegerField(_("similar sites (X)"))
    minimum_sample = models.PositiveIntegerField(_("minimum sample (Y)"))
    similarity_reason = models.TextField(
        _("why the sampled sites are similar"),
        blank=True,
        help_text=_("Same activities, processes and risk (004 §5.4.3.2)."),
    )
    notes = models.TextField(_("notes"), blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prepared by"),
    )
    prepared_at = models.DateTimeField(_("prepared at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sampling plan")
        verbose_name_plural = _("sampling plans")

    def __str__(self):
        return f"{self.audit} · Y={self.minimum_sample}/X={self.similar_sites_count}"


class SamplingPlanSite(models.Model):
    """One site of the client in a sampling plan: similar or not, audited or not, its time."""

    plan = models.ForeignKey(
        SamplingPlan, on_delete=models.PROTECT, related_name="rows", verbose_name=_("plan")
    )
    site = models.ForeignKey(
        "applications.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site")
    )
    similar = models.BooleanField(_("in the similar population"))
    selected = models.BooleanField(_("audited"))
    table_onsite_days = models.DecimalField(
        _("Appendix A on-site time"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    onsite_days = models.DecimalField(
        _("planned on-site time"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    selection_reason = models.CharField(_("why selected"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "-selected", "site_id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "site"], name="uniq_sampling_plan_site")
        ]
        verbose_name = _("sampling plan site")
        verbose_name_plural = _("sampling plan sites")

    def __str__(self):
        return str(self.site)
