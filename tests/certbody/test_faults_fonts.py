"""Issue #11 fault tests: without Chinese fonts no PDF is made or stored.

fontconfig reads its configuration once per process, so each case runs in a subprocess whose
``FONTCONFIG_FILE`` hides the Noto CJK fonts (only DejaVu, or nothing at all).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from certbody import pdf
from certbody.checks import pdf_fonts_check

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
BASE_DIR = Path(settings.BASE_DIR)


def fonts_conf(tmp_path: Path, *directories: Path) -> Path:
    fonts = tmp_path / "fonts"
    fonts.mkdir(exist_ok=True)
    dirs = "".join(f"<dir>{d}</dir>" for d in (*directories, fonts))
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig>{dirs}<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    return conf


def run(tmp_path: Path, conf: Path, *args: str, **env) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "PDF_ENABLED")
    }
    environment.update(
        FONTCONFIG_FILE=str(conf),
        XDG_CACHE_HOME=str(tmp_path / "xdg"),
        DJANGO_SETTINGS_MODULE="certbody.settings",
        PYTHONPATH=str(BASE_DIR),
        MEDIA_ROOT=str(tmp_path / "media"),
        **env,
    )
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )


RENDER = """
import django
django.setup()
from certbody import pdf
html = (
    '<html><body style="font-family: Noto Serif CJK SC, serif">'
    "中信认证有限公司 012325FW0001R0C</body></html>"
)
try:
    pdf.render_checked(html, expected=["中信认证有限公司", "012325FW0001R0C"])
except pdf.PdfError as exc:
    print("REFUSED:", exc)
else:
    print("RENDERED")
"""

# The 14 KB certificate of the issue: WeasyPrint run with DejaVu only (font check skipped).
READ_BACK = """
import django
django.setup()
from certbody import pdf
html = (
    '<html><body style="font-family: Noto Serif CJK SC, serif">'
    "中信认证有限公司 012325FW0001R0C</body></html>"
)
content = pdf.html_to_pdf(html)
print("BYTES", len(content))
try:
    pdf.check_readable(content, ["中信认证有限公司", "012325FW0001R0C"])
except pdf.PdfError as exc:
    print("REFUSED:", exc)
else:
    print("READABLE")
"""


@pytest.mark.skipif(not DEJAVU.is_dir(), reason="needs the DejaVu fonts")
def test_check_reports_an_error_when_only_dejavu_is_installed(tmp_path):
    result = run(tmp_path, fonts_conf(tmp_path, DEJAVU), "manage.py", "check")

    assert result.returncode != 0
    assert "certbody.E010" in result.stderr
    assert "certificates/pdf/certificate.html" in result.stderr
    assert "no Chinese glyphs" in result.stderr


def test_check_reports_an_error_when_no_font_is_installed(tmp_path):
    result = run(tmp_path, fonts_conf(tmp_path), "manage.py", "check")

    assert result.returncode != 0
    assert "certbody.E010" in result.stderr
    assert "no font is installed at all" in result.stderr


def test_check_only_warns_where_pdfs_are_disabled(tmp_path):
    result = run(tmp_path, fonts_conf(tmp_path), "manage.py", "check", PDF_ENABLED="0")

    assert result.returncode == 0, result.stderr
    assert "certbody.W010" in result.stderr + result.stdout


@pytest.mark.skipif(not DEJAVU.is_dir(), reason="needs the DejaVu fonts")
def test_render_is_refused_before_weasyprint_runs_without_chinese_fonts(tmp_path):
    result = run(tmp_path, fonts_conf(tmp_path, DEJAVU), "-c", RENDER)

    assert result.returncode == 0, result.stderr
    assert "REFUSED: Chinese fonts missing" in result.stdout


def test_render_is_refused_with_no_font_at_all_instead_of_crashing(tmp_path):
    result = run(tmp_path, fonts_conf(tmp_path), "-c", RENDER)

    assert result.returncode == 0, result.stderr
    assert "REFUSED: Chinese fonts missing" in result.stdout


@pytest.mark.pdf
@pytest.mark.skipif(not DEJAVU.is_dir(), reason="needs the DejaVu fonts")
def test_a_pdf_laid_out_with_dejavu_only_fails_the_read_back(tmp_path):
    result = run(tmp_path, fonts_conf(tmp_path, DEJAVU), "-c", READ_BACK)

    assert result.returncode == 0, result.stderr
    assert "REFUSED: the PDF's text cannot be read back" in result.stdout
    assert "中信认证有限公司" in result.stdout


@pytest.mark.pdf
def test_the_fonts_of_this_machine_pass_the_check():
    """The test machine, like the image, has fonts-noto-cjk (the pdf tests need it)."""
    assert pdf.font_problems() == []
    assert pdf_fonts_check() == []
    pdf.require_fonts()


def test_the_check_reads_the_families_the_pdf_templates_name():
    families = pdf.pdf_template_families()

    assert set(families) >= {
        "certificates/pdf/certificate.html",
        "pdf/notice_base.html",
        "audits/pdf/audit_report.html",
    }
    assert families["certificates/pdf/certificate.html"][0][0] == "Noto Serif CJK SC"
