"""Auditors, conflict declarations and the audit team rules (004 §4, §5.4.4; 001 §6.2.4)."""

from datetime import date
from decimal import Decimal

import pytest

from audits import services
from audits.models import Audit, Auditor
from certbody import roles
from certbody.lifecycle import RuleViolation
from tests.audits.factories import auditor_profile, auditor_user
from tests.certificates.factories import accepted_application
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

Q = Auditor.Qualification


@shared_fixture
def audit(staff):
    """A planned document review of a client in business scope 24."""
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    return programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)


def add(audit, staff, user, role, **kwargs):
    return services.audit_team_add(audit=audit, actor=staff.planner, user=user, role=role, **kwargs)


def only(failures, text):
    """The one failure message containing ``text`` (and that there is exactly one)."""
    assert len(failures) == 1, failures
    assert text in failures[0], failures
    return failures[0]


# --- auditor register ---------------------------------------------------------------------


def test_auditor_is_registered_with_competences(staff):
    user = make_staff("reg1", roles.AUDITOR)
    auditor = auditor_profile(user, actor=staff.planner, codes=(24, 30))
    assert auditor.registration_number == f"2024-FW-{user.pk:06d}"
    assert auditor.competence_codes(date(2025, 1, 1)) == [24, 30]
    assert auditor.history.first().history_user == staff.planner


@pytest.mark.parametrize(
    ("qualification", "number", "message"),
    [
        (Q.AUDITOR, "", "004 §4.2"),
        (Q.TRAINEE, " ", "004 §4.2"),
        ("lead", "2024-FW-1", "未知"),
    ],
)
def test_auditor_needs_a_registration_number_and_a_known_qualification(
    staff, qualification, number, message
):
    user = make_staff("reg2", roles.AUDITOR)
    with pytest.raises(RuleViolation, match=message):
        services.auditor_register(
            user=user,
            actor=staff.planner,
            qualification=qualification,
            is_full_time=True,
            registration_number=number,
        )


def test_technical_expert_needs_no_registration_number(staff):
    user = make_staff("expert0", roles.AUDITOR)
    expert = services.auditor_register(
        user=user, actor=staff.planner, qualification=Q.TECHNICAL_EXPERT, is_full_time=False
    )
    assert expert.registration_number == ""


def test_registration_number_is_unique_and_clients_cannot_be_auditors(staff):
    from tests.applications.factories import ClientUserFactory

    first = make_staff("reg3", roles.AUDITOR)
    second = make_staff("reg4", roles.AUDITOR)
    auditor_profile(first, actor=staff.planner, registration_number="2024-FW-777")
    with pytest.raises(RuleViolation, match="已登记给其他人员"):
        auditor_profile(second, actor=staff.planner, registration_number="2024-FW-777")
    with pytest.raises(RuleViolation, match="不是本机构人员"):
        auditor_profile(ClientUserFactory(), actor=staff.planner)


def test_only_the_audit_department_registers_auditors(staff):
    with pytest.raises(RuleViolation, match="无权.*审核部"):
        auditor_profile(make_staff("reg5", roles.AUDITOR), actor=staff.leader)


def test_competence_needs_evidence_and_a_known_scope(staff):
    auditor = auditor_profile(make_staff("reg6", roles.AUDITOR), actor=staff.planner, codes=())
    with pytest.raises(RuleViolation, match="004 §3.5"):
        services.auditor_competence_grant(
            auditor=auditor,
            actor=staff.planner,
            scope_code=24,
            evidence=" ",
            granted_on=date.today(),
        )
    with pytest.raises(RuleViolation, match="附录B"):
        services.auditor_competence_grant(
            auditor=auditor,
            actor=staff.planner,
            scope_code=99,
            evidence="x",
            granted_on=date.today(),
        )


