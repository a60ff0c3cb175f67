"""In-app notifications for staff and e-mail after commit (certbody.notifications)."""

import pytest
from django.core import mail
from django.db import transaction

from certbody import roles
from certbody.models import Notification
from certbody.notifications import mark_read, notify_addresses, notify_staff, render_message


def test_staff_in_the_roles_get_a_notification_and_an_email(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify_staff(
            roles=(roles.REPORTING_OFFICER,),
            template="calendar_missing",
            context={"year": 2031, "loaded": False},
            kind="calendar",
            link="/staff/reports/",
        )
    assert [n.recipient for n in rows] == [people.reporting]
    assert rows[0].subject == "【工作日日历】2031 年法定节假日安排尚未录入"
    assert "周一至周五" in rows[0].body
    [message] = mail.outbox
    assert message.to == [people.reporting.email]
    assert message.body.rstrip().endswith("/staff/reports/")


def test_nothing_is_sent_when_the_transaction_rolls_back(
    people, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify_addresses(["a@example.cn"], template="calendar_missing", context={"year": 1})
        raise RuntimeError
    assert mail.outbox == []


def test_texts_are_not_html_escaped(cb):
    subject, body = render_message(
        "job_failed", {"job": "A & B", "subject": "<公司>", "error": "\"引号\" 'x'"}
    )
    assert subject == "【定时任务未能执行】A & B"
    assert "<公司>" in body and "\"引号\" 'x'" in body
    assert cb.name in body


def test_client_addresses_are_sent_one_message_each(cb, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify_addresses(
            ["a@example.cn", "", "b@example.cn", "a@example.cn"],
            template="calendar_missing",
            context={"year": 2031, "loaded": True},
        )
    assert sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.cn", "b@example.cn"]


def test_mark_read(people):
    notify_staff(roles=(roles.MARKET,), template="job_failed", context={}, kind="x")
    notify_staff(roles=(roles.MARKET,), template="job_failed", context={}, kind="x")
    assert mark_read(user=people.market) == 2
    assert not Notification.objects.filter(recipient=people.market, read_at__isnull=True)
