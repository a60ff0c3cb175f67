"""Each periodic job step with frozen time: acts once when due, not before, not twice.

Certificates come from the services (tests.certificates.helpers): issued 2025-03-20 on a
decision of that day, expiring 2028-03-19; surveillance 1 is due 2026-03-20 (12 months from
the decision, 004 §5.7.3).
"""

from datetime import date, timedelta

import pytest
from django.core import mail

from audits import services as audit_services
from audits.models import Audit
from certbody import jobs
from certbody.models import CalendarYear, CertificationBody, JobMark, Notification
from certificates import jobs as certificate_jobs
from certificates import services as cert_services
from certificates.models import Appeal, Certificate, CertificateEvent, Proposal
from reporting import jobs as reporting_jobs
from reporting.models import ReportRun
from tests.certificates.factories import completed_stage2, issued_certificate
from tests.certificates.helpers import SUSPENDED_FROM, SUSPENDED_UNTIL, certificate_in
from tests.reporting.conftest import People, at
from tests.shared import shared_fixture

S1_DUE = date(2026, 3, 20)
EXPIRES_ON = date(2028, 3, 19)


@shared_fixture
def people(cb):
    return People()


@shared_fixture
def certificate(people):
    certificate = issued_certificate(staff=people.workflow)
    organization = certificate.organization
    organization.contact_email = "service@client.example.cn"
    organization.save(update_fields=["contact_email"])
    return certificate


def surveillance(certificate, sequence=1) -> Audit:
    return certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=sequence)


def notified(user, kind) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind))


# --- surveillance ----------------------------------------------------------------------------


def test_surveillance_due_date_is_twelve_months_after_the_decision(certificate):
    assert surveillance(certificate).due_on == S1_DUE


