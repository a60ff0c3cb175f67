"""Fees (004 §5.3.2(1), §5.3.3(6); issue #13): the contract's fee schedule, invoices,
payments, the technical manager's waiver, the certificate issue held back by an unpaid invoice
for certification fees, and the monthly list of unpaid amounts."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from applications import selectors, services
from applications.models import Contract, Invoice
from certbody.lifecycle import RuleViolation
from certbody.policy import NotPermitted
from certificates import services as cert_services
from certificates.models import Certificate, Decision
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import accepted_application, completed_stage2
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")


@pytest.fixture(autouse=True)
def _english():
    """The refusals are matched on their English words (the catalogue gives Chinese by
    default); pages requested in a test follow the client's own language."""
    with translation.override("en"):
        yield


RULE = "004 §5.3.2(1)"


@pytest.fixture
def contract(staff):
    return accepted_application(OrganizationFactory(), staff).contract


def invoice(contract, market, *, number="FP2025-001", amount="20000.00", kind="audit", **kw):
    kw.setdefault("issued_on", date(2025, 3, 1))
    kw.setdefault("due_on", date(2025, 3, 31))
    return services.invoice_issue(
        contract=contract, actor=market, number=number, kind=kind, amount=amount, **kw
    )


def pay(inv, market, amount, on=date(2025, 3, 15)):
    return services.payment_record(invoice=inv, actor=market, amount=amount, received_on=on)


# --- the fee schedule -------------------------------------------------------------------------


def test_contract_keeps_its_fee_schedule_and_the_total(staff):
    application = accepted_application(OrganizationFactory(), staff, sign=False)
    contract = application.contract
    contract = services.contract_fees_update(
        contract=contract,
        actor=staff.market,
        application_fee="1000",
        audit_fee=Decimal("18000.50"),
        certificate_fee=500,
        surveillance_fee="6000",
    )
    contract.refresh_from_db()
    assert contract.fee_schedule == {
        "application_fee": Decimal("1000.00"),
        "audit_fee": Decimal("18000.50"),
        "certificate_fee": Decimal("500.00"),
        "surveillance_fee": Decimal("6000.00"),
    }
    assert contract.fee == Decimal("25500.50")


def test_a_lump_sum_fee_is_recorded_as_the_audit_fee(contract):
    # accepted_application drafts the contract with fee=20000, as callers did before the schedule
    assert contract.audit_fee == Decimal("20000.00")
    assert contract.application_fee == contract.certificate_fee == 0
    assert contract.fee == Decimal("20000.00")


def test_a_negative_fee_is_refused(staff):
    application = accepted_application(OrganizationFactory(), staff, sign=False)
    with pytest.raises(RuleViolation, match="negative"):
        services.contract_fees_update(
            contract=application.contract, actor=staff.market, certificate_fee="-0.01"
        )
    application.contract.refresh_from_db()
    assert application.contract.certificate_fee == 0


def test_the_fees_of_a_signed_contract_cannot_change(contract, staff):
    assert contract.state == Contract.State.SIGNED
    with pytest.raises(RuleViolation) as exc:
        services.contract_fees_update(contract=contract, actor=staff.market, audit_fee=1)
    assert exc.value.rule == "004 §5.3.1"


# --- invoices and payments --------------------------------------------------------------------


def test_invoice_issue_stores_the_due_date(contract, staff):
    inv = invoice(contract, staff.market, note="首期")
    assert inv.due_on == date(2025, 3, 31)
    assert inv.recorded_by == staff.market
    assert inv.history.first().history_user == staff.market
    assert selectors.invoice_unpaid(inv) == Decimal("20000.00")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"amount": "0"}, "more than zero"),
        ({"amount": "12.345"}, "two decimals"),
        ({"kind": "lunch"}, "Unknown fee"),
        ({"number": "  "}, "invoice number"),
        ({"due_on": date(2025, 2, 28)}, "due date"),
        ({"issued_on": date(2099, 1, 1), "due_on": date(2099, 2, 1)}, "later than today"),
    ],
)
def test_a_bad_invoice_is_refused(contract, staff, changes, words):
    with pytest.raises(RuleViolation, match=words):
        invoice(contract, staff.market, **changes)
    assert not Invoice.objects.exists()


