"""Write path for auditors, programmes, audits, teams, audit time, sampling, plans and ASRP.

Implements 004 §5.4–5.9 (ZXRZ), 001 §6.2–7 (CAS) and 000 (ASRP) on top of the pure rules in
``audits.rules``. Keyword-only functions taking the acting user; each write runs atomically,
records the actor and reason in the history and raises ``RuleViolation`` with the clause named
when the change is not allowed. Days are ``Decimal`` auditor-days (1 day = 8 h); dates are
local ``datetime.date`` values.

Read-only helpers (``audit_team_check``, ``audit_time_propose``, ``sampling_plan_propose``,
``asrp_full_cycle_failures``, ``decision_maker_check``) compute without writing, so the
workspace can show their result next to the record.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application, Contract, Organization, Site
from audits import rules
from audits.models import (
    AsrpAuditActivity,
    AsrpEligibilityCheck,
    AsrpIndicator,
    AsrpIndicatorResult,
    AsrpProgramme,
    Audit,
    AuditMeeting,
    Auditor,
    AuditorCompetence,
    AuditPlan,
    AuditProgramme,
    AuditTeamMember,
    AuditTimeAdjustment,
    AuditTimeDetermination,
    ConflictDeclaration,
    SamplingPlan,
    SamplingPlanSite,
)
from certbody import bounds, dates, roles
from certbody.lifecycle import RuleViolation, fire, lock, record
from certbody.models import BusinessScope

PLANNING_ROLES = (roles.AUDIT_DEPARTMENT, roles.TECHNICAL_MANAGER)
HALF_DAY = Decimal("0.5")

_TYPE_LABELS = {
    rules.INITIAL: "初次认证审核",
    rules.SURVEILLANCE: "监督审核",
    rules.RECERTIFICATION: "再认证审核",
}
# Clauses and shares for the messages; the numbers themselves come from audits.rules.
_REDUCTION_CLAUSE = {rules.SCHEME_ZXRZ: "004 §5.4.2.3", rules.SCHEME_CAS: "001 §6.2.3"}
_MINIMUM_CLAUSE = {
    rules.SCHEME_ZXRZ: {rules.SURVEILLANCE: "004 §5.7.5", rules.RECERTIFICATION: "004 §5.8.5"},
    rules.SCHEME_CAS: {rules.SURVEILLANCE: "001 §7.4", rules.RECERTIFICATION: "001 §8.2"},
}
_MINIMUM_SHARE = {
    rules.SCHEME_ZXRZ: {rules.SURVEILLANCE: "1/3", rules.RECERTIFICATION: "2/3"},
    rules.SCHEME_CAS: {rules.SURVEILLANCE: "30 %", rules.RECERTIFICATION: "70 %"},
}


def _require_planner(actor) -> None:
    if not any(roles.has_role(actor, role) for role in PLANNING_ROLES):
        raise RuleViolation(f"用户“{actor}”不是审核部门人员，不能安排审核")


def _require_technical_manager(actor) -> None:
    if not roles.has_role(actor, roles.TECHNICAL_MANAGER):
        raise RuleViolation(f"“{actor}”不是技术负责人，不能批准 ASRP 方案", "000 §3.3")


def _not_future(day: date, label: str) -> None:
    if day > dates.today():
        raise RuleViolation(f"{label}不能晚于今天")


def _days(value, label: str) -> Decimal:
    """A day count from a form or a caller: Decimal, int or str; never a float."""
    if isinstance(value, bool | float):
        raise RuleViolation(f"{label}须为数字（人日）")
    try:
        days = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise RuleViolation(f"{label}须为数字（人日）") from None
    if not days.is_finite():
        raise RuleViolation(f"{label}须为数字（人日）")
    return days


# --- auditors -----------------------------------------------------------------------------


def auditor_register(
    *,
    user,
    actor,
    qualification: str,
    is_full_time: bool,
    registration_number: str = "",
    registration_valid_until: date | None = None,
    notes: str = "",
) -> Auditor:
    """Create or update the auditor profile of ``user`` (004 §4.2, §12.1.3).

    ``qualification``: one of ``Auditor.Qualification``; auditors, senior auditors and trainees
    need a registration number (004 §4.2), technical experts need none. ``is_full_time``: the
    person is 专职 as defined in 004 §12.1.3. Refused for client users, unknown
    qualifications, a missing or duplicate registration number.
    """
    _require_planner(actor)
    if qualification not in Auditor.Qualification.values:
        raise RuleViolation(f"未知的审核人员资格：{qualification}")
    with transaction.atomic():
        auditor = Auditor.objects.select_for_update().filter(user=user).first()
        created = auditor is None
        auditor = auditor or Auditor(user=user)
        auditor.qualification = qualification
        auditor.is_full_time = bool(is_full_time)
        auditor.registration_number = registration_number
        auditor.registration_valid_until = registration_valid_until
        auditor.notes = notes
        auditor.active = True
        _validate(auditor)
        record(auditor, actor=actor, reason="登记审核人员" if created else "更新审核人员信息")
        auditor.save()
    return auditor


def auditor_competence_grant(
    *,
    auditor: Auditor,
    actor,
    scope_code: int,
    evidence: str,
    granted_on: date,
    valid_until: date | None = None,
) -> AuditorCompetence:
    """Record (or renew) the auditor's competence for a business scope category.

    ``scope_code``: an 004 Appendix B code. ``evidence``: what the competence evaluation rests
    on (004 §3.5, §3.6). Refused for an unknown code, blank evidence or a validity that ends
    before it starts.
    """
    _require_planner(actor)
    scope = BusinessScope.objects.filter(code=scope_code).first()
    if scope is None:
        raise RuleViolation(f"未知的认证业务范围类别：{scope_code}", "004 附录B")
    with transaction.atomic():
        competence = (
            AuditorCompetence.objects.select_for_update()
            .filter(auditor=auditor, business_scope=scope)
            .first()
        ) or AuditorCompetence(auditor=auditor, business_scope=scope)
        competence.evidence = evidence
        competence.granted_on = granted_on
        competence.valid_until = valid_until
        _validate(competence)
        record(competence, actor=actor, reason="评定专业能力")
        competence.save()
    return competence


def conflict_declare(
    *,
    auditor: Auditor,
    actor,
    organization: Organization,
    has_interest: bool,
    declared_on: date,
    description: str = "",
) -> ConflictDeclaration:
    """Record the auditor's declaration of interest (or of none) in a client (004 §4.3).

    The auditor declares for themself, or the audit department records it. A declared interest
    needs a description and keeps the auditor off that client's teams (004 §5.4.4.3).
    """
    if actor.pk != auditor.user_id:
        _require_planner(actor)
    _not_future(declared_on, "声明日期")
    with transaction.atomic():
        declaration = (
            ConflictDeclaration.objects.select_for_update()
            .filter(auditor=auditor, organization=organization)
            .first()
        ) or ConflictDeclaration(auditor=auditor, organization=organization)
        declaration.has_interest = bool(has_interest)
        declaration.description = description
        declaration.declared_on = declared_on
        _validate(declaration)
        record(declaration, actor=actor, reason="利益冲突声明")
        declaration.save()
    return declaration


def _validate(instance) -> None:
    """Run the model's validation (the rules the forms share) as a RuleViolation."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise RuleViolation("；".join(exc.messages)) from None


def _profile(user) -> Auditor | None:
    return Auditor.objects.filter(user=user).first()


def _declared_conflict(user, organization_id: int) -> ConflictDeclaration | None:
    return ConflictDeclaration.objects.filter(
        auditor__user=user, organization_id=organization_id, has_interest=True
    ).first()


# --- programmes ---------------------------------------------------------------------------


def programme_create(*, application: Application, actor) -> AuditProgramme:
    """Create the programme of the cycle an accepted, contracted application opens (004 §5.4.1).

    Initial cycle: document review and stage 2 with the Appendix A time as proposal.
    Recertification: the audit planned at the end of the previous cycle moves into the new
    programme (it opens the new cycle and numbers its certificate R+1), re-timed for the
    application's headcount and due the day before the current expiry (004 §5.8.3); without
    one, a new recertification audit is planned. Raises RuleViolation when the application is
    not accepted or its contract is not signed (004 §5.3: contract before any audit).
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
            headcount=application.headcount,
        )
        record(programme, actor=actor, reason="建立审核方案")
        programme.save()
        if recertification:
            due_on = previous.expires_on - timedelta(days=1) if previous.expires_on else None
            carried = _closing_recertification(previous)
            if carried is not None and carried.state == Audit.State.PLANNED:
                carried = lock(Audit, carried.pk)
                carried.programme = programme
                carried.due_on = due_on or carried.due_on
                if not hasattr(carried, "time_determination"):
                    carried.planned_days = _proposed_days(programme, carried.audit_type)
                record(carried, actor=actor, reason="转入再认证周期的审核方案")
                carried.save(update_fields=["programme", "due_on", "planned_days"])
            else:
                _add_audit(
                    programme,
                    actor,
                    kind=Audit.Kind.RECERTIFICATION,
                    days=_proposed_days(programme, rules.RECERTIFICATION),
                    due_on=due_on,
                )
        else:
            _add_audit(programme, actor, kind=Audit.Kind.DOCUMENT_REVIEW, days=Decimal("0.5"))
            _add_audit(
                programme,
                actor,
                kind=Audit.Kind.STAGE2,
                days=_proposed_days(programme, rules.INITIAL),
            )
    return programme


def _add_audit(programme, actor, *, kind, days=None, sequence=1, due_on=None, reason="", **extra):
    audit = Audit(
        programme=programme,
        kind=kind,
        sequence=sequence,
        planned_days=days,
        due_on=due_on,
        reason=reason,
        **extra,
    )
    record(audit, actor=actor, reason="列入审核方案")
    audit.save()
    asrp = _asrp_in_use(programme)
    if asrp is not None:
        _asrp_activities_ensure(audit, actor)
    return audit


def _opening_audit(programme: AuditProgramme) -> Audit | None:
    """The audit whose decision opens the cycle: stage 2, or the first recertification audit."""
    kind = (
        Audit.Kind.RECERTIFICATION
        if programme.application.kind == Application.Kind.RECERTIFICATION
        else Audit.Kind.STAGE2
    )
    return programme.audits.filter(kind=kind).order_by("pk").first()


def _closing_recertification(programme: AuditProgramme) -> Audit | None:
    """The recertification audit planned before the cycle's expiry (not the opening one)."""
    audits = programme.audits.filter(kind=Audit.Kind.RECERTIFICATION).order_by("pk")
    opening = _opening_audit(programme)
    if opening is not None:
        audits = audits.exclude(pk=opening.pk)
    return audits.last()


