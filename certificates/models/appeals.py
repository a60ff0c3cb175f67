"""Appeals and complaints (004 §8; 001 §10)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from certbody.evidence import never_delete
from certificates.models.certificates import Certificate
from certificates.models.decisions import Decision

APPEAL_DAYS = 60  # 004 §8.3; 001 §10: written result within 60 days of receipt


@never_delete
class Appeal(FSMModelMixin, models.Model):
    """An appeal against a decision or a complaint (004 §8; 001 §10), handled by someone not
    involved in the matter and answered in writing within 60 days (``due_on``)."""

    class Kind(models.TextChoices):
        APPEAL = "appeal", _("Appeal")
        COMPLAINT = "complaint", _("Complaint")

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        UNDER_INVESTIGATION = "under_investigation", _("Under investigation")
        DECIDED = "decided", _("Decided (closed)")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Upheld")
        PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
        NOT_UPHELD = "not_upheld", _("Not upheld")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Client portal")
        PUBLIC = "public", _("Public web form")
        STAFF = "staff", _("Recorded by staff")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("written result due"), db_index=True)
    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("from organisation"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    about_organization = models.CharField(_("about the organisation"), max_length=200, blank=True)
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("about the certificate"),
    )
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("about the decision"),
    )
    audit = models.ForeignKey(
        "audits.Audit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("about the audit"),
    )
    state = FSMField(
        _("state"), default=State.RECEIVED, choices=State.choices, protected=True, db_index=True
    )
    acknowledged_on = models.DateField(_("acknowledged on"), null=True, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals_handled",
        verbose_name=_("handler"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    decision_text = models.TextField(_("written decision"), blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("appeal or complaint")
        verbose_name_plural = _("appeals and complaints")

    def __str__(self):
        return f"{self.reference} {self.subject}"

    @property
    def is_overdue(self) -> bool:
        """Open past its due date, or answered after it."""
        if self.decided_on:
            return self.decided_on > self.due_on
        return timezone.localdate() > self.due_on

    @staticmethod
    def due_date(received_on):
        return received_on + timedelta(days=APPEAL_DAYS)

    @transition(field=state, source=State.RECEIVED, target=State.ACKNOWLEDGED)
    def acknowledge(self):
        pass

    @transition(field=state, source=State.ACKNOWLEDGED, target=State.UNDER_INVESTIGATION)
    def investigate(self):
        pass

    @transition(field=state, source=State.UNDER_INVESTIGATION, target=State.DECIDED)
    def decide(self):
        pass