def test_an_invoice_number_is_used_once(contract, staff):
    invoice(contract, staff.market)
    with pytest.raises(RuleViolation, match="FP2025-001"):
        invoice(contract, staff.market, amount="100")


def test_only_the_market_department_records_invoices_and_payments(contract, staff):
    with pytest.raises(NotPermitted):
        invoice(contract, staff.decider)
    inv = invoice(contract, staff.market)
    with pytest.raises(NotPermitted):
        pay(inv, staff.planner, "1")


def test_payments_add_up_to_the_amount_and_an_overpayment_is_refused(contract, staff):
    inv = invoice(contract, staff.market)
    pay(inv, staff.market, "19999.99")
    with pytest.raises(RuleViolation, match="overpay") as exc:
        pay(inv, staff.market, "0.02")
    assert exc.value.rule == "004 §5.3.3(6)"
    pay(inv, staff.market, "0.01")  # exactly what is left
    assert selectors.invoice_unpaid(inv) == 0
    assert selectors.invoice_paid(inv) == Decimal("20000.00")


@pytest.mark.parametrize("amount", ["0", "-5", "0.001", "abc"])
def test_a_non_positive_or_malformed_payment_is_refused(contract, staff, amount):
    inv = invoice(contract, staff.market)
    with pytest.raises(RuleViolation):
        pay(inv, staff.market, amount)
    assert not inv.payments.exists()


def test_a_payment_before_the_invoice_date_is_refused(contract, staff):
    inv = invoice(contract, staff.market)
    with pytest.raises(RuleViolation, match="2025-03-01"):
        pay(inv, staff.market, "100", on=date(2025, 2, 28))
    pay(inv, staff.market, "100", on=date(2025, 3, 1))


# --- the waiver -------------------------------------------------------------------------------


def test_only_the_technical_manager_waives(contract, staff, technical_manager):
    inv = invoice(contract, staff.market)
    for actor in (staff.market, staff.decider, staff.planner):
        with pytest.raises(NotPermitted):
            services.fee_waiver_record(invoice=inv, actor=actor, reason="战略客户")
    waived = services.fee_waiver_record(
        invoice=inv, actor=technical_manager, reason="战略客户，合同约定发证后付款"
    )
    assert waived.waived_by == technical_manager
    assert waived.waived_on is not None
    assert waived.history.first().history_change_reason == "豁免收费发证限制"


def test_a_waiver_needs_a_reason_and_something_unpaid(contract, staff, technical_manager):
    inv = invoice(contract, staff.market, amount="100")
    with pytest.raises(RuleViolation) as exc:
        services.fee_waiver_record(invoice=inv, actor=technical_manager, reason="  ")
    assert exc.value.rule == RULE
    pay(inv, staff.market, "100")
    with pytest.raises(RuleViolation, match="paid in full"):
        services.fee_waiver_record(invoice=inv, actor=technical_manager, reason="x")


# --- the gate: no certificate while certification fees are unpaid (004 §5.3.2(1)) -------------


@pytest.fixture
def stage2(staff):
    return completed_stage2(OrganizationFactory(), staff)


def grant(stage2, staff):
    return cert_services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 3, 20),
        star_grade="four_star",
    )


def stage2_contract(stage2):
    return stage2.programme.application.contract


def test_without_any_invoice_the_certificate_is_issued(stage2, staff):
    decision = grant(stage2, staff)
    assert decision.certificates.filter(head__isnull=True).exists()


def test_one_cent_short_refuses_the_issue(stage2, staff):
    inv = invoice(stage2_contract(stage2), staff.market, number="FP-GATE-1")
    pay(inv, staff.market, "19999.99")
    with pytest.raises(RuleViolation) as exc:
        grant(stage2, staff)
    assert exc.value.rule == RULE
    assert "FP-GATE-1" in str(exc.value) and "0.01" in str(exc.value)
    assert RULE in str(exc.value)
    assert not Certificate.objects.filter(organization=stage2.programme.organization).exists()
    assert not Decision.objects.filter(audit=stage2).exists()


