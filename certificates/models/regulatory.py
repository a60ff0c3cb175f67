"""Regulatory events at clients, proposals for status changes, reporting obligations
(004 §5.9.2, §9.5; 002 §4.3.8.2; 003 §4.6)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from applications.models import GRADE_CHOICES
from certbody.evidence import never_delete
from certificates.models.certificates import Certificate


@never_delete
class RegulatoryEvent(models.Model):
    """Something a regulator, the press or the public found at a client (004 §5.3.3(4), §5.7.7(9),
    §5.9.2; 003 §4.6): recorded with its date and source, and what the CB did about it."""

    class Kind(models.TextChoices):
        SPOT_CHECK = "spot_check", _("Supervisory spot check")
        REGULATOR_FINDING = "regulator_finding", _("Regulator's finding")
        ACCIDENT = "accident", _("Accident")
        MEDIA_EXPOSURE = "media_exposure", _("Media exposure")
        COMPLAINT = "complaint", _("Complaint about the client")

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCIAL = "provincial", _("Provincial")
        OTHER = "other", _("Other")

    class Result(models.TextChoices):
        PASS = "pass", _("Passed")
        FAIL = "fail", _("Failed")

    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="regulatory_events",
        verbose_name=_("organisation"),
    )
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="regulatory_events",
        verbose_name=_("certificate"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    occurred_on = models.DateField(_("occurred on"))
    notified_on = models.DateField(
        _("notified on"),
        help_text=_("When the regulator issued its notice or the CB learned of the event."),
    )
    source = models.CharField(_("source"), max_length=200)
    description = models.TextField(_("description"))
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    result = models.CharField(_("result"), max_length=4, choices=Result.choices, blank=True)
    written_finding = models.BooleanField(
        _("written nonconformity"), default=False, help_text=_("004 §5.9.2(3)")
    )
    client_failed_to_report = models.BooleanField(
        _("client failed to report"),
        default=False,
        help_text=_(
            "The finding shows the client did not report it to the CB as it had to: the "
            "certificate is suspended at once (004 §5.9.2(3) note)."
        ),
    )
    major = models.BooleanField(_("major accident"), default=False, help_text=_("002 §4.3.8.2"))
    special_audit = models.ForeignKey(
        "audits.Audit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="regulatory_events",
        verbose_name=_("short-notice audit"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["recorded_at"])

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name = _("regulatory event")
        verbose_name_plural = _("regulatory events")

    def __str__(self):
        return f"{self.organization} {self.get_kind_display()} {self.occurred_on}"

    @property
    def is_failed_official_spot_check(self) -> bool:
        """A failed national or provincial spot check (counted by 003 §4.6)."""
        return (
            self.kind == self.Kind.SPOT_CHECK
            and self.result == self.Result.FAIL
            and self.level in (self.Level.NATIONAL, self.Level.PROVINCIAL)
        )


@never_delete
class Proposal(FSMModelMixin, models.Model):
    """A status change the system proposes for a person to decide (never carried out alone),
    e.g. withdrawal after three failed national or provincial spot checks (003 §4.6), or a
    reissue at the lower star grade a surveillance evaluation achieved (001 §7.5)."""

    class Action(models.TextChoices):
        WITHDRAW = "withdraw", _("Withdraw")
        SUSPEND = "suspend", _("Suspend")
        REISSUE = "reissue", _("Reissue at the grade achieved")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")

    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        related_name="proposals",
        verbose_name=_("certificate"),
    )
    action = models.CharField(_("proposed action"), max_length=10, choices=Action.choices)
    cause = models.PositiveSmallIntegerField(
        _("cause"),
        null=True,
        blank=True,
        help_text=_("004 §7.3.1 (withdrawal) or §7.2.1 (suspension) cause number"),
    )
    star_grade = models.CharField(
        _("proposed star grade"),
        max_length=20,
        choices=GRADE_CHOICES,
        blank=True,
        help_text=_("For a reissue: the grade the evaluation achieved (001 §7.5)."),
    )
    reason = models.CharField(_("reason"), max_length=300)
    regulatory_event = models.ForeignKey(
        RegulatoryEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("regulatory event"),
    )
    audit = models.ForeignKey(
        "audits.Audit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("audit"),
        help_text=_("The audit whose result led to the proposal."),
    )
    state = FSMField(
        _("state"), default=State.OPEN, choices=State.choices, protected=True, db_index=True
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open proposal per certificate and action: two job runners at once (beat and
            # cron, or two workers) once opened two withdrawal proposals for one certificate.
            models.UniqueConstraint(
                fields=["certificate", "action"],
                condition=models.Q(state="open"),
                name="one_open_proposal_per_action",
            )
        ]
        verbose_name = _("status change proposal")
        verbose_name_plural = _("status change proposals")

    def __str__(self):
        return f"{self.get_action_display()} {self.certificate}"

    @transition(field=state, source=State.OPEN, target=State.ACCEPTED)
    def accept(self):
        pass

    @transition(field=state, source=State.OPEN, target=State.DISMISSED)
    def dismiss(self):
        pass


@never_delete
class ReportingObligation(models.Model):
    """A report the CB owes an authority by a date (domain.md §16), e.g. after a major accident
    at a client: CNAS within 10 days (002 §4.3.8.2), the local regulator within 2 working days
    (004 §9.5). ``due_on`` is the stored deadline the reporting jobs ask about."""

    class Recipient(models.TextChoices):
        CNAS = "cnas", "CNAS"
        CNCA = "cnca", "CNCA"
        LOCAL_REGULATOR = "local_regulator", _("Local market regulator")

    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="reporting_obligations",
        verbose_name=_("organisation"),
    )
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reporting_obligations",
        verbose_name=_("certificate"),
    )
    regulatory_event = models.ForeignKey(
        RegulatoryEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reporting_obligations",
        verbose_name=_("regulatory event"),
    )
    recipient = models.CharField(_("recipient"), max_length=20, choices=Recipient.choices)
    subject = models.CharField(_("subject"), max_length=300)
    rule = models.CharField(_("rule"), max_length=60)
    due_on = models.DateField(_("due on"), db_index=True)
    provisional = models.BooleanField(
        _("deadline provisional"),
        default=False,
        help_text=_("Counted Monday–Friday: the year's holidays are not published yet."),
    )
    done_on = models.DateField(_("reported on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("reporting obligation")
        verbose_name_plural = _("reporting obligations")

    def __str__(self):
        return f"{self.get_recipient_display()} {self.subject} ≤ {self.due_on}"
