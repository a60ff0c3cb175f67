"""Periodic jobs: the engine, the registry, and the ground floor's own jobs.

**Registry.** Each app declares its jobs in ``<app>/jobs.py`` (``register(Job(...))``) and
imports that module from its ``AppConfig.ready``, like its desks. A ``Job`` carries its step,
its time (``Schedule``: ``Every`` or ``Daily``), a note in plain words on why then, and its
place in a full pass (``order``). The Celery beat schedule (``certbody.celery``) and
``manage.py run_due_jobs`` both read the registry, so the times beat keeps and the times
``run_due_jobs --list`` prints come from the same ``Schedule`` value and cannot disagree.

**Steps.** A step is an idempotent one-item step (house style, "Periodic jobs"): it asks "what
is due now?" of a stored deadline column, claims **one** due row (``claim``:
``select_for_update(skip_locked=True)`` on PostgreSQL, so concurrent workers take different
rows), records that it acted with a ``JobMark`` (``mark``: unique per job, object and
threshold, so a second run or a second worker finds it and does nothing), acts only through the
services as ``certbody.lifecycle.system_user()`` (``act``: a refusal is recorded on the mark and
notified, not retried), tells the people concerned (``certbody.notifications``) and returns
True; it returns False when nothing is due. Jobs that only tell people are rows of one step
(``Reminder``). ``run(name)`` loops a step until it returns False, passing it a cursor
(``progress``) so that one pass over many due rows stays linear; the thin Celery task
``reporting.run_job`` and ``manage.py run_due_jobs`` call it. Tests call the steps directly
with frozen time.

**The ground floor's jobs** (below): ``outbox`` (e-mails whose sending failed, tried again),
``calendar`` (next year's working-day calendar in December) and ``orphan_files``.

This module imports no app (applications, audits, certificates, reporting). Times are local to
``CELERY_TIMEZONE`` (Asia/Shanghai).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from celery.schedules import crontab
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, CharField, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import gettext

from certbody import dates, notifications, roles
from certbody.dates import add_months
from certbody.lifecycle import RuleViolation
from certbody.models import CalendarDay, CalendarYear, JobMark
from certbody.notifications import notify_addresses, notify_staff

logger = logging.getLogger("certbody.jobs")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_STEPS = 1_000_000  # a driver's safety stop; a step always marks what it did
CLAIM_BATCH = 50  # due rows looked at per query while claiming


@dataclass(frozen=True)
class Every:
    """Every ``minutes`` minutes, around the clock, on the clock's marks (:00, :05, … for 5).

    ``minutes`` must divide 60: crontab's ``*/7`` restarts at each full hour, so it would not
    be "every 7 minutes". Raises ValueError otherwise.
    """

    minutes: int

    def __post_init__(self):
        if not isinstance(self.minutes, int) or not 1 <= self.minutes <= 60 or 60 % self.minutes:
            raise ValueError(
                f"minutes must divide 60 (1, 2, 3, 4, 5, 6, 10, …), got {self.minutes!r}"
            )

    def crontab(self) -> crontab:
        return crontab(minute=f"*/{self.minutes}")

    def words(self) -> str:
        # Two messages rather than ngettext: Chinese has one form, and it needs the count.
        if self.minutes == 1:
            return gettext("every minute")
        return gettext("every %(count)d minutes") % {"count": self.minutes}


@dataclass(frozen=True)
class Daily:
    """At ``hour``:``minute`` every day, or only on ``weekday`` and/or in ``month``.

    ``hour`` 0–23, ``minute`` 0–59; ``weekday`` as ``date.weekday()`` (0 = Monday … 6 =
    Sunday; ``calendar.SUNDAY``), None for every day; ``month`` 1–12, None for every month.
    Raises ValueError for a value out of range.
    """

    hour: int
    minute: int
    weekday: int | None = None
    month: int | None = None

    def __post_init__(self):
        for field, value, low, high in (
            ("hour", self.hour, 0, 23),
            ("minute", self.minute, 0, 59),
            ("weekday", 0 if self.weekday is None else self.weekday, 0, 6),
            ("month", 1 if self.month is None else self.month, 1, 12),
        ):
            if not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{field} must be {low}–{high}, got {value!r}")

    def crontab(self) -> crontab:
        return crontab(
            minute=self.minute,
            hour=self.hour,
            # crontab counts weekdays from Sunday = 0, date.weekday() from Monday = 0
            day_of_week="*" if self.weekday is None else (self.weekday + 1) % 7,
            month_of_year="*" if self.month is None else self.month,
        )

    def words(self) -> str:
        time = f"{self.hour:02d}:{self.minute:02d}"
        if self.weekday is None:
            text = gettext("every day at %(time)s") % {"time": time}
        else:
            text = gettext("every %(weekday)s at %(time)s") % {
                "weekday": WEEKDAYS[self.weekday],
                "time": time,
            }
        if self.month is not None:
            text = gettext("%(when)s in %(month)s") % {"when": text, "month": MONTHS[self.month]}
        return text


Schedule = Every | Daily


@dataclass(frozen=True)
class Job:
    """A periodic job.

    ``name``: lower_snake_case, the argument of ``reporting.run_job`` and of
    ``run_due_jobs --job``; ``label``: what it does, for people; ``step``: the idempotent
    one-item step, ``step(*, today=date | None, progress=dict | None) -> bool`` (True when it
    acted); ``schedule``: when beat runs it (``Every`` or ``Daily``); ``note``: why at that time,
    in plain words (read by people maintaining the schedule); ``order``: its place in a full
    pass (``run_all``, ``run_due_jobs``), lowest first — status changes before the reminders
    and reports that read them. ``batch``: optionally, the same step over a page of due rows,
    ``batch(*, today, progress, limit) -> int`` (how many due rows it took, at most ``limit``,
    in one transaction; 0 when none is due); the driver (``run``) then calls it instead of
    ``step``, so a pass costs a few queries per page rather than per row (issue #16).
    """

    name: str
    label: str
    step: Callable[..., bool]
    schedule: Schedule
    note: str = ""
    order: int = 1000
    batch: Callable[..., int] | None = None

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(f"job name must be lower_snake_case, got {self.name!r}")
        if not isinstance(self.schedule, Every | Daily):
            raise ValueError(
                f"job {self.name!r}: schedule must be Every or Daily, got {self.schedule!r}"
            )

    @property
    def beat_key(self) -> str:
        """The job's entry name in the beat schedule (kept from the hand-written schedule, so
        beat's stored last-run times carry over)."""
        return self.name.replace("_", "-")

    @property
    def when(self) -> str:
        """The schedule in plain words, e.g. "every day at 01:10"."""
        return self.schedule.words()


# The registry itself, name → Job, in run order (``Job.order``, then registration order).
JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add ``job`` to the registry, in its place by ``Job.order``, and return it. Registering
    the same job again changes nothing; another job under a name already taken raises
    ValueError."""
    existing = JOBS.get(job.name)
    if existing is not None and existing != job:
        raise ValueError(f"a different job is registered as {job.name!r} already")
    if existing is None:
        ordered = sorted([*JOBS.values(), job], key=lambda j: j.order)  # stable: ties keep order
        JOBS.clear()
        JOBS.update((j.name, j) for j in ordered)
    return job


def registered() -> dict[str, Job]:
    """The registry itself (``JOBS``), name → ``Job`` in run order. Complete once Django's apps
    are loaded (each app registers its jobs from its ``AppConfig.ready``). Add jobs through
    ``register``; tests may replace an entry for a while (``monkeypatch.setitem``)."""
    return JOBS


def beat_schedule(jobs: dict[str, Job] | None = None) -> dict[str, dict]:
    """Celery's ``beat_schedule`` for ``jobs`` (default: every registered job): one entry per job,
    keyed by ``Job.beat_key``, running the thin task ``reporting.run_job`` with the job's name
    (the task is named by string: certbody imports no app)."""
    jobs = registered() if jobs is None else jobs
    return {
        job.beat_key: {
            "task": "reporting.run_job",
            "schedule": job.schedule.crontab(),
            "args": (job.name,),
        }
        for job in jobs.values()
    }


# --- the driver --------------------------------------------------------------------------------


def run(name: str, *, today: date | None = None, limit: int | None = None) -> int:
    """Loop the step of job ``name`` until nothing is due (or ``limit`` steps); the count of
    steps that acted (rows taken). The steps share a cursor for the pass (``progress``), so rows
    already handled are not scanned again. A job with a ``batch`` takes a page of due rows per
    call (at most ``CLAIM_BATCH``, each page its own transaction). Raises KeyError for an
    unknown job."""
    job = JOBS[name]
    today = dates.today(today)
    cap = MAX_STEPS if limit is None else limit
    done = 0
    progress: dict = {}  # the step's cursor for this pass (see claim)
    while done < cap:
        if job.batch is not None:
            taken = job.batch(today=today, progress=progress, limit=min(CLAIM_BATCH, cap - done))
        else:
            taken = 1 if job.step(today=today, progress=progress) else 0
        if not taken:
            break
        done += taken
    if done >= MAX_STEPS:
        logger.error("job %s stopped after %d steps", name, done)
    return done


def run_all(*, today: date | None = None, names=None) -> dict[str, int | None]:
    """One full pass: every job (or those in ``names``) in ``JOBS`` order; steps per job, or
    None for a job that raised. A failing job is logged with its traceback and the pass goes
    on: one broken job (or a cache or mail server down) must not hold back the deadlines the
    others keep. Its due rows stay due, so the next pass tries them again."""
    today = dates.today(today)
    selected = list(JOBS) if not names else [n for n in JOBS if n in set(names)]
    results: dict[str, int | None] = {}
    for name in selected:
        try:
            results[name] = run(name, today=today)
        except Exception:
            logger.exception("job %s failed; going on with the other jobs", name)
            results[name] = None
    return results


def paged(step: Callable[..., bool]) -> Callable[..., int]:
    """A ``Job.batch`` made of a one-item ``step`` that acts through the services: up to
    ``limit`` steps in one transaction (each step's own ``atomic`` a savepoint in it), their
    notifications and e-mails written together at the end of the page
    (``notifications.batched``). The services still run row by row; the page saves a commit
    and the notification queries of each row (issue #16). An exception rolls the page back
    (its rows stay due for the next run) and is raised to the driver."""

    def batch(
        *, today: date | None = None, progress: dict | None = None, limit: int = CLAIM_BATCH
    ) -> int:
        taken = 0
        with transaction.atomic(), notifications.batched():
            while taken < limit and step(today=today, progress=progress):
                taken += 1
        return taken

    batch.__doc__ = f"Up to ``limit`` steps of ``{step.__name__}`` in one transaction."
    return batch


# --- what a step is made of --------------------------------------------------------------------


def claim(queryset, *, job: str, field: str, threshold, progress: dict | None):
    """Lock and return the first due row of ``queryset`` not yet marked for ``job``, or None.

    ``threshold``: the threshold's name, or an expression giving it per row (a ``Case`` over the
    deadline column ``field``, see ``bands``), annotated as ``threshold``. Rows are taken in
    ``field`` order; ``select_for_update(skip_locked=True)`` lets concurrent workers take
    different rows on PostgreSQL. ``progress`` is the driver's cursor: rows at or before the last
    one looked at in this pass are not looked at again, so a pass over many due rows stays
    linear (a row skipped because another worker held it is that worker's, or the next run's).

    Written as keyed lookups, never as an anti-join over ``JobMark``: the due rows are read in
    deadline order, ``CLAIM_BATCH`` at a time (the deadline index), each tested for its mark by
    the mark's unique key ``(job, object_id, threshold)`` (``KeyedExists``). An anti-join's
    plan depends on the planner's statistics: on a PostgreSQL with stale statistics (after a
    bulk load, or with autovacuum off) it went from 1 ms to 1.8 s a claim. A row marked
    concurrently between the look-up and the lock is caught by ``mark`` (unique constraint).

    The page read and its marks are kept in ``progress`` (``"page"``): the next steps of the pass
    take their rows from it, so one page query serves ``CLAIM_BATCH`` steps rather than one
    (issue #16); each row is still locked with the queryset's own conditions, so a row no longer
    due by then is passed over. The page query bounds ``field`` from below by the cursor as
    well, so the deadline index narrows as the pass advances.
    """
    rows = claim_many(
        queryset, job=job, field=field, threshold=threshold, progress=progress, limit=1
    )
    return rows[0] if rows else None


def claim_many(
    queryset, *, job: str, field: str, threshold, progress: dict | None, limit: int = CLAIM_BATCH
) -> list:
    """Lock and return up to ``limit`` due rows of ``queryset`` not yet marked for ``job``, in
    ``(field, pk)`` order, with one locking query; [] when none is due.

    ``claim`` for a page step (``Job.batch``): the same page in ``progress``, the same cursor,
    the same lock with the queryset's own conditions (rows no longer due, or held by another
    worker, are passed over). The rows come from one page of ``CLAIM_BATCH`` at most, so
    ``limit`` beyond it gives no more. Arguments as for ``claim``.
    """
    if isinstance(threshold, str):
        threshold = Value(threshold, output_field=CharField())
    rows = queryset.annotate(threshold=threshold)
    state = progress if progress is not None else {}
    while True:
        page = state.get("page")
        if not page:
            page = _claim_page(rows, job=job, field=field, after=state.get("after"))
            if page is None:
                state.pop("page", None)
                return []
            state["page"] = page
        wanted = []
        while page and len(wanted) < limit:
            value, pk, _name = page.pop(0)
            state["after"] = (value, pk)
            wanted.append(pk)
        if not wanted:
            continue
        # Locked again with the queryset's own conditions: still due, not another worker's.
        locked = rows.filter(pk__in=wanted).select_for_update(skip_locked=True, of=("self",))
        found = list(locked.order_by(field, "pk"))
        if found:
            return found


def _claim_page(rows, *, job: str, field: str, after) -> list | None:
    """The next ``CLAIM_BATCH`` due rows of ``rows`` not marked for ``job`` after the cursor
    ``after`` (``(value, pk)`` or None), in ``(field, pk)`` order, as ``[value, pk, threshold]``
    lists; None when there are none left.

    The marks are tested inside the page query, each row's by the mark's unique key
    ``(job, object_id, threshold)`` (``KeyedExists``: a look-up per row read, never an anti-join
    planned on statistics), so a pass over rows marked already (the same day's second pass)
    is one query that returns nothing rather than a page of marked rows at a time.
    """
    marks = JobMark.objects.filter(
        job=job, object_id=OuterRef("pk"), threshold=OuterRef("threshold")
    )
    page = rows.filter(~KeyedExists(marks))
    if after is not None:
        value, pk = after
        page = page.filter(
            Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk}),
            **{f"{field}__gte": value},  # an index bound, besides the exact cursor
        )
    if connection.vendor == "postgresql":
        # Without statistics the planner prices these walks at millions and JIT-compiles them:
        # 0.2 s of compiling for a page read through a partial index in 0.1 ms (issue #16).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    batch = page.order_by(field, "pk").values_list(field, "pk", "threshold")[:CLAIM_BATCH]
    return [list(row) for row in batch] or None


class KeyedExists(Exists):
    """``Exists`` that PostgreSQL evaluates row by row, as a keyed look-up through the inner
    table's index, and never turns into a join (issue #16).

    PostgreSQL pulls an ``EXISTS`` sub-select up into a semi- or anti-join, whose plan then
    rests on the statistics; without them (a bulk load, autovacuum off) it read every head
    certificate and probed the audits once per certificate: 20–35 s for one batch of 50 due
    audits. ``OFFSET 0`` in the sub-select is PostgreSQL's documented fence against that pull-up:
    the check stays a sub-plan run for each due row the page query reads, through an index
    that fits it (e.g. ``certificates_head_programme``). Other databases get plain ``EXISTS``.
    Use it (or ``~KeyedExists``) in the "what is due" querysets of the jobs.
    """

    def as_sql(self, compiler, connection, template=None, **extra_context):
        sql, params = super().as_sql(compiler, connection, template, **extra_context)
        if connection.vendor == "postgresql" and sql.endswith(")"):
            sql = f"{sql[:-1]} OFFSET 0)"
        return sql, params


def state_in(field: str, choices, wanted) -> Q:
    """``field`` in ``wanted``, written as NOT IN the other choices: SQLite, which keeps no
    statistics unless ANALYZE runs, would otherwise pick the (unselective) state index and sort
    every row in that state on each step; this way it walks the deadline column's index in
    order and stops at the first due row."""
    wanted = {str(value) for value in wanted}
    return ~Q(**{f"{field}__in": [value for value in choices.values if value not in wanted]})


def bands(pairs, default: str):
    """``Case`` giving the threshold name of the first band whose ``Q`` matches, else
    ``default`` (bands nearest the deadline first)."""
    return Case(
        *(When(condition, then=Value(name)) for name, condition in pairs),
        default=Value(default),
        output_field=CharField(),
    )


def overdue_or_soon(field: str, today: date):
    """The threshold "overdue" for rows whose ``field`` is before ``today``, else "soon"."""
    return bands((("overdue", Q(**{f"{field}__lt": today})),), "soon")


def mark(job: str, object_id: int, threshold: str, today: date) -> JobMark | None:
    """Insert the job's mark; None when it exists already (another run got there first)."""
    try:
        with transaction.atomic():
            return JobMark.objects.create(
                job=job, object_id=object_id, threshold=threshold, acted_on=today
            )
    except IntegrityError:
        return None


def mark_many(job: str, rows: list, today: date) -> list:
    """Insert the job's marks for ``rows`` (objects with ``pk`` and the annotated
    ``threshold``, as ``claim_many`` returns them) with one query; the rows whose mark was new,
    in order. When one exists already (another run got there first), each is tried alone, as
    ``mark`` does."""
    if not rows:
        return []
    marks = [
        JobMark(job=job, object_id=row.pk, threshold=row.threshold, acted_on=today) for row in rows
    ]
    try:
        with transaction.atomic():
            JobMark.objects.bulk_create(marks)
    except IntegrityError:
        return [row for row in rows if mark(job, row.pk, row.threshold, today) is not None]
    return list(rows)


def act(job_mark: JobMark, action: Callable[[], object], *, label: str, subject) -> bool:
    """Run ``action`` (a service call) in a savepoint; on refusal record and notify it."""
    try:
        with transaction.atomic():
            action()
    except RuleViolation as exc:
        job_mark.failed = True
        job_mark.note = str(exc)[:300]
        job_mark.save(update_fields=["failed", "note"])
        logger.warning("job %s on %s refused: %s", job_mark.job, subject, exc)
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER,),
            template="job_failed",
            context={"job": label, "subject": subject, "error": str(exc)},
            kind=job_mark.job,
            link=link(subject),
        )
        return False
    return True


