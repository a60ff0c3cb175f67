"""Audit time determinations: headcount, table time, adjustments, floors, on-site and remote."""

from datetime import date
from decimal import Decimal

import pytest

from audits import services
from audits.models import Audit, AuditTimeDetermination
from certbody.lifecycle import RuleViolation
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import Staff, accepted_application, issued_certificate
from tests.certificates.helpers import skip_pdf_rendering
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def staff(cb, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return Staff()


@shared_fixture
def programme(staff):
    return services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )


@shared_fixture
def stage2(programme):
    return programme.audits.get(kind=Audit.Kind.STAGE2)


def determine(audit, staff, **kwargs):
    kwargs.setdefault("full_time_headcount", 60)
    return services.audit_time_determine(audit=audit, actor=staff.planner, **kwargs)


def test_determination_records_headcount_table_adjustments_and_split(staff, stage2):
    determination = determine(
        stage2,
        staff,
        full_time_headcount=50,
        part_time_hours=D("4000"),  # two full-time equivalents (2,000 h each)
        adjustments=[
            (D("1"), "夜间及周末两个班次均需覆盖"),
            (D("-0.5"), "服务网点集中在同一园区"),
        ],
        onsite_days=D("3.0"),
    )
    assert determination.effective_headcount == 52
    assert determination.table_days == D("3.0")  # 46–65
    assert determination.total_days == D("3.5")
    assert [(a.days, a.reason) for a in determination.adjustments.all()] == [
        (D("1.0"), "夜间及周末两个班次均需覆盖"),
        (D("-0.5"), "服务网点集中在同一园区"),
    ]
    assert (determination.onsite_days, determination.offsite_days) == (D("3.0"), D("0.5"))
    assert determination.least_days == D("2.5")  # 70 % of 3, rounded up
    stage2.refresh_from_db()
    assert stage2.planned_days == D("3.5")
    assert determination.history.first().history_user == staff.planner


def test_on_site_time_defaults_to_the_least_share(staff, stage2):
    determination = determine(stage2, staff, full_time_headcount=200)  # 7 days
    assert determination.onsite_days == D("6.0")  # 80 % of 7 = 5.6 → 6.0


def test_determining_again_replaces_the_adjustments(staff, stage2):
    determine(stage2, staff, adjustments=[(D("1"), "多班次")])
    determination = determine(stage2, staff)
    assert determination.total_days == D("3.0")
    assert not determination.adjustments.exists()
    assert AuditTimeDetermination.objects.filter(audit=stage2).count() == 1


def test_a_reduction_over_30_percent_is_refused_with_the_rule(staff, stage2):
    with pytest.raises(RuleViolation, match="30 %.*至少须 2.5 人日（004 §5.4.2.3）"):
        determine(stage2, staff, adjustments=[(D("-1"), "规模小")])


def test_a_reduction_within_30_percent_with_its_reason_is_accepted(staff, stage2):
    assert determine(stage2, staff, adjustments=[(D("-0.5"), "规模小")]).total_days == D("2.5")


@pytest.mark.parametrize(
    ("adjustment", "message"),
    [
        ((D("-0.5"), " "), "理由（004 §5.4.2.3）"),
        ((D("1"), ""), "理由"),
        ((D("0.3"), "x"), "半天"),
        ((D("0"), "x"), "半天"),
        (("abc", "x"), "数字"),
        ((0.5, "x"), "数字"),
    ],
)
def test_bad_adjustments_are_refused(staff, stage2, adjustment, message):
    with pytest.raises(RuleViolation, match=message):
        determine(stage2, staff, adjustments=[adjustment])


