"""HTML to PDF, the one place WeasyPrint is called (certificates, notices, audit reports).

A4 pages in Chinese need the Noto CJK fonts and HarfBuzz subsetting (``fonts-noto-cjk``,
``libharfbuzz-subset0``); the font configuration is built once per process because the first
render loads the fonts (~2 s).

Without a Chinese font WeasyPrint silently draws empty boxes (a 14 KB certificate
nobody can read, stored as immutable evidence), and with no font at all it crashes the worker.
So a PDF is made only through ``render_checked``:

1. ``require_fonts`` — the font families the PDF templates name must resolve, through
   fontconfig, to a font that has Chinese glyphs (the same question the start-up system check
   ``certbody.E010`` asks; the answer is cached per process once it is yes);
2. ``html_to_pdf`` — the layout;
3. ``check_readable`` — the text is extracted back from the PDF (pypdf) and every expected text
   (the organisation's name, the certificate number or notice reference) must be found in it.

Any failure raises ``PdfError`` and nothing is stored: the caller keeps the document pending
and tries again later (``certificates.pdf``) or refuses the action (audit reports).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import html as html_escape
import io
import logging
import re
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger("certbody.pdf")

# Characters every PDF template prints; a font lacking them cannot set the documents.
CJK_SAMPLE = "认证证书编号组织名称有效期暂停撤销通知书审查报告"
# A ``font-family`` declaration's value (quoted names may hold commas); generic families such
# as ``serif`` are kept: fontconfig resolves them like any other name.
_FONT_FAMILY = re.compile(r"font-family\s*:\s*([^;}\"']*(?:(?:\"[^\"]*\"|'[^']*')[^;}\"']*)*)")


# 004 §6.2.4: certificates, notices and reports are printed in Chinese whatever the interface
# language of the person who issues them.
DOCUMENT_LANGUAGE = "zh-hans"


def document_language():
    """The language every printed document is rendered in (004 §6.2.4): a context manager, also
    usable as a decorator, around building a document's context and rendering its HTML."""
    return translation.override(DOCUMENT_LANGUAGE)


class PdfError(Exception):
    """The PDF cannot be made or is not readable; ``str()`` says why (for staff and logs)."""


@lru_cache(maxsize=1)
def font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def html_to_pdf(html: str) -> bytes:
    """Render an HTML document (``str``) to PDF bytes; relative URLs resolve from BASE_DIR."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=font_config())


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render the Django template ``template_name`` with ``context`` to PDF bytes (no checks;
    ``render_checked`` is the path for anything stored). Rendered in Chinese (004 §6.2.4)."""
    with document_language():
        html = render_to_string(template_name, context)
    return html_to_pdf(html)


def render_checked(html: str, *, expected: list[str] | tuple[str, ...]) -> bytes:
    """``html`` (a complete HTML document) as PDF bytes that show every text of ``expected``.

    Raises ``PdfError`` when PDFs are disabled here (``PDF_ENABLED``), a Chinese font is
    missing, WeasyPrint fails, or the text read back lacks an expected text.
    """
    if not settings.PDF_ENABLED:
        raise PdfError("PDF rendering is disabled in this process (PDF_ENABLED=0)")
    require_fonts()
    try:
        content = html_to_pdf(html)
    except Exception as exc:  # WeasyPrint raises many types; the caller only needs "not made"
        raise PdfError(f"PDF rendering failed: {type(exc).__name__}: {exc}") from exc
    check_readable(content, expected)
    return content


# --- warm-up at worker start (issue #16) --------------------------------------------------------


def warm_up_html() -> str:
    """A one-page document that sets ``CJK_SAMPLE`` (and digits and Latin letters) in every
    ``font-family`` list of the PDF templates, regular and bold: rendering it makes fontconfig,
    Pango and HarfBuzz load every font face the real documents use."""
    families = [
        declared for declarations in pdf_template_families().values() for declared in declarations
    ] or [["serif"]]
    seen, paragraphs = set(), []
    text = f"{CJK_SAMPLE} 0123456789 ABCabc-/:（）"
    for declared in families:
        if tuple(declared) in seen:
            continue
        seen.add(tuple(declared))
        names = ", ".join(f'"{name}"' if " " in name else name for name in declared)
        for weight in ("normal", "bold"):
            paragraphs.append(
                f"<p style='font-family: {html_escape.escape(names, quote=True)}; "
                f"font-weight: {weight}'>{text}</p>"
            )
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'></head><body>"
        + "".join(paragraphs)
        + "</body></html>"
    )


# Builders of sample documents a worker renders at start-up: ``build() -> (html, expected)``,
# registered by the apps that own the templates (``AppConfig.ready``; certbody imports no app).
_warm_up_documents: list[Callable[[], tuple[str, list[str]]]] = []


def register_warm_up_document(build: Callable[[], tuple[str, list[str]]]) -> None:
    """Have ``warm_up`` render ``build()``'s document at worker start.

    ``build`` takes no argument, reads no database and returns ``(html, expected)``: a complete
    HTML document made with a real PDF template from sample data, and the texts its PDF must
    show. Registering the same builder twice keeps one.
    """
    if build not in _warm_up_documents:
        _warm_up_documents.append(build)