def link(obj) -> str:
    """The workspace page of ``obj`` for a notification (never the admin: superusers only)."""
    from certbody.workspace import object_url_for

    if obj is None or not hasattr(obj, "_meta"):
        return ""
    return object_url_for(obj)


def client_addresses(organization) -> list[str]:
    """The e-mail addresses of a client organisation: its contact and its active users."""
    users = organization.users.filter(is_active=True).exclude(email="")
    return [organization.contact_email, *users.values_list("email", flat=True)]


def client_addresses_many(organizations) -> dict[int, list[str]]:
    """``client_addresses`` of each of ``organizations`` (None entries skipped), by pk, in one
    query."""
    found = {org.pk: [org.contact_email] for org in organizations if org is not None}
    if found:
        users = get_user_model().objects.filter(organization_id__in=list(found), is_active=True)
        for org_id, email in users.exclude(email="").values_list("organization_id", "email"):
            found[org_id].append(email)
    return found


def latest_start_for_deadline(deadline: date, months: int) -> date:
    """The latest ``start`` with ``add_months(start, months) <= deadline`` (domain.md §19).

    Lets a job ask "whose N-month limit falls on or before ``deadline``?" with one indexed
    comparison on the stored start date, exact at month ends (add_months clamps: 08-31 + 6
    months is 02-28, so every start from 08-28 to 08-31 reaches the limit on 02-28).
    """
    start = add_months(deadline, -months)
    while add_months(start + timedelta(days=1), months) <= deadline:
        start += timedelta(days=1)
    while add_months(start, months) > deadline:
        start -= timedelta(days=1)
    return start


