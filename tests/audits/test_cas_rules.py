"""The CAS scheme's own rules where they differ from ZXRZ (issue #13, seed 001): the surveillance
window 9–12 months after the previous audit (001 §7.1), surveillance results evaluated by a
decision maker (001 §7.5 vs 004 §5.12.6), and a surveillance finding not corrected within
2 months stopping the certificate's use (001 §7.5). Each rule follows the certificate's (the
programme's) scheme; ZXRZ stays as it was.
"""

from datetime import date, timedelta

import pytest
from django.core import mail

from audits import services as audit_services
from audits.models import Audit, Nonconformity
from audits.selectors import cas_surveillance_earliest
from certbody import jobs
from certbody.lifecycle import RuleViolation
from certbody.models import JobMark, Notification
from certificates import jobs as certificate_jobs
from certificates import services as cert_services
from certificates.models import Certificate, CertificateEvent, Decision
from tests.audits.nc_factories import raise_nc
from tests.certificates.cas_factories import cas_certificate
from tests.certificates.factories import issued_certificate, run_audit, score_sheet
from tests.certificates.helpers import skip_pdf_rendering
from tests.reporting.conftest import People, at
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db


@shared_fixture
def people(cb):
    return People()


@pytest.fixture
def staff(people):
    return people.workflow


@shared_fixture
def cas_issued(people, module_monkeypatch):
    """A CAS certificate (stage 2 ended 2025-03-12), its surveillance audits not yet planned."""
    skip_pdf_rendering(module_monkeypatch)
    return cas_certificate(staff=people.workflow)


@shared_fixture
def zxrz_issued(people, module_monkeypatch):
    """A ZXRZ certificate (stage 2 ended 2025-03-12), its surveillance audits not yet planned."""
    skip_pdf_rendering(module_monkeypatch)
    return issued_certificate(staff=people.workflow)


def surveillance(certificate, sequence=1) -> Audit:
    return certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=sequence)


def schedule(audit, staff, start, end=None):
    return audit_services.audit_schedule(
        audit=audit, actor=staff.planner, planned_start=start, planned_end=end or start
    )


# --- 001 §7.1: surveillance 9–12 months after the previous audit ---------------------------------


def test_cas_surveillance_earlier_than_9_months_after_stage_2_is_refused(staff, cas_issued):
    certificate = cas_issued  # stage 2 ended 2025-03-12
    audit = surveillance(certificate)

    with pytest.raises(RuleViolation, match=r"2025-12-12.*001 §7.1"):
        schedule(audit, staff, date(2025, 12, 11))

    audit.refresh_from_db()
    assert audit.planned_start is None


def test_cas_surveillance_exactly_9_months_after_stage_2_is_allowed(staff, cas_issued):
    certificate = cas_issued
    audit = surveillance(certificate)

    schedule(audit, staff, date(2025, 12, 12))

    audit.refresh_from_db()
    assert audit.planned_start == date(2025, 12, 12)
    assert cas_surveillance_earliest(audit) == date(2025, 12, 12)


@pytest.mark.parametrize(
    ("stage2_end", "earliest"),
    [
        (date(2025, 5, 31), date(2026, 2, 28)),  # clamped to the shorter month's end
        (date(2025, 3, 31), date(2025, 12, 31)),
    ],
)
def test_cas_window_counts_calendar_months_clamped_at_month_end(staff, stage2_end, earliest):
    certificate = cas_certificate(
        staff=staff, stage2_end=stage2_end, decided_on=stage2_end + timedelta(days=5)
    )
    audit = surveillance(certificate)

    with pytest.raises(RuleViolation, match="001 §7.1"):
        schedule(audit, staff, earliest - timedelta(days=1))
    schedule(audit, staff, earliest)

    audit.refresh_from_db()
    assert audit.planned_start == earliest


def test_cas_surveillance_cannot_start_before_the_window(staff, cas_issued):
    certificate = cas_issued
    audit = surveillance(certificate)
    schedule(audit, staff, date(2025, 12, 12))

    with pytest.raises(RuleViolation, match="001 §7.1"):
        audit_services.audit_start(audit=audit, actor=staff.planner, started_on=date(2025, 12, 11))

    audit.refresh_from_db()
    assert audit.state == Audit.State.PLANNED


