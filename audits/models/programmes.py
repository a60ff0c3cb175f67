"""Audit programmes (one per 3-year cycle), audits, their meetings and teams (004 §5.4–5.5)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from certbody.evidence import never_delete
from certbody.models import SCHEME_CHOICES


@never_delete
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
    headcount = models.PositiveIntegerField(
        _("effective headcount for planning"),
        null=True,
        blank=True,
        help_text=_("Taken from the application; changed through the programme's service."),
    )
    decided_on = models.DateField(
        _("certification decision date"),
        null=True,
        blank=True,
        help_text=_("The decision that opened the cycle; surveillance is due from it."),
    )
    expires_on = models.DateField(_("certificate expires on"), null=True, blank=True)
    recert_application_due = models.DateField(
        _("recertification application due"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("3 months before expiry (004 §5.8.1)."),
    )
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

    @property
    def planning_headcount(self) -> int:
        """The effective headcount the programme plans with (the application's by default)."""
        return self.headcount or self.application.headcount


@never_delete
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

    class SpecialKind(models.TextChoices):
        # 004 §5.9; 001 §7.2 a)–e)
        SCOPE_EXTENSION = "scope_extension", _("Scope extension")
        COMPLAINT = "complaint", _("Justified complaint")
        REPEATED_COMPLAINTS = "repeated_complaints", _("Repeated complaints")
        ACCIDENT = "accident", _("Serious accident")
        MEDIA_EXPOSURE = "media_exposure", _("Media exposure")
        MAJOR_CHANGE = "major_change", _("Major change at the client")
        CRITERIA_CHANGE = "criteria_change", _("Change of the certification criteria")
        REGULATOR_FINDING = "regulator_finding", _("Regulator's written nonconformity")
        SUSPENDED_FOLLOW_UP = "suspended_follow_up", _("Follow-up of a suspended client")
        OTHER = "other", _("Other")

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
    special_kind = models.CharField(
        _("special audit kind"), max_length=30, choices=SpecialKind.choices, blank=True
    )
    short_notice = models.BooleanField(
        _("short-notice audit"), default=False, help_text=_("004 §5.9.2")
    )
    short_notice_reason = models.TextField(
        _("why the notice is short"),
        blank=True,
        help_text=_(
            "Why a short-notice or unannounced audit could not be announced as usual "
            "(004 §5.9.2); its plan is reported to CNCA as soon as it is planned."
        ),
    )
    notified_on = models.DateField(
        _("regulator's notice date"),
        null=True,
        blank=True,
        help_text=_("For an audit after a regulator's written finding (004 §5.9.2(3))."),
    )
    decision_due_on = models.DateField(
        _("initial decision due"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_(
            "A completed stage 2: the initial decision is due within 6 months of its end, else "
            "stage 2 is repeated (004 §5.12.3)."
        ),
    )
    plan_report_due = models.DateField(
        _("plan report to CNCA due"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("3 days before the planned start (004 §9.2)."),
    )
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
        constraints = [
            # A stage 2 that has ended carries its initial-decision limit (004 §5.12.3): the
            # job, the desks and the grant gate read the column, never recompute it.
            models.CheckConstraint(
                condition=~models.Q(kind="stage2", actual_end__isnull=False)
                | models.Q(decision_due_on__isnull=False),
                name="audit_stage2_ended_has_decision_due",
                violation_error_message=_(
                    "A stage 2 audit that has ended needs its initial decision due date."
                ),
            )
        ]
        # The jobs walk the deadlines of planned audits only (certbody.jobs.state_in writes
        # "planned" as NOT IN the other states, the same expression as these predicates, so
        # PostgreSQL uses them with or without statistics): the full indexes read every past
        # audit, done long ago, on each pass (0.3-0.8 s with nothing due; issue #16).
        indexes = [
            models.Index(
                fields=["due_on"],
                condition=~models.Q(state__in=["in_progress", "completed", "closed", "terminated"]),
                name="audit_planned_due",
            ),
            models.Index(
                fields=["plan_report_due"],
                condition=~models.Q(state__in=["in_progress", "completed", "closed", "terminated"]),
                name="audit_planned_plan_report",
            ),
        ]
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

    @property
    def audit_type(self) -> str:
        """The rules' audit type (audits.rules.AUDIT_TYPES) whose time rules apply."""
        if self.kind in (self.Kind.DOCUMENT_REVIEW, self.Kind.STAGE2):
            return "initial"
        if self.kind == self.Kind.RECERTIFICATION:
            return "recertification"
        # Special audits are timed like a surveillance (004 §5.9.1 lets them be combined).
        return "surveillance"

    @property
    def needs_site_visit(self) -> bool:
        """Every audit but the document review includes an on-site visit (004 §5.4.5.1)."""
        return self.kind != self.Kind.DOCUMENT_REVIEW

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


def meeting_sheet_path(instance, filename):
    return f"meetings/{instance.audit.programme.organization_id}/{instance.audit_id}/{filename}"


@never_delete  # 004 §5.5.2: the record of the meetings is audit evidence
class AuditMeeting(models.Model):
    """The opening or closing meeting of an on-site audit with who attended (004 §5.5.2).

    The client's top manager attends, or the absence is recorded with its reason and the
    senior manager delegated; the team keeps the sign-in sheet and confirms the regulator's
    on-site network check-in. ``attendees``: list of ``{"name", "role", "position"}``.
    """

    class Kind(models.TextChoices):
        OPENING = "opening", _("Opening meeting")
        CLOSING = "closing", _("Closing meeting")

    audit = models.ForeignKey(
        Audit, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("audit")
    )
    kind = models.CharField(_("meeting"), max_length=10, choices=Kind.choices)
    held_on = models.DateField(_("held on"))
    attendees = models.JSONField(_("attendees"), default=list)
    top_manager_present = models.BooleanField(_("top manager present"), default=True)
    absence_reason = models.TextField(_("why the top manager was absent"), blank=True)
    delegate = models.CharField(_("senior manager delegated"), max_length=100, blank=True)
    check_in_confirmed = models.BooleanField(_("CNCA on-site check-in done"), default=False)
    sign_in_sheet = models.FileField(_("sign-in sheet"), upload_to=meeting_sheet_path, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["audit", "held_on", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "kind"], name="uniq_audit_meeting_kind")
        ]
        verbose_name = _("audit meeting")
        verbose_name_plural = _("audit meetings")

    def __str__(self):
        return f"{self.audit} · {self.get_kind_display()} {self.held_on}"


class AuditTeamMember(models.Model):
    """A person on an audit team with their role (004 §5.4.4)."""

    class Role(models.TextChoices):
        LEADER = "leader", _("Team leader")
        AUDITOR = "auditor", _("Auditor")
        TRAINEE = "trainee", _("Trainee auditor")
        EXPERT = "expert", _("Technical expert")

    audit = models.ForeignKey(
        Audit, on_delete=models.PROTECT, related_name="team", verbose_name=_("audit")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="audit_memberships",
        verbose_name=_("member"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    whole_audit = models.BooleanField(
        _("present for the whole audit"), default=True, help_text=_("004 §5.4.4.1(3)")
    )
    tasks = models.CharField(_("tasks in the audit plan"), max_length=300, blank=True)
    history = HistoricalRecords()

    COUNTED_ROLES = (Role.LEADER, Role.AUDITOR)  # trainees and experts: 004 §5.4.4.2; 001 §6.2.4

    class Meta:
        constraints = [models.UniqueConstraint(fields=["audit", "user"], name="uniq_team_member")]
        verbose_name = _("team member")
        verbose_name_plural = _("team members")

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"

    @property
    def counted_in_audit_time(self) -> bool:
        return self.role in self.COUNTED_ROLES
