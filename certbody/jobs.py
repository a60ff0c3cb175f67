"""The registry of periodic jobs: one place that says what runs and when.

Each app declares its jobs (``register(Job(...))``, e.g. ``reporting.jobs``) when Django loads it;
the Celery beat schedule (``certbody.celery``) and ``manage.py run_due_jobs`` both read them from
here, so the times beat keeps and the times ``run_due_jobs --list`` prints come from the same
``Schedule`` value and cannot disagree. A job's step is an idempotent one-item step (house style,
"Periodic jobs"); the thin Celery task ``reporting.run_job`` loops it by the job's name.

This module is a leaf: it imports no app (applications, audits, certificates, reporting), so
certbody's Celery app can read it without loading them.

Times are local to ``CELERY_TIMEZONE`` (Asia/Shanghai).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from celery.schedules import crontab
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import gettext

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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
    in plain words (read by people maintaining the schedule).
    """

    name: str
    label: str
    step: Callable[..., bool]
    schedule: Schedule
    note: str = ""

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


_registry: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add ``job`` to the registry (after those registered before it: a full pass runs them in
    this order) and return it. Registering the same job again changes nothing; another job
    under a name already taken raises ValueError."""
    existing = _registry.get(job.name)
    if existing is not None and existing != job:
        raise ValueError(f"a different job is registered as {job.name!r} already")
    _registry.setdefault(job.name, job)
    return job


def registered() -> dict[str, Job]:
    """The registry itself, name → ``Job`` in registration order. Complete once Django's apps
    are loaded (each app registers its jobs from its ``AppConfig.ready``). Add jobs through
    ``register``; tests may replace an entry for a while (``monkeypatch.setitem``)."""
    return _registry


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
