"""Auditors, their registrations, competences, training, witnessed audits and declarations of
interest (004 §3.5, §4; 002 §4.3.6)."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from certbody.evidence import never_delete


@never_delete
class Auditor(models.Model):
    """A person the CB may put on audit teams, with registration and qualification (004 §4)."""

    class Qualification(models.TextChoices):
        AUDITOR = "auditor", _("Auditor")
        SENIOR_AUDITOR = "senior_auditor", _("Senior auditor")
        TRAINEE = "trainee", _("Trainee auditor")
        TECHNICAL_EXPERT = "technical_expert", _("Technical expert")

    class RegistrationType(models.TextChoices):
        # The kinds of the personnel registration body (002 §4.3.6.2; 004 §4.2 审查员注册资格).
        SENIOR_AUDITOR = "senior_auditor", _("Senior auditor")
        AUDITOR = "auditor", _("Auditor")
        TRAINEE = "trainee", _("Trainee auditor")

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
        help_text=_(
            "The number issued by the personnel registration body (004 §4.2); none for experts."
        ),
    )
    registration_type = models.CharField(
        _("registration type"),
        max_length=20,
        choices=RegistrationType.choices,
        blank=True,
        help_text=_("The kind of registration held; none for technical experts."),
    )
    registration_issued_on = models.DateField(_("registration issued on"), null=True, blank=True)
    # Indexed: the expiry reminder job asks "which registrations expire within 60 days?".
    registration_valid_until = models.DateField(
        _("registration valid until"), null=True, blank=True, db_index=True
    )
    qualification = models.CharField(
        _("qualification"), max_length=20, choices=Qualification.choices
    )
    is_full_time = models.BooleanField(
        _("full-time"),
        default=False,
        help_text=_("Employed by or retired into the CB as defined in 004 §12.1.3."),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    QUALIFIED = (Qualification.AUDITOR, Qualification.SENIOR_AUDITOR)
    # The registrations each qualification rests on (004 §4.2): a qualified auditor holds an
    # auditor's (or senior auditor's) registration, a senior auditor a senior one.
    REGISTRATIONS_FOR = {
        Qualification.SENIOR_AUDITOR: (RegistrationType.SENIOR_AUDITOR,),
        Qualification.AUDITOR: (RegistrationType.SENIOR_AUDITOR, RegistrationType.AUDITOR),
        Qualification.TRAINEE: tuple(RegistrationType),
        Qualification.TECHNICAL_EXPERT: tuple(RegistrationType),
    }

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
        if self.qualification != self.Qualification.TECHNICAL_EXPERT and not (
            self.registration_type
        ):
            raise ValidationError(
                {"registration_type": _("Record the kind of registration held (004 §4.2).")}
            )
        allowed = self.REGISTRATIONS_FOR.get(self.qualification, ())
        if self.registration_type and self.registration_type not in allowed:
            raise ValidationError(
                {
                    "registration_type": _(
                        'A "%(registration)s" registration does not support the qualification '
                        '"%(qualification)s" (004 §4.2).'
                    )
                    % {
                        "registration": self.get_registration_type_display(),
                        "qualification": self.get_qualification_display(),
                    }
                }
            )
        if (
            self.registration_issued_on
            and self.registration_valid_until
            and self.registration_valid_until < self.registration_issued_on
        ):
            raise ValidationError(
                {
                    "registration_valid_until": _(
                        "The registration cannot expire before it was issued."
                    )
                }
            )
        user = getattr(self, "user", None)
        if user is not None and (user.organization_id is not None or not user.is_staff):
            raise ValidationError({"user": f"“{user}”不是本机构人员账号，不能登记为审核人员"})

    @property
    def is_qualified(self) -> bool:
        """A registered auditor or senior auditor (not a trainee or technical expert)."""
        return self.qualification in self.QUALIFIED

    @property
    def needs_registration(self) -> bool:
        """Everyone but a technical expert needs a registration (004 §4.2)."""
        return self.qualification != self.Qualification.TECHNICAL_EXPERT

    @property
    def registration_incomplete(self) -> bool:
        """A registration recorded without its type, issue or expiry date (to be completed).

        It stays usable on teams (the dates cannot be checked); the auditors desk lists it.
        """
        return self.needs_registration and not (
            self.registration_type and self.registration_issued_on and self.registration_valid_until
        )

    def registration_gap(self, first: date, last: date) -> str:
        """Why the registration does not cover every day from ``first`` to ``last``; "" if it does.

        ``"missing"``: no registration number; ``"not_yet"``: issued after ``first``;
        ``"expired"``: expired before ``first``; ``"expires"``: expires on a day before ``last``.
        A date not recorded is not held against the registration. 004 §4.2.
        """
        if not self.registration_number:
            return "missing"
        if self.registration_issued_on and self.registration_issued_on > first:
            return "not_yet"
        if self.registration_valid_until and self.registration_valid_until < first:
            return "expired"
        if self.registration_valid_until and self.registration_valid_until < last:
            return "expires"
        return ""

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
class AuditorTraining(models.Model):
    """Training or continuing professional development attended (004 §4.4, §3.5)."""

    auditor = models.ForeignKey(
        Auditor, on_delete=models.PROTECT, related_name="trainings", verbose_name=_("auditor")
    )
    attended_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    provider = models.CharField(_("provider"), max_length=200)
    evidence = models.TextField(_("evidence"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["auditor", "-attended_on", "-pk"]
        indexes = [models.Index(fields=["auditor", "attended_on"])]
        verbose_name = _("auditor training")
        verbose_name_plural = _("auditor trainings")

    def __str__(self):
        return f"{self.auditor} · {self.attended_on:%Y-%m-%d} {self.title}"

    def clean(self):
        for name in ("title", "provider", "evidence"):
            setattr(self, name, getattr(self, name).strip())
        if not self.title:
            raise ValidationError({"title": _("Fill in the title of the training (004 §4.4).")})
        if not self.provider:
            raise ValidationError({"provider": _("Fill in who gave the training (004 §4.4).")})
        if not self.evidence:
            raise ValidationError(
                {"evidence": _("Record the evidence of the training (004 §4.4).")}
            )
        if self.hours is not None and not Decimal("0") < self.hours <= Decimal("1000"):
            raise ValidationError(
                {"hours": _("Training hours must be more than 0 and at most 1000.")}
            )


@never_delete
class AuditorWitnessedAudit(models.Model):
    """An audit at which the auditor was witnessed and assessed (004 §3.5 evaluation)."""

    class Outcome(models.TextChoices):
        SATISFACTORY = "satisfactory", _("Satisfactory")
        IMPROVEMENT = "improvement", _("Improvement needed")
        UNSATISFACTORY = "unsatisfactory", _("Unsatisfactory")

    auditor = models.ForeignKey(
        Auditor,
        on_delete=models.PROTECT,
        related_name="witnessed_audits",
        verbose_name=_("auditor"),
    )
    witnessed_on = models.DateField(_("date"))
    audit = models.ForeignKey(
        "audits.Audit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("audit"),
    )
    witness = models.CharField(
        _("witness"), max_length=100, help_text=_("Who witnessed and assessed the auditor.")
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["auditor", "-witnessed_on", "-pk"]
        indexes = [models.Index(fields=["auditor", "witnessed_on"])]
        verbose_name = _("witnessed audit")
        verbose_name_plural = _("witnessed audits")

    def __str__(self):
        return f"{self.auditor} · {self.witnessed_on:%Y-%m-%d} {self.get_outcome_display()}"

    def clean(self):
        self.witness = self.witness.strip()
        self.notes = self.notes.strip()
        if not self.witness:
            raise ValidationError({"witness": _("Fill in who witnessed the auditor (004 §3.5).")})
        if self.outcome != self.Outcome.SATISFACTORY and not self.notes:
            raise ValidationError(
                {
                    "notes": _(
                        "Describe what needs improving when the outcome is not satisfactory "
                        "(004 §3.5)."
                    )
                }
            )


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
