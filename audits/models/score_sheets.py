"""Score sheets (服务测评检查表) and the indicator catalogue (004 §5.6.5; 001 §6.4.3, §6.5)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from audits.models.programmes import Audit
from certbody.evidence import never_delete


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
    excluded = models.BooleanField(_("excluded from scoring"), default=False)
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
