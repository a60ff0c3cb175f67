"""ASRP programmes (seed 000): eligibility with evidence, indicators, approval, use."""

from datetime import date
from decimal import Decimal

import pytest

from audits import services
from audits.models import AsrpEligibilityCheck, AsrpProgramme, Audit, AuditProgramme, Nonconformity
from certbody.lifecycle import RuleViolation
from certificates.models import Certificate
from tests.applications.factories import OrganizationFactory
from tests.audits.factories import recertified_programme
from tests.certificates.factories import (
    Staff,
    hold_meetings,
    issued_certificate,
    plan_ready,
    run_audit,
)
from tests.certificates.helpers import skip_pdf_rendering
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

C = AsrpEligibilityCheck.Criterion
D = Decimal
CONTENT = {
    "reliance": "监督审核中采信内审覆盖的门店服务过程，审核组抽查不少于 30 % 的内审记录",
    "witnessing_criteria": "每次监督见证一次内审，抽样覆盖不同内审员和过程",
    "internal_auditor_criteria": "内审员须经 GB/T 19011 培训并有两次以上内审经历；报告按统一模板",
    "adjustment_criteria": "任一绩效指标连续两期未达到，即恢复常规监督频次和时间",
    "audit_components": "投诉处理、维修及时率、顾客满意度测评、管理评审",
    "special_competences": "审核组长须具备评价绩效指标和即时调整方案的能力",
}
EVIDENCE = {
    C.NCS_RESOLVED: "上一周期 3 项轻微不符合均已验证关闭（见不符合项报告）",
    C.INDICATORS: "与客户签署《绩效指标协议》",
    C.SATISFACTION_DATA: "客户授权访问其顾客满意度调查系统",
    C.INTERNAL_AUDIT: "内审程序及 2024 年内审记录按 GB/T 19011 实施",
    C.CONTRACT_CLAUSE: "认证合同第 12 条约定可增加审核范围、频次和时间",
    C.APPROVED_SCOPE: "业务范围 24 属于本机构批准的业务范围",
}


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def staff(cb, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return Staff()


@shared_fixture
def technical_manager_user(cb):
    from certbody import roles

    return make_staff("tm-asrp", roles.TECHNICAL_MANAGER)


@shared_fixture
def programme(staff, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return recertified_programme(OrganizationFactory(headcount=1500), staff)


def draft(programme, staff, **content):
    return services.asrp_programme_create(
        programme=programme, actor=staff.planner, **{**CONTENT, **content}
    )


def complete(asrp, staff, *, skip=None, indicator=True, met=True):
    for criterion, evidence in EVIDENCE.items():
        if criterion != skip:
            services.asrp_eligibility_record(
                asrp=asrp,
                actor=staff.planner,
                criterion=criterion,
                met=True,
                evidence=evidence,
                checked_on=date(2025, 9, 20),
            )
    if indicator:
        added = services.asrp_indicator_add(
            asrp=asrp,
            actor=staff.planner,
            name="维修及时率",
            target="≥ 98 %",
            agreed_on=date(2025, 9, 15),
            method="按月统计，季度汇总",
        )
        services.asrp_indicator_result_record(
            indicator=added,
            actor=staff.planner,
            period="2025Q3",
            period_end=date(2025, 9, 30),
            value="98.6 %",
            met=met,
        )
    return asrp


def approved(programme, staff, technical_manager):
    asrp = complete(draft(programme, staff), staff)
    return services.asrp_programme_approve(
        asrp=asrp, actor=technical_manager, approved_on=date(2025, 10, 8)
    )


def test_an_asrp_is_refused_before_a_full_normal_cycle(staff):
    certificate = issued_certificate(staff=staff)
    with pytest.raises(RuleViolation, match="000 §2、§4.1.1"):
        draft(certificate.programme, staff)


def test_an_asrp_is_refused_when_the_previous_cycle_had_no_surveillance(staff):
    from audits import services as audit_services
    from certificates import services as cert_services
    from tests.certificates.factories import accepted_application

    certificate = issued_certificate(staff=staff)
    application = accepted_application(certificate.organization, staff, kind="recertification")
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    audit = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
    with pytest.raises(RuleViolation, match="尚未完成并作出认证决定"):
        draft(programme, staff)
    run_audit(audit, staff, date(2025, 9, 1), date(2025, 9, 2))
    cert_services.decision_make(
        audit=audit,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 9, 10),
        star_grade="five_star",
    )
    with pytest.raises(RuleViolation, match="没有完成的监督审核（000 §4.1.1）"):
        draft(programme, staff)


def test_the_full_cycle_is_recorded_with_its_evidence(staff, programme):
    asrp = draft(programme, staff)
    check = asrp.checks.get()
    assert (check.criterion, check.met) == (C.FULL_CYCLE, True)
    assert "R0" in check.evidence
    with pytest.raises(RuleViolation, match="由系统"):
        services.asrp_eligibility_record(
            asrp=asrp,
            actor=staff.planner,
            criterion=C.FULL_CYCLE,
            met=True,
            evidence="x",
            checked_on=date(2025, 9, 20),
        )


def test_an_asrp_with_every_precondition_is_approved_and_notified(
    staff, programme, technical_manager_user
):
    asrp = approved(programme, staff, technical_manager_user)
    assert (asrp.state, asrp.approved_by) == (AsrpProgramme.State.APPROVED, technical_manager_user)
    asrp = services.asrp_accreditation_notify(
        asrp=asrp, actor=staff.planner, notified_on=date(2025, 10, 10)
    )
    assert asrp.state == AsrpProgramme.State.NOTIFIED
    # Mandatory on-site activities listed for each planned surveillance and recertification.
    for audit in programme.audits.filter(state=Audit.State.PLANNED):
        assert audit.asrp_activities.count() == 4


@pytest.mark.parametrize("criterion", list(EVIDENCE))
def test_approval_is_refused_for_each_unrecorded_precondition(
    staff, programme, technical_manager_user, criterion
):
    asrp = complete(draft(programme, staff), staff, skip=criterion)
    with pytest.raises(RuleViolation) as refused:
        services.asrp_programme_approve(
            asrp=asrp, actor=technical_manager_user, approved_on=date(2025, 10, 8)
        )
    assert f"未核对：{C(criterion).label}" in str(refused.value)


def test_approval_is_refused_for_a_precondition_recorded_as_not_met(
    staff, programme, technical_manager_user
):
    asrp = complete(draft(programme, staff), staff)
    services.asrp_eligibility_record(
        asrp=asrp,
        actor=staff.planner,
        criterion=C.SATISFACTION_DATA,
        met=False,
        evidence="客户拒绝开放顾客满意度数据",
        checked_on=date(2025, 9, 20),
    )
    with pytest.raises(RuleViolation, match="不满足"):
        services.asrp_programme_approve(
            asrp=asrp, actor=technical_manager_user, approved_on=date(2025, 10, 8)
        )


def nonconformity(audit, state, number=1):
    """An NC written directly on a finished audit (the NC services are not under test here)."""
    return Nonconformity.objects.create(
        audit=audit,
        number=number,
        severity=Nonconformity.Severity.MAJOR,
        state=state,
        clause="GB/T 27922 5.3",
        description="服务记录不完整",
        evidence="抽查 10 份维修记录，3 份缺少顾客签字",
        raised_by=audit.team.get(role="leader").user,
        raised_on=audit.actual_end,
        due_on=date(2025, 11, 30),
        closed_on=date(2025, 9, 30) if state == Nonconformity.State.CLOSED else None,
    )


def recertification_audit(programme):
    """The closed recertification audit that opened this cycle."""
    return programme.audits.get(kind="recertification", state=Audit.State.CLOSED)


def previous_surveillance(programme):
    previous = AuditProgramme.objects.get(
        organization_id=programme.organization_id, cycle=programme.cycle - 1
    )
    return previous.audits.filter(kind="surveillance", state=Audit.State.CLOSED).first()


@pytest.mark.parametrize("where", [recertification_audit, previous_surveillance])
def test_approval_is_refused_while_an_nc_of_the_cycle_is_unresolved(
    staff, programme, technical_manager_user, where
):
    asrp = complete(draft(programme, staff), staff)  # the box was ticked before the NC
    nc = nonconformity(where(programme), Nonconformity.State.ANSWERED)

    with pytest.raises(RuleViolation, match="000 §4.1.2") as refused:
        services.asrp_programme_approve(
            asrp=asrp, actor=technical_manager_user, approved_on=date(2025, 10, 8)
        )
    assert "未解决的不符合项" in str(refused.value) and f"NC-{nc.number:02d}" in str(refused.value)
    asrp.refresh_from_db()
    assert asrp.state == AsrpProgramme.State.DRAFT


def test_an_unresolved_nc_cannot_be_recorded_as_resolved(staff, programme):
    asrp = draft(programme, staff)
    nonconformity(recertification_audit(programme), Nonconformity.State.OPEN)

    with pytest.raises(RuleViolation, match=r"不能记录为.*NC-01.*000 §4.1.2"):
        services.asrp_eligibility_record(
            asrp=asrp,
            actor=staff.planner,
            criterion=C.NCS_RESOLVED,
            met=True,
            evidence="已关闭",
            checked_on=date(2025, 9, 20),
        )


def test_approval_is_allowed_once_the_cycles_ncs_are_verified_and_closed(
    staff, programme, technical_manager_user
):
    nonconformity(recertification_audit(programme), Nonconformity.State.CLOSED)
    nonconformity(previous_surveillance(programme), Nonconformity.State.CLOSED)

    asrp = approved(programme, staff, technical_manager_user)

    assert asrp.state == AsrpProgramme.State.APPROVED


def test_approval_needs_agreed_indicators_continuously_met(
    staff, programme, technical_manager_user
):
    asrp = complete(draft(programme, staff), staff, indicator=False)
    with pytest.raises(RuleViolation, match="未与客户商定可测量的绩效指标（000 §4.1.3）"):
        services.asrp_programme_approve(
            asrp=asrp, actor=technical_manager_user, approved_on=date(2025, 10, 8)
        )
    services.asrp_indicator_add(
        asrp=asrp, actor=staff.planner, name="满意度", target="≥ 90 分", agreed_on=date(2025, 9, 1)
    )
    with pytest.raises(RuleViolation, match="“满意度”没有达成情况记录"):
        services.asrp_programme_approve(
            asrp=asrp, actor=technical_manager_user, approved_on=date(2025, 10, 8)
        )


def test_approval_is_refused_when_an_indicator_was_missed(staff, programme, technical_manager_user):
    asrp = complete(draft(programme, staff), staff, met=False)
    with pytest.raises(RuleViolation, match="“维修及时率”未持续达到（000 §4.1.3）"):
        services.asrp_programme_approve(
            asrp=asrp, actor=technical_manager_user, approved_on=date(2025, 10, 8)
        )


@pytest.mark.parametrize(
    ("field", "clause"),
    [
        ("reliance", "000 §4.3.1"),
        ("witnessing_criteria", "000 §4.3.2"),
        ("internal_auditor_criteria", "000 §4.3.3"),
        ("adjustment_criteria", "000 §4.3.4"),
        ("audit_components", "000 §4.3.5"),
        ("special_competences", "000 §4.3.6"),
    ],
)
def test_approval_is_refused_for_each_missing_content(
    staff, programme, technical_manager_user, field, clause
):
    asrp = complete(draft(programme, staff, **{field: " "}), staff)
    with pytest.raises(RuleViolation, match=clause):
        services.asrp_programme_approve(
            asrp=asrp, actor=technical_manager_user, approved_on=date(2025, 10, 8)
        )


def test_only_the_technical_manager_approves(staff, programme):
    asrp = complete(draft(programme, staff), staff)
    with pytest.raises(RuleViolation, match="无权.*技术负责人"):
        services.asrp_programme_approve(
            asrp=asrp, actor=staff.planner, approved_on=date(2025, 10, 8)
        )


def test_asrp_time_below_70_percent_needs_a_justification(staff, programme, technical_manager_user):
    approved(programme, staff, technical_manager_user)
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    proposal = services.audit_time_propose(s1)
    # 1,500 people: 12 days initial → surveillance 4.0; 70 % → 3.0 without justification.
    assert (proposal.total_days, proposal.least_days, proposal.asrp) == (D("4.0"), D("3.0"), True)
    reduce = [(D("-1.5"), "内审覆盖全部门店，采信内审结果")]
    with pytest.raises(RuleViolation, match="000 §4.2.1"):
        services.audit_time_determine(
            audit=s1, actor=staff.planner, full_time_headcount=1500, adjustments=reduce
        )
    determination = services.audit_time_determine(
        audit=s1,
        actor=staff.planner,
        full_time_headcount=1500,
        adjustments=reduce,
        asrp_justification="连续三年绩效指标全部达到，内审经见证有效（000 §4.2.1 评价记录）",
    )
    assert (determination.total_days, determination.asrp) == (D("2.5"), True)


def test_an_asrp_audit_starts_only_after_the_accreditation_body_was_notified(
    staff, programme, technical_manager_user
):
    asrp = approved(programme, staff, technical_manager_user)
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    services.audit_time_determine(audit=s1, actor=staff.planner, full_time_headcount=1500)
    services.audit_team_add(audit=s1, actor=staff.planner, user=staff.leader, role="leader")
    plan_ready(s1, staff, date(2025, 11, 3), date(2025, 11, 6))  # 3.5 days on site
    with pytest.raises(RuleViolation, match="000 §4.4.2"):
        services.audit_start(audit=s1, actor=staff.planner, started_on=date(2025, 11, 3))
    services.asrp_accreditation_notify(
        asrp=asrp, actor=staff.planner, notified_on=date(2025, 11, 4)
    )
    with pytest.raises(RuleViolation, match="000 §4.4.2"):
        services.audit_start(audit=s1, actor=staff.planner, started_on=date(2025, 11, 3))
    services.audit_start(audit=s1, actor=staff.planner, started_on=date(2025, 11, 5))


def test_an_asrp_audit_completes_only_with_every_mandatory_activity(
    staff, programme, technical_manager_user
):
    asrp = approved(programme, staff, technical_manager_user)
    services.asrp_accreditation_notify(
        asrp=asrp, actor=staff.planner, notified_on=date(2025, 10, 9)
    )
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    services.audit_team_add(audit=s1, actor=staff.planner, user=staff.leader, role="leader")
    plan_ready(s1, staff, date(2025, 11, 5), date(2025, 11, 6))
    services.audit_start(audit=s1, actor=staff.planner, started_on=date(2025, 11, 5))
    hold_meetings(s1, date(2025, 11, 5), date(2025, 11, 6))
    with pytest.raises(RuleViolation, match="000 §4.2.2 b"):
        services.audit_complete(
            audit=s1, actor=staff.leader, ended_on=date(2025, 11, 6), recommendation_positive=True
        )
    for activity in s1.asrp_activities.values_list("activity", flat=True):
        services.asrp_activity_record(
            audit=s1, actor=staff.leader, activity=activity, notes="已开展"
        )
    services.audit_complete(
        audit=s1, actor=staff.leader, ended_on=date(2025, 11, 6), recommendation_positive=True
    )


def test_an_ended_asrp_returns_to_the_normal_rules(staff, programme, technical_manager_user):
    asrp = approved(programme, staff, technical_manager_user)
    with pytest.raises(RuleViolation, match="000 §4.3.4"):
        services.asrp_programme_end(
            asrp=asrp, actor=staff.planner, ended_on=date(2025, 12, 1), reason=""
        )
    services.asrp_programme_end(
        asrp=asrp,
        actor=staff.planner,
        ended_on=date(2025, 12, 1),
        reason="维修及时率连续两期未达到",
    )
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    assert services.audit_time_propose(s1).asrp is False
    with pytest.raises(RuleViolation, match="004 §5.4.2.3"):
        services.audit_time_determine(
            audit=s1,
            actor=staff.planner,
            full_time_headcount=1500,
            adjustments=[(D("-1.5"), "采信内审")],
            asrp_justification="不再适用",
        )


def test_certificates_do_not_show_the_asrp(staff, programme, technical_manager_user):
    approved(programme, staff, technical_manager_user)
    field_names = {f.name for f in Certificate._meta.get_fields()}
    assert not any("asrp" in name for name in field_names)  # 000 §4.4.3
