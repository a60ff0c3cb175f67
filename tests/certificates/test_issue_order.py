"""How an issue is ordered inside its transaction (issue #16): the yearly number row is locked
once every row is written (with a provisional number) and a rolled-back grant gives its number
back; each public row is built once; the QR code has a fixed mask, so it is a pure function of
the verification URL."""

import json
from datetime import date

import pytest
import segno
from django.db import transaction

from audits.models import Audit
from certificates import pdf, public_rows, services
from certificates.models import (
    Certificate,
    CertificateDocument,
    CertificateSequence,
    PublicCertificate,
)
from certificates.services import issue as issue_module
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.certificates.factories import completed_stage2
from tests.certificates.helpers import skip_pdf_rendering

pytestmark = pytest.mark.django_db

DECIDED_ON = date(2025, 3, 20)  # stage 2 of completed_stage2 ends 2025-03-12


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


def grant(audit, staff):
    return services.decision_make(
        audit=audit, actor=staff.decider, outcome="grant", decided_on=DECIDED_ON
    )


def test_the_number_row_is_locked_after_every_row_is_written(staff, monkeypatch):
    stage2 = completed_stage2(staff=staff)
    seen = {}
    allocate = issue_module.allocate_sequence

    def watching(year):
        # What the transaction has done when it takes the yearly number row: everything, with
        # a provisional number standing in for the real one.
        programme = stage2.programme
        seen["planned"] = sorted(
            programme.audits.filter(state=Audit.State.PLANNED).values_list("kind", "sequence")
        )
        seen["certificates"] = list(
            Certificate.objects.filter(programme=programme).values_list("number", flat=True)
        )
        seen["public"] = list(
            PublicCertificate.objects.filter(certificate__programme=programme).values_list(
                "number", flat=True
            )
        )
        seen["documents"] = sorted(
            CertificateDocument.objects.filter(organization=programme.organization).values_list(
                "kind", flat=True
            )
        )
        return allocate(year)

    monkeypatch.setattr(issue_module, "allocate_sequence", watching)
    decision = grant(stage2, staff)
    provisional = issue_module.provisional_number(decision.pk, 0)
    assert seen == {
        "planned": [("recertification", 1), ("surveillance", 1), ("surveillance", 2)],
        "certificates": [provisional],
        "public": [provisional],
        "documents": ["approval_notice", "certificate"],
    }
    certificate = Certificate.objects.get(programme=stage2.programme)
    assert certificate.number == "012325FW0001R0C"
    # The number was filled in after it: the PDF and the notice show it.
    documents = CertificateDocument.objects.filter(certificate=certificate)
    assert {d.kind for d in documents} == {"certificate", "approval_notice"}
    assert all(certificate.number in d.html for d in documents)
    assert not any(provisional in d.html for d in documents)


def test_a_grant_rolled_back_after_its_number_gives_the_number_back(staff, monkeypatch):
    first, second = completed_stage2(staff=staff), completed_stage2(staff=staff)

    class Boom(Exception):
        pass

    def failing_fill(rows, numbers):  # a step of the issue after the number
        raise Boom

    with monkeypatch.context() as patch:
        patch.setattr(public_rows, "public_rows_replace_sql", failing_fill)
        with pytest.raises(Boom):
            grant(first, staff)
    assert not Certificate.objects.exists()
    assert not first.decisions.exists()
    assert not CertificateSequence.objects.filter(year=2025, last__gt=0).exists()

    certificate = Certificate.objects.get(decision=grant(second, staff))
    assert (certificate.sequence, certificate.number) == (1, "012325FW0001R0C")
    certificate = Certificate.objects.get(decision=grant(first, staff))
    assert (certificate.sequence, certificate.number) == (2, "012325FW0002R0C")


def test_each_public_row_is_built_once_per_issue_and_shows_the_issue(staff, monkeypatch):
    organization = OrganizationFactory()
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    SiteFactory(organization=organization)
    stage2 = completed_stage2(organization, staff)
    built = []
    build = public_rows.public_row_build

    def counting(certificate, **held):
        built.append(certificate.pk)
        return build(certificate, **held)

    monkeypatch.setattr(public_rows, "public_row_build", counting)
    decision = grant(stage2, staff)
    certificates = list(decision.certificates.order_by("number"))
    assert [c.number for c in certificates] == ["012325FW0001R0C", "012325FW0001R0C-1"]
    assert sorted(built) == sorted(c.pk for c in certificates)
    for certificate in certificates:
        row = PublicCertificate.objects.get(certificate=certificate)
        payload = json.loads(row.payload_en)
        assert (row.number, row.token, row.status) == (
            certificate.number,
            certificate.token,
            "valid",
        )
        assert [event["kind"] for event in payload["history"]] == ["issued"]
        assert [s["code"] for s in payload["business_scopes"]] == [
            s.code for s in stage2.programme.application.business_scopes.all()
        ]
        assert set(certificate.business_scopes.all()) == set(
            stage2.programme.application.business_scopes.all()
        )
        html = CertificateDocument.objects.get(certificate=certificate, kind="certificate").html
        assert pdf.qr_svg(pdf.verification_url(certificate)) in html


def test_deferred_rows_are_rebuilt_once_when_the_outermost_block_ends(staff):
    stage2 = completed_stage2(staff=staff)
    certificate = Certificate.objects.get(decision=grant(stage2, staff))

    def shown_name():
        return PublicCertificate.objects.get(certificate=certificate).organization_name

    before = shown_name()
    with transaction.atomic():
        with public_rows.public_rows_deferred():
            with public_rows.public_rows_deferred():  # joins the outer block
                Certificate.objects.filter(pk=certificate.pk).update(organization_name="改名")
                public_rows._refresh([certificate.pk])
            assert shown_name() == before
        assert shown_name() == "改名"
    with (
        pytest.raises(LookupError),
        transaction.atomic(),
        public_rows.public_rows_deferred(),
    ):
        Certificate.objects.filter(pk=certificate.pk).update(organization_name="又改名")
        public_rows._refresh([certificate.pk])
        raise LookupError  # the block fails: nothing is rebuilt, the change rolls back
    assert shown_name() == "改名"


URL = "https://cert.example.cn/verify/t/_q65bjE6f6-hu8N36XGERy_aiksUWl2V/"


def test_the_qr_code_has_the_fixed_mask_and_depends_only_on_the_url():
    pdf.qr_svg.cache_clear()
    first = pdf.qr_svg(URL)
    pdf.qr_svg.cache_clear()
    assert pdf.qr_svg(URL) == first  # not only the cache: the same symbol every time
    code = segno.make(URL, error="m", mask=pdf.QR_MASK)
    assert code.mask == pdf.QR_MASK
    assert code.svg_inline(scale=3, border=2) == first
    # Every mask encodes the same data (ISO/IEC 18004 §7.8); only the choice is fixed.
    assert segno.make(URL, error="m").designator == code.designator
    assert pdf.qr_svg(URL.replace("_q65", "_r65")) != first