@pytest.mark.parametrize(
    ("day", "threshold"),
    [(S1_DUE - timedelta(days=90), "90d"), (S1_DUE - timedelta(days=60), "60d"), (S1_DUE, "30d")],
)
def test_surveillance_reminders_at_90_60_and_30_days(
    certificate, people, time_machine, django_capture_on_commit_callbacks, day, threshold
):
    audit = surveillance(certificate)
    time_machine.move_to(at(day - timedelta(days=1 if threshold == "90d" else 0)), tick=False)
    if threshold == "90d":
        assert jobs.JOBS["surveillance_reminders"].step() is False  # 91 days before: not yet
        time_machine.move_to(at(day), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.JOBS["surveillance_reminders"].step() is True
    assert jobs.JOBS["surveillance_reminders"].step() is False  # not twice
    assert JobMark.objects.filter(
        job="surveillance_reminders", object_id=audit.pk, threshold=threshold
    ).exists()
    [note] = notified(people.planner, "surveillance_reminders")
    assert "监督审核" in note.subject and str(audit.due_on) in note.body
    assert {m.to[0] for m in mail.outbox} == {people.planner.email, "service@client.example.cn"}
    client_mail = next(m for m in mail.outbox if m.to == ["service@client.example.cn"])
    assert "2026-03-20" in client_mail.subject


def test_only_the_latest_reminder_reached_is_sent(certificate, time_machine):
    time_machine.move_to(at(S1_DUE - timedelta(days=20)), tick=False)
    assert jobs.run("surveillance_reminders") == 1
    assert list(JobMark.objects.values_list("threshold", flat=True)) == ["30d"]
    time_machine.move_to(at(S1_DUE - timedelta(days=10)), tick=False)
    assert jobs.run("surveillance_reminders") == 0


def test_no_reminder_for_a_surveillance_already_started(certificate, people, time_machine):
    audit = surveillance(certificate)
    time_machine.move_to(at(S1_DUE - timedelta(days=40)), tick=False)
    from tests.certificates.factories import run_audit

    run_audit(audit, people.workflow, S1_DUE - timedelta(days=41), S1_DUE - timedelta(days=40))
    assert jobs.JOBS["surveillance_reminders"].step() is False


def test_overdue_surveillance_proposes_a_suspension_with_cause_6(certificate, people, time_machine):
    audit = surveillance(certificate)
    time_machine.move_to(at(S1_DUE), tick=False)
    assert certificate_jobs.surveillance_overdue_step() is False  # due today: not overdue yet
    time_machine.move_to(at(S1_DUE + timedelta(days=1)), tick=False)
    assert certificate_jobs.surveillance_overdue_step() is True
    assert certificate_jobs.surveillance_overdue_step() is False
    [proposal] = Proposal.objects.all()
    assert (proposal.certificate, proposal.action, proposal.cause) == (certificate, "suspend", 6)
    assert proposal.state == Proposal.State.OPEN
    assert proposal.created_by.username == "system"
    assert str(S1_DUE) in proposal.reason
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID  # a person decides
    assert notified(people.decider, "surveillance_overdue")
    assert JobMark.objects.get(job="surveillance_overdue", object_id=audit.pk).note


def test_overdue_surveillance_suspends_when_the_cb_says_so(
    certificate, people, cb, time_machine, django_capture_on_commit_callbacks
):
    cb.auto_suspend_overdue_surveillance = True
    cb.save()
    today = S1_DUE + timedelta(days=3)
    time_machine.move_to(at(today), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert certificate_jobs.surveillance_overdue_step() is True
    assert certificate_jobs.surveillance_overdue_step() is False
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    assert (certificate.suspended_from, certificate.suspended_until) == (today, date(2026, 9, 23))
    event = certificate.events.get(kind=CertificateEvent.Kind.SUSPENDED)
    # 004 §7.2.1(6) "不能按照规定的时间间隔接受监督审核", CNCA suspension reason 0112
    assert (event.cause, event.reason_code, event.change_code) == (6, "0112", "97_01")
    assert (event.occurred_on, event.ends_on) == (today, date(2026, 9, 23))
    assert event.actor.username == "system"
    assert "不能按照规定的时间间隔接受监督审核" in certificate.status_reason
    assert not Proposal.objects.exists()
    assert any(m.to == ["service@client.example.cn"] for m in mail.outbox)
    assert notified(people.technical_manager, "surveillance_overdue")


def test_refused_automatic_suspension_is_recorded_and_not_retried(
    certificate, people, cb, time_machine, monkeypatch
):
    from certbody.lifecycle import RuleViolation

    cb.auto_suspend_overdue_surveillance = True
    cb.save()

    def refuse(**kwargs):
        raise RuleViolation("测试：拒绝")

    monkeypatch.setattr(cert_services, "certificate_suspend", refuse)
    time_machine.move_to(at(S1_DUE + timedelta(days=1)), tick=False)
    assert certificate_jobs.surveillance_overdue_step() is True
    assert certificate_jobs.surveillance_overdue_step() is False
    mark = JobMark.objects.get(job="surveillance_overdue")
    assert mark.failed and "测试" in mark.note
    assert notified(people.technical_manager, "surveillance_overdue")[0].subject.startswith(
        "【定时任务未能执行】"
    )


def test_suspension_ended_unresolved_proposes_withdrawal(people, time_machine):
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=people.workflow)
    time_machine.move_to(at(SUSPENDED_UNTIL), tick=False)
    assert certificate_jobs.suspension_ended_step() is False  # the last day of the period
    time_machine.move_to(at(SUSPENDED_UNTIL + timedelta(days=1)), tick=False)
    assert certificate_jobs.suspension_ended_step() is True
    assert certificate_jobs.suspension_ended_step() is False
    [proposal] = Proposal.objects.all()
    assert (proposal.certificate, proposal.action, proposal.cause) == (certificate, "withdraw", 7)
    assert proposal.created_by.username == "system"
    [note] = notified(people.decider, "suspension_ended")
    assert "暂停期" in note.body and certificate.number in note.subject


def test_suspension_ended_is_claimed_once_per_suspension(people, time_machine):
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=people.workflow)
    time_machine.move_to(at(SUSPENDED_UNTIL + timedelta(days=1)), tick=False)
    assert jobs.run("suspension_ended") == 1
    mark = JobMark.objects.get(job="suspension_ended")
    assert (mark.object_id, mark.threshold) == (certificate.pk, f"until {SUSPENDED_UNTIL}")
    assert mark.note == f"建议 #{Proposal.objects.get().pk}"
    assert jobs.run("suspension_ended") == 0  # the mark is found: not twice


