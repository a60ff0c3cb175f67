"""An auditor's blocked days on the planning calendar: leave, training, other work (issue #14).

An audit day on a blocked day is refused when the team or the dates are set
(``audits.services.calendar``); the calendar shows the blocks before anyone saves.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class AuditorUnavailability(models.Model):
    """Days from ``start`` to ``end`` (local dates, both included) the auditor cannot audit.

    Entered by the auditor or the planners; removed only through ``auditor_unblock_days``,
    which keeps the row in the history with who removed it and why.
    """

    class Kind(models.TextChoices):
        LEAVE = "leave", _("Leave")
        TRAINING = "training", _("Training")
        OTHER_WORK = "other_work", _("Other work")

    auditor = models.ForeignKey(
        "audits.Auditor",
        on_delete=models.PROTECT,
        related_name="unavailabilities",
        verbose_name=_("auditor"),
    )
    # Indexed: the calendar asks "which blocks overlap this month?".
    start = models.DateField(_("first day"), db_index=True)
    end = models.DateField(_("last day"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["recorded_at"])

    class Meta:
        ordering = ["auditor", "start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")),
                name="unavailability_end_after_start",
                violation_error_message=_("The last blocked day cannot be before the first."),
            )
        ]
        verbose_name = _("blocked days")
        verbose_name_plural = _("blocked days")

    def __str__(self):
        return (
            f"{self.auditor} · {self.get_kind_display()} {self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"
        )

    def covers(self, first, last) -> bool:
        """Whether any day from ``first`` to ``last`` (local dates) is blocked."""
        return self.start <= last and first <= self.end
