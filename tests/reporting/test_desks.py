"""The reports desk of the staff workspace: report runs with period, deadline, submission and
overdue flag; downloads of the generated files; generate, regenerate and mark submitted with the
platform's receipt number, offered and allowed by role (certbody.policy)."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reporting import services
from reporting.models import ReportRun
from tests.reporting.conftest import People, at
from tests.shared import shared_fixture

Kind = ReportRun.Kind
TODAY = date(2026, 11, 10)  # October's monthly reports were due on 5 November


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(at(TODAY), tick=False)


@shared_fixture
def people(cb):
    return People()


def generate(people, kind=Kind.ORGANISATIONS_MONTHLY, period=date(2026, 10, 1)):
    return services.report_generate(kind=kind, actor=people.reporting, period_start=period)


def rows(response) -> str:
    """The list table's body (the filter form's options name every kind too)."""
    assert response.status_code == 200
    match = re.search(r"<tbody.*?</tbody>", response.content.decode(), re.S)
    return match.group(0) if match else ""


def offered(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r'data-action="([^"]+)"', response.content.decode()))


def test_report_list_shows_period_due_date_and_the_overdue_flag(client, people):
    run = generate(people)
    client.force_login(people.market)

    body = rows(client.get("/staff/reports/"))

    assert "获证组织基本信息月报" in body
    assert "2026年10月" in body
    assert "2026-11-05" in body
    assert "✔" in body  # overdue: not submitted after the 5th
    assert f'href="/staff/reports/{run.pk}/"' in body


def test_report_list_filters_and_exports(client, people):
    generate(people)
    annual = generate(people, Kind.STATISTICS_ANNUAL, date(2025, 1, 1))
    services.report_submit(run=annual, actor=people.reporting, receipt_number="CNAS-2026-0001")
    client.force_login(people.reporting)

    overdue = rows(client.get("/staff/reports/?overdue=true"))
    assert "获证组织基本信息月报" in overdue and "分类统计年报" not in overdue
    submitted = rows(client.get("/staff/reports/?state=submitted"))
    assert "CNAS-2026-0001" in submitted and "获证组织基本信息月报" not in submitted
    by_kind = rows(client.get("/staff/reports/?kind=statistics_annual"))
    assert "分类统计年报" in by_kind and "获证组织基本信息月报" not in by_kind
    assert "CNAS-2026-0001" in rows(client.get("/staff/reports/?q=CNAS-2026"))
    csv = client.get("/staff/reports/?export=csv")
    assert csv.status_code == 200 and "CNAS-2026-0001" in csv.content.decode("utf-8-sig")
    assert client.get("/staff/reports/?export=xlsx").content[:2] == b"PK"


def test_report_list_query_count_does_not_grow_with_rows(client, people):
    generate(people)
    client.force_login(people.reporting)
    client.get("/staff/reports/")
    with CaptureQueriesContext(connection) as one:
        client.get("/staff/reports/")
    generate(people, Kind.FAILURES_MONTHLY)
    generate(people, Kind.CB_CHANGES_MONTHLY)
    generate(people, Kind.AUDITORS_ANNUAL, date(2025, 1, 1))

    with CaptureQueriesContext(connection) as four:
        client.get("/staff/reports/")

    assert len(four) == len(one)


def test_report_page_offers_the_files_for_download(client, people):
    run = generate(people)
    client.force_login(people.market)

    page = client.get(f"/staff/reports/{run.pk}/").content.decode()
    assert f'href="/reporting/reports/{run.pk}/xlsx/"' in page
    assert f'href="/reporting/reports/{run.pk}/csv/"' in page
    xlsx = client.get(f"/reporting/reports/{run.pk}/xlsx/")
    csv = client.get(f"/reporting/reports/{run.pk}/csv/")

    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"
    assert "attachment" in xlsx["Content-Disposition"]
    assert xlsx["X-Content-Type-Options"] == "nosniff"
    assert b"".join(csv.streaming_content).startswith(b"\xef\xbb\xbf")
    assert client.get(f"/reporting/reports/{run.pk}/pdf/").status_code == 404


def test_clients_cannot_download_reports(client, people):
    from tests.applications.factories import ClientUserFactory

    run = generate(people)
    client.force_login(ClientUserFactory())

    assert client.get(f"/reporting/reports/{run.pk}/xlsx/").status_code == 403


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("reporting", {"regenerate", "submit"}),
        ("technical_manager", {"regenerate"}),
        ("market", set()),
        ("planner", set()),
        ("decider", set()),
    ],
)
def test_report_actions_per_role(client, people, who, expected):
    run = generate(people)
    client.force_login(getattr(people, who))

    assert offered(client.get(f"/staff/reports/{run.pk}/")) == expected


def test_a_submitted_report_offers_no_action(client, people):
    run = generate(people)
    services.report_submit(run=run, actor=people.reporting, receipt_number="R-1")
    client.force_login(people.reporting)

    assert offered(client.get(f"/staff/reports/{run.pk}/")) == set()
    assert client.post(f"/staff/reports/{run.pk}/regenerate/").status_code == 409


def test_regenerate_through_the_confirm_page(client, people):
    run = generate(people)
    client.force_login(people.technical_manager)
    assert client.get(f"/staff/reports/{run.pk}/regenerate/").status_code == 200

    response = client.post(f"/staff/reports/{run.pk}/regenerate/")

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.generated_by == people.technical_manager


def test_mark_submitted_with_the_receipt_number(client, people):
    run = generate(people)
    client.force_login(people.reporting)

    response = client.post(
        f"/staff/reports/{run.pk}/submit/",
        {"receipt_number": "CNCA-202611-0042", "submitted_on": "2026-11-10"},
    )

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.state == ReportRun.State.SUBMITTED
    assert run.receipt_number == "CNCA-202611-0042"
    assert run.submitted_by == people.reporting
    assert run.submitted_late


def test_a_submission_date_the_service_refuses_is_shown(client, people):
    run = generate(people)
    client.force_login(people.reporting)

    response = client.post(
        f"/staff/reports/{run.pk}/submit/",
        {"receipt_number": "R-1", "submitted_on": "2026-11-20"},
    )

    assert response.status_code == 422
    assert "不能晚于今天" in response.content.decode()


@pytest.mark.parametrize("who", ["technical_manager", "market"])
def test_a_forged_submission_by_another_role_is_403(client, people, who):
    run = generate(people)
    client.force_login(getattr(people, who))

    response = client.post(
        f"/staff/reports/{run.pk}/submit/", {"receipt_number": "R-1", "submitted_on": "2026-11-10"}
    )

    assert response.status_code == 403
    run.refresh_from_db()
    assert run.state == ReportRun.State.GENERATED


def test_a_forged_regeneration_by_market_is_403(client, people):
    run = generate(people)
    client.force_login(people.market)

    assert client.post(f"/staff/reports/{run.pk}/regenerate/").status_code == 403


def test_generate_a_report_on_the_create_page(client, people):
    client.force_login(people.reporting)
    assert 'data-testid="create"' in client.get("/staff/reports/").content.decode()

    response = client.post(
        "/staff/reports/new/", {"kind": "failures_monthly", "period": "2026-10-15"}
    )

    run = ReportRun.objects.get(kind=Kind.FAILURES_MONTHLY)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/reports/{run.pk}/"
    assert run.period_start == date(2026, 10, 1)


def test_a_period_not_yet_ended_is_refused_on_the_create_page(client, people):
    client.force_login(people.reporting)

    response = client.post(
        "/staff/reports/new/", {"kind": "failures_monthly", "period": "2026-11-01"}
    )

    assert response.status_code == 422
    assert "尚未结束" in response.content.decode()


def test_roles_without_the_permission_cannot_generate(client, people):
    client.force_login(people.market)

    assert 'data-testid="create"' not in client.get("/staff/reports/").content.decode()
    assert client.post("/staff/reports/new/", {"kind": "failures_monthly"}).status_code == 403
