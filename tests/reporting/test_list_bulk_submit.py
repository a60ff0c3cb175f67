"""The reports list's bulk action "mark submitted" (issue #14; 002 §4.3): the ticked report
runs are recorded as submitted with one receipt number and date through ``report_submit``,
one by one; a run already submitted is listed as refused and keeps its receipt; a role without
``reporting.submit_report`` is answered 403."""

from datetime import date

import pytest

from reporting import services
from reporting.models import ReportRun
from tests.reporting.conftest import at

Kind = ReportRun.Kind
TODAY = date(2026, 11, 10)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(at(TODAY), tick=False)


def generate(people, kind):
    return services.report_generate(
        kind=kind, actor=people.reporting, period_start=date(2026, 10, 1)
    )


def test_mark_many_reports_submitted_lists_the_refused_ones(client, people, english):
    first = generate(people, Kind.ORGANISATIONS_MONTHLY)
    second = generate(people, Kind.FAILURES_MONTHLY)
    already = generate(people, Kind.CB_CHANGES_MONTHLY)
    services.report_submit(run=already, actor=people.reporting, receipt_number="OLD-1")
    ids = [first.pk, second.pk, already.pk]
    client.force_login(people.reporting)

    confirm = client.post("/staff/reports/bulk/", {"bulk": "submit", "selected": ids})
    done = client.post(
        "/staff/reports/bulk/",
        {
            "bulk": "submit",
            "selected": ids,
            "confirm": "1",
            "receipt_number": "CNCA-2026-11",
            "submitted_on": "2026-11-10",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert confirm.status_code == 200
    assert "Done on 2 rows." in done.content.decode()
    for run in (first, second):
        run.refresh_from_db()
        assert (run.state, run.receipt_number) == (ReportRun.State.SUBMITTED, "CNCA-2026-11")
        assert run.submitted_by == people.reporting
    already.refresh_from_db()
    assert already.receipt_number == "OLD-1"
    assert "not possible in the current state" in done.content.decode()


def test_forged_bulk_submit_by_a_role_without_the_permission_is_403(client, people):
    run = generate(people, Kind.ORGANISATIONS_MONTHLY)
    client.force_login(people.market)

    response = client.post(
        "/staff/reports/bulk/",
        {
            "bulk": "submit",
            "selected": [run.pk],
            "confirm": "1",
            "receipt_number": "X",
            "submitted_on": "2026-11-10",
        },
    )

    assert response.status_code == 403
    run.refresh_from_db()
    assert run.state == ReportRun.State.GENERATED
