"""One source for when jobs run (issue #12): each job carries its schedule (``certbody.jobs``),
Celery beat's schedule is built from the registry, and ``run_due_jobs --list`` words the same
values, so the two can never disagree."""

import ast
import calendar
import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.core.management import call_command
from django.utils import translation

from certbody import jobs
from certbody import jobs as registry
from certbody.celery import app
from certbody.jobs import Daily, Every, Job

ROOT = Path(__file__).resolve().parents[2]

# The hand-written schedule of certbody/celery.py before issue #12: what runs in production.
# Its keys are kept (beat's stored last-run times carry over).
PRODUCTION = {
    "expiry": ("expiry", crontab(hour=0, minute=5)),
    "periodic-reports": ("periodic_reports", crontab(hour=0, minute=30)),
    "suspension-ended": ("suspension_ended", crontab(hour=1, minute=10)),
    "surveillance-overdue": ("surveillance_overdue", crontab(hour=1, minute=10)),
    "cas-nonconformity-suspension": (
        "cas_nonconformity_suspension",
        crontab(hour=1, minute=12),
    ),
    "surveillance-reminders": ("surveillance_reminders", crontab(hour=1, minute=15)),
    "recertification-reminders": ("recertification_reminders", crontab(hour=1, minute=20)),
    "initial-decision": ("initial_decision", crontab(hour=1, minute=25)),
    "plan-reports": ("plan_reports", crontab(hour=1, minute=30)),
    "status-change-reports": ("status_change_reports", crontab(minute="*/30")),
    "report-deadlines": ("report_deadlines", crontab(hour=8, minute=30)),
    "appeals": ("appeals", crontab(hour=8, minute=30)),
    "reporting-obligations": ("reporting_obligations", crontab(hour=8, minute=35)),
    "rejection-notices": ("rejection_notices", crontab(hour=8, minute=40)),
    "nonconformity-reminders": ("nonconformity_reminders", crontab(hour=8, minute=40)),
    "nonconformity-overdue": ("nonconformity_overdue", crontab(hour=8, minute=40)),
    "registration-expiry": ("registration_expiry", crontab(hour=8, minute=45)),
    "outbox": ("outbox", crontab(minute="*/5")),
    "calendar": ("calendar", crontab(hour=9, minute=0, month_of_year=12)),
    "pending-documents": ("pending_documents", crontab(minute="*/10")),
    "orphan-files": ("orphan_files", crontab(hour=3, minute=0)),
    "document-integrity": ("document_integrity", crontab(hour=3, minute=30, day_of_week=0)),
    # added with issue #13: reports owed to CNAS (002 §4.3.7, §4.3.8.1)
    "accreditation-plan": ("accreditation_plan", crontab(hour=0, minute=40)),
    "accreditation-obligations": ("accreditation_obligations", crontab(hour=8, minute=35)),
}


def _beat_by_job() -> dict[str, dict]:
    return {entry["args"][0]: entry for entry in app.conf.beat_schedule.values()}


def test_the_production_times_are_kept():
    schedule = app.conf.beat_schedule

    assert set(schedule) == set(PRODUCTION)
    for key, (name, expected) in PRODUCTION.items():
        assert schedule[key]["task"] == "reporting.run_job", key
        assert schedule[key]["args"] == (name,), key
        assert schedule[key]["schedule"] == expected, key


def test_every_registered_job_has_one_beat_entry_and_every_entry_a_job():
    names = [entry["args"][0] for entry in app.conf.beat_schedule.values()]

    assert sorted(names) == sorted(registry.registered())  # no job twice, none missing
    assert list(registry.registered()) == list(jobs.JOBS)  # run_due_jobs runs the same jobs
    for name, entry in _beat_by_job().items():
        assert entry["schedule"] == jobs.JOBS[name].schedule.crontab()


def test_jobs_keep_their_run_order():
    assert list(jobs.JOBS) == [
        "expiry",
        "suspension_ended",
        "surveillance_overdue",
        "cas_nonconformity_suspension",
        "surveillance_reminders",
        "recertification_reminders",
        "initial_decision",
        "plan_reports",
        "status_change_reports",
        "periodic_reports",
        "accreditation_plan",
        "report_deadlines",
        "accreditation_obligations",
        "appeals",
        "reporting_obligations",
        "rejection_notices",
        "nonconformity_reminders",
        "nonconformity_overdue",
        "registration_expiry",
        "outbox",
        "calendar",
        "pending_documents",
        "orphan_files",
        "document_integrity",
    ]


# Read back independently of certbody.jobs: what the printed words promise, as crontab fields.
WEEKDAY = {name: (number + 1) % 7 for number, name in enumerate(calendar.day_name)}  # Sunday = 0
MONTH = {name: number for number, name in enumerate(calendar.month_name) if name}