def test_auditor_declares_a_conflict_for_themself_with_a_description(staff, audit):
    auditor = Auditor.objects.get(user=staff.leader)
    with pytest.raises(RuleViolation, match="004 §4.3"):
        services.conflict_declare(
            auditor=auditor,
            actor=staff.leader,
            organization=audit.organization,
            has_interest=True,
            declared_on=date(2025, 1, 10),
        )
    declaration = services.conflict_declare(
        auditor=auditor,
        actor=staff.leader,
        organization=audit.organization,
        has_interest=True,
        declared_on=date(2025, 1, 10),
        description="近两年曾为该公司提供售后服务体系咨询",
    )
    assert declaration.history.first().history_user == staff.leader
    other = make_staff("other-auditor", roles.AUDITOR)
    with pytest.raises(RuleViolation, match="无权.*审核部"):
        services.conflict_declare(
            auditor=auditor,
            actor=other,
            organization=audit.organization,
            has_interest=False,
            declared_on=date(2025, 1, 10),
        )


# --- the team check -------------------------------------------------------------------------


def test_a_valid_team_has_no_failures_and_may_start(staff, audit):
    add(audit, staff, staff.leader, "leader")
    trainee = auditor_user("trainee1", qualification=Q.TRAINEE, full_time=False)
    expert = auditor_user("expert1", qualification=Q.TECHNICAL_EXPERT, codes=())
    add(audit, staff, trainee, "trainee")
    add(audit, staff, expert, "expert")
    assert services.audit_team_check(audit) == []
    services.audit_start(audit=audit, actor=staff.planner, started_on=date(2025, 2, 1))


def test_a_team_without_a_leader_is_refused(staff, audit):
    add(audit, staff, staff.leader, "auditor")
    only(services.audit_team_check(audit), "审核组必须有组长（004 §5.4.4.1(1)）")
    with pytest.raises(RuleViolation, match="组长"):
        services.audit_start(audit=audit, actor=staff.planner, started_on=date(2025, 2, 1))


def test_a_member_without_an_auditor_registration_is_named(staff, audit):
    add(audit, staff, staff.leader, "leader")
    newcomer = make_staff("newcomer", roles.AUDITOR)
    add(audit, staff, newcomer, "auditor")
    only(services.audit_team_check(audit), "“newcomer”没有有效的审核人员登记信息（004 §4.2）")


def test_an_expired_registration_is_named(staff, audit):
    add(audit, staff, staff.leader, "leader")
    services.auditor_register(
        user=staff.leader,
        actor=staff.planner,
        qualification=Q.AUDITOR,
        is_full_time=True,
        registration_number="2019-FW-1",
        registration_valid_until=date(2024, 12, 31),
    )
    failures = services.audit_team_check(audit, on=date(2025, 2, 1))
    assert "注册资格已于 2024-12-31 到期（004 §4.2）" in failures[0]


def test_a_trainee_cannot_lead_and_a_role_must_fit_the_qualification(staff, audit):
    trainee = auditor_user("trainee2", qualification=Q.TRAINEE)
    with pytest.raises(RuleViolation, match="不能担任"):
        add(audit, staff, trainee, "leader")
    add(audit, staff, staff.leader, "leader")
    # The leader's qualification changes after joining: the check names it.
    services.auditor_register(
        user=staff.leader,
        actor=staff.planner,
        qualification=Q.TRAINEE,
        is_full_time=True,
        registration_number="2024-FW-T1",
    )
    failures = services.audit_team_check(audit)
    assert "“wf-leader”的资格为" in failures[0]
    assert "不能担任" in failures[0]
    # Nobody else on the team is qualified: competence and full-time presence fail too.
    assert len(failures) == 3


def test_no_member_competent_for_the_clients_scope_is_refused(staff, audit):
    add(audit, staff, auditor_user("furniture", codes=(21,)), "leader")
    message = only(services.audit_team_check(audit), "专业能力")
    assert "24" in message
    assert "004 §5.4.4.1(2)" in message


