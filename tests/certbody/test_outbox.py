"""E-mails go through the outbox: written with their cause, sent after commit, retried by the
``outbox`` job after a mail outage, given up after ``MAX_ATTEMPTS`` and shown to staff.

Before the outbox a reminder whose sending failed was only logged and never sent again.
"""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from certbody import jobs, roles
from certbody.celery import app
from certbody.lifecycle import RuleViolation
from certbody.models import OutgoingEmail
from certbody.notifications import (
    MAX_ATTEMPTS,
    RETRY_AFTER,
    notify_addresses,
    notify_staff,
    outgoing_email_retry,
    send_many,
    send_one,
)
from tests.conftest import make_staff

FAILING = "tests.certbody.test_outbox.MailServerDown"
State = OutgoingEmail.State


class MailServerDown(BaseEmailBackend):
    """A mail server that refuses every connection (an outage)."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPConnectError(421, "service not available")


@pytest.fixture
def manager(cb):
    user = make_staff("outbox-tm", roles.TECHNICAL_MANAGER)
    user.email = "tm@cb.example.cn"
    user.save(update_fields=["email"])
    return user


def remind(django_capture_on_commit_callbacks, *addresses):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_addresses(
            addresses or ["service@client.example.cn"],
            template="calendar_missing",
            context={"year": 2027, "loaded": False},
            kind="surveillance_reminders",
        )


def test_a_mail_is_written_with_its_cause_and_sent_after_commit(
    cb, django_capture_on_commit_callbacks
):
    remind(django_capture_on_commit_callbacks, "a@client.example.cn", "b@client.example.cn")
    assert sorted(m.to[0] for m in mail.outbox) == ["a@client.example.cn", "b@client.example.cn"]
    rows = OutgoingEmail.objects.order_by("to")
    assert [(r.to, r.state, r.attempts, r.kind) for r in rows] == [
        ("a@client.example.cn", State.SENT, 1, "surveillance_reminders"),
        ("b@client.example.cn", State.SENT, 1, "surveillance_reminders"),
    ]
    assert all(r.sent_at and r.next_attempt_at is None for r in rows)
    assert rows[0].subject == mail.outbox[0].subject


def test_a_rolled_back_cause_sends_and_keeps_nothing(cb, django_capture_on_commit_callbacks):
    class Refused(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Refused),
        transaction.atomic(),
    ):
        notify_addresses(["a@client.example.cn"], template="calendar_missing", context={})
        raise Refused
    assert not OutgoingEmail.objects.exists()
    assert mail.outbox == []


def test_staff_notifications_are_mailed_through_the_outbox(
    manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER,),
            template="calendar_missing",
            context={"year": 2027, "loaded": False},
            kind="calendar",
            link="/workspace/",
        )
    [row] = OutgoingEmail.objects.all()
    assert (row.to, row.kind, row.link, row.state) == (
        manager.email,
        "calendar",
        "/workspace/",
        State.SENT,
    )
    assert mail.outbox[0].to == [manager.email]


def test_a_mail_that_failed_during_an_outage_is_sent_by_the_job_later(
    cb, settings, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to("2026-11-16 09:00 +08:00", tick=False)
    settings.EMAIL_BACKEND = FAILING
    remind(django_capture_on_commit_callbacks)
    row = OutgoingEmail.objects.get()
    assert (row.state, row.attempts) == (State.PENDING, 1)
    assert "SMTPConnectError" in row.last_error and "421" in row.last_error
    assert row.next_attempt_at == row.created_at + RETRY_AFTER[0]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert jobs.run("outbox") == 0  # not due yet
    time_machine.move_to(row.next_attempt_at, tick=False)
    assert jobs.run("outbox") == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error, row.next_attempt_at) == (
        State.SENT,
        2,
        "",
        None,
    )
    assert [m.to for m in mail.outbox] == [["service@client.example.cn"]]
    assert jobs.run("outbox") == 0  # sent: never again


def test_after_the_last_attempt_a_mail_stays_failed_and_visible(
    cb, settings, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to("2026-11-16 09:00 +08:00", tick=False)
    settings.EMAIL_BACKEND = FAILING
    remind(django_capture_on_commit_callbacks)
    row = OutgoingEmail.objects.get()
    waits = []
    while row.state == State.PENDING:
        waits.append(row.next_attempt_at - timezone.now())
        time_machine.move_to(row.next_attempt_at, tick=False)
        assert jobs.run("outbox") == 1
        row.refresh_from_db()
    assert waits == list(RETRY_AFTER)  # growing waits between the attempts
    assert (row.state, row.attempts, row.next_attempt_at) == (State.FAILED, MAX_ATTEMPTS, None)
    time_machine.move_to(row.created_at + timedelta(days=30), tick=False)
    assert jobs.run("outbox") == 0


def test_a_mail_being_sent_is_not_sent_twice(cb, django_capture_on_commit_callbacks):
    with transaction.atomic():
        notify_addresses(["a@client.example.cn"], template="calendar_missing", context={})
    row = OutgoingEmail.objects.get()
    assert send_one(row.pk) is True
    assert send_one(row.pk) is None  # claimed by a conditional update: no second send
    assert len(mail.outbox) == 1


def test_staff_retry_a_failed_mail(manager, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = FAILING
    remind(django_capture_on_commit_callbacks)
    row = OutgoingEmail.objects.get()
    OutgoingEmail.objects.filter(pk=row.pk).update(
        state=State.FAILED, attempts=MAX_ATTEMPTS, next_attempt_at=None
    )
    row.refresh_from_db()
    market = make_staff("outbox-market", roles.MARKET)
    with pytest.raises(RuleViolation):
        outgoing_email_retry(email=row, actor=market)

    with django_capture_on_commit_callbacks(execute=True):
        outgoing_email_retry(email=row, actor=manager)  # still down: failed again
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.FAILED, MAX_ATTEMPTS + 1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        outgoing_email_retry(email=row, actor=manager)
    row.refresh_from_db()
    assert row.state == State.SENT and len(mail.outbox) == 1
    with pytest.raises(RuleViolation, match="发送失败"):
        outgoing_email_retry(email=row, actor=manager)


def test_the_outbox_desk_lists_mails_by_state_for_the_technical_manager(
    client, manager, settings, django_capture_on_commit_callbacks
):
    remind(django_capture_on_commit_callbacks, "ok@client.example.cn")
    settings.EMAIL_BACKEND = FAILING
    remind(django_capture_on_commit_callbacks, "down@client.example.cn")
    OutgoingEmail.objects.filter(to="down@client.example.cn").update(state=State.FAILED)
    url = reverse("workspace:list", args=["outbox"])

    client.force_login(make_staff("outbox-market", roles.MARKET))
    assert client.get(url).status_code == 403

    client.force_login(manager)
    page = client.get(url).content.decode()
    assert "ok@client.example.cn" in page and "down@client.example.cn" in page
    failed = client.get(url, {"state": "failed"}).content.decode()
    assert "down@client.example.cn" in failed and "ok@client.example.cn" not in failed
    assert "SMTPConnectError" in failed

    row = OutgoingEmail.objects.get(to="down@client.example.cn")
    page = client.get(reverse("workspace:object", args=["outbox", row.pk])).content.decode()
    assert "down@client.example.cn" in page and "SMTPConnectError" in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retry = reverse("workspace:action", args=["outbox", row.pk, "retry"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry, {"confirm": "1"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == State.SENT


def test_the_outbox_job_runs_every_few_minutes():
    entry = app.conf.beat_schedule["outbox"]
    assert entry["args"] == ("outbox",)
    assert "outbox" in jobs.JOBS


class RefusesOneAddress(BaseEmailBackend):
    """A mail server that refuses one recipient and takes the others."""

    def send_messages(self, email_messages):
        if any(message.to == ["bad@client.example.cn"] for message in email_messages):
            raise smtplib.SMTPRecipientsRefused({"bad@client.example.cn": (550, "no")})
        mail.outbox.extend(email_messages)
        return len(email_messages)


def _queue(count, *, bad=False):
    addresses = [f"c{i}@client.example.cn" for i in range(count)]
    if bad:
        addresses.insert(1, "bad@client.example.cn")
    with transaction.atomic():  # no commit callback run: the rows wait for the job
        notify_addresses(addresses, template="calendar_missing", context={"year": 2027})
    return list(OutgoingEmail.objects.order_by("pk").values_list("pk", flat=True))


def test_a_page_of_mails_is_claimed_once_and_one_refusal_does_not_stop_the_others(cb, settings):
    settings.EMAIL_BACKEND = "tests.certbody.test_outbox.RefusesOneAddress"
    pks = _queue(3, bad=True)

    results = send_many(pks)

    bad = OutgoingEmail.objects.get(to="bad@client.example.cn")
    assert results == {pk: pk != bad.pk for pk in pks}
    assert (bad.state, bad.attempts, bad.last_error[:22]) == (
        State.PENDING,
        1,
        "SMTPRecipientsRefused:",
    )
    assert set(OutgoingEmail.objects.exclude(pk=bad.pk).values_list("state", flat=True)) == {
        State.SENT
    }
    assert len(mail.outbox) == 3
    assert send_many(pks) == {}  # nothing due any more: the failed one waits for its retry


def test_a_page_costs_the_same_queries_for_5_or_40_mails(cb, django_assert_num_queries):
    few = _queue(5)
    # claim (savepoint, select, update, release) and one update of the sent ones
    with django_assert_num_queries(5):
        assert all(send_many(few).values())
    OutgoingEmail.objects.all().delete()
    many = _queue(40)
    with django_assert_num_queries(5):
        assert all(send_many(many).values())
    assert len(mail.outbox) == 45
