"""Certificate PDFs (WeasyPrint, A4, Noto CJK) with a QR code to the public verification page,
and the life of every issued document (certificates and notices).

Issued documents are stored once, immutably, with their SHA-256 (004 §10; 002 §4.1.2).

Issue #11 — a PDF failure never blocks a deadline-bound change, and a broken PDF is never
stored:

- Services call ``document_queue`` inside their transaction. It renders the HTML from the
  records as they are at that moment (cheap; the template is the content) and writes a
  **pending** ``CertificateDocument`` with that HTML and the texts the PDF must show. Nothing
  slow or fallible runs inside the transaction, so the suspension, withdrawal or issue commits
  whatever WeasyPrint does — and the certificate-number lock is released before any layout.
- After commit (``transaction.on_commit``) the Celery task ``certificates.render_document``
  (a worker with ``REDIS_URL``; without it this process's background thread, after the
  response, ``certbody.background``, issue #16) calls ``document_render``: fonts
  checked, laid out, text read back (``certbody.pdf.render_checked``), file written, and the
  row filled by a conditional UPDATE that only a pending row matches — so running it twice, or
  on two workers, stores one file (the loser deletes its own). A failure is recorded on the row
  (``attempts``, ``last_error``, ``next_attempt_at`` with backoff) and the technical manager is
  told; the ``pending_documents`` job (``pending_document_step``) retries when due.
- ``certificate_document_regenerate`` replaces a stored document whose file is missing or
  altered: a new row with the same recorded HTML (same number, same content), its own file and
  hash, ``replaces`` pointing at the old row; both are kept and no ``CertificateEvent`` is
  written (nothing happened to the certificate).
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from functools import lru_cache, partial

import segno
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from applications.models import GRADE_CHOICES, Organization, Site
from certbody import background, policy, roles, uploads
from certbody.lifecycle import RuleViolation, lock
from certbody.models import CertificationBody
from certbody.pdf import (
    PdfError,
    check_readable,
    document_language,
    render_checked,
    render_pdf,
)
from certbody.sql import rows_update_sql
from certificates.models import Certificate, CertificateDocument, document_path

logger = logging.getLogger("certificates.pdf")

Document = CertificateDocument
State = CertificateDocument.State

CERTIFICATE_TEMPLATE = "certificates/pdf/certificate.html"
# 004 §6.2.5 (13) / 001 §6.7.1: the query sentence every certificate carries.
CNCA_SENTENCE = "本证书信息可在国家认证认可监督管理委员会官方网站（www.cnca.gov.cn）上查询"
VALIDITY_NOTICE = "本证书在有效期内须通过认证机构的监督审核方能保持有效"

# Retry backoff of a failed render: 5 min, 10, 20 … at most 6 h between attempts.
RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)
# How long a claimed pending document is left to the worker that claimed it.
CLAIM_LEASE = timedelta(minutes=10)
# Attempts after which the technical manager is told (again).
NOTIFY_AT_ATTEMPTS = (1, 5, 20)


def verification_url(certificate: Certificate) -> str:
    """Absolute URL of the certificate's public page, reached through its unguessable token."""
    return settings.SITE_URL + reverse("certificates:verify_token", args=[certificate.token])


# ISO/IEC 18004 §7.8: every one of the 8 data masks gives a valid symbol that any reader
# decodes; the encoder's evaluation of all 8 only picks the one with the fewest "penalty"
# patterns, and costs ~4x the rest of the encoding (segno: 18 ms → 5 ms per code). A fixed mask
# also makes the symbol a pure function of the URL.
QR_MASK = 0


@lru_cache(maxsize=256)
def qr_svg(url: str) -> str:
    """The QR code for ``url`` as an inline SVG element (segno, error correction M, data mask
    ``QR_MASK``). Cached by URL: a document rendered again for the same certificate reuses
    its code (an issue renders its HTML before it takes the yearly number row,
    ``certificates.services.issue``)."""
    return segno.make(url, error="m", mask=QR_MASK).svg_inline(scale=3, border=2)