def test_suspension_ended_leaves_an_open_withdrawal_proposal_alone(people, time_machine):
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=people.workflow)
    existing = cert_services.proposal_open(
        certificate=certificate,
        actor=people.decider,
        action=Proposal.Action.WITHDRAW,
        cause=8,
        reason="体系未运行",
    )
    time_machine.move_to(at(SUSPENDED_UNTIL + timedelta(days=1)), tick=False)
    assert certificate_jobs.suspension_ended_step() is True  # claimed and marked, nothing proposed
    assert list(Proposal.objects.all()) == [existing]
    assert JobMark.objects.get(job="suspension_ended").note == "已有撤销建议"
    assert not notified(people.decider, "suspension_ended")
    assert certificate_jobs.suspension_ended_step() is False


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("expiry", EXPIRES_ON + timedelta(days=1)),
        ("suspension_ended", SUSPENDED_UNTIL + timedelta(days=1)),
        ("surveillance_overdue", S1_DUE + timedelta(days=1)),
        ("surveillance_reminders", S1_DUE - timedelta(days=20)),
        ("recertification_reminders", EXPIRES_ON - timedelta(days=100)),
    ],
)
def test_claims_look_marks_up_by_key_not_by_anti_join(name, day, certificate, people, time_machine):
    """A claim's plan must not depend on table statistics: an anti-join over JobMark took 1.8 s
    a claim on a PostgreSQL with stale statistics. Each due row's mark is looked up by its key
    instead: a sub-select PostgreSQL may not pull up into a join (``KeyedExists``, OFFSET 0)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    certificate_in(Certificate.Status.SUSPENDED, staff=people.workflow)
    time_machine.move_to(at(day), tick=False)
    with CaptureQueriesContext(connection) as queries:
        assert jobs.run(name) >= 1
        assert jobs.run(name) == 0  # the second pass reads the marks the first one wrote
    jobmark = JobMark._meta.db_table
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if jobmark in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert reads
    for sql in reads:
        upper = sql.upper()
        assert f"JOIN {connection.ops.quote_name(jobmark).upper()}" not in upper, sql
        if connection.vendor == "postgresql":
            assert upper.count("EXISTS(") == upper.count("OFFSET 0)"), sql


# --- expiry and recertification -------------------------------------------------------------


def test_certificates_past_their_expiry_become_expired(
    certificate, people, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at(EXPIRES_ON), tick=False)
    assert certificate_jobs.expiry_step() is False  # valid through its last day
    time_machine.move_to(at(EXPIRES_ON + timedelta(days=1), hour=0), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.run("expiry") == 1
    assert jobs.run("expiry") == 0
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED
    event = certificate.events.get(kind=CertificateEvent.Kind.EXPIRED)
    assert (event.occurred_on, event.change_code, event.status_code) == (
        EXPIRES_ON + timedelta(days=1),
        "97_05",
        "05",
    )
    assert event.actor.username == "system"
    assert notified(people.market, "expiry")
    assert any(m.to == ["service@client.example.cn"] for m in mail.outbox)


@pytest.mark.parametrize(
    ("day", "thresholds"),
    [
        (date(2027, 9, 18), []),
        (date(2027, 9, 19), ["6m"]),  # 6 months before 2028-03-19
        (date(2027, 11, 19), ["4m"]),
        (date(2027, 12, 19), ["3m"]),  # the application deadline (004 §5.8.1)
        (date(2028, 1, 5), ["3m"]),
    ],
)
def test_recertification_reminders(certificate, people, time_machine, day, thresholds):
    time_machine.move_to(at(day), tick=False)
    assert jobs.run("recertification_reminders") == len(thresholds)
    assert jobs.run("recertification_reminders") == 0
    marks = JobMark.objects.filter(job="recertification_reminders", object_id=certificate.pk)
    assert list(marks.values_list("threshold", flat=True)) == thresholds
    if thresholds == ["3m"]:
        [note] = notified(people.market, "recertification_reminders")
        assert "2027-12-19" in note.body and "初次认证" in note.body


def test_no_recertification_reminder_once_the_client_applied(certificate, people, time_machine):
    from tests.certificates.factories import accepted_application

    time_machine.move_to(at(date(2027, 9, 1)), tick=False)
    accepted_application(certificate.organization, people.workflow, kind="recertification")
    time_machine.move_to(at(date(2027, 10, 1)), tick=False)
    assert jobs.run("recertification_reminders") == 0


# --- audits -----------------------------------------------------------------------------------


def test_initial_decision_limit_of_six_months(people, time_machine):
    stage2 = completed_stage2(staff=people.workflow)  # ended 2025-03-12: limit 2025-09-12
    time_machine.move_to(at(date(2025, 8, 12)), tick=False)
    assert jobs.JOBS["initial_decision"].step() is False
    time_machine.move_to(at(date(2025, 8, 13)), tick=False)
    assert jobs.JOBS["initial_decision"].step() is True
    assert jobs.JOBS["initial_decision"].step() is False
    time_machine.move_to(at(date(2025, 9, 12)), tick=False)
    assert jobs.JOBS["initial_decision"].step() is False  # the limit day itself is still in time
    time_machine.move_to(at(date(2025, 9, 13)), tick=False)
    assert jobs.JOBS["initial_decision"].step() is True
    assert jobs.JOBS["initial_decision"].step() is False
    marks = JobMark.objects.filter(job="initial_decision", object_id=stage2.pk)
    assert sorted(marks.values_list("threshold", flat=True)) == ["passed", "soon"]
    subjects = [n.subject for n in notified(people.decider, "initial_decision")]
    assert any("已超过 6 个月" in s for s in subjects)


def test_the_initial_decision_job_reads_the_stored_deadline(people, time_machine):
    """Completing stage 2 stores its decision deadline (style.md 5): the job asks only "what is
    due now?" of that indexed column, never recomputing it from the audit's end."""
    stage2 = completed_stage2(staff=people.workflow)
    assert stage2.decision_due_on == date(2025, 9, 12)  # 6 months after 2025-03-12
    Audit.objects.filter(pk=stage2.pk).update(decision_due_on=date(2025, 12, 31))
    time_machine.move_to(at(date(2025, 9, 13)), tick=False)
    assert jobs.JOBS["initial_decision"].step() is False  # not due by the stored column
    time_machine.move_to(at(date(2025, 12, 1)), tick=False)
    assert jobs.JOBS["initial_decision"].step() is True