def _reference_initial_days(programme: AuditProgramme) -> Decimal | None:
    """The client's initial audit time: the last determined stage 2 in this scheme, if any.

    Surveillance and recertification floors are shares of it (004 §5.7.5, §5.8.5; 001 §7.4,
    §8.2). Without a recorded determination the Appendix A table already gives the floor.
    """
    determination = (
        AuditTimeDetermination.objects.filter(
            audit__programme__organization_id=programme.organization_id,
            audit__programme__scheme=programme.scheme,
            audit__kind=Audit.Kind.STAGE2,
        )
        .exclude(audit__state=Audit.State.TERMINATED)
        .order_by("-audit__programme__cycle", "-pk")
        .first()
    )
    return determination.total_days if determination else None


def _normal_least_days(
    table: Decimal, audit_type: str, reference: Decimal | None, scheme: str
) -> Decimal:
    # Reductions ≤ 30 % of the table (004 §5.4.2.3; 001 §6.2.3) and, for surveillance and
    # recertification, the share of the initial audit time (004 §5.7.5, §5.8.5; 001 §7.4, §8.2).
    least = rules.floor_days(table, rules.INITIAL, scheme)
    if reference is not None and audit_type != rules.INITIAL:
        least = max(least, rules.floor_days(reference, audit_type, scheme))
    return least


def _proposed_days(
    programme: AuditProgramme, audit_type: str, headcount: int | None = None
) -> Decimal:
    headcount = headcount or programme.planning_headcount
    table = rules.table_days(headcount, audit_type, programme.scheme)
    return max(
        table,
        _normal_least_days(table, audit_type, _reference_initial_days(programme), programme.scheme),
    )


def programme_plan_cycle(
    *, programme: AuditProgramme, actor, decision_date: date, expires_on: date
) -> list[Audit]:
    """After a grant, store the decision and expiry and plan the rest of the cycle.

    Adds (or re-dates) surveillance 1 and 2 and the recertification audit, and sets the
    recertification application deadline, 3 months before expiry (004 §5.8.1). Due dates:
    see ``programme_replan``. Called by ``certificates.services.certificate_issue``; returns
    the audits created or re-dated.
    """
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        programme.decided_on = decision_date
        programme.expires_on = expires_on
        programme.recert_application_due = rules.recertification_application_due(expires_on)
        record(programme, actor=actor, reason="认证决定后编排监督和再认证审核")
        programme.save(update_fields=["decided_on", "expires_on", "recert_application_due"])
        return _replan(programme, actor, reason="按认证决定日期编排")


def programme_replan(*, programme: AuditProgramme, actor, reason: str = "") -> list[Audit]:
    """Recompute the due dates of the programme's planned audits from their stored inputs.

    Inputs: the decision date and expiry (``programme_plan_cycle``) and the actual dates of
    earlier surveillance audits. ZXRZ: surveillance 1 within 12 months of the decision
    (004 §5.7.3), surveillance 2 by the earlier of 15 months after surveillance 1 and the end of
    the next calendar year (004 §5.4.1.5), never after expiry. CAS: each surveillance 9–12
    months after the previous audit (001 §7.1). Recertification: finished the day before expiry
    (004 §5.8.3). The services call this when an input changes; staff may call it too.
    """
    _require_planner(actor)
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        return _replan(programme, actor, reason=reason or "重新编排审核方案")


def programme_headcount_change(
    *, programme: AuditProgramme, actor, headcount: int, reason: str
) -> AuditProgramme:
    """Change the effective headcount the programme plans with and re-time its planned audits.

    Planned audits without a recorded determination get the new Appendix A proposal; a
    recorded determination stays until it is determined again (004 §5.4.2.3: each
    determination is recorded). Refused for a headcount below 1 or without a reason.
    """
    _require_planner(actor)
    if isinstance(headcount, bool) or not isinstance(headcount, int) or headcount < 1:
        raise RuleViolation("有效人数至少为 1", "004 附录A")
    if not reason.strip():
        raise RuleViolation("变更有效人数须说明原因")
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        programme.headcount = headcount
        bounds.check_instance(programme, "headcount")
        record(programme, actor=actor, reason=f"有效人数变更：{reason}")
        programme.save(update_fields=["headcount"])
        _replan(programme, actor, reason="有效人数变更后重排", retime=True)
    return programme


def _surveillance_dues(programme, s1: Audit | None) -> tuple[date, date]:
    decided, expires = programme.decided_on, programme.expires_on
    if programme.scheme == rules.SCHEME_CAS:
        opening = _opening_audit(programme)
        opening_end = (opening.actual_end if opening else None) or decided
        s1_due = rules.cas_surveillance_window(opening_end)[1]
        s1_end = (s1.actual_end if s1 else None) or s1_due
        s2_due = rules.cas_surveillance_window(s1_end)[1]
    else:
        s1_due = rules.next_surveillance_due(decided)
        s1_on = (s1.actual_start if s1 else None) or s1_due
        s2_due = rules.next_surveillance_due(decided, max(s1_on, decided))
    return min(s1_due, expires), min(s2_due, expires)


def _replan(programme: AuditProgramme, actor, *, reason: str, retime: bool = False) -> list[Audit]:
    """Create the cycle's missing audits and re-date (and with ``retime`` re-time) planned ones."""
    changed: list[Audit] = []

    def update(audit: Audit, due_on: date | None) -> None:
        if audit.state != Audit.State.PLANNED:
            return
        fields = []
        if due_on is not None and audit.due_on != due_on:
            audit.due_on = due_on
            fields.append("due_on")
        if retime and not hasattr(audit, "time_determination"):
            days = _proposed_days(programme, audit.audit_type)
            if audit.kind == Audit.Kind.DOCUMENT_REVIEW:
                days = audit.planned_days
            if audit.planned_days != days:
                audit.planned_days = days
                fields.append("planned_days")
        if fields:
            record(audit, actor=actor, reason=reason)
            audit.save(update_fields=fields)
            changed.append(audit)

    if programme.decided_on and programme.expires_on:
        surveillance = {
            a.sequence: a for a in programme.audits.filter(kind=Audit.Kind.SURVEILLANCE)
        }
        s1_due, s2_due = _surveillance_dues(programme, surveillance.get(1))
        for sequence, due_on in ((1, s1_due), (2, s2_due)):
            audit = surveillance.get(sequence)
            if audit is None:
                days = _proposed_days(programme, rules.SURVEILLANCE)
                audit = _add_audit(
                    programme,
                    actor,
                    kind=Audit.Kind.SURVEILLANCE,
                    sequence=sequence,
                    due_on=due_on,
                    days=days,
                )
                changed.append(audit)
                if sequence == 1:  # surveillance 2's due date follows surveillance 1's
                    s1_due, s2_due = _surveillance_dues(programme, audit)
            else:
                update(audit, due_on)
        recert_due = programme.expires_on - timedelta(days=1)
        closing = _closing_recertification(programme)
        later_cycle = AuditProgramme.objects.filter(
            organization_id=programme.organization_id, cycle__gt=programme.cycle
        ).exists()
        if closing is None and not later_cycle:
            changed.append(
                _add_audit(
                    programme,
                    actor,
                    kind=Audit.Kind.RECERTIFICATION,
                    due_on=recert_due,
                    days=_proposed_days(programme, rules.RECERTIFICATION),
                )
            )
        elif closing is not None:
            update(closing, recert_due)
    done = {a.pk for a in changed}
    for audit in programme.audits.filter(state=Audit.State.PLANNED):
        if audit.pk not in done and retime:
            update(audit, None)
    return changed


def audit_add_special(
    *,
    programme: AuditProgramme,
    actor,
    special_kind: str,
    reason: str,
    due_on: date | None = None,
    notified_on: date | None = None,
    short_notice: bool = False,
    short_notice_reason: str = "",
) -> Audit:
    """Add an extra or special audit to the programme with its reason (004 §5.9; 001 §7.2).

    ``special_kind``: one of ``Audit.SpecialKind``. A regulator's written finding needs the
    notice date; the audit is due within 30 days of it (004 §5.9.2(3)) and a later ``due_on`` is
    refused. ``short_notice`` marks an audit announced at short notice or unannounced
    (004 §5.9.2): the team check then asks every member for a declaration on the client.
    ``short_notice_reason`` says why the notice is short; the special audit's ``reason``
    (the complaint, accident or regulator's finding that calls for it) when not given.
    """
    _require_planner(actor)
    if special_kind not in Audit.SpecialKind.values:
        raise RuleViolation(f"未知的特殊审核类型：{special_kind}")
    if not reason.strip():
        raise RuleViolation("增加特殊审核须说明原因", "004 §5.9; 001 §7.2")
    if special_kind == Audit.SpecialKind.REGULATOR_FINDING:
        if notified_on is None:
            raise RuleViolation("须填写市场监管部门发出通报的日期", "004 §5.9.2(3)")
        latest = rules.special_audit_due(notified_on)
        if due_on is None:
            due_on = latest
        elif due_on > latest:
            raise RuleViolation(
                f"须在通报发出之日起 30 日内（{latest} 前）实施审核", "004 §5.9.2(3)"
            )
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        if programme.state != AuditProgramme.State.ACTIVE:
            raise RuleViolation("审核方案已关闭，不能再增加审核")
        sequence = programme.audits.filter(kind=Audit.Kind.SPECIAL).count() + 1
        return _add_audit(
            programme,
            actor,
            kind=Audit.Kind.SPECIAL,
            sequence=sequence,
            due_on=due_on,
            reason=reason[:300],
            days=_proposed_days(programme, rules.SURVEILLANCE),
            special_kind=special_kind,
            short_notice=bool(short_notice),
            short_notice_reason=(short_notice_reason.strip() or reason) if short_notice else "",
            notified_on=notified_on,
        )


# --- audit time ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeProposal:
    """The audit time the product proposes for an audit before anyone determines it."""

    scheme: str
    audit_type: str
    effective_headcount: int
    table_days: Decimal
    reference_days: Decimal | None
    least_days: Decimal
    total_days: Decimal
    onsite_days: Decimal
    asrp: bool


