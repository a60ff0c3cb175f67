"""Provisional numbers (issue #16): an issue writes every row before it takes the yearly number
row and fills the real number in with its last statements. No row anywhere keeps a stand-in
after the issue; the number row is taken by the last statements; the documents show the real
numbers (the approval notice's sub-certificates sorted as the numbers sort)."""

import re
from datetime import date

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from audits import services as audit_services
from audits.models import Audit
from certificates import pdf, public_rows, services
from certificates.models import Certificate, CertificateDocument, PublicCertificate
from certificates.services import issue as issue_module
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.certificates.factories import (
    accepted_application,
    completed_stage2,
    issued_certificate,
    run_audit,
)

pytestmark = pytest.mark.django_db

DECIDED_ON = date(2025, 3, 20)  # stage 2 of completed_stage2 ends 2025-03-12
MARK = issue_module.PROVISIONAL_MARK


@pytest.fixture
def pending_documents(monkeypatch):
    """Documents stay pending, as when a broker takes them after commit (no render queries
    inside the captured issue)."""
    monkeypatch.setattr(pdf, "_dispatch", lambda document_id: None)


def client_with_sites(others: int):
    organization = OrganizationFactory()
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    for _ in range(others):
        SiteFactory(organization=organization)
    return organization


def recertification_audit(certificate, staff):
    """The organisation's recertification audit, completed and awaiting its decision."""
    application = accepted_application(certificate.organization, staff, kind="recertification")
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    audit = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
    run_audit(audit, staff, date(2025, 9, 1), date(2025, 9, 2))
    return audit


def recertify(certificate, staff):
    return services.decision_make(
        audit=recertification_audit(certificate, staff),
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 9, 10),
    )


def fields_showing(text: str) -> list[str]:
    """``app.Model.field`` of every text or JSON column of every table holding ``text``."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        rows = model._base_manager.all()
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField):
                hit = rows.filter(**{f"{field.attname}__contains": text})
            elif isinstance(field, models.JSONField):
                hit = rows.annotate(_as_text=Cast(field.attname, models.TextField())).filter(
                    _as_text__contains=text
                )
            else:
                continue
            if hit.exists():
                found.append(f"{model._meta.label}.{field.name}")
    return found


def test_no_row_keeps_a_provisional_number_after_an_issue_and_a_renewal(staff):
    first = issued_certificate(client_with_sites(1), staff)
    renewal = recertify(first, staff)
    assert fields_showing(MARK) == []
    history = Certificate.history.model.objects
    assert not Certificate.objects.filter(sequence__gte=issue_module.PROVISIONAL_SEQUENCE).exists()
    assert not history.filter(sequence__gte=issue_module.PROVISIONAL_SEQUENCE).exists()
    head = renewal.certificates.get(head__isnull=True)
    sub = renewal.certificates.get(head__isnull=False)
    assert (head.number, sub.number) == ("012325FW0002R1C", "012325FW0002R1C-1")
    assert {h.number for h in history.filter(id__in=[head.pk, sub.pk])} == {
        head.number,
        sub.number,
    }
    # The real number wherever it is shown: the public rows (the predecessor names its
    # successor), every document's HTML and the texts its PDF must show.
    first.refresh_from_db()
    assert public_rows.public_results([first.number], language="en")[0]["superseded_by"] == (
        head.number
    )
    for certificate in (head, sub):
        row = PublicCertificate.objects.get(certificate=certificate)
        assert row.number == certificate.number
        assert row.etag == public_rows.public_row_build(certificate).etag
        document = CertificateDocument.objects.get(certificate=certificate, kind="certificate")
        assert certificate.number in document.html
        assert certificate.number in document.expected_text
    assert head.number in PublicCertificate.objects.get(certificate=sub).payload_zh
    notice = CertificateDocument.objects.get(decision=renewal, kind="approval_notice")
    assert f"{head.number}<br>子证书：{sub.number}" in notice.html
    assert any(head.number in text for text in notice.expected_text)


def test_the_notice_lists_the_sub_certificates_as_their_numbers_sort(staff):
    stage2 = completed_stage2(client_with_sites(10), staff)
    decision = services.decision_make(
        audit=stage2, actor=staff.decider, outcome="grant", decided_on=DECIDED_ON
    )
    subs = sorted(decision.certificates.exclude(head=None).values_list("number", flat=True))
    assert subs[:3] == ["012325FW0001R0C-1", "012325FW0001R0C-10", "012325FW0001R0C-2"]
    notice = CertificateDocument.objects.get(decision=decision, kind="approval_notice")
    assert "、".join(subs) in notice.html
    assert fields_showing(MARK) == []


def test_the_number_row_is_taken_by_the_last_statements_of_the_issue(staff, pending_documents):
    first = issued_certificate(client_with_sites(1), staff)
    audit = recertification_audit(first, staff)
    with CaptureQueriesContext(connection) as queries:
        services.decision_make(
            audit=audit, actor=staff.decider, outcome="grant", decided_on=date(2025, 9, 10)
        )
    statements = [q["sql"] for q in queries.captured_queries]
    upserts = [i for i, sql in enumerate(statements) if "certificatesequence" in sql]
    assert len(upserts) == 1
    after = [sql for sql in statements[upserts[0] + 1 :] if not sql.startswith("RELEASE")]
    # Only the number being filled in while every other issue of the year waits: the
    # certificates and their history (head and sub), the three public rows (head, sub and the
    # superseded predecessor) and the three pending documents, one UPDATE each; on PostgreSQL
    # the four in one statement (one round trip).
    tables = [
        "certificates_certificate",
        "certificates_historicalcertificate",
        "certificates_publiccertificate",
        "certificates_certificatedocument",
    ]
    assert len(after) == (1 if connection.vendor == "postgresql" else 4), after
    assert re.findall(r'UPDATE "(\w+)"', "\n".join(after)) == tables, after
    assert all(sql.startswith(("UPDATE", "WITH")) for sql in after), after


@pytest.mark.parametrize("gone", ["document", "public row"])
def test_a_fill_that_finds_a_row_missing_rolls_the_issue_back(staff, monkeypatch, gone):
    """A pending document stored meanwhile, or a public row deleted, before the number is
    filled in: the fill finds fewer rows than it must change, and nothing of the grant stays."""
    stage2 = completed_stage2(staff=staff)
    if gone == "document":
        module, name = pdf, "documents_replace_sql"
    else:
        module, name = public_rows, "public_rows_replace_sql"
    fill = getattr(module, name)

    def row_gone(objects, replacements):
        first = type(objects[0]).objects.filter(pk=objects[0].pk)
        if gone == "document":
            first.update(state=CertificateDocument.State.STORED)
        else:
            first.delete()
        return fill(objects, replacements)

    monkeypatch.setattr(module, name, row_gone)
    with pytest.raises(RuntimeError):
        services.decision_make(
            audit=stage2, actor=staff.decider, outcome="grant", decided_on=DECIDED_ON
        )
    assert not Certificate.objects.exists()
    assert not stage2.decisions.exists()