def test_competence_must_be_valid_on_the_audit_day(staff, audit):
    add(audit, staff, auditor_user("late-competence", granted_on=date(2025, 6, 1)), "leader")
    only(services.audit_team_check(audit, on=date(2025, 2, 1)), "专业能力")
    assert services.audit_team_check(audit, on=date(2025, 6, 1)) == []


def test_a_trainees_or_experts_competence_does_not_count_under_zxrz(staff, audit):
    add(audit, staff, auditor_user("lead21", codes=(21,)), "leader")
    add(audit, staff, auditor_user("expert24", qualification=Q.TECHNICAL_EXPERT), "expert")
    only(services.audit_team_check(audit), "004 §5.4.4.1(2)")


def test_a_full_time_auditor_must_be_present_for_the_whole_audit(staff, audit):
    add(audit, staff, auditor_user("part-timer", full_time=False), "leader")
    only(services.audit_team_check(audit), "专职审查员全程参加审核（004 §5.4.4.1(3)）")
    add(audit, staff, staff.leader, "auditor", whole_audit=False)
    only(services.audit_team_check(audit), "004 §5.4.4.1(3)")
    services.audit_team_remove(audit=audit, actor=staff.planner, user=staff.leader)
    add(audit, staff, staff.leader, "auditor", whole_audit=True)
    assert services.audit_team_check(audit) == []


def test_trainees_may_not_outnumber_qualified_auditors(staff, audit):
    add(audit, staff, staff.leader, "leader")
    add(audit, staff, auditor_user("t1", qualification=Q.TRAINEE), "trainee")
    assert services.audit_team_check(audit) == []
    add(audit, staff, auditor_user("t2", qualification=Q.TRAINEE), "trainee")
    only(
        services.audit_team_check(audit),
        "实习审查员（2 名）不得多于正式审查员（1 名）（004 §5.4.4.2）",
    )


def test_trainees_and_experts_are_not_counted_in_audit_time(staff):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    services.audit_schedule(
        audit=stage2,
        actor=staff.planner,
        planned_start=date(2025, 3, 10),
        planned_end=date(2025, 3, 11),
    )
    services.audit_time_determine(
        audit=stage2,
        actor=staff.planner,
        full_time_headcount=60,
        adjustments=[(Decimal("1"), "两个班次，营业时间长")],
    )  # 4.0 days, on site 3.5
    add(stage2, staff, staff.leader, "leader")
    add(stage2, staff, auditor_user("t3", qualification=Q.TRAINEE), "trainee")
    add(stage2, staff, auditor_user("e3", qualification=Q.TECHNICAL_EXPERT), "expert")
    message = only(services.audit_team_check(stage2), "计入审核时间")
    assert "1 名在 2 天内只能完成 2 人日" in message
    assert "3.5" in message
    add(stage2, staff, auditor_user("a3"), "auditor")
    assert services.audit_team_check(stage2) == []


def test_a_member_with_a_declared_conflict_is_refused(staff, audit):
    colleague = auditor_user("conflicted")
    services.conflict_declare(
        auditor=colleague.auditor_profile,
        actor=colleague,
        organization=audit.organization,
        has_interest=True,
        declared_on=date(2025, 1, 10),
        description="配偶在该公司任售后服务经理",
    )
    with pytest.raises(RuleViolation, match="004 §5.4.4.3"):
        add(audit, staff, colleague, "auditor")
    # A conflict declared after joining is named by the check (and stops the start).
    add(audit, staff, staff.leader, "leader")
    services.conflict_declare(
        auditor=staff.leader.auditor_profile,
        actor=staff.leader,
        organization=audit.organization,
        has_interest=True,
        declared_on=date(2025, 1, 20),
        description="持有该公司股份",
    )
    only(services.audit_team_check(audit), "利益关系，不得参加审核组（004 §5.4.4.3）")
    with pytest.raises(RuleViolation, match="004 §5.4.4.3"):
        services.audit_start(audit=audit, actor=staff.planner, started_on=date(2025, 2, 1))