def _nobody(row) -> list:
    return []


@dataclass(frozen=True)
class Reminder:
    """A job that only tells people: a row of data, and one step (``step``) for all of them.

    ``name``, ``label``, ``schedule``, ``note``, ``order``: as ``Job``'s (``job()`` registers
    it). ``due(today)``: the rows due at ``today``, a queryset with what the messages need
    selected; ``field``: their deadline column, claimed in its order; ``threshold(today)``: the
    threshold's name, or an expression giving it per row (``bands``, ``overdue_or_soon``); each
    row is told once per threshold. ``roles(row)``: the staff roles told, ``users(row)``: people
    told besides them; ``template`` and ``context(row, today)``: the notification (also e-mailed).
    ``client(row)``: the client organisation whose addresses get ``client_template`` by e-mail,
    or None for none (always None when ``client`` is not given).
    """

    name: str
    label: str
    schedule: Schedule
    note: str
    order: int
    due: Callable[[date], QuerySet]
    field: str
    threshold: Callable[[date], Any]
    roles: Callable[[Any], tuple[str, ...]]
    template: str
    context: Callable[[Any, date], dict]
    users: Callable[[Any], list] = _nobody
    client: Callable[[Any], Any] | None = None
    client_template: str = ""

    def step(self, *, today: date | None = None, progress: dict | None = None) -> bool:
        """Tell about one due row not yet told at its threshold; False when none is due."""
        return self.batch(today=today, progress=progress, limit=1) > 0

    def batch(
        self, *, today: date | None = None, progress: dict | None = None, limit: int = CLAIM_BATCH
    ) -> int:
        """Tell about up to ``limit`` due rows not yet told at their threshold, in one
        transaction; how many due rows were taken (0: none is due).

        A constant number of queries per page whatever its size (issue #16): the rows are
        claimed with one lock (``claim_many``), marked with one insert (``mark_many``), the
        client organisations' addresses read at once, and the letters written through one
        ``notifications.batched()`` (one insert of notifications, one of e-mails). A row
        another runner marked first is taken but not told again.
        """
        today = dates.today(today)
        with transaction.atomic():
            rows = claim_many(
                self.due(today),
                job=self.name,
                field=self.field,
                threshold=self.threshold(today),
                progress=progress,
                limit=limit,
            )
            if not rows:
                return 0
            marked = mark_many(self.name, rows, today)
            clients = {row.pk: self.client(row) if self.client else None for row in marked}
            addresses = client_addresses_many(clients.values())
            with notifications.batched():
                for row in marked:
                    context = self.context(row, today)
                    notify_staff(
                        roles=self.roles(row),
                        users=self.users(row),
                        template=self.template,
                        context=context,
                        kind=self.name,
                        link=link(row),
                    )
                    organization = clients[row.pk]
                    if organization is not None:
                        notify_addresses(
                            addresses[organization.pk],
                            template=self.client_template,
                            context=context,
                        )
        return len(rows)

    def job(self) -> Job:
        return Job(
            self.name, self.label, self.step, self.schedule, self.note, self.order, self.batch
        )