def _crontab_from_words(words: str) -> crontab:
    if match := re.fullmatch(r"every (\d+) minutes", words):
        return crontab(minute=f"*/{match[1]}")
    match = re.fullmatch(r"every (day|\w+) at (\d\d):(\d\d)(?: in (\w+))?", words)
    assert match, f"not plain words for a schedule: {words!r}"
    day, hour, minute, month = match.groups()
    return crontab(
        minute=int(minute),
        hour=int(hour),
        day_of_week="*" if day == "day" else WEEKDAY[day],
        month_of_year=MONTH[month] if month else "*",
    )


def test_run_due_jobs_list_says_what_beat_runs():
    out = StringIO()
    with translation.override("en"):
        call_command("run_due_jobs", "--list", stdout=out)
    listed = {}
    for line in out.getvalue().splitlines():
        name, rest = line.split(maxsplit=1)
        words, label = re.fullmatch(r"(.+?)\s{2,}(\S.*)", rest).groups()
        listed[name] = (words.strip(), label)

    beat = _beat_by_job()
    assert list(listed) == list(jobs.JOBS)
    assert set(listed) == set(beat)
    for name, (words, label) in listed.items():
        assert _crontab_from_words(words) == beat[name]["schedule"], (name, words)
        assert label == jobs.JOBS[name].label


@pytest.mark.parametrize(
    ("schedule", "words", "expected"),
    [
        (Every(5), "every 5 minutes", crontab(minute="*/5")),
        (Daily(1, 10), "every day at 01:10", crontab(hour=1, minute=10)),
        (
            Daily(9, 0, month=12),
            "every day at 09:00 in December",
            crontab(hour=9, minute=0, month_of_year=12),
        ),
        (
            Daily(3, 30, weekday=calendar.SUNDAY),
            "every Sunday at 03:30",
            crontab(hour=3, minute=30, day_of_week=0),
        ),
        (
            Daily(7, 5, weekday=calendar.MONDAY),
            "every Monday at 07:05",
            crontab(hour=7, minute=5, day_of_week=1),
        ),
    ],
)
def test_a_schedule_gives_its_crontab_and_its_words(schedule, words, expected):
    with translation.override("en"):
        assert schedule.words() == words
    assert schedule.crontab() == expected
    assert _crontab_from_words(words) == expected


@pytest.mark.parametrize(
    "make",
    [
        lambda: Every(7),  # */7 restarts each hour: not "every 7 minutes"
        lambda: Every(0),
        lambda: Daily(24, 0),
        lambda: Daily(1, 60),
        lambda: Daily(1, 0, weekday=7),
        lambda: Daily(1, 0, month=13),
        lambda: Job("Bad-Name", "x", lambda **kw: False, Daily(1, 0)),
        lambda: Job("fine", "x", lambda **kw: False, crontab(hour=1)),  # not a Schedule
    ],
)
def test_a_bad_schedule_is_refused(make):
    with pytest.raises(ValueError):
        make()


def test_a_second_job_under_a_taken_name_is_refused():
    taken = jobs.JOBS["outbox"]

    assert registry.register(taken) is taken  # the same job again: nothing changes
    with pytest.raises(ValueError, match="outbox"):
        registry.register(Job("outbox", "other", lambda **kw: False, Every(5)))
    assert registry.registered()["outbox"] is taken


BEAT_PROCESS = """
import json
from django.core.exceptions import AppRegistryNotReady
from certbody.celery import app
try:
    app.conf.beat_schedule["outbox"]
    early = "read"
except AppRegistryNotReady:
    early = "refused"
# What `celery -A certbody beat` does before it builds its scheduler (celery.apps.beat):
app.loader.init_worker()  # import_modules: Celery's Django fixup calls django.setup()
app.finalize()
from celery.beat import Scheduler
scheduler = Scheduler(app=app)
entries = {
    name: [entry.args[0], str(entry.schedule)]
    for name, entry in scheduler.schedule.items() if entry.task == "reporting.run_job"
}
print(json.dumps({"early": early, "entries": entries}))
"""


def test_beat_in_its_own_process_sees_every_job(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "certbody.settings"}
    env.pop("REDIS_URL", None)  # the in-memory broker: nothing is sent anywhere
    env.pop("DATABASE_URL", None)  # Celery's Django fixup opens the database: a throwaway one
    env["SQLITE_PATH"] = str(tmp_path / "beat.sqlite3")
    done = subprocess.run(
        [sys.executable, "-c", BEAT_PROCESS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    # Read before Django is loaded, the schedule is refused rather than given without the jobs.
    assert seen["early"] == "refused"
    assert seen["entries"] == {
        key: [name, str(expected)] for key, (name, expected) in PRODUCTION.items()
    }


APPS = {"applications", "audits", "certificates", "reporting"}


@pytest.mark.parametrize("module", ["certbody/jobs.py", "certbody/celery.py"])
def test_the_schedule_imports_no_app(module):
    """certbody sits below the apps: the registry and the Celery app must load without them
    (imports inside functions count too)."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module)
    assert not {name for name in imported if name.split(".")[0] in APPS}
