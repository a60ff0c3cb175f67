"""Decisions the rules allow (004 §5.10.4, §5.12; 001 §6.5–§6.6) and the team leader's
surveillance conclusion (004 §5.12.6; 001 §7.5)."""

from datetime import date

import pytest
import time_machine

from audits.models import Audit, AuditTeamMember, Nonconformity
from certbody.lifecycle import RuleViolation
from certificates import services
from certificates.models import Certificate, CertificateDocument, Decision, Proposal
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import (
    accepted_application,
    completed_stage2,
    issued_certificate,
    run_audit,
    score_sheet,
    sign_report,
)
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

DECIDED_ON = date(2025, 3, 20)  # stage 2 of completed_stage2 ends 2025-03-12


# Completed stage 2 audits (ending 2025-03-12) awaiting their decision, built once for the module;
# each test's nonconformities, sheets and decisions are rolled back after it.
@shared_fixture
def stage2(staff):
    """Scored four stars, its audit report signed."""
    return completed_stage2(staff=staff)


@shared_fixture
def unscored_stage2(staff):
    """No score sheet yet."""
    return completed_stage2(staff=staff, grade=None)


@shared_fixture
def three_star_stage2(staff):
    """Scored three stars."""
    return completed_stage2(staff=staff, grade="three_star")


@shared_fixture
def unreported_stage2(staff):
    """Scored, its audit report not signed yet."""
    return completed_stage2(staff=staff, report=False)


def nonconformity(audit, *, severity, state, number=1):
    """An NC written directly (the NC services are not under test here)."""
    return Nonconformity.objects.create(
        audit=audit,
        number=number,
        severity=severity,
        state=state,
        clause="GB/T 27922 5.3",
        description="服务记录不完整",
        evidence="抽查 10 份维修记录，3 份缺少顾客签字",
        raised_by=audit.team.get(role="leader").user,
        raised_on=audit.actual_end or date(2025, 3, 12),
        due_on=date(2025, 6, 12),
        closed_on=date(2025, 3, 18) if state == Nonconformity.State.CLOSED else None,
    )


def grant(audit, staff, **kwargs):
    kwargs.setdefault("decided_on", DECIDED_ON)
    return services.decision_make(audit=audit, actor=staff.decider, outcome="grant", **kwargs)


def assert_nothing_decided(audit):
    audit.refresh_from_db()
    assert audit.state == Audit.State.COMPLETED
    assert not audit.decisions.exists()
    assert not Certificate.objects.filter(programme=audit.programme).exists()


# --- grant and maintain: nonconformities (004 §5.12.2(2), §5.10.4) -------------------------


@pytest.mark.parametrize(
    "state", [Nonconformity.State.OPEN, Nonconformity.State.ANSWERED, Nonconformity.State.REJECTED]
)
def test_grant_is_refused_while_a_major_nonconformity_is_not_verified(staff, stage2, state):
    nonconformity(stage2, severity="major", state=state)

    with pytest.raises(RuleViolation, match="严重不符合项未验证关闭：.*NC-01") as refused:
        grant(stage2, staff)

    assert "004 §5.12.2(2)、§5.10.4" in str(refused.value)
    assert_nothing_decided(stage2)


def test_grant_is_refused_while_a_minor_nonconformity_has_no_accepted_plan(staff, stage2):
    nonconformity(stage2, severity="minor", state=Nonconformity.State.ANSWERED)

    with pytest.raises(RuleViolation, match="轻微不符合项的纠正措施（计划）尚未被接受"):
        grant(stage2, staff)

    assert_nothing_decided(stage2)


def test_grant_is_allowed_with_a_verified_major_and_a_minor_whose_plan_is_accepted(staff, stage2):
    nonconformity(stage2, severity="major", state=Nonconformity.State.CLOSED, number=1)
    nonconformity(stage2, severity="minor", state=Nonconformity.State.PLAN_ACCEPTED, number=2)

    decision = grant(stage2, staff)

    assert decision.certificates.get().status == Certificate.Status.VALID


def test_an_unsettled_nonconformity_of_an_earlier_audit_of_the_programme_blocks_the_grant(
    staff, stage2
):
    review = stage2.programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    nonconformity(review, severity="minor", state=Nonconformity.State.OPEN)

    with pytest.raises(RuleViolation, match="文件审核 NC-01"):
        grant(stage2, staff)


