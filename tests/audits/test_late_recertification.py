"""A recertification application received later than 3 months before expiry is handled as an
initial certification (004 §5.8.1; 001 §8.1): document review and stage 2 at the initial audit
time in the new programme, and the reason stored and shown."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from applications import services as app_services
from applications.models import ApplicationReview
from audits import rules, services
from audits.models import Audit
from certbody.lifecycle import RuleViolation
from tests.certificates.factories import Staff, accepted_application, issued_certificate
from tests.certificates.helpers import skip_pdf_rendering

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("expires_on", "received_on", "late"),
    [
        (date(2028, 3, 19), date(2027, 12, 19), False),  # exactly 3 months before: on time
        (date(2028, 3, 19), date(2027, 12, 20), True),  # one day later: late
        (date(2028, 3, 19), date(2027, 6, 1), False),
        (date(2028, 5, 31), date(2028, 2, 29), False),  # month end, leap year: 05-31 → 02-29
        (date(2028, 5, 31), date(2028, 3, 1), True),
        (date(2027, 5, 31), date(2027, 2, 28), False),  # month end, common year: → 02-28
        (date(2027, 5, 31), date(2027, 3, 1), True),
        (date(2026, 11, 30), date(2026, 8, 30), False),  # 30th to the 30th
        (date(2026, 11, 30), date(2026, 8, 31), True),
        (date(2027, 3, 31), date(2026, 12, 31), False),  # across the year
        (date(2027, 3, 31), date(2027, 1, 1), True),
        (date(2028, 3, 19), date(2028, 3, 19), True),  # on the expiry day itself
    ],
)
def test_recertification_is_late_after_the_day_three_months_before_expiry(
    expires_on, received_on, late
):
    assert rules.recertification_is_late(received_on, expires_on) is late


def test_the_rule_takes_local_dates_only():
    with pytest.raises(ValueError, match="received_on"):
        rules.recertification_is_late(datetime(2027, 12, 1, 10), date(2028, 3, 19))
    with pytest.raises(ValueError, match="expires_on"):
        rules.recertification_is_late(date(2027, 12, 1), "2028-03-19")


@pytest.fixture
def staff(cb, monkeypatch):
    skip_pdf_rendering(monkeypatch)
    return Staff()


def recertification_received(staff, time_machine, received_on: date):
    """The certificate expiring 2028-03-19 (last day to apply 2027-12-19) and a recertification
    application submitted on ``received_on``, accepted and contracted."""
    certificate = issued_certificate(staff=staff)
    time_machine.move_to(datetime(*received_on.timetuple()[:3], 10), tick=False)
    application = accepted_application(certificate.organization, staff, kind="recertification")
    return certificate, application


def test_on_the_last_day_the_recertification_audit_is_carried_over(staff, time_machine):
    certificate, application = recertification_received(staff, time_machine, date(2027, 12, 19))
    programme = services.programme_create(application=application, actor=staff.planner)
    kinds = set(programme.audits.values_list("kind", flat=True))
    assert kinds == {Audit.Kind.RECERTIFICATION}
    application.refresh_from_db()
    assert application.handled_as_initial_reason == ""


def test_a_day_later_it_is_planned_as_initial_certification_with_the_reason(
    staff, time_machine, client
):
    certificate, application = recertification_received(staff, time_machine, date(2027, 12, 20))
    first = certificate.programme
    programme = services.programme_create(application=application, actor=staff.planner)

    audits = {a.kind: a for a in programme.audits.all()}
    assert set(audits) == {Audit.Kind.DOCUMENT_REVIEW, Audit.Kind.STAGE2}
    # Initial audit time (Appendix A, 60 people → 3 days), not the recertification's 2/3.
    assert audits[Audit.Kind.STAGE2].planned_days == rules.table_days(60, rules.INITIAL)
    assert audits[Audit.Kind.STAGE2].planned_days == Decimal("3.0")
    assert programme.cycle == first.cycle + 1
    # The old cycle's recertification audit is not taken over into the new programme.
    assert first.audits.filter(kind=Audit.Kind.RECERTIFICATION).exists()

    application.refresh_from_db()
    reason = application.handled_as_initial_reason
    assert "004 §5.8.1" in reason
    assert "2027-12-20" in reason and "2028-03-19" in reason and "2027-12-19" in reason
    assert application.history.first().history_change_reason == "逾期再认证申请按初次认证处理"

    client.force_login(staff.planner)
    page = client.get(reverse("workspace:object", args=["programmes", programme.pk]))
    assert page.status_code == 200
    assert 'id="programme-handled-as-initial"' in page.content.decode()
    assert "2027-12-20" in page.content.decode()
    client.force_login(staff.market)
    page = client.get(reverse("workspace:object", args=["applications", application.pk]))
    assert 'id="application-handled-as-initial"' in page.content.decode()


def test_a_paper_application_counts_from_the_day_it_was_received(staff, time_machine):
    certificate = issued_certificate(staff=staff)
    time_machine.move_to(datetime(2027, 12, 22, 10), tick=False)
    organization = certificate.organization
    application = app_services.application_create(
        organization=organization,
        actor=staff.market,
        scope_text="家用电器的销售及售后服务",
        headcount=60,
        business_scope_codes=[24],
        kind="recertification",
    )
    with pytest.raises(RuleViolation):
        app_services.application_submit(
            application=application, actor=staff.market, received_on=date(2027, 12, 23)
        )
    app_services.application_submit(
        application=application, actor=staff.market, received_on=date(2027, 12, 19)
    )
    application.refresh_from_db()
    assert application.received_on == date(2027, 12, 19)
    app_services.application_start_review(application=application, actor=staff.market)
    app_services.application_review_record(
        application=application,
        actor=staff.market,
        checks=dict.fromkeys(ApplicationReview.CHECKS, True),
    )
    app_services.application_accept(application=application, actor=staff.market)
    contract = app_services.contract_create(application=application, actor=staff.market)
    app_services.contract_sign(
        contract=contract, actor=staff.market, signed_on=date(2027, 12, 22), signed_by_client="王五"
    )
    programme = services.programme_create(application=application, actor=staff.planner)
    assert set(programme.audits.values_list("kind", flat=True)) == {Audit.Kind.RECERTIFICATION}
