"""The reporting app's periodic jobs (``certbody.jobs``), registered from
``ReportingConfig.ready``.

- ``status_change_reports``: a report for each suspension, restoration, withdrawal and
  cancellation, due within 2 working days (002 §4.3.8.3; 004 §9.4).
- ``periodic_reports``: each monthly and annual report generated at the start of its period's
  due window (002 §4.3.2–4.3.6).
- ``report_deadlines``: reports not submitted, 2 days before and after their due date (a row
  of ``certbody.jobs.Reminder``).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from certbody import dates, roles
from certbody.jobs import (
    Daily,
    Every,
    Job,
    Reminder,
    act,
    claim,
    link,
    mark,
    overdue_or_soon,
    register,
)
from certbody.lifecycle import system_user
from certbody.notifications import notify_staff
from certificates.models import Certificate, CertificateEvent
from reporting import periods
from reporting import services as report_services
from reporting.models import ReportRun

REPORT_WARNING_DAYS = 2
STATUS_CHANGE_LOOKBACK_DAYS = 31  # older changes predate the system or were reported by hand


def status_change_report_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Generate the report of one recent suspension, restoration, withdrawal or cancellation.

    Head certificates' events of the last 31 days without a report run; the run is due 2
    working days after the change (002 §4.3.8.3; 004 §9.4) and the reporting officer is told.
    """
    today = dates.today(today)
    job = "status_change_reports"
    with transaction.atomic():
        event = claim(
            CertificateEvent.objects.filter(
                # of a head certificate (a correlated test, see certificates.jobs._is_head)
                Exists(Certificate.objects.filter(pk=OuterRef("certificate_id"), head=None)),
                kind__in=report_services.STATUS_CHANGE_EVENTS,
                occurred_on__gte=today - timedelta(days=STATUS_CHANGE_LOOKBACK_DAYS),
                occurred_on__lte=today,
            )
            .exclude(Exists(ReportRun.objects.filter(event_id=OuterRef("pk"))))
            .select_related("certificate"),
            job=job,
            field="occurred_on",
            threshold="generated",
            progress=progress,
        )
        if event is None:
            return False
        job_mark = mark(job, event.pk, "generated", today)
        if job_mark is None:
            return True
        runs = []
        done = act(
            job_mark,
            lambda: runs.append(
                report_services.report_generate(
                    kind=ReportRun.Kind.STATUS_CHANGE, actor=system_user(), event=event
                )
            ),
            label="生成证书状态变更报告",
            subject=event.certificate,
        )
        if done:
            _report_generated(runs[0], job)
    return True


def _report_generated(run: ReportRun, job: str) -> None:
    notify_staff(
        roles=(roles.REPORTING_OFFICER,),
        template="report_generated",
        context={"run": run, "problems": getattr(run, "problems", [])},
        kind=job,
        link=link(run),
    )


def periodic_report_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Generate one monthly or annual report whose period has ended and that has no run yet.

    The latest closed period of each kind (last month, last year) at the start of its due
    window (002 §4.3.2–4.3.6); earlier periods are generated on request only. The reporting
    officer is told.
    """
    today = dates.today(today)
    job = "periodic_reports"
    for kind in report_services.PERIODIC_KINDS:
        start, _end = periods.last_closed_period(kind, today)
        with transaction.atomic():
            if ReportRun.objects.filter(kind=kind, period_start=start, event=None).exists():
                continue
            job_mark = mark(job, start.toordinal(), kind, today)
            if job_mark is None:
                continue
            runs = []
            done = act(
                job_mark,
                lambda kind=kind, start=start, runs=runs: runs.append(
                    report_services.report_generate(
                        kind=kind, actor=system_user(), period_start=start
                    )
                ),
                label=f"生成{ReportRun(kind=kind).title}",
                subject=None,
            )
            if done:
                _report_generated(runs[0], job)
            return True
    return False


def _reports_not_submitted(today: date):
    """Generated runs overdue, or due within 2 days (status-change reports are told at
    generation, so only once overdue)."""
    return ReportRun.objects.filter(state=ReportRun.State.GENERATED).filter(
        Q(due_on__lt=today)
        | Q(due_on__lte=today + timedelta(days=REPORT_WARNING_DAYS))
        & ~Q(kind=ReportRun.Kind.STATUS_CHANGE)
    )


# Remind the reporting officer of a report not submitted, 2 days before its due date ("soon")
# and once overdue ("overdue", the technical manager too).
REPORT_DEADLINES = Reminder(
    name="report_deadlines",
    label="报表报送期限",
    schedule=Daily(8, 30),
    note="before office hours: reports close to or past their due date",
    order=100,
    due=_reports_not_submitted,
    field="due_on",
    threshold=lambda today: overdue_or_soon("due_on", today),
    roles=lambda run: (
        (roles.REPORTING_OFFICER,)
        + ((roles.TECHNICAL_MANAGER,) if run.threshold == "overdue" else ())
    ),
    template="report_due",
    context=lambda run, today: {"run": run, "overdue": run.threshold == "overdue"},
)

# Times are Asia/Shanghai; ``order`` places each job in a full pass (``certbody.jobs.run_all``):
# after the certificates' status changes, whose events the reports read.
for _job in (
    Job(
        "status_change_reports",
        "证书状态变更报告",
        status_change_report_step,
        Every(30),
        "around the clock: each status change is due within 2 working days",
        order=80,
    ),
    Job(
        "periodic_reports",
        "月报和年报生成",
        periodic_report_step,
        Daily(0, 30),
        "every night, acting on the 1st of a month and on 1 January, at the start of the "
        "due window: last month's and last year's reports when missing",
        order=90,
    ),
    REPORT_DEADLINES.job(),
):
    register(_job)