def test_an_ended_stage2_cannot_lose_its_decision_deadline(people):
    """The database refuses a stage 2 with an end date and no stored decision limit, so the
    job, the desks and the grant gate never meet one (004 §5.12.3)."""
    from django.db import IntegrityError, transaction

    stage2 = completed_stage2(staff=people.workflow)
    with pytest.raises(IntegrityError), transaction.atomic():
        Audit.objects.filter(pk=stage2.pk).update(decision_due_on=None)
    # A stage 2 not yet ended has no limit; other kinds never need one.
    Audit.objects.filter(pk=stage2.pk).update(actual_end=None, decision_due_on=None)


def test_audit_plan_not_reported_to_cnca(certificate, people, time_machine):
    audit = surveillance(certificate)
    time_machine.move_to(at(date(2026, 2, 1)), tick=False)
    audit_services.audit_schedule(
        audit=audit,
        actor=people.workflow.planner,
        planned_start=date(2026, 3, 2),
        planned_end=date(2026, 3, 3),
    )
    audit.refresh_from_db()
    assert audit.plan_report_due == date(2026, 2, 27)  # 3 days before (004 §9.2)
    time_machine.move_to(at(date(2026, 2, 24)), tick=False)
    assert jobs.JOBS["plan_reports"].step() is False
    time_machine.move_to(at(date(2026, 2, 25)), tick=False)
    assert jobs.JOBS["plan_reports"].step() is True
    assert jobs.JOBS["plan_reports"].step() is False
    time_machine.move_to(at(date(2026, 2, 28)), tick=False)
    assert jobs.JOBS["plan_reports"].step() is True
    assert jobs.JOBS["plan_reports"].step() is False
    assert [n.subject for n in notified(people.reporting, "plan_reports")][0].endswith("逾期未上报")


