"""Write path for audit programmes, audits and teams (004 §5.4–5.7; 001 §6.2–6.4).

Keyword-only functions taking the acting user; each runs atomically and raises
``RuleViolation`` with the rule named when the change is not allowed.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from applications.models import Application, Contract
from audits import rules
from audits.models import Audit, AuditProgramme, AuditTeamMember
from certbody import roles
from certbody.lifecycle import RuleViolation, fire, lock, record

PLANNING_ROLES = (roles.AUDIT_DEPARTMENT, roles.TECHNICAL_MANAGER)


def _require_planner(actor) -> None:
    if not any(roles.has_role(actor, role) for role in PLANNING_ROLES):
        raise RuleViolation(f"用户“{actor}”不是审核部门人员，不能安排审核")


def programme_create(*, application: Application, actor) -> AuditProgramme:
    """Create the programme of the cycle an accepted, contracted application opens (004 §5.4.1).

    Plans the document review and stage 2 (initial) or the recertification audit, with the
    Appendix A time as proposal. Raises RuleViolation when the application is not accepted or
    its contract is not signed (004 §5.3: contract before any audit).
    """
    _require_planner(actor)
    with transaction.atomic():
        application = lock(Application, application.pk)
        if application.state != Application.State.ACCEPTED:
            raise RuleViolation("只有已受理的申请才能建立审核方案", "004 §5.2")
        contract = Contract.objects.filter(application=application).first()
        if contract is None or contract.state != Contract.State.SIGNED:
            raise RuleViolation("认证合同签订前不能安排审核", "004 §5.3")
        if AuditProgramme.objects.filter(application=application).exists():
            raise RuleViolation("该申请已建立审核方案")
        previous = (
            AuditProgramme.objects.filter(organization=application.organization)
            .order_by("-cycle")
            .first()
        )
        recertification = application.kind == Application.Kind.RECERTIFICATION
        if recertification and previous is None:
            raise RuleViolation("没有上一认证周期，不能按再认证安排", "004 §5.8")
        cycle = previous.cycle + 1 if (recertification and previous) else 0
        if not recertification and previous is not None:
            # A lapsed client starts over as initial certification (004 §5.8.1), new cycle row.
            cycle = previous.cycle + 1
        programme = AuditProgramme(
            organization=application.organization,
            application=application,
            cycle=cycle,
            scheme=application.scheme,
        )
        record(programme, actor=actor, reason="建立审核方案")
        programme.save()
        headcount = application.headcount
        if recertification:
            _add_audit(
                programme,
                actor,
                kind=Audit.Kind.RECERTIFICATION,
                days=rules.table_days(headcount, "recertification", application.scheme),
            )
        else:
            _add_audit(programme, actor, kind=Audit.Kind.DOCUMENT_REVIEW, days=Decimal("0.5"))
            _add_audit(
                programme,
                actor,
                kind=Audit.Kind.STAGE2,
                days=rules.table_days(headcount, "initial", application.scheme),
            )
    return programme


def _add_audit(programme, actor, *, kind, days=None, sequence=1, due_on=None, reason=""):
    audit = Audit(
        programme=programme,
        kind=kind,
        sequence=sequence,
        planned_days=days,
        due_on=due_on,
        reason=reason,
    )
    record(audit, actor=actor, reason="列入审核方案")
    audit.save()
    return audit


def programme_plan_cycle(
    *, programme: AuditProgramme, actor, decision_date: date, expires_on: date
) -> list[Audit]:
    """After a grant, add surveillance 1 and 2 and the recertification with their due dates.

    Surveillance 1 is due 12 months after the decision; surveillance 2 at the latest date
    allowed after surveillance 1's due date (domain.md §11, rules.next_surveillance_due); the
    recertification audit must end before expiry (004 §5.8). Idempotent: existing audits of
    these kinds are re-dated instead of duplicated.
    """
    headcount = programme.application.headcount
    scheme = programme.scheme
    s1_due = rules.next_surveillance_due(decision_date)
    s2_due = min(rules.next_surveillance_due(decision_date, s1_due), expires_on)
    plan = [
        (Audit.Kind.SURVEILLANCE, 1, s1_due, rules.table_days(headcount, "surveillance", scheme)),
        (Audit.Kind.SURVEILLANCE, 2, s2_due, rules.table_days(headcount, "surveillance", scheme)),
        (
            Audit.Kind.RECERTIFICATION,
            1,
            expires_on - timedelta(days=1),
            rules.table_days(headcount, "recertification", scheme),
        ),
    ]
    audits = []
    for kind, sequence, due_on, days in plan:
        audit = Audit.objects.filter(programme=programme, kind=kind, sequence=sequence).first()
        if audit is None:
            audits.append(
                _add_audit(programme, actor, kind=kind, sequence=sequence, due_on=due_on, days=days)
            )
        elif audit.state == Audit.State.PLANNED and audit.due_on != due_on:
            audit.due_on = due_on
            record(audit, actor=actor, reason="按认证决定日期重排")
            audit.save(update_fields=["due_on"])
            audits.append(audit)
    return audits


def audit_schedule(
    *, audit: Audit, actor, planned_start: date, planned_end: date, planned_days: Decimal
) -> Audit:
    """Set the dates and audit time of a planned audit (004 §5.4.2, §5.4.6)."""
    _require_planner(actor)
    if planned_end < planned_start:
        raise RuleViolation("审核结束日期不能早于开始日期")
    planned_days = Decimal(planned_days)
    if planned_days <= 0 or planned_days % Decimal("0.5") != 0:
        raise RuleViolation("审核时间须为正的半天倍数", "004 附录A")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.PLANNED:
            raise RuleViolation("只有计划中的审核才能调整日期")
        audit.planned_start = planned_start
        audit.planned_end = planned_end
        audit.planned_days = planned_days
        record(audit, actor=actor, reason="安排审核日期")
        audit.save(update_fields=["planned_start", "planned_end", "planned_days"])
    return audit


def audit_team_add(*, audit: Audit, actor, user, role: str) -> AuditTeamMember:
    """Put ``user`` on the audit team with ``role`` (004 §5.4.4). One leader per team."""
    _require_planner(actor)
    if role not in AuditTeamMember.Role.values:
        raise RuleViolation(f"未知的审核组角色：{role}")
    if not user.is_staff or not roles.has_role(user, roles.AUDITOR):
        raise RuleViolation(f"“{user}”不是本机构登记的审核员", "004 §5.4.4")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation("审核已结束，不能再调整审核组")
        if role == AuditTeamMember.Role.LEADER and audit.team.filter(role=role).exists():
            raise RuleViolation("审核组只能有一名组长", "004 §5.4.4")
        if audit.team.filter(user=user).exists():
            raise RuleViolation(f"“{user}”已在审核组中")
        member = AuditTeamMember(audit=audit, user=user, role=role)
        record(member, actor=actor, reason="指派审核组成员")
        member.save()
    return member


def audit_start(*, audit: Audit, actor, started_on: date) -> Audit:
    """Start an audit: it needs a leader; stage 2 needs a completed document review (001 §6.3)."""
    _require_planner_or_leader(actor, audit)
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if not audit.team.filter(role=AuditTeamMember.Role.LEADER).exists():
            raise RuleViolation("审核组必须有组长", "004 §5.4.4")
        if audit.kind == Audit.Kind.STAGE2:
            review_done = Audit.objects.filter(
                programme_id=audit.programme_id,
                kind=Audit.Kind.DOCUMENT_REVIEW,
                state__in=[Audit.State.COMPLETED, Audit.State.CLOSED],
            ).exists()
            if not review_done:
                raise RuleViolation("文件审核通过后才能进行现场审核", "001 §6.3")
        audit.actual_start = started_on
        fire(audit, "start", actor=actor, reason="审核开始", fields=["actual_start"])
    return audit


def audit_complete(
    *, audit: Audit, actor, ended_on: date, findings: str = "", recommendation_positive: bool
) -> Audit:
    """The team leader completes the audit with the team's recommendation (004 §5.11)."""
    _require_leader(actor, audit)
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.actual_start and ended_on < audit.actual_start:
            raise RuleViolation("审核结束日期不能早于开始日期")
        audit.actual_end = ended_on
        audit.findings_summary = findings
        audit.recommendation_positive = recommendation_positive
        fire(
            audit,
            "complete",
            actor=actor,
            reason="审核完成",
            fields=["actual_end", "findings_summary", "recommendation_positive"],
        )
    return audit


def audit_close(*, audit: Audit, actor, reason: str = "审核关闭") -> Audit:
    """Close a completed audit once its decision is made (or by the audit department)."""
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        fire(audit, "close", actor=actor, reason=reason)
    return audit


def audit_terminate(*, audit: Audit, actor, reason: str) -> Audit:
    """Terminate an audit with the CB's approval and the reason (004 §5.5.3)."""
    _require_planner(actor)
    if not reason.strip():
        raise RuleViolation("终止审核必须说明原因", "004 §5.5.3")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        audit.termination_reason = reason
        fire(audit, "terminate", actor=actor, reason="终止审核", fields=["termination_reason"])
    return audit


def _is_leader(actor, audit: Audit) -> bool:
    return audit.team.filter(user=actor, role=AuditTeamMember.Role.LEADER).exists()


def _require_leader(actor, audit: Audit) -> None:
    if not _is_leader(actor, audit):
        raise RuleViolation("只有审核组长可以完成审核并给出推荐意见", "004 §5.11")


def _require_planner_or_leader(actor, audit: Audit) -> None:
    if _is_leader(actor, audit):
        return
    _require_planner(actor)