def certificate_context(certificate: Certificate, *, scopes=None, sites=None) -> dict:
    """What the certificate template shows: every content item of 004 §6.2.5.

    ``scopes`` (the certificate's business scopes) and ``sites`` (its organisation's sites,
    head office first) may be passed by a caller that has them already (an issue); by default
    they are read."""
    head = certificate.head or certificate
    if certificate.site_id:
        sites = [certificate.site]
    elif certificate.head_id is not None:
        sites = []
    elif sites is None:
        sites = list(head.organization.sites.all())
    return _certificate_context(
        certificate,
        cb=CertificationBody.get(),
        sites=sites,
        scopes=list(certificate.business_scopes.all()) if scopes is None else list(scopes),
    )


def _certificate_context(certificate: Certificate, *, cb, sites: list, scopes: list) -> dict:
    """The template's context from records already read (``cb``: the CB's profile; ``sites``:
    the sites printed; ``scopes``: the business scopes); reads nothing from the database."""
    head = certificate.head if certificate.head_id else certificate
    url = verification_url(certificate)
    return {
        "certificate": certificate,
        "head": head,
        "organization": certificate.organization,
        "organization_name": certificate.organization_name or certificate.organization.name,
        "registered_address": certificate.registered_address
        or certificate.organization.registered_address,
        "sites": sites,
        "cb": cb,
        "qr_svg": qr_svg(url),
        "verify_url": url,
        "cnca_sentence": CNCA_SENTENCE,
        "validity_notice": VALIDITY_NOTICE,
        "scopes": scopes,
    }


def warm_up_document() -> tuple[str, list[str]]:
    """``(html, expected)``: a certificate of made-up, unsaved records (no database read) as the
    real template prints it, with the texts its PDF must show.

    Registered with ``certbody.pdf.register_warm_up_document`` (``CertificatesConfig.ready``):
    a worker renders and reads it back at start-up (``certbody.pdf.warm_up``), so the first
    client's certificate finds the template compiled, the URL resolver, segno and WeasyPrint's
    table, list and SVG code loaded and Pango's fonts open at every size the certificate uses
    (issue #16: ≤ 300 ms for the first render in a fresh worker).
    """
    organization = Organization(
        name="示例（北京）家电销售服务有限公司",
        uscc="91110105MA01AB2C3D",
        registered_address="北京市朝阳区建国路 88 号 A 座 1203 室",
    )
    certificate = Certificate(
        number="012326FW0001R0C",
        token="WarmUp_sample-0123456789abcdefgh",  # 32 characters, as token_urlsafe(24)
        organization=organization,
        organization_name=organization.name,
        registered_address=organization.registered_address,
        scope_text="家用电器的销售及售后服务（配送、安装、维修、退换货）",
        star_grade=GRADE_CHOICES[-1][0],
        standard="GB/T 27922-2011《商品售后服务评价体系》",
        issued_on=date(2026, 1, 15),
        expires_on=date(2029, 1, 14),
    )
    sites = [
        Site(organization=organization, address="北京市朝阳区建国路 88 号", scope_text=""),
        Site(
            organization=organization,
            address="天津市和平区南京路 120 号",
            scope_text="家用电器的维修",
            is_temporary=True,
        ),
    ]
    cb = CertificationBody(
        name="示例认证有限公司",
        address="北京市海淀区中关村大街 1 号",
        cnca_approval_number="CNCA-R-2018-001",
        accreditation_number="CNAS C001-S",
    )
    context = _certificate_context(certificate, cb=cb, sites=sites, scopes=[])
    with document_language():
        html = render_to_string(CERTIFICATE_TEMPLATE, context)
    return html, certificate_expected(certificate)


def certificate_html(certificate: Certificate, *, scopes=None, sites=None) -> str:
    """The certificate as HTML, from its record as it is now, in Chinese (004 §6.2.4).
    ``scopes``, ``sites``: see ``certificate_context``."""
    with document_language():
        return render_to_string(
            CERTIFICATE_TEMPLATE, certificate_context(certificate, scopes=scopes, sites=sites)
        )


def certificate_expected(certificate: Certificate) -> list[str]:
    """Texts a readable certificate PDF shows: the organisation's name and the number."""
    name = certificate.organization_name or certificate.organization.name
    return [name, certificate.number]


def render_certificate_pdf(certificate: Certificate) -> bytes:
    """Render the certificate (every content item of 004 §6.2.5) to PDF bytes (unchecked), in
    Chinese (004 §6.2.4)."""
    with document_language():
        return render_pdf(CERTIFICATE_TEMPLATE, certificate_context(certificate))


