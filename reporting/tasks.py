"""Celery tasks: thin wrappers that loop a registered job's step (``certbody.jobs``).

Beat calls ``run_job`` at each job's own time: ``certbody/celery.py`` builds its schedule from
the registered jobs (``certbody.jobs``). Arguments are plain values (the job's name, an optional
ISO date for "today"); a database that is busy or gone for a moment is retried, a bug is not.
Without ``REDIS_URL`` tasks run eagerly in-process, and ``manage.py run_due_jobs`` runs the same
drivers directly.
"""

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from certbody import jobs


@shared_task(
    name="reporting.run_job",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=5,
)
def run_job(name: str, today: str | None = None) -> int:
    """Run the registered job ``name`` until nothing is due; returns how many steps acted.
    ``today``: an ISO date (YYYY-MM-DD) or None for today. Raises KeyError for an unknown job."""
    return jobs.run(name, today=date.fromisoformat(today) if today else None)


@shared_task(
    name="reporting.run_due_jobs",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=5,
)
def run_due_jobs(today: str | None = None) -> dict[str, int]:
    """One full pass over every job, in ``jobs.JOBS`` order."""
    return jobs.run_all(today=date.fromisoformat(today) if today else None)