# --- reports ---------------------------------------------------------------------------------


def test_status_change_report_due_in_two_working_days(people, time_machine):
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=people.workflow)
    time_machine.move_to(at(SUSPENDED_FROM, hour=10), tick=False)
    assert reporting_jobs.status_change_report_step() is True
    assert reporting_jobs.status_change_report_step() is False
    run = ReportRun.objects.get(kind=ReportRun.Kind.STATUS_CHANGE)
    assert run.event.certificate == certificate
    # 2025-06-02 (Monday) is the Dragon Boat holiday: 2 working days after it end on 06-04.
    assert run.due_on == date(2025, 6, 4)
    assert run.generated_by.username == "system" and run.row_count == 1
    assert run.file.name.endswith(".xlsx") and run.csv_file.name.endswith(".csv")
    assert notified(people.reporting, "status_change_reports")


def test_old_status_changes_are_not_reported_by_the_job(people, time_machine):
    certificate_in(Certificate.Status.SUSPENDED, staff=people.workflow)
    time_machine.move_to(at(SUSPENDED_FROM + timedelta(days=40)), tick=False)
    assert reporting_jobs.status_change_report_step() is False


def test_periodic_reports_at_the_start_of_their_due_window(people, time_machine):
    time_machine.move_to(at(date(2026, 3, 31)), tick=False)
    assert jobs.run("periodic_reports") == 5  # February 2026 ×3, 2025 ×2
    assert not ReportRun.objects.filter(period_start=date(2026, 3, 1)).exists()
    time_machine.move_to(at(date(2026, 4, 1), hour=0), tick=False)
    assert jobs.run("periodic_reports") == 3  # March 2026: the annual ones exist already
    assert jobs.run("periodic_reports") == 0
    march = ReportRun.objects.filter(period_start=date(2026, 3, 1))
    assert set(march.values_list("kind", "due_on")) == {
        ("organisations_monthly", date(2026, 4, 5)),
        ("failures_monthly", date(2026, 4, 10)),
        ("cb_changes_monthly", date(2026, 4, 10)),
    }
    assert notified(people.reporting, "periodic_reports")


def test_report_deadline_reminders(people, time_machine):
    time_machine.move_to(at(date(2026, 4, 1)), tick=False)
    jobs.run("periodic_reports")
    run = ReportRun.objects.get(kind="organisations_monthly", period_start=date(2026, 3, 1))
    time_machine.move_to(at(date(2026, 4, 2)), tick=False)
    jobs.run("report_deadlines")
    assert not JobMark.objects.filter(job="report_deadlines", object_id=run.pk).exists()
    time_machine.move_to(at(date(2026, 4, 3)), tick=False)
    jobs.run("report_deadlines")
    assert JobMark.objects.filter(job="report_deadlines", object_id=run.pk, threshold="soon")
    time_machine.move_to(at(date(2026, 4, 6)), tick=False)
    jobs.run("report_deadlines")
    assert JobMark.objects.filter(job="report_deadlines", object_id=run.pk, threshold="overdue")
    assert jobs.run("report_deadlines") == 0
    overdue = notified(people.technical_manager, "report_deadlines")
    assert any("逾期" in n.subject for n in overdue)


