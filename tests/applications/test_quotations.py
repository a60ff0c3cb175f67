"""The quotation of an application (004 §5.1.1; 001 §6.1.7(7)): the proposed audit time from the
audit-time rules (contributed by audits), the fees from the CB's tariff, the Chinese PDF for the
market department and the client, and the contract's fees pre-filled from it."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from applications import quotations, services
from applications.models import Application
from certbody.lifecycle import RuleViolation
from certbody.pdf import pdf_text
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-12-06 10:00 +08:00", tick=False):
        yield


@pytest.fixture
def tariff(cb):
    cb.day_rate = Decimal("3000")
    cb.tariff_application_fee = Decimal("1000")
    cb.tariff_certificate_fee = Decimal("500")
    cb.save()
    return cb


def _application(market, *, headcount=80, **kwargs):
    return services.application_create(
        organization=OrganizationFactory(),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=headcount,
        business_scope_codes=[24],
        **kwargs,
    )


@pytest.fixture
def application(market, tariff):
    return _application(market)


def test_fees_follow_from_the_days_at_the_day_rate():
    fees = quotations.quotation_fees(
        audit_days=Decimal("4.0"),
        surveillance_days=Decimal("1.5"),
        day_rate=Decimal("2800.50"),
        application_fee=Decimal("1000"),
        certificate_fee=Decimal("0"),
    )
    assert fees == {
        "application_fee": Decimal("1000.00"),
        "audit_fee": Decimal("11202.00"),
        "certificate_fee": Decimal("0.00"),
        "surveillance_fee": Decimal("4200.75"),
    }


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        quotations.quotation_fees(
            audit_days=Decimal("-1"),
            surveillance_days=Decimal("1"),
            day_rate=Decimal("1"),
            application_fee=Decimal("0"),
            certificate_fee=Decimal("0"),
        )


def test_an_initial_application_is_quoted_from_appendix_a(application):
    quotation = quotations.application_quotation(application)
    # 80 people: 4 days (004 Appendix A); each surveillance ⌈4/3⌉½ = 1.5 days (004 §5.7.5)
    assert quotation.time.audit_days == Decimal("4.0")
    assert quotation.time.surveillance_days == Decimal("1.5")
    assert quotation.fees["audit_fee"] == Decimal("12000.00")
    assert quotation.fees["surveillance_fee"] == Decimal("4500.00")
    assert quotation.total == Decimal("18000.00")  # what the contract's fee stores
    assert quotation.first_cycle_total == Decimal("22500.00")  # two surveillance audits


def test_the_days_and_the_tariff_drive_the_quotation(market, tariff):
    bigger = _application(market, headcount=500)
    tariff.day_rate = Decimal("2000")
    tariff.save()
    quotation = quotations.application_quotation(bigger)
    assert quotation.time.audit_days == Decimal("9.0")
    assert quotation.fees["audit_fee"] == Decimal("18000.00")


def test_a_recertification_is_quoted_at_its_own_table_time(market, tariff):
    quotation = quotations.application_quotation(
        _application(market, kind=Application.Kind.RECERTIFICATION)
    )
    assert quotation.time.audit_days == Decimal("3.0")


def test_a_rejected_or_withdrawn_application_is_not_quoted(application, market):
    services.application_withdraw(application=application, actor=market)
    application.refresh_from_db()
    assert quotations.application_quotation(application) is None


def test_the_contract_fees_are_filled_in_from_the_quotation(application, market):
    # the review itself is tested elsewhere
    Application.objects.filter(pk=application.pk).update(state=Application.State.ACCEPTED)
    application.refresh_from_db()
    contract = services.contract_create(application=application, actor=market, number="HT-Q-1")
    contract = quotations.contract_fees_from_quotation(contract=contract, actor=market)
    assert contract.audit_fee == Decimal("12000.00")
    assert contract.surveillance_fee == Decimal("4500.00")
    assert contract.fee == Decimal("18000.00")


def test_only_the_market_department_fills_in_the_fees(application, market, planner):
    Application.objects.filter(pk=application.pk).update(state=Application.State.ACCEPTED)
    application.refresh_from_db()
    contract = services.contract_create(application=application, actor=market, number="HT-Q-2")
    with pytest.raises(RuleViolation):
        quotations.contract_fees_from_quotation(contract=contract, actor=planner)


def test_the_application_page_shows_days_and_fees(client, application, market, english):
    client.force_login(market)
    page = client.get(reverse("workspace:object", args=["applications", application.pk]))
    html = page.content.decode()
    assert 'id="quotation"' in html and 'data-days="4.0"' in html
    assert "12000.00" in html and 'id="quotation-download"' in html


def test_other_staff_see_the_quotation_without_the_download(client, application, planner):
    client.force_login(planner)
    page = client.get(reverse("workspace:object", args=["applications", application.pk]))
    html = page.content.decode()
    assert 'id="quotation"' in html and 'id="quotation-download"' not in html
    url = reverse("applications_portal:quotation", args=[application.pk])
    assert client.get(url).status_code == 403


def test_the_market_department_downloads_the_quotation(client, application, market):
    client.force_login(market)
    response = client.get(reverse("applications_portal:quotation", args=[application.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "BJ20261206-" in response["Content-Disposition"]


def test_the_client_downloads_its_own_quotation_only(client, application):
    own = ClientUserFactory(organization=application.organization)
    client.force_login(own)
    page = client.get(reverse("applications_portal:detail", args=[application.pk]))
    assert 'id="quotation-download"' in page.content.decode()
    url = reverse("applications_portal:quotation", args=[application.pk])
    assert client.get(url).status_code == 200
    client.force_login(ClientUserFactory())
    assert client.get(url).status_code == 404


@pytest.mark.pdf
def test_the_quotation_is_a_chinese_pdf_with_days_and_fees(application, english):
    quotation = quotations.application_quotation(application, on=date(2026, 12, 6))
    text = pdf_text(quotations.quotation_pdf(quotation))
    assert "认证报价单" in text and application.organization.name in text
    assert "12000.00" in text and "4.0人日" in text


def test_a_staff_without_a_role_may_not_download(client, application):
    client.force_login(make_staff("nobody"))
    url = reverse("applications_portal:quotation", args=[application.pk])
    assert client.get(url).status_code == 403
