"""Decisions (impartiality and the other refusals), issue and every status transition."""

from datetime import date, timedelta
from unittest import mock

import pytest
import time_machine

from audits.models import Audit, AuditTeamMember
from certbody.lifecycle import RuleViolation
from certificates import services
from certificates.models import Certificate, CertificateEvent, CertificateSequence
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.certificates.factories import completed_stage2, issued_certificate
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db


@shared_fixture
def certificate(staff):
    """An issued certificate, for the status changes each test makes (rolled back after it)."""
    return issued_certificate(staff=staff)


@shared_fixture
def stage2(staff):
    """A completed stage 2 (ends 2025-03-12), no decision on it yet."""
    return completed_stage2(staff=staff)


def test_a_team_member_cannot_decide(staff, decider, stage2):
    # Put the decision maker on the team as an auditor too: impartiality forbids the decision.
    decider.groups.add(*staff.leader.groups.all())
    AuditTeamMember.objects.create(audit=stage2, user=decider, role="auditor")
    with pytest.raises(RuleViolation, match="004 §5.12.1"):
        services.decision_make(
            audit=stage2,
            actor=decider,
            outcome="grant",
            decided_on=date(2025, 3, 20),
            star_grade="four_star",
        )
    assert not stage2.decisions.exists()


def test_a_document_review_team_member_cannot_decide_on_stage2(staff, decider, stage2):
    review = stage2.programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    AuditTeamMember.objects.create(audit=review, user=decider, role="expert")
    with pytest.raises(RuleViolation, match="审核组成员"):
        services.decision_make(
            audit=stage2,
            actor=decider,
            outcome="grant",
            decided_on=date(2025, 3, 20),
            star_grade="four_star",
        )


def test_a_decision_maker_with_a_declared_interest_cannot_decide(staff, stage2):
    from audits.services import conflict_declare
    from tests.audits.factories import auditor_profile

    profile = auditor_profile(staff.decider)
    conflict_declare(
        auditor=profile,
        actor=staff.planner,
        organization=stage2.programme.organization,
        has_interest=True,
        declared_on=date(2025, 1, 2),
        description="配偶在该公司任售后服务部经理",
    )
    with pytest.raises(RuleViolation, match="004 §4.3"):
        services.decision_make(
            audit=stage2,
            actor=staff.decider,
            outcome="grant",
            decided_on=date(2025, 3, 20),
            star_grade="four_star",
        )
    assert not stage2.decisions.exists()


def test_only_a_decision_maker_decides(staff, stage2):
    with pytest.raises(RuleViolation, match="认证决定人员"):
        services.decision_make(
            audit=stage2,
            actor=staff.planner,
            outcome="grant",
            decided_on=date(2025, 3, 20),
            star_grade="four_star",
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"outcome": "grant", "decided_on": date(2025, 3, 20), "star_grade": "five_star"},
            "004 §5.6.5.3",
        ),
        ({"outcome": "maintain", "decided_on": date(2025, 3, 20)}, "不能作出"),
        (
            {"outcome": "grant", "decided_on": date(2025, 9, 13)},
            "004 §5.12.3",
        ),
        (
            {"outcome": "grant", "decided_on": date(2025, 3, 11)},
            "早于审核结束",
        ),
        (
            {"outcome": "grant", "decided_on": date(2099, 1, 1)},
            "晚于今天",
        ),
    ],
)
def test_refused_decisions(staff, kwargs, message, stage2):
    with pytest.raises(RuleViolation, match=message):
        services.decision_make(audit=stage2, actor=staff.decider, **kwargs)
    stage2.refresh_from_db()
    assert stage2.state == Audit.State.COMPLETED
    assert not Certificate.objects.exists()


def test_decision_on_the_last_day_of_six_months_is_allowed(staff, stage2):
    services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 9, 12),
    )
    assert Certificate.objects.get().issued_on == date(2025, 9, 12)


def test_refusal_closes_the_audit_without_certificate(staff, stage2):
    services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="refuse",
        decided_on=date(2025, 3, 20),
        reasons="x",
    )
    stage2.refresh_from_db()
    assert stage2.state == Audit.State.CLOSED
    assert not Certificate.objects.exists()


