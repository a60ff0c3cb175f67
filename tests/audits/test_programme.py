"""Programmes: the cycle's audits, their due dates and re-planning when an input changes."""

from datetime import date
from decimal import Decimal

import pytest

from applications import services as app_services
from applications.models import ApplicationReview
from audits import services
from audits.models import Audit, AuditProgramme
from certbody.lifecycle import RuleViolation
from certificates import services as cert_services
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import (
    Staff,
    accepted_application,
    completed_stage2,
    issued_certificate,
    plan_ready,
    run_audit,
)
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
def certificate(staff, module_monkeypatch):
    """A certified client's certificate: decided 2025-03-20, expires 2028-03-19, 60 people."""
    skip_pdf_rendering(module_monkeypatch)
    return issued_certificate(staff=staff)


@shared_fixture
def programme(certificate):
    """The certified client's programme."""
    return certificate.programme


def audits_of(programme):
    return {(a.kind, a.sequence): a for a in programme.audits.all()}


def test_accepted_application_gets_document_review_and_stage2_with_proposed_times(staff):
    application = accepted_application(OrganizationFactory(headcount=130), staff)
    programme = services.programme_create(application=application, actor=staff.planner)
    audits = audits_of(programme)
    assert set(audits) == {(Audit.Kind.DOCUMENT_REVIEW, 1), (Audit.Kind.STAGE2, 1)}
    assert audits[(Audit.Kind.STAGE2, 1)].planned_days == D("6.0")  # 126–175 → 6 days
    assert programme.headcount == 130
    assert programme.recert_application_due is None  # known once the cycle is decided


def test_grant_plans_both_surveillances_and_the_recertification_with_due_dates(programme):
    audits = audits_of(programme)
    s1 = audits[(Audit.Kind.SURVEILLANCE, 1)]
    s2 = audits[(Audit.Kind.SURVEILLANCE, 2)]
    recert = audits[(Audit.Kind.RECERTIFICATION, 1)]
    assert (programme.decided_on, programme.expires_on) == (date(2025, 3, 20), date(2028, 3, 19))
    assert s1.due_on == date(2026, 3, 20)  # 12 months after the decision (004 §5.7.3)
    assert s2.due_on == date(2027, 6, 20)  # 15 months after surveillance 1's due date
    assert recert.due_on == date(2028, 3, 18)  # finished before expiry (004 §5.8.3)
    assert programme.recert_application_due == date(2027, 12, 19)  # 004 §5.8.1
    # 60 people: Appendix A 3 days → surveillance ⌈1⌉ = 1.0, recertification ⌈2⌉ = 2.0
    assert (s1.planned_days, s2.planned_days, recert.planned_days) == (D("1.0"), D("1.0"), D("2.0"))


def test_planning_the_cycle_again_creates_nothing(staff, programme):
    before = programme.audits.count()
    changed = services.programme_plan_cycle(
        programme=programme,
        actor=staff.planner,
        decision_date=date(2025, 3, 20),
        expires_on=date(2028, 3, 19),
    )
    assert changed == []
    assert programme.audits.count() == before


def test_a_later_decision_date_moves_the_planned_due_dates(staff, programme):
    changed = services.programme_plan_cycle(
        programme=programme,
        actor=staff.planner,
        decision_date=date(2025, 4, 30),
        expires_on=date(2028, 4, 29),
    )
    assert {(a.kind, a.sequence) for a in changed} == {
        (Audit.Kind.SURVEILLANCE, 1),
        (Audit.Kind.SURVEILLANCE, 2),
        (Audit.Kind.RECERTIFICATION, 1),
    }
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    assert s1.due_on == date(2026, 4, 30)
    assert s1.history.first().history_change_reason == "按认证决定日期编排"


def test_the_first_surveillances_actual_date_replans_the_second(staff, programme):
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    services.audit_team_add(audit=s1, actor=staff.planner, user=staff.leader, role="leader")
    plan_ready(s1, staff, date(2025, 6, 2))
    services.audit_start(audit=s1, actor=staff.planner, started_on=date(2025, 6, 2))
    s2 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=2)
    assert s2.due_on == date(2026, 9, 2)  # 15 months after 2025-06-02 (004 §5.4.1.5)


def test_a_late_first_surveillance_keeps_the_second_in_the_next_calendar_year(staff, programme):
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    services.audit_team_add(audit=s1, actor=staff.planner, user=staff.leader, role="leader")
    plan_ready(s1, staff, date(2025, 12, 20))
    services.audit_start(audit=s1, actor=staff.planner, started_on=date(2025, 12, 20))
    s2 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=2)
    assert s2.due_on == date(2026, 12, 31)  # once per calendar year beats 15 months (2027-03-20)


def test_headcount_change_retimes_planned_audits_but_keeps_a_determination(staff, programme):
    s2 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=2)
    services.audit_time_determine(audit=s2, actor=staff.planner, full_time_headcount=60)
    services.programme_headcount_change(
        programme=programme, actor=staff.planner, headcount=200, reason="新开 3 家门店"
    )
    audits = audits_of(programme)
    # 200 people: Appendix A 7 days → surveillance ⌈7/3⌉ = 2.5, recertification ⌈14/3⌉ = 5.0
    assert audits[(Audit.Kind.SURVEILLANCE, 1)].planned_days == D("2.5")
    assert audits[(Audit.Kind.RECERTIFICATION, 1)].planned_days == D("5.0")
    assert audits[(Audit.Kind.SURVEILLANCE, 2)].planned_days == D("1.0")  # determined: kept
    programme.refresh_from_db()
    assert programme.planning_headcount == 200


