"""Certification decisions on completed audits (004 §5.12; 001 §6.6)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from applications.models import GRADE_CHOICES
from certbody.evidence import never_delete


@never_delete
class Decision(models.Model):
    """A certification decision on an audit (004 §5.12), by someone not on its team.

    ``basis`` says who decided: a decision maker (004 §5.12.1), or, for a surveillance audit
    only, the team leader's positive conclusion that maintains the certificate without a
    separate decision (004 §5.12.6). Such a row has outcome maintain and ``decided_by`` the
    team leader; listing them by ``basis`` is how the CB monitors those conclusions
    (004 §5.12.6(3)).
    """

    class Outcome(models.TextChoices):
        GRANT = "grant", _("Grant")
        REFUSE = "refuse", _("Refuse")
        MAINTAIN = "maintain", _("Maintain")

    class Basis(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Certification decision maker")
        TEAM_LEADER_CONCLUSION = (
            "team_leader_conclusion",
            _("Team leader's positive surveillance conclusion"),
        )

    audit = models.ForeignKey(
        "audits.Audit", on_delete=models.PROTECT, related_name="decisions", verbose_name=_("audit")
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("decision maker"),
    )
    decided_on = models.DateField(_("decided on"))
    basis = models.CharField(
        _("basis"),
        max_length=30,
        choices=Basis.choices,
        default=Basis.DECISION_MAKER,
        help_text=_("004 §5.12.1; §5.12.6 for a team leader's surveillance conclusion"),
    )
    star_grade = models.CharField(_("star grade"), max_length=20, choices=GRADE_CHOICES, blank=True)
    reasons = models.TextField(_("reasons"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = _("certification decision")
        verbose_name_plural = _("certification decisions")

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.audit}"
