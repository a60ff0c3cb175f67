"""The signed-in staff member's notifications page (``/notifications/``): their own only, newest
first, paginated; one or all marked read by POST. It replaced the admin's changelist, which
staff no longer reach; the jobs' notifications link to workspace pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from certbody import roles, views
from certbody.models import Notification
from certbody.notifications import notify_staff
from tests.applications.factories import ClientUserFactory
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

URL = reverse("notifications")


@pytest.fixture
def market(cb):
    return make_staff("nt-market", roles.MARKET)


@pytest.fixture
def reporting(cb):
    return make_staff("nt-reporting", roles.REPORTING_OFFICER)


def shown(response) -> list[int]:
    assert response.status_code == 200
    return [n.pk for n in response.context["page"].object_list]


def test_each_staff_member_sees_only_their_notifications(client, market, reporting):
    notify_staff(roles=(roles.MARKET,), template="job_failed", context={"job": "甲"}, kind="x")
    notify_staff(
        roles=(roles.REPORTING_OFFICER,), template="job_failed", context={"job": "乙"}, kind="x"
    )
    client.force_login(market)

    page = client.get(URL).content.decode()

    assert "【定时任务未能执行】甲" in page and "乙" not in page
    assert "/admin/" not in page


def test_newest_first_and_paginated(client, market):
    for n in range(views.NOTIFICATIONS_PER_PAGE + 2):
        notify_staff(
            roles=(roles.MARKET,), template="job_failed", context={"job": f"任务{n}"}, kind="x"
        )
    rows = list(Notification.objects.filter(recipient=market).order_by("pk"))
    now = timezone.now()
    for n, row in enumerate(rows):  # created one minute apart, the last one newest
        Notification.objects.filter(pk=row.pk).update(created_at=now - timedelta(minutes=99 - n))
    client.force_login(market)

    first = shown(client.get(URL))
    second = shown(client.get(URL, {"page": 2}))

    assert len(first) == views.NOTIFICATIONS_PER_PAGE and len(second) == 2
    assert first[0] == rows[-1].pk and second[-1] == rows[0].pk
    assert 'href="?page=2"' in client.get(URL).content.decode()


def test_mark_one_read_then_all(client, market):
    for job in ("甲", "乙", "丙"):
        notify_staff(roles=(roles.MARKET,), template="job_failed", context={"job": job}, kind="x")
    first, *others = Notification.objects.filter(recipient=market).order_by("pk")
    client.force_login(market)

    response = client.post(f"{URL}?page=1", {"read": str(first.pk)})

    assert response.status_code == 302 and response["Location"] == f"{URL}?page=1"
    first.refresh_from_db()
    assert first.read_at is not None
    assert Notification.objects.filter(recipient=market, read_at__isnull=True).count() == 2
    assert shown(client.get(URL, {"unread": "1"})) == sorted((o.pk for o in others), reverse=True)
    assert client.get(URL).context["unread_count"] == 2

    client.post(URL, {"read": "all"})

    assert not Notification.objects.filter(recipient=market, read_at__isnull=True).exists()
    home = client.get(reverse("home"))
    assert home.context["unread_count"] == 0


def test_someone_elses_notification_cannot_be_marked_read(client, market, reporting):
    notify_staff(roles=(roles.REPORTING_OFFICER,), template="job_failed", context={}, kind="x")
    theirs = reporting.notifications.get()
    client.force_login(market)

    client.post(URL, {"read": str(theirs.pk)})
    client.post(URL, {"read": "all"})

    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_clients_and_the_public_do_not_get_the_page(client, cb):
    assert client.get(URL)["Location"].startswith(reverse("login"))
    client.force_login(ClientUserFactory())
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"read": "all"}).status_code == 403


def test_a_jobs_notification_links_to_the_workspace_page(market):
    from certbody.jobs import link as _link
    from tests.certificates.factories import Staff, issued_certificate

    certificate = issued_certificate(staff=Staff())

    assert _link(certificate) == reverse("workspace:object", args=["certificates", certificate.pk])
    assert _link(market) == ""  # no desk shows users: no link rather than the admin
    assert _link(None) == ""
