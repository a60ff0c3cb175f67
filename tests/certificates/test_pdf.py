"""The certificate PDF: content of 004 §6.2.5 / 001 §6.7.1, A4, QR to the public page, and
immutable storage with SHA-256 (004 §10)."""

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.utils import translation

from applications.models import GRADE_CHOICES
from certbody import pdf as certbody_pdf
from certificates import pdf
from certificates.models import CertificateDocument
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import issued_certificate
from tests.certificates.helpers import (
    certificate_document,
    multi_site_certificate,
    pdf_reader,
    pdf_text,
    squeeze,
)
from tests.shared import shared_fixture

pytestmark = [pytest.mark.usefixtures("cb"), pytest.mark.pdf]

A4_POINTS = (595.28, 841.89)


@shared_fixture
def certificate(cb):
    organization = OrganizationFactory(name="北京京东家电服务有限公司")
    return issued_certificate(organization, grade="four_star")


@shared_fixture
def stored_pdf(certificate) -> bytes:
    with certificate_document(certificate).file.open("rb") as handle:
        return handle.read()


@shared_fixture
def text(stored_pdf) -> str:
    return pdf_text(stored_pdf)


@shared_fixture
def multi_site(staff):
    """(head, sub): a multi-site client's head certificate and one sub-certificate."""
    return multi_site_certificate(staff=staff)


def test_pdf_names_the_organisation_with_its_uscc_and_address(certificate, text):
    organization = certificate.organization
    assert "北京京东家电服务有限公司" in text
    assert organization.uscc in text
    assert squeeze(organization.registered_address) in text


def test_pdf_shows_the_certificate_number(certificate, text):
    assert f"证书编号：{certificate.number}" in text


def test_pdf_shows_issue_and_expiry_dates_in_chinese_format(text):
    assert "发证日期2025年3月20日" in text
    assert "有效期至2028年3月19日" in text


def test_pdf_shows_the_star_grade_label(text):
    with translation.override("zh-hans"):
        label = str(dict(GRADE_CHOICES)["four_star"])
    assert f"星级{squeeze(label)}" in text
    assert squeeze(str(dict(GRADE_CHOICES)["five_star"])) not in text


def test_pdf_names_the_standard_and_the_scope(certificate, text):
    assert "GB/T27922" in text
    assert squeeze(certificate.scope_text) in text


def test_pdf_carries_the_cnca_query_sentence_and_the_validity_notice(text):
    assert "本证书信息可在国家认证认可监督管理委员会官方网站（www.cnca.gov.cn）上查询" in text
    assert "本证书在有效期内须通过认证机构的监督审核方能保持有效" in text


def test_pdf_names_the_certification_body(text):
    assert "中信认证有限公司" in text
    assert squeeze("北京市朝阳区建国路 88 号") in text
    assert "CNCA-R-2018-123" in text


def test_pdf_tells_where_to_verify_by_token_not_by_number(certificate, text):
    url = pdf.verification_url(certificate)

    assert squeeze(url) in text
    assert url.endswith(f"/verify/{certificate.token}/")
    assert certificate.number not in url
    assert f"/{certificate.pk}/" not in url


def test_pdf_is_one_a4_page(stored_pdf):
    reader = pdf_reader(stored_pdf)

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(A4_POINTS[0], abs=1)
    assert float(box.height) == pytest.approx(A4_POINTS[1], abs=1)


def test_pdf_embeds_one_font_face_and_stays_under_300_kb(stored_pdf):
    # Issue #16: each embedded CJK face is subset keeping its ~63,000 glyph ids, so a second
    # face (bold) doubled the subsetting time and added 80-130 KB.
    fonts = pdf_reader(stored_pdf).pages[0]["/Resources"]["/Font"]
    names = {str(font.get_object()["/BaseFont"]).split("+", 1)[-1] for font in fonts.values()}

    assert names == {"Noto-Serif-CJK-SC"}
    assert len(stored_pdf) <= 300 * 1024


def test_stored_document_records_the_sha256_and_size_of_its_file(certificate, stored_pdf):
    document = certificate_document(certificate)

    assert stored_pdf.startswith(b"%PDF")
    assert document.sha256 == hashlib.sha256(stored_pdf).hexdigest()
    assert document.size == len(stored_pdf)
    assert document.file.name.startswith(f"certificates/{certificate.organization_id}/")
    assert document.file.name.endswith(".pdf")


def test_qr_code_in_the_rendered_html_encodes_the_token_url(certificate, monkeypatch):
    rendered = []
    real_html_to_pdf = certbody_pdf.html_to_pdf

    def spy(html):
        rendered.append(html)
        return real_html_to_pdf(html)

    monkeypatch.setattr(certbody_pdf, "html_to_pdf", spy)

    content = pdf.render_certificate_pdf(certificate)

    assert content.startswith(b"%PDF")
    (html,) = rendered
    url = pdf.verification_url(certificate)
    assert "<svg" in html
    assert pdf.qr_svg(url) in html
    # Deterministic: a QR of any other URL (e.g. by number) would be a different drawing.
    assert pdf.qr_svg(url.replace(certificate.token, certificate.number)) not in html


def test_sub_certificate_pdf_shows_its_own_number_and_the_head_number(multi_site):
    head, sub = multi_site

    with certificate_document(sub).file.open("rb") as handle:
        text = pdf_text(handle.read())

    assert f"证书编号：{sub.number}" in text
    assert f"主证书编号{head.number}" in text
    assert "子证书" in text
    assert squeeze(sub.site.address) in text


def test_head_certificate_pdf_lists_every_site(multi_site):
    head, sub = multi_site

    with certificate_document(head).file.open("rb") as handle:
        text = pdf_text(handle.read())

    assert f"证书编号：{head.number}" in text
    assert "主证书编号" not in text
    for site in head.organization.sites.all():
        assert squeeze(site.address) in text


def test_storing_twice_keeps_both_files_under_different_names(certificate):
    first_content = b"%PDF-1.7 first issue"
    first = pdf.store_document(
        certificate=certificate,
        kind=CertificateDocument.Kind.CERTIFICATE,
        content=first_content,
        actor=certificate.decision.decided_by,
    )
    second = pdf.store_document(
        certificate=certificate,
        kind=CertificateDocument.Kind.CERTIFICATE,
        content=first_content,
        actor=certificate.decision.decided_by,
    )

    assert first.pk != second.pk
    assert first.file.name != second.file.name
    assert default_storage.exists(first.file.name)
    assert default_storage.exists(second.file.name)
    with default_storage.open(first.file.name, "rb") as handle:
        assert handle.read() == first_content
    assert certificate.documents.filter(kind=CertificateDocument.Kind.CERTIFICATE).count() == 3


def test_issued_document_cannot_be_saved_again(certificate):
    document = certificate_document(certificate)
    document.note = "改写"

    with pytest.raises(ValueError, match="immutable"):
        document.save()

    document.refresh_from_db()
    assert document.note != "改写"