def test_short_notice_audit_needs_every_members_declaration(staff, monkeypatch):
    from tests.certificates.factories import issued_certificate
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    certificate = issued_certificate(staff=staff)
    audit = services.audit_add_special(
        programme=certificate.programme,
        actor=staff.planner,
        special_kind=Audit.SpecialKind.COMPLAINT,
        reason="媒体曝光维修乱收费",
        short_notice=True,
    )
    add(audit, staff, staff.leader, "leader")
    only(services.audit_team_check(audit), "004 §5.9.2(2)")
    services.conflict_declare(
        auditor=staff.leader.auditor_profile,
        actor=staff.leader,
        organization=audit.organization,
        has_interest=False,
        declared_on=date(2025, 5, 1),
    )
    assert services.audit_team_check(audit) == []


def test_audit_start_lists_every_failure(staff, audit):
    add(audit, staff, auditor_user("solo", codes=(21,), full_time=False), "auditor")
    with pytest.raises(RuleViolation) as refused:
        services.audit_start(audit=audit, actor=staff.planner, started_on=date(2025, 2, 1))
    text = str(refused.value)
    for clause in ("004 §5.4.4.1(1)", "004 §5.4.4.1(2)", "004 §5.4.4.1(3)"):
        assert clause in text


def test_cas_counts_any_members_competence(staff):
    from applications import services as app_services
    from applications.models import ApplicationReview
    from tests.applications.factories import OrganizationFactory

    application = app_services.application_create(
        organization=OrganizationFactory(),
        actor=staff.market,
        scope_text="家用电器的销售及售后服务",
        headcount=60,
        business_scope_codes=[24],
        scheme="CAS",
    )
    app_services.application_submit(application=application, actor=staff.market)
    app_services.application_start_review(application=application, actor=staff.market)
    app_services.application_review_record(
        application=application,
        actor=staff.market,
        checks=dict.fromkeys(ApplicationReview.CHECKS, True),
    )
    app_services.application_accept(application=application, actor=staff.market)
    contract = app_services.contract_create(application=application, actor=staff.market)
    app_services.contract_sign(
        contract=contract, actor=staff.market, signed_on=date(2025, 1, 5), signed_by_client="王五"
    )
    programme = services.programme_create(application=application, actor=staff.planner)
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    add(review, staff, auditor_user("cas-lead", codes=(21,)), "leader")
    only(services.audit_team_check(review), "001 §6.2.4")
    add(review, staff, auditor_user("cas-expert", qualification=Q.TECHNICAL_EXPERT), "expert")
    assert services.audit_team_check(review) == []  # 001 §6.2.4: 至少有1名成员具备专业技术能力


def test_removing_a_member_needs_the_member_on_the_team(staff, audit):
    with pytest.raises(RuleViolation, match="不在审核组中"):
        services.audit_team_remove(audit=audit, actor=staff.planner, user=staff.leader)


# --- decision maker independence -------------------------------------------------------------


def test_decision_maker_check_names_team_members_and_declared_conflicts(staff, audit):
    add(audit, staff, staff.leader, "leader")
    stage2 = audit.programme.audits.get(kind=Audit.Kind.STAGE2)
    assert services.decision_maker_check(audit=stage2, user=staff.decider) == []
    # The document review's team counts for the stage 2 decision (004 §5.12.1).
    assert services.decision_maker_check(audit=stage2, user=staff.leader) == [
        "认证决定人员不得是该审核的审核组成员（004 §5.12.1）"
    ]
    decider_profile = auditor_profile(staff.decider, actor=staff.planner)
    services.conflict_declare(
        auditor=decider_profile,
        actor=staff.decider,
        organization=audit.organization,
        has_interest=True,
        declared_on=date(2025, 1, 10),
        description="亲属任该公司总经理",
    )
    assert services.decision_maker_check(audit=stage2, user=staff.decider) == [
        "认证决定人员已声明与该客户存在利益关系（004 §4.3）"
    ]
    assert services.audit_team_user_ids(stage2) == {staff.leader.pk}
