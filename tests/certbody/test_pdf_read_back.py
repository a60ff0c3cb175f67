"""Issue #11 / #16: every stored PDF is read back (pypdf) and must show its expected texts; the
read-back skips the content stream's path-building lines (the QR code: two thirds of what was
parsed), which carry no text, and stops at the first page where every text is found."""

import io
import re

import pytest
import segno
from pypdf import PdfReader

from certbody import pdf

pytestmark = pytest.mark.pdf

QR = segno.make("https://cb.example.cn/verify/WarmUp_sample-0123456789abcdefgh/", error="m")


def document(*pages: str) -> str:
    body = "".join(f"<section style='break-before: page'>{page}</section>" for page in pages)
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'></head>"
        f"<body style='font-family: \"Noto Serif CJK SC\", serif'>{body}</body></html>"
    )


def plain_pypdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def with_qr() -> bytes:
    return pdf.html_to_pdf(
        document(
            f"<p>证书编号：012326FW0001R0C</p>{QR.svg_inline(scale=3, border=2)}"
            "<p>获证组织名称 北京京东家电服务有限公司（示例）</p>"
        )
    )


def test_the_qr_code_is_drawn_with_path_lines_that_the_read_back_skips(with_qr):
    contents = PdfReader(io.BytesIO(with_qr)).pages[0].get_contents().get_data()

    assert len(pdf._PATH_LINE.findall(contents)) > 200


def test_skipping_path_lines_reads_the_same_text_as_pypdf_alone(with_qr):
    assert pdf.pdf_text(with_qr) == plain_pypdf_text(with_qr)
    assert "证书编号：012326FW0001R0C" in pdf.pdf_text(with_qr)
    assert "北京京东家电服务有限公司（示例）" in pdf.pdf_text(with_qr)


def test_a_pdf_missing_an_expected_text_is_refused(with_qr):
    pdf.check_readable(with_qr, ["北京京东家电服务有限公司（示例）", "012326FW0001R0C"])

    with pytest.raises(pdf.PdfError, match=r"missing: 上海示例有限公司\)"):
        pdf.check_readable(with_qr, ["北京京东家电服务有限公司（示例）", "上海示例有限公司"])


def test_expected_texts_are_found_on_any_page_and_whitespace_is_ignored():
    content = pdf.html_to_pdf(document("第一页 中信认证有限公司", "第二页 编号 FW 0001"))

    assert pdf.missing_texts(content, ["中信认证有限公司", "编号FW0001", " "]) == []
    assert pdf.missing_texts(content, ["第三页", "第二页"]) == ["第三页"]


def test_a_file_that_is_not_a_readable_pdf_misses_every_text():
    assert pdf.missing_texts(b"%PDF-1.7 truncated", ["中信", "0001"]) == ["中信", "0001"]
    assert pdf.pdf_text(b"%PDF-1.7 truncated") == ""
    with pytest.raises(pdf.PdfError, match="did not return a PDF"):
        pdf.check_readable(b"<html>", ["中信"])
