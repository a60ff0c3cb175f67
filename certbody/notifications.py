"""Notifications: an in-app list for staff and e-mail (Django's e-mail backend) for everyone.

Periodic jobs and services tell people about what is due or what the system did through two
functions:

- ``notify_staff(roles=…, template=…, context=…)``: a ``Notification`` row for every active
  staff member in one of the role groups (``certbody.roles``), plus an e-mail to those with an
  address;
- ``notify_addresses(addresses, template=…, context=…)``: e-mail only, e.g. to a client
  organisation's contact address.

Texts come from whole letters, one per language: ``templates/emails/<template>.txt`` in Chinese
and its English twin ``templates/emails/en/<template>.txt``; the first line is the subject, the
rest the body. Every template receives ``cb`` (the CB's profile, or None) and ``site_url``
besides the caller's context. Each person reads their own language: a user's stored
``language`` (empty: the site default ``settings.LANGUAGE_CODE``, Chinese); an address that
belongs to no active user gets the site default.

E-mails go through the outbox (``OutgoingEmail``, one row per address): the rows are written in
the caller's transaction, so a rolled-back job step sends nothing and a committed one cannot
lose its mail. Right after commit they are sent (``transaction.on_commit``, by the process's
background thread ``certbody.background``, after the response); a failing mail
server is recorded on the row (``attempts``, ``last_error``), never raised into the caller, and
the periodic job ``outbox`` (``send_due``) tries again after ``RETRY_AFTER`` until the row is
sent or ``MAX_ATTEMPTS`` is reached, when it stays ``failed`` on the staff's outbox desk, where
``outgoing_email_retry`` tries it once more. Default backend: the console (settings
``EMAIL_BACKEND``).
"""

import logging
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from certbody import background, policy
from certbody.lifecycle import RuleViolation
from certbody.models import CertificationBody, Notification, OutgoingEmail

logger = logging.getLogger("certbody.notifications")

# Waits after the 1st, 2nd … failed attempt; the attempt after the last wait is the last one.
RETRY_AFTER = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_AFTER) + 1  # about 16½ hours of outage before a mail is given up
SENDING_LEASE = timedelta(minutes=10)  # a sender that died mid-send: tried again after this
_UNSET = object()


def render_message(
    template: str, context: dict, language: str = "zh-hans", *, cb=_UNSET
) -> tuple[str, str]:
    """``(subject, body)`` of the ``template`` letter in ``language`` (a ``settings.LANGUAGES``
    code): ``templates/emails/en/<template>.txt`` for English, else the Chinese
    ``templates/emails/<template>.txt``, rendered with that language active (choice labels,
    dates, lazy texts). ``cb``: the CB's profile when the caller already has it.

    The first non-empty line is the subject (at most 200 characters), the rest the body.
    """
    # Whole letters per language, not gettext fragments: sentence order differs between
    # Chinese and English (dates, names and clauses sit in different places), and the letters
    # are full of conditionals, so fragments glued together would read as neither language.
    # The two twins share their context variables and conditionals (a test compares them).
    if cb is _UNSET:
        cb = _profile()
    full = {"cb": cb, "site_url": settings.SITE_URL, **context}
    with translation.override(language):
        text = render_to_string(_template_name(template, language), full)
    lines = text.strip().splitlines()
    subject = lines[0].strip()[:200] if lines else template
    body = "\n".join(lines[1:]).strip() + "\n"
    return subject, body


def _template_name(template: str, language: str) -> str:
    if (language or "").split("-")[0].lower() == "en":
        return f"emails/en/{template}.txt"
    return f"emails/{template}.txt"


def _profile():
    try:
        return CertificationBody.get()
    except CertificationBody.DoesNotExist:
        return None


def recipient_language(user=None, *, fallback: str = "") -> str:
    """The language ``user``'s mail and notifications are written in: their stored choice
    (``User.language``), else ``fallback`` when it is a known language (e.g. the language of
    the page a request came from), else the site default ``settings.LANGUAGE_CODE``."""
    known = {code for code, _name in settings.LANGUAGES}
    for language in (getattr(user, "language", "") or "", fallback or ""):
        if language in known:
            return language
    return settings.LANGUAGE_CODE


