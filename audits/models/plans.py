"""Audit plans (004 §5.4.6; §9.2)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from audits.models.programmes import Audit
from certbody.evidence import never_delete


@never_delete
class AuditPlan(FSMModelMixin, models.Model):
    """The written plan of one audit, confirmed by the client (004 §5.4.6) and reported to CNCA.

    A change after sending revises the plan (back to draft, next version): it is sent and
    confirmed again (004 §5.4.6.3). ``team_snapshot`` freezes the team as sent.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent to the client")
        CONFIRMED = "confirmed", _("Confirmed by the client")

    audit = models.OneToOneField(
        Audit, on_delete=models.PROTECT, related_name="plan", verbose_name=_("audit")
    )
    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, protected=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    objectives = models.TextField(_("objectives"))
    criteria = models.TextField(_("criteria"))
    scope_text = models.TextField(_("scope"))
    schedule = models.TextField(_("times and activities"), blank=True)
    sites = models.ManyToManyField(
        "applications.Site", blank=True, related_name="+", verbose_name=_("sites covered")
    )
    shifts_covered = models.CharField(_("shifts audited"), max_length=300)
    unaudited_shifts = models.CharField(_("shifts not audited"), max_length=300, blank=True)
    unaudited_shifts_reason = models.TextField(_("why not audited"), blank=True)
    remote_methods = models.TextField(_("remote audit methods"), blank=True)
    team_snapshot = models.JSONField(_("team as sent"), default=list, blank=True)
    sent_on = models.DateField(_("sent to the client on"), null=True, blank=True)
    confirmed_on = models.DateField(_("confirmed on"), null=True, blank=True)
    confirmed_by = models.CharField(_("confirmed for the client by"), max_length=50, blank=True)
    cnca_reported_on = models.DateField(_("reported to CNCA on"), null=True, blank=True)
    report_days_late = models.PositiveSmallIntegerField(
        _("days reported late"),
        default=0,
        help_text=_(
            "Days the CNCA report came after its due date, 3 days before the start "
            "(004 §9.2); kept as reported, also for short-notice audits."
        ),
    )
    history = HistoricalRecords(m2m_fields=[sites])

    class Meta:
        verbose_name = _("audit plan")
        verbose_name_plural = _("audit plans")

    def __str__(self):
        return f"{self.audit} · v{self.version}"

    @property
    def reported_late(self) -> bool:
        """Reported to CNCA after the due date (the stored ``report_days_late``, 004 §9.2)."""
        return bool(self.cnca_reported_on and self.report_days_late)

    @transition(field=state, source=State.DRAFT, target=State.SENT)
    def send(self):
        pass

    @transition(field=state, source=State.SENT, target=State.CONFIRMED)
    def confirm(self):
        pass

    @transition(field=state, source=[State.SENT, State.CONFIRMED], target=State.DRAFT)
    def revise(self):
        pass


class AuditPlanAgendaRow(models.Model):
    """One row of a plan's agenda (004 §5.4.6.1: dates, times, sites, team members and their
    tasks): on ``day`` from ``starts_at`` to ``ends_at``, at ``site`` (None: the organisation's
    registered address or remote), ``auditor`` audits ``activity`` (the process or the clauses
    of the criteria). Rows are in ``position`` order; written only through
    ``audit_plan_agenda_set``, which keeps them inside the audit's dates and team.
    """

    plan = models.ForeignKey(
        AuditPlan, on_delete=models.PROTECT, related_name="agenda", verbose_name=_("audit plan")
    )
    position = models.PositiveSmallIntegerField(_("order"))
    day = models.DateField(_("date"))
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("to"))
    site = models.ForeignKey(
        "applications.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    activity = models.CharField(_("process or clause audited"), max_length=300)
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auditor"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("agenda row")
        verbose_name_plural = _("agenda rows")
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="agenda_row_position_unique"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="agenda_row_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.starts_at:%H:%M}–{self.ends_at:%H:%M} {self.activity}"