def test_an_unsettled_major_of_the_cycle_being_renewed_blocks_the_recertification(staff):
    from audits.services import programme_create

    certificate = issued_certificate(staff=staff)
    surveillance = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    run_audit(surveillance, staff, date(2025, 8, 1), date(2025, 8, 2))
    nonconformity(surveillance, severity="major", state=Nonconformity.State.OPEN)
    application = accepted_application(certificate.organization, staff, kind="recertification")
    programme = programme_create(application=application, actor=staff.planner)
    recertification = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
    run_audit(recertification, staff, date(2025, 9, 1), date(2025, 9, 2))

    with pytest.raises(RuleViolation, match="严重不符合项未验证关闭：监督审核 NC-01"):
        grant(recertification, staff, decided_on=date(2025, 9, 10))

    assert_nothing_decided(recertification)


def test_maintain_is_refused_while_a_surveillance_nonconformity_is_not_settled(staff):
    certificate = issued_certificate(staff=staff)
    surveillance = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    run_audit(surveillance, staff, date(2026, 3, 2), date(2026, 3, 3))
    nonconformity(surveillance, severity="major", state=Nonconformity.State.ANSWERED)

    with pytest.raises(RuleViolation, match="严重不符合项未验证关闭"):
        services.decision_make(
            audit=surveillance,
            actor=staff.decider,
            outcome="maintain",
            decided_on=date(2026, 3, 10),
        )
    assert not surveillance.decisions.exists()


# --- grant: the score sheet (004 §5.6.5.3; 001 §6.5) ---------------------------------------


def test_grant_without_a_score_sheet_is_refused(staff, unscored_stage2):
    with pytest.raises(RuleViolation, match="服务测评检查表.*004 §5.6.5.3"):
        grant(unscored_stage2, staff)

    assert_nothing_decided(unscored_stage2)


def test_grant_with_a_score_sheet_not_signed_off_is_refused(staff, unscored_stage2):
    score_sheet(unscored_stage2, "four_star", state="draft")

    with pytest.raises(RuleViolation, match="服务测评检查表"):
        grant(unscored_stage2, staff)


@pytest.mark.parametrize(
    "score, deductions, passed_as_stored",
    [
        ("69.99", 0, False),  # below 70 (004 §5.6.5.3 (2))
        ("92.00", 5, False),  # 5 special deductions fail whatever the score
        ("92.00", 5, True),  # even when the stored result wrongly says passed
    ],
)
def test_grant_after_a_failed_evaluation_is_refused(
    staff, unscored_stage2, score, deductions, passed_as_stored
):
    sheet = score_sheet(unscored_stage2, "fail", score=score, deductions=deductions)
    if passed_as_stored:
        type(sheet).objects.filter(pk=sheet.pk).update(passed=True, grade="four_star")

    with pytest.raises(
        RuleViolation, match=f"评价不合格.*得分 {score} 分，特别扣分项 {deductions} 项"
    ):
        grant(unscored_stage2, staff)

    assert_nothing_decided(unscored_stage2)


def test_four_special_deductions_still_pass(staff, unscored_stage2):
    score_sheet(unscored_stage2, "four_star", score="92.00", deductions=4)

    decision = grant(unscored_stage2, staff)

    assert decision.star_grade == "four_star"


def test_grant_at_another_grade_than_the_score_sheet_is_refused(staff, three_star_stage2):
    with pytest.raises(RuleViolation, match="测评结果为三星级，不能批准为五星级.*004 §5.6.5.3"):
        grant(three_star_stage2, staff, star_grade="five_star")

    assert_nothing_decided(three_star_stage2)


def test_the_certificate_is_granted_at_the_score_sheets_grade(staff, three_star_stage2):
    decision = grant(three_star_stage2, staff)  # no grade given: it comes from the sheet

    certificate = decision.certificates.get()
    assert decision.star_grade == certificate.star_grade == "three_star"
    assert decision.basis == Decision.Basis.DECISION_MAKER
    assert decision.decided_by == staff.decider


def test_a_failed_evaluation_can_still_be_refused_in_writing(staff, unscored_stage2):
    score_sheet(unscored_stage2, "fail", score="65.00")

    decision = services.decision_make(
        audit=unscored_stage2,
        actor=staff.decider,
        outcome="refuse",
        decided_on=DECIDED_ON,
        reasons="服务测评得分 65 分，低于 70 分",
    )

    assert decision.documents.get().kind == CertificateDocument.Kind.REFUSAL_NOTICE
    assert not Certificate.objects.exists()


# --- the other refusals, with a passing sheet ----------------------------------------------


def test_a_team_member_cannot_decide_even_with_everything_settled(staff, stage2, decider):
    AuditTeamMember.objects.create(audit=stage2, user=decider, role="auditor")

    with pytest.raises(RuleViolation, match="004 §5.12.1"):
        services.decision_make(audit=stage2, actor=decider, outcome="grant", decided_on=DECIDED_ON)

    assert_nothing_decided(stage2)