def test_surveillance_may_not_fall_below_a_third_of_the_initial_audit_time(staff):
    certificate = issued_certificate(OrganizationFactory(), staff)
    programme = certificate.programme
    # Record the initial audit time after the fact to have a reference of 6 days.
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    AuditTimeDetermination.objects.create(
        audit=stage2,
        scheme="ZXRZ-2025",
        audit_type="initial",
        full_time_headcount=60,
        effective_headcount=60,
        table_days=D("3"),
        least_days=D("2.5"),
        total_days=D("6"),
        onsite_days=D("5"),
        determined_by=staff.planner,
        determined_at=stage2.programme.created_at,
    )
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    proposal = services.audit_time_propose(s1)
    assert (proposal.table_days, proposal.reference_days, proposal.total_days) == (
        D("1.0"),
        D("6"),
        D("2.0"),
    )
    with pytest.raises(RuleViolation, match="1/3.*至少须 2.0 人日（004 §5.7.5）"):
        determine(s1, staff)
    assert determine(s1, staff, adjustments=[(D("1"), "初审时间较长")]).total_days == D("2.0")
    recert = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
    with pytest.raises(RuleViolation, match="2/3.*至少须 4.0 人日（004 §5.8.5）"):
        determine(recert, staff)


def test_on_site_time_below_80_percent_is_refused(staff, stage2):
    with pytest.raises(RuleViolation, match="80 %.*至少须 2.5 人日（004 §5.4.2.3）"):
        determine(stage2, staff, onsite_days=D("2"))
    with pytest.raises(RuleViolation, match="超过审核时间"):
        determine(stage2, staff, onsite_days=D("3.5"))


def test_remote_time_is_limited_to_30_percent_of_on_site_and_needs_its_methods(staff):
    programme = services.programme_create(
        application=accepted_application(OrganizationFactory(headcount=1200), staff),
        actor=staff.planner,
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)  # 12 days, on site ≥ 10
    with pytest.raises(RuleViolation, match="30 %（004 §5.4.5.3）"):
        determine(stage2, staff, full_time_headcount=1200, remote_days=D("3.5"))
    with pytest.raises(RuleViolation, match="004 §5.4.5.2"):
        determine(stage2, staff, full_time_headcount=1200, remote_days=D("2"))
    determination = determine(
        stage2,
        staff,
        full_time_headcount=1200,
        remote_days=D("2"),
        remote_reason="仓库冷链区因安全原因通过视频查看温控记录",
    )
    assert (determination.onsite_days, determination.remote_days) == (D("10.0"), D("2.0"))


def test_the_document_review_is_not_determined_on_its_own(staff, programme):
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    with pytest.raises(RuleViolation, match="004 §5.4.2.1"):
        determine(review, staff)


def test_only_planned_audits_are_determined(staff, stage2):
    services.audit_terminate(audit=stage2, actor=staff.planner, reason="客户搬迁")
    with pytest.raises(RuleViolation, match="计划中"):
        determine(stage2, staff)


def test_an_empty_scope_is_refused(staff, stage2):
    with pytest.raises(RuleViolation, match="有效人数至少为 1"):
        determine(stage2, staff, full_time_headcount=0)


def test_cas_reductions_cite_001(staff):
    from applications import services as app_services
    from applications.models import ApplicationReview

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
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    with pytest.raises(RuleViolation, match="001 §6.2.3"):
        determine(stage2, staff, adjustments=[(D("-2"), "规模小")])
    determination = determine(stage2, staff)
    assert determination.onsite_days == determination.total_days == D("5.0")  # CAS: on-site


def test_schedule_keeps_the_determined_time(staff, stage2):
    determine(stage2, staff)
    with pytest.raises(RuleViolation, match="重新确定"):
        services.audit_schedule(
            audit=stage2,
            actor=staff.planner,
            planned_start=date(2025, 3, 10),
            planned_end=date(2025, 3, 12),
            planned_days=D("4"),
        )
    services.audit_schedule(
        audit=stage2,
        actor=staff.planner,
        planned_start=date(2025, 3, 10),
        planned_end=date(2025, 3, 12),
    )
    stage2.refresh_from_db()
    assert stage2.planned_days == D("3.0")
    assert stage2.plan_report_due == date(2025, 3, 7)  # 004 §9.2


def test_only_the_audit_department_determines(staff, stage2):
    with pytest.raises(RuleViolation, match="无权.*审核部"):
        services.audit_time_determine(audit=stage2, actor=staff.leader, full_time_headcount=60)