@pytest.mark.parametrize(
    ("headcount", "reason", "message"),
    [(0, "减员", "至少为 1"), (80, " ", "原因")],
)
def test_headcount_change_is_refused_without_a_headcount_or_a_reason(
    staff, programme, headcount, reason, message
):
    with pytest.raises(RuleViolation, match=message):
        services.programme_headcount_change(
            programme=programme, actor=staff.planner, headcount=headcount, reason=reason
        )


def test_recertification_programme_takes_over_the_planned_recertification_audit(staff, certificate):
    first = certificate.programme
    planned = first.audits.get(kind=Audit.Kind.RECERTIFICATION)
    application = accepted_application(certificate.organization, staff, kind="recertification")
    second = services.programme_create(application=application, actor=staff.planner)
    recert = second.audits.get(kind=Audit.Kind.RECERTIFICATION)
    assert recert.pk == planned.pk  # one audit, its history kept
    assert recert.due_on == date(2028, 3, 18)
    assert not first.audits.filter(kind=Audit.Kind.RECERTIFICATION).exists()
    assert recert.history.first().history_change_reason == "转入再认证周期的审核方案"


def test_after_recertification_the_new_cycle_plans_its_own_surveillance_and_recertification(
    staff, certificate
):
    application = accepted_application(certificate.organization, staff, kind="recertification")
    programme = services.programme_create(application=application, actor=staff.planner)
    audit = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
    run_audit(audit, staff, date(2025, 9, 1), date(2025, 9, 2))
    cert_services.decision_make(
        audit=audit,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 9, 10),
        star_grade="five_star",
    )
    programme.refresh_from_db()
    assert programme.expires_on == date(2031, 3, 19)
    recerts = list(programme.audits.filter(kind=Audit.Kind.RECERTIFICATION).order_by("pk"))
    assert [a.state for a in recerts] == [Audit.State.CLOSED, Audit.State.PLANNED]
    assert recerts[1].due_on == date(2031, 3, 18)
    s1 = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    assert s1.due_on == date(2026, 9, 10)  # 12 months after the recertification decision


def test_cas_scheme_plans_surveillance_9_to_12_months_after_the_previous_audit(staff):
    organization = OrganizationFactory()
    application = app_services.application_create(
        organization=organization,
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
    assert programme.audits.get(kind=Audit.Kind.STAGE2).planned_days == D("5.0")  # CAS 51–80
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 1))
    services.audit_close(audit=review, actor=staff.planner)
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    run_audit(stage2, staff, date(2025, 3, 10), date(2025, 3, 12))
    cert_services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 3, 20),
        star_grade="four_star",
    )
    audits = audits_of(programme)
    assert audits[(Audit.Kind.SURVEILLANCE, 1)].due_on == date(2026, 3, 12)  # 001 §7.1
    assert audits[(Audit.Kind.SURVEILLANCE, 2)].due_on == date(2027, 3, 12)


def test_replan_needs_the_audit_department(staff, programme):
    with pytest.raises(RuleViolation, match="无权.*审核部"):
        services.programme_replan(programme=programme, actor=staff.leader)


# --- extra and short-notice audits ----------------------------------------------------------


def test_special_audit_is_added_with_its_reason_and_kind(staff, programme):
    audit = services.audit_add_special(
        programme=programme,
        actor=staff.planner,
        special_kind=Audit.SpecialKind.COMPLAINT,
        reason="顾客投诉上门维修超时，经查属实",
        due_on=date(2025, 6, 30),
        short_notice=True,
    )
    assert (audit.kind, audit.sequence, audit.short_notice) == (Audit.Kind.SPECIAL, 1, True)
    assert audit.reason == "顾客投诉上门维修超时，经查属实"
    assert audit.due_on == date(2025, 6, 30)
    assert audit.planned_days == D("1.0")
    second = services.audit_add_special(
        programme=programme,
        actor=staff.planner,
        special_kind=Audit.SpecialKind.SCOPE_EXTENSION,
        reason="申请扩大认证范围至照明器材",
    )
    assert second.sequence == 2


def test_special_audit_without_a_reason_is_refused(staff, programme):
    with pytest.raises(RuleViolation, match="004 §5.9"):
        services.audit_add_special(
            programme=programme,
            actor=staff.planner,
            special_kind=Audit.SpecialKind.ACCIDENT,
            reason="  ",
        )


def test_regulator_finding_is_audited_within_30_days_of_the_notice(staff, programme):
    audit = services.audit_add_special(
        programme=programme,
        actor=staff.planner,
        special_kind=Audit.SpecialKind.REGULATOR_FINDING,
        reason="市场监管部门通报：售后服务承诺未履行",
        notified_on=date(2025, 6, 2),
    )
    assert audit.due_on == date(2025, 7, 2)
    with pytest.raises(RuleViolation, match="004 §5.9.2\\(3\\)"):
        services.audit_add_special(
            programme=programme,
            actor=staff.planner,
            special_kind=Audit.SpecialKind.REGULATOR_FINDING,
            reason="市场监管部门通报",
            notified_on=date(2025, 6, 2),
            due_on=date(2025, 7, 3),
        )
    with pytest.raises(RuleViolation, match="通报的日期"):
        services.audit_add_special(
            programme=programme,
            actor=staff.planner,
            special_kind=Audit.SpecialKind.REGULATOR_FINDING,
            reason="市场监管部门通报",
        )


def test_programme_of_a_stage2_not_yet_decided_has_no_surveillance(staff):
    stage2 = completed_stage2(staff=staff)
    kinds = set(stage2.programme.audits.values_list("kind", flat=True))
    assert kinds == {Audit.Kind.DOCUMENT_REVIEW, Audit.Kind.STAGE2}
    assert AuditProgramme.objects.get(pk=stage2.programme_id).decided_on is None
