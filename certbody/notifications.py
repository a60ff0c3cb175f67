"""Notifications: an in-app list for staff and e-mail (Django's e-mail backend) for everyone.

Periodic jobs and services tell people about what is due or what the system did through two
functions:

- ``notify_staff(roles=…, template=…, context=…)``: a ``Notification`` row for every active
  staff member in one of the role groups (``certbody.roles``), plus an e-mail to those with an
  address;
- ``notify_addresses(addresses, template=…, context=…)``: e-mail only, e.g. to a client
  organisation's contact address.

Texts come from ``templates/emails/<template>.txt``, in Chinese: the first line is the subject,
the rest the body. Every template receives ``cb`` (the CB's profile, or None) and ``site_url``
besides the caller's context. E-mails are sent after the surrounding transaction commits
(``transaction.on_commit``), so a rolled-back job step sends nothing; a failing mail server is
logged, never raised into the job. Default backend: the console (settings ``EMAIL_BACKEND``).
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from certbody.models import CertificationBody, Notification

logger = logging.getLogger("certbody.notifications")


def render_message(template: str, context: dict) -> tuple[str, str]:
    """``(subject, body)`` of ``templates/emails/<template>.txt`` rendered in Chinese.

    The first non-empty line is the subject (at most 200 characters), the rest the body.
    """
    try:
        cb = CertificationBody.get()
    except CertificationBody.DoesNotExist:
        cb = None
    full = {"cb": cb, "site_url": settings.SITE_URL, **context}
    with translation.override("zh-hans"):
        text = render_to_string(f"emails/{template}.txt", full)
    lines = text.strip().splitlines()
    subject = lines[0].strip()[:200] if lines else template
    body = "\n".join(lines[1:]).strip() + "\n"
    return subject, body


def staff_with_roles(role_names: Iterable[str], *, superusers: bool = False):
    """Active staff users in any of the groups ``role_names`` (and superusers if asked)."""
    condition = Q(groups__name__in=list(role_names))
    if superusers:
        condition |= Q(is_superuser=True)
    return (
        get_user_model()
        .objects.filter(condition, is_active=True, is_staff=True)
        .distinct()
        .order_by("pk")
    )


def notify_staff(
    *,
    roles: Iterable[str],
    template: str,
    context: dict,
    kind: str,
    link: str = "",
    users: Iterable = (),
    superusers: bool = False,
) -> list[Notification]:
    """Put one notification in the list of each staff member in ``roles`` (and ``users``).

    ``kind``: what sends it (a job name), ``link``: a site-relative URL. Also e-mails those with
    an address, after commit. Returns the notifications created (none when nobody holds the
    roles: a CB without, say, a reporting officer still gets its jobs done).
    """
    subject, body = render_message(template, context)
    recipients = {user.pk: user for user in staff_with_roles(roles, superusers=superusers)}
    for user in users:
        if user is not None and user.is_active:
            recipients.setdefault(user.pk, user)
    rows = Notification.objects.bulk_create(
        Notification(recipient=user, kind=kind, subject=subject, body=body, link=link[:300])
        for user in recipients.values()
    )
    addresses = [user.email for user in recipients.values() if user.email]
    if addresses:
        mail_body = body if not link else f"{body}\n{settings.SITE_URL}{link}\n"
        _send_on_commit(subject, mail_body, addresses)
    return rows


def notify_addresses(addresses: Iterable[str], *, template: str, context: dict) -> int:
    """E-mail ``template`` to each non-empty address (after commit); returns how many."""
    wanted = sorted({a.strip() for a in addresses if a and a.strip()})
    if not wanted:
        return 0
    subject, body = render_message(template, context)
    _send_on_commit(subject, body, wanted)
    return len(wanted)


def _send_on_commit(subject: str, body: str, addresses: list[str]) -> None:
    def send():
        # One message per address: recipients never see each other (clients, staff).
        messages = [
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
            for address in addresses
        ]
        try:
            get_connection().send_messages(messages)
        except Exception:  # a mail outage must not undo or stop the job that notified
            logger.exception("could not send %r to %d address(es)", subject, len(addresses))

    transaction.on_commit(send)


def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s notifications (all, or those with ``ids``) read; returns how many."""
    from django.utils import timezone

    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
