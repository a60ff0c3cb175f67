"""ASRP programmes, their preconditions, indicators and mandatory activities (seed 000)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from audits.models.programmes import Audit, AuditProgramme
from certbody.evidence import never_delete


@never_delete
class AsrpProgramme(FSMModelMixin, models.Model):
    """An advanced surveillance and recertification programme for one cycle (000 §4.3).

    Approved by the technical manager; the accreditation body is notified before its first
    use (000 §4.4.2). Certificates do not show it (000 §4.4.3).
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        NOTIFIED = "notified", _("Accreditation body notified (in use)")
        ENDED = "ended", _("Ended")

    programme = models.OneToOneField(
        AuditProgramme, on_delete=models.PROTECT, related_name="asrp", verbose_name=_("programme")
    )
    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, protected=True)
    reliance = models.TextField(
        _("reliance on internal audit and management review"), help_text="000 §4.3.1"
    )
    witnessing_criteria = models.TextField(
        _("internal audit witnessing criteria"), help_text="000 §4.3.2"
    )
    internal_auditor_criteria = models.TextField(
        _("acceptance of internal auditors and their reports"), help_text="000 §4.3.3"
    )
    adjustment_criteria = models.TextField(
        _("criteria for adjusting the programme"), help_text="000 §4.3.4"
    )
    audit_components = models.TextField(
        _("components each audit must cover"), help_text="000 §4.3.5"
    )
    special_competences = models.TextField(_("special auditor competences"), help_text="000 §4.3.6")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    accreditation_notified_on = models.DateField(
        _("accreditation body notified on"), null=True, blank=True
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.TextField(_("why ended"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    CONTENT_FIELDS = (
        "reliance",
        "witnessing_criteria",
        "internal_auditor_criteria",
        "adjustment_criteria",
        "audit_components",
        "special_competences",
    )

    class Meta:
        verbose_name = _("ASRP programme")
        verbose_name_plural = _("ASRP programmes")

    def __str__(self):
        return f"ASRP · {self.programme}"

    @property
    def in_use(self) -> bool:
        return self.state in (self.State.APPROVED, self.State.NOTIFIED)

    @transition(field=state, source=State.DRAFT, target=State.APPROVED)
    def approve(self):
        pass

    @transition(field=state, source=State.APPROVED, target=State.NOTIFIED)
    def notify(self):
        pass

    @transition(
        field=state, source=[State.DRAFT, State.APPROVED, State.NOTIFIED], target=State.ENDED
    )
    def end(self):
        pass


@never_delete
class AsrpEligibilityCheck(models.Model):
    """One precondition of 000 §4.1 / §4.4.1, recorded with its evidence."""

    class Criterion(models.TextChoices):
        FULL_CYCLE = "full_cycle", _("A full normal cycle completed (000 §4.1.1)")
        NCS_RESOLVED = "ncs_resolved", _("Every nonconformity of the cycle resolved (000 §4.1.2)")
        INDICATORS = "indicators", _("Performance indicators agreed and met (000 §4.1.3)")
        SATISFACTION_DATA = (
            "satisfaction_data",
            _("Access to customer-satisfaction data arranged (000 §4.1.4)"),
        )
        INTERNAL_AUDIT = "internal_audit", _("Internal audits follow GB/T 19011 (000 §4.1.5)")
        CONTRACT_CLAUSE = (
            "contract_clause",
            _("Contract lets the CB increase scope, frequency and time (000 §4.1.6)"),
        )
        APPROVED_SCOPE = "approved_scope", _("Scope within the CB's approved scope (000 §4.4.1)")

    asrp = models.ForeignKey(
        AsrpProgramme, on_delete=models.PROTECT, related_name="checks", verbose_name=_("ASRP")
    )
    criterion = models.CharField(_("criterion"), max_length=30, choices=Criterion.choices)
    met = models.BooleanField(_("met"))
    evidence = models.TextField(_("evidence"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_on = models.DateField(_("checked on"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["asrp", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["asrp", "criterion"], name="uniq_asrp_criterion")
        ]
        verbose_name = _("ASRP eligibility check")
        verbose_name_plural = _("ASRP eligibility checks")

    def __str__(self):
        return self.get_criterion_display()


@never_delete
class AsrpIndicator(models.Model):
    """A measurable performance indicator agreed with the client (000 §4.1.3)."""

    asrp = models.ForeignKey(
        AsrpProgramme, on_delete=models.PROTECT, related_name="indicators", verbose_name=_("ASRP")
    )
    name = models.CharField(_("indicator"), max_length=200)
    target = models.CharField(_("target"), max_length=200)
    method = models.TextField(_("how and how often it is measured"), blank=True)
    agreed_on = models.DateField(_("agreed on"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["asrp", "pk"]
        verbose_name = _("ASRP performance indicator")
        verbose_name_plural = _("ASRP performance indicators")

    def __str__(self):
        return f"{self.name}（{self.target}）"


@never_delete
class AsrpIndicatorResult(models.Model):
    """The result of one indicator for one period."""

    indicator = models.ForeignKey(
        AsrpIndicator, on_delete=models.PROTECT, related_name="results", verbose_name=_("indicator")
    )
    period = models.CharField(_("period"), max_length=40)
    period_end = models.DateField(_("period ends on"))
    value = models.CharField(_("result"), max_length=200)
    met = models.BooleanField(_("target met"))
    evidence = models.TextField(_("evidence"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["indicator", "period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period"], name="uniq_asrp_indicator_period"
            )
        ]
        verbose_name = _("ASRP indicator result")
        verbose_name_plural = _("ASRP indicator results")

    def __str__(self):
        return f"{self.indicator.name} {self.period}: {self.value}"


@never_delete
class AsrpAuditActivity(models.Model):
    """An activity every on-site ASRP surveillance or recertification must cover (000 §4.2.2 b)."""

    class Activity(models.TextChoices):
        TOP_MANAGEMENT = (
            "top_management",
            _("Interview with top management and the management representative"),
        )
        MANAGEMENT_REVIEW = (
            "management_review",
            _("Management review inputs and outputs, incl. the agreed indicators"),
        )
        INTERNAL_AUDIT = (
            "internal_audit",
            _("Internal audit process: procedure, records, internal auditors' competence"),
        )
        CORRECTIVE_ACTIONS = (
            "corrective_actions",
            _("Corrective and preventive action plans and their effective implementation"),
        )

    audit = models.ForeignKey(
        Audit, on_delete=models.PROTECT, related_name="asrp_activities", verbose_name=_("audit")
    )
    activity = models.CharField(_("activity"), max_length=30, choices=Activity.choices)
    covered = models.BooleanField(_("covered"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["audit", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "activity"], name="uniq_asrp_activity")
        ]
        verbose_name = _("ASRP mandatory activity")
        verbose_name_plural = _("ASRP mandatory activities")

    def __str__(self):
        return self.get_activity_display()
