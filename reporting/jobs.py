"""The reporting app's periodic jobs (``certbody.jobs``), registered from
``ReportingConfig.ready``.

- ``status_change_reports``: a report for each suspension, restoration, withdrawal and
  cancellation, due within 2 working days (002 §4.3.8.3; 004 §9.4).
- ``periodic_reports``: each monthly and annual report generated at the start of its period's
  due window (002 §4.3.2–4.3.6).
- ``report_deadlines``: reports not submitted, 2 days before and after their due date (a row
  of ``certbody.jobs.Reminder``).
- ``accreditation_plan``: next year's annual accreditation plan owed to CNAS, opened once a
  year (002 §4.3.7.2).
- ``accreditation_obligations``: reports owed to CNAS not submitted, 7 days and 1 day before
  their due date and once overdue (002 §4.3.7, §4.3.8.1).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import OuterRef, Q

from certbody import dates, roles
from certbody.jobs import (
    Daily,
    Every,
    Job,
    KeyedExists,
    Reminder,
    act,
    bands,
    claim,
    link,
    mark,
    overdue_or_soon,
    paged,
    register,
)
from certbody.lifecycle import system_user
from certbody.notifications import notify_staff
from certificates.models import Certificate, CertificateEvent
from reporting import obligations as obligation_services
from reporting import periods
from reporting import services as report_services
from reporting.models import AccreditationObligation, ReportRun

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
                KeyedExists(Certificate.objects.filter(pk=OuterRef("certificate_id"), head=None)),
                kind__in=report_services.STATUS_CHANGE_EVENTS,
                occurred_on__gte=today - timedelta(days=STATUS_CHANGE_LOOKBACK_DAYS),
                occurred_on__lte=today,
            )
            .exclude(KeyedExists(ReportRun.objects.filter(event_id=OuterRef("pk"))))
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
        batch=paged(status_change_report_step),
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


# --- reports owed to CNAS (002 §4.3.7, §4.3.8.1; reporting.obligations) ------------------------

ACCREDITATION_REMINDER_DAYS = (1, 7)  # nearest first: only the latest threshold reached


def accreditation_plan_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Open the obligation to submit next year's annual accreditation plan to CNAS, due
    31 July (002 §4.3.7.2), when it is missing: on 1 January, or the first night the system
    runs in a year. Once per plan year; the reporting officer is told."""
    today = dates.today(today)
    job = "accreditation_plan"
    year = periods.annual_plan_year(today)
    if AccreditationObligation.objects.filter(
        kind=AccreditationObligation.Kind.ANNUAL_PLAN, year=year
    ).exists():
        return False
    with transaction.atomic():
        job_mark = mark(job, year, "opened", today)
        if job_mark is None:
            return False
        opened = []
        done = act(
            job_mark,
            lambda: opened.append(
                obligation_services.accreditation_plan_open(
                    actor=system_user(), year=year, today=today
                )
            ),
            label="建立年度认可申请计划报送事项",
            subject=None,
        )
        if done:
            notify_staff(
                roles=(roles.REPORTING_OFFICER,),
                template="accreditation_obligation_due",
                context={"obligation": opened[0], "overdue": False, "days_left": None},
                kind=job,
                link=link(opened[0]),
            )
    return True


def _accreditation_not_submitted(today: date):
    far = ACCREDITATION_REMINDER_DAYS[-1]
    return AccreditationObligation.objects.filter(
        submitted_on__isnull=True, due_on__lte=today + timedelta(days=far)
    )


def _accreditation_bands(today: date):
    near, far = ACCREDITATION_REMINDER_DAYS
    return bands(
        (
            ("overdue", Q(due_on__lt=today)),
            (f"{near}d", Q(due_on__lte=today + timedelta(days=near))),
        ),
        f"{far}d",
    )


# Remind the reporting officer and the technical manager of a report owed to CNAS 7 days and
# 1 day before its due date, and once overdue.
ACCREDITATION_DEADLINES = Reminder(
    name="accreditation_obligations",
    label="CNAS 报送期限",
    schedule=Daily(8, 35),
    note="before office hours: reports owed to CNAS 7 days and 1 day before their due date, "
    "and once overdue",
    order=105,
    due=_accreditation_not_submitted,
    field="due_on",
    threshold=_accreditation_bands,
    roles=lambda obligation: (roles.REPORTING_OFFICER, roles.TECHNICAL_MANAGER),
    template="accreditation_obligation_due",
    context=lambda obligation, today: {
        "obligation": obligation,
        "overdue": obligation.threshold == "overdue",
        "days_left": (obligation.due_on - today).days,
    },
)

for _job in (
    Job(
        "accreditation_plan",
        "年度认可申请计划报送事项",
        accreditation_plan_step,
        Daily(0, 40),
        "every night, acting once a year (1 January, or the first night it runs in a year): "
        "next year's annual accreditation plan owed to CNAS before August",
        order=95,
    ),
    ACCREDITATION_DEADLINES.job(),
):
    register(_job)
