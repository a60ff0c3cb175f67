"""The Celery application; its beat schedule is built from the job registry (``certbody.jobs``).

Without REDIS_URL tasks run eagerly, in-process (settings); ``manage.py run_due_jobs`` then runs
the same jobs, e.g. from cron. Times are Asia/Shanghai (``CELERY_TIMEZONE``). Every entry runs
one registered job through the thin task ``reporting.run_job``; a job only asks "what is due
now?", so running it late, twice or on two workers changes nothing.

Each job declares its own time (``Job.schedule``, next to its step in its app's ``jobs.py``),
so beat and ``run_due_jobs --list`` read the same value. The apps register their jobs when Django
loads them, which happens after this module is imported (``certbody/__init__.py`` imports it
first of all), so ``beat_schedule`` is read from the registry when it is looked at, not copied
here, and ``certbody.jobs`` (which reads the models) is imported only then: ``celery -A
certbody beat`` loads Django (Celery's Django fixup calls ``django.setup()``
before the task modules are imported) before its scheduler reads the schedule.
"""

import os
from collections.abc import Mapping

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certbody.settings")

app = Celery("certbody")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class RegisteredSchedule(Mapping):
    """``app.conf.beat_schedule``: ``certbody.jobs.beat_schedule()`` as it is when read.

    Read before Django's apps are loaded it raises ``AppRegistryNotReady`` rather than give a
    schedule missing the jobs not registered yet (beat would then silently never run them).
    """

    def _entries(self) -> dict[str, dict]:
        from django.apps import apps
        from django.core.exceptions import AppRegistryNotReady

        if not apps.ready:
            raise AppRegistryNotReady(
                "the beat schedule is built from the registered jobs (certbody.jobs) once "
                "Django's apps are loaded: call django.setup() first"
            )
        from certbody import jobs

        return jobs.beat_schedule()

    def __getitem__(self, key: str) -> dict:
        return self._entries()[key]

    def __iter__(self):
        return iter(self._entries())

    def __len__(self) -> int:
        return len(self._entries())

    def __repr__(self) -> str:
        return f"RegisteredSchedule({self._entries()!r})"


app.conf.beat_schedule = RegisteredSchedule()


@worker_process_init.connect
def warm_up_pdf(**kwargs) -> None:
    """In each pool process of a (prefork) worker, once Django is set up: render a tiny PDF so
    the fonts load at start-up rather than in the first document task (``certbody.pdf.warm_up``,
    issue #16; ``PDF_WARM_UP=0`` turns it off)."""
    from certbody.pdf import warm_up

    warm_up()