def warm_up_documents() -> list[Callable[[], tuple[str, list[str]]]]:
    """The registered sample-document builders, in registration order."""
    return list(_warm_up_documents)


def warm_up() -> float | None:
    """Pay a process's one-off PDF costs now, at worker start, instead of in a client's request
    (issue #16: the first render in a fresh worker ≤ 300 ms, against ~0.2 s warm).

    In order: loads WeasyPrint and pypdf, checks the fonts (``require_fonts``), compiles the PDF
    templates (``<templates dir>/*/pdf/*.html``, Django's cached loader keeps them); renders
    each registered sample document (``register_warm_up_document``: the real certificate
    template with made-up data) through the same path as a stored document — layout with the
    process's ``font_config``, read back with ``check_readable`` — so the template code, the
    URL resolver, Pango's fonts at every size the document uses, HarfBuzz and pypdf are all
    warm; then ``warm_up_html`` (every other family and weight the templates name, e.g. the
    notices' bold). Finally a full garbage collection and ``gc.freeze()``: the start-up heap
    is never scanned again, so no client's request pays a collection of it (it took
    ~0.3 s in the first render after warm-up).

    Called from gunicorn's ``post_worker_init`` (``gunicorn.conf.py``) and Celery's
    ``worker_process_init`` (``certbody.celery``). Returns the seconds it took, or None when it
    did nothing (``PDF_ENABLED`` off, or ``PDF_WARM_UP`` off) or failed. Never raises: a worker
    must start even when the fonts are missing (the system check ``certbody.E010`` and
    ``render_checked`` report that); the failure is logged and the first real render tries
    again.
    """
    if not settings.PDF_ENABLED or not getattr(settings, "PDF_WARM_UP", True):
        return None
    started = time.perf_counter()
    try:
        from django.template.loader import get_template

        require_fonts()
        for name in pdf_template_families():
            get_template(name)
        for build in warm_up_documents():
            html, expected = build()
            check_readable(html_to_pdf(html), expected)
        check_readable(html_to_pdf(warm_up_html()), [CJK_SAMPLE])
    except Exception:  # a worker starts whatever happens here
        logger.exception("PDF warm-up failed; the first PDF of this process will be slower")
        return None
    gc.collect()
    gc.freeze()
    seconds = time.perf_counter() - started
    logger.info("PDF warm-up done in %.2f s", seconds)
    return seconds


# --- reading back ------------------------------------------------------------------------------


def squeeze(text: str) -> str:
    """``text`` without any whitespace (extraction breaks lines and adds spaces)."""
    return re.sub(r"\s+", "", text or "")


# A content-stream line that only builds a path: numbers, then ``m`` (move), ``l`` (line),
# ``c``/``v``/``y`` (curves), ``re`` (rectangle) or ``h`` (close). WeasyPrint writes one operator
# a line; the certificate's QR code alone is ~600 such lines, two thirds of what pypdf parsed
# to read the text back (issue #16). They carry no text, so dropping them changes nothing read.
_PATH_LINE = re.compile(rb"^(?:[-+]?[\d.]+ )*(?:m|l|c|v|y|re|h)\r?\n", re.MULTILINE)