def _owner(*, certificate, organization, decision, appeal):
    if certificate is None and decision is None and appeal is None:
        raise ValueError("a document is about a certificate, a decision or an appeal")
    if appeal is not None:
        return appeal.organization  # the appellant's, possibly nobody (004 §8.2)
    if organization is not None:
        return organization
    return (
        certificate.organization
        if certificate is not None
        else decision.audit.programme.organization
    )


def _label(document: CertificateDocument) -> str:
    if document.certificate_id:
        return document.certificate.number
    if document.appeal_id:
        return document.appeal.reference
    return f"decision{document.decision_id}"


def describe(document: CertificateDocument) -> str:
    """ "<kind> <number or reference> (#pk)" for messages and notifications."""
    return f"{document.get_kind_display()} {_label(document)} (#{document.pk})"


def store_document(
    *,
    kind: str,
    content: bytes,
    actor,
    certificate: Certificate | None = None,
    organization=None,
    decision=None,
    appeal=None,
    note: str = "",
    expected: list[str] | None = None,
) -> CertificateDocument:
    """Store ``content`` (PDF bytes already made) as a new stored document; never overwrites.

    The document belongs to ``organization`` (default: the certificate's or the decision's; an
    appeal's answer always belongs to the appellant) and is about ``certificate``, ``decision``
    and/or ``appeal``. ``expected``: texts the PDF must show (checked by reading it back,
    ``PdfError`` otherwise). Raises ``ValueError`` when it is about nothing. Documents made by
    the services go through ``document_queue`` instead.
    """
    organization = _owner(
        certificate=certificate, organization=organization, decision=decision, appeal=appeal
    )
    if expected:
        check_readable(content, expected)
    document = CertificateDocument(
        certificate=certificate,
        organization=organization,
        decision=decision,
        appeal=appeal,
        kind=kind,
        state=State.STORED,
        expected_text=list(expected or []),
        note=note,
        created_by=actor,
    )
    name = _file_name(document, content)
    document.sha256 = hashlib.sha256(content).hexdigest()
    document.size = len(content)
    document.stored_at = timezone.now()
    document.file.save(name, ContentFile(content), save=False)
    try:
        document.save()
    except Exception:
        uploads.remove_files(document.file.storage, [document.file.name])
        raise
    return document