def test_a_submitted_report_is_not_reminded(people, time_machine):
    from reporting import services

    time_machine.move_to(at(date(2026, 4, 1)), tick=False)
    jobs.run("periodic_reports")
    for run in ReportRun.objects.all():
        services.report_submit(run=run, actor=people.reporting, receipt_number="HZ-1")
    time_machine.move_to(at(date(2026, 5, 1)), tick=False)
    before = JobMark.objects.filter(job="report_deadlines").count()
    jobs.run("report_deadlines")
    assert JobMark.objects.filter(job="report_deadlines").count() == before


# --- appeals, obligations, calendar ----------------------------------------------------------


def test_appeals_and_complaints_at_sixty_days(people, time_machine):
    time_machine.move_to(at(date(2026, 1, 5)), tick=False)
    appeal = cert_services.appeal_receive(
        actor=people.technical_manager,
        kind=Appeal.Kind.COMPLAINT,
        received_on=date(2026, 1, 5),
        subject="审核员迟到",
        description="审核员未按计划时间到场。",
        name="张三",
        contact="13800000000",
    )
    assert appeal.due_on == date(2026, 3, 6)
    time_machine.move_to(at(date(2026, 2, 23)), tick=False)
    assert jobs.JOBS["appeals"].step() is False
    time_machine.move_to(at(date(2026, 2, 24)), tick=False)
    assert jobs.JOBS["appeals"].step() is True
    time_machine.move_to(at(date(2026, 3, 7)), tick=False)
    assert jobs.JOBS["appeals"].step() is True
    assert jobs.JOBS["appeals"].step() is False
    subjects = [n.subject for n in notified(people.technical_manager, "appeals")]
    assert len(subjects) == 2 and any(s.endswith("已逾期") for s in subjects)


def test_major_accident_reporting_obligations(certificate, people, time_machine):
    time_machine.move_to(at(date(2026, 5, 11)), tick=False)
    cert_services.regulatory_event_record(
        actor=people.technical_manager,
        kind="accident",
        occurred_on=date(2026, 5, 11),
        source="市场监管局通报",
        description="配送安装过程中发生重大安全事故。",
        certificate=certificate,
        major=True,
    )
    time_machine.move_to(at(date(2026, 5, 14)), tick=False)
    assert jobs.run("reporting_obligations") >= 1
    assert jobs.run("reporting_obligations") == 0
    assert notified(people.reporting, "reporting_obligations")


def test_next_years_calendar_missing_in_december(people, time_machine, monkeypatch):
    import certbody.workdays as workdays

    CalendarYear.objects.filter(year=2027).delete()
    monkeypatch.setattr(workdays, "package_years", lambda: [2024, 2025, 2026])
    time_machine.move_to(at(date(2026, 11, 30)), tick=False)
    assert jobs.calendar_step() is False
    time_machine.move_to(at(date(2026, 12, 1)), tick=False)
    assert jobs.calendar_step() is True
    assert jobs.calendar_step() is False
    [note] = notified(people.technical_manager, "calendar")
    assert "2027" in note.subject and "周一至周五" in note.body


# --- the full pass -------------------------------------------------------------------------