def audit_time_propose(audit: Audit, *, effective_headcount: int | None = None) -> TimeProposal:
    """Propose the audit time: the Appendix A time raised to the clause floors.

    ``effective_headcount`` defaults to the programme's. ``least_days`` is the least time the
    normal rules allow (004 §5.4.2.3, §5.7.5, §5.8.5; 001 §6.2.3, §7.4, §8.2); under an ASRP
    in use it is 70 % of the basic time, below which a justification is needed (000 §4.2.1).
    On-site: the least share for ZXRZ (80 %, 004 §5.4.2.3), all of it for CAS, whose table is
    on-site time already. Raises RuleViolation for a bad headcount.
    """
    programme = audit.programme
    scheme, audit_type = programme.scheme, audit.audit_type
    headcount = effective_headcount or programme.planning_headcount
    try:
        table = rules.table_days(headcount, audit_type, scheme)
    except ValueError as exc:
        raise RuleViolation(f"有效人数有误：{exc}", "004 附录A") from None
    reference = None if audit_type == rules.INITIAL else _reference_initial_days(programme)
    least = _normal_least_days(table, audit_type, reference, scheme)
    total = max(table, least)
    asrp = _asrp_in_use(programme) is not None and audit.kind in _ASRP_KINDS
    if asrp:
        least = max(rules.ceil_half_day(total * Decimal("0.7")), rules.MINIMUM_DAYS)
    onsite = total if scheme == rules.SCHEME_CAS else rules.least_onsite_days(total)
    return TimeProposal(
        scheme=scheme,
        audit_type=audit_type,
        effective_headcount=headcount,
        table_days=table,
        reference_days=reference,
        least_days=least,
        total_days=total,
        onsite_days=onsite,
        asrp=asrp,
    )


def audit_time_determine(
    *,
    audit: Audit,
    actor,
    full_time_headcount: int,
    part_time_hours: Decimal | int | str = 0,
    standard_hours: Decimal | int | str = rules.STANDARD_ANNUAL_HOURS,
    adjustments: Sequence[tuple[Decimal | int | str, str]] = (),
    onsite_days: Decimal | int | str | None = None,
    remote_days: Decimal | int | str = 0,
    remote_reason: str = "",
    asrp_justification: str = "",
) -> AuditTimeDetermination:
    """Determine and record the time of a planned audit (004 §5.4.2; 001 §6.2.3; 000 §4.2.1).

    Effective headcount = ``full_time_headcount`` + part-time and temporary hours converted to
    full-time equivalents (``part_time_hours`` / ``standard_hours``, rounded up; 004 Appendix A
    notes 1–2). The Appendix A time for it, plus each adjustment ``(days, reason)`` — positive
    an increase, negative a reduction, a non-zero multiple of 0.5 days, every one with its
    reason — gives the audit time. ``onsite_days`` defaults to the proposal; ``remote_days`` is
    the part of the on-site time audited with remote methods, with ``remote_reason``.

    Refused, naming the clause, when: the audit is a document review (its time is part of the
    initial audit time, 004 §5.4.2.1) or not planned; an adjustment has no reason; reductions
    exceed 30 % of the table time (004 §5.4.2.3; 001 §6.2.3); a surveillance or recertification
    falls below its share of the initial audit time (004 §5.7.5, §5.8.5; 001 §7.4, §8.2); under
    an ASRP in use, below 70 % of the basic time without a justification (000 §4.2.1), which
    replaces those floors but not the 1-day minimum; on-site time is below 80 % (004
    §5.4.2.3); remote time exceeds 30 % of on-site time or has no reason (004 §5.4.5); a
    multi-site sampling plan needs more on-site time than determined (004 §5.4.3.3). The
    audit's ``planned_days`` becomes the determined total.
    """
    _require_planner(actor)
    if audit.kind == Audit.Kind.DOCUMENT_REVIEW:
        raise RuleViolation(
            "文件审核的时间计入初次认证审核时间，请对二阶段审核确定审核时间", "004 §5.4.2.1"
        )
    try:
        effective = rules.full_time_equivalent(full_time_headcount, part_time_hours, standard_hours)
    except ValueError as exc:
        raise RuleViolation(f"人数或工时有误：{exc}", "004 附录A 注2") from None
    if effective < 1:
        raise RuleViolation("有效人数至少为 1", "004 附录A")
    parsed: list[tuple[Decimal, str]] = []
    for raw_days, reason in adjustments:
        days = _days(raw_days, "调整的审核时间")
        if days == 0 or days % HALF_DAY != 0:
            raise RuleViolation("每项调整须为非零的半天倍数（如 +0.5、-1）", "004 附录A 注c")
        if not (reason or "").strip():
            raise RuleViolation("每项增加或减少审核时间都须记录理由", "004 §5.4.2.3")
        parsed.append((days, reason.strip()))
    remote = _days(remote_days, "远程审核时间")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.PLANNED:
            raise RuleViolation("只有计划中的审核才能确定审核时间")
        programme = audit.programme
        scheme, audit_type = programme.scheme, audit.audit_type
        table = rules.table_days(effective, audit_type, scheme)
        reference = None if audit_type == rules.INITIAL else _reference_initial_days(programme)
        total = table + sum((d for d, _ in parsed), Decimal("0"))
        asrp = _asrp_in_use(programme) if audit.kind in _ASRP_KINDS else None
        if asrp is not None:
            least = _check_asrp_days(
                table, total, audit_type, reference, scheme, asrp_justification
            )
        else:
            least = _check_normal_days(table, total, audit_type, reference, scheme, parsed)
        onsite = (
            _days(onsite_days, "现场审核时间")
            if onsite_days not in (None, "")
            else (total if scheme == rules.SCHEME_CAS else rules.least_onsite_days(total))
        )
        _check_onsite(total, onsite, remote, remote_reason)
        plan = SamplingPlan.objects.filter(audit=audit).first()
        if plan is not None:
            _check_sites_fit(plan.rows.filter(selected=True), onsite)
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        determination = determination or AuditTimeDetermination(audit=audit)
        determination.scheme = scheme
        determination.audit_type = audit_type
        determination.full_time_headcount = full_time_headcount
        determination.part_time_hours = _days(part_time_hours, "兼职工时")
        determination.standard_hours = _days(standard_hours, "标准工时")
        determination.effective_headcount = effective
        determination.table_days = table
        determination.reference_days = reference
        determination.least_days = least
        determination.total_days = total
        determination.onsite_days = onsite
        determination.remote_days = remote
        determination.remote_reason = remote_reason.strip() if remote else ""
        determination.asrp = asrp is not None
        determination.asrp_justification = asrp_justification.strip() if asrp else ""
        determination.determined_by = actor
        determination.determined_at = timezone.now()
        # Extreme input (millions of people or hours) must not store times beyond the columns.
        bounds.check_instance(
            determination,
            "full_time_headcount",
            "part_time_hours",
            "standard_hours",
            "effective_headcount",
            "table_days",
            "reference_days",
            "least_days",
            "total_days",
            "onsite_days",
            "remote_days",
        )
        record(determination, actor=actor, reason="确定审核时间")
        determination.save()
        for old in determination.adjustments.all():
            record(old, actor=actor, reason="重新确定审核时间")
            old.delete()
        for days, reason in parsed:
            adjustment = AuditTimeAdjustment(determination=determination, days=days, reason=reason)
            record(adjustment, actor=actor, reason="审核时间调整")
            adjustment.save()
        if audit.planned_days != total:
            audit.planned_days = total
            record(audit, actor=actor, reason="按确定的审核时间")
            audit.save(update_fields=["planned_days"])
        _plan_revise(audit, actor, reason="审核时间重新确定")
    return determination


def _check_normal_days(table, total, audit_type, reference, scheme, parsed) -> Decimal:
    least = _normal_least_days(table, audit_type, reference, scheme)
    reductions = "；".join(reason for days, reason in parsed if days < 0)
    try:
        rules.check_reduction(table, total, reductions)
    except ValueError:
        raise RuleViolation(
            f"审核时间 {total} 人日比附录A审核时间 {table} 人日减少超过 30 %，"
            f"至少须 {rules.floor_days(table, rules.INITIAL, scheme)} 人日",
            _REDUCTION_CLAUSE[scheme],
        ) from None
    if reference is not None and audit_type != rules.INITIAL:
        try:
            rules.check_minimum_time(total, audit_type, reference, scheme)
        except ValueError:
            raise RuleViolation(
                f"{_TYPE_LABELS[audit_type]}时间 {total} 人日少于初次认证审核时间 {reference} "
                f"人日的 {_MINIMUM_SHARE[scheme][audit_type]}，"
                f"至少须 {rules.floor_days(reference, audit_type, scheme)} 人日",
                _MINIMUM_CLAUSE[scheme][audit_type],
            ) from None
    return least


def _check_asrp_days(table, total, audit_type, reference, scheme, justification) -> Decimal:
    # 000 §4.2.1: the basic time is the normal determination; below 70 % of it only with a
    # recorded evaluation. The 1-day minimum of 004 Appendix A note h still applies.
    basic = max(table, _normal_least_days(table, audit_type, reference, scheme))
    if total < rules.MINIMUM_DAYS:
        raise RuleViolation("调整后的审核时间不得低于 1 人日", "004 附录A 注h")
    try:
        rules.check_asrp_time(total, basic, justification)
    except ValueError:
        raise RuleViolation(
            f"ASRP 审核时间 {total} 人日低于基本审核时间 {basic} 人日的 70 %"
            f"（{rules.ceil_half_day(basic * Decimal('0.7'))} 人日），须记录合理评价",
            "000 §4.2.1",
        ) from None
    return rules.MINIMUM_DAYS


def _check_onsite(total: Decimal, onsite: Decimal, remote: Decimal, remote_reason: str) -> None:
    if onsite < 0 or remote < 0:
        raise RuleViolation("审核时间不能为负数")
    if onsite > total:
        raise RuleViolation(f"现场审核时间 {onsite} 人日超过审核时间 {total} 人日", "004 §12.1.5")
    try:
        rules.check_onsite_share(total, onsite)
    except ValueError:
        raise RuleViolation(
            f"现场审核时间 {onsite} 人日少于审核时间 {total} 人日的 80 %，"
            f"至少须 {rules.least_onsite_days(total)} 人日",
            "004 §5.4.2.3",
        ) from None
    if remote:
        try:
            rules.check_remote_share(onsite, remote)
        except ValueError:
            raise RuleViolation(
                f"远程审核时间 {remote} 人日超过现场审核时间 {onsite} 人日的 30 %",
                "004 §5.4.5.3",
            ) from None
        if not remote_reason.strip():
            raise RuleViolation(
                "采用远程审核须说明所审核的过程、方法和理由，并在审核计划中注明",
                "004 §5.4.5.2–5.4.5.3",
            )


