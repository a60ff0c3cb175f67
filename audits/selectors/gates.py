"""The gates of an audit's start and completion as shared guards: they raise
``RuleViolation`` with the clause and change nothing. ``audit_start`` and ``audit_complete``
call them on the locked row with the form's date; the workspace's object page calls them
without a date (``started_on``/``ended_on`` None: only what no date can cure) through the
actions' ``precheck``, so a button is disabled with the service's own reason (issue #14).
"""

from datetime import date

from django.utils.translation import gettext as _

from audits.models import AsrpProgramme, Audit, AuditMeeting
from audits.selectors.cas import require_cas_surveillance_window
from audits.selectors.planning import (
    _determination,
    _require_plan_ready,
    audit_team_check,
    require_plan_confirmed,
)
from certbody.lifecycle import RuleViolation


def require_document_review_passed(audit: Audit) -> None:
    """A stage 2 follows a completed (or closed) document review of its programme (001 §6.3)."""
    if audit.kind != Audit.Kind.STAGE2:
        return
    review_done = Audit.objects.filter(
        programme_id=audit.programme_id,
        kind=Audit.Kind.DOCUMENT_REVIEW,
        state__in=[Audit.State.COMPLETED, Audit.State.CLOSED],
    ).exists()
    if not review_done:
        raise RuleViolation(
            _("The on-site audit can only follow a passed document review."), "001 §6.3"
        )


def require_team_valid(audit: Audit, on: date | None = None, *, current: bool = False) -> None:
    """The team passes ``audit_team_check`` on ``on`` (None: the audit's actual or planned
    start, else today): leader, registrations valid on every audit day, competences …
    (004 §5.4.4). ``current``: ``audit`` was just read by the caller (see ``audit_team_check``)."""
    failures = audit_team_check(audit, on=on, current=current)
    if failures:
        raise RuleViolation(
            _("The audit team does not meet the rules; the audit cannot start: %(failures)s")
            % {"failures": _("; ").join(failures)}
        )


def require_asrp_notified(audit: Audit, started_on: date | None = None) -> None:
    """An audit timed under an ASRP programme needs the accreditation body notified before
    the first use (000 §4.4.2): on or before ``started_on`` (None: at all)."""
    determination = _determination(audit)  # joined in by ``audit_start``'s lock
    if determination is None or not determination.asrp:
        return
    asrp = AsrpProgramme.objects.filter(programme_id=audit.programme_id).first()
    notified = asrp.accreditation_notified_on if asrp else None
    if notified is None or (started_on is not None and notified > started_on):
        raise RuleViolation(
            _(
                "An audit timed under an ASRP programme needs the accreditation body "
                "notified before the first use."
            ),
            "000 §4.4.2",
        )


def audit_startable(audit: Audit, started_on: date | None = None, *, current: bool = False) -> None:
    """Every gate of ``audit_start`` in its order (004 §5.4.4, §5.4.6, §9.2; 001 §6.3, §7.1;
    000 §4.4.2). ``started_on``: the local first day; None checks what holds for any day (the
    team on its planned start). ``current``: ``audit`` is the row the caller just locked, not
    read again for the team check (``audit_team_check``)."""
    require_document_review_passed(audit)
    if started_on is not None:
        require_cas_surveillance_window(audit, started_on)
    require_team_valid(audit, started_on, current=current)
    if audit.needs_site_visit:
        if started_on is None:
            require_plan_confirmed(audit)
        else:
            _require_plan_ready(audit, started_on)
    require_asrp_notified(audit, started_on)


def require_meetings(audit: Audit, ended_on: date | None = None) -> None:
    """An on-site audit completes only with both meetings recorded, the closing one not after
    ``ended_on`` (None: not checked) (004 §5.5.2)."""
    meetings = {m.kind: m for m in audit.meetings.all()}
    missing = [str(label) for value, label in AuditMeeting.Kind.choices if value not in meetings]
    if missing:
        raise RuleViolation(
            _("The audit cannot be completed before its meetings are recorded: %(missing)s.")
            % {"missing": ", ".join(missing)},
            "004 §5.5.2",
        )
    if ended_on is not None and meetings[AuditMeeting.Kind.CLOSING].held_on > ended_on:
        raise RuleViolation(
            _("The audit cannot end before its closing meeting (%(held_on)s).")
            % {"held_on": meetings[AuditMeeting.Kind.CLOSING].held_on},
            "004 §5.5.2; 004 §12.1.5",
        )


def require_asrp_activities_covered(audit: Audit) -> None:
    """Under a running ASRP programme every mandatory on-site activity of ``audit`` is
    recorded as covered (000 §4.2.2 b)."""
    asrp = AsrpProgramme.objects.filter(programme_id=audit.programme_id).first()
    if asrp is None or asrp.state == AsrpProgramme.State.ENDED:
        return
    open_activities = [
        a.get_activity_display() for a in audit.asrp_activities.filter(covered=False)
    ]
    if open_activities:
        raise RuleViolation(
            _("The ASRP audit has not covered these mandatory activities: %(activities)s")
            % {"activities": _("; ").join(open_activities)},
            "000 §4.2.2 b)",
        )


def audit_completable(audit: Audit, ended_on: date | None = None) -> None:
    """Every gate of ``audit_complete`` (004 §5.5.2, §5.11; 000 §4.2.2 b). ``ended_on``: the
    local last day; None checks what holds for any day."""
    if ended_on is not None and audit.actual_start and ended_on < audit.actual_start:
        raise RuleViolation(_("The audit's end date cannot be earlier than its start date."))
    if audit.needs_site_visit and audit.state == Audit.State.IN_PROGRESS:
        require_meetings(audit, ended_on)
    require_asrp_activities_covered(audit)
