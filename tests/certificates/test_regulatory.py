"""Regulatory events at clients (004 §5.3.3(4), §5.9.2, §9.5; 002 §4.3.8.2; 003 §4.6): recorded
with date and source; written findings bring a short-notice audit, major accidents reporting
deadlines, the third failed official spot check a withdrawal proposal (never a withdrawal)."""

from datetime import date, timedelta

import pytest

from audits.models import Audit
from certbody.lifecycle import RuleViolation
from certificates import services
from certificates.models import Certificate, Proposal, RegulatoryEvent, ReportingObligation
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import issued_certificate
from tests.certificates.helpers import certificate_in, multi_site_certificate, skip_pdf_rendering
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

Kind = RegulatoryEvent.Kind


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def certificate(staff, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return issued_certificate(staff=staff)


def spot_check(certificate, actor, on, *, level="national", result="fail"):
    return services.regulatory_event_record(
        certificate=certificate,
        actor=actor,
        kind=Kind.SPOT_CHECK,
        occurred_on=on,
        source="国家市场监督管理总局 2025 年第 3 批产品质量国家监督抽查",
        description="空调器能效比不合格",
        level=level,
        result=result,
    )


def test_event_is_recorded_with_date_source_and_the_current_certificate(certificate, staff):
    event = services.regulatory_event_record(
        organization=certificate.organization,
        actor=staff.planner,
        kind=Kind.MEDIA_EXPOSURE,
        occurred_on=date(2025, 5, 6),
        source="某日报 2025-05-06 第 3 版",
        description="报道门店拒绝履行三包义务",
    )

    assert (event.certificate, event.notified_on, event.recorded_by) == (
        certificate,
        date(2025, 5, 6),
        staff.planner,
    )
    assert event.special_audit is None
    assert event.history.count() == 1
    assert not Proposal.objects.exists()
    assert not ReportingObligation.objects.exists()


def test_third_failed_official_spot_check_proposes_withdrawal_without_withdrawing(
    certificate, staff
):
    spot_check(certificate, staff.planner, date(2025, 4, 1))
    spot_check(certificate, staff.planner, date(2025, 5, 1), level="provincial")
    spot_check(certificate, staff.planner, date(2025, 5, 20), result="pass")
    spot_check(certificate, staff.planner, date(2025, 5, 25), level="other")
    assert not Proposal.objects.exists()

    third = spot_check(certificate, staff.planner, date(2025, 6, 1), level="provincial")

    proposal = Proposal.objects.get()
    assert (proposal.certificate, proposal.action, proposal.cause) == (certificate, "withdraw", 10)
    assert (proposal.state, proposal.regulatory_event) == (Proposal.State.OPEN, third)
    assert "3 次不合格" in proposal.reason and "003 §4.6" in proposal.reason
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID

    spot_check(certificate, staff.planner, date(2025, 6, 10))
    assert Proposal.objects.count() == 1  # one open proposal per certificate


def test_spot_checks_on_a_sub_certificate_count_for_the_head(staff):
    head, sub = multi_site_certificate(staff=staff)
    for month in (4, 5, 6):
        spot_check(sub, staff.planner, date(2025, month, 1))

    assert Proposal.objects.get().certificate == head


def test_accepting_the_proposal_withdraws_through_the_service(certificate, staff):
    for month in (4, 5, 6):
        spot_check(certificate, staff.planner, date(2025, month, 2))
    proposal = Proposal.objects.get()

    services.proposal_accept(
        proposal=proposal,
        actor=staff.decider,
        verified_on=date(2025, 6, 3),
        withdrawn_on=date(2025, 6, 5),
    )

    certificate.refresh_from_db()
    proposal.refresh_from_db()
    assert certificate.status == Certificate.Status.WITHDRAWN
    event = certificate.events.get(kind="withdrawn")
    assert (event.cause, event.reason_code) == (10, "0199")
    assert "003 §4.6" in event.reason
    assert proposal.state == Proposal.State.ACCEPTED


def test_accepting_late_is_refused_like_any_withdrawal(certificate, staff):
    for month in (4, 5, 6):
        spot_check(certificate, staff.planner, date(2025, month, 2))

    with pytest.raises(RuleViolation, match="5 个工作日"):
        services.proposal_accept(
            proposal=Proposal.objects.get(),
            actor=staff.decider,
            verified_on=date(2025, 6, 3),
            withdrawn_on=date(2025, 7, 1),
        )
    assert Proposal.objects.get().state == Proposal.State.OPEN


def test_dismissing_the_proposal_keeps_the_reason(certificate, staff):
    for month in (4, 5, 6):
        spot_check(certificate, staff.planner, date(2025, month, 2))
    proposal = Proposal.objects.get()

    with pytest.raises(RuleViolation, match="说明理由"):
        services.proposal_dismiss(proposal=proposal, actor=staff.decider, note=" ")
    services.proposal_dismiss(
        proposal=proposal, actor=staff.decider, note="其中一次抽查产品非本组织销售"
    )

    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.DISMISSED
    assert proposal.closing_note == "其中一次抽查产品非本组织销售"


def test_written_regulator_finding_adds_a_short_notice_audit_within_30_days(certificate, staff):
    event = services.regulatory_event_record(
        certificate=certificate,
        actor=staff.planner,
        kind=Kind.REGULATOR_FINDING,
        occurred_on=date(2025, 5, 10),
        notified_on=date(2025, 5, 12),
        source="北京市朝阳区市场监督管理局",
        description="售后服务承诺未兑现，书面责令整改",
        written_finding=True,
    )

    audit = event.special_audit
    assert (audit.kind, audit.special_kind, audit.short_notice) == (
        Audit.Kind.SPECIAL,
        Audit.SpecialKind.REGULATOR_FINDING,
        True,
    )
    assert audit.due_on == date(2025, 5, 12) + timedelta(days=30)
    assert audit.notified_on == date(2025, 5, 12)
    assert audit.programme == certificate.programme
    assert "书面责令整改" in audit.reason


def test_finding_without_written_nonconformity_adds_no_audit(certificate, staff):
    event = services.regulatory_event_record(
        certificate=certificate,
        actor=staff.planner,
        kind=Kind.REGULATOR_FINDING,
        occurred_on=date(2025, 5, 10),
        source="区市场监督管理局",
        description="口头提醒",
    )

    assert event.special_audit is None
    assert not Audit.objects.filter(kind=Audit.Kind.SPECIAL).exists()


def test_major_accident_creates_the_reporting_deadlines(certificate, staff):
    event = services.regulatory_event_record(
        certificate=certificate,
        actor=staff.planner,
        kind=Kind.ACCIDENT,
        occurred_on=date(2025, 9, 30),
        notified_on=date(2025, 10, 2),
        source="获证组织报告",
        description="上门安装人员坠落重伤",
        major=True,
    )

    rows = {o.recipient: o for o in event.reporting_obligations.all()}
    assert set(rows) == {"cnas", "local_regulator"}
    assert (rows["cnas"].due_on, rows["cnas"].rule) == (date(2025, 10, 12), "002 §4.3.8.2")
    # 2 working days after 30 September, across the National Day holidays: 10 October.
    assert (rows["local_regulator"].due_on, rows["local_regulator"].rule) == (
        date(2025, 10, 10),
        "004 §9.5",
    )
    assert not rows["local_regulator"].provisional

    services.reporting_obligation_done(
        obligation=rows["cnas"], actor=staff.decider, done_on=date(2025, 10, 9)
    )
    rows["cnas"].refresh_from_db()
    assert rows["cnas"].done_on == date(2025, 10, 9)


def test_event_at_an_organisation_without_certificate_only_records(staff):
    organization = OrganizationFactory()

    event = services.regulatory_event_record(
        organization=organization,
        actor=staff.planner,
        kind=Kind.ACCIDENT,
        occurred_on=date(2025, 5, 1),
        source="新闻",
        description="事故",
        major=True,
    )

    assert event.certificate is None
    assert not ReportingObligation.objects.exists()


def test_event_on_a_withdrawn_certificate_proposes_nothing(staff):
    certificate = certificate_in(Certificate.Status.WITHDRAWN, staff=staff)
    for month in (8, 9, 10):
        spot_check(certificate, staff.planner, date(2025, month, 2))

    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "rumour"}, "未知的信息类型"),
        ({"source": " "}, "来源"),
        ({"kind": Kind.SPOT_CHECK}, "抽查级别"),
        ({"result": "fail"}, "只有监督抽查"),
        ({"written_finding": True}, "004 §5.9.2"),
        ({"major": True, "kind": Kind.COMPLAINT}, "重大事故"),
        ({"occurred_on": date(2099, 1, 1)}, "不能晚于今天"),
        ({"notified_on": date(2025, 4, 1)}, "不能早于发生日期"),
    ],
)
def test_refused_records(certificate, staff, kwargs, message):
    args = {
        "certificate": certificate,
        "actor": staff.planner,
        "kind": Kind.MEDIA_EXPOSURE,
        "occurred_on": date(2025, 5, 1),
        "source": "报纸",
        "description": "报道",
        **kwargs,
    }
    with pytest.raises(RuleViolation, match=message):
        services.regulatory_event_record(**args)
    assert not RegulatoryEvent.objects.exists()