def _check_sites_fit(rows, onsite: Decimal) -> None:
    planned = sum((r.onsite_days or Decimal("0") for r in rows), Decimal("0"))
    if planned > onsite:
        raise RuleViolation(
            f"抽样方案中各场所现场审核时间合计 {planned} 人日，超过确定的现场审核时间 "
            f"{onsite} 人日；请增加审核时间或调整抽样方案",
            "004 §5.4.3.3",
        )


# --- multi-site sampling --------------------------------------------------------------------


@dataclass(frozen=True)
class SiteProposal:
    site: Site
    similar: bool
    selected: bool
    table_onsite_days: Decimal
    onsite_days: Decimal | None
    reason: str


@dataclass(frozen=True)
class SamplingProposal:
    audit_type: str
    similar_sites_count: int
    minimum_sample: int
    sites: tuple[SiteProposal, ...]


def sampling_plan_propose(audit: Audit) -> SamplingProposal:
    """Propose a sample: every non-head-office site as similar, the head office audited.

    Similarity is the planner's judgement (004 §5.4.3.2); the proposal only starts it. The
    sample has the minimum size of ``rules.sample_size`` and prefers sites not audited in
    earlier sampling plans of the client (so the cycle's audits together cover them, 004
    §5.7.2), then larger sites. Each audited site gets the least on-site time 004 §5.4.3.3
    allows. Raises RuleViolation for a client with fewer than two sites.
    """
    programme = audit.programme
    sites = list(Site.objects.filter(organization_id=programme.organization_id).order_by("pk"))
    if len(sites) < 2:
        raise RuleViolation("只有多场所的客户才需要抽样方案", "004 §5.4.3")
    audited_before = set(
        SamplingPlanSite.objects.filter(
            plan__audit__programme__organization_id=programme.organization_id, selected=True
        )
        .exclude(plan__audit=audit)
        .values_list("site_id", flat=True)
    )
    similar = [s for s in sites if not s.is_head_office]
    if len(similar) == len(sites):  # no head office recorded: keep the first site apart
        similar = sites[1:]
    minimum = rules.sample_size(len(similar), audit.audit_type) if similar else 0
    ranked = sorted(similar, key=lambda s: (s.pk in audited_before, -s.headcount, s.pk))
    chosen = {s.pk for s in ranked[:minimum]}
    proposals = []
    for site in sites:
        is_similar = site in similar
        selected = not is_similar or site.pk in chosen
        table_onsite = _site_table_onsite(site, audit.audit_type, programme.scheme)
        if not is_similar:
            reason = "活动、过程或风险与其他场所不同，逐一审核"
        elif selected:
            reason = "本周期尚未抽到" if site.pk not in audited_before else "按人数抽取"
        else:
            reason = ""
        proposals.append(
            SiteProposal(
                site=site,
                similar=is_similar,
                selected=selected,
                table_onsite_days=table_onsite,
                onsite_days=rules.least_site_onsite_days(table_onsite) if selected else None,
                reason=reason,
            )
        )
    return SamplingProposal(
        audit_type=audit.audit_type,
        similar_sites_count=len(similar),
        minimum_sample=minimum,
        sites=tuple(proposals),
    )


def _site_table_onsite(site: Site, audit_type: str, scheme: str) -> Decimal:
    try:
        return rules.table_onsite_days(site.headcount, audit_type, scheme)
    except ValueError:
        raise RuleViolation(f"场所“{site}”的人数须至少为 1", "004 §5.4.3.3") from None


def sampling_plan_record(
    *,
    audit: Audit,
    actor,
    similar_sites: Iterable[Site],
    sampled_sites: Iterable[Site],
    similarity_reason: str = "",
    site_onsite_days: Mapping[int, Decimal | int | str] | None = None,
    selection_reasons: Mapping[int, str] | None = None,
    notes: str = "",
) -> SamplingPlan:
    """Record which sites a planned audit of a multi-site client visits (004 §5.4.3).

    ``similar_sites``: the sites with the same activities, processes and risk (the population
    X), with ``similarity_reason``. ``sampled_sites``: every site audited. Sites outside the
    similar population are all audited; at least ``rules.sample_size(X, type)`` similar sites
    are (004 §5.4.3.2). ``site_onsite_days`` maps a site id to its on-site days (default: the
    least allowed), each at least 50 % of the site's Appendix A on-site time (004 §5.4.3.3);
    together not more than a recorded determination's on-site time. Replaces an earlier plan
    of the audit.
    """
    _require_planner(actor)
    site_onsite_days = site_onsite_days or {}
    selection_reasons = selection_reasons or {}
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.PLANNED:
            raise RuleViolation("只有计划中的审核才能制定抽样方案")
        programme = audit.programme
        sites = {s.pk: s for s in Site.objects.filter(organization_id=programme.organization_id)}
        if len(sites) < 2:
            raise RuleViolation("只有多场所的客户才需要抽样方案", "004 §5.4.3")
        similar = {s.pk for s in similar_sites}
        sampled = {s.pk for s in sampled_sites}
        foreign = (similar | sampled) - set(sites)
        if foreign:
            raise RuleViolation("抽样方案中有不属于该客户的场所")
        if similar and not similarity_reason.strip():
            raise RuleViolation("须说明这些场所的活动、过程和风险相同的理由", "004 §5.4.3.2")
        unaudited = [sites[pk] for pk in sorted(set(sites) - similar - sampled)]
        if unaudited:
            names = "、".join(str(s) for s in unaudited)
            raise RuleViolation(f"活动、过程或风险不同的场所须逐一审核：{names}", "004 §5.4.3.2")
        minimum = rules.sample_size(len(similar), audit.audit_type) if similar else 0
        chosen = len(similar & sampled)
        if chosen < minimum:
            raise RuleViolation(
                f"相似场所共 {len(similar)} 个，{_TYPE_LABELS[audit.audit_type]}至少须抽取 "
                f"{minimum} 个，现只选了 {chosen} 个",
                "004 §5.4.3.2",
            )
        rows = []
        for pk, site in sorted(sites.items()):
            table_onsite = _site_table_onsite(site, audit.audit_type, programme.scheme)
            days = None
            if pk in sampled:
                raw = site_onsite_days.get(pk)
                days = (
                    _days(raw, "场所现场审核时间")
                    if raw not in (None, "")
                    else rules.least_site_onsite_days(table_onsite)
                )
                try:
                    rules.check_site_onsite(days, table_onsite)
                except ValueError:
                    raise RuleViolation(
                        f"场所“{site}”的现场审核时间 {days} 人日少于附录A现场审核时间 "
                        f"{table_onsite} 人日的 50 %，"
                        f"至少须 {rules.least_site_onsite_days(table_onsite)} 人日",
                        "004 §5.4.3.3",
                    ) from None
            rows.append(
                SamplingPlanSite(
                    site=site,
                    similar=pk in similar,
                    selected=pk in sampled,
                    table_onsite_days=table_onsite,
                    onsite_days=days,
                    selection_reason=selection_reasons.get(pk, "")[:300],
                )
            )
            bounds.check_instance(rows[-1], "table_onsite_days", "onsite_days")
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        if determination is not None:
            _check_sites_fit([r for r in rows if r.selected], determination.onsite_days)
        plan = SamplingPlan.objects.filter(audit=audit).first() or SamplingPlan(audit=audit)
        plan.audit_type = audit.audit_type
        plan.similar_sites_count = len(similar)
        plan.minimum_sample = minimum
        plan.similarity_reason = similarity_reason.strip()
        plan.notes = notes
        plan.prepared_by = actor
        plan.prepared_at = timezone.now()
        record(plan, actor=actor, reason="制定多场所抽样方案")
        plan.save()
        for old in plan.rows.all():
            record(old, actor=actor, reason="重新制定抽样方案")
            old.delete()
        for row in rows:
            row.plan = plan
            record(row, actor=actor, reason="抽样方案场所")
            row.save()
        _plan_revise(audit, actor, reason="抽样方案变更")
    return plan


# --- teams --------------------------------------------------------------------------------


def _is_auditor(user) -> bool:
    if not user.is_staff or not user.is_active:
        return False
    if roles.has_role(user, roles.AUDITOR):
        return True
    return Auditor.objects.filter(user=user, active=True).exists()


def _role_fits(role: str, auditor: Auditor) -> bool:
    if role in AuditTeamMember.COUNTED_ROLES:
        return auditor.is_qualified
    if role == AuditTeamMember.Role.TRAINEE:
        return auditor.qualification == Auditor.Qualification.TRAINEE
    return True  # anyone may advise as a technical expert; experts are not counted (001 §6.2.4)


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
    _require_planner(actor)
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
    _require_planner(actor)
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


def _audit_day(audit: Audit) -> date:
    return audit.actual_start or audit.planned_start or dates.today()


def _client_scope_codes(audit: Audit) -> list[int]:
    application = audit.programme.application
    codes = list(application.business_scopes.values_list("code", flat=True))
    if not codes:
        codes = list(audit.programme.organization.business_scopes.values_list("code", flat=True))
    return sorted(codes)


