"""Issue #16: a pass over many due rows costs the same per step whatever their number — one
page query serves ``CLAIM_BATCH`` steps — and the "what is due" sub-selects stay keyed look-ups
on PostgreSQL (``KeyedExists``), whatever the planner's statistics."""

import math
from datetime import date

import pytest
from django.db import connection
from django.db.models import OuterRef
from django.test.utils import CaptureQueriesContext

from certbody import jobs
from certbody.models import CalendarYear, JobMark

TODAY = date(2026, 11, 16)
JOB = "claim_test"


FIRST = 3000  # CalendarYear rows from this year on stand for any model with a deadline column


def due_rows(size: int) -> list[CalendarYear]:
    """``size`` rows to claim, their "deadline" (``year``) out of creation order."""
    return CalendarYear.objects.bulk_create(
        CalendarYear(year=FIRST + (n * 37) % size) for n in range(size)
    )


def one_pass(monkeypatch) -> tuple[list[int], int, int]:
    """Claim and mark every due row, as a job's steps do: (pks in claim order, page queries,
    all queries)."""
    pages = []
    real_page = jobs._claim_page
    monkeypatch.setattr(
        jobs, "_claim_page", lambda *a, **kw: pages.append(1) or real_page(*a, **kw)
    )
    progress: dict = {}
    claimed = []
    with CaptureQueriesContext(connection) as queries:
        while True:
            row = jobs.claim(
                CalendarYear.objects.filter(year__gte=FIRST),
                job=JOB,
                field="year",
                threshold="due",
                progress=progress,
            )
            if row is None:
                break
            jobs.mark(JOB, row.pk, row.threshold, TODAY)
            claimed.append(row.pk)
    # PostgreSQL: each page also turns JIT off for its transaction (certbody.jobs._claim_page)
    reads = [q for q in queries.captured_queries if not q["sql"].startswith("SET LOCAL")]
    return claimed, len(pages), len(reads)


@pytest.mark.django_db
def test_each_row_is_claimed_once_in_deadline_order(monkeypatch):
    rows = due_rows(70)
    claimed, _pages, _queries = one_pass(monkeypatch)
    assert claimed == sorted(row.pk for row in rows)
    # a second pass finds every row marked
    assert one_pass(monkeypatch)[0] == []


@pytest.mark.django_db
def test_one_page_query_serves_a_batch_of_steps_at_any_size(monkeypatch):
    per_step = {}
    for size in (60, 130):
        JobMark.objects.filter(job=JOB).delete()
        CalendarYear.objects.filter(year__gte=FIRST).delete()
        due_rows(size)
        claimed, pages, queries = one_pass(monkeypatch)
        assert len(claimed) == size
        # one page (with its marks) per CLAIM_BATCH rows, plus the empty one that ends the pass
        assert pages == math.ceil(size / jobs.CLAIM_BATCH) + 1
        # each page reads the rows with their marks tested in the same query
        per_step[size] = (queries - pages) / size
    assert per_step[60] == per_step[130]


@pytest.mark.django_db
def test_rows_marked_already_are_passed_over_without_a_lock(monkeypatch):
    rows = due_rows(5)
    jobs.mark(JOB, rows[0].pk, "due", TODAY)
    claimed, pages, _queries = one_pass(monkeypatch)
    assert rows[0].pk not in claimed and len(claimed) == 4
    assert pages == 2


@pytest.mark.django_db
def test_keyed_exists_keeps_postgresql_from_turning_the_sub_select_into_a_join():
    others = JobMark.objects.filter(job="fixture", object_id=OuterRef("object_id"))
    queryset = JobMark.objects.filter(jobs.KeyedExists(others)).exclude(
        jobs.KeyedExists(others.filter(failed=True))
    )
    assert str(queryset.query).count("EXISTS(") == 2
    with CaptureQueriesContext(connection) as queries:
        list(queryset)
    executed = queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert executed.count("OFFSET 0)") == 2
    else:
        assert "OFFSET" not in executed
    JobMark.objects.bulk_create(
        JobMark(job="fixture", object_id=n % 2, threshold=str(n), acted_on=TODAY, failed=n == 0)
        for n in range(3)
    )
    # object 1's rows have a non-failed twin and no failed one; object 0's have a failed one
    assert sorted(queryset.values_list("threshold", flat=True)) == ["1"]
