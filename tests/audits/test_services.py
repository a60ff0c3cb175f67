"""Programme creation and every audit transition, allowed and refused."""

from datetime import date
from decimal import Decimal

import pytest

from audits import services
from audits.models import Audit, AuditProgramme
from certbody.lifecycle import RuleViolation
from tests.audits.factories import auditor_profile
from tests.certificates.factories import accepted_application, run_audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(staff):
    return services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )


def test_programme_plans_document_review_and_stage2_with_appendix_a_time(programme):
    audits = {a.kind: a for a in programme.audits.all()}
    assert set(audits) == {Audit.Kind.DOCUMENT_REVIEW, Audit.Kind.STAGE2}
    # headcount 60 → ZXRZ Appendix A band 46–65 = 3 days
    assert audits[Audit.Kind.STAGE2].planned_days == Decimal("3.0")
    assert programme.cycle == 0


def test_programme_needs_a_signed_contract(staff):
    application = accepted_application(staff=staff, sign=False)
    with pytest.raises(RuleViolation, match="004 §5.3"):
        services.programme_create(application=application, actor=staff.planner)


def test_programme_only_once_per_application(staff, programme):
    with pytest.raises(RuleViolation, match="已建立"):
        services.programme_create(application=programme.application, actor=staff.planner)


def test_programme_creation_needs_the_audit_department(staff):
    application = accepted_application(staff=staff)
    with pytest.raises(RuleViolation, match="无权.*审核部"):
        services.programme_create(application=application, actor=staff.market)
    assert not AuditProgramme.objects.exists()


def test_stage2_cannot_start_before_document_review_completes(staff, programme):
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    services.audit_team_add(audit=stage2, actor=staff.planner, user=staff.leader, role="leader")
    with pytest.raises(RuleViolation, match="001 §6.3"):
        services.audit_start(audit=stage2, actor=staff.planner, started_on=date(2025, 3, 1))


def test_audit_needs_a_team_leader_to_start(staff, programme):
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    with pytest.raises(RuleViolation, match="组长"):
        services.audit_start(audit=review, actor=staff.planner, started_on=date(2025, 2, 1))


def test_only_one_leader_and_no_duplicate_member(staff, programme, auditor):
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    services.audit_team_add(audit=review, actor=staff.planner, user=staff.leader, role="leader")
    with pytest.raises(RuleViolation, match="一名组长"):
        services.audit_team_add(audit=review, actor=staff.planner, user=auditor, role="leader")
    with pytest.raises(RuleViolation, match="已在"):
        services.audit_team_add(
            audit=review, actor=staff.planner, user=staff.leader, role="auditor"
        )


def test_non_auditor_cannot_join_a_team(staff, programme):
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    with pytest.raises(RuleViolation, match="审核员"):
        services.audit_team_add(
            audit=review, actor=staff.planner, user=staff.market, role="auditor"
        )


def test_full_audit_lifecycle_and_refusals(staff, programme):
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    with pytest.raises(RuleViolation, match="当前状态"):
        services.audit_close(audit=review, actor=staff.planner)
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 2))
    assert review.state == Audit.State.COMPLETED
    with pytest.raises(RuleViolation, match="当前状态"):
        services.audit_start(audit=review, actor=staff.planner, started_on=date(2025, 2, 3))
    with pytest.raises(RuleViolation, match="当前状态"):
        services.audit_terminate(audit=review, actor=staff.planner, reason="x")
    services.audit_close(audit=review, actor=staff.planner)
    review.refresh_from_db()
    assert review.state == Audit.State.CLOSED
    assert review.history.first().history_user == staff.planner


def test_only_the_team_leader_completes(staff, programme, auditor):
    auditor_profile(auditor, actor=staff.planner)
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    services.audit_team_add(audit=review, actor=staff.planner, user=staff.leader, role="leader")
    services.audit_team_add(audit=review, actor=staff.planner, user=auditor, role="auditor")
    services.audit_start(audit=review, actor=staff.planner, started_on=date(2025, 2, 1))
    with pytest.raises(RuleViolation, match="组长"):
        services.audit_complete(
            audit=review, actor=auditor, ended_on=date(2025, 2, 1), recommendation_positive=True
        )


def test_end_before_start_is_refused(staff, programme):
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    services.audit_team_add(audit=review, actor=staff.planner, user=staff.leader, role="leader")
    services.audit_start(audit=review, actor=staff.planner, started_on=date(2025, 2, 5))
    with pytest.raises(RuleViolation, match="早于"):
        services.audit_complete(
            audit=review,
            actor=staff.leader,
            ended_on=date(2025, 2, 4),
            recommendation_positive=True,
        )


def test_terminate_needs_a_reason_and_ends_the_audit(staff, programme):
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    with pytest.raises(RuleViolation, match="004 §5.5.3"):
        services.audit_terminate(audit=stage2, actor=staff.planner, reason="")
    services.audit_terminate(audit=stage2, actor=staff.planner, reason="受审核方不配合")
    stage2.refresh_from_db()
    assert stage2.state == Audit.State.TERMINATED


def test_schedule_validates_dates_and_half_days(staff, programme):
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    with pytest.raises(RuleViolation, match="半天"):
        services.audit_schedule(
            audit=stage2,
            actor=staff.planner,
            planned_start=date(2025, 3, 1),
            planned_end=date(2025, 3, 2),
            planned_days=Decimal("2.3"),
        )
    with pytest.raises(RuleViolation, match="早于"):
        services.audit_schedule(
            audit=stage2,
            actor=staff.planner,
            planned_start=date(2025, 3, 2),
            planned_end=date(2025, 3, 1),
            planned_days=Decimal("2"),
        )
    services.audit_schedule(
        audit=stage2,
        actor=staff.planner,
        planned_start=date(2025, 3, 1),
        planned_end=date(2025, 3, 2),
        planned_days=Decimal("2.5"),
    )
    stage2.refresh_from_db()
    assert stage2.planned_days == Decimal("2.5")
