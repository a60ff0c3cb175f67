"""A regulator's written finding the client failed to report to the CB suspends the certificate
at once, besides the short-notice audit (004 §5.9.2(3) note; 004 §5.3.3(4), §7.2.1(8))."""

from datetime import date, timedelta

import pytest

from audits.models import Audit, AuditProgramme
from certbody.lifecycle import RuleViolation
from certificates import services
from certificates.models import (
    Certificate,
    CertificateDocument,
    CertificateEvent,
    RegulatoryEvent,
)
from tests.certificates.factories import issued_certificate
from tests.certificates.helpers import skip_pdf_rendering
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def certificate(staff, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return issued_certificate(staff=staff)  # issued 2025-03-20, expires 2028-03-19


def finding(certificate, actor, **kwargs):
    args = {
        "certificate": certificate,
        "actor": actor,
        "kind": RegulatoryEvent.Kind.REGULATOR_FINDING,
        "occurred_on": date(2025, 5, 10),
        "notified_on": date(2025, 5, 12),
        "source": "北京市朝阳区市场监督管理局",
        "description": "售后服务承诺未兑现，书面责令整改",
        "written_finding": True,
    }
    args.update(kwargs)
    return services.regulatory_event_record(**args)


def test_written_finding_the_client_reported_adds_the_audit_but_no_suspension(certificate, staff):
    event = finding(certificate, staff.planner)

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    assert not event.client_failed_to_report
    assert event.special_audit.short_notice
    assert not certificate.events.filter(kind=CertificateEvent.Kind.SUSPENDED).exists()
    assert not CertificateDocument.objects.filter(
        kind=CertificateDocument.Kind.SUSPENSION_NOTICE
    ).exists()


def test_unreported_written_finding_suspends_at_once_with_the_contract_cause(certificate, staff):
    event = finding(
        certificate,
        staff.planner,
        client_failed_to_report=True,
        failure_learned_on=date(2025, 6, 20),
    )

    certificate.refresh_from_db()
    assert event.client_failed_to_report
    assert (certificate.status, certificate.status_code) == (Certificate.Status.SUSPENDED, "02")
    # at once: from the day the CB learned of it, for the longest period (004 §7.2.2)
    assert (certificate.suspended_from, certificate.suspended_until) == (
        date(2025, 6, 20),
        date(2025, 12, 20),
    )
    suspended = certificate.events.get(kind=CertificateEvent.Kind.SUSPENDED)
    assert (suspended.change_code, suspended.status_code, suspended.cause) == ("97_01", "02", 8)
    assert suspended.reason_code == "0112"
    assert "004 §5.9.2(3) 注" in suspended.reason and "未及时" in suspended.reason
    assert suspended.actor == staff.planner
    assert certificate.status_reason == "不承担、履行认证合同约定的责任和义务的"
    # the suspension notice, as for every suspension (004 §7.2.3)
    assert CertificateDocument.objects.filter(
        certificate=certificate, kind=CertificateDocument.Kind.SUSPENSION_NOTICE
    ).exists()
    # and the short-notice audit within 30 days of the notice as well
    audit = event.special_audit
    assert (audit.special_kind, audit.short_notice) == (Audit.SpecialKind.REGULATOR_FINDING, True)
    assert audit.due_on == date(2025, 5, 12) + timedelta(days=30)


def test_failure_learned_on_the_notice_day_is_allowed(certificate, staff):
    finding(
        certificate,
        staff.planner,
        client_failed_to_report=True,
        failure_learned_on=date(2025, 5, 12),
    )

    certificate.refresh_from_db()
    assert certificate.suspended_from == date(2025, 5, 12)


def test_failure_learned_before_the_notice_is_refused(certificate, staff):
    with pytest.raises(RuleViolation) as refused:
        finding(
            certificate,
            staff.planner,
            client_failed_to_report=True,
            failure_learned_on=date(2025, 5, 11),
        )

    assert "004 §5.9.2(3)" in str(refused.value)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    assert not RegulatoryEvent.objects.exists()


def test_failure_to_report_without_a_written_finding_is_refused(certificate, staff):
    with pytest.raises(RuleViolation) as refused:
        finding(
            certificate,
            staff.planner,
            written_finding=False,
            client_failed_to_report=True,
            failure_learned_on=date(2025, 6, 20),
        )

    assert "004 §5.9.2(3)" in str(refused.value)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_a_certificate_suspended_already_stays_suspended_once(certificate, staff):
    services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=6,
        verified_on=date(2025, 6, 3),
        starts_on=date(2025, 6, 3),
        ends_on=date(2025, 9, 3),
    )

    event = finding(
        certificate,
        staff.planner,
        client_failed_to_report=True,
        failure_learned_on=date(2025, 6, 20),
    )

    certificate.refresh_from_db()
    assert event.client_failed_to_report and event.special_audit is not None
    assert certificate.suspended_until == date(2025, 9, 3)
    assert certificate.events.filter(kind=CertificateEvent.Kind.SUSPENDED).count() == 1


def test_under_cas_the_cause_is_the_contract_duty_of_001(certificate, staff):
    # 001 §6.1.7(3)② (the duty to report), §9.3.2.1(2) (contract obligations not met)
    AuditProgramme.objects.filter(pk=certificate.programme_id).update(scheme="CAS")
    certificate = Certificate.objects.get(pk=certificate.pk)

    finding(
        certificate,
        staff.planner,
        client_failed_to_report=True,
        failure_learned_on=date(2025, 6, 20),
    )

    suspended = certificate.events.get(kind=CertificateEvent.Kind.SUSPENDED)
    assert suspended.cause == 2