def _file_name(document: CertificateDocument, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    return f"{_label(document)}-{document.kind}-{stamp}-{digest[:12]}.pdf"


# --- pending documents: queued in the transaction, rendered after commit --------------------


def after_commit(func) -> None:
    """Run ``func`` once the surrounding transaction commits (at once outside one). Robust: an
    exception is logged, never raised into the request that committed the change.
    (The test suite replaces this to run the render in place; see tests/conftest.py.)"""
    transaction.on_commit(func, robust=True)


def _dispatch(document_id: int) -> None:
    """Have the committed pending document rendered: by a Celery worker with ``REDIS_URL``;
    without it (tasks run eagerly) by this process's background thread after the response
    (``certbody.background``, issue #16), or in place when background tasks are off."""
    if settings.CELERY_TASK_ALWAYS_EAGER and background.enabled():
        background.submit(_render_in_background, document_id)
        return
    from certificates.tasks import render_document

    render_document.delay(document_id)


def _render_in_background(document_id: int) -> bool:
    return document_render(document_id=document_id)


def document_queue(
    *,
    kind: str,
    html: str,
    expected: list[str],
    actor,
    certificate: Certificate | None = None,
    organization=None,
    decision=None,
    appeal=None,
    note: str = "",
    replaces: CertificateDocument | None = None,
) -> CertificateDocument:
    """Write a pending document and have it rendered after the transaction commits.

    ``html``: the complete document, rendered now from the records (its content is fixed at
    the moment of the change). ``expected``: texts the PDF must show (organisation name,
    number or reference). Owner and subject as in ``store_document``; ``replaces``: the stored
    document this one regenerates. Returns the pending row (``state`` pending, no file yet).
    Call inside the caller's ``transaction.atomic()``: a rolled-back change leaves no row and
    renders nothing.
    """
    organization = _owner(
        certificate=certificate, organization=organization, decision=decision, appeal=appeal
    )
    document = CertificateDocument(
        certificate=certificate,
        organization=organization,
        decision=decision,
        appeal=appeal,
        kind=kind,
        state=State.PENDING,
        html=html,
        expected_text=[text for text in expected if text],
        next_attempt_at=timezone.now(),
        note=note[:200],
        replaces=replaces,
        created_by=actor,
    )
    document.save()
    held = _held.get()
    if held is None:
        after_commit(partial(_dispatch, document.pk))
    else:
        held.append(document)
    return document


# Documents queued inside a ``documents_held`` block (None outside one).
_held: ContextVar[list | None] = ContextVar("documents_held", default=None)


@contextmanager
def documents_held():
    """Hold back the render of the documents queued in the block until the block ends.

    Yields the list of the ``CertificateDocument`` rows ``document_queue`` writes inside the
    block; when the block ends without an exception each is handed to the after-commit
    render as ``document_queue`` does, so what the block changes in them before its end
    (``documents_replace_sql``) is what gets rendered, even where the render runs at once (the
    test suite's ``after_commit``). Use inside the caller's ``transaction.atomic()``; nested
    blocks join the outermost one.
    """
    if _held.get() is not None:
        yield _held.get()
        return
    documents: list = []
    token = _held.set(documents)
    try:
        yield documents
    finally:
        _held.reset(token)
    for document in documents:
        after_commit(partial(_dispatch, document.pk))


def documents_replace_sql(documents, replacements: dict[str, str]):
    """The UPDATE that replaces texts in the HTML and expected texts of pending documents
    queued in this transaction: ``(sql, params, documents it must update)``, or None when no
    document changes; run it with ``certbody.sql.updates_run`` and check the count (the
    ``state`` condition finds no document that is no longer pending).

    ``documents``: ``CertificateDocument`` rows from ``document_queue`` (changed at once);
    ``replacements``: text → its replacement. For an issue that queued its documents with
    provisional certificate numbers and learns the real ones at the end of its transaction
    (issue #16, ``certificates.services.issue``): the content is still the one rendered at the
    change, only the number is filled in."""
    changed = []
    for document in documents:
        html, expected = document.html, list(document.expected_text)
        for old, new in replacements.items():
            html = html.replace(old, new)
            expected = [text.replace(old, new) for text in expected]
        if (html, expected) != (document.html, document.expected_text):
            document.html, document.expected_text = html, expected
            changed.append(document)
    if not changed:
        return None
    sql, params = rows_update_sql(
        Document,
        "pk",
        {d.pk: {"html": d.html, "expected_text": d.expected_text} for d in changed},
        where={"state": State.PENDING},
    )
    return sql, params, len(changed)


def _backoff(attempts: int) -> timedelta:
    return min(RETRY_FIRST * (2 ** max(attempts - 1, 0)), RETRY_MAX)


def _render_failed(document: CertificateDocument, error: str) -> None:
    attempts = document.attempts + 1
    CertificateDocument.objects.filter(pk=document.pk, state=State.PENDING).update(
        attempts=attempts,
        last_error=error[:500],
        next_attempt_at=timezone.now() + _backoff(attempts),
    )
    logger.error("document %s not rendered (attempt %d): %s", document.pk, attempts, error)
    if attempts in NOTIFY_AT_ATTEMPTS:
        from certbody.notifications import notify_staff
        from certbody.workspace import object_url_for

        subject = document.certificate or document.decision or document.appeal
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER,),
            template="document_pending",
            context={"document_label": describe(document), "attempts": attempts, "error": error},
            kind="pending_documents",
            link=object_url_for(subject) if subject is not None else "",
        )


def document_render(*, document_id: int) -> bool:
    """Render the pending document ``document_id`` and store its file; True when the document
    is stored (now or already), False when it is still pending (rendering disabled in this
    process, or the render failed: recorded on the row and retried later).

    Idempotent: the file is written first, then the row is filled by an UPDATE that matches
    only while it is pending; a second renderer that loses that race deletes its own file.
    Never raises for a render failure (it runs after the change committed).
    """
    document = (
        CertificateDocument.objects.select_related("certificate", "appeal")
        .filter(pk=document_id)
        .first()
    )
    if document is None:
        return False
    if document.state == State.STORED:
        return True
    if not settings.PDF_ENABLED:
        return False
    try:
        content = render_checked(document.html, expected=document.expected_text)
    except PdfError as exc:
        _render_failed(document, str(exc))
        return False
    storage = document.file.storage
    name = storage.save(
        document_path(document, _file_name(document, content)), ContentFile(content)
    )
    try:
        with transaction.atomic():
            filled = CertificateDocument.objects.filter(pk=document.pk, state=State.PENDING).update(
                state=State.STORED,
                file=name,
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
                stored_at=timezone.now(),
                last_error="",
                next_attempt_at=None,
            )
    except Exception:
        uploads.remove_files(storage, [name])
        raise
    if not filled:
        uploads.remove_files(storage, [name])  # another renderer stored it first
    return True


