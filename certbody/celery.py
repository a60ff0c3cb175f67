"""The Celery application and its one static beat schedule.

Without REDIS_URL tasks run eagerly, in-process (settings); ``manage.py run_due_jobs`` then runs
the same jobs, e.g. from cron. Times are Asia/Shanghai (``CELERY_TIMEZONE``). Every entry runs
one job of ``reporting.jobs`` through the thin task ``reporting.run_job``; a job only asks
"what is due now?", so running it late, twice or on two workers changes nothing.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certbody.settings")

app = Celery("certbody")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _job(name: str, schedule) -> dict:
    return {"task": "reporting.run_job", "schedule": schedule, "args": (name,)}


app.conf.beat_schedule = {
    # every day at 00:05 Asia/Shanghai: certificates past their expiry become expired
    "expiry": _job("expiry", crontab(hour=0, minute=5)),
    # every day at 00:30 Asia/Shanghai: generate last month's and last year's reports when
    # missing (acts on the 1st of a month and on 1 January, at the start of the due window)
    "periodic-reports": _job("periodic_reports", crontab(hour=0, minute=30)),
    # every day at 01:10 Asia/Shanghai: suspension periods ended, overdue surveillance,
    # surveillance and recertification reminders, initial decision limit, audit plan reports
    "suspension-ended": _job("suspension_ended", crontab(hour=1, minute=10)),
    "surveillance-overdue": _job("surveillance_overdue", crontab(hour=1, minute=10)),
    "surveillance-reminders": _job("surveillance_reminders", crontab(hour=1, minute=15)),
    "recertification-reminders": _job("recertification_reminders", crontab(hour=1, minute=20)),
    "initial-decision": _job("initial_decision", crontab(hour=1, minute=25)),
    "plan-reports": _job("plan_reports", crontab(hour=1, minute=30)),
    # every 30 minutes, around the clock: a report for each suspension, restoration, withdrawal
    # and cancellation, due within 2 working days
    "status-change-reports": _job("status_change_reports", crontab(minute="*/30")),
    # every day at 08:30 Asia/Shanghai, before office hours: reports, appeals and complaints,
    # accident reports close to or past their deadline
    "report-deadlines": _job("report_deadlines", crontab(hour=8, minute=30)),
    "appeals": _job("appeals", crontab(hour=8, minute=30)),
    "reporting-obligations": _job("reporting_obligations", crontab(hour=8, minute=35)),
    # every day at 08:40 Asia/Shanghai: nonconformities 14 and 3 days before and after their
    # verification deadline
    "nonconformity-reminders": _job("nonconformity_reminders", crontab(hour=8, minute=40)),
    "nonconformity-overdue": _job("nonconformity_overdue", crontab(hour=8, minute=40)),
    # every 5 minutes, around the clock: e-mails that could not be sent, tried again when due
    "outbox": _job("outbox", crontab(minute="*/5")),
    # every day at 09:00 Asia/Shanghai in December: next year's working-day calendar
    "calendar": _job("calendar", crontab(hour=9, minute=0, month_of_year=12)),
    # every 10 minutes, around the clock: certificates and notices whose PDF is still pending
    # (its render after commit failed or never ran) are rendered when their retry is due
    "pending-documents": _job("pending_documents", crontab(minute="*/10")),
    # every day at 03:00 Asia/Shanghai: files under MEDIA_ROOT that no record refers to are
    # reported to the technical manager (never deleted automatically)
    "orphan-files": _job("orphan_files", crontab(hour=3, minute=0)),
    # every Sunday at 03:30 Asia/Shanghai: the SHA-256 of every issued document and audit
    # report is checked again; files missing or altered are reported to the technical manager
    "document-integrity": _job("document_integrity", crontab(hour=3, minute=30, day_of_week=0)),
}
