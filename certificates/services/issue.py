"""Issuing the certificate a grant decision allows, with its sub-certificates, its gapless FW
number (004 §6.2, Appendix C) and the approval notice (002 §4.1.2).
"""

from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext

from applications.models import Site
from audits import services as audit_services
from audits.models import Audit
from certbody.dates import add_months
from certbody.lifecycle import RuleViolation, lock, record
from certbody.models import CertificationBody
from certbody.reference import cnca_label
from certbody.sql import rows_update_sql, updates_run
from certificates import guards, numbering, pdf, public_rows, selectors
from certificates.models import (
    Certificate,
    CertificateDocument,
    CertificateEvent,
    CertificateSequence,
    Decision,
    new_token,
)
from certificates.services.notices import notice_issue
from certificates.services.status import change_status, record_event

VALIDITY_MONTHS = 36  # 004 §6.2.3: valid at most 3 years


# Provisional numbers (issue #16): an issue writes every row before it takes the yearly number
# row, with a stand-in for the number, and fills the real one in last (``_numbers_fill``).
# "#P<decision pk>-<k>#": unique (one issue per decision, whose row the issue locks), at most
# 24 characters like a number, closed on both sides so no stand-in is the start of another,
# and made of characters that neither HTML escaping nor JSON changes, so it is found verbatim
# in every text that shows it. Never seen after commit: the fill checks each row it changes.
PROVISIONAL_MARK = "#P"
# The heads' (year, sequence, cycle) is unique: stand-in sequences lie above any real yearly
# count (4 digits, 004 Appendix C.1) and differ by decision, so concurrent issues never wait
# on each other's uncommitted row in the unique index.
PROVISIONAL_SEQUENCE = 1_000_000_000


def provisional_number(decision_pk: int, k: int) -> str:
    """The stand-in for the number of certificate ``k`` (0 the head, k ≥ 1 its sub-certificates)
    of the issue of decision ``decision_pk``, until ``allocate_sequence`` gives the real one."""
    return f"{PROVISIONAL_MARK}{decision_pk}-{k}#"