def test_grant_issues_numbered_certificate_plans_surveillance_and_records_the_event(staff):
    certificate = issued_certificate(staff=staff)
    assert certificate.number == "012325FW0001R0C"
    assert certificate.issued_on == date(2025, 3, 20)
    assert certificate.expires_on == date(2028, 3, 19)
    assert certificate.star_grade == "four_star"
    event = certificate.events.get()
    assert (event.kind, event.status_code) == (CertificateEvent.Kind.ISSUED, "01")
    assert certificate.documents.get(kind="certificate").sha256
    surveillances = certificate.programme.audits.filter(kind=Audit.Kind.SURVEILLANCE).order_by(
        "sequence"
    )
    assert [a.due_on for a in surveillances] == [date(2026, 3, 20), date(2027, 6, 20)]
    recert = certificate.programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
    assert recert.due_on == date(2028, 3, 18)


def test_sequence_continues_and_is_per_year(staff):
    first = issued_certificate(staff=staff)
    second = issued_certificate(staff=staff)
    assert (first.sequence, second.sequence) == (1, 2)
    assert second.number == "012325FW0002R0C"
    assert CertificateSequence.objects.get(year=2025).last == 2


def test_multi_site_client_gets_sub_certificates_that_follow_the_head(staff):
    organization = OrganizationFactory()
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    sites = [SiteFactory(organization=organization) for _ in range(2)]
    head = issued_certificate(organization, staff)
    subs = list(head.sub_certificates.order_by("number"))
    assert [s.number for s in subs] == [head.number + "-1", head.number + "-2"]
    assert [s.site for s in subs] == sites
    services.certificate_suspend(
        certificate=head,
        actor=staff.decider,
        cause=11,
        verified_on=date(2025, 6, 1),
        starts_on=date(2025, 6, 1),
        ends_on=date(2025, 11, 30),
    )
    assert set(Certificate.objects.values_list("status", flat=True)) == {"suspended"}
    assert CertificateEvent.objects.filter(kind="suspended").count() == 3
    with pytest.raises(RuleViolation, match="主证书"):
        services.certificate_restore(
            certificate=subs[0], actor=staff.decider, restored_on=date(2025, 7, 1), evidence="x"
        )


def test_suspension_longer_than_six_months_is_refused(staff, certificate):
    with pytest.raises(RuleViolation, match="6 个月"):
        services.certificate_suspend(
            certificate=certificate,
            actor=staff.decider,
            cause=1,
            verified_on=date(2025, 6, 1),
            starts_on=date(2025, 6, 1),
            ends_on=date(2025, 12, 2),
        )
    certificate.refresh_from_db()
    assert certificate.status == "valid"
    assert not certificate.events.filter(kind="suspended").exists()


def test_suspension_with_unknown_reason_is_refused(staff, certificate):
    with pytest.raises(RuleViolation, match="未知的暂停原因"):
        services.certificate_suspend(
            certificate=certificate,
            actor=staff.decider,
            cause=13,
            verified_on=date(2025, 6, 1),
            starts_on=date(2025, 6, 1),
            ends_on=date(2025, 7, 1),
        )


def test_suspend_restore_withdraw_with_codes(staff, certificate):
    services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=1,
        verified_on=date(2025, 6, 1),
        starts_on=date(2025, 6, 1),
        ends_on=date(2025, 12, 1),
    )
    certificate.refresh_from_db()
    assert (certificate.status, certificate.status_code) == ("suspended", "02")
    assert (certificate.suspended_from, certificate.suspended_until) == (
        date(2025, 6, 1),
        date(2025, 12, 1),
    )
    with pytest.raises(RuleViolation, match="证据"):
        services.certificate_restore(
            certificate=certificate, actor=staff.decider, restored_on=date(2025, 7, 1), evidence=" "
        )
    services.certificate_restore(
        certificate=certificate,
        actor=staff.decider,
        restored_on=date(2025, 7, 1),
        evidence="整改验证报告",
    )
    certificate.refresh_from_db()
    assert certificate.status == "valid" and certificate.suspended_from is None
    with pytest.raises(RuleViolation, match="当前状态"):
        services.certificate_restore(
            certificate=certificate, actor=staff.decider, restored_on=date(2025, 7, 2), evidence="x"
        )
    services.certificate_withdraw(
        certificate=certificate,
        actor=staff.decider,
        cause=8,
        verified_on=date(2025, 8, 1),
        withdrawn_on=date(2025, 8, 1),
    )
    certificate.refresh_from_db()
    assert (certificate.status, certificate.status_code) == ("withdrawn", "03")
    codes = list(
        certificate.events.values_list("kind", "status_code", "change_code", "reason_code")
    )
    assert codes == [
        ("issued", "01", "", ""),
        ("suspended", "02", "97_01", "0111"),
        ("restored", "01", "97_02", ""),
        ("withdrawn", "03", "97_03", "0116"),
    ]
    for transition in ("certificate_suspend", "certificate_cancel", "certificate_withdraw"):
        with pytest.raises(RuleViolation, match="当前状态"):
            kwargs = {
                "certificate_suspend": {
                    "cause": 1,
                    "verified_on": date(2025, 9, 1),
                    "starts_on": date(2025, 9, 1),
                    "ends_on": date(2025, 10, 1),
                },
                "certificate_cancel": {"cancelled_on": date(2025, 9, 1)},
                "certificate_withdraw": {
                    "cause": 8,
                    "verified_on": date(2025, 9, 1),
                    "withdrawn_on": date(2025, 9, 1),
                },
            }[transition]
            getattr(services, transition)(certificate=certificate, actor=staff.decider, **kwargs)


