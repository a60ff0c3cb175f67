"""What a grant costs in queries (issue #16): the count is pinned, so a change that reads the
same rows again, or one row at a time, fails here; the decider's groups are read once; the
public row an issue builds from the objects it holds equals one read back from the database."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.models import Audit
from certbody.models import User
from certificates import pdf, public_rows, services
from certificates.models import Certificate, PublicCertificate
from certificates.public import public_queryset
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.certificates.factories import completed_stage2

pytestmark = pytest.mark.django_db

DECIDED_ON = date(2025, 3, 20)  # stage 2 of completed_stage2 ends 2025-03-12

# The queries of one grant on a client with one site, from ``decision_make`` to the end of its
# transaction, with a decider and an audit loaded afresh (as a request loads them): the
# decider's groups (1); the savepoint of ``decision_make`` (2); the checks of 004 §5.12 (8: the
# locked audit with its programme, organisation and application, the team, a declared
# interest, full-time staff, the signed report, two nonconformity reads, the score sheet with
# its special deductions counted); the decision and its history (2); closing the audit,
# locked already (2); the issue (22 + the fill: the fees (2), the current certificate;
# planning the cycle (9: the programme locked, saved with its history, ASRP, the cycle's
# audits, the reference audit time, a later cycle, the three new audits and their history in
# two statements); scopes, sites, the certificate and its history, its scopes, its event, two
# pending documents, the public row; then the number, and the four UPDATEs that fill it in
# (the certificate, its history, the public row, the documents): one statement on
# PostgreSQL). 67 before issue #16's pass, then 47; 41 (38 on PostgreSQL) since the issue
# fills its number in last and the services a decision calls take no savepoint.
FILL_STATEMENTS = 1 if connection.vendor == "postgresql" else 4
GRANT_QUERIES = 37 + FILL_STATEMENTS


@pytest.fixture
def pending_documents(monkeypatch):
    """Documents stay pending, as when a broker takes them (no render in the count)."""
    monkeypatch.setattr(pdf, "_dispatch", lambda document_id: None)


def fresh(stage2, staff):
    return Audit.objects.get(pk=stage2.pk), User.objects.get(pk=staff.decider.pk)


def test_a_grant_runs_a_pinned_number_of_queries(staff, pending_documents):
    stage2 = completed_stage2(staff=staff)
    audit, decider = fresh(stage2, staff)
    with CaptureQueriesContext(connection) as queries:
        decision = services.decision_make(
            audit=audit, actor=decider, outcome="grant", decided_on=DECIDED_ON
        )
    assert Certificate.objects.filter(decision=decision).count() == 1
    shown = "\n".join(q["sql"][:120] for q in queries.captured_queries)
    assert len(queries.captured_queries) == GRANT_QUERIES, shown


def test_a_grant_reads_the_deciders_groups_once(staff, pending_documents):
    audit, decider = fresh(completed_stage2(staff=staff), staff)
    with CaptureQueriesContext(connection) as queries:
        services.decision_make(audit=audit, actor=decider, outcome="grant", decided_on=DECIDED_ON)
    group_reads = [q for q in queries.captured_queries if '"auth_group"' in q["sql"]]
    assert len(group_reads) == 1


def test_the_public_rows_an_issue_writes_equal_rows_read_back(staff, pending_documents):
    organization = OrganizationFactory()
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    SiteFactory(organization=organization)
    audit, decider = fresh(completed_stage2(organization, staff), staff)
    decision = services.decision_make(
        audit=audit, actor=decider, outcome="grant", decided_on=DECIDED_ON
    )
    certificates = list(
        public_queryset().prefetch_related("events").filter(decision=decision).order_by("number")
    )
    assert len(certificates) == 2  # the head and a sub-certificate
    for certificate in certificates:
        stored = PublicCertificate.objects.get(certificate=certificate)
        read_back = public_rows.public_row_build(certificate)
        for field in ("number", "token", "status", "organization_name", "uscc", "etag"):
            assert getattr(stored, field) == getattr(read_back, field), field
        assert (stored.payload_zh, stored.payload_en) == (
            read_back.payload_zh,
            read_back.payload_en,
        )
