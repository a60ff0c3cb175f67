"""Files a client uploaded with an online application that failed on another field (issue
#14): kept as *pending uploads* of that user, shown on the form again ("already uploaded:
name") and used on the next submission unless the client chooses another file for the field.

Only files that pass ``certbody.uploads.check_file`` are kept, under a generated name outside
the web root (``pending/<user>/``); they are read back and checked again when the
application is submitted, and removed once it is (or when replaced).
"""

import contextlib
from collections.abc import Iterable

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from certbody import uploads
from certbody.lifecycle import RuleViolation


def pending_path(instance, filename):
    # ``filename`` is generated (certbody.uploads.storage_name); never the client's own name.
    return f"pending/{instance.user_id}/{filename}"


class PendingUpload(models.Model):
    """One checked file waiting for the application form of ``user`` to be submitted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_uploads"
    )
    field = models.CharField(_("form field"), max_length=50)
    file = models.FileField(_("file"), upload_to=pending_path)
    original_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        app_label = "applications"
        ordering = ["field", "pk"]
        verbose_name = _("pending upload")
        verbose_name_plural = _("pending uploads")

    def __str__(self):
        return self.original_name


def _delete(rows) -> None:
    for row in list(rows):
        with contextlib.suppress(OSError):
            row.file.delete(save=False)
        row.delete()


def stash(user, field: str, files: Iterable) -> None:
    """Keep ``files`` (``UploadedFile``s of the form field ``field``) for ``user``, replacing
    what was kept for that field. All or nothing: when one of them fails the upload checks,
    nothing changes (the form reports the problem)."""
    files = [f for f in files if f]
    if not files:
        return
    try:
        checked = [uploads.check_file(f) for f in files]
    except RuleViolation:
        return
    for f in files:
        f.seek(0)
    with transaction.atomic():
        _delete(PendingUpload.objects.filter(user=user, field=field))
        for item in checked:
            row = PendingUpload(user=user, field=field, original_name=item.original_name)
            row.sha256 = item.sha256
            uploads.save(row.file, item)
            row.save()


def pending_for(user) -> dict[str, list[PendingUpload]]:
    """The user's kept files by form field."""
    kept: dict[str, list[PendingUpload]] = {}
    for row in PendingUpload.objects.filter(user=user):
        kept.setdefault(row.field, []).append(row)
    return kept


def as_uploads(rows: Iterable[PendingUpload]) -> list[SimpleUploadedFile]:
    """The kept files as uploads again (their original names), for the form and the service;
    a file gone missing is left out (the field then asks for it again)."""
    result = []
    for row in rows:
        content = uploads.read_stored(row.file)
        if content is not None:
            result.append(SimpleUploadedFile(row.original_name, content))
    return result


def clear(user) -> None:
    """Forget and delete every kept file of ``user`` (after the application is submitted)."""
    _delete(PendingUpload.objects.filter(user=user))