def test_an_initial_grant_more_than_six_months_after_stage2_is_refused(staff, stage2):
    with pytest.raises(RuleViolation, match="004 §5.12.3"):
        grant(stage2, staff, decided_on=date(2025, 9, 13))

    assert_nothing_decided(stage2)


def test_a_recertification_grant_after_expiry_is_refused(staff):
    from audits.services import programme_create

    organization = OrganizationFactory()
    issued_certificate(organization, staff)
    with time_machine.travel(date(2027, 11, 1)):  # applied in time (004 §5.8.1)
        application = accepted_application(organization, staff, kind="recertification")
        programme = programme_create(application=application, actor=staff.planner)
    with time_machine.travel(date(2028, 4, 1)):
        audit = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
        run_audit(audit, staff, date(2028, 3, 1), date(2028, 3, 3))

        with pytest.raises(RuleViolation, match="004 §5.8.4"):
            grant(audit, staff, decided_on=date(2028, 3, 20))

    assert_nothing_decided(audit)


# --- surveillance conclusion (004 §5.12.6; 001 §7.5) --------------------------------------

CONCLUDED_ON = date(2026, 3, 5)


@shared_fixture
def certificate(staff):
    """A valid four-star certificate (decided 2025-03-20)."""
    return issued_certificate(staff=staff, grade="four_star")


def surveillance(certificate, staff, *, grade="four_star", **kwargs):
    audit = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    run_audit(audit, staff, date(2026, 3, 2), date(2026, 3, 3), grade=None)
    if grade is not None:
        score_sheet(audit, grade, **kwargs)
    return audit


def conclude(audit, staff, *, positive=True, actor=None):
    return services.surveillance_conclude(
        audit=audit,
        actor=actor or staff.leader,
        concluded_on=CONCLUDED_ON,
        positive=positive,
        note="体系运行有效，推荐保持认证",
    )


@pytest.mark.parametrize("grade", ["four_star", "five_star"])
def test_team_leaders_positive_conclusion_maintains_without_a_separate_decision(
    staff, certificate, grade
):
    audit = surveillance(certificate, staff, grade=grade)

    decision = conclude(audit, staff)

    assert isinstance(decision, Decision)
    assert (decision.outcome, decision.basis) == ("maintain", "team_leader_conclusion")
    assert decision.decided_by == staff.leader
    assert decision.decided_on == CONCLUDED_ON
    assert decision.reasons == "体系运行有效，推荐保持认证"
    audit.refresh_from_db()
    assert audit.state == Audit.State.CLOSED
    notice = certificate.documents.get(kind=CertificateDocument.Kind.MAINTENANCE_NOTICE)
    assert notice.decision == decision
    certificate.refresh_from_db()
    assert certificate.star_grade == "four_star"
    assert not Proposal.objects.exists()


def test_only_the_team_leader_concludes(staff, certificate):
    audit = surveillance(certificate, staff)

    with pytest.raises(RuleViolation, match="审核组长"):
        conclude(audit, staff, actor=staff.decider)

    assert not audit.decisions.exists()


def test_leader_conclusion_needs_a_submitted_score_sheet(staff, certificate):
    audit = surveillance(certificate, staff, grade=None)

    with pytest.raises(RuleViolation, match="服务测评检查表"):
        conclude(audit, staff)


def test_a_major_nonconformity_sends_the_audit_to_a_decision_maker(staff, certificate):
    audit = surveillance(certificate, staff)
    nonconformity(audit, severity="major", state=Nonconformity.State.CLOSED)

    with pytest.raises(RuleViolation, match="监督审核发现严重不符合项：NC-01.*004 §5.12.6"):
        conclude(audit, staff)

    audit.refresh_from_db()
    assert audit.state == Audit.State.COMPLETED
    assert not audit.decisions.exists()
    # The decision maker maintains once the major is verified (004 §5.12.6, §5.12.2).
    decision = services.decision_make(
        audit=audit, actor=staff.decider, outcome="maintain", decided_on=date(2026, 3, 10)
    )
    assert decision.basis == Decision.Basis.DECISION_MAKER
    assert certificate.documents.filter(
        kind=CertificateDocument.Kind.MAINTENANCE_NOTICE, decision=decision
    ).exists()


