"""Write path for the fees of a contract (004 §5.3.2(1), §5.3.3(6); 001 §6.1.7(7)): the fee
schedule, invoices, payments and the technical manager's waiver of an unpaid invoice.

The market department records invoices and payments (``applications.record_invoice``); only
the technical manager waives (``applications.waive_fee``). A waiver does not cancel the debt:
it lets the certificate be issued while the invoice is unpaid (the certificate issue asks
``applications.selectors.unpaid_certification_invoices``). Every function is keyword-only,
takes the acting user, runs atomically and raises ``RuleViolation`` with the rule named.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from applications import selectors
from applications.models import Contract, Invoice, Payment
from certbody import bounds, policy
from certbody.lifecycle import RuleViolation, lock, record

FEES_RULE = "004 §5.3.2(1)"
PAYMENT_RULE = "004 §5.3.3(6)"
CENT = Decimal("0.01")


def money(value, *, label: str) -> Decimal:
    """``value`` (Decimal, int or numeric text) as CNY with two decimals; ``RuleViolation``
    when it is not a number, has fractions of a cent or is negative."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RuleViolation(
            gettext("%(label)s must be an amount in CNY.") % {"label": label}
        ) from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise RuleViolation(
            gettext("%(label)s must be an amount in CNY with at most two decimals.")
            % {"label": label}
        )
    if amount < 0:
        raise RuleViolation(gettext("%(label)s cannot be negative.") % {"label": label})
    return amount.quantize(CENT)


def fee_schedule(
    *,
    application_fee=0,
    audit_fee=0,
    certificate_fee=0,
    surveillance_fee=0,
) -> dict[str, Decimal]:
    """The checked fee schedule of a contract: field name → ``Decimal`` CNY (each ≥ 0, in
    cents). Raises ``RuleViolation`` otherwise (001 §6.1.7(7): the contract states the fees)."""
    labels = {
        "application_fee": gettext("The application fee"),
        "audit_fee": gettext("The audit fee"),
        "certificate_fee": gettext("The certificate fee"),
        "surveillance_fee": gettext("The surveillance fee"),
    }
    values = {
        "application_fee": application_fee,
        "audit_fee": audit_fee,
        "certificate_fee": certificate_fee,
        "surveillance_fee": surveillance_fee,
    }
    return {name: money(values[name] or 0, label=labels[name]) for name in Contract.FEE_FIELDS}


def contract_fees_update(
    *,
    contract: Contract,
    actor,
    application_fee=0,
    audit_fee=0,
    certificate_fee=0,
    surveillance_fee=0,
) -> Contract:
    """Change the fee schedule of a contract not signed yet (amounts in CNY, each ≥ 0);
    ``fee`` becomes their total. A signed contract's fees are what the client agreed to:
    refused (004 §5.3.1). Market department (``applications.manage_contract``).
    """
    policy.require(actor, "applications.manage_contract", contract)
    schedule = fee_schedule(
        application_fee=application_fee,
        audit_fee=audit_fee,
        certificate_fee=certificate_fee,
        surveillance_fee=surveillance_fee,
    )
    with transaction.atomic():
        contract = lock(Contract, contract.pk)
        if contract.state != Contract.State.DRAFT:
            raise RuleViolation(
                gettext("The fees of a signed contract cannot be changed."), "004 §5.3.1"
            )
        for name, amount in schedule.items():
            setattr(contract, name, amount)
        contract.fee = contract.schedule_total()
        bounds.check_instance(contract, *Contract.FEE_FIELDS, "fee")
        record(contract, actor=actor, reason="修改收费")
        contract.save(update_fields=[*Contract.FEE_FIELDS, "fee"])
    return contract


def invoice_issue(
    *,
    contract: Contract,
    actor,
    number: str,
    kind: str,
    amount,
    issued_on: date,
    due_on: date,
    note: str = "",
) -> Invoice:
    """Record an invoice issued to the client under ``contract`` (004 §5.3.3(6)).

    ``number``: the invoice number, unique; ``kind``: ``Invoice.Kind``; ``amount``: CNY, > 0;
    ``issued_on``: local date, not after today; ``due_on``: local date, not before
    ``issued_on`` (stored, indexed: the unpaid list reads it). Market department
    (``applications.record_invoice``). Raises ``RuleViolation``.
    """
    policy.require(actor, "applications.record_invoice", contract)
    number = (number or "").strip()
    if not number:
        raise RuleViolation(gettext("Enter the invoice number."))
    if kind not in Invoice.Kind.values:
        raise RuleViolation(gettext("Unknown fee: %(kind)s") % {"kind": kind})
    amount = money(amount, label=gettext("The invoice amount"))
    if amount <= 0:
        raise RuleViolation(gettext("The invoice amount must be more than zero."))
    if issued_on > timezone.localdate():
        raise RuleViolation(gettext("The invoice date cannot be later than today."))
    if due_on < issued_on:
        raise RuleViolation(
            gettext("The payment due date cannot be earlier than the invoice date.")
        )
    with transaction.atomic():
        contract = lock(Contract, contract.pk)
        if Invoice.objects.filter(number=number).exists():
            raise RuleViolation(
                gettext("Invoice number %(number)s is recorded already.") % {"number": number}
            )
        invoice = Invoice(
            contract=contract,
            number=number,
            kind=kind,
            amount=amount,
            issued_on=issued_on,
            due_on=due_on,
            note=note.strip(),
            recorded_by=actor,
        )
        bounds.check_instance(invoice, "number", "amount", "note")
        record(invoice, actor=actor, reason="开具发票")
        invoice.save()
    return invoice


