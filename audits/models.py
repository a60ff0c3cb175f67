"""Auditors, audit programmes (one per 3-year cycle), audits, teams, time, sampling, plans, ASRP.

Every foreign key here is ``PROTECT`` (issue 11 item 8): an audit, its plan, team, time, sampling,
score sheet, nonconformities and an auditor's competences are what a certification decision and
the regulator reports rest on, so deleting a parent with any of them is refused; services remove
only a leaf row they replace (a team member, a time adjustment, a sampling row)."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
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


# --- auditors -----------------------------------------------------------------------------


@never_delete
class Auditor(models.Model):
    """A person the CB may put on audit teams, with registration and qualification (004 §4)."""

    class Qualification(models.TextChoices):
        AUDITOR = "auditor", _("Auditor")
        SENIOR_AUDITOR = "senior_auditor", _("Senior auditor")
        TRAINEE = "trainee", _("Trainee auditor")
        TECHNICAL_EXPERT = "technical_expert", _("Technical expert")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="auditor_profile",
        verbose_name=_("user"),
    )
    registration_number = models.CharField(
        _("registration number"),
        max_length=40,
        blank=True,
        help_text=_("注册号 of the personnel registration body (004 §4.2); none for experts."),
    )
    registration_valid_until = models.DateField(
        _("registration valid until"), null=True, blank=True
    )
    qualification = models.CharField(
        _("qualification"), max_length=20, choices=Qualification.choices
    )
    is_full_time = models.BooleanField(
        _("full-time (专职)"),
        default=False,
        help_text=_("Employed by or retired into the CB as defined in 004 §12.1.3."),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    QUALIFIED = (Qualification.AUDITOR, Qualification.SENIOR_AUDITOR)

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration_number"],
                condition=~Q(registration_number=""),
                name="uniq_auditor_registration",
                violation_error_message="该注册号已登记给其他人员",
            )
        ]
        verbose_name = _("auditor")
        verbose_name_plural = _("auditors")

    def __str__(self):
        number = f" {self.registration_number}" if self.registration_number else ""
        return f"{self.user}{number}"

    def clean(self):
        self.registration_number = self.registration_number.strip()
        if self.qualification != self.Qualification.TECHNICAL_EXPERT and not (
            self.registration_number
        ):
            raise ValidationError(
                {"registration_number": "审查员和实习审查员须登记认证人员注册号（004 §4.2）"}
            )
        user = getattr(self, "user", None)
        if user is not None and (user.organization_id is not None or not user.is_staff):
            raise ValidationError({"user": f"“{user}”不是本机构人员账号，不能登记为审核人员"})

    @property
    def is_qualified(self) -> bool:
        """A registered auditor or senior auditor (not a trainee or technical expert)."""
        return self.qualification in self.QUALIFIED

    def competence_codes(self, on: date | None = None) -> list[int]:
        """Business scope codes the auditor is competent for on ``on`` (all when None)."""
        return sorted(
            c.business_scope.code
            for c in self.competences.select_related("business_scope")
            if on is None or c.covers(on)
        )


@never_delete
class AuditorCompetence(models.Model):
    """Competence for one business scope category (004 §3.6, Appendix B) with its evidence."""

    auditor = models.ForeignKey(
        Auditor, on_delete=models.PROTECT, related_name="competences", verbose_name=_("auditor")
    )
    business_scope = models.ForeignKey(
        "certbody.BusinessScope",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("business scope category"),
    )
    evidence = models.TextField(_("evidence"))
    granted_on = models.DateField(_("granted on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["auditor", "business_scope__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["auditor", "business_scope"],
                name="uniq_auditor_competence",
                violation_error_message="该审核人员已有这一业务范围的专业能力记录",
            )
        ]
        verbose_name = _("auditor competence")
        verbose_name_plural = _("auditor competences")

    def __str__(self):
        return f"{self.auditor} · {self.business_scope}"

    def clean(self):
        if not self.evidence.strip():
            raise ValidationError({"evidence": "专业能力须记录评价依据（004 §3.5）"})
        if self.valid_until and self.granted_on and self.valid_until < self.granted_on:
            raise ValidationError({"valid_until": "专业能力有效期不能早于评定日期"})

    def covers(self, on: date) -> bool:
        return self.granted_on <= on and (self.valid_until is None or on <= self.valid_until)


@never_delete
class ConflictDeclaration(models.Model):
    """An auditor's declaration of interest (or of none) in one client (004 §4.3, §5.4.4.3)."""

    auditor = models.ForeignKey(
        Auditor, on_delete=models.PROTECT, related_name="declarations", verbose_name=_("auditor")
    )
    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="conflict_declarations",
        verbose_name=_("organisation"),
    )
    has_interest = models.BooleanField(
        _("has an interest in the client"),
        help_text=_("Checked: a conflict of interest; the auditor may not audit this client."),
    )
    description = models.TextField(_("description"), blank=True)
    declared_on = models.DateField(_("declared on"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["auditor", "organization"]
        constraints = [
            models.UniqueConstraint(
                fields=["auditor", "organization"],
                name="uniq_conflict_declaration",
                violation_error_message="该审核人员已就这一客户作出声明，请修改原声明",
            )
        ]
        verbose_name = _("conflict-of-interest declaration")
        verbose_name_plural = _("conflict-of-interest declarations")

    def __str__(self):
        return f"{self.auditor} · {self.organization}"

    def clean(self):
        if self.has_interest and not self.description.strip():
            raise ValidationError({"description": "声明存在利益关系须说明具体情况（004 §4.3）"})


# --- audit time ---------------------------------------------------------------------------


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


# --- multi-site sampling --------------------------------------------------------------------


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


# --- audit plans --------------------------------------------------------------------------


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


# --- ASRP (seed 000) ----------------------------------------------------------------------


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


# --- Score sheets (服务测评检查表; 004 §5.6.5, 001 §6.4.3, §6.5) -----------------------------


@never_delete
class IndicatorCatalogue(models.Model):
    """A version of the CB's evaluation checklist: the indicators and their points.

    The three parts' totals are fixed by GB/T 27922 (40 / 35 / 25, 004 §5.6.5.2); how those
    points are split between indicators is the CB's to set. A version that a score sheet has
    used can no longer change (``is_locked``): a new split is a new version.
    """

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    is_current = models.BooleanField(
        _("current"), default=False, help_text=_("New score sheets use the current version.")
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("indicator catalogue")
        verbose_name_plural = _("indicator catalogues")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_catalogue"
            )
        ]

    def __str__(self):
        return f"{self.title} ({self.version})"

    @property
    def is_locked(self) -> bool:
        """True once a score sheet uses this version (its points are evidence from then on)."""
        return self.pk is not None and self.score_sheets.exists()


class Indicator(models.Model):
    """One line of the checklist with its maximum points (domain.md §6)."""

    class Part(models.TextChoices):
        SYSTEM = "system", _("After-sales service system (40)")
        GOODS = "goods", _("Goods service (35)")
        CUSTOMER = "customer", _("Customer service (25)")

    class Method(models.TextChoices):
        # 004 §5.6.5.2 a), b)
        QUALITATIVE = "qualitative", _("Qualitative: all points lost when not met")
        SAMPLED = "sampled", _("Sampled: points lost in proportion to nonconforming samples")

    catalogue = models.ForeignKey(
        IndicatorCatalogue,
        on_delete=models.PROTECT,
        related_name="indicators",
        verbose_name=_("catalogue"),
    )
    part = models.CharField(_("part"), max_length=10, choices=Part.choices)
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("indicator"), max_length=100)
    max_points = models.DecimalField(_("points"), max_digits=5, decimal_places=2)
    method = models.CharField(_("scoring"), max_length=12, choices=Method.choices)
    guidance = models.TextField(_("guidance for the auditor"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["catalogue", "position", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "code"], name="indicator_code_unique"),
            models.CheckConstraint(condition=Q(max_points__gt=0), name="indicator_points_positive"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        if self.catalogue.is_locked:
            raise ValidationError(
                _("This catalogue version is used by score sheets; add a version.")
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.catalogue.is_locked:
            raise ValidationError(
                _("This catalogue version is used by score sheets; add a version.")
            )
        return super().delete(*args, **kwargs)


@never_delete
class ScoreSheet(FSMModelMixin, models.Model):
    """The service evaluation checklist of one stage 2, surveillance or recertification audit.

    The stored result (``earned`` … ``grade``) is recomputed by the service through
    ``audits.scoring`` on every change; the team leader signs it off (``submit``).
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Being filled")
        SUBMITTED = "submitted", _("Signed off by the team leader")

    audit = models.OneToOneField(
        Audit, on_delete=models.PROTECT, related_name="score_sheet", verbose_name=_("audit")
    )
    catalogue = models.ForeignKey(
        IndicatorCatalogue,
        on_delete=models.PROTECT,
        related_name="score_sheets",
        verbose_name=_("catalogue version"),
    )
    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, protected=True)
    special_bonus = models.BooleanField(
        _("special bonus (+1)"), default=False, help_text=_("004 §5.6.5.2 d)")
    )
    bonus_justification = models.TextField(_("why the bonus"), blank=True)
    earned = models.DecimalField(_("points earned"), max_digits=6, decimal_places=2, default=0)
    applicable = models.DecimalField(
        _("applicable points"), max_digits=6, decimal_places=2, default=0
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, default=0)
    passed = models.BooleanField(_("passed"), default=False)
    grade = models.CharField(_("grade"), max_length=20, default="fail")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed off by"),
    )
    submitted_on = models.DateField(_("signed off on"), null=True, blank=True)
    history = HistoricalRecords()

    # The stored grade while an indicator is still unassessed (score 0, not passed).
    INCOMPLETE = "incomplete"

    class Meta:
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")

    def __str__(self):
        return f"{self.audit} · {self.score}"

    @property
    def is_complete(self) -> bool:
        """Every indicator assessed: only then do score, grade and pass/fail mean anything."""
        return self.grade != self.INCOMPLETE

    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED)
    def submit(self):
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.DRAFT)
    def reopen(self):
        pass


@never_delete
class ScoreItem(models.Model):
    """The result of one indicator on a score sheet."""

    sheet = models.ForeignKey(
        ScoreSheet, on_delete=models.PROTECT, related_name="items", verbose_name=_("score sheet")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="+", verbose_name=_("indicator")
    )
    assessed = models.BooleanField(
        _("assessed"),
        default=False,
        help_text=_("Scored by the team (met, not met, sampled or excluded; 004 §5.6.5.2)."),
    )
    excluded = models.BooleanField(_("excluded (删减)"), default=False)
    exclusion_justification = models.TextField(_("why not applicable"), blank=True)
    met = models.BooleanField(_("met"), default=True)
    samples = models.PositiveIntegerField(_("samples checked"), default=0)
    nonconforming = models.PositiveIntegerField(_("nonconforming samples"), default=0)
    points = models.DecimalField(_("points earned"), max_digits=5, decimal_places=2, default=0)
    evidence = models.TextField(_("evidence"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sheet", "indicator__position", "indicator__code"]
        verbose_name = _("score item")
        verbose_name_plural = _("score items")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "indicator"], name="score_item_unique"),
            models.CheckConstraint(
                condition=Q(nonconforming__lte=models.F("samples")),
                name="score_item_nonconforming_le_samples",
            ),
        ]

    def __str__(self):
        return f"{self.indicator} · {self.points}"


class SpecialDeduction(models.Model):
    """A special deduction (特别扣分项, −1 outside the score, to be corrected; 004 §5.6.5.2 c)."""

    class Category(models.TextChoices):
        LAW = "law", _("Breach of laws or regulations")
        OWN_RULES = "own_rules", _("Breach of the client's own service rules")
        TRADE = "trade", _("Breach of trade requirements")
        SYSTEM = "system", _("Impairs the service system")

    sheet = models.ForeignKey(
        ScoreSheet,
        on_delete=models.PROTECT,
        related_name="deductions",
        verbose_name=_("score sheet"),
    )
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    description = models.TextField(_("what was found"))
    correction_required = models.TextField(_("correction required"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["sheet", "pk"]
        verbose_name = _("special deduction")
        verbose_name_plural = _("special deductions")

    def __str__(self):
        return f"{self.get_category_display()} · {self.sheet}"


# --- Nonconformities (004 §5.10; 001 §7.5) --------------------------------------------------


@never_delete
class Nonconformity(FSMModelMixin, models.Model):
    """A nonconformity raised by the audit team; the client answers, the team verifies.

    ``due_on`` is when the correction must be verified (majors, ``rules.major_nc_due``) or the
    client's corrective action plan accepted (minors; the CB's time limit, 004 §5.10.1, is the
    same period). A minor NC may close with an accepted plan (``plan_accepted``) whose
    effectiveness is verified at the next audit (004 §5.10.2).
    """

    class Severity(models.TextChoices):
        MAJOR = "major", _("Major")
        MINOR = "minor", _("Minor")

    class State(models.TextChoices):
        OPEN = "open", _("Awaiting the client's answer")
        ANSWERED = "answered", _("Answered, to verify")
        REJECTED = "rejected", _("Answer rejected, to answer again")
        PLAN_ACCEPTED = "plan_accepted", _("Plan accepted, verify at the next audit")
        CLOSED = "closed", _("Verified and closed")

    audit = models.ForeignKey(
        Audit, on_delete=models.PROTECT, related_name="nonconformities", verbose_name=_("audit")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    severity = models.CharField(_("severity"), max_length=5, choices=Severity.choices)
    clause = models.CharField(_("clause of the criteria"), max_length=60)
    description = models.TextField(_("nonconformity"))
    evidence = models.TextField(_("objective evidence"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("raised by"),
    )
    raised_on = models.DateField(_("raised on"))
    due_on = models.DateField(_("due on"), db_index=True)
    state = FSMField(
        _("state"), default=State.OPEN, choices=State.choices, protected=True, db_index=True
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    verified_at = models.ForeignKey(
        Audit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="verified_nonconformities",
        verbose_name=_("verified at audit"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["audit", "number"]
        verbose_name = _("nonconformity")
        verbose_name_plural = _("nonconformities")
        constraints = [
            models.UniqueConstraint(fields=["audit", "number"], name="nc_number_unique"),
        ]

    def __str__(self):
        return f"NC-{self.number:02d} ({self.get_severity_display()}) · {self.audit}"

    @property
    def organization(self):
        return self.audit.programme.organization

    @property
    def is_settled(self) -> bool:
        """Settled for a decision (004 §5.12.2(2)): majors verified; minors' plans accepted."""
        if self.state == self.State.CLOSED:
            return True
        return self.severity == self.Severity.MINOR and self.state == self.State.PLAN_ACCEPTED

    @transition(field=state, source=[State.OPEN, State.REJECTED], target=State.ANSWERED)
    def answer(self):
        pass

    @transition(field=state, source=State.ANSWERED, target=State.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=State.ANSWERED, target=State.CLOSED)
    def accept(self):
        pass

    @transition(
        field=state,
        source=State.ANSWERED,
        target=State.PLAN_ACCEPTED,
        conditions=[lambda nc: nc.severity == Nonconformity.Severity.MINOR],
    )
    def accept_plan(self):
        pass

    @transition(field=state, source=State.PLAN_ACCEPTED, target=State.CLOSED)
    def verify_plan(self):
        pass


def nc_attachment_path(instance, filename):
    nc = instance.response.nonconformity
    return f"nonconformities/{nc.audit.programme.organization_id}/{nc.pk}/{filename}"


@never_delete
class NonconformityResponse(models.Model):
    """The client's answer to an NC (cause analysis, correction, corrective action) and the
    team's review of it (004 §5.10.1, §5.10.2)."""

    class Review(models.TextChoices):
        PENDING = "pending", _("To review")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    nonconformity = models.ForeignKey(
        Nonconformity,
        on_delete=models.PROTECT,
        related_name="responses",
        verbose_name=_("nonconformity"),
    )
    cause_analysis = models.TextField(_("cause analysis"))
    correction = models.TextField(_("correction"))
    corrective_action = models.TextField(_("corrective action"))
    is_plan = models.BooleanField(
        _("plan only (verify at the next audit)"),
        default=False,
        help_text=_("Minor nonconformities only (004 §5.10.2)."),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_on = models.DateField(_("submitted on"))
    review = models.CharField(
        _("review"), max_length=10, choices=Review.choices, default=Review.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True)
    review_note = models.TextField(_("verification / reasons"), blank=True)

    class Meta:
        ordering = ["nonconformity", "pk"]
        verbose_name = _("answer to a nonconformity")
        verbose_name_plural = _("answers to nonconformities")

    def __str__(self):
        return f"{self.nonconformity} · {self.submitted_on}"


@never_delete
class NonconformityAttachment(models.Model):
    """Evidence the client uploaded with an answer; served only through a checked view."""

    response = models.ForeignKey(
        NonconformityResponse,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("answer"),
    )
    file = models.FileField(_("file"), upload_to=nc_attachment_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        ordering = ["response", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.original_name


# --- Audit reports (004 §5.11) ----------------------------------------------------------------


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
