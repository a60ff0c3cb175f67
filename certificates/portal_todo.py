"""The client portal home's to-do list: what the client's organisation has to do now, each
with its due date where there is one and a link to the page where it is done.

Read-only (a selector): every query goes through ``certbody.access.visible_to``, one query per
kind of item whatever the number of rows. Certificates is the highest app below reporting, so
it may read applications and audits.

Kinds, in page order: a contract to sign (004 §5.3), documents the review asked for
(``applications.DocumentRequest``, 004 §5.2), an audit plan to confirm (004 §5.5),
nonconformities to answer with their due dates (004 §5.10), invoices due (004 §5.3.2(1)),
and the next audit window (the next planned audit's due date, 004 §5.8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils.translation import gettext as _

from applications.models import Application, Contract, DocumentRequest, Invoice
from applications.selectors import HALF_CENT, invoices_with_balance
from audits.models import Audit, AuditPlan, AuditProgramme, Nonconformity
from certbody.access import visible_to
from certificates.models import Certificate, ClientRequest, Decision

ANSWERABLE = (Nonconformity.State.OPEN, Nonconformity.State.REJECTED)
IN_FORCE = (Certificate.Status.VALID, Certificate.Status.SUSPENDED)


@dataclass
class Todo:
    """One thing the client has to do: ``kind`` (a stable key for tests and styling),
    ``label`` (what), ``url`` (where it is done), ``day`` (due date, local ``date`` or None),
    ``overdue`` (``day`` is before today)."""

    kind: str
    label: str
    url: str
    day: date | None = None
    overdue: bool = False
    detail: str = ""


def _contracts(user) -> list[Todo]:
    contracts = visible_to(
        Contract.objects.filter(state=Contract.State.DRAFT), user, "application__organization"
    ).select_related("application")
    return [
        Todo(
            "contract",
            _("Sign the certification contract %(number)s") % {"number": contract},
            reverse("applications_portal:sign", args=[contract.application_id]),
            detail=contract.application.reference,
        )
        for contract in contracts.order_by("pk")
    ]


def _drafts(user) -> list[Todo]:
    drafts = visible_to(Application.objects.filter(state=Application.State.DRAFT), user)
    return [
        Todo(
            "application",
            _("Complete and submit application %(reference)s")
            % {"reference": application.reference},
            reverse("applications_portal:detail", args=[application.pk]),
        )
        for application in drafts.order_by("pk")
    ]


def _document_requests(user) -> list[Todo]:
    requests = visible_to(
        DocumentRequest.objects.filter(answered_at__isnull=True),
        user,
        "application__organization",
    ).select_related("application")
    return [
        Todo(
            "document_request",
            _("Documents requested: %(document)s (application %(reference)s)")
            % {"document": item.get_kind_display(), "reference": item.application.reference},
            reverse("applications_portal:document_request", args=[item.pk]),
            day=item.due_on,
            detail=_("documents due"),
        )
        for item in requests.order_by("due_on", "pk")
    ]


def _plans(user) -> list[Todo]:
    plans = visible_to(
        AuditPlan.objects.filter(state=AuditPlan.State.SENT), user, "audit__programme__organization"
    ).select_related("audit")
    return [
        Todo(
            "plan",
            _("Confirm the audit plan: %(audit)s") % {"audit": plan.audit.get_kind_display()},
            reverse("audits_client:plan", args=[plan.pk]),
            day=plan.audit.planned_start,
            detail=_("audit starts"),
        )
        for plan in plans.order_by("audit__planned_start", "pk")
    ]


def _nonconformities(user) -> list[Todo]:
    ncs = visible_to(
        Nonconformity.objects.filter(state__in=ANSWERABLE), user, "audit__programme__organization"
    )
    return [
        Todo(
            "nonconformity",
            _("Answer nonconformity NC-%(number)02d (%(severity)s) · %(clause)s")
            % {"number": nc.number, "severity": nc.get_severity_display(), "clause": nc.clause},
            reverse("audits_portal:detail", args=[nc.pk]),
            day=nc.due_on,
            detail=_("answer due"),
        )
        for nc in ncs.order_by("due_on", "pk")
    ]


def _invoices(user, today: date) -> list[Todo]:
    invoices = visible_to(Invoice.objects.all(), user, "contract__application__organization")
    unpaid = invoices_with_balance(today, invoices).filter(unpaid_amount__gte=HALF_CENT)
    return [
        Todo(
            "invoice",
            _("Pay invoice %(number)s: CNY %(amount)s outstanding")
            % {"number": invoice.number, "amount": f"{invoice.unpaid_amount:.2f}"},
            reverse("applications_portal:detail", args=[invoice.contract.application_id]),
            day=invoice.due_on,
            detail=_("payment due"),
        )
        for invoice in unpaid.select_related("contract").order_by("due_on", "pk")
    ]


def next_audit(user) -> Audit | None:
    """The organisation's next planned audit on an active programme (earliest due date, then
    planned start), or None."""
    return (
        visible_to(
            Audit.objects.filter(
                state=Audit.State.PLANNED, programme__state=AuditProgramme.State.ACTIVE
            ),
            user,
            "programme__organization",
        )
        .exclude(kind=Audit.Kind.DOCUMENT_REVIEW)
        .order_by("due_on", "planned_start", "pk")
        .first()
    )


def portal_todo(user, today: date) -> list[Todo]:
    """What the client user's organisation has to do on ``today`` (local date), in the order
    of the page: contracts to sign, applications to submit, documents requested (due date
    ascending), plans to confirm, NCs to answer
    (due date ascending, so the oldest overdue first), invoices due (due date ascending).
    Empty for staff and for a user without an organisation."""
    if user.is_staff or not getattr(user, "organization_id", None):
        return []
    items = [
        *_contracts(user),
        *_drafts(user),
        *_document_requests(user),
        *_plans(user),
        *_nonconformities(user),
        *_invoices(user, today),
    ]
    for item in items:
        item.overdue = bool(item.day and item.day < today)
    return items


def holds_certificate(user) -> bool:
    """Whether the user's organisation holds a certificate in force (valid or suspended): only
    then may it ask for a change, a cancellation or a suspension."""
    return visible_to(
        Certificate.objects.filter(head__isnull=True, status__in=IN_FORCE), user
    ).exists()


def offers_requests(user) -> bool:
    """Whether the portal offers the requests pages to ``user``: the organisation holds a
    certificate in force (``holds_certificate``) or has filed requests before (to follow them).
    Without either there is nothing to ask a change, cancellation or suspension of."""
    return holds_certificate(user) or visible_to(ClientRequest.objects.all(), user).exists()


def may_appeal(user) -> bool:
    """Whether the user's organisation has something to appeal: a certificate (any status) or
    a certification decision (004 §8.1: a client may appeal a decision, a refusal included)."""
    return (
        visible_to(Certificate.objects.filter(head__isnull=True), user).exists()
        or visible_to(Decision.objects.all(), user, "audit__programme__organization").exists()
    )
