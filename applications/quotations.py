"""The quotation of an application (004 §5.1.1, §5.3.2(1); 001 §6.1.7(7)): the proposed audit
time and the fee schedule that follows from it through the CB's tariff.

The fees are not typed per client: the tariff lives on the CB profile
(``CertificationBody.day_rate``, ``tariff_application_fee``, ``tariff_certificate_fee``; edited
by the superuser in the admin, kept with history) and the audit days come from the audit-time
rules (004 Appendix A; 001 Appendix A). Those rules live in the audits app, which this app must
not import (data flows applications → audits → certificates), so audits contributes the
**audit-time source** from its ``AppConfig.ready()`` (``register_audit_time_source``), the way
certificates contributes eligibility record sources (``applications.eligibility``).

The quotation is made on demand (nothing is stored: it always follows the current tariff and
application); the PDF is Chinese (004 §6.2.4) and downloadable by the market department and by
the client in the portal; the contract's fee schedule is pre-filled from it
(``contract_fees_from_quotation``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext

from applications.models import Application, Contract
from applications.services_fees import contract_fees_update
from certbody.lifecycle import RuleViolation
from certbody.models import CertificationBody
from certbody.pdf import document_language, render_checked

QUOTATION_RULE = "004 §5.1.1; 001 §6.1.7(7)"
CENT = Decimal("0.01")
TITLE = "认证报价单"
# A rejected or withdrawn application is not quoted.
QUOTABLE_STATES = (
    Application.State.DRAFT,
    Application.State.SUBMITTED,
    Application.State.UNDER_REVIEW,
    Application.State.ACCEPTED,
)


@dataclass(frozen=True)
class ProposedTime:
    """The audit time proposed for an application, in auditor-days (1 day = 8 h, ``Decimal``).

    ``audit_days``: the audit applied for (initial: document review + stage 2; recertification);
    ``surveillance_days``: each surveillance audit of the cycle (its floor, 004 §5.7.5);
    ``basis``: how it was found, in plain words (headcount, table, scheme).
    """

    audit_days: Decimal
    surveillance_days: Decimal
    basis: str


AuditTimeSource = Callable[[Application], "ProposedTime | None"]
_sources: list[AuditTimeSource] = []


def register_audit_time_source(source: AuditTimeSource) -> None:
    """Add the function proposing an application's audit time (``source(application) ->
    ProposedTime | None``); called from a higher app's ``AppConfig.ready()``. Registering the
    same function twice keeps one."""
    if source not in _sources:
        _sources.append(source)


def proposed_time(application: Application) -> ProposedTime | None:
    """The first proposal a registered source makes for ``application``; None without one."""
    for source in _sources:
        proposal = source(application)
        if proposal is not None:
            return proposal
    return None


def quotation_fees(
    *,
    audit_days: Decimal,
    surveillance_days: Decimal,
    day_rate: Decimal,
    application_fee: Decimal,
    certificate_fee: Decimal,
) -> dict[str, Decimal]:
    """The fee schedule (``Contract.FEE_FIELDS`` → CNY, two decimals) for the days at the rate.

    Pure: audit fee = ``audit_days`` × ``day_rate``; surveillance fee (per audit) =
    ``surveillance_days`` × ``day_rate``; application and certificate fees as in the tariff.
    Days and amounts are ``Decimal`` ≥ 0; raises ``ValueError`` for a negative value.
    """
    values = (audit_days, surveillance_days, day_rate, application_fee, certificate_fee)
    if any(Decimal(value) < 0 for value in values):
        raise ValueError("days and amounts of a quotation cannot be negative")
    return {
        "application_fee": Decimal(application_fee).quantize(CENT),
        "audit_fee": (Decimal(audit_days) * Decimal(day_rate)).quantize(CENT),
        "certificate_fee": Decimal(certificate_fee).quantize(CENT),
        "surveillance_fee": (Decimal(surveillance_days) * Decimal(day_rate)).quantize(CENT),
    }


@dataclass(frozen=True)
class Quotation:
    """An application's quotation: the proposed time, the tariff's day rate and the fees
    (``Contract.FEE_FIELDS`` → CNY). ``total``: their sum, what the contract's ``fee`` stores
    (one surveillance fee); ``first_cycle_total``: with the second surveillance audit of the
    cycle (004 §5.7.1)."""

    application: Application
    time: ProposedTime
    day_rate: Decimal
    fees: dict[str, Decimal]
    made_on: date

    @property
    def total(self) -> Decimal:
        return sum(self.fees.values(), Decimal(0))

    @property
    def first_cycle_total(self) -> Decimal:
        # 004 §5.7.1: two surveillance audits in a 3-year cycle.
        return self.total + self.fees["surveillance_fee"]

    @property
    def reference(self) -> str:
        return f"BJ{self.made_on:%Y%m%d}-{self.application.reference}"


def application_quotation(application: Application, *, on: date | None = None) -> Quotation | None:
    """The quotation of ``application`` on ``on`` (a local date, today by default): None when no
    audit-time source proposes a time, the CB profile is not configured or the application is
    rejected or withdrawn (``QUOTABLE_STATES``)."""
    if application.state not in QUOTABLE_STATES:
        return None
    time = proposed_time(application)
    body = CertificationBody.objects.order_by("pk").first()
    if time is None or body is None:
        return None
    fees = quotation_fees(
        audit_days=time.audit_days,
        surveillance_days=time.surveillance_days,
        day_rate=body.day_rate,
        application_fee=body.tariff_application_fee,
        certificate_fee=body.tariff_certificate_fee,
    )
    return Quotation(
        application=application,
        time=time,
        day_rate=body.day_rate,
        fees=fees,
        made_on=on or timezone.localdate(),
    )


def quotation_pdf(quotation: Quotation) -> bytes:
    """The quotation as a Chinese PDF (004 §6.2.4), checked readable (``certbody.pdf``).
    Raises ``certbody.pdf.PdfError`` when it cannot be made."""
    application = quotation.application
    organization = application.organization
    with document_language():
        html = render_to_string(
            "applications/pdf/quotation.html",
            {
                "title": TITLE,
                "reference": quotation.reference,
                "on": quotation.made_on,
                "cb": CertificationBody.objects.order_by("pk").first(),
                "addressee": organization.name,
                "organization": organization,
                "application": application,
                "quotation": quotation,
            },
        )
    return render_checked(html, expected=[organization.name, quotation.reference])


def contract_fees_from_quotation(*, contract: Contract, actor) -> Contract:
    """Pre-fill the fee schedule of a draft contract from its application's quotation
    (001 §6.1.7(7)) through ``contract_fees_update`` (market department; a signed contract is
    refused there, 004 §5.3.1). Raises ``RuleViolation`` when there is no quotation."""
    quotation = application_quotation(contract.application)
    if quotation is None:
        raise RuleViolation(
            gettext("No quotation can be made for this application: no audit time is proposed."),
            QUOTATION_RULE,
        )
    return contract_fees_update(contract=contract, actor=actor, **quotation.fees)
