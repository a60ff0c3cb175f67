"""Read-only queries of applications: what is paid and unpaid on a contract's invoices
(004 §5.3.2(1), §5.3.3(6)). Nothing here changes data; the fee services
(``applications.services_fees``) and the certificate issue (``certificates.services.issue``)
ask these.
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce

from applications.models import Contract, Invoice, Payment

ZERO = Decimal("0.00")
# An unpaid amount below half a cent is none: SQLite sums decimals as floating point, so a
# fully paid invoice may show a balance like 3.6e-12 there (PostgreSQL is exact).
HALF_CENT = Decimal("0.005")
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def invoice_paid(invoice: Invoice, *, on: date | None = None) -> Decimal:
    """The amount paid on ``invoice`` in CNY (``Decimal``, exact): the sum of its payments
    received on or before ``on`` (a local date; all payments when None)."""
    payments = Payment.objects.filter(invoice=invoice)
    if on is not None:
        payments = payments.filter(received_on__lte=on)
    return sum((p.amount for p in payments.only("amount")), ZERO)


def invoice_unpaid(invoice: Invoice, *, on: date | None = None) -> Decimal:
    """What is still owed on ``invoice`` in CNY: its amount less ``invoice_paid`` (never
    negative)."""
    return max(invoice.amount - invoice_paid(invoice, on=on), ZERO)


@dataclass(frozen=True)
class UnpaidInvoice:
    """An invoice with its exact balance (``Decimal`` CNY)."""

    invoice: Invoice
    paid: Decimal
    unpaid: Decimal


def unpaid_invoices(
    contract: Contract | None, *, kinds=None, waived: bool = True
) -> list[UnpaidInvoice]:
    """The invoices of ``contract`` with an amount still unpaid, oldest first, with exact
    balances (``Decimal`` summed in Python, so one cent short counts). ``kinds``: only these
    ``Invoice.Kind`` values (all when None); ``waived``: include waived invoices. ``[]`` for
    no contract."""
    if contract is None:
        return []
    invoices = Invoice.objects.filter(contract=contract)
    if kinds is not None:
        invoices = invoices.filter(kind__in=kinds)
    if not waived:
        invoices = invoices.filter(waived_on__isnull=True)
    result = []
    for invoice in invoices.prefetch_related("payments").order_by("issued_on", "pk"):
        paid = sum((p.amount for p in invoice.payments.all()), ZERO)
        if paid < invoice.amount:
            result.append(UnpaidInvoice(invoice, paid, invoice.amount - paid))
    return result


def unpaid_certification_invoices(contract: Contract | None) -> list[UnpaidInvoice]:
    """The invoices of ``contract`` for certification fees (``Invoice.CERTIFICATION_KINDS``)
    with an unpaid amount and no waiver, oldest first: what holds back the certificate
    (004 §5.3.2(1)). One cent short counts.

    ``[]`` when the contract has no such invoice (a CB that invoices outside the system is
    not stopped) or ``contract`` is None.
    """
    return unpaid_invoices(contract, kinds=Invoice.CERTIFICATION_KINDS, waived=False)


def month_end(year: int, month: int) -> date:
    """The last day of ``month`` of ``year`` (a local date). ``ValueError`` for a bad month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def invoices_with_balance(as_of: date, queryset: QuerySet | None = None) -> QuerySet:
    """``queryset`` (all invoices by default) annotated as at the end of ``as_of`` (a local
    date): ``paid_amount`` (payments received on or before it), ``unpaid_amount`` (amount less
    paid) and ``client_unpaid`` (the sum of ``unpaid_amount`` over the client's rows of the
    same query: the per-client total of the monthly list). Amounts are CNY."""
    queryset = Invoice.objects.all() if queryset is None else queryset
    paid = (
        Payment.objects.filter(invoice=OuterRef("pk"), received_on__lte=as_of)
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return queryset.annotate(
        paid_amount=Coalesce(Subquery(paid, output_field=_MONEY), Value(ZERO), output_field=_MONEY)
    ).annotate(
        unpaid_amount=F("amount") - F("paid_amount"),
        client_unpaid=Window(
            Sum(F("amount") - F("paid_amount"), output_field=_MONEY),
            partition_by=[F("contract__application__organization")],
        ),
    )


def unpaid_at(as_of: date, queryset: QuerySet | None = None) -> QuerySet:
    """The monthly list of unpaid amounts for the market department: invoices issued on or
    before ``as_of`` (a local date, normally a month's last day) with an amount still unpaid
    at that date, annotated as in ``invoices_with_balance``; waived invoices stay on it (a
    waiver lets the certificate go out, the money is still owed)."""
    queryset = Invoice.objects.all() if queryset is None else queryset
    return invoices_with_balance(as_of, queryset.filter(issued_on__lte=as_of)).filter(
        unpaid_amount__gte=HALF_CENT
    )
