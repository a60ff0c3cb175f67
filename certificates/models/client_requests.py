"""Clients' requests from the portal: a change, cancellation or suspension of a certificate."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from certbody.evidence import never_delete
from certificates.models.certificates import Certificate


@never_delete
class ClientRequest(FSMModelMixin, models.Model):
    """A client's request, made in the portal, for a change of its certificate, its cancellation
    or its suspension (004 §7.2.1(11), §7.4; 004 Appendix C.3).

    The request is a record of what the client asked and how staff answered it; the change
    itself is carried out through the ordinary certificate actions (``certificate_reissue``,
    ``certificate_cancel``, ``certificate_suspend``), whose rules it does not bypass.
    """

    class Kind(models.TextChoices):
        CHANGE = "change", _("Change of the certificate")
        CANCELLATION = "cancellation", _("Cancellation")
        SUSPENSION = "suspension", _("Suspension")

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        HANDLED = "handled", _("Handled")
        DECLINED = "declined", _("Declined")

    organization = models.ForeignKey(
        "applications.Organization",
        on_delete=models.PROTECT,
        related_name="client_requests",
        verbose_name=_("organisation"),
    )
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="client_requests",
        verbose_name=_("certificate"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    details = models.TextField(_("details"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    state = FSMField(
        _("state"), default=State.RECEIVED, choices=State.choices, protected=True, db_index=True
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("client request")
        verbose_name_plural = _("client requests")

    def __str__(self):
        about = f" {self.certificate}" if self.certificate_id else ""
        return f"{self.get_kind_display()}{about} · {self.organization}"

    @transition(field=state, source=State.RECEIVED, target=State.HANDLED)
    def handle(self):
        pass

    @transition(field=state, source=State.RECEIVED, target=State.DECLINED)
    def decline(self):
        pass
