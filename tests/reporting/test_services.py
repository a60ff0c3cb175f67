"""Report runs: generate, regenerate, submit; deadlines; who may do what."""

from datetime import date

import pytest

from certbody.lifecycle import RuleViolation
from certbody.models import CalendarYear
from certificates.models import Certificate
from reporting import services
from reporting.models import ReportRun
from tests.certificates.helpers import SUSPENDED_FROM, certificate_in
from tests.reporting.conftest import at

Kind = ReportRun.Kind


def test_generate_a_monthly_report(people, time_machine):
    time_machine.move_to(at(date(2026, 11, 2)), tick=False)
    run = services.report_generate(
        kind=Kind.ORGANISATIONS_MONTHLY, actor=people.reporting, period_start=date(2026, 10, 17)
    )
    assert (run.period_start, run.period_end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (run.due_on, run.rule) == (date(2026, 11, 5), "002 §4.3.3.2；004 §9.3")
    assert run.state == ReportRun.State.GENERATED and run.generated_by == people.reporting
    assert run.file.name.endswith("获证组织基本信息月报_202610.xlsx")
    assert run.csv_file.read().startswith(b"\xef\xbb\xbf")
    assert str(run) == "获证组织基本信息月报 2026年10月"
    assert not run.is_overdue(date(2026, 11, 5)) and run.is_overdue(date(2026, 11, 6))


def test_a_period_not_yet_ended_is_refused(people, time_machine):
    time_machine.move_to(at(date(2026, 10, 31)), tick=False)
    with pytest.raises(RuleViolation, match="尚未结束"):
        services.report_generate(
            kind=Kind.FAILURES_MONTHLY, actor=people.reporting, period_start=date(2026, 10, 1)
        )


def test_regenerate_replaces_the_files_until_submitted(
    people, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at(date(2026, 1, 3)), tick=False)
    run = services.report_generate(
        kind=Kind.STATISTICS_ANNUAL, actor=people.reporting, period_start=date(2025, 1, 1)
    )
    old_name = run.file.name
    with django_capture_on_commit_callbacks(execute=True):
        again = services.report_regenerate(run=run, actor=people.technical_manager)
    assert again.pk == run.pk and ReportRun.objects.count() == 1
    assert again.generated_by == people.technical_manager
    assert again.file.name != old_name and not again.file.storage.exists(old_name)
    assert services.download_name(again, "xlsx") == "认证机构获证组织信息分类统计年报_2025.xlsx"
    services.report_submit(run=again, actor=people.reporting, receipt_number="CNAS-2026-0001")
    again.refresh_from_db()
    assert (again.state, again.receipt_number, again.submitted_by) == (
        ReportRun.State.SUBMITTED,
        "CNAS-2026-0001",
        people.reporting,
    )
    assert not again.submitted_late
    with pytest.raises(RuleViolation, match="已于"):
        services.report_regenerate(run=again, actor=people.reporting)
    with pytest.raises(RuleViolation):
        services.report_submit(run=again, actor=people.reporting, receipt_number="X")


def test_only_the_reporting_officer_marks_submitted_with_a_receipt(people, time_machine):
    time_machine.move_to(at(date(2026, 3, 12)), tick=False)
    run = services.report_generate(
        kind=Kind.AUDITORS_ANNUAL, actor=people.reporting, period_start=date(2025, 1, 1)
    )
    with pytest.raises(RuleViolation, match="无权"):
        services.report_submit(run=run, actor=people.technical_manager, receipt_number="R-1")
    with pytest.raises(RuleViolation, match="回执"):
        services.report_submit(run=run, actor=people.reporting, receipt_number="  ")
    with pytest.raises(RuleViolation, match="晚于今天"):
        services.report_submit(
            run=run, actor=people.reporting, receipt_number="R-1", submitted_on=date(2026, 3, 13)
        )
    services.report_submit(run=run, actor=people.reporting, receipt_number="R-1")
    run.refresh_from_db()
    assert run.submitted_late  # due 10 March


def test_who_may_generate(people):
    with pytest.raises(RuleViolation, match="无权"):
        services.report_generate(
            kind=Kind.CB_CHANGES_MONTHLY, actor=people.market, period_start=date(2025, 1, 1)
        )
    with pytest.raises(RuleViolation, match="未知"):
        services.report_generate(kind="weekly", actor=people.reporting)


def test_status_change_report_for_a_head_certificate_only(people, time_machine):
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=people.workflow)
    event = certificate.events.get(kind="suspended")
    run = services.report_generate(kind=Kind.STATUS_CHANGE, actor=people.reporting, event=event)
    assert (run.period_start, run.due_on, run.provisional) == (
        SUSPENDED_FROM,
        date(2025, 6, 4),
        False,
    )
    assert run.period_label == "2025-06-02"
    with pytest.raises(RuleViolation):
        services.report_generate(
            kind=Kind.STATUS_CHANGE,
            actor=people.reporting,
            event=certificate.events.get(kind="issued"),
        )


def test_status_change_deadline_is_provisional_without_a_published_calendar(db):
    from certbody import workdays

    CalendarYear.objects.filter(year=2031).delete()
    workdays.clear_cache()
    due, provisional = services.status_change_due(date(2031, 1, 3))  # a Friday
    assert (due, provisional) == (date(2031, 1, 7), True)


def test_personnel_record(people):
    from tests.audits.factories import auditor_user

    user = auditor_user("rp-auditor")
    record = services.personnel_record_save(
        auditor=user.auditor_profile, actor=people.planner, id_number="11010519800101123X"
    )
    assert record.id_number == "11010519800101123X"
    with pytest.raises(RuleViolation):
        services.personnel_record_save(
            auditor=user.auditor_profile, actor=people.planner, id_number="12"
        )
    with pytest.raises(RuleViolation, match="无权"):
        services.personnel_record_save(auditor=user.auditor_profile, actor=people.market)