def audit_team_check(audit: Audit, *, on: date | None = None) -> list[str]:
    """Every way the audit's team breaks the rules, as messages naming the clause; [] = valid.

    ``on``: the day competences and registrations must be valid (default: the audit's start,
    planned start or today). Checks (004 §5.4.4; 001 §6.2.4; 004 §4):

    - exactly one team leader, a qualified (senior) auditor;
    - every member registered as an auditor, with a current registration number (experts need
      none) and a qualification fitting the role;
    - for every business scope category of the client, a qualified auditor competent for it on
      that day (CAS: any member, experts included, 001 §6.2.4);
    - at least one full-time qualified auditor present for the whole audit;
    - trainees not more numerous than the qualified auditors (004 §5.4.4.2);
    - trainees and experts are not counted in audit time: the qualified auditors can deliver
      the determined on-site time between the planned dates (1 auditor-day per person per day);
    - nobody with a declared interest in the client (004 §5.4.4.3);
    - short-notice audits: every member has declared on the client (004 §5.9.2(2)).

    The decision maker's independence is checked at decision time (``decision_maker_check``).
    """
    audit = Audit.objects.select_related("programme").get(pk=audit.pk)  # current dates
    day = on or _audit_day(audit)
    organization_id = audit.programme.organization_id
    members = list(audit.team.select_related("user").order_by("pk"))
    profiles = {p.user_id: p for p in Auditor.objects.filter(user__in=[m.user for m in members])}
    failures: list[str] = []
    leaders = [m for m in members if m.role == AuditTeamMember.Role.LEADER]
    if not leaders:
        failures.append("审核组必须有组长（004 §5.4.4.1(1)）")
    elif len(leaders) > 1:
        failures.append("审核组只能有一名组长（004 §5.4.4.1(1)）")
    qualified: list[tuple[AuditTeamMember, Auditor]] = []
    registered: list[tuple[AuditTeamMember, Auditor]] = []
    for member in members:
        profile = profiles.get(member.user_id)
        if profile is None or not profile.active:
            failures.append(f"“{member.user}”没有有效的审核人员登记信息（004 §4.2）")
            continue
        registered.append((member, profile))
        if not _role_fits(member.role, profile):
            failures.append(
                f"“{member.user}”的资格为“{profile.get_qualification_display()}”，"
                f"不能担任“{member.get_role_display()}”（004 §5.4.4）"
            )
            continue
        if profile.qualification != Auditor.Qualification.TECHNICAL_EXPERT:
            if not profile.registration_number:
                failures.append(f"“{member.user}”没有认证人员注册号（004 §4.2、§5.4.6.1）")
                continue
            if profile.registration_valid_until and profile.registration_valid_until < day:
                failures.append(
                    f"“{member.user}”的注册资格已于 {profile.registration_valid_until} 到期"
                    "（004 §4.2）"
                )
                continue
        if member.counted_in_audit_time:
            qualified.append((member, profile))
    codes = _client_scope_codes(audit)
    pool = registered if audit.programme.scheme == rules.SCHEME_CAS else qualified
    competent = {
        c.business_scope.code
        for c in AuditorCompetence.objects.filter(
            auditor__in=[p for _, p in pool], business_scope__code__in=codes
        ).select_related("business_scope")
        if c.covers(day)
    }
    missing = [f"{code:02d}" for code in codes if code not in competent]
    if not codes:
        failures.append("客户没有认证业务范围类别，无法核对专业能力（004 附录B）")
    elif missing:
        clause = "001 §6.2.4" if audit.programme.scheme == rules.SCHEME_CAS else "004 §5.4.4.1(2)"
        failures.append(
            f"审核组中没有具备业务范围 {'、'.join(missing)} 专业能力的审查员（{clause}）"
        )
    if not any(p.is_full_time and m.whole_audit for m, p in qualified):
        failures.append("审核组至少要有一名本机构专职审查员全程参加审核（004 §5.4.4.1(3)）")
    trainees = sum(1 for m in members if m.role == AuditTeamMember.Role.TRAINEE)
    if trainees > len(qualified):
        failures.append(
            f"实习审查员（{trainees} 名）不得多于正式审查员（{len(qualified)} 名）（004 §5.4.4.2）"
        )
    determination = AuditTimeDetermination.objects.filter(audit=audit).first()
    if determination is not None and audit.planned_start and audit.planned_end:
        days = (audit.planned_end - audit.planned_start).days + 1
        capacity = len(qualified) * days
        if capacity < determination.onsite_days:
            failures.append(
                f"计入审核时间的审查员（不含实习审查员和技术专家）{len(qualified)} 名在 {days} 天内"
                f"只能完成 {capacity} 人日，少于确定的现场审核时间 {determination.onsite_days} 人日"
                "（004 §5.4.4.2；001 §6.2.4）"
            )
    declared = {
        d.auditor.user_id: d
        for d in ConflictDeclaration.objects.filter(
            organization_id=organization_id, auditor__user__in=[m.user for m in members]
        ).select_related("auditor")
    }
    for member in members:
        declaration = declared.get(member.user_id)
        if declaration is not None and declaration.has_interest:
            failures.append(
                f"“{member.user}”已声明与该客户存在利益关系，不得参加审核组（004 §5.4.4.3）"
            )
        elif declaration is None and audit.short_notice:
            failures.append(
                f"提前较短时间通知的审核须慎重指派审核组：“{member.user}”尚未就该客户作出"
                "利益冲突声明（004 §5.9.2(2)）"
            )
    return failures


def audit_team_user_ids(audit: Audit) -> set[int]:
    """Ids of everyone on the team of ``audit`` and, for stage 2, of its document review.

    They may not make the certification decision on it (004 §5.12.1).
    """
    kinds = [audit.kind]
    if audit.kind == Audit.Kind.STAGE2:
        kinds.append(Audit.Kind.DOCUMENT_REVIEW)
    return set(
        AuditTeamMember.objects.filter(
            audit__programme_id=audit.programme_id, audit__kind__in=kinds
        ).values_list("user_id", flat=True)
    ) | set(audit.team.values_list("user_id", flat=True))


def decision_maker_check(*, audit: Audit, user) -> list[str]:
    """Why ``user`` may not decide on ``audit``: a team member (004 §5.12.1) or a declared
    interest in the client (004 §4.3). Empty when the user is independent of the audit."""
    failures = []
    if user.pk in audit_team_user_ids(audit):
        failures.append("认证决定人员不得是该审核的审核组成员（004 §5.12.1）")
    if _declared_conflict(user, audit.programme.organization_id):
        failures.append("认证决定人员已声明与该客户存在利益关系（004 §4.3）")
    return failures


# --- audit lifecycle ------------------------------------------------------------------------


def audit_schedule(
    *,
    audit: Audit,
    actor,
    planned_start: date,
    planned_end: date,
    planned_days: Decimal | None = None,
) -> Audit:
    """Set the dates (and, without a determination, the time) of a planned audit.

    Sets the CNCA plan report deadline, 3 days before the start (004 §9.2). ``planned_days``
    may not differ from a recorded determination (004 §5.4.2.3: determine again instead). A
    plan already sent is revised when the dates change (004 §5.4.6.3).
    """
    _require_planner(actor)
    if planned_end < planned_start:
        raise RuleViolation("审核结束日期不能早于开始日期")
    if planned_days is not None:
        planned_days = Decimal(planned_days)
        if planned_days <= 0 or planned_days % HALF_DAY != 0:
            raise RuleViolation("审核时间须为正的半天倍数", "004 附录A")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.PLANNED:
            raise RuleViolation("只有计划中的审核才能调整日期")
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        if (
            determination is not None
            and planned_days is not None
            and planned_days != determination.total_days
        ):
            raise RuleViolation(
                f"审核时间已确定为 {determination.total_days} 人日；如需改变请重新确定审核时间",
                "004 §5.4.2.3",
            )
        dates_changed = (audit.planned_start, audit.planned_end) != (planned_start, planned_end)
        audit.planned_start = planned_start
        audit.planned_end = planned_end
        if planned_days is not None:
            audit.planned_days = planned_days
            # A value beyond the column would be stored and then break every page showing it.
            bounds.check_instance(audit, "planned_days")
        audit.plan_report_due = rules.plan_report_due(planned_start)
        record(audit, actor=actor, reason="安排审核日期")
        audit.save(
            update_fields=["planned_start", "planned_end", "planned_days", "plan_report_due"]
        )
        if dates_changed:
            _plan_revise(audit, actor, reason="审核日期变更")
    return audit


def audit_start(*, audit: Audit, actor, started_on: date) -> Audit:
    """Start an audit whose team passes ``audit_team_check`` (004 §5.4.4).

    An on-site audit (every kind but the document review) needs its written plan confirmed
    by the client (004 §5.4.6.3) and reported to CNCA at least 3 days before ``started_on``
    (004 §9.2); a short-notice audit needs the report before the start and the reason the
    notice was short (004 §5.9.2). Raises ``RuleViolation`` naming the clause otherwise.

    Stage 2 needs a completed document review (001 §6.3). An audit timed under an ASRP needs
    the accreditation body notified before (000 §4.4.2). Starting a surveillance re-plans the
    next one's due date (004 §5.4.1.5).
    """
    _require_planner_or_leader(actor, audit)
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.kind == Audit.Kind.STAGE2:
            review_done = Audit.objects.filter(
                programme_id=audit.programme_id,
                kind=Audit.Kind.DOCUMENT_REVIEW,
                state__in=[Audit.State.COMPLETED, Audit.State.CLOSED],
            ).exists()
            if not review_done:
                raise RuleViolation("文件审核通过后才能进行现场审核", "001 §6.3")
        failures = audit_team_check(audit, on=started_on)
        if failures:
            raise RuleViolation("审核组不符合要求，不能开始审核：" + "；".join(failures))
        if audit.needs_site_visit:
            _require_plan_ready(audit, started_on)
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        if determination is not None and determination.asrp:
            asrp = AsrpProgramme.objects.filter(programme_id=audit.programme_id).first()
            notified = asrp.accreditation_notified_on if asrp else None
            if notified is None or notified > started_on:
                raise RuleViolation(
                    "按 ASRP 方案确定时间的审核，须在首次使用前通知认可机构", "000 §4.4.2"
                )
        audit.actual_start = started_on
        fire(audit, "start", actor=actor, reason="审核开始", fields=["actual_start"])
        _replan_after(audit, actor)
    return audit


