"""Demo invoices and payments (004 §5.3.2(1), §5.3.3(6)), recorded after the stories:

- the client whose stage 2 awaits its decision has paid its application fee but only half of
  its audit fee: once its audit report is signed, the grant is still refused until the rest
  is paid or the technical manager waives it;
- a few certified clients have surveillance fee invoices, paid, partly paid and overdue, so
  the market department's monthly list of unpaid amounts has rows.

Certificates already issued are not affected (the gate is checked at issue); no story creates
invoices, so every demo journey still issues its certificates.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from applications import services as app_services
from applications.models import Contract
from audits.models import Audit
from certificates.models import Certificate
from demo.plan import DEMO_LAST_DATE


def seed_fees(staff, log) -> None:
    """Record the demo's invoices and payments as the market department."""
    market = staff.market
    awaiting = (
        Audit.objects.filter(kind=Audit.Kind.STAGE2, state=Audit.State.COMPLETED)
        .exclude(decisions__isnull=False)
        .select_related("programme__application")
        .order_by("pk")
        .first()
    )
    if awaiting is not None:
        contract = Contract.objects.get(application=awaiting.programme.application)
        signed_on = contract.signed_on or awaiting.actual_end
        number = f"FP{contract.number[2:]}"
        if contract.application_fee:
            application_invoice = app_services.invoice_issue(
                contract=contract,
                actor=market,
                number=f"{number}-1",
                kind="application",
                amount=contract.application_fee,
                issued_on=signed_on,
                due_on=signed_on + timedelta(days=15),
                note="申请费，合同签订后开具",
            )
            app_services.payment_record(
                invoice=application_invoice,
                actor=market,
                amount=contract.application_fee,
                received_on=signed_on + timedelta(days=6),
                reference="银行转账",
            )
        audit_fee = contract.audit_fee + contract.certificate_fee
        issued_on = awaiting.actual_end
        invoice = app_services.invoice_issue(
            contract=contract,
            actor=market,
            number=f"{number}-2",
            kind="certification",
            amount=audit_fee,
            issued_on=issued_on,
            due_on=issued_on + timedelta(days=10),
            note="审核费及证书费，二阶段审核结束后开具",
        )
        half = (audit_fee / 2).quantize(Decimal("0.01"))
        app_services.payment_record(
            invoice=invoice,
            actor=market,
            amount=half,
            received_on=min(issued_on + timedelta(days=5), DEMO_LAST_DATE),
            reference="银行转账（首付 50%）",
        )
        log(
            f"invoice {invoice.number} of {awaiting.programme.organization.name} half paid: "
            "its certificate waits for the rest (004 §5.3.2(1))"
        )

    # Surveillance fees of three certified clients, invoiced in October 2026.
    valid = (
        Certificate.objects.filter(head__isnull=True, status=Certificate.Status.VALID)
        .select_related("programme__application")
        .order_by("number")
    )
    issued_on = date(2026, 10, 12)
    paid = (Decimal(1), Decimal("0.5"), Decimal(0))  # in full, half, nothing
    for k, certificate in enumerate(valid[:3]):
        contract = Contract.objects.filter(application=certificate.programme.application).first()
        if contract is None or contract.surveillance_fee <= 0:
            continue
        invoice = app_services.invoice_issue(
            contract=contract,
            actor=market,
            number=f"FP{contract.number[2:]}-S{k + 1}",
            kind="surveillance",
            amount=contract.surveillance_fee,
            issued_on=issued_on,
            due_on=issued_on + timedelta(days=30),
            note="年度监督审核费",
        )
        amount = (contract.surveillance_fee * paid[k]).quantize(Decimal("0.01"))
        if amount > 0:
            app_services.payment_record(
                invoice=invoice,
                actor=market,
                amount=amount,
                received_on=issued_on + timedelta(days=20),
                reference="银行转账",
            )