def test_paid_in_full_the_certificate_is_issued(stage2, staff):
    inv = invoice(stage2_contract(stage2), staff.market)
    pay(inv, staff.market, "19999.99")
    pay(inv, staff.market, "0.01")
    decision = grant(stage2, staff)
    assert decision.certificates.exists()


def test_a_waived_invoice_lets_the_certificate_out(stage2, staff, technical_manager):
    inv = invoice(stage2_contract(stage2), staff.market, kind="certification")
    services.fee_waiver_record(
        invoice=inv, actor=technical_manager, reason="政府采购项目，财政拨款"
    )
    decision = grant(stage2, staff)
    assert decision.certificates.exists()
    # the waiver does not cancel the debt: the invoice stays on the unpaid list
    assert list(selectors.unpaid_at(date(2025, 3, 31))) == [inv]


def test_every_unpaid_certification_invoice_is_named(stage2, staff):
    contract = stage2_contract(stage2)
    invoice(contract, staff.market, number="FP-A", kind="application", amount="1000")
    invoice(contract, staff.market, number="FP-C", kind="certificate", amount="500")
    with pytest.raises(RuleViolation) as exc:
        grant(stage2, staff)
    assert "FP-A" in str(exc.value) and "FP-C" in str(exc.value)


def test_surveillance_and_other_fees_do_not_hold_the_certificate(stage2, staff):
    contract = stage2_contract(stage2)
    invoice(contract, staff.market, number="FP-S", kind="surveillance", amount="6000")
    invoice(contract, staff.market, number="FP-O", kind="other", amount="800")
    assert grant(stage2, staff).certificates.exists()


# --- the monthly list of unpaid amounts ---------------------------------------------------------


def test_unpaid_list_as_at_a_month_end(staff):
    first = accepted_application(OrganizationFactory(name="甲公司"), staff).contract
    second = accepted_application(OrganizationFactory(name="乙公司"), staff).contract
    a = invoice(first, staff.market, number="FP-1", amount="1000", issued_on=date(2025, 3, 1))
    b = invoice(first, staff.market, number="FP-2", amount="300", issued_on=date(2025, 3, 20))
    c = invoice(second, staff.market, number="FP-3", amount="500", issued_on=date(2025, 3, 5))
    invoice(second, staff.market, number="FP-4", amount="700", issued_on=date(2025, 4, 2),
            due_on=date(2025, 4, 30))  # fmt: skip
    pay(a, staff.market, "400", on=date(2025, 3, 10))
    pay(c, staff.market, "500", on=date(2025, 4, 3))  # paid after the end of March

    march = {i.number: i for i in selectors.unpaid_at(selectors.month_end(2025, 3))}
    assert set(march) == {"FP-1", "FP-2", "FP-3"}
    assert march["FP-1"].unpaid_amount == Decimal("600")
    assert march["FP-1"].client_unpaid == Decimal("900")  # 600 + 300 for 甲公司
    assert march["FP-3"].client_unpaid == Decimal("500")

    april = {i.number for i in selectors.unpaid_at(selectors.month_end(2025, 4))}
    assert april == {"FP-1", "FP-2", "FP-4"}
    assert b.number in april


def test_a_paid_invoice_is_off_the_list(contract, staff):
    inv = invoice(contract, staff.market, amount="0.03")
    pay(inv, staff.market, "0.01")
    pay(inv, staff.market, "0.02")
    assert list(selectors.unpaid_at(date(2025, 3, 31))) == []


def test_a_technical_manager_without_market_role_records_no_invoice(contract):
    tm = make_staff("tm-fees", "technical_manager")
    with pytest.raises(NotPermitted):
        invoice(contract, tm)


# --- the workspace: contract page, invoices desk, the monthly list ------------------------------


def _offered(response) -> set[str]:
    return set(re.findall(r'data-action="([^"]+)"', response.content.decode()))


def _action(key, obj, name):
    return reverse("workspace:action", args=[key, obj.pk, name])


def _page(key, obj):
    return reverse("workspace:object", args=[key, obj.pk])