def pending_document_step(*, now=None) -> bool:
    """Claim and render one pending document whose next attempt is due; False when none is.

    The claim is a conditional UPDATE of ``next_attempt_at`` (moved a lease ahead) that must
    touch exactly one row, so concurrent workers take different documents and no row lock is
    held during the layout. Whatever the render's outcome the document is no longer due in
    this pass (stored, or its next attempt backed off), so a driver looping this step ends.
    """
    if not settings.PDF_ENABLED:
        return False
    now = now or timezone.now()
    for candidate in (
        CertificateDocument.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "next_attempt_at")[:5]
    ):
        pk, due = candidate
        claimed = CertificateDocument.objects.filter(
            pk=pk, state=State.PENDING, next_attempt_at=due
        ).update(next_attempt_at=now + CLAIM_LEASE)
        if claimed == 1:
            document_render(document_id=pk)
            return True
    return False


# --- integrity and regeneration ------------------------------------------------------------


def document_problem(document: CertificateDocument) -> str:
    """Why a stored document's file is not the one issued ("" when it is); pending: ""."""
    if document.state != State.STORED:
        return ""
    return uploads.file_problem(document.file, document.sha256)


def _source(document: CertificateDocument) -> tuple[str, list[str]]:
    """The HTML and expected texts to render ``document`` again with the same content."""
    if document.html:
        return document.html, list(document.expected_text)
    # Stored before the HTML was kept: a certificate can be rendered from its record
    # only while that record is still what this document shows, i.e. it is the certificate's
    # latest document and no reissue came after it.
    certificate = document.certificate
    if document.kind == Document.Kind.CERTIFICATE and certificate is not None:
        latest = certificate.documents.filter(kind=Document.Kind.CERTIFICATE).first()
        reissued_after = certificate.reissued_on and (
            certificate.reissued_on > timezone.localtime(document.created_at).date()
        )
        if latest is not None and latest.pk == document.pk and not reissued_after:
            return certificate_html(certificate), certificate_expected(certificate)
    raise RuleViolation(
        gettext(
            "%(document)s kept no original content when it was made and the certificate record has "
            "changed since: it cannot be made again with the same content"
        )
        % {"document": describe(document)}
    )


def certificate_document_regenerate(*, document: CertificateDocument, actor) -> CertificateDocument:
    """Make a new version of the stored document ``document`` whose file is missing or altered.

    Same recorded content (the HTML kept when it was issued: same number, same text), a new file
    with its own SHA-256; the new row ``replaces`` the old one and both are kept (004 §10). No
    ``CertificateEvent`` is written: the certificate did not change. The new version is pending
    until rendered after commit. ``actor``: the matrix row "certificates.regenerate_document"
    (the technical manager, or the system user).

    Raises RuleViolation: not allowed; the document is still pending, already replaced, or its
    file is intact; a document stored before the HTML was kept whose content can no longer be
    rebuilt.
    """
    policy.require(actor, "certificates.regenerate_document", document)
    with transaction.atomic():
        document = lock(CertificateDocument, document.pk)
        if document.state != State.STORED:
            raise RuleViolation(
                gettext("%(document)s is still being made: no need to make it again.")
                % {"document": describe(document)}
            )
        replacement = document.replacements.first()
        if replacement is not None:
            raise RuleViolation(
                gettext("%(document)s has been replaced by a new version (#%(pk)s).")
                % {"document": describe(document), "pk": replacement.pk}
            )
        problem = document_problem(document)
        if not problem:
            raise RuleViolation(
                gettext(
                    "The file of %(document)s is intact and matches the recorded SHA-256: no need "
                    "to make it again."
                )
                % {"document": describe(document)}
            )
        html, expected = _source(document)
        what = "文件丢失" if problem.startswith("file missing") else "文件被改动"
        note = f"重新生成（替代 #{document.pk}：{what}）"
        return document_queue(
            kind=document.kind,
            html=html,
            expected=expected,
            actor=actor,
            certificate=document.certificate,
            organization=document.organization,
            decision=document.decision,
            appeal=document.appeal,
            note=note,
            replaces=document,
        )
