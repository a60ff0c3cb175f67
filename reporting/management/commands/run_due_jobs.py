"""``manage.py run_due_jobs [--job NAME …] [--date YYYY-MM-DD] [--list]``.

Runs the registered periodic jobs (``certbody.jobs``; each app's ``jobs.py``) in this process — the
same drivers the Celery beat schedule (``certbody/celery.py``, built from the same registry)
triggers — so the embedded default without Redis keeps every deadline: call it from cron, e.g.
``10 1 * * * .venv/bin/python manage.py run_due_jobs``. ``--list`` prints each job's name, its
time in plain words (derived from the ``Schedule`` beat runs it on; local to
``CELERY_TIMEZONE``) and its label. Safe to run at any time and any number of times: each job
acts only on what is due and only once. A job that fails is logged and reported as "failed"
while the others still run; the command then exits with an error naming it.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from certbody import jobs


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (reminders, automatic status changes, report generation) "
        "in-process. Idempotent: a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--job",
            action="append",
            dest="names",
            default=[],
            help="run only this job (repeatable); see --list",
        )
        parser.add_argument(
            "--date", help="act as if today were this local date (YYYY-MM-DD); default today"
        )
        parser.add_argument("--list", action="store_true", help="list the jobs and exit")

    def handle(self, *args, names, date: str | None, list: bool, **options):
        if list:
            # The same Schedule values beat reads (certbody.celery): the words cannot disagree.
            for job in jobs.JOBS.values():
                self.stdout.write(f"{job.name:<28} {job.schedule.words():<32} {job.label}")
            return
        unknown = sorted(set(names) - set(jobs.JOBS))
        if unknown:
            raise CommandError(f"unknown job(s): {', '.join(unknown)}; see --list")
        today = _parse(date)
        results = jobs.run_all(today=today, names=names or None)
        for name, done in results.items():
            self.stdout.write(f"{name:<28} {'failed' if done is None else done:>6}")
        total = sum(done for done in results.values() if done is not None)
        self.stdout.write(self.style.SUCCESS(f"{total} step(s) acted"))
        failed = [name for name, done in results.items() if done is None]
        if failed:
            # After the others ran: cron sees a non-zero exit; the log holds the tracebacks.
            raise CommandError(f"job(s) failed: {', '.join(failed)}; see the log")


def _parse(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, got {value!r}") from None