def test_only_technical_or_audit_department_records(certificate, staff):
    with pytest.raises(RuleViolation, match="无权"):
        spot_check(certificate, staff.market, date(2025, 5, 1))


def test_demo_scenario_three_failed_spot_checks_and_an_open_complaint(certificate, staff):
    """The calls the demo builder makes (see the issue #5 report)."""
    for on, level in (
        (date(2025, 4, 8), "national"),
        (date(2025, 6, 16), "provincial"),
        (date(2025, 9, 9), "provincial"),
    ):
        services.regulatory_event_record(
            certificate=certificate,
            actor=staff.planner,
            kind=Kind.SPOT_CHECK,
            occurred_on=on,
            source="市场监督管理部门产品质量监督抽查",
            description="抽查商品实物质量不合格",
            level=level,
            result="fail",
        )
    from certbody.lifecycle import system_user

    complaint = services.appeal_receive(
        actor=system_user(),
        kind="complaint",
        received_on=date(2025, 9, 20),
        subject="维修承诺未兑现",
        description="送修空调超过承诺时限仍未修复。",
        name="张女士",
        contact="13800000000",
        certificate=certificate,
        about_organization=certificate.organization_name,
    )

    assert Proposal.objects.filter(certificate=certificate, state="open").count() == 1
    assert complaint.state == "received"
    assert complaint.due_on == date(2025, 11, 19)