def payment_record(
    *, invoice: Invoice, actor, amount, received_on: date, reference: str = ""
) -> Payment:
    """Record a payment received against ``invoice`` (004 §5.3.3(6)).

    ``amount``: CNY, > 0 and not more than what is still unpaid (an overpayment is refused:
    refund or credit it outside the invoice); ``received_on``: local date, not before the
    invoice date nor after today; ``reference``: the bank or receipt reference. Market
    department (``applications.record_invoice``). Raises ``RuleViolation``.
    """
    policy.require(actor, "applications.record_invoice", invoice)
    amount = money(amount, label=gettext("The payment amount"))
    if amount <= 0:
        raise RuleViolation(gettext("The payment amount must be more than zero."), PAYMENT_RULE)
    if received_on > timezone.localdate():
        raise RuleViolation(gettext("The payment date cannot be later than today."))
    with transaction.atomic():
        invoice = lock(Invoice, invoice.pk)
        if received_on < invoice.issued_on:
            raise RuleViolation(
                gettext("The payment date cannot be earlier than the invoice date (%(date)s).")
                % {"date": invoice.issued_on.isoformat()}
            )
        unpaid = selectors.invoice_unpaid(invoice)
        if amount > unpaid:
            raise RuleViolation(
                gettext(
                    "Invoice %(number)s has %(unpaid)s CNY unpaid: a payment of %(amount)s CNY "
                    "would overpay it."
                )
                % {"number": invoice.number, "unpaid": unpaid, "amount": amount},
                PAYMENT_RULE,
            )
        payment = Payment(
            invoice=invoice,
            amount=amount,
            received_on=received_on,
            reference=reference.strip(),
            recorded_by=actor,
        )
        bounds.check_instance(payment, "amount", "reference")
        record(payment, actor=actor, reason="收款")
        payment.save()
    return payment


def fee_waiver_record(*, invoice: Invoice, actor, reason: str, waived_on: date | None = None):
    """The technical manager lets the certificate be issued although ``invoice`` is unpaid
    (004 §5.3.2(1)): records who, when (local date, today by default, not in the future) and
    why. The amount stays owed and on the unpaid list. Technical manager only
    (``applications.waive_fee``). Refused (``RuleViolation``) without a reason, for an invoice
    not for certification fees (``Invoice.CERTIFICATION_KINDS``), already paid in full or
    already waived.
    """
    policy.require(actor, "applications.waive_fee", invoice)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(gettext("Give the reason for the waiver."), FEES_RULE)
    waived_on = waived_on or timezone.localdate()
    if waived_on > timezone.localdate():
        raise RuleViolation(gettext("The waiver date cannot be later than today."))
    with transaction.atomic():
        invoice = lock(Invoice, invoice.pk)
        if invoice.is_waived:
            raise RuleViolation(
                gettext("Invoice %(number)s was waived on %(date)s already.")
                % {"number": invoice.number, "date": invoice.waived_on.isoformat()}
            )
        if invoice.kind not in Invoice.CERTIFICATION_KINDS:
            raise RuleViolation(
                gettext(
                    "Invoice %(number)s is not for certification fees: it does not hold back "
                    "a certificate, so there is nothing to waive."
                )
                % {"number": invoice.number},
                FEES_RULE,
            )
        if selectors.invoice_unpaid(invoice) <= 0:
            raise RuleViolation(
                gettext("Invoice %(number)s is paid in full: there is nothing to waive.")
                % {"number": invoice.number}
            )
        invoice.waived_on = waived_on
        invoice.waived_by = actor
        invoice.waived_reason = reason
        record(invoice, actor=actor, reason="豁免收费发证限制")
        invoice.save(update_fields=["waived_on", "waived_by", "waived_reason"])
    return invoice
