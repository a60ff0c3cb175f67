"""Issue #16: a worker pays the PDF's one-off costs (WeasyPrint, fonts, templates) at start-up,
not in a client's first request: ``certbody.pdf.warm_up`` from gunicorn's ``post_worker_init``
and Celery's ``worker_process_init``."""

import gc
import runpy
from pathlib import Path

import pytest
from celery.signals import worker_process_init
from django.conf import settings
from django.test.signals import template_rendered

from certbody import pdf
from certificates.pdf import CERTIFICATE_TEMPLATE, warm_up_document

BASE_DIR = Path(settings.BASE_DIR)


def test_the_warm_up_document_sets_every_template_family_regular_and_bold():
    html = pdf.warm_up_html()
    for declarations in pdf.pdf_template_families().values():
        for declared in declarations:
            assert declared[0] in html
    assert "font-weight: bold" in html and "font-weight: normal" in html
    assert pdf.CJK_SAMPLE in html


@pytest.fixture
def unfreeze():
    """``warm_up`` freezes the garbage collector's heap (a worker's start-up heap); give the
    test process its collector back."""
    yield
    gc.unfreeze()


@pytest.mark.pdf
def test_warm_up_renders_the_real_certificate_template_then_every_family(monkeypatch, unfreeze):
    rendered, templates = [], []
    real = pdf.html_to_pdf
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: rendered.append(html) or real(html))

    def on_render(sender, template, context, **kwargs):
        templates.append(template.name)

    template_rendered.connect(on_render)
    try:
        seconds = pdf.warm_up()
    finally:
        template_rendered.disconnect(on_render)

    assert seconds is not None and seconds > 0
    assert CERTIFICATE_TEMPLATE in templates
    sample_html, expected = warm_up_document()
    assert rendered == [sample_html, pdf.warm_up_html()]
    # the font configuration it loaded is the one every later render reuses
    assert pdf.font_config() is pdf.font_config()
    text = pdf.pdf_text(real(sample_html))
    assert all(pdf.squeeze(item) in text for item in expected)
    assert gc.get_freeze_count() > 0  # the start-up heap is left out of later collections


def test_certificates_register_their_warm_up_document():
    assert warm_up_document in pdf.warm_up_documents()
    pdf.register_warm_up_document(warm_up_document)
    assert pdf.warm_up_documents().count(warm_up_document) == 1


def test_the_certificate_warm_up_document_reads_no_database_and_shows_a_whole_certificate():
    # no ``db`` fixture: pytest-django fails any query
    html, expected = warm_up_document()

    assert "证书编号：012326FW0001R0C" in html
    assert "<svg" in html and "<ol" in html  # the QR code and the list of sites
    assert "/verify/" in html
    assert expected == ["示例（北京）家电销售服务有限公司", "012326FW0001R0C"]


def test_a_failing_sample_document_never_stops_the_worker(monkeypatch, caplog):
    def broken():
        raise RuntimeError("no template")

    monkeypatch.setattr(pdf, "_warm_up_documents", [broken])
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: pytest.fail("rendered"))

    assert pdf.warm_up() is None
    assert "PDF warm-up failed" in caplog.text


@pytest.mark.parametrize("setting", ["PDF_ENABLED", "PDF_WARM_UP"])
def test_warm_up_does_nothing_when_switched_off(settings, monkeypatch, setting):
    setattr(settings, setting, False)
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: pytest.fail("rendered"))
    assert pdf.warm_up() is None


def test_a_failing_warm_up_never_stops_the_worker(monkeypatch, caplog):
    def missing():
        raise pdf.PdfError("Chinese fonts missing: test")

    monkeypatch.setattr(pdf, "require_fonts", missing)
    assert pdf.warm_up() is None
    assert "PDF warm-up failed" in caplog.text


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, message, *args):
        self.lines.append(message % args)


class _Worker:
    log = _Log()


def test_gunicorn_workers_warm_up_once_the_application_is_loaded(monkeypatch):
    calls = []
    monkeypatch.setattr(pdf, "warm_up", lambda: calls.append("warm") or 0.5)
    config = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    worker = _Worker()

    config["post_worker_init"](worker)

    assert calls == ["warm"]
    assert worker.log.lines == ["PDF warm-up in 0.50 s"]


def test_celery_pool_processes_warm_up_at_start(monkeypatch):
    import certbody.celery  # noqa: F401  (connects the signal)

    calls = []
    monkeypatch.setattr(pdf, "warm_up", lambda: calls.append("warm"))

    worker_process_init.send(sender=None)

    assert calls == ["warm"]