def test_an_open_suspension_proposal_sends_the_audit_to_a_decision_maker(staff, certificate):
    audit = surveillance(certificate, staff)
    services.proposal_open(
        certificate=certificate,
        actor=staff.decider,
        action=Proposal.Action.SUSPEND,
        cause=7,
        reason="标志误用",
    )

    with pytest.raises(RuleViolation, match="未处理的暂停建议"):
        conclude(audit, staff)


def test_a_pending_change_application_sends_the_audit_to_a_decision_maker(staff, certificate):
    audit = surveillance(certificate, staff)
    accepted_application(certificate.organization, staff, kind="change")

    with pytest.raises(RuleViolation, match="认证信息或认证范围有待处理的变更.*004 §5.12.6"):
        conclude(audit, staff)


def test_a_grade_below_the_certificates_opens_a_reissue_proposal_at_the_grade_achieved(
    staff, certificate
):
    audit = surveillance(certificate, staff, grade="three_star")

    proposal = conclude(audit, staff)

    assert isinstance(proposal, Proposal)
    assert (proposal.action, proposal.star_grade, proposal.cause) == ("reissue", "three_star", None)
    assert proposal.audit == audit
    assert "低于证书星级四星级" in proposal.reason and "001 §7.5" in proposal.reason
    audit.refresh_from_db()
    assert audit.state == Audit.State.COMPLETED
    assert not audit.decisions.exists()
    assert conclude(audit, staff) == proposal  # not proposed twice

    # Reissuing at the grade achieved carries the proposal out (004 附录C.3; 001 §7.5).
    services.certificate_reissue(
        certificate=certificate,
        actor=staff.decider,
        reason="99",
        reissued_on=date(2026, 3, 12),
        changes={"star_grade": "three_star"},
    )
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.ACCEPTED


def test_a_failed_evaluation_opens_a_suspension_proposal(staff, certificate):
    audit = surveillance(certificate, staff, grade="fail", score="66.00")

    proposal = conclude(audit, staff)

    assert (proposal.action, proposal.cause) == ("suspend", 1)
    assert "服务测评评价不合格" in proposal.reason and "001 §7.5" in proposal.reason
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID  # proposed, not carried out
    assert not audit.decisions.exists()


def test_a_negative_conclusion_refers_the_audit_without_maintaining(staff, certificate):
    audit = surveillance(certificate, staff)

    assert conclude(audit, staff, positive=False) is None

    audit.refresh_from_db()
    assert audit.state == Audit.State.COMPLETED
    assert not Decision.objects.filter(audit=audit).exists()


def test_a_reissue_proposal_needs_a_grade(staff, certificate):
    with pytest.raises(RuleViolation, match="星级"):
        services.proposal_open(
            certificate=certificate,
            actor=staff.decider,
            action=Proposal.Action.REISSUE,
            cause=None,
            reason="降级",
        )


def test_the_leader_concludes_from_the_decisions_desk(client, staff, certificate):
    audit = surveillance(certificate, staff)
    client.force_login(staff.leader)

    response = client.post(
        f"/staff/decisions/{audit.pk}/conclude/",
        {"concluded_on": CONCLUDED_ON.isoformat(), "positive": "yes", "note": "保持"},
    )

    assert response.status_code == 302
    decision = audit.decisions.get()
    assert (decision.basis, decision.decided_by) == ("team_leader_conclusion", staff.leader)


@pytest.mark.parametrize(
    ("grade", "score", "action"),
    [("three_star", "85.00", "reissue"), ("fail", "66.00", "suspend")],
)
def test_a_decision_makers_maintain_still_proposes_what_the_evaluation_calls_for(
    staff, certificate, grade, score, action
):
    """Without the leader's conclusion the proposal follows the maintain decision (001 §7.5)."""
    audit = surveillance(certificate, staff, grade=grade, score=score)

    services.decision_make(
        audit=audit, actor=staff.decider, outcome="maintain", decided_on=date(2026, 3, 10)
    )

    proposal = Proposal.objects.get(certificate=certificate, state=Proposal.State.OPEN)
    assert proposal.action == action
    assert proposal.audit == audit


def test_a_decision_makers_maintain_at_the_certificates_grade_proposes_nothing(staff, certificate):
    audit = surveillance(certificate, staff, grade="four_star")

    services.decision_make(
        audit=audit, actor=staff.decider, outcome="maintain", decided_on=date(2026, 3, 10)
    )

    assert not Proposal.objects.exists()


# --- the gates of issue 13: signed report, full-time decision maker, late NCs ---------------


