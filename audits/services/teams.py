"""Audit teams: members in and out (004 §5.4.4; the whole team is judged by
``audits.selectors.audit_team_check``).
"""

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from audits.models import (
    Audit,
    AuditTeamMember,
)
from audits.selectors.calendar import audit_span, booking_conflicts
from audits.selectors.planning import _declared_conflict, _is_auditor, _profile, _role_fits
from audits.services.plans import _plan_revise
from certbody import policy
from certbody.lifecycle import RuleViolation, lock, record


def audit_team_add(
    *, audit: Audit, actor, user, role: str, whole_audit: bool = True, tasks: str = ""
) -> AuditTeamMember:
    """Put ``user`` on the audit team with ``role`` (004 §5.4.4). One leader per team.

    Permissive so a team can be built member by member: ``audit_team_check`` (run when the
    audit starts and the plan is sent) judges the whole team. Refused at once: a non-auditor, a
    role the person's qualification does not allow, a declared conflict of interest with the
    client (004 §5.4.4.3), a person blocked (leave, training, other work) or booked on another
    planned or running audit on one of the audit's days from today (``booking_conflicts``), a second
    leader, a duplicate. ``whole_audit``: present for the whole
    audit (004 §5.4.4.1(3)); ``tasks``: their tasks for the audit plan (004 §5.4.6.1). A plan
    already sent is revised and must be confirmed again (004 §5.4.6.3).
    """
    policy.require(actor, "audits.manage_team", audit)
    if role not in AuditTeamMember.Role.values:
        raise RuleViolation(_("Unknown audit team role: %(role)s.") % {"role": role})
    profile = _profile(user)
    if not _is_auditor(user, profile):
        raise RuleViolation(
            _('"%(user)s" is not an auditor registered with the certification body.')
            % {"user": user},
            "004 §5.4.4",
        )
    if profile is not None and not _role_fits(role, profile):
        raise RuleViolation(
            _('"%(user)s" is qualified as "%(qualification)s" and cannot act as "%(role)s".')
            % {
                "user": user,
                "qualification": profile.get_qualification_display(),
                "role": AuditTeamMember.Role(role).label,
            },
            "004 §5.4.4",
        )
    with transaction.atomic():
        audit = (
            Audit.objects.select_for_update(of=("self",))
            .select_related("programme")
            .get(pk=audit.pk)
        )
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation(_("The audit is over: its team can no longer change."))
        if _declared_conflict(user, audit.programme.organization_id):
            raise RuleViolation(
                _(
                    '"%(user)s" declared an interest in this client and may not be on the '
                    "audit team."
                )
                % {"user": user},
                "004 §5.4.4.3",
            )
        span = audit_span(audit)
        busy = booking_conflicts([user.pk], *span, exclude_audit_id=audit.pk) if span else []
        if busy:
            raise RuleViolation(
                _('"%(user)s" cannot be on the team of this audit: %(conflicts)s')
                % {"user": user, "conflicts": _("; ").join(busy)}
            )
        # The leader and this user, if on the team already, in one query.
        taken = list(
            audit.team.filter(Q(role=AuditTeamMember.Role.LEADER) | Q(user=user)).values_list(
                "role", "user_id"
            )
        )
        if role == AuditTeamMember.Role.LEADER and any(r == role for r, _u in taken):
            raise RuleViolation(_("An audit team has only one team leader."), "004 §5.4.4")
        if any(u == user.pk for _r, u in taken):
            raise RuleViolation(_('"%(user)s" is on the audit team already.') % {"user": user})
        member = AuditTeamMember(
            audit=audit, user=user, role=role, whole_audit=bool(whole_audit), tasks=tasks[:300]
        )
        record(member, actor=actor, reason="指派审核组成员")
        member.save()
        _plan_revise(audit, actor, reason="审核组变更")
    return member


def audit_team_remove(*, audit: Audit, actor, user, reason: str = "") -> None:
    """Take ``user`` off the team of a planned or running audit; a sent plan is revised."""
    policy.require(actor, "audits.manage_team", audit)
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation(_("The audit is over: its team can no longer change."))
        member = audit.team.filter(user=user).first()
        if member is None:
            raise RuleViolation(_('"%(user)s" is not on the audit team.') % {"user": user})
        record(member, actor=actor, reason=reason or "调出审核组")
        member.delete()
        _plan_revise(audit, actor, reason="审核组变更")