def _require_plan_ready(audit: Audit, started_on: date) -> None:
    """Refuse to start an on-site audit whose plan is not written, confirmed and reported.

    004 §5.4.6.1 (a written plan), §5.4.6.3 (confirmed by the client before the audit),
    §9.2 (reported to CNCA at least 3 days before the first day). A short-notice audit
    (004 §5.9.2) records why the notice was short; its report may come later than 3 days
    before but must exist before the start (its lateness stays on the plan).
    """
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is None:
        raise RuleViolation(
            _("An on-site audit cannot start without a written audit plan."), "004 §5.4.6.1"
        )
    if plan.state != AuditPlan.State.CONFIRMED:
        raise RuleViolation(
            _(
                "The audit plan (version %(version)s) is not confirmed by the client: "
                "the audit cannot start."
            )
            % {"version": plan.version},
            "004 §5.4.6.3",
        )
    if audit.short_notice and not audit.short_notice_reason.strip():
        raise RuleViolation(
            _("A short-notice audit must record why the notice was short."), "004 §5.9.2"
        )
    reported_on = plan.cnca_reported_on
    if reported_on is None or reported_on > started_on:
        raise RuleViolation(
            _("The audit plan has not been reported to CNCA: the audit cannot start."),
            "004 §9.2",
        )
    due = rules.plan_report_due(started_on)
    if not audit.short_notice and reported_on > due:
        raise RuleViolation(
            _(
                "The audit plan was reported to CNCA on %(reported)s, less than 3 days "
                "before the start on %(start)s (due by %(due)s): the audit cannot start then."
            )
            % {"reported": reported_on, "start": started_on, "due": due},
            "004 §9.2",
        )


def audit_start_blocker(audit: Audit, *, on: date) -> str:
    """Why the plan gate would refuse to start ``audit`` on ``on`` (local date), with the
    clause; "" when it would not or the audit is not a planned on-site audit. Writes nothing
    (the audit page shows it to the planner; 004 §5.4.6.3, §9.2, §5.9.2)."""
    if audit.state != Audit.State.PLANNED or not audit.needs_site_visit:
        return ""
    try:
        _require_plan_ready(audit, on)
    except RuleViolation as exc:
        return str(exc)
    return ""


def audit_complete(
    *, audit: Audit, actor, ended_on: date, findings: str = "", recommendation_positive: bool
) -> Audit:
    """The team leader completes the audit with the team's recommendation (004 §5.11).

    Under an ASRP, every mandatory on-site activity must be recorded as covered (000 §4.2.2 b).
    An on-site audit needs its opening and closing meetings recorded, the closing one not
    after ``ended_on`` (004 §5.5.2; ``audit_meeting_record``).
    """
    _require_leader(actor, audit)
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.actual_start and ended_on < audit.actual_start:
            raise RuleViolation("审核结束日期不能早于开始日期")
        if audit.needs_site_visit and audit.state == Audit.State.IN_PROGRESS:
            _require_meetings(audit, ended_on)
        asrp = AsrpProgramme.objects.filter(programme_id=audit.programme_id).first()
        if asrp is not None and asrp.state != AsrpProgramme.State.ENDED:
            open_activities = [
                a.get_activity_display() for a in audit.asrp_activities.filter(covered=False)
            ]
            if open_activities:
                raise RuleViolation(
                    "ASRP 审核尚未完成以下必须开展的活动：" + "；".join(open_activities),
                    "000 §4.2.2 b)",
                )
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
        _replan_after(audit, actor)
        # NC deadlines count from the audit's end (004 §5.10.3), known only now.
        from audits.nonconformities import nonconformity_due_recompute

        nonconformity_due_recompute(audit, actor=actor)
    return audit


# --- opening and closing meetings (004 §5.5.2) -----------------------------------------


def _clean_attendees(attendees) -> list[dict]:
    if not isinstance(attendees, list | tuple) or not attendees:
        raise RuleViolation(_("Record who attended the meeting."), "004 §5.5.2")
    cleaned = []
    for row in attendees:
        if not isinstance(row, dict):
            raise RuleViolation(_("Each attendee needs a name and a role."), "004 §5.5.2")
        name = str(row.get("name") or "").strip()
        role = str(row.get("role") or "").strip()
        if not (name and role):
            raise RuleViolation(_("Each attendee needs a name and a role."), "004 §5.5.2")
        cleaned.append(
            {"name": name[:100], "role": role[:100], "position": str(row.get("position") or "")}
        )
    return cleaned


def audit_meeting_record(
    *,
    audit: Audit,
    actor,
    kind: str,
    held_on: date,
    attendees: list[dict],
    top_manager_present: bool,
    absence_reason: str = "",
    delegate: str = "",
    check_in_confirmed: bool,
) -> AuditMeeting:
    """The team leader records the audit's opening or closing meeting (004 §5.5.2).

    ``kind``: "opening" or "closing"; ``held_on``: the local date, within the audit's days
    (from its actual start to its planned end) and not in the future; ``attendees``: list of
    ``{"name", "role", "position"}`` (name and role required). The client's top manager
    attends or the absence is recorded with its reason and the senior manager delegated.
    ``check_in_confirmed``: the regulator's on-site network check-in was done. Recording a
    meeting again corrects it (the history keeps the earlier record). Raises
    ``RuleViolation`` (004 §5.5.2) otherwise.
    """
    if kind not in AuditMeeting.Kind.values:
        raise RuleViolation(_("Unknown meeting: %(kind)s.") % {"kind": kind})
    if not _is_leader(actor, audit):
        raise RuleViolation(
            _("Only the audit's team leader records its opening and closing meetings."),
            "004 §5.5.2",
        )
    cleaned = _clean_attendees(attendees)
    if not top_manager_present and not (absence_reason.strip() and delegate.strip()):
        raise RuleViolation(
            _(
                "The top manager's absence needs its reason and the senior manager "
                "delegated to attend."
            ),
            "004 §5.5.2",
        )
    if held_on > dates.today():
        raise RuleViolation(_("A meeting cannot be recorded for a future date."), "004 §5.5.2")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.IN_PROGRESS:
            raise RuleViolation(
                _("Meetings are recorded while the audit is in progress."), "004 §5.5.2"
            )
        if not audit.needs_site_visit:
            raise RuleViolation(
                _("A document review has no opening or closing meeting."), "004 §5.5.2"
            )
        # The audit's days run from its actual start to its planned end (a one-day audit
        # started later than planned still has its first day).
        last_day = max(audit.planned_end or audit.actual_start, audit.actual_start)
        if not (audit.actual_start <= held_on <= last_day):
            raise RuleViolation(
                _("The meeting must be held within the audit's days (%(first)s to %(last)s).")
                % {"first": audit.actual_start, "last": last_day},
                "004 §5.5.2",
            )
        meetings = {m.kind: m for m in AuditMeeting.objects.select_for_update().filter(audit=audit)}
        opening = meetings.get(AuditMeeting.Kind.OPENING)
        closing = meetings.get(AuditMeeting.Kind.CLOSING)
        if kind == AuditMeeting.Kind.CLOSING and (opening is None or held_on < opening.held_on):
            raise RuleViolation(
                _("The closing meeting follows the opening meeting."), "004 §5.5.2; 004 §12.1.5"
            )
        if kind == AuditMeeting.Kind.OPENING and closing is not None and held_on > closing.held_on:
            raise RuleViolation(
                _("The closing meeting follows the opening meeting."), "004 §5.5.2; 004 §12.1.5"
            )
        meeting = meetings.get(kind) or AuditMeeting(audit=audit, kind=kind)
        meeting.held_on = held_on
        meeting.attendees = cleaned
        meeting.top_manager_present = bool(top_manager_present)
        meeting.absence_reason = "" if top_manager_present else absence_reason.strip()
        meeting.delegate = "" if top_manager_present else delegate.strip()[:100]
        meeting.check_in_confirmed = bool(check_in_confirmed)
        meeting.recorded_by = actor
        record(meeting, actor=actor, reason=f"记录{meeting.get_kind_display()}")
        meeting.save()
    return meeting


def _require_meetings(audit: Audit, ended_on: date) -> None:
    """An on-site audit completes only with both meetings recorded (004 §5.5.2)."""
    meetings = {m.kind: m for m in audit.meetings.all()}
    missing = [str(label) for value, label in AuditMeeting.Kind.choices if value not in meetings]
    if missing:
        raise RuleViolation(
            _("The audit cannot be completed before its meetings are recorded: %(missing)s.")
            % {"missing": ", ".join(missing)},
            "004 §5.5.2",
        )
    if meetings[AuditMeeting.Kind.CLOSING].held_on > ended_on:
        raise RuleViolation(
            _("The audit cannot end before its closing meeting (%(held_on)s).")
            % {"held_on": meetings[AuditMeeting.Kind.CLOSING].held_on},
            "004 §5.5.2; 004 §12.1.5",
        )


def _replan_after(audit: Audit, actor) -> None:
    # An earlier audit's actual date moves the next surveillance's due date (004 §5.4.1.5;
    # CAS 001 §7.1 counts from the end of the previous audit).
    programme = AuditProgramme.objects.select_for_update().get(pk=audit.programme_id)
    if programme.decided_on and audit.kind in (Audit.Kind.SURVEILLANCE, Audit.Kind.STAGE2):
        _replan(programme, actor, reason=f"按{audit}的实际日期重排")


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


# --- audit plans --------------------------------------------------------------------------


def audit_plan_prepare(
    *,
    audit: Audit,
    actor,
    objectives: str,
    criteria: str,
    scope_text: str,
    shifts_covered: str,
    sites: Iterable[Site] = (),
    schedule: str = "",
    unaudited_shifts: str = "",
    unaudited_shifts_reason: str = "",
    remote_methods: str = "",
) -> AuditPlan:
    """Write (or change) the audit plan of a scheduled audit (004 §5.4.6.1; 001 §6.2.5).

    The team leader or the audit department writes it. Refused when: objectives, criteria,
    scope or the audited shifts are missing (004 §5.4.6.1, §5.4.1.6(1)); shifts not audited
    have no reason (004 §5.4.1.6(2)); the audit has no dates; an on-site audit of a client with
    sites covers none, or leaves out a site its sampling plan selects (004 §5.4.3); remote time
    is determined but the methods are not stated (004 §5.4.5.3). Changing a plan already sent
    or confirmed revises it: next version, sent and confirmed again (004 §5.4.6.3).
    """
    _require_planner_or_leader(actor, audit)
    for value, label in (
        (objectives, "审核目的"),
        (criteria, "审核准则"),
        (scope_text, "审核范围"),
    ):
        if not value.strip():
            raise RuleViolation(f"审核计划须写明{label}", "004 §5.4.6.1")
    if not shifts_covered.strip():
        raise RuleViolation("每次审核至少要审核一个班次", "004 §5.4.1.6(1)")
    if unaudited_shifts.strip() and not unaudited_shifts_reason.strip():
        raise RuleViolation("未审核的班次须记录不审核的理由", "004 §5.4.1.6(2)")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation("审核已结束，不能再修改审核计划")
        if not (audit.planned_start and audit.planned_end):
            raise RuleViolation("请先安排审核日期，审核计划须写明审核日期", "004 §5.4.6.1")
        organization_id = audit.programme.organization_id
        site_ids = {s.pk for s in sites}
        own = set(Site.objects.filter(organization_id=organization_id).values_list("pk", flat=True))
        if site_ids - own:
            raise RuleViolation("审核计划中有不属于该客户的场所")
        if audit.needs_site_visit and own and not site_ids:
            raise RuleViolation("现场审核的计划须写明审核的场所", "004 §5.4.6.1")
        sampled = set(
            SamplingPlanSite.objects.filter(plan__audit=audit, selected=True).values_list(
                "site_id", flat=True
            )
        )
        if sampled - site_ids:
            raise RuleViolation("审核计划须覆盖抽样方案选定的全部场所", "004 §5.4.3")
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        if determination is not None and determination.remote_days and not remote_methods.strip():
            raise RuleViolation("采用远程审核的，须在审核计划中注明远程审核方法", "004 §5.4.5.3")
        plan = AuditPlan.objects.select_for_update().filter(audit=audit).first()
        if plan is not None:
            _plan_revise(audit, actor, reason="审核计划变更")
            plan.refresh_from_db()
        plan = plan or AuditPlan(audit=audit)
        plan.objectives = objectives
        plan.criteria = criteria
        plan.scope_text = scope_text
        plan.schedule = schedule
        plan.shifts_covered = shifts_covered
        plan.unaudited_shifts = unaudited_shifts
        plan.unaudited_shifts_reason = unaudited_shifts_reason if unaudited_shifts else ""
        plan.remote_methods = remote_methods
        record(plan, actor=actor, reason="编制审核计划")
        plan.save()
        plan.sites.set(site_ids)
    return plan


