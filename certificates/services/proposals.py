"""Proposals to suspend, withdraw or reissue a certificate, opened by jobs and rules for a
person to decide (003 §4.6; 001 §7.5; 004 §7.3.1(7)); accepting or dismissing them.
"""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.models import GRADE_CHOICES
from audits.models import Audit
from certbody import dates, policy
from certbody.lifecycle import RuleViolation, fire, lock, record, require_transition
from certificates import causes, guards, selectors
from certificates.models import (
    Certificate,
    Proposal,
    RegulatoryEvent,
)
from certificates.services.status import certificate_withdraw


def proposal_open(
    *,
    certificate: Certificate,
    actor,
    action: str,
    cause: int | None,
    reason: str,
    regulatory_event: RegulatoryEvent | None = None,
    star_grade: str = "",
    audit: Audit | None = None,
    history_reason: str = "系统建议",
) -> Proposal:
    """Open a proposal to suspend, withdraw or reissue ``certificate`` for a person to decide.

    ``cause`` is the suspension or withdrawal cause number of the certificate's scheme
    (``certificates.causes.scheme_causes``: 004 §7.2.1 / §7.3.1, CAS 001 §9.3.2.1 /
    §9.3.3.1), required for those and refused when not in that table; a reissue has none and
    names the ``star_grade`` proposed (001 §7.5). ``audit``: the audit whose result led to it.
    Used by jobs, the spot-check rule (003 §4.6) and the surveillance conclusion; nothing is
    suspended, withdrawn or reissued automatically here.

    At most one proposal per certificate and action is open (the partial unique constraint
    ``one_open_proposal_per_action``): when one is open already — made by a caller that checked
    first, or by a concurrent job runner that won the race — that open proposal is returned and
    nothing is written. Raises RuleViolation for an unknown action, a missing cause or grade,
    or a blank reason.
    """
    if action not in Proposal.Action.values:
        raise RuleViolation(gettext("Unknown kind of proposal: %(action)s") % {"action": action})
    if not reason.strip():
        raise RuleViolation(gettext("A proposal states its reason."))
    if action == Proposal.Action.REISSUE:
        if star_grade not in dict(GRADE_CHOICES):
            raise RuleViolation(
                gettext("A reissue proposal names the star grade proposed."), "001 §7.5"
            )
        cause = None
    elif cause is None:
        raise RuleViolation(
            gettext("A suspension or withdrawal proposal names its cause number."),
            "004 §7.2.1、§7.3.1",
        )
    else:
        table = causes.scheme_causes(certificate.scheme)
        if action == Proposal.Action.SUSPEND:
            cause = guards.suspension_cause(table, cause).number
        else:
            cause = guards.withdrawal_cause(table, cause).number
    proposal = Proposal(
        certificate=certificate,
        action=action,
        cause=cause,
        star_grade=star_grade if action == Proposal.Action.REISSUE else "",
        reason=reason[:300],
        regulatory_event=regulatory_event,
        audit=audit,
        created_by=actor,
    )
    record(proposal, actor=actor, reason=history_reason)
    try:
        # A savepoint, so that losing the race leaves the caller's transaction usable.
        with transaction.atomic():
            proposal.save()
    except IntegrityError:
        existing = selectors.open_proposal(certificate, action)
        if existing is None:  # not our constraint: a real error
            raise
        return existing
    return proposal


def proposal_accept(
    *,
    proposal: Proposal,
    actor,
    verified_on: date,
    withdrawn_on: date,
    reason: str = "",
    evidence: str = "",
) -> Proposal:
    """Carry out an open withdrawal proposal through ``certificate_withdraw`` (same rules)."""
    policy.require(actor, "certificates.handle_proposal", proposal)
    if proposal.action == Proposal.Action.REISSUE:
        raise RuleViolation(
            gettext(
                "A reissue proposal is carried out by a reissue (change type 99, star grade "
                "change)."
            ),
            "004 附录C.3",
        )
    if proposal.action != Proposal.Action.WITHDRAW:
        raise RuleViolation(gettext("This proposal is carried out by the suspension procedure."))
    with transaction.atomic():
        proposal = lock(Proposal, proposal.pk)
        require_transition(proposal, "accept", label="建议")
        certificate_withdraw(
            certificate=proposal.certificate,
            actor=actor,
            cause=proposal.cause,
            verified_on=verified_on,
            withdrawn_on=withdrawn_on,
            reason=reason or proposal.reason,
            evidence=evidence,
        )
        proposal.refresh_from_db()
    return proposal