def allocate_sequence(year: int) -> int:
    """Next number of the CB's yearly FW sequence (004 Appendix C), gapless.

    Must run inside the issuing transaction: the year row stays locked until commit, so two
    issues never get the same number, and a rolled-back issue gives its number back. Call it
    as late as possible in that transaction (``certificate_issue`` writes every row first with
    provisional numbers and only fills the real ones in after it): every other issue of the
    year waits for the row until this one commits.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("allocate_sequence must run inside transaction.atomic()")
    # One statement, one round trip while every other issue of the year waits: the upsert
    # creates the year's row or increments it, and (PostgreSQL) keeps it locked until commit
    # like SELECT … FOR UPDATE; SQLite serialises writers anyway. Both support
    # INSERT … ON CONFLICT DO UPDATE … RETURNING (SQLite ≥ 3.35).
    quote, meta = connection.ops.quote_name, CertificateSequence._meta
    table = quote(meta.db_table)
    year_column, last = (quote(meta.get_field(name).column) for name in ("year", "last"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({year_column}, {last}) VALUES (%s, 1) "
            f"ON CONFLICT ({year_column}) DO UPDATE SET {last} = {table}.{last} + 1 "
            f"RETURNING {last}",
            [year],
        )
        return cursor.fetchone()[0]


def certificate_issue(
    *, decision: Decision, actor, issued_on: date | None = None, new_decision: bool = False
) -> Certificate:
    """Issue the certificate a grant decision allows, with sub-certificates for other sites.

    ``issued_on`` defaults to the decision date and may not precede it (004 §6.2.2).
    Initial validity: 3 years from the decision date, ending the day before. Recertification:
    validity continues from the previous certificate's expiry, which becomes superseded (004 §6.2.3,
    Appendix C.4). Refused (``RuleViolation``, 004 §5.3.2(1)) while an invoice of the
    application's contract for certification fees is unpaid and not waived
    (``applications.selectors.unpaid_certification_invoices``); a grant decision
    (``decision_make``) issues within its own transaction, so the grant is refused with it.
    ``new_decision``: the caller made ``decision`` in its transaction (``decision_make``) with
    its audit, programme, organisation and application loaded, so the decision is neither read
    and locked again nor checked for an earlier issue, and the issue takes no savepoint of its
    own (one round trip fewer while the number row is held): an error, a refusal included,
    rolls back the caller's transaction or savepoint with it.

    Order inside the transaction (issue #16): every issue of the year waits for the yearly
    number row (``allocate_sequence``) until the one holding it commits, so throughput is one
    over the time it is held. Everything is therefore done before it, with a provisional
    number (``provisional_number``) standing in for the real one: the checks, the planning of
    the cycle's surveillance and recertification audits, the certificates and their history,
    business scopes and events, the superseded predecessor, the public rows, and the pending
    certificate PDFs and approval notice (002 §4.1.2) with their HTML rendered from the records
    of this moment (issue #11; laid out after commit, so a PDF failure never undoes the
    issue). Then the number row is taken and the real numbers are filled in by the last
    statements before commit (``_numbers_fill``: the certificates, their history, the public
    rows, the documents). The row stays locked until commit, so numbers are unique and
    gapless, and a rolled-back issue gives its number back; no row keeps a provisional
    number (each fill checks the rows it changes).
    """
    if decision.outcome != Decision.Outcome.GRANT:
        raise RuleViolation(gettext("Only a grant decision issues a certificate."), "004 §6.2")
    issued_on = issued_on or decision.decided_on
    if issued_on < decision.decided_on:
        raise RuleViolation(
            gettext("The issue date cannot be earlier than the decision date."), "004 §6.2.2"
        )
    cb = CertificationBody.get()
    with transaction.atomic(savepoint=not new_decision), pdf.documents_held() as documents:
        with public_rows.public_rows_deferred() as rows:
            if not new_decision:
                decision = (
                    Decision.objects.select_for_update(of=("self",))
                    .select_related(
                        "audit__programme__organization", "audit__programme__application"
                    )
                    .get(pk=decision.pk)
                )
                if decision.certificates.exists():
                    raise RuleViolation(
                        gettext("This decision has issued its certificate already.")
                    )
            head, subs = _issue_provisionally(
                decision=decision, actor=actor, issued_on=issued_on, cb=cb
            )
        # The number: from here to commit every other issue of the year waits.
        _numbers_fill(
            [head, *subs],
            allocate_sequence(issued_on.year),
            cb=cb,
            rows=rows,
            documents=documents,
        )
    return head


def _issue_provisionally(*, decision, actor, issued_on, cb):
    """The issue up to its number (``certificate_issue``) of ``decision``, locked and not
    issued yet, with its audit's programme, organisation and application loaded:
    ``(head, subs)`` written with
    provisional numbers; the public rows follow when the caller's ``public_rows_deferred``
    block ends, the documents' render when its ``pdf.documents_held`` block ends."""
    audit = decision.audit
    programme = audit.programme
    organization = programme.organization
    application = programme.application
    guards.fees_paid(application)
    previous = selectors.current_certificate(organization.pk)
    renews = previous is not None and audit.kind == Audit.Kind.RECERTIFICATION
    if renews:
        expires_on = add_months(previous.expires_on, VALIDITY_MONTHS)
    else:
        # domain.md §10: initial validity starts on the decision date (not a later issue
        # date), so the certificate never runs more than 3 years from the decision.
        expires_on = add_months(decision.decided_on, VALIDITY_MONTHS) - timedelta(days=1)
    planned = audit_services.programme_plan_cycle(
        programme=programme,
        actor=actor,
        decision_date=decision.decided_on,
        expires_on=expires_on,
    )
    first_surveillance = next(
        (
            a
            for a in planned  # created or re-dated just now: no need to read it back
            if a.kind == Audit.Kind.SURVEILLANCE and a.sequence == 1 and a.due_on
        ),
        None,
    ) or (
        Audit.objects.filter(programme=programme, kind=Audit.Kind.SURVEILLANCE, sequence=1)
        .exclude(due_on=None)
        .first()
    )
    scopes = list(application.business_scopes.all())
    sites = list(Site.objects.filter(organization=organization))  # head office first
    other_sites = [site for site in sites if not site.is_head_office]  # by pk
    if len(sites) < 2:
        other_sites = []
    common = {
        "organization": organization,
        "organization_name": organization.name,
        "registered_address": organization.registered_address,
        "programme": programme,
        "decision": decision,
        "year": issued_on.year,
        "sequence": PROVISIONAL_SEQUENCE + decision.pk,
        "cycle": programme.cycle,
        "accreditation": cb.accreditation,
        "star_grade": decision.star_grade,
        "standard": cb.standard,
        "issued_on": issued_on,
        "expires_on": expires_on,
        "status_changed_on": issued_on,
    }
    head = Certificate(
        number=provisional_number(decision.pk, 0), scope_text=application.scope_text, **common
    )
    subs = [
        Certificate(
            number=provisional_number(decision.pk, k),
            site=site,
            scope_text=site.scope_text or head.scope_text,
            **common,
        )
        for k, site in enumerate(other_sites, start=1)
    ]
    certificates = [head, *subs]
    for certificate in certificates:
        certificate.token = new_token()
    record(head, actor=actor, reason="发证")
    head.save()
    for sub in subs:
        sub.head = head
        record(sub, actor=actor, reason="发子证书")
        sub.save()
    # New rows: no existing links to read first (``set`` would); the public rows are
    # rebuilt once at the end of the deferred block anyway.
    Certificate.business_scopes.through.objects.bulk_create(
        [
            Certificate.business_scopes.through(certificate=certificate, businessscope=scope)
            for certificate in certificates
            for scope in scopes
        ]
    )
    for certificate in certificates:
        event = record_event(
            certificate, CertificateEvent.Kind.ISSUED, issued_on, actor, reason="发证"
        )
        # Complete here but for the number, which ``_numbers_fill`` replaces in the row
        # built from these objects at the end of the block (issue #16).
        public_rows.public_rows_provide(certificate, scopes=scopes, events=[event])
    if renews:
        previous = lock(Certificate, previous.pk)
        previous.superseded_by = head
        change_status(
            previous,
            "supersede",
            CertificateEvent.Kind.SUPERSEDED,
            actor=actor,
            on=issued_on,
            change_code="97_03",
            reason_code="0120",
            reason=cnca_label("withdrawal_reason", "0120"),
            fields=["superseded_by"],
            follow_fields=(),
        )
    for certificate in certificates:
        # Pending until rendered after commit; the HTML is the content of this moment.
        pdf.document_queue(
            certificate=certificate,
            kind=CertificateDocument.Kind.CERTIFICATE,
            html=pdf.certificate_html(certificate, scopes=scopes, sites=sites),
            expected=pdf.certificate_expected(certificate),
            actor=actor,
            note="初次发证" if certificate.cycle == 0 else "再认证发证",
        )
    # The sub-certificates' numbers sorted as the real ones will sort: they share all but
    # the "-k" suffix, so by str(k) whatever the sequence.
    by_suffix = sorted(range(1, len(subs) + 1), key=str)
    notice_issue(
        kind=CertificateDocument.Kind.APPROVAL_NOTICE,
        actor=actor,
        on=issued_on,
        certificate=head,
        decision=decision,
        facts={
            "first_surveillance_due": first_surveillance and first_surveillance.due_on,
            "sub_numbers": [subs[k - 1].number for k in by_suffix],
        },
    )
    return head, subs


def _numbers_fill(certificates, sequence: int, *, cb, rows, documents) -> None:
    """Replace the provisional numbers of an issue by the real ones (``sequence`` from
    ``allocate_sequence``; ``certificates`` the head then its subs in order) in every row that
    shows them: the certificates and their history rows (number, sequence), the public rows
    ``rows`` (number and payloads, a head's number in its subs' and its predecessor's) and the
    pending ``documents`` (HTML and expected texts). Four UPDATE statements, the last of the
    issue while every other issue of the year waits, in one round trip on PostgreSQL
    (``updates_run``); each is checked to have found every row (else ``RuntimeError``, and
    the transaction rolls back)."""
    head = certificates[0]
    numbers = {}
    for k, certificate in enumerate(certificates):
        numbers[certificate.number] = numbering.format_number(
            cb.number_prefix, head.year, sequence, head.cycle, cb.accreditation, sub=k or None
        )
    changes = {c.pk: {"number": numbers[c.number], "sequence": sequence} for c in certificates}
    # (sql, params, rows it must update, whether more may be: history rows, one or more each)
    updates = [
        (*rows_update_sql(Certificate, "pk", changes), len(changes), False),
        (*rows_update_sql(Certificate.history.model, "id", changes), len(changes), True),
    ]
    for update in (
        public_rows.public_rows_replace_sql(rows, numbers),
        pdf.documents_replace_sql(documents, numbers),
    ):
        if update is not None:
            updates.append((*update, False))
    counts = updates_run([(sql, params) for sql, params, _rows, _more in updates])
    for (sql, _params, expected, more), count in zip(updates, counts, strict=True):
        if count < expected or (count > expected and not more):
            raise RuntimeError(f"{expected} rows to fill in, {count} found: {sql[:60]}")
    for certificate in certificates:
        certificate.number = numbers[certificate.number]
        certificate.sequence = sequence