def _plan_revise(audit: Audit, actor, *, reason: str) -> None:
    """A change to a plan already sent: back to draft, next version, to be confirmed again."""
    plan = AuditPlan.objects.select_for_update().filter(audit=audit).first()
    if plan is None or plan.state == AuditPlan.State.DRAFT:
        return
    plan.version += 1
    plan.sent_on = None
    plan.confirmed_on = None
    plan.confirmed_by = ""
    # The changed plan is reported to CNCA again (004 §9.2); the history keeps the old report.
    plan.cnca_reported_on = None
    plan.report_days_late = 0
    fire(
        plan,
        "revise",
        actor=actor,
        reason=reason,
        fields=[
            "version",
            "sent_on",
            "confirmed_on",
            "confirmed_by",
            "cnca_reported_on",
            "report_days_late",
        ],
        label="审核计划",
    )


def _team_snapshot(audit: Audit, day: date) -> list[dict]:
    snapshot = []
    for member in audit.team.select_related("user").order_by("pk"):
        profile = _profile(member.user)
        snapshot.append(
            {
                "name": str(member.user),
                "role": member.role,
                "registration_number": profile.registration_number if profile else "",
                "qualification": profile.qualification if profile else "",
                "full_time": bool(profile and profile.is_full_time),
                "competence_codes": profile.competence_codes(day) if profile else [],
                "counted_in_audit_time": member.counted_in_audit_time,
                "whole_audit": member.whole_audit,
                "tasks": member.tasks,
            }
        )
    return snapshot


def audit_plan_send(*, plan: AuditPlan, actor, sent_on: date) -> AuditPlan:
    """Send the plan to the client for confirmation before the audit (004 §5.4.6.3).

    The team must pass ``audit_team_check``; the plan keeps the team as sent (names,
    registration numbers, competence codes, tasks; 004 §5.4.6.1).
    """
    _require_planner_or_leader(actor, plan.audit)
    _not_future(sent_on, "发送日期")
    with transaction.atomic():
        plan = lock(AuditPlan, plan.pk)
        audit = plan.audit
        if audit.planned_start and sent_on > audit.planned_start:
            raise RuleViolation("审核计划须在审核开始前提交认证委托人确认", "004 §5.4.6.3")
        failures = audit_team_check(audit)
        if failures:
            raise RuleViolation("审核组不符合要求，不能发送审核计划：" + "；".join(failures))
        plan.team_snapshot = _team_snapshot(audit, _audit_day(audit))
        plan.sent_on = sent_on
        fire(
            plan,
            "send",
            actor=actor,
            reason=f"审核计划第 {plan.version} 版提交认证委托人确认",
            fields=["team_snapshot", "sent_on"],
            label="审核计划",
        )
    return plan


def audit_plan_confirm(
    *, plan: AuditPlan, actor, confirmed_on: date, confirmed_by: str = ""
) -> AuditPlan:
    """Record the client's confirmation of the plan (004 §5.4.6.3).

    A client user of the organisation confirms for themself; staff record who confirmed.
    """
    audit = plan.audit
    if getattr(actor, "is_client", False):
        if actor.organization_id != audit.programme.organization_id:
            raise RuleViolation("客户用户只能确认本组织的审核计划")
        confirmed_by = confirmed_by or str(actor)
    else:
        _require_planner_or_leader(actor, audit)
    if not confirmed_by.strip():
        raise RuleViolation("请填写认证委托人的确认人")
    _not_future(confirmed_on, "确认日期")
    with transaction.atomic():
        plan = lock(AuditPlan, plan.pk)
        if plan.sent_on and confirmed_on < plan.sent_on:
            raise RuleViolation("确认日期不能早于发送日期")
        plan.confirmed_on = confirmed_on
        plan.confirmed_by = confirmed_by.strip()[:50]
        fire(
            plan,
            "confirm",
            actor=actor,
            reason=f"认证委托人确认审核计划第 {plan.version} 版",
            fields=["confirmed_on", "confirmed_by"],
            label="审核计划",
        )
    return plan


def audit_plan_report_cnca(*, plan: AuditPlan, actor, reported_on: date) -> AuditPlan:
    """Record the date the plan was reported to CNCA; due 3 days before the start (004 §9.2).

    A late report is recorded as it happened (``AuditPlan.report_days_late``, days after
    the due date; ``reported_late``), not refused here: ``audit_start`` refuses an ordinary
    audit whose report came late, a short-notice one only when there is no report at all.
    """
    if not any(roles.has_role(actor, role) for role in (*PLANNING_ROLES, roles.REPORTING_OFFICER)):
        raise RuleViolation(f"“{actor}”无权登记审核计划上报")
    _not_future(reported_on, "上报日期")
    with transaction.atomic():
        plan = lock(AuditPlan, plan.pk)
        if plan.state == AuditPlan.State.DRAFT:
            raise RuleViolation("审核计划提交认证委托人后才能上报国家认监委", "004 §9.2")
        plan.cnca_reported_on = reported_on
        due = plan.audit.plan_report_due
        # Stored as reported, also for short-notice audits (004 §9.2; §5.9.2): never hidden.
        plan.report_days_late = max((reported_on - due).days, 0) if due else 0
        record(plan, actor=actor, reason="审核计划已上报国家认监委")
        plan.save(update_fields=["cnca_reported_on", "report_days_late"])
    return plan


# --- ASRP (seed 000) ----------------------------------------------------------------------

_ASRP_KINDS = (Audit.Kind.SURVEILLANCE, Audit.Kind.RECERTIFICATION)
_ASRP_CONTENT_CLAUSES = {
    "reliance": "000 §4.3.1",
    "witnessing_criteria": "000 §4.3.2",
    "internal_auditor_criteria": "000 §4.3.3",
    "adjustment_criteria": "000 §4.3.4",
    "audit_components": "000 §4.3.5",
    "special_competences": "000 §4.3.6",
}


def _asrp_in_use(programme: AuditProgramme) -> AsrpProgramme | None:
    return AsrpProgramme.objects.filter(
        programme_id=programme.pk,
        state__in=[AsrpProgramme.State.APPROVED, AsrpProgramme.State.NOTIFIED],
    ).first()


def _asrp_activities_ensure(audit: Audit, actor) -> None:
    if audit.kind not in _ASRP_KINDS or audit.state != Audit.State.PLANNED:
        return
    existing = set(audit.asrp_activities.values_list("activity", flat=True))
    for activity in AsrpAuditActivity.Activity.values:
        if activity not in existing:
            row = AsrpAuditActivity(audit=audit, activity=activity)
            record(row, actor=actor, reason="ASRP 必须开展的活动")
            row.save()


def asrp_full_cycle_failures(programme: AuditProgramme) -> list[str]:
    """Why the client has not completed a full normal cycle (000 §2, §4.1.1); [] when it has.

    The programme must open a recertification cycle whose normal recertification audit is
    closed (decided) with a positive recommendation, and the previous cycle must have its
    initial (or recertification) audit and at least one surveillance audit closed.
    """
    if programme.cycle < 1 or programme.application.kind != Application.Kind.RECERTIFICATION:
        return [
            "ASRP 仅适用于在常规程序下完成了一个完整认证周期（初审、监督、再认证）的客户"
            "（000 §2、§4.1.1）"
        ]
    failures = []
    opening = _opening_audit(programme)
    if (
        opening is None
        or opening.state != Audit.State.CLOSED
        or not opening.recommendation_positive
    ):
        failures.append("本周期的常规再认证审核尚未完成并作出认证决定（000 §4.1.1）")
    elif AuditTimeDetermination.objects.filter(audit=opening, asrp=True).exists():
        failures.append("本周期的再认证审核不是按常规程序实施的（000 §4.1.1）")
    previous = AuditProgramme.objects.filter(
        organization_id=programme.organization_id, cycle=programme.cycle - 1
    ).first()
    if previous is None:
        failures.append("找不到上一认证周期的审核方案（000 §4.1.1）")
        return failures
    first = _opening_audit(previous)
    if first is None or first.state != Audit.State.CLOSED:
        failures.append("上一认证周期的初次（或再认证）审核未完成（000 §4.1.1）")
    surveillance_done = previous.audits.filter(
        kind=Audit.Kind.SURVEILLANCE, state=Audit.State.CLOSED
    ).exists()
    if not surveillance_done:
        failures.append("上一认证周期没有完成的监督审核（000 §4.1.1）")
    return failures