def test_second_cas_surveillance_counts_from_the_end_of_the_first(staff, cas_issued):
    certificate = cas_issued
    first = run_audit(surveillance(certificate), staff, date(2025, 12, 12), date(2025, 12, 31))
    second = surveillance(certificate, 2)

    assert cas_surveillance_earliest(second) == date(2026, 9, 30)  # 12-31 + 9 months
    with pytest.raises(RuleViolation, match=r"2026-09-30.*001 §7.1"):
        schedule(second, staff, date(2026, 9, 29))
    schedule(second, staff, date(2026, 9, 30))
    assert first.actual_end == date(2025, 12, 31)


def test_an_earlier_cas_audit_is_allowed_as_a_special_audit(staff, cas_issued):
    certificate = cas_issued
    special = audit_services.audit_add_special(
        programme=certificate.programme,
        actor=staff.planner,
        special_kind=Audit.SpecialKind.COMPLAINT,
        reason="顾客投诉经查属实（001 §7.2 a）",
    )

    schedule(special, staff, date(2025, 6, 2))

    special.refresh_from_db()
    assert special.planned_start == date(2025, 6, 2)


def test_zxrz_sets_no_earliest_surveillance_day(staff, zxrz_issued):
    certificate = zxrz_issued  # ZXRZ, stage 2 ended 2025-03-12
    audit = surveillance(certificate)

    schedule(audit, staff, date(2025, 6, 2))

    audit.refresh_from_db()
    assert audit.planned_start == date(2025, 6, 2)
    assert cas_surveillance_earliest(audit) is None


# --- 001 §7.5: a decision maker evaluates the surveillance result --------------------------------


def _scored_surveillance(certificate, staff):
    audit = run_audit(
        surveillance(certificate), staff, date(2025, 12, 15), date(2025, 12, 16), grade=None
    )
    score_sheet(audit, "four_star")
    return audit


def conclude(audit, staff):
    return cert_services.surveillance_conclude(
        audit=audit,
        actor=staff.leader,
        concluded_on=date(2025, 12, 20),
        positive=True,
        note="体系运行有效，推荐保持认证",
    )


def test_cas_team_leaders_conclusion_does_not_maintain(staff, cas_issued):
    certificate = cas_issued
    audit = _scored_surveillance(certificate, staff)

    with pytest.raises(RuleViolation, match=r"CAS.*001 §7.5"):
        conclude(audit, staff)

    audit.refresh_from_db()
    assert audit.state == Audit.State.COMPLETED
    assert not audit.decisions.exists()


def test_zxrz_team_leaders_conclusion_maintains(staff, zxrz_issued):
    certificate = zxrz_issued
    audit = _scored_surveillance(certificate, staff)

    decision = conclude(audit, staff)

    assert (decision.outcome, decision.basis) == ("maintain", "team_leader_conclusion")


def test_cas_decision_maker_maintains_after_surveillance(staff, cas_issued):
    certificate = cas_issued
    audit = _scored_surveillance(certificate, staff)

    decision = cert_services.decision_make(
        audit=audit, actor=staff.decider, outcome="maintain", decided_on=date(2025, 12, 20)
    )

    assert (decision.outcome, decision.basis) == ("maintain", Decision.Basis.DECISION_MAKER)
    assert decision.decided_by == staff.decider
    audit.refresh_from_db()
    assert audit.state == Audit.State.CLOSED
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


# --- 001 §7.5: a surveillance finding not corrected within 2 months ------------------------------

S1_END = date(2025, 12, 31)
NC_DUE = date(2026, 2, 28)  # 2 calendar months after 2025-12-31, clamped (001 §7.5)


def _surveillance_nc(certificate, staff):
    audit = run_audit(surveillance(certificate), staff, date(2025, 12, 30), S1_END)
    return raise_nc(audit, staff, raised_on=S1_END)


@pytest.fixture
def cas_nc(people):
    certificate = cas_certificate(staff=people.workflow)
    organization = certificate.organization
    organization.contact_email = "service@client.example.cn"
    organization.save(update_fields=["contact_email"])
    return _surveillance_nc(certificate, people.workflow)


def test_the_cas_surveillance_nc_is_due_2_months_after_the_audit(cas_nc):
    assert cas_nc.due_on == NC_DUE