def _address_languages(addresses: list[str]) -> dict[str, str]:
    """``{address: language}`` for the addresses that belong to active users, in one query
    (compared without case). Users who share an address but not a language: the default."""
    keys = {address.lower(): address for address in addresses}
    found: dict[str, set[str]] = {}
    rows = (
        get_user_model()
        .objects.annotate(email_key=Lower("email"))
        .filter(is_active=True, email_key__in=list(keys))
        .values_list("email_key", "language")
    )
    for key, language in rows:
        found.setdefault(key, set()).add(recipient_language(fallback=language))
    return {
        keys[key]: languages.pop() if len(languages) == 1 else settings.LANGUAGE_CODE
        for key, languages in found.items()
    }


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
    roles: a CB without, say, a reporting officer still gets its jobs done). Inside
    ``batched()`` the letter is only recorded and written when the batch ends; then [] is
    returned.
    """
    letter = _StaffLetter(
        tuple(roles), superusers, tuple(users), template, context, kind, link[:300]
    )
    batch = getattr(_local, "batch", None)
    if batch is not None:
        batch.staff.append(letter)
        return []
    return _write(_Batch(staff=[letter]))[0]


def notify_addresses(
    addresses: Iterable[str],
    *,
    template: str,
    context: dict,
    kind: str = "",
    language: str | None = None,
) -> int:
    """E-mail ``template`` to each non-empty address (after commit); returns how many.
    ``kind``: what sends it, shown on the outbox desk (default: the template's name).

    Each address reads the language of the active user it belongs to (``recipient_language``),
    else the site default (Chinese); ``language``, when given, is used for every address (the
    caller knows its reader, e.g. a password reset for one user). Inside ``batched()`` the
    e-mails are written when the batch ends."""
    wanted = tuple(sorted({a.strip() for a in addresses if a and a.strip()}))
    if not wanted:
        return 0
    letter = _AddressLetter(wanted, template, context, kind or template, language)
    batch = getattr(_local, "batch", None)
    if batch is not None:
        batch.addresses.append(letter)
    else:
        _write(_Batch(addresses=[letter]))
    return len(wanted)


# --- batches: many letters, a constant number of queries (issue #16) ----------------------------

_local = threading.local()


@dataclass(frozen=True)
class _StaffLetter:
    roles: tuple[str, ...]
    superusers: bool
    users: tuple
    template: str
    context: dict
    kind: str
    link: str


@dataclass(frozen=True)
class _AddressLetter:
    addresses: tuple[str, ...]
    template: str
    context: dict
    kind: str
    language: str | None


@dataclass
class _Batch:
    staff: list[_StaffLetter] = field(default_factory=list)
    addresses: list[_AddressLetter] = field(default_factory=list)


@contextmanager
def batched():
    """Collect every ``notify_staff`` and ``notify_addresses`` call inside the block and write
    them when it ends: the staff of each set of roles read once, the languages of all the
    addresses in one query, the CB profile once, then one bulk insert of the notifications and
    one of the e-mails, sent together after commit. The letters are rendered then, each with
    the context it was given (so the objects in it must not change meanwhile).

    For a job that tells about many rows at once (``certbody.jobs.Reminder``): the queries no
    longer grow with the rows. Use it inside the transaction the letters belong to; when the
    block raises, nothing is written. A nested ``batched()`` joins the outer one.
    """
    if getattr(_local, "batch", None) is not None:
        yield
        return
    batch = _local.batch = _Batch()
    try:
        yield
    finally:
        _local.batch = None
    _write(batch)


def _write(batch: _Batch) -> tuple[list[Notification], list[OutgoingEmail]]:
    """Render and insert ``batch``'s letters (see ``batched``); the rows written."""
    if not batch.staff and not batch.addresses:
        return [], []
    cb = _profile()
    staff: dict[tuple, list] = {}
    for letter in batch.staff:
        key = (tuple(sorted(set(letter.roles))), letter.superusers)
        if key not in staff:
            staff[key] = list(staff_with_roles(key[0], superusers=letter.superusers))
    unknown = sorted(
        {a for letter in batch.addresses if letter.language is None for a in letter.addresses}
    )
    known = _address_languages(unknown) if unknown else {}
    notices: list[Notification] = []
    mails: list[OutgoingEmail] = []
    for letter in batch.staff:
        key = (tuple(sorted(set(letter.roles))), letter.superusers)
        recipients = {user.pk: user for user in staff[key]}
        for user in letter.users:
            if user is not None and user.is_active:
                recipients.setdefault(user.pk, user)
        languages = {user.pk: recipient_language(user) for user in recipients.values()}
        # One render per language read; with nobody to tell, the default is still rendered, so
        # a broken letter fails where it is sent from and not only once someone holds the role.
        letters = {
            language: render_message(letter.template, letter.context, language, cb=cb)
            for language in sorted(set(languages.values()) or {settings.LANGUAGE_CODE})
        }
        for user in recipients.values():
            subject, body = letters[languages[user.pk]]
            notices.append(
                Notification(
                    recipient=user, kind=letter.kind, subject=subject, body=body, link=letter.link
                )
            )
        for language, (subject, body) in letters.items():
            addresses = [
                user.email
                for user in recipients.values()
                if user.email and languages[user.pk] == language
            ]
            body = body if not letter.link else f"{body}\n{settings.SITE_URL}{letter.link}\n"
            mails += _emails(subject, body, addresses, kind=letter.kind, link=letter.link)
    for letter in batch.addresses:
        if letter.language is not None:
            chosen = {a: recipient_language(fallback=letter.language) for a in letter.addresses}
        else:
            chosen = {a: known.get(a, settings.LANGUAGE_CODE) for a in letter.addresses}
        for each in sorted(set(chosen.values())):
            subject, body = render_message(letter.template, letter.context, each, cb=cb)
            group = [a for a in letter.addresses if chosen[a] == each]
            mails += _emails(subject, body, group, kind=letter.kind)
    notices = Notification.objects.bulk_create(notices) if notices else []
    return notices, _queue(mails)


def _emails(subject: str, body: str, addresses, *, kind: str = "", link: str = ""):
    """One unsaved ``OutgoingEmail`` per address: recipients never see each other."""
    return [
        OutgoingEmail(
            to=address[:254], subject=subject[:200], body=body, kind=kind[:40], link=link[:300]
        )
        for address in addresses
    ]


def _send_on_commit(
    subject: str, body: str, addresses: list[str], *, kind: str = "", link: str = ""
) -> list[OutgoingEmail]:
    """Queue one ``OutgoingEmail`` per address in the caller's transaction and send them after
    it commits. One message per address: recipients never see each other (clients, staff)."""
    return _queue(_emails(subject, body, addresses, kind=kind, link=link))


def _queue(emails: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """Insert the unsaved ``emails`` in the caller's transaction (one query) and send them
    after it commits."""
    if not emails:
        return []
    rows = OutgoingEmail.objects.bulk_create(emails)
    ids = [row.pk for row in rows]
    if ids and ids[0] is None:  # a backend that does not return ids from bulk_create
        ids = []
    # After the response, in the background thread (issue #16): a slow mail server must not
    # hold up the staff member whose change queued the mail; in place when that is off.
    transaction.on_commit(lambda: background.submit(_send_ids, ids))
    return rows


def _send_ids(ids: list[int]) -> None:
    connection = None
    try:
        connection = get_connection()
        for start in range(0, len(ids), SEND_PAGE):
            send_many(ids[start : start + SEND_PAGE], connection=connection)
    except Exception:  # never raised into the caller: the rows stay due for the job
        logger.exception("could not send queued e-mails %s", ids)
    finally:
        _close(connection)


def _close(connection) -> None:
    try:
        if connection is not None:
            connection.close()
    except Exception:  # a broken connection that cannot even close: nothing more to do
        logger.warning("could not close the mail connection", exc_info=True)


def send_one(pk: int, *, connection=None, now: datetime | None = None) -> bool | None:
    """Try to send the pending ``OutgoingEmail`` ``pk`` once, if it is due at ``now``.

    Claimed first with a conditional update that must touch exactly one row (pending, due):
    it counts the attempt and moves ``next_attempt_at`` a lease ahead, so a concurrent sender
    (the job, the after-commit send) does not send it too, and a sender that dies mid-send
    leaves it due again after ``SENDING_LEASE``. Then sent through ``connection`` (Django's
    e-mail backend; a new one when None). Returns True when sent, False when the attempt
    failed (recorded: ``last_error``, and the next try after ``RETRY_AFTER`` or ``failed``
    after ``MAX_ATTEMPTS``), None when it was not due or someone else had it.
    """
    now = now or timezone.now()
    claimed = OutgoingEmail.objects.filter(
        pk=pk, state=OutgoingEmail.State.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + SENDING_LEASE)
    if claimed != 1:
        return None
    email = OutgoingEmail.objects.get(pk=pk)
    message = EmailMessage(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to])
    try:
        (connection or get_connection()).send_messages([message])
    except Exception as exc:  # any mail server or backend error: recorded, tried again later
        _attempt_failed(email, exc, now)
        return False
    OutgoingEmail.objects.filter(pk=pk).update(
        state=OutgoingEmail.State.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error=""
    )
    return True


# How many queued e-mails one claim takes (``send_many``): one transaction and one connection.
SEND_PAGE = 50


def _attempt_failed(email: OutgoingEmail, exc: Exception, now: datetime) -> None:
    """Record a failed attempt of the claimed ``email`` (its ``attempts`` already counted):
    due again after ``RETRY_AFTER``, or ``failed`` after ``MAX_ATTEMPTS``."""
    error = f"{type(exc).__name__}: {exc}"[:300]
    given_up = email.attempts >= MAX_ATTEMPTS
    OutgoingEmail.objects.filter(pk=email.pk).update(
        state=OutgoingEmail.State.FAILED if given_up else OutgoingEmail.State.PENDING,
        last_error=error,
        next_attempt_at=None if given_up else now + RETRY_AFTER[email.attempts - 1],
    )
    (logger.error if given_up else logger.warning)(
        "e-mail #%s to %s, attempt %s: %s", email.pk, email.to, email.attempts, error
    )


def send_many(pks, *, connection=None, now: datetime | None = None) -> dict[int, bool]:
    """Try to send each of the pending ``OutgoingEmail`` rows ``pks`` (ints) once, those due
    at ``now``, through one mail connection (``connection``; a new one when None).

    The due rows are claimed together in one short transaction (locked rows another sender is
    claiming are skipped; on SQLite the write lock serialises claims): their attempts are
    counted and ``next_attempt_at`` moved a lease ahead (``SENDING_LEASE``), as ``send_one``
    does for one. Then each message is sent on its own (one failure does not stop the others:
    it is recorded like ``send_one``'s), and the sent ones are marked in one update.

    Returns ``{pk: True}`` for each sent and ``{pk: False}`` for each failed attempt; rows not
    due, not pending or claimed by someone else are absent.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(pks), state=OutgoingEmail.State.PENDING, next_attempt_at__lte=now)
            .order_by("pk")
        )
        if not claimed:
            return {}
        OutgoingEmail.objects.filter(pk__in=[email.pk for email in claimed]).update(
            attempts=F("attempts") + 1, next_attempt_at=now + SENDING_LEASE
        )
    own = connection is None
    results: dict[int, bool] = {}
    sent: list[int] = []
    try:
        connection = connection or get_connection()
        for email in claimed:
            email.attempts += 1
            message = EmailMessage(
                email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to]
            )
            try:
                connection.send_messages([message])
            except Exception as exc:  # any mail server or backend error: tried again later
                _attempt_failed(email, exc, now)
                results[email.pk] = False
            else:
                sent.append(email.pk)
                results[email.pk] = True
    finally:
        if sent:
            OutgoingEmail.objects.filter(pk__in=sent).update(
                state=OutgoingEmail.State.SENT,
                sent_at=timezone.now(),
                next_attempt_at=None,
                last_error="",
            )
        if own:
            _close(connection)
    return results


def next_due_many(
    *, now: datetime | None = None, after: tuple | None = None, limit: int = SEND_PAGE
) -> list[tuple]:
    """Up to ``limit`` ``(next_attempt_at, pk)`` pairs of pending e-mails due at ``now``, in
    attempt order, after the cursor ``after`` (the same pair); a keyed walk of the indexed
    ``next_attempt_at`` (see ``next_due``)."""
    rows = OutgoingEmail.objects.filter(
        state=OutgoingEmail.State.PENDING, next_attempt_at__lte=now or timezone.now()
    )
    if after is not None:
        when, pk = after
        rows = rows.filter(Q(next_attempt_at__gt=when) | Q(next_attempt_at=when, pk__gt=pk))
    return list(rows.order_by("next_attempt_at", "pk").values_list("next_attempt_at", "pk")[:limit])


def next_due(*, now: datetime | None = None, after: tuple | None = None) -> tuple | None:
    """``(next_attempt_at, pk)`` of the first pending e-mail due at ``now`` in attempt order,
    after the cursor ``after`` (the same pair), or None. A keyed walk of the indexed
    ``next_attempt_at``."""
    rows = OutgoingEmail.objects.filter(
        state=OutgoingEmail.State.PENDING, next_attempt_at__lte=now or timezone.now()
    )
    if after is not None:
        when, pk = after
        rows = rows.filter(Q(next_attempt_at__gt=when) | Q(next_attempt_at=when, pk__gt=pk))
    return rows.order_by("next_attempt_at", "pk").values_list("next_attempt_at", "pk").first()


def outgoing_email_retry(*, email: OutgoingEmail, actor) -> OutgoingEmail:
    """Try a ``failed`` e-mail once more, now (after commit), e.g. once the mail server is
    back: it becomes pending and due; another failure leaves it failed again with the new
    error. ``actor``: a user with ``certbody.retry_email``. Raises RuleViolation when the
    e-mail is not failed or the actor may not retry it."""
    policy.require(actor, "certbody.retry_email", email)
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().get(pk=email.pk)
        if email.state != OutgoingEmail.State.FAILED:
            raise RuleViolation(gettext("Only an e-mail that failed can be sent again."))
        email.state = OutgoingEmail.State.PENDING
        email.next_attempt_at = timezone.now()
        email.save(update_fields=["state", "next_attempt_at"])
        logger.info("e-mail #%s to %s retried by %s", email.pk, email.to, actor)
        transaction.on_commit(lambda: _send_ids([email.pk]))
    return email


def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s notifications (all, or those with ``ids``) read; returns how many."""
    from django.utils import timezone

    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
