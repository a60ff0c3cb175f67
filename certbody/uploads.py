"""Uploaded files: one validation, one way of storing and one way of serving.

Every file a user uploads (a client's application documents, the evidence of an answer to a
nonconformity, …) goes through here:

- ``check_file`` / ``check_files`` validate before anything is written: only PDF, JPEG, PNG,
  DOCX and XLSX, by extension **and** by the file's leading bytes (an Office file must be a ZIP
  package holding the Word or Excel main part), at most 10 MB each and 10 files at a time, never
  empty. The result carries the content, its SHA-256 and the content type derived from the
  extension (the browser's claimed type is never trusted).
- ``save`` stores a checked file in a ``FileField`` under a generated name (the user's file name
  is kept only as data); ``remove_files`` cleans up files written by a transaction that failed.
- ``download_response`` serves a stored file as an attachment with ``nosniff`` and
  ``Cache-Control: private, no-store`` (no proxy or browser cache keeps a client's
  certificate or report): files live under ``MEDIA_ROOT``, outside any web root,
  and reach a browser only through a view that checked the user's right to them first; they
  are never rendered or executed. Given the SHA-256 recorded when the file was issued, it
  re-checks the file on every download and refuses (503) and alerts the technical manager
  when the file is missing or altered (``file_problem``).
- ``orphan_files`` lists files under ``MEDIA_ROOT`` that no row references (left by a
  transaction that failed after writing them); the ``orphan_files`` job reports them.

Errors are ``RuleViolation`` with a translatable message naming the file (English msgids).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import time
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import models
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _

from certbody.lifecycle import RuleViolation

logger = logging.getLogger("certbody.uploads")
NO_STORE = "private, no-store"

MAX_FILES = 10
MAX_BYTES = 10 * 1024 * 1024  # 10 MB each
_PDF = "application/pdf"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# extension → content type served back
TYPES = {
    "pdf": _PDF,
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "docx": _DOCX,
    "xlsx": _XLSX,
}
ALLOWED_EXTENSIONS_TEXT = "PDF、JPEG、PNG、DOCX、XLSX"
# The file chooser's hint (the server checks regardless).
ACCEPT = ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed ``check_file``: its content and what we store about it."""

    original_name: str
    extension: str
    content_type: str
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def original_name(name: str) -> str:
    """The last path component a browser or a tool might send (``C:\\…\\a.pdf``, ``../a.pdf``),
    printable characters only, at most 200 characters; "attachment" when nothing is left."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable())
    return base[-200:] if base else "attachment"


def _zip_names(content: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def content_matches(extension: str, content: bytes) -> bool:
    """Magic bytes (and, for Office files, the package's main part) agree with the extension."""
    if extension == "pdf":
        return content.startswith(b"%PDF-")
    if extension in ("jpg", "jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if extension == "png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("docx", "xlsx"):
        if not content.startswith(b"PK\x03\x04"):
            return False
        names = _zip_names(content)
        if not names or "[Content_Types].xml" not in names:
            return False
        main = "word/document.xml" if extension == "docx" else "xl/workbook.xml"
        return main in names
    return False


def check_file(upload, *, noun: str = "") -> CheckedUpload:
    """Validate one uploaded file and read it.

    ``upload``: a Django ``UploadedFile`` (or any object with ``name``, ``size`` and
    ``chunks()``/``read()``); ``noun``: how messages call the file (translated, e.g.
    ``gettext("Attachment")``; default "File"). Allowed:
    ``TYPES`` by extension and content; at most ``MAX_BYTES``; not empty. Reads at most
    ``MAX_BYTES`` + one chunk whatever size the upload claims. Raises ``RuleViolation``.
    """
    name = original_name(getattr(upload, "name", ""))
    noun = noun or _("File")
    named = {"noun": noun, "name": name}
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in TYPES:
        raise RuleViolation(
            _(
                "%(noun)s “%(name)s”: this type is not allowed; only %(types)s files can be "
                "uploaded."
            )
            % {**named, "types": ALLOWED_EXTENSIONS_TEXT}
        )
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise RuleViolation(_("%(noun)s “%(name)s” is larger than 10 MB.") % named)
    if hasattr(upload, "seek"):
        upload.seek(0)
    chunks, total = [], 0
    reader = upload.chunks() if hasattr(upload, "chunks") else [upload.read()]
    for chunk in reader:
        total += len(chunk)
        if total > MAX_BYTES:
            raise RuleViolation(_("%(noun)s “%(name)s” is larger than 10 MB.") % named)
        chunks.append(chunk)
    content = b"".join(chunks)
    if not content:
        raise RuleViolation(_("%(noun)s “%(name)s” is empty.") % named)
    if not content_matches(extension, content):
        raise RuleViolation(
            _(
                "%(noun)s “%(name)s”: its content does not match its .%(extension)s extension; "
                "it cannot be uploaded."
            )
            % {**named, "extension": extension}
        )
    return CheckedUpload(
        original_name=name,
        extension=extension,
        content_type=TYPES[extension],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def check_files(uploads: Iterable, *, noun: str = "", too_many: str = "") -> list[CheckedUpload]:
    """``check_file`` for each (non-empty) upload, at most ``MAX_FILES`` of them; all or
    nothing. ``too_many``: the message when there are more (a default names the limit)."""
    uploads = [u for u in uploads if u]
    if len(uploads) > MAX_FILES:
        raise RuleViolation(
            too_many
            or _("At most %(count)d files can be uploaded at a time.") % {"count": MAX_FILES}
        )
    return [check_file(upload, noun=noun) for upload in uploads]


def storage_name(extension: str) -> str:
    """A generated file name (random, unguessable) with ``extension``."""
    return f"{uuid.uuid4().hex}.{extension}"


def save(field_file, checked: CheckedUpload) -> str:
    """Write ``checked`` into the ``FieldFile`` (without saving its model) under a generated
    name; returns the storage name, for ``remove_files`` if the transaction fails later."""
    field_file.save(storage_name(checked.extension), ContentFile(checked.content), save=False)
    return field_file.name


def remove_files(storage, names: Iterable[str]) -> None:
    """Delete the stored files ``names`` (clean-up after a failure; missing files are fine)."""
    for name in names:
        with contextlib.suppress(OSError):
            storage.delete(name)


def read_stored(field_file) -> bytes | None:
    """The whole content of a stored file, or None when it is missing or unreadable."""
    try:
        with field_file.storage.open(field_file.name, "rb") as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def file_problem(field_file, sha256: str, content: bytes | None = None) -> str:
    """Why the stored file does not match the ``sha256`` recorded when it was issued ("" when it
    does): missing, or altered. ``content``: the file's bytes when already read."""
    if not field_file or not field_file.name:
        return "no file recorded"
    if content is None:
        content = read_stored(field_file)
    if content is None:
        return f"file missing: {field_file.name}"
    actual = hashlib.sha256(content).hexdigest()
    if actual != sha256:
        return f"file altered: {field_file.name} has SHA-256 {actual}, recorded {sha256}"
    return ""


def _alert_tampered(label: str, problem: str, link: str) -> None:
    """Tell the technical manager once an hour per file (each refused download would repeat it)."""
    key = "download-tampered:" + hashlib.sha256(problem.encode()).hexdigest()[:32]
    if not cache.add(key, 1, timeout=3600):
        return
    from certbody import roles
    from certbody.notifications import notify_staff

    notify_staff(
        roles=(roles.TECHNICAL_MANAGER,),
        template="document_tampered",
        context={"document_label": label, "problem": problem},
        kind="document_tampered",
        link=link,
    )


def unavailable_response(message: str, *, status: int) -> HttpResponse:
    """A plain refusal of a download (never cached)."""
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = NO_STORE
    return response


def download_response(
    field_file,
    *,
    content_type: str,
    filename: str,
    sha256: str = "",
    label: str = "",
    link: str = "",
) -> HttpResponse:
    """Serve a stored file as a download: ``Content-Disposition: attachment`` with the user's
    file name, the content type recorded at upload, ``X-Content-Type-Options: nosniff`` (a
    browser never renders or runs it) and ``Cache-Control: private, no-store``. The caller has
    checked the user's right to it.

    ``sha256``: the digest recorded when an issued document or report was stored (004 §10
    evidence). Then the file is read and checked first, and the bytes checked are the bytes
    served; a missing or altered file gets a 503 with a message instead, is logged, and the
    technical manager is notified (``label`` names the document, ``link`` its staff page).
    """
    content = None
    if sha256:
        content = read_stored(field_file)
        problem = file_problem(field_file, sha256, content)
        if problem:
            logger.error("refused download of %s: %s", label or field_file.name, problem)
            _alert_tampered(label or field_file.name, problem, link)
            return unavailable_response(
                _(
                    "This document is temporarily unavailable: its stored file failed the "
                    "integrity check. The certification body has been alerted."
                ),
                status=503,
            )
    source = io.BytesIO(content) if content is not None else field_file.open("rb")
    response = FileResponse(
        source, content_type=content_type, as_attachment=True, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = NO_STORE
    return response


def referenced_files() -> set[str]:
    """Every file name a ``FileField`` of any model (history tables included) refers to."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and not field.many_to_many:
                names.update(
                    model._default_manager.exclude(**{field.name: ""})
                    .exclude(**{f"{field.name}__isnull": True})
                    .values_list(field.name, flat=True)
                )
    return names


def orphan_files(*, min_age_seconds: int = 3600) -> list[str]:
    """Files under ``MEDIA_ROOT`` that no row refers to, relative names, sorted. Files younger
    than ``min_age_seconds`` are left out: their transaction may still be running."""
    root = str(settings.MEDIA_ROOT)
    if not os.path.isdir(root):
        return []
    referenced = referenced_files()
    cutoff = time.time() - min_age_seconds
    found = []
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            if relative in referenced:
                continue
            with contextlib.suppress(OSError):
                if os.path.getmtime(path) <= cutoff:
                    found.append(relative)
    return sorted(found)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); cleans to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(item, initial) for item in data if item]
        else:
            files = [single(data, initial)] if data else []
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files
