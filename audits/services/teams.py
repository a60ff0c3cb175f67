"""Audit teams: members in and out (004 §5.4.4; the whole team is judged by
``audits.selectors.audit_team_check``).
"""

from django.db import transaction

from audits.models import (
    Audit,
    AuditTeamMember,
)
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
    client (004 §5.4.4.3), a second leader, a duplicate. ``whole_audit``: present for the whole
    audit (004 §5.4.4.1(3)); ``tasks``: their tasks for the audit plan (004 §5.4.6.1). A plan
    already sent is revised and must be confirmed again (004 §5.4.6.3).
    """
    policy.require(actor, "audits.manage_team", audit)
    if role not in AuditTeamMember.Role.values:
        raise RuleViolation(f"未知的审核组角色：{role}")
    if not _is_auditor(user):
        raise RuleViolation(f"“{user}”不是本机构登记的审核员", "004 §5.4.4")
    profile = _profile(user)
    if profile is not None and not _role_fits(role, profile):
        raise RuleViolation(
            f"“{user}”的资格为“{profile.get_qualification_display()}”，"
            f"不能担任“{AuditTeamMember.Role(role).label}”",
            "004 §5.4.4",
        )
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation("审核已结束，不能再调整审核组")
        if _declared_conflict(user, audit.programme.organization_id):
            raise RuleViolation(
                f"“{user}”已声明与该客户存在利益关系，不得参加审核组", "004 §5.4.4.3"
            )
        if role == AuditTeamMember.Role.LEADER and audit.team.filter(role=role).exists():
            raise RuleViolation("审核组只能有一名组长", "004 §5.4.4")
        if audit.team.filter(user=user).exists():
            raise RuleViolation(f"“{user}”已在审核组中")
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
            raise RuleViolation("审核已结束，不能再调整审核组")
        member = audit.team.filter(user=user).first()
        if member is None:
            raise RuleViolation(f"“{user}”不在审核组中")
        record(member, actor=actor, reason=reason or "调出审核组")
        member.delete()
        _plan_revise(audit, actor, reason="审核组变更")
