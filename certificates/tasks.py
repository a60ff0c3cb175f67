"""Celery tasks of certificates: thin, ids in, a service call, retried on a passing database
error (``reporting.tasks`` does the same). Without ``REDIS_URL`` they run in-process."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from certificates import pdf


@shared_task(
    name="certificates.render_document",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=5,
)
def render_document(document_id: int) -> bool:
    """Render one pending document after the change that wrote it committed.

    A render failure (fonts, WeasyPrint, unreadable text) is recorded on the document and
    retried by the ``pending_documents`` job when its backoff is due, not by a long-delay task
    here (style: no long ETA tasks on Redis). Returns whether the document is stored.
    """
    return pdf.document_render(document_id=document_id)