def proposal_dismiss(*, proposal: Proposal, actor, note: str, dismissed_on: date | None = None):
    """Close an open proposal without acting on it; the reason is kept (``note``)."""
    policy.require(actor, "certificates.handle_proposal", proposal)
    if not note.strip():
        raise RuleViolation(gettext("Dismissing a proposal states the reason."))
    dismissed_on = dismissed_on or dates.today()
    guards.not_future(dismissed_on, _("The date"))
    with transaction.atomic():
        proposal = lock(Proposal, proposal.pk)
        proposal.closed_on = dismissed_on
        proposal.closing_note = note.strip()
        fire(
            proposal,
            "dismiss",
            actor=actor,
            reason="不采纳",
            fields=["closed_on", "closing_note"],
            label="建议",
        )
    return proposal


def suspension_ended_propose(
    *, certificate: Certificate, actor, today: date | None = None
) -> Proposal | None:
    """Propose withdrawing ``certificate`` because its suspension period ended unresolved
    (the cause of the certificate's scheme: 004 §7.3.1(7), CAS 001 §9.3.3.1(5); CNCA 0115).

    Locks the certificate and checks again that it is suspended past ``suspended_until``;
    returns None, writing nothing, when it no longer is, or when a withdrawal proposal is open
    or was made (and perhaps dismissed: that is a decision by staff, not something to propose
    again every day) since the suspension began. Otherwise returns the new open proposal. The
    caller (the ``suspension_ended`` job) claims the certificate first; the one-open-proposal
    constraint stops any other writer from adding a second one.
    """
    today = today or dates.today()
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if (
            certificate.head_id is not None
            or certificate.status != Certificate.Status.SUSPENDED
            or certificate.suspended_until is None
            or certificate.suspended_until >= today
        ):
            return None
        made = Proposal.objects.filter(
            certificate=certificate, action=Proposal.Action.WITHDRAW
        ).filter(
            Q(state=Proposal.State.OPEN)
            | Q(created_at__date__gte=certificate.suspended_from or certificate.suspended_until)
        )
        if made.exists():
            return None
        return proposal_open(
            certificate=certificate,
            actor=actor,
            action=Proposal.Action.WITHDRAW,
            cause=causes.scheme_causes(certificate.scheme).suspension_ended_unresolved,
            reason=f"暂停期已于 {certificate.suspended_until} 届满，证书仍处于暂停状态",
            history_reason="暂停期满",
        )


def suspension_ended_step(*, actor=None, today: date | None = None) -> Proposal | None:
    """Propose withdrawing the first due certificate (``suspension_ended_due``) through
    ``suspension_ended_propose``; the new proposal, or None when none is due. Idempotent: a
    certificate with an open withdrawal proposal, or one already made during this suspension,
    is passed over. For one-off use (shell, tests): the periodic job ``suspension_ended`` claims
    each certificate through its ``JobMark`` instead (``certificates.jobs``)."""
    from certbody.lifecycle import system_user

    today = today or dates.today()
    made = Proposal.objects.filter(
        certificate=OuterRef("pk"), action=Proposal.Action.WITHDRAW
    ).filter(Q(state=Proposal.State.OPEN) | Q(created_at__date__gte=OuterRef("suspended_from")))
    due = (
        selectors.suspension_ended_due(today=today)
        .exclude(Exists(made))
        .order_by("suspended_until", "pk")
    )
    for certificate in due[:20]:
        proposal = suspension_ended_propose(
            certificate=certificate, actor=actor or system_user(), today=today
        )
        if proposal is not None:
            return proposal
    return None
