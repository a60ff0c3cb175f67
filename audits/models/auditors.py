"""Auditors, their competences and declarations of interest (004 §4)."""

from datetime import date

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
    registration_valid_until = models.DateField(
        _("registration valid until"), null=True, blank=True
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
