"""Audit plans: content, client confirmation, re-confirmation of changes, CNCA report date."""

from datetime import date
from decimal import Decimal

import pytest

from audits import services
from audits.models import Audit, AuditPlan
from certbody import roles
from certbody.lifecycle import RuleViolation
from tests.applications.factories import ClientUserFactory, OrganizationFactory, SiteFactory
from tests.audits.factories import auditor_user
from tests.certificates.factories import accepted_application
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

START, END = date(2025, 3, 10), date(2025, 3, 11)


@shared_fixture
def organization(cb):
    organization = OrganizationFactory()
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    return organization


@shared_fixture
def stage2(staff, organization):
    programme = services.programme_create(
        application=accepted_application(organization, staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    services.audit_schedule(audit=stage2, actor=staff.planner, planned_start=START, planned_end=END)
    services.audit_team_add(
        audit=stage2, actor=staff.planner, user=staff.leader, role="leader", tasks="全部条款"
    )
    return stage2


def prepare(audit, actor, **kwargs):
    values = {
        "objectives": "评价售后服务体系与 GB/T 27922 的符合性和有效性，确定星级",
        "criteria": "GB/T 27922-2011；ZXRZ 售后服务认证规则",
        "scope_text": "家用电器的销售及售后服务",
        "shifts_covered": "白班（9:00–18:00）",
        "sites": list(audit.organization.sites.all()),
        "schedule": "3 月 10 日 9:00 首次会议；3 月 11 日 16:00 末次会议",
    }
    values.update(kwargs)
    return services.audit_plan_prepare(audit=audit, actor=actor, **values)


def test_schedule_sets_the_cnca_report_date_three_days_before_the_start(stage2):
    stage2.refresh_from_db()
    assert stage2.plan_report_due == date(2025, 3, 7)


def test_plan_is_written_sent_and_confirmed(staff, stage2):
    plan = prepare(stage2, staff.leader)  # the team leader writes it
    assert plan.state == AuditPlan.State.DRAFT
    plan = services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    assert plan.state == AuditPlan.State.SENT
    (member,) = plan.team_snapshot
    assert member["registration_number"] == staff.leader.auditor_profile.registration_number
    assert member["competence_codes"] == [24]
    assert member["tasks"] == "全部条款"
    plan = services.audit_plan_confirm(
        plan=plan, actor=staff.planner, confirmed_on=date(2025, 3, 3), confirmed_by="王五"
    )
    assert (plan.state, plan.confirmed_by) == (AuditPlan.State.CONFIRMED, "王五")
    assert plan.history.first().history_user == staff.planner


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"objectives": " "}, "审核目的（004 §5.4.6.1）"),
        ({"criteria": ""}, "审核准则"),
        ({"scope_text": ""}, "审核范围"),
        ({"shifts_covered": ""}, "004 §5.4.1.6\\(1\\)"),
        ({"unaudited_shifts": "夜班"}, "004 §5.4.1.6\\(2\\)"),
        ({"sites": []}, "场所（004 §5.4.6.1）"),
    ],
)
def test_incomplete_plans_are_refused(staff, stage2, change, message):
    with pytest.raises(RuleViolation, match=message):
        prepare(stage2, staff.planner, **change)


def test_unaudited_shifts_are_recorded_with_their_reason(staff, stage2):
    plan = prepare(
        stage2,
        staff.planner,
        unaudited_shifts="夜班（22:00–6:00）",
        unaudited_shifts_reason="夜班仅值守热线，与白班同一流程，已在白班抽查通话记录",
    )
    assert plan.unaudited_shifts_reason.startswith("夜班仅值守热线")


def test_a_plan_needs_the_audit_dates(staff):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    with pytest.raises(RuleViolation, match="请先安排审核日期"):
        prepare(review, staff.planner, sites=[])


def test_remote_time_must_be_stated_in_the_plan(staff, stage2):
    services.audit_time_determine(
        audit=stage2,
        actor=staff.planner,
        full_time_headcount=60,
        onsite_days=Decimal("2.5"),
        remote_days=Decimal("0.5"),
        remote_reason="冷库区域通过视频查看",
    )
    with pytest.raises(RuleViolation, match="004 §5.4.5.3"):
        prepare(stage2, staff.planner)
    assert prepare(stage2, staff.planner, remote_methods="视频连线查看冷库温控记录")