def asrp_programme_create(
    *,
    programme: AuditProgramme,
    actor,
    reliance: str,
    witnessing_criteria: str,
    internal_auditor_criteria: str,
    adjustment_criteria: str,
    audit_components: str,
    special_competences: str,
) -> AsrpProgramme:
    """Draft an ASRP programme for a client that completed a full normal cycle (000 §4.1.1, §4.3).

    The audit department designs it (000 §3.2) with the six contents of 000 §4.3.1–4.3.6. The
    full-cycle precondition is checked here and recorded with its evidence; the other
    preconditions are recorded with ``asrp_eligibility_record`` and checked at approval.
    """
    _require_planner(actor)
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        if programme.state != AuditProgramme.State.ACTIVE:
            raise RuleViolation("审核方案已关闭")
        if AsrpProgramme.objects.filter(programme=programme).exists():
            raise RuleViolation("该认证周期已有 ASRP 方案")
        failures = asrp_full_cycle_failures(programme)
        if failures:
            raise RuleViolation("不能建立 ASRP 方案：" + "；".join(failures))
        asrp = AsrpProgramme(
            programme=programme,
            reliance=reliance,
            witnessing_criteria=witnessing_criteria,
            internal_auditor_criteria=internal_auditor_criteria,
            adjustment_criteria=adjustment_criteria,
            audit_components=audit_components,
            special_competences=special_competences,
        )
        record(asrp, actor=actor, reason="设计 ASRP 方案")
        asrp.save()
        previous = AuditProgramme.objects.get(
            organization_id=programme.organization_id, cycle=programme.cycle - 1
        )
        closed = previous.audits.filter(state=Audit.State.CLOSED).count()
        check = AsrpEligibilityCheck(
            asrp=asrp,
            criterion=AsrpEligibilityCheck.Criterion.FULL_CYCLE,
            met=True,
            evidence=(
                f"系统核对：上一周期（R{previous.cycle}）已关闭审核 {closed} 项，含初次/再认证"
                f"与监督审核；本周期常规再认证审核“{_opening_audit(programme)}”已作出认证决定。"
            ),
            checked_by=actor,
            checked_on=dates.today(),
        )
        record(check, actor=actor, reason="ASRP 许用准则核对")
        check.save()
    return asrp


def asrp_eligibility_record(
    *, asrp: AsrpProgramme, actor, criterion: str, met: bool, evidence: str, checked_on: date
) -> AsrpEligibilityCheck:
    """Record one precondition of 000 §4.1.2–4.1.6 / §4.4.1 with its evidence (draft only).

    The full-cycle precondition (000 §4.1.1) is checked by the system, not recorded by hand.
    """
    _require_planner(actor)
    if criterion not in AsrpEligibilityCheck.Criterion.values:
        raise RuleViolation(f"未知的 ASRP 许用准则：{criterion}")
    if criterion == AsrpEligibilityCheck.Criterion.FULL_CYCLE:
        raise RuleViolation("完整认证周期由系统按审核记录核对", "000 §4.1.1")
    if not evidence.strip():
        raise RuleViolation("ASRP 许用准则须记录证据", "000 §4.4.2")
    _not_future(checked_on, "核对日期")
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        if asrp.state != AsrpProgramme.State.DRAFT:
            raise RuleViolation("ASRP 方案批准后不能再修改许用准则记录")
        check = (
            AsrpEligibilityCheck.objects.select_for_update()
            .filter(asrp=asrp, criterion=criterion)
            .first()
        ) or AsrpEligibilityCheck(asrp=asrp, criterion=criterion)
        check.met = bool(met)
        check.evidence = evidence
        check.checked_by = actor
        check.checked_on = checked_on
        record(check, actor=actor, reason="ASRP 许用准则核对")
        check.save()
    return check


def asrp_indicator_add(
    *, asrp: AsrpProgramme, actor, name: str, target: str, agreed_on: date, method: str = ""
) -> AsrpIndicator:
    """Add a measurable performance indicator agreed with the client (000 §4.1.3; draft only)."""
    _require_planner(actor)
    if not name.strip() or not target.strip():
        raise RuleViolation("绩效指标须写明名称和可测量的目标值", "000 §4.1.3")
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        if asrp.state != AsrpProgramme.State.DRAFT:
            raise RuleViolation("ASRP 方案批准后不能再增加绩效指标")
        indicator = AsrpIndicator(
            asrp=asrp, name=name.strip(), target=target.strip(), method=method, agreed_on=agreed_on
        )
        record(indicator, actor=actor, reason="商定绩效指标")
        indicator.save()
    return indicator


def asrp_indicator_result_record(
    *,
    indicator: AsrpIndicator,
    actor,
    period: str,
    period_end: date,
    value: str,
    met: bool,
    evidence: str = "",
) -> AsrpIndicatorResult:
    """Record an indicator's result for a period (000 §4.1.3: continuously met).

    A missed target while the ASRP is in use is the case 000 §4.1.6 and §4.3.4 provide for:
    the result is recorded and shown; the audit department adjusts or ends the programme.
    """
    _require_planner(actor)
    if not period.strip() or not value.strip():
        raise RuleViolation("请填写统计期间和结果")
    _not_future(period_end, "统计期间结束日期")
    with transaction.atomic():
        asrp = lock(AsrpProgramme, indicator.asrp_id)
        if asrp.state == AsrpProgramme.State.ENDED:
            raise RuleViolation("ASRP 方案已终止")
        result = (
            AsrpIndicatorResult.objects.select_for_update()
            .filter(indicator=indicator, period=period.strip())
            .first()
        ) or AsrpIndicatorResult(indicator=indicator, period=period.strip())
        result.period_end = period_end
        result.value = value.strip()
        result.met = bool(met)
        result.evidence = evidence
        result.recorded_by = actor
        record(result, actor=actor, reason="记录绩效指标结果")
        result.save()
    return result


def asrp_approval_failures(asrp: AsrpProgramme) -> list[str]:
    """Every missing precondition or content of an ASRP programme; [] when it can be approved.

    000 §4.1.1 (full cycle, recomputed), §4.1.2–4.1.6 and §4.4.1 (each recorded as met with
    evidence), §4.1.3 (at least one indicator, each with results, all met) and §4.3.1–4.3.6
    (every content written).
    """
    failures = list(asrp_full_cycle_failures(asrp.programme))
    checks = {c.criterion: c for c in asrp.checks.all()}
    for criterion in AsrpEligibilityCheck.Criterion:
        if criterion == AsrpEligibilityCheck.Criterion.FULL_CYCLE:
            continue
        check = checks.get(criterion.value)
        if check is None:
            failures.append(f"未核对：{criterion.label}")
        elif not check.met:
            failures.append(f"不满足：{criterion.label}")
    indicators = list(asrp.indicators.prefetch_related("results"))
    if not indicators:
        failures.append("未与客户商定可测量的绩效指标（000 §4.1.3）")
    for indicator in indicators:
        results = list(indicator.results.all())
        if not results:
            failures.append(f"绩效指标“{indicator.name}”没有达成情况记录（000 §4.1.3）")
        elif not all(r.met for r in results):
            failures.append(f"绩效指标“{indicator.name}”未持续达到（000 §4.1.3）")
    for name, clause in _ASRP_CONTENT_CLAUSES.items():
        if not getattr(asrp, name).strip():
            label = AsrpProgramme._meta.get_field(name).verbose_name
            failures.append(f"ASRP 方案缺少“{label}”（{clause}）")
    return failures


def asrp_programme_approve(*, asrp: AsrpProgramme, actor, approved_on: date) -> AsrpProgramme:
    """The technical manager approves the ASRP programme (000 §3.3).

    Refused with every missing precondition named (``asrp_approval_failures``). The mandatory
    on-site activities (000 §4.2.2 b) are then listed for each planned surveillance and
    recertification audit of the cycle.
    """
    _require_technical_manager(actor)
    _not_future(approved_on, "批准日期")
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        failures = asrp_approval_failures(asrp)
        if failures:
            raise RuleViolation("ASRP 方案不能批准：" + "；".join(failures))
        asrp.approved_by = actor
        asrp.approved_on = approved_on
        fire(
            asrp,
            "approve",
            actor=actor,
            reason="批准 ASRP 方案",
            fields=["approved_by", "approved_on"],
            label="ASRP 方案",
        )
        for audit in asrp.programme.audits.filter(kind__in=_ASRP_KINDS):
            _asrp_activities_ensure(audit, actor)
    return asrp


def asrp_accreditation_notify(*, asrp: AsrpProgramme, actor, notified_on: date) -> AsrpProgramme:
    """Record the date the accreditation body was notified; needed before first use (000 §4.4.2)."""
    _require_planner(actor)
    _not_future(notified_on, "通知日期")
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        if asrp.approved_on and notified_on < asrp.approved_on:
            raise RuleViolation("通知认可机构的日期不能早于批准日期", "000 §4.4.2")
        asrp.accreditation_notified_on = notified_on
        fire(
            asrp,
            "notify",
            actor=actor,
            reason="已通知认可机构",
            fields=["accreditation_notified_on"],
            label="ASRP 方案",
        )
    return asrp


def asrp_activity_record(*, audit: Audit, actor, activity: str, notes: str = "") -> None:
    """Record that an ASRP audit covered one mandatory activity (000 §4.2.2 b)."""
    _require_planner_or_leader(actor, audit)
    with transaction.atomic():
        row = (
            AsrpAuditActivity.objects.select_for_update()
            .filter(audit=audit, activity=activity)
            .first()
        )
        if row is None:
            raise RuleViolation("该审核没有这项 ASRP 必须开展的活动")
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation("审核已结束")
        row.covered = True
        row.notes = notes
        record(row, actor=actor, reason="ASRP 活动已开展")
        row.save(update_fields=["covered", "notes"])


def asrp_programme_end(*, asrp: AsrpProgramme, actor, ended_on: date, reason: str) -> AsrpProgramme:
    """End an ASRP programme, e.g. when the client misses its indicators (000 §4.3.4, §4.1.6).

    The cycle's remaining audits are then planned and timed by the normal rules.
    """
    _require_planner(actor)
    if not reason.strip():
        raise RuleViolation("终止 ASRP 方案须说明原因", "000 §4.3.4")
    _not_future(ended_on, "终止日期")
    with transaction.atomic():
        asrp = lock(AsrpProgramme, asrp.pk)
        asrp.ended_on = ended_on
        asrp.end_reason = reason
        fire(
            asrp,
            "end",
            actor=actor,
            reason="终止 ASRP 方案",
            fields=["ended_on", "end_reason"],
            label="ASRP 方案",
        )
    return asrp