def test_a_second_full_pass_changes_nothing(certificate, people, cb, time_machine):
    cb.auto_suspend_overdue_surveillance = True
    cb.save()
    time_machine.move_to(at(date(2026, 4, 1)), tick=False)
    first = jobs.run_all()
    assert first["surveillance_overdue"] == 1
    assert first["status_change_reports"] == 1  # the automatic suspension gets its report
    counts = (
        Notification.objects.count(),
        JobMark.objects.count(),
        ReportRun.objects.count(),
        CertificateEvent.objects.count(),
        Proposal.objects.count(),
    )
    assert jobs.run_all() == dict.fromkeys(jobs.JOBS, 0)
    assert counts == (
        Notification.objects.count(),
        JobMark.objects.count(),
        ReportRun.objects.count(),
        CertificateEvent.objects.count(),
        Proposal.objects.count(),
    )


def test_run_due_jobs_command(certificate, time_machine):
    from io import StringIO

    from django.core.management import call_command

    time_machine.move_to(at(S1_DUE + timedelta(days=1)), tick=False)
    out = StringIO()
    call_command("run_due_jobs", "--job", "surveillance_overdue", stdout=out)
    assert "surveillance_overdue" in out.getvalue() and "1 step(s) acted" in out.getvalue()
    out = StringIO()
    call_command("run_due_jobs", "--date", "2026-03-22", stdout=out)
    assert "surveillance_overdue              0" in out.getvalue()


def test_without_a_cb_profile_nothing_is_suspended_automatically(db):
    from django.core.cache import cache

    CertificationBody.objects.all().delete()
    cache.delete(CertificationBody.CACHE_KEY)
    assert certificate_jobs._auto_suspend() is False


# --- nonconformities ---------------------------------------------------------------------------


@shared_fixture
def nc(people):
    """A major NC of a stage 2 that ended 2025-03-12: due 2025-09-12 (004 §5.10.3(1))."""
    from tests.audits.nc_factories import complete, raise_nc, stage2_in_progress

    stage2 = stage2_in_progress(staff=people.workflow)
    organization = stage2.programme.organization
    organization.contact_email = "service@client.example.cn"
    organization.save(update_fields=["contact_email"])
    nc = raise_nc(stage2, people.workflow)
    complete(stage2, people.workflow)
    nc.refresh_from_db()
    assert nc.due_on == NC_DUE
    return nc


NC_DUE = date(2025, 9, 12)


