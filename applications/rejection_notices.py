"""The written notice of non-acceptance of an application (001 §6.1.5; 004 §5.2.4).

An application found not acceptable is rejected (``applications.services.application_reject``),
which stores the deadline of the notice, ``Application.rejection_notice_due``: 5 calendar days
after the decision (001 §6.1.5 says "5 日内", not "5 个工作日"). After commit the notice is made
and sent (``application_rejection_notice_send``): a PDF in Chinese with the reasons and the
eligibility conditions found unmet, stored once with its SHA-256 (``RejectionNotice``), an
e-mail to the applicant's addresses with the portal link to download it, and the date sent
(``Application.rejection_notice_sent_on``). A failure there (no Chinese font, no address)
never undoes the rejection: the ``rejection_notices`` job (``applications.jobs``) reminds the
market department of every notice not sent, a day before and after its deadline, and the
application page offers to send it again.
"""

import hashlib
import logging
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from applications import eligibility
from applications.models import Application, ApplicationReview, RejectionNotice
from certbody import notifications, policy, uploads
from certbody.jobs import client_addresses
from certbody.lifecycle import RuleViolation, lock, record
from certbody.models import CertificationBody
from certbody.pdf import PdfError, document_language, render_checked

logger = logging.getLogger("applications.rejection_notices")

REJECTION_NOTICE_DAYS = 5  # 001 §6.1.5: calendar days ("5 日内")
TITLE = "不予受理认证申请通知书"
# 004 §8.1: the applicant may appeal the CB's decisions.
APPEAL_RIGHT_SENTENCE = "如对本决定有异议，可自收到本通知书之日起向本机构提出申诉。"


def rejection_notice_due(decided_on: date) -> date:
    """The last day to send the written notice of a rejection decided on ``decided_on`` (a
    local date): 5 calendar days later (001 §6.1.5). Raises ``ValueError`` for a non-date."""
    if not isinstance(decided_on, date):
        raise ValueError(f"decided_on must be a date, got {decided_on!r}")
    return decided_on + timedelta(days=REJECTION_NOTICE_DAYS)


def _unmet_conditions(application: Application) -> list[tuple[str, str, str]]:
    review = ApplicationReview.objects.filter(application=application).first()
    if review is None:
        return []
    return [
        (str(label), clause, getattr(review, f"{name}_note"))
        for name, (label, clause) in eligibility.CONDITIONS.items()
        if not getattr(review, name)
    ]


def _notice_html(application: Application, *, on: date, reference: str) -> str:
    organization = application.organization
    # Printed in Chinese whatever the issuer's interface language (004 §6.2.4).
    with document_language():
        return render_to_string(
            "applications/pdf/rejection_notice.html",
            {
                "title": TITLE,
                "reference": reference,
                "on": on,
                "cb": CertificationBody.objects.order_by("pk").first(),
                "addressee": organization.name,
                "organization": organization,
                "application": application,
                "received_on": timezone.localdate(application.submitted_at)
                if application.submitted_at
                else None,
                "decided_on": timezone.localdate(application.decided_at),
                "reasons": application.rejection_reason,
                "unmet": _unmet_conditions(application),
                "appeal_right_sentence": APPEAL_RIGHT_SENTENCE,
            },
        )


def application_rejection_notice_send(
    *, application: Application, actor, by_post: bool = False
) -> RejectionNotice:
    """Make the written notice of a rejected application and send it (001 §6.1.5).

    Renders the PDF in Chinese (reasons, unmet eligibility conditions, appeal right), stores it
    immutably with its SHA-256, e-mails the organisation's contact and active client users the
    portal link, and records ``rejection_notice_sent_on`` (today). ``by_post``: the market
    department sends the printed notice by post (for an applicant without any e-mail address);
    the PDF is still stored for the portal. Idempotent: a notice already sent is returned as is.

    Raises ``RuleViolation`` when the application is not rejected, when the PDF cannot be made
    (``certbody.pdf.PdfError``: nothing is stored), or when the applicant has no e-mail address
    and ``by_post`` is not set.
    """
    policy.require(actor, "applications.review_application", application)
    stored: list[str] = []
    try:
        with transaction.atomic():
            application = lock(Application, application.pk)
            if application.state != Application.State.REJECTED:
                raise RuleViolation(
                    gettext("A notice of non-acceptance is sent only for a rejected application."),
                    "001 §6.1.5",
                )
            existing = RejectionNotice.objects.filter(application=application).first()
            if existing is not None and application.rejection_notice_sent_on is not None:
                return existing
            organization = application.organization
            addresses = [a for a in client_addresses(organization) if a]
            if not addresses and not by_post:
                raise RuleViolation(
                    gettext(
                        "The applicant has no e-mail address: send the printed notice by post "
                        "and record it as sent by post."
                    ),
                    "001 §6.1.5",
                )
            today = timezone.localdate()
            notice = existing
            if notice is None:
                reference = f"BSL{today:%Y%m%d}-{application.reference}"
                html = _notice_html(application, on=today, reference=reference)
                try:
                    content = render_checked(html, expected=[organization.name, reference])
                except PdfError as exc:
                    logger.warning("rejection notice of %s not made: %s", application, exc)
                    raise RuleViolation(
                        gettext("The written notice could not be made: %(error)s") % {"error": exc},
                        "001 §6.1.5",
                    ) from exc
                notice = RejectionNotice(
                    application=application,
                    reference=reference,
                    issued_on=today,
                    reasons=application.rejection_reason,
                    html=html,
                    sha256=hashlib.sha256(content).hexdigest(),
                    size=len(content),
                    issued_by=actor,
                )
                notice.file.save(uploads.storage_name("pdf"), ContentFile(content), save=False)
                stored.append(notice.file.name)
                notice.save()
            application.rejection_notice_sent_on = today
            record(
                application,
                actor=actor,
                reason="寄送不予受理通知书" if by_post else "发送不予受理通知书",
            )
            application.save(update_fields=["rejection_notice_sent_on"])
            notifications.notify_addresses(
                addresses,
                template="application_rejected",
                context={
                    "application": application,
                    "organization": organization,
                    "notice": notice,
                    "detail_path": reverse("applications_portal:detail", args=[application.pk]),
                },
            )
    except BaseException:
        uploads.remove_files(RejectionNotice._meta.get_field("file").storage, stored)
        raise
    return notice


def rejection_notice_send_quietly(*, application_id: int, actor) -> bool:
    """Try ``application_rejection_notice_send`` after the rejection committed; a refusal is
    logged, never raised (the rejection stands; the ``rejection_notices`` job reminds).
    True when the notice was sent."""
    application = Application.objects.filter(pk=application_id).first()
    if application is None:
        return False
    try:
        application_rejection_notice_send(application=application, actor=actor)
    except RuleViolation as exc:
        logger.warning("rejection notice of %s not sent: %s", application, exc)
        return False
    return True
