"""Audit programmes (one per 3-year cycle), audits and their teams."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from certbody.models import SCHEME_CHOICES


class AuditProgramme(FSMModelMixin, models.Model):
    """The programme of one client for one 3-year certification cycle (004 §5.4.1)."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name=_("organisation"),
    )
    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        related_name="programme",
        verbose_name=_("application"),
    )
    cycle = models.PositiveSmallIntegerField(
        _("cycle"), default=0, help_text=_("0 for the initial cycle (R0), 1 for R1 …")
    )
    scheme = models.CharField(
        _("rule scheme"), max_length=20, choices=SCHEME_CHOICES, default="ZXRZ-2025"
    )
    state = FSMField(_("state"), default=State.ACTIVE, choices=State.choices, protected=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["organization", "cycle"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "cycle"], name="uniq_programme_cycle")
        ]
        verbose_name = _("audit programme")
        verbose_name_plural = _("audit programmes")

    def __str__(self):
        return f"{self.organization} R{self.cycle}"

    @transition(field=state, source=State.ACTIVE, target=State.CLOSED)
    def close(self):
        pass


class Audit(FSMModelMixin, models.Model):
    """One audit of a programme (document review, stage 2, surveillance, recertification …)."""

    class Kind(models.TextChoices):
        DOCUMENT_REVIEW = "document_review", _("Document review")
        STAGE2 = "stage2", _("Stage 2 audit")
        SURVEILLANCE = "surveillance", _("Surveillance audit")
        RECERTIFICATION = "recertification", _("Recertification audit")
        SPECIAL = "special", _("Special audit")

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")
        TERMINATED = "terminated", _("Terminated")

    programme = models.ForeignKey(
        AuditProgramme, on_delete=models.PROTECT, related_name="audits", verbose_name=_("programme")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    sequence = models.PositiveSmallIntegerField(
        _("sequence"), default=1, help_text=_("Surveillance 1, 2 … within the cycle")
    )
    due_on = models.DateField(_("due on"), null=True, blank=True, db_index=True)
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_end = models.DateField(_("actual end"), null=True, blank=True)
    planned_days = models.DecimalField(
        _("audit time (auditor-days)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    reason = models.CharField(_("reason (special audits)"), max_length=300, blank=True)
    state = FSMField(
        _("state"), default=State.PLANNED, choices=State.choices, protected=True, db_index=True
    )
    findings_summary = models.TextField(_("findings"), blank=True)
    recommendation_positive = models.BooleanField(
        _("team recommends certification / maintenance"), null=True, blank=True
    )
    termination_reason = models.TextField(_("termination reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["programme", "due_on", "pk"]
        verbose_name = _("audit")
        verbose_name_plural = _("audits")

    def __str__(self):
        label = self.get_kind_display()
        if self.kind == self.Kind.SURVEILLANCE:
            label = f"{label} {self.sequence}"
        return f"{self.programme.organization} · {label}"

    @property
    def organization(self):
        return self.programme.organization

    @transition(field=state, source=State.PLANNED, target=State.IN_PROGRESS)
    def start(self):
        pass

    @transition(field=state, source=State.IN_PROGRESS, target=State.COMPLETED)
    def complete(self):
        pass

    @transition(field=state, source=State.COMPLETED, target=State.CLOSED)
    def close(self):
        pass

    @transition(field=state, source=[State.PLANNED, State.IN_PROGRESS], target=State.TERMINATED)
    def terminate(self):
        pass


class AuditTeamMember(models.Model):
    """A person on an audit team with their role (004 §5.4.4)."""

    class Role(models.TextChoices):
        LEADER = "leader", _("Team leader")
        AUDITOR = "auditor", _("Auditor")
        TRAINEE = "trainee", _("Trainee auditor")
        EXPERT = "expert", _("Technical expert")

    audit = models.ForeignKey(
        Audit, on_delete=models.CASCADE, related_name="team", verbose_name=_("audit")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="audit_memberships",
        verbose_name=_("member"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["audit", "user"], name="uniq_team_member")]
        verbose_name = _("team member")
        verbose_name_plural = _("team members")

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"
