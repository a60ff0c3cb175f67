"""Read-only nonconformity queries: deadlines, settled late, unsettled and overdue NCs, the
client's next step (004 §5.10, §5.12.2(2); 001 §7.5).

Deadlines (``Nonconformity.due_on``, a stored, indexed column): major NCs are verified within
the period of 004 §5.10.3 from the audit's end (``audits.rules.major_nc_due``; CAS 001 §7.5);
special audits use the surveillance period; a document review's NCs count from its own end.
"""

from datetime import date

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audits import rules
from audits.models import (
    Audit,
    AuditTeamMember,
    Nonconformity,
    NonconformityResponse,
)
from certbody import dates
from certbody.lifecycle import RuleViolation

Severity = Nonconformity.Severity
State = Nonconformity.State
Review = NonconformityResponse.Review


# Team roles that audit and may write records (004 §5.4.4.2: trainees do not write records
# alone; technical experts advise and do not audit).
AUDITING_ROLES = (AuditTeamMember.Role.LEADER, AuditTeamMember.Role.AUDITOR)


RAISE_STATES = (Audit.State.IN_PROGRESS, Audit.State.COMPLETED)


VERIFY_STATES = (Audit.State.IN_PROGRESS, Audit.State.COMPLETED, Audit.State.CLOSED)


def nonconformity_due(audit: Audit, *, raised_on: date | None = None) -> date:
    """The ``due_on`` of an NC of ``audit`` (both severities; see the module docstring).

    Counts from ``audit.actual_end``, or from ``raised_on`` (a local date) while the audit has
    not ended. Implements 004 §5.10.3 / 001 §7.5 through ``rules.major_nc_due``. Raises
    ``RuleViolation`` when neither date is known.
    """
    end = audit.actual_end or raised_on
    if end is None:
        raise RuleViolation(
            _("The audit has not ended: give the date the nonconformity was raised.")
        )
    return rules.major_nc_due(audit.audit_type, end, audit.programme.scheme)


def verified_late(nonconformity: Nonconformity) -> bool:
    """True when the NC was settled (closed, or a minor's plan accepted) after its ``due_on``.

    004 §5.10.4: no grant, maintenance or renewal decision when the client's actions were not
    completed in time. The service records a late acceptance (and says so in the history); the
    decision service refuses on it.
    """
    nc = nonconformity
    if nc.state == State.PLAN_ACCEPTED or (nc.state == State.CLOSED and nc.verified_at_id):
        accepted = (
            nc.responses.filter(review=Review.ACCEPTED, is_plan=True)
            .order_by("-pk")
            .values_list("reviewed_on", flat=True)
            .first()
        )
        if accepted is not None:
            return accepted > nc.due_on
    return nc.closed_on is not None and nc.closed_on > nc.due_on


def late_nonconformities(audit: Audit) -> list[Nonconformity]:
    """NCs of ``audit`` settled after their deadline (``verified_late``), by number."""
    return [nc for nc in audit.nonconformities.order_by("number") if verified_late(nc)]


def unsettled_q(prefix: str = "") -> Q:
    """``Q`` for NCs not settled for a decision (004 §5.12.2(2)): majors not closed, minors
    neither closed nor with a plan accepted. ``prefix``: a lookup path to the NC (e.g.
    "nonconformities__")."""
    closed = Q(**{f"{prefix}state": State.CLOSED})
    plan = Q(**{f"{prefix}state": State.PLAN_ACCEPTED, f"{prefix}severity": Severity.MINOR})
    return ~(closed | plan)


def unsettled_nonconformities(audit: Audit) -> QuerySet[Nonconformity]:
    """NCs of ``audit`` that bar a grant, maintenance or renewal decision (004 §5.10.4,
    §5.12.2(2)): majors not yet verified and closed; minors neither closed nor with an accepted
    corrective action plan. Ordered by number."""
    return Nonconformity.objects.filter(unsettled_q(), audit_id=audit.pk).order_by("number")


def cycle_unsettled_nonconformities(programme) -> QuerySet[Nonconformity]:
    """Unsettled NCs (``unsettled_q``) of the certification cycle an ASRP rests on (000 §4.1.2):
    the audits of ``programme`` (the recertification that opens it and any later one) and of the
    same client's previous cycle (initial or recertification, surveillances, special audits).
    Ordered by cycle, audit and number."""
    return (
        Nonconformity.objects.filter(
            unsettled_q(),
            audit__programme__organization_id=programme.organization_id,
            audit__programme__cycle__in=(programme.cycle - 1, programme.cycle),
        )
        .select_related("audit")
        .order_by("audit__programme__cycle", "audit__pk", "number")
    )


def overdue_nonconformities(today: date | None = None) -> QuerySet[Nonconformity]:
    """Unsettled NCs (all audits) whose ``due_on`` is before ``today`` (local date; default
    today), earliest deadline first."""
    today = today or dates.today()
    return (
        Nonconformity.objects.filter(unsettled_q(), due_on__lt=today)
        .select_related("audit__programme__organization")
        .order_by("due_on", "pk")
    )


NEXT_STEPS = {
    State.OPEN: gettext_lazy(
        "Please analyse the cause and submit the correction and corrective action with evidence."
    ),
    State.REJECTED: gettext_lazy(
        "The answer was not accepted: please answer again as the audit team asks."
    ),
    State.ANSWERED: gettext_lazy("Answered: waiting for the audit team's verification."),
    State.PLAN_ACCEPTED: gettext_lazy(
        "Corrective action plan accepted: its effect is verified at the next audit."
    ),
}
VERIFIED_AND_CLOSED = gettext_lazy("Verified and closed.")


def next_step(nonconformity: Nonconformity):
    """What happens next for the NC, in plain words for the client portal, the desk and the
    reminders (004 §5.10): a lazy text, so each reader (and each e-mail's recipient) reads it in
    their own language when it is shown."""
    return NEXT_STEPS.get(nonconformity.state, VERIFIED_AND_CLOSED)