# --- the ground floor's own jobs ---------------------------------------------------------------


def outbox_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Try once more to send the queued e-mails whose next attempt is due, a page at a time
    (``notifications.SEND_PAGE``, one claim and one mail connection: ``send_many``).

    E-mails are queued in the transaction that caused them and sent right after it commits
    (``certbody.notifications``); one that failed then (a mail outage) waits here for its next
    attempt, with growing waits, until it is sent or, after ``MAX_ATTEMPTS``, stays failed on
    the outbox desk. Due is measured by the clock (``next_attempt_at``), not by ``today``.
    Returns True when it tried a page (sent or not), False when none is due.
    """
    after = progress.get("after") if progress is not None else None
    due = notifications.next_due_many(after=after)
    if not due:
        return False
    if progress is not None:
        progress["after"] = due[-1]
    notifications.send_many([pk for _when, pk in due])
    return True


def calendar_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """In December, make sure next year's working-day calendar is there (domain §19).

    Loaded from the chinesecalendar package when it covers the year (the State Council
    publishes the holidays in November or December); otherwise the technical manager and the
    administrators are told that working-day deadlines in that year will count Monday–Friday
    until it is entered. Once per year.
    """
    from certbody.workdays import load_package_calendar, package_years

    today = dates.today(today)
    job = "calendar"
    year = today.year + 1
    if today.month != 12 or CalendarYear.objects.filter(year=year).exists():
        return False
    with transaction.atomic():
        job_mark = mark(job, year, "missing", today)
        if job_mark is None:
            return False
        loaded = year in package_years()
        if loaded:
            load_package_calendar(CalendarDay, CalendarYear, years=[year])
            job_mark.note = "已从 chinesecalendar 载入"
            job_mark.save(update_fields=["note"])
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER,),
            superusers=True,
            template="calendar_missing",
            context={"year": year, "loaded": loaded},
            kind=job,
            link="/admin/certbody/calendaryear/",
        )
    return True


def orphan_files_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Tell the technical manager, once per file, about files under MEDIA_ROOT that no row
    refers to (written by a transaction that rolled back; older than an hour). Nothing is
    deleted: a person decides. True when something new was reported."""
    from certbody.uploads import orphan_files

    today = dates.today(today)
    job = "orphan_files"
    new = []
    with transaction.atomic():
        for name in orphan_files():
            key = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
            job_mark = mark(job, key, "orphan", today)
            if job_mark is not None:
                job_mark.note = name[:300]
                job_mark.save(update_fields=["note"])
                new.append(name)
        if new:
            logger.warning("%d orphan file(s) under MEDIA_ROOT: %s", len(new), ", ".join(new))
            notify_staff(
                roles=(roles.TECHNICAL_MANAGER,),
                template="orphan_files",
                context={"count": len(new), "names": new},
                kind=job,
            )
    return bool(new)


# Times are Asia/Shanghai: jobs that only ask "what is due today?" run at night, those that tell
# people run before office hours; the order numbers place each in a full pass among the apps'.
for _job in (
    Job(
        "outbox",
        "邮件重发",
        outbox_step,
        Every(5),
        "around the clock: e-mails that could not be sent, tried again when due",
        order=150,
    ),
    Job(
        "calendar",
        "次年工作日日历",
        calendar_step,
        Daily(9, 0, month=12),
        "in December, in office hours (the State Council publishes the holidays in November or "
        "December): next year's working-day calendar",
        order=160,
    ),
    Job(
        "orphan_files",
        "存储中无记录的文件",
        orphan_files_step,
        Daily(3, 0),
        "at night: files under MEDIA_ROOT that no record refers to, reported (never deleted)",
        order=180,
    ),
):
    register(_job)