def test_a_plan_covers_every_sampled_site(staff, organization):
    outlets = [SiteFactory(organization=organization, name=f"门店{n}") for n in range(1, 5)]
    head = organization.sites.get(is_head_office=True)
    programme = services.programme_create(
        application=accepted_application(organization, staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    services.audit_schedule(audit=stage2, actor=staff.planner, planned_start=START, planned_end=END)
    services.sampling_plan_record(
        audit=stage2,
        actor=staff.planner,
        similar_sites=outlets,
        sampled_sites=[head, *outlets[:2]],
        similarity_reason="同一服务规范、同类商品",
    )
    with pytest.raises(RuleViolation, match="抽样方案选定的全部场所（004 §5.4.3）"):
        prepare(stage2, staff.planner, sites=[head, outlets[0]])
    plan = prepare(stage2, staff.planner, sites=[head, *outlets[:2]])
    assert plan.sites.count() == 3


def test_sending_needs_a_valid_team_and_a_date_before_the_audit(staff, stage2):
    plan = prepare(stage2, staff.planner)
    with pytest.raises(RuleViolation, match="004 §5.4.6.3"):
        services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 11))
    services.audit_team_add(
        audit=stage2,
        actor=staff.planner,
        user=auditor_user("t-plan", qualification="trainee"),
        role="trainee",
    )
    services.audit_team_add(
        audit=stage2,
        actor=staff.planner,
        user=auditor_user("t-plan2", qualification="trainee"),
        role="trainee",
    )
    with pytest.raises(RuleViolation, match="004 §5.4.4.2"):
        services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))


def test_a_change_after_sending_revises_the_plan_for_reconfirmation(staff, stage2):
    plan = prepare(stage2, staff.planner)
    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    services.audit_plan_confirm(
        plan=plan, actor=staff.planner, confirmed_on=date(2025, 3, 2), confirmed_by="王五"
    )
    services.audit_plan_report_cnca(plan=plan, actor=staff.planner, reported_on=date(2025, 3, 3))
    prepare(stage2, staff.planner, schedule="3 月 10 日 8:30 首次会议")
    plan.refresh_from_db()
    assert (plan.state, plan.version) == (AuditPlan.State.DRAFT, 2)
    assert (plan.sent_on, plan.confirmed_on, plan.cnca_reported_on) == (None, None, None)
    # Sent and confirmed again (004 §5.4.6.3).
    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 4))
    services.audit_plan_confirm(
        plan=plan, actor=staff.planner, confirmed_on=date(2025, 3, 5), confirmed_by="王五"
    )
    plan.refresh_from_db()
    assert plan.state == AuditPlan.State.CONFIRMED


@pytest.mark.parametrize("change", ["team", "dates", "time"])
def test_team_date_and_time_changes_revise_a_sent_plan(staff, stage2, change):
    plan = prepare(stage2, staff.planner)
    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    if change == "team":
        services.audit_team_add(
            audit=stage2, actor=staff.planner, user=auditor_user("late-joiner"), role="auditor"
        )
    elif change == "dates":
        services.audit_schedule(
            audit=stage2, actor=staff.planner, planned_start=START, planned_end=date(2025, 3, 12)
        )
    else:
        services.audit_time_determine(audit=stage2, actor=staff.planner, full_time_headcount=60)
    plan.refresh_from_db()
    assert (plan.state, plan.version) == (AuditPlan.State.DRAFT, 2)


def test_the_client_confirms_its_own_plan_only(staff, stage2, organization):
    plan = prepare(stage2, staff.planner)
    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    stranger = ClientUserFactory()
    with pytest.raises(RuleViolation, match="本组织"):
        services.audit_plan_confirm(plan=plan, actor=stranger, confirmed_on=date(2025, 3, 2))
    client_user = ClientUserFactory(organization=organization, username="client-own")
    plan = services.audit_plan_confirm(plan=plan, actor=client_user, confirmed_on=date(2025, 3, 2))
    assert plan.confirmed_by == "client-own"


def test_confirmation_before_sending_is_refused(staff, stage2):
    plan = prepare(stage2, staff.planner)
    with pytest.raises(RuleViolation, match="当前状态"):
        services.audit_plan_confirm(
            plan=plan, actor=staff.planner, confirmed_on=date(2025, 3, 2), confirmed_by="王五"
        )


def test_cnca_report_date_is_tracked_and_a_late_report_flagged(staff, stage2):
    plan = prepare(stage2, staff.planner)
    with pytest.raises(RuleViolation, match="004 §9.2"):
        services.audit_plan_report_cnca(
            plan=plan, actor=staff.planner, reported_on=date(2025, 3, 1)
        )
    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    reporter = make_staff("reporter", roles.REPORTING_OFFICER)
    plan = services.audit_plan_report_cnca(plan=plan, actor=reporter, reported_on=date(2025, 3, 8))
    assert plan.cnca_reported_on == date(2025, 3, 8)
    assert plan.reported_late  # due 2025-03-07
    on_time = services.audit_plan_report_cnca(
        plan=plan, actor=reporter, reported_on=date(2025, 3, 7)
    )
    assert not on_time.reported_late
    with pytest.raises(RuleViolation, match="无权"):
        services.audit_plan_report_cnca(plan=plan, actor=staff.market, reported_on=date(2025, 3, 7))