def test_nonconformity_reminders_at_14_and_3_days(
    nc, people, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at(NC_DUE - timedelta(days=15)), tick=False)
    assert jobs.JOBS["nonconformity_reminders"].step() is False  # not yet
    time_machine.move_to(at(NC_DUE - timedelta(days=14)), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.JOBS["nonconformity_reminders"].step() is True
    assert jobs.JOBS["nonconformity_reminders"].step() is False  # not twice
    time_machine.move_to(at(NC_DUE - timedelta(days=4)), tick=False)
    assert jobs.JOBS["nonconformity_reminders"].step() is False
    time_machine.move_to(at(NC_DUE - timedelta(days=3)), tick=False)
    assert jobs.JOBS["nonconformity_reminders"].step() is True
    assert jobs.JOBS["nonconformity_reminders"].step() is False
    marks = JobMark.objects.filter(job="nonconformity_reminders", object_id=nc.pk)
    assert sorted(marks.values_list("threshold", flat=True)) == ["14d", "3d"]
    leader_notes = notified(people.workflow.leader, "nonconformity_reminders")
    assert len(leader_notes) == 2
    assert "2025-09-12" in leader_notes[0].subject and "NC-01" in leader_notes[0].subject
    assert "督促客户" in leader_notes[0].body
    assert notified(people.planner, "nonconformity_reminders")
    assert not notified(people.decider, "nonconformity_reminders")
    client_mail = [m for m in mail.outbox if m.to == ["service@client.example.cn"]]
    assert len(client_mail) == 1 and "2025-09-12" in client_mail[0].subject
    assert f"/portal/nonconformities/{nc.pk}/" in client_mail[0].body


def test_nonconformity_reminder_goes_to_the_team_only_once_the_client_answered(
    nc, people, time_machine, django_capture_on_commit_callbacks
):
    from tests.applications.factories import ClientUserFactory
    from tests.audits.nc_factories import answer

    answer(nc, ClientUserFactory(organization=nc.audit.programme.organization))
    time_machine.move_to(at(NC_DUE - timedelta(days=2)), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.run("nonconformity_reminders") == 1
    [note] = notified(people.workflow.leader, "nonconformity_reminders")
    assert "请审核组长及时验证" in note.body
    assert JobMark.objects.get(job="nonconformity_reminders").threshold == "3d"
    assert not [m for m in mail.outbox if m.to == ["service@client.example.cn"]]


def test_overdue_nonconformity_alert_once_after_the_deadline(
    nc, people, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at(NC_DUE), tick=False)
    assert jobs.JOBS["nonconformity_overdue"].step() is False  # the deadline day is still in time
    time_machine.move_to(at(NC_DUE + timedelta(days=1)), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.JOBS["nonconformity_overdue"].step() is True
    assert jobs.JOBS["nonconformity_overdue"].step() is False
    time_machine.move_to(at(NC_DUE + timedelta(days=30)), tick=False)
    assert jobs.run("nonconformity_overdue") == 0  # not again later either
    for user in (people.workflow.leader, people.decider, people.technical_manager, people.planner):
        [note] = notified(user, "nonconformity_overdue")
        assert "逾期" in note.subject and "004 §5.10.4" in note.body
    assert any(m.to == ["service@client.example.cn"] for m in mail.outbox)


def test_settled_nonconformities_are_neither_reminded_nor_overdue(nc, people, time_machine):
    from audits import services as nonconformities
    from tests.applications.factories import ClientUserFactory
    from tests.audits.nc_factories import answer

    response = answer(nc, ClientUserFactory(organization=nc.audit.programme.organization))
    nonconformities.nonconformity_review(
        response=response,
        actor=people.workflow.leader,
        accepted=True,
        note="",
        reviewed_on=date(2025, 4, 1),
    )
    for day in (NC_DUE - timedelta(days=3), NC_DUE + timedelta(days=1)):
        time_machine.move_to(at(day), tick=False)
        assert jobs.run("nonconformity_reminders") == 0
        assert jobs.run("nonconformity_overdue") == 0
    assert not JobMark.objects.filter(job__startswith="nonconformity").exists()


# --- statistics after bulk loads (VACUUM outside a transaction: test_jobs_vacuum.py) ---------


def _analyzed(queries) -> bool:
    return any(q["sql"].strip().upper() == "ANALYZE" for q in queries.captured_queries)


def test_generate_data_refreshes_the_statistics(cb):
    import io

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call_command("generate_data", certificates=20, stdout=io.StringIO())
    assert _analyzed(queries)


def test_a_committed_register_import_refreshes_the_statistics(people, tmp_path):
    import io

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from certbody import spreadsheets
    from reporting import reports

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        number = certificate_in(Certificate.Status.SUSPENDED, staff=people.workflow).number
        register = reports.register()
        # This test's certificate only: the module's shared one stays in the database.
        [sheet] = register.sheets
        sheet.rows = [row for row in sheet.rows if row[reports.KEYS.index("number")] == number]
        path = tmp_path / "register.xlsx"
        path.write_bytes(spreadsheets.to_xlsx(register))
        raise Rollback
    before = Certificate.objects.count()
    with CaptureQueriesContext(connection) as queries:
        call_command("import_register", str(path), stdout=io.StringIO())  # a dry run
    assert not _analyzed(queries)
    with CaptureQueriesContext(connection) as queries:
        call_command("import_register", str(path), "--commit", stdout=io.StringIO())
    assert Certificate.objects.count() == before + 1
    assert Certificate.objects.filter(number=number).count() == 1
    assert _analyzed(queries)