def test_withdrawn_number_is_never_reused(staff):
    first = issued_certificate(staff=staff)
    services.certificate_withdraw(
        certificate=first,
        actor=staff.decider,
        cause=8,
        verified_on=date(2025, 4, 1),
        withdrawn_on=date(2025, 4, 1),
    )
    second = issued_certificate(staff=staff)
    assert second.number != first.number
    assert second.sequence == first.sequence + 1


def test_cancel_at_the_clients_request(staff, certificate):
    services.certificate_cancel(
        certificate=certificate, actor=staff.decider, cancelled_on=date(2025, 5, 1)
    )
    certificate.refresh_from_db()
    assert (certificate.status, certificate.status_code) == ("cancelled", "04")
    assert certificate.events.last().reason_code == "0204"


def test_expire_only_after_validity(staff, certificate):
    with pytest.raises(RuleViolation, match="尚未到期"):
        services.certificate_expire(certificate=certificate, actor=staff.decider)
    services.certificate_expire(
        certificate=certificate,
        actor=staff.decider,
        today=certificate.expires_on + timedelta(days=1),
    )
    certificate.refresh_from_db()
    assert (certificate.status, certificate.status_code) == ("expired", "05")


def test_status_change_needs_an_authorised_role(staff, certificate):
    with pytest.raises(RuleViolation, match="无权"):
        services.certificate_cancel(
            certificate=certificate, actor=staff.market, cancelled_on=date(2025, 5, 1)
        )


def test_recertification_supersedes_and_numbers_the_next_cycle(staff):
    from audits.services import programme_create
    from tests.certificates.factories import accepted_application, run_audit

    organization = OrganizationFactory()
    first = issued_certificate(organization, staff)
    # Applied in time (by 2027-12-19, 004 §5.8.1), else it would be planned as initial.
    with time_machine.travel(date(2027, 11, 1)):
        application = accepted_application(organization, staff, kind="recertification")
        programme = programme_create(application=application, actor=staff.planner)
    with time_machine.travel(date(2028, 1, 10)):
        assert programme.cycle == 1
        audit = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
        run_audit(audit, staff, date(2027, 12, 1), date(2027, 12, 3))
        services.decision_make(
            audit=audit,
            actor=staff.decider,
            outcome="grant",
            decided_on=date(2028, 1, 5),
            star_grade="five_star",
        )
    second = Certificate.objects.get(programme=programme)
    first.refresh_from_db()
    assert second.number == "012328FW0001R1C"
    assert second.expires_on == date(2031, 3, 19)
    assert first.status == "superseded"
    assert first.events.last().reason_code == "0120"


def test_recertification_decision_after_expiry_is_refused(staff):
    from audits.services import programme_create
    from tests.certificates.factories import accepted_application, run_audit

    organization = OrganizationFactory()
    issued_certificate(organization, staff)
    with time_machine.travel(date(2027, 11, 1)):  # applied in time (004 §5.8.1)
        application = accepted_application(organization, staff, kind="recertification")
        programme = programme_create(application=application, actor=staff.planner)
    with time_machine.travel(date(2028, 4, 1)):
        audit = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
        run_audit(audit, staff, date(2028, 3, 1), date(2028, 3, 3))
        with pytest.raises(RuleViolation, match="004 §5.8.4"):
            services.decision_make(
                audit=audit,
                actor=staff.decider,
                outcome="grant",
                decided_on=date(2028, 3, 20),
            )


def test_initial_validity_runs_from_the_decision_even_when_issued_later(staff, stage2):
    with mock.patch("certificates.services.decisions.certificate_issue"):
        decision = services.decision_make(
            audit=stage2,
            actor=staff.decider,
            outcome="grant",
            decided_on=date(2025, 3, 20),
        )
    certificate = services.certificate_issue(
        decision=decision, actor=staff.decider, issued_on=date(2025, 4, 2)
    )
    assert certificate.issued_on == date(2025, 4, 2)
    assert certificate.expires_on == date(2028, 3, 19)