@pytest.mark.usefixtures("english")  # the gate messages, as English readers see them
@pytest.mark.parametrize("outcome", ["grant", "refuse"])
def test_no_decision_without_the_signed_audit_report(staff, unreported_stage2, outcome):
    with pytest.raises(RuleViolation, match="audit report signed.*004 §5.12.1"):
        services.decision_make(
            audit=unreported_stage2,
            actor=staff.decider,
            outcome=outcome,
            decided_on=DECIDED_ON,
            reasons="不予认证的理由",
        )
    assert_nothing_decided(unreported_stage2)


@pytest.mark.usefixtures("english")  # the gate messages, as English readers see them
def test_a_maintain_decision_needs_the_signed_audit_report_too(staff, monkeypatch):
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    certificate = issued_certificate(staff=staff)
    surveillance = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    run_audit(surveillance, staff, date(2025, 12, 1), date(2025, 12, 2), report=False)
    with pytest.raises(RuleViolation, match="audit report signed.*004 §5.12.1"):
        services.decision_make(
            audit=surveillance,
            actor=staff.decider,
            outcome="maintain",
            decided_on=date(2025, 12, 5),
        )
    sign_report(surveillance, date(2025, 12, 5))
    decision = services.decision_make(
        audit=surveillance, actor=staff.decider, outcome="maintain", decided_on=date(2025, 12, 5)
    )
    assert decision.outcome == "maintain"


@pytest.mark.parametrize(("signed_on", "allowed"), [(DECIDED_ON, True), (date(2025, 3, 21), False)])
def test_the_report_is_signed_on_or_before_the_decision_day(
    staff, unreported_stage2, monkeypatch, signed_on, allowed
):
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    sign_report(unreported_stage2, signed_on)
    if allowed:
        assert grant(unreported_stage2, staff).outcome == "grant"
    else:
        with pytest.raises(RuleViolation, match="004 §5.12.1"):
            grant(unreported_stage2, staff)
        assert_nothing_decided(unreported_stage2)


@pytest.mark.usefixtures("english")  # the gate messages, as English readers see them
def test_a_decision_maker_without_an_auditor_record_is_refused(staff, stage2, decider):
    with pytest.raises(RuleViolation, match="full-time.*004 §5.12.1; 004 §12.1.3"):
        services.decision_make(audit=stage2, actor=decider, outcome="grant", decided_on=DECIDED_ON)
    assert_nothing_decided(stage2)


@pytest.mark.usefixtures("english")  # the gate messages, as English readers see them
@pytest.mark.parametrize(("full_time", "allowed"), [(False, False), (True, True)])
def test_only_a_full_time_decision_maker_decides(
    staff, stage2, decider, monkeypatch, full_time, allowed
):
    from tests.audits.factories import auditor_profile
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    auditor_profile(decider, actor=staff.planner, codes=(), full_time=full_time)
    if allowed:
        decision = services.decision_make(
            audit=stage2, actor=decider, outcome="grant", decided_on=DECIDED_ON
        )
        assert decision.decided_by == decider
    else:
        with pytest.raises(RuleViolation, match="full-time.*004 §12.1.3"):
            services.decision_make(
                audit=stage2, actor=decider, outcome="grant", decided_on=DECIDED_ON
            )
        assert_nothing_decided(stage2)


@pytest.mark.usefixtures("english")  # the gate messages, as English readers see them
@pytest.mark.parametrize(
    ("closed_on", "allowed"), [(date(2025, 6, 12), True), (date(2025, 6, 13), False)]
)
def test_a_nonconformity_verified_after_its_due_date_bars_the_grant(
    staff, stage2, monkeypatch, closed_on, allowed
):
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    nc = nonconformity(stage2, severity="major", state=Nonconformity.State.CLOSED)
    Nonconformity.objects.filter(pk=nc.pk).update(closed_on=closed_on)  # due 2025-06-12
    decided_on = date(2025, 6, 20)
    if allowed:
        assert grant(stage2, staff, decided_on=decided_on).outcome == "grant"
    else:
        with pytest.raises(RuleViolation, match="NC-01 \\(2025-06-12\\).*004 §5.10.4"):
            grant(stage2, staff, decided_on=decided_on)
        assert_nothing_decided(stage2)


@pytest.mark.usefixtures("english")  # the gate messages, as English readers see them
def test_a_late_nonconformity_does_not_bar_a_refusal(staff, stage2, monkeypatch):
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    nc = nonconformity(stage2, severity="major", state=Nonconformity.State.CLOSED)
    Nonconformity.objects.filter(pk=nc.pk).update(closed_on=date(2025, 6, 13))
    decision = services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="refuse",
        decided_on=date(2025, 6, 20),
        reasons="严重不符合项未在规定期限内完成纠正（004 §5.10.4）",
    )
    assert decision.outcome == "refuse"
