"""Nonconformities, the client's responses and their evidence files (004 §5.10; 001 §7.5)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from audits.models.programmes import Audit
from certbody.evidence import never_delete


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
