"""The audit team's object predicates for ``certbody.policy`` (registered from ``ready``).

The matrix in ``certbody.policy`` names them; this module says what they mean for the objects of
this app: an audit, or anything that belongs to one (its plan, meetings, score sheets and their
items, nonconformities and their responses, reports).
"""

from certbody import policy


def audit_of(obj):
    """The ``Audit`` that ``obj`` belongs to, or ``None`` (``obj`` may be ``None`` or any object).

    An Audit is itself; otherwise ``.audit``, ``.sheet.audit``, ``.nonconformity.audit`` or
    ``.response.nonconformity.audit``, whichever the object has.
    """
    from audits.models import Audit

    if obj is None:
        return None
    if isinstance(obj, Audit):
        return obj
    for path in ("audit", "sheet.audit", "nonconformity.audit", "response.nonconformity.audit"):
        target = obj
        for attribute in path.split("."):
            target = getattr(target, attribute, None)
            if target is None:
                break
        if isinstance(target, Audit):
            return target
    return None


def team_roles(user, obj) -> set[str]:
    """The roles (``AuditTeamMember.role`` values) ``user`` holds on the audit of ``obj``."""
    audit = audit_of(obj)
    if audit is None or not user.is_authenticated:
        return set()
    return set(audit.team.filter(user_id=user.pk).values_list("role", flat=True))


def on_audit_team(user, obj) -> bool:
    """The user is on the object's audit team as team leader or auditor (004 §5.4.4)."""
    return bool(team_roles(user, obj) & {"leader", "auditor"})


def leads_audit(user, obj) -> bool:
    """The user is the team leader of the object's audit."""
    return "leader" in team_roles(user, obj)


def audit_has_no_leader(user, obj) -> bool:
    """A terminated audit may never have had a team leader: the audit department signs its
    termination report (004 §5.11.6)."""
    audit = audit_of(obj)
    return audit is not None and not audit.team.filter(role="leader").exists()


def not_on_audit_team(user, obj) -> bool:
    """Decision makers never decide on an audit they were part of (004 §5.12.1); with no
    object (a list page) nobody is excluded."""
    return obj is None or not team_roles(user, obj)


def register() -> None:
    """Register the predicates above with ``certbody.policy`` (idempotent)."""
    for test in (on_audit_team, leads_audit, audit_has_no_leader, not_on_audit_team):
        policy.register_object_predicate(test.__name__, test)