def _page_texts(content: bytes):
    """Yield the text of each page of the PDF ``content`` in order, whitespace removed (pypdf,
    path-building lines skipped). Raises pypdf's errors when the file cannot be parsed."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream, DecodedStreamObject, NameObject

    reader = PdfReader(io.BytesIO(content))
    for page in reader.pages:
        contents = page.get_contents()
        if contents is not None:
            text_only = DecodedStreamObject()
            text_only.set_data(_PATH_LINE.sub(b"", contents.get_data()))
            page[NameObject("/Contents")] = ContentStream(text_only, reader, "bytes")
        yield squeeze(page.extract_text() or "")


_READ_ERRORS = (ValueError, KeyError, TypeError, OSError)


def pdf_text(content: bytes) -> str:
    """All text of the PDF ``content`` (bytes), pages in order, whitespace removed; "" when it
    cannot be parsed."""
    from pypdf.errors import PyPdfError

    try:
        return "".join(_page_texts(content))
    except (PyPdfError, *_READ_ERRORS):
        return ""


def missing_texts(content: bytes, expected) -> list[str]:
    """The texts of ``expected`` (strings; whitespace ignored, empty ones skipped) that the PDF
    ``content`` does not show, in order; all of them when it cannot be parsed. Pages are read
    one by one and reading stops once every text is found (a report's name is on page 1)."""
    from pypdf.errors import PyPdfError

    wanted = [item for item in expected if squeeze(item)]
    text = ""
    try:
        for page_text in _page_texts(content):
            text += page_text
            if all(squeeze(item) in text for item in wanted):
                return []
    except (PyPdfError, *_READ_ERRORS):
        return wanted
    return [item for item in wanted if squeeze(item) not in text]


def check_readable(content: bytes, expected) -> None:
    """Raise ``PdfError`` unless ``content`` is a PDF whose extracted text contains each text
    of ``expected`` (whitespace ignored). Empty boxes instead of Chinese glyphs extract as
    nothing (or as other characters), so a name in Chinese is not found."""
    if not content.startswith(b"%PDF-"):
        raise PdfError("the renderer did not return a PDF")
    missing = missing_texts(content, expected)
    if missing:
        raise PdfError(
            "the PDF's text cannot be read back (missing: "
            + ", ".join(missing)
            + "); a Chinese font is probably missing"
        )


# --- fonts ------------------------------------------------------------------------------------

_fonts_ok = False
_fonts_lock = threading.Lock()


def pdf_template_families() -> dict[str, list[list[str]]]:
    """``{template path: [family list, …]}`` of every ``font-family`` declaration in the PDF
    templates (``<templates dir>/pdf/*.html`` and ``<templates dir>/*/pdf/*.html``), quotes
    stripped, in order."""
    found = {}
    for directory in settings.TEMPLATES[0].get("DIRS", []):
        paths = [*Path(directory).glob("pdf/*.html"), *Path(directory).glob("*/pdf/*.html")]
        for path in sorted(paths):
            declarations = _FONT_FAMILY.findall(path.read_text(encoding="utf-8"))
            if declarations:
                found[str(path.relative_to(directory))] = [
                    [name.strip().strip("\"'") for name in value.split(",") if name.strip()]
                    for value in declarations
                ]
    return found


@lru_cache(maxsize=1)
def _fontconfig():
    name = ctypes.util.find_library("fontconfig") or "libfontconfig.so.1"
    lib = ctypes.CDLL(name)
    lib.FcPatternCreate.restype = ctypes.c_void_p
    lib.FcPatternAddString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.FcConfigSubstitute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.FcDefaultSubstitute.argtypes = [ctypes.c_void_p]
    lib.FcFontMatch.restype = ctypes.c_void_p
    lib.FcFontMatch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    lib.FcPatternGetString.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_char_p),
    ]
    lib.FcPatternGetCharSet.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_void_p),
    ]
    lib.FcCharSetHasChar.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    return lib


def font_match(families: list[str], lang: str = "zh-cn") -> dict | None:
    """What fontconfig (the library Pango and WeasyPrint use) picks for the CSS family list
    ``families`` in Chinese text: ``{"family", "file", "cjk"}``, ``cjk`` True when the font has
    every character of ``CJK_SAMPLE``; None when no font is installed at all."""
    fc = _fontconfig()
    pattern = fc.FcPatternCreate()
    try:
        for family in families:
            fc.FcPatternAddString(pattern, b"family", family.encode())
        fc.FcPatternAddString(pattern, b"lang", lang.encode())
        fc.FcConfigSubstitute(None, pattern, 0)  # FcMatchPattern
        fc.FcDefaultSubstitute(pattern)
        result = ctypes.c_int()
        match = fc.FcFontMatch(None, pattern, ctypes.byref(result))
    finally:
        fc.FcPatternDestroy(pattern)
    if not match:
        return None
    try:
        found = {}
        for key in ("family", "file"):
            value = ctypes.c_char_p()
            ok = fc.FcPatternGetString(match, key.encode(), 0, ctypes.byref(value)) == 0
            found[key] = value.value.decode() if ok and value.value else ""
        charset = ctypes.c_void_p()
        has_charset = fc.FcPatternGetCharSet(match, b"charset", 0, ctypes.byref(charset)) == 0
        found["cjk"] = bool(has_charset) and all(
            fc.FcCharSetHasChar(charset, ord(char)) for char in CJK_SAMPLE
        )
    finally:
        fc.FcPatternDestroy(match)
    return found


def font_problems() -> list[str]:
    """Why the PDF templates cannot be set in Chinese here (an empty list when they can): each
    ``font-family`` declaration must resolve to a font with Chinese glyphs."""
    try:
        families = pdf_template_families()
    except OSError as exc:
        return [f"cannot read the PDF templates: {exc}"]
    if not families:
        return []
    try:
        _fontconfig()
    except OSError as exc:
        return [f"fontconfig cannot be loaded ({exc}); install libfontconfig1"]
    problems = []
    seen: dict[tuple, dict | None] = {}
    for template, declarations in families.items():
        for declared in declarations:
            key = tuple(declared)
            if key not in seen:
                seen[key] = font_match(declared)
            match = seen[key]
            names = ", ".join(declared)
            if match is None:
                problems.append(f"{template}: no font is installed at all (font-family: {names})")
            elif not match["cjk"]:
                problems.append(
                    f"{template}: font-family {names} resolves to {match['family']} "
                    f"({match['file']}), which has no Chinese glyphs"
                )
    return problems


def require_fonts() -> None:
    """Raise ``PdfError`` unless the PDF templates' fonts resolve to Chinese-capable fonts.
    Cheap after the first success in a process (cached); a failure is asked again each time,
    so installing the fonts is noticed without a restart of the check."""
    global _fonts_ok
    if _fonts_ok:
        return
    with _fonts_lock:
        if _fonts_ok:
            return
        problems = font_problems()
        if problems:
            raise PdfError("Chinese fonts missing: " + "; ".join(problems))
        _fonts_ok = True
