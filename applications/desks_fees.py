"""Workspace desk for invoices (004 §5.3.2(1), §5.3.3(6)): every invoice with what is paid
and unpaid, and the market department's monthly list of unpaid amounts — the list filtered
by a month shows the invoices unpaid at the end of that month with each client's total, and
exports to CSV/XLSX like every desk.

Payments and the technical manager's waiver are recorded from an invoice's page or from its
contract's page (``applications.desks``), through the services of
``applications.services_fees``.
"""

from datetime import date
from decimal import Decimal

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications import forms, selectors
from applications.models import Invoice
from certbody.workspace import Action, Desk, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn

MONTHS_LISTED = 36


def _month_choices():
    today = timezone.localdate()
    year, month = today.year, today.month
    choices = []
    for _k in range(MONTHS_LISTED):
        choices.append((f"{year:04d}-{month:02d}", f"{year:04d}-{month:02d}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return choices


def month_param(value: str | None) -> date | None:
    """The last day of the month ``YYYY-MM`` (a local date), or None when ``value`` is not
    such a month (a hand-edited URL never answers 500)."""
    value = (value or "").strip()
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit():
        return None
    try:
        return selectors.month_end(int(value[:4]), int(value[5:]))
    except ValueError:
        return None


def _as_of(request) -> date:
    """The date balances are computed at: the end of the month filtered on, else today."""
    return month_param(request.GET.get("month")) or timezone.localdate()


def _invoices(request):
    return selectors.invoices_with_balance(
        _as_of(request),
        Invoice.objects.select_related("contract__application__organization", "waived_by"),
    )


class MoneyColumn(tables.Column):
    """An amount in CNY with two decimals (page and export)."""

    def render(self, value):
        return f"{Decimal(value or 0):.2f}"

    def value(self, value):
        return self.render(value)


class InvoiceTable(BaseTable):
    number = ObjectLinkColumn("invoices", verbose_name=_("invoice number"))
    organization = tables.Column(
        accessor="contract__application__organization__name", verbose_name=_("organisation")
    )
    contract = tables.Column(
        accessor="contract__number",
        verbose_name=_("contract"),
        linkify=lambda record: reverse("workspace:object", args=["contracts", record.contract_id]),
    )
    kind = tables.Column(verbose_name=_("fee invoiced"))
    amount = MoneyColumn(verbose_name=_("amount (CNY)"))
    paid_amount = MoneyColumn(verbose_name=_("paid (CNY)"))
    unpaid_amount = MoneyColumn(verbose_name=_("unpaid (CNY)"))
    client_unpaid = MoneyColumn(verbose_name=_("client's unpaid total (CNY)"))
    issued_on = tables.DateColumn(format="Y-m-d", verbose_name=_("invoiced on"))
    due_on = tables.DateColumn(format="Y-m-d", verbose_name=_("payment due on"))
    waived_on = tables.DateColumn(format="Y-m-d", verbose_name=_("waived on"))

    class Meta:
        model = Invoice
        fields = (
            "number",
            "organization",
            "contract",
            "kind",
            "amount",
            "paid_amount",
            "unpaid_amount",
            "client_unpaid",
            "issued_on",
            "due_on",
            "waived_on",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("organization", "due_on")


class InvoiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    month = django_filters.ChoiceFilter(
        choices=_month_choices, method="unpaid_at_month_end", label=_("unpaid at the end of")
    )
    kind = django_filters.ChoiceFilter(choices=Invoice.Kind.choices, label=_("fee invoiced"))
    overdue = django_filters.BooleanFilter(
        method="overdue_only", label=_("overdue and unpaid today")
    )

    class Meta:
        model = Invoice
        fields = ["q", "month", "kind", "overdue"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(number__icontains=value)
            | Q(contract__number__icontains=value)
            | Q(contract__application__organization__name__icontains=value)
        )

    def unpaid_at_month_end(self, queryset, name, value):
        # The balances were computed at this month's end by the desk's queryset (_as_of).
        end = month_param(value)
        if end is None:
            return queryset
        return queryset.filter(issued_on__lte=end, unpaid_amount__gte=selectors.HALF_CENT)

    def overdue_only(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            due_on__lt=timezone.localdate(), unpaid_amount__gte=selectors.HALF_CENT
        )


def _invoice_summary(invoice: Invoice, user):
    return [
        (_("organisation"), invoice.contract.application.organization.name),
        (_("contract"), invoice.contract.number),
        (_("fee invoiced"), invoice.get_kind_display()),
        (_("amount (CNY)"), invoice.amount),
        (_("paid (CNY)"), f"{invoice.paid_amount:.2f}"),
        (_("unpaid (CNY)"), f"{invoice.unpaid_amount:.2f}"),
        (_("invoiced on"), invoice.issued_on),
        (_("payment due on"), invoice.due_on),
        (_("note"), invoice.note),
        (_("waived on"), invoice.waived_on),
        (_("waived by"), invoice.waived_by or ""),
        (_("reason for the waiver"), invoice.waived_reason),
    ]


def _is_unpaid(invoice: Invoice) -> bool:
    return selectors.invoice_unpaid(invoice) > 0


register(
    Desk(
        key="invoices",
        model=Invoice,
        title=_("Invoices"),
        permission="applications.view_desk",
        queryset=_invoices,
        table_class=InvoiceTable,
        filterset_class=InvoiceFilter,
        summary=_invoice_summary,
        sections_template="applications/desk/invoice_sections.html",
        sections_context=lambda invoice, request: {
            "payments": invoice.payments.select_related("recorded_by")
        },
        order=16,
        actions=[
            Action(
                "record-payment",
                _("Record a payment"),
                forms.payment_record,
                "applications.record_invoice",
                "invoice",
                form_class=forms.PaymentForm,
                available=_is_unpaid,
            ),
            Action(
                "waive",
                _("Waive for the certificate issue"),
                forms.fee_waiver_record,
                "applications.waive_fee",
                "invoice",
                form_class=forms.WaiverForm,
                available=lambda invoice: (
                    invoice.kind in Invoice.CERTIFICATION_KINDS
                    and not invoice.is_waived
                    and _is_unpaid(invoice)
                ),
                confirm=_(
                    "The certificate may then be issued although this invoice is unpaid; the "
                    "amount stays owed and on the unpaid list."
                ),
            ),
        ],
    )
)