def test_market_records_an_invoice_and_a_payment_on_the_contract_page(client, contract, staff):
    client.force_login(staff.market)
    assert {"issue-invoice"} <= _offered(client.get(_page("contracts", contract)))
    response = client.post(
        _action("contracts", contract, "issue-invoice"),
        {
            "number": "FP-WS-1",
            "kind": "audit",
            "amount": "20000.00",
            "issued_on": "2025-03-01",
            "due_on": "2025-03-31",
            "note": "",
        },
    )
    assert response.status_code == 302
    inv = Invoice.objects.get(number="FP-WS-1")
    page = client.get(_page("contracts", contract))
    assert (
        "FP-WS-1" in page.content.decode() and 'data-testid="fees-block"' in page.content.decode()
    )
    assert "record-payment" in _offered(page)
    assert "waive-fee" not in _offered(page)  # the technical manager's
    response = client.post(
        _action("contracts", contract, "record-payment"),
        {"invoice": inv.pk, "amount": "20000.00", "received_on": "2025-03-20", "reference": "转账"},
    )
    assert response.status_code == 302
    assert selectors.invoice_unpaid(inv) == 0
    page = client.get(_page("contracts", contract))
    assert 'data-testid="fees-block"' not in page.content.decode()
    assert "record-payment" not in _offered(page)


def test_an_overpayment_is_shown_as_the_refusal(client, contract, staff):
    inv = invoice(contract, staff.market, amount="100")
    staff.market.language = "en"  # the page speaks the person's stored language
    staff.market.save(update_fields=["language"])
    client.force_login(staff.market)
    response = client.post(
        _action("invoices", inv, "record-payment"),
        {"amount": "100.01", "received_on": "2025-03-20", "reference": ""},
    )
    assert response.status_code == 422
    assert "overpay" in response.content.decode()
    assert not inv.payments.exists()


def test_the_technical_manager_waives_from_the_contract_page(
    client, contract, staff, technical_manager
):
    inv = invoice(contract, staff.market)
    client.force_login(technical_manager)
    assert "waive-fee" in _offered(client.get(_page("contracts", contract)))
    response = client.post(
        _action("contracts", contract, "waive-fee"), {"invoice": inv.pk, "reason": "战略客户"}
    )
    assert response.status_code == 302
    inv.refresh_from_db()
    assert inv.waived_by == technical_manager
    # a forged waiver by the market department is refused
    other = invoice(contract, staff.market, number="FP-2")
    client.force_login(staff.market)
    response = client.post(
        _action("invoices", other, "waive"), {"reason": "forged", "confirm": "1"}
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.waived_on is None


def test_the_monthly_list_filters_by_month_totals_per_client_and_exports(client, staff):
    first = accepted_application(OrganizationFactory(name="甲公司"), staff).contract
    second = accepted_application(OrganizationFactory(name="乙公司"), staff).contract
    a = invoice(first, staff.market, number="FP-1", amount="1000")
    invoice(first, staff.market, number="FP-2", amount="300")
    c = invoice(second, staff.market, number="FP-3", amount="500")
    pay(a, staff.market, "400", on=date(2025, 3, 10))
    pay(c, staff.market, "500", on=date(2025, 4, 3))
    client.force_login(staff.market)
    url = reverse("workspace:list", args=["invoices"])

    response = client.get(url, {"month": "2025-03"})
    assert response.status_code == 200
    rows = {r.number: r for r in response.context["table"].page.object_list.data}
    assert set(rows) == {"FP-1", "FP-2", "FP-3"}
    assert rows["FP-1"].client_unpaid == Decimal("900")
    april = client.get(url, {"month": "2025-04"}).context["table"].page.object_list.data
    assert {r.number for r in april} == {"FP-1", "FP-2"}

    export = client.get(url, {"month": "2025-03", "export": "csv"})
    text = export.content.decode("utf-8")
    assert text.startswith("\ufeff") and "甲公司" in text and "900.00" in text and "600.00" in text
    # a hand-edited month never answers 500
    assert client.get(url, {"month": "2025-13"}).status_code == 200


def test_only_certification_fees_are_waived(contract, staff, technical_manager):
    inv = invoice(contract, staff.market, kind="surveillance", amount="6000")
    with pytest.raises(RuleViolation, match="not for certification fees") as exc:
        services.fee_waiver_record(invoice=inv, actor=technical_manager, reason="x")
    assert exc.value.rule == RULE
