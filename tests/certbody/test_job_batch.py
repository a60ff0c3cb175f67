"""Issue #16: a reminder job tells a page of due rows at once (``Reminder.batch``) with the same
letters as one row at a time, in a number of queries that does not grow with the page."""

from datetime import date

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from certbody import jobs, roles
from certbody.jobs import Daily, Reminder
from certbody.models import CalendarYear, JobMark, Notification, OutgoingEmail
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.conftest import make_staff

TODAY = date(2026, 11, 16)
FIRST = 3000  # CalendarYear rows from this year on stand for any model with a deadline column


@pytest.fixture
def told(cb):
    """The people a test reminder tells: two market officers (one reading English) and a client
    organisation with a contact address and an active user."""
    chinese = make_staff("batch-market-zh", roles.MARKET)
    chinese.email = "zh@cb.example.cn"
    chinese.save(update_fields=["email"])
    english = make_staff("batch-market-en", roles.MARKET)
    english.email, english.language = "en@cb.example.cn", "en"
    english.save(update_fields=["email", "language"])
    organization = OrganizationFactory(contact_email="contact@client.example.cn")
    ClientUserFactory(organization=organization, email="user@client.example.cn", language="en")
    return organization


def reminder(organization) -> Reminder:
    return Reminder(
        name="batch_test",
        label="batch test",
        schedule=Daily(1, 0),
        note="",
        order=999,
        due=lambda today: CalendarYear.objects.filter(year__gte=FIRST),
        field="year",
        threshold=lambda today: jobs.bands((("near", Q(year__lt=FIRST + 3)),), "far"),
        roles=lambda row: (roles.MARKET,),
        template="calendar_missing",
        context=lambda row, today: {"year": row.year, "loaded": row.year % 2 == 0},
        client=lambda row: organization,
        client_template="calendar_missing",
    )


def due_rows(size: int) -> None:
    CalendarYear.objects.bulk_create(CalendarYear(year=FIRST + n) for n in range(size))


def letters() -> tuple[list, list]:
    notes = Notification.objects.order_by("recipient_id", "subject").values_list(
        "recipient_id", "kind", "subject", "body", "link"
    )
    mails = OutgoingEmail.objects.order_by("to", "subject").values_list(
        "to", "kind", "subject", "body", "link"
    )
    return list(notes), list(mails)


@pytest.mark.django_db
def test_a_page_tells_what_one_row_at_a_time_tells(told):
    job = reminder(told)
    due_rows(7)
    progress: dict = {}
    steps = 0
    while job.step(today=TODAY, progress=progress):
        steps += 1
    one_by_one = letters()
    marks = sorted(JobMark.objects.filter(job="batch_test").values_list("object_id", "threshold"))
    assert steps == 7 and len(marks) == 7
    assert len(one_by_one[0]) == 14  # two officers, seven rows
    assert len(one_by_one[1]) == 28  # and two client addresses
    Notification.objects.all().delete()
    OutgoingEmail.objects.all().delete()
    JobMark.objects.filter(job="batch_test").delete()

    assert job.batch(today=TODAY, progress={}, limit=jobs.CLAIM_BATCH) == 7
    assert letters() == one_by_one
    again = sorted(JobMark.objects.filter(job="batch_test").values_list("object_id", "threshold"))
    assert again == marks
    # each person in their language: the English officer and client user read English
    english = OutgoingEmail.objects.filter(to__in=["en@cb.example.cn", "user@client.example.cn"])
    chinese = OutgoingEmail.objects.filter(to__in=["zh@cb.example.cn", "contact@client.example.cn"])
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in m.subject) for m in english)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m.subject) for m in chinese)


@pytest.mark.django_db
def test_a_page_costs_the_same_queries_for_5_or_50_rows(told):
    job = reminder(told)
    counts = {}
    for size in (5, 50):
        CalendarYear.objects.filter(year__gte=FIRST).delete()
        JobMark.objects.filter(job="batch_test").delete()
        due_rows(size)
        job.batch(today=TODAY, progress={}, limit=1)  # warm: the CB profile, templates
        with CaptureQueriesContext(connection) as queries:
            taken = job.batch(today=TODAY, progress={}, limit=jobs.CLAIM_BATCH)
        assert taken == size - 1
        counts[size] = statements(queries)
    assert counts[5] == counts[50]
    assert len(counts[50]) <= 16


def statements(queries) -> list[str]:
    """The queries' first words and table (SQLite splits a long bulk insert into several
    statements by its parameter limit: consecutive inserts into one table count once)."""
    found: list[str] = []
    for query in queries:
        words = query["sql"].replace('"', "").split()
        table = next((w for n, w in enumerate(words) if n and words[n - 1] in ("INTO", "FROM")), "")
        shape = f"{words[0]} {table}"
        if not (found and shape == found[-1] and words[0] == "INSERT"):
            found.append(shape)
    return found


@pytest.mark.django_db
def test_the_driver_takes_pages_and_a_second_pass_finds_nothing(told, monkeypatch):
    job = reminder(told)
    due_rows(120)
    monkeypatch.setitem(jobs.JOBS, "batch_test", job.job())
    assert jobs.run("batch_test", today=TODAY) == 120
    assert JobMark.objects.filter(job="batch_test").count() == 120
    assert OutgoingEmail.objects.count() == 120 * 4
    assert jobs.run("batch_test", today=TODAY) == 0
    assert jobs.run("batch_test", today=TODAY, limit=5) == 0


@pytest.mark.django_db
def test_rows_another_runner_marked_are_taken_but_not_told_again(told):
    job = reminder(told)
    due_rows(6)
    first = CalendarYear.objects.get(year=FIRST)
    # marked between the page read and the lock, e.g. by a second runner
    progress: dict = {}
    rows = jobs.claim_many(
        job.due(TODAY), job="batch_test", field="year", threshold="near", progress=progress
    )
    assert len(rows) == 6
    jobs.mark("batch_test", first.pk, "near", TODAY)
    told_rows = jobs.mark_many("batch_test", rows, TODAY)
    assert [row.pk for row in told_rows] == [row.pk for row in rows[1:]]
    assert JobMark.objects.filter(job="batch_test").count() == 6