def test_warnings_come_before_the_deadline_and_nothing_is_suspended_on_it(cas_nc, time_machine):
    certificate = Certificate.objects.get(programme=cas_nc.audit.programme, head__isnull=True)
    for day, threshold in (
        (NC_DUE - timedelta(days=14), "14d"),
        (NC_DUE - timedelta(days=3), "3d"),
    ):
        time_machine.move_to(at(day), tick=False)
        assert jobs.JOBS["nonconformity_reminders"].step() is True
        assert JobMark.objects.filter(
            job="nonconformity_reminders", object_id=cas_nc.pk, threshold=threshold
        ).exists()
        assert certificate_jobs.cas_nonconformity_suspension_step() is False

    time_machine.move_to(at(NC_DUE), tick=False)  # the deadline day itself is still in time
    assert certificate_jobs.cas_nonconformity_suspension_step() is False
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_cas_nc_not_corrected_within_2_months_suspends_the_certificate(
    cas_nc, people, time_machine, django_capture_on_commit_callbacks
):
    certificate = Certificate.objects.get(programme=cas_nc.audit.programme, head__isnull=True)
    day = NC_DUE + timedelta(days=1)
    time_machine.move_to(at(day), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        assert certificate_jobs.cas_nonconformity_suspension_step() is True
    assert certificate_jobs.cas_nonconformity_suspension_step() is False  # once

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    assert (certificate.suspended_from, certificate.suspended_until) == (day, date(2026, 9, 1))
    event = certificate.events.get(kind=CertificateEvent.Kind.SUSPENDED)
    # 001 §9.3.2.1(7) "其他应当暂停认证证书的", CNCA 0199 (a serious NC not corrected in time)
    assert (event.cause, event.reason_code, event.change_code) == (7, "0199", "97_01")
    assert "NC-01" in event.reason and "001 §7.5" in event.reason
    assert certificate.status_reason == "其他应当暂停认证证书的"
    assert event.actor.username == "system"
    mark = JobMark.objects.get(job="cas_nonconformity_suspension", object_id=cas_nc.pk)
    assert not mark.failed and "2026-09-01" in mark.note
    assert Notification.objects.filter(
        recipient=people.decider, kind="cas_nonconformity_suspension"
    ).exists()
    client_mail = next(m for m in mail.outbox if m.to == ["service@client.example.cn"])
    assert certificate.number in client_mail.subject and "001 §7.5" in client_mail.body


def test_a_cas_nc_verified_in_time_suspends_nothing(cas_nc, time_machine):
    Nonconformity.objects.filter(pk=cas_nc.pk).update(
        state=Nonconformity.State.CLOSED, closed_on=NC_DUE
    )
    time_machine.move_to(at(NC_DUE + timedelta(days=1)), tick=False)

    assert certificate_jobs.cas_nonconformity_suspension_step() is False
    certificate = Certificate.objects.get(programme=cas_nc.audit.programme, head__isnull=True)
    assert certificate.status == Certificate.Status.VALID


def test_a_certificate_already_suspended_is_left_alone(cas_nc, staff, time_machine):
    certificate = Certificate.objects.get(programme=cas_nc.audit.programme, head__isnull=True)
    cert_services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=6,  # the client's own request (001 §9.3.2.1(6))
        verified_on=date(2026, 1, 5),
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 4, 5),
    )
    time_machine.move_to(at(NC_DUE + timedelta(days=1)), tick=False)

    assert certificate_jobs.cas_nonconformity_suspension_step() is False
    assert certificate.events.filter(kind=CertificateEvent.Kind.SUSPENDED).count() == 1


def test_zxrz_overdue_nc_is_only_reminded(people, time_machine):
    staff = people.workflow
    certificate = issued_certificate(staff=staff)  # ZXRZ
    nc = _surveillance_nc(certificate, staff)
    assert nc.due_on == date(2026, 3, 31)  # 004 §5.10.3(2): 3 months

    time_machine.move_to(at(nc.due_on + timedelta(days=1)), tick=False)
    assert certificate_jobs.cas_nonconformity_suspension_step() is False
    assert jobs.JOBS["nonconformity_overdue"].step() is True  # 004 §5.10.4: the decision waits

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
