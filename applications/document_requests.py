"""Documents the market department asks an applicant for during the review (004 §5.2;
001 §6.1.3): requested from the application's page with a note and a due date, listed on the
client's portal to-do, answered by uploading the files there (they join the application's
documents through ``application_documents_add``), the reviewers told in-app and by e-mail.
"""

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from applications.models import Application, ApplicationDocument, DocumentRequest
from certbody import dates, policy
from certbody.lifecycle import RuleViolation, lock, record
from certbody.notifications import notify_staff


def document_request_create(
    *, application: Application, actor, kind: str, note: str, due_on: date
) -> DocumentRequest:
    """Ask the applicant for a document of ``kind`` (``ApplicationDocument.Kind``) by
    ``due_on`` (a local date, not before today) with ``note`` saying what is needed, while
    the application is not decided (004 §5.2). Reviewers of applications. Raises
    ``RuleViolation``."""
    from applications.services import DOCUMENT_STATES

    policy.require(actor, "applications.review_application", application)
    if kind not in ApplicationDocument.Kind.values:
        raise RuleViolation(gettext("Unknown document: %(kind)s") % {"kind": kind})
    if not note.strip():
        raise RuleViolation(gettext("Say which document is needed and why."), "004 §5.2")
    if due_on < dates.today():
        raise RuleViolation(gettext("The due date cannot be earlier than today."))
    with transaction.atomic():
        application = lock(Application, application.pk)
        if application.state not in DOCUMENT_STATES:
            raise RuleViolation(
                gettext("Documents are requested only before the application is decided."),
                "004 §5.2",
            )
        request = DocumentRequest(
            application=application,
            kind=kind,
            note=note.strip(),
            due_on=due_on,
            requested_by=actor,
        )
        record(request, actor=actor, reason="要求补充申请材料")
        request.save()
    return request


def document_request_answer(
    *, document_request: DocumentRequest, actor, files: Iterable
) -> list[ApplicationDocument]:
    """The client answers an open ``document_request`` by uploading ``files`` (checked by
    ``certbody.uploads`` like every application document); the request is closed and the
    reviewers of applications are told. By a client user of the application's organisation
    (or the market department). Raises ``RuleViolation``."""
    from applications.services import application_documents_add

    with transaction.atomic():
        document_request = lock(DocumentRequest, document_request.pk)
        if document_request.answered_at is not None:
            raise RuleViolation(gettext("This document request is answered already."))
        stored = application_documents_add(
            application=document_request.application,
            actor=actor,
            documents=[(document_request.kind, upload) for upload in files],
        )
        document_request.answered_at = timezone.now()
        record(document_request, actor=actor, reason="已补充申请材料")
        document_request.save(update_fields=["answered_at"])
        application = document_request.application
        notify_staff(
            roles=policy.roles_holding("applications.review_application"),
            template="document_request_answered",
            context={
                "application": application,
                "organization": application.organization,
                "document_request": document_request,
                "documents": stored,
            },
            kind="document_request_answered",
            link=reverse("workspace:object", args=["applications", application.pk]),
        )
    return stored


def open_document_requests(application: Application):
    """The application's requests not answered yet, by due date."""
    return application.document_requests.filter(answered_at__isnull=True).order_by("due_on", "pk")
