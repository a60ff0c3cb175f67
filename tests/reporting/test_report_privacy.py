"""Personal data in generated reports (reports.PERSONAL_COLUMNS, reporting.privacy): the
auditors' ID numbers, birth months and residences and the clients' contact phones are downloaded
in full only by users with ``certbody.view_personal_data``; every other staff member with the
reports desk gets the same file with those columns masked, in CSV and XLSX alike."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from certbody import spreadsheets
from reporting import layouts, privacy, reports, services
from reporting.models import ReportRun
from tests.audits.factories import auditor_user
from tests.reporting.conftest import at

ID_NUMBER = "110105198001011234"
MASKED_ID = "110*************34"
PHONE = "13812345678"
MASKED_PHONE = "138****5678"
RESIDENCE = "江苏省南京市"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(at(date(2026, 2, 10)), tick=False)


@pytest.fixture
def run(people):
    auditor = auditor_user("privacy-auditor").auditor_profile
    services.personnel_record_save(
        auditor=auditor,
        actor=people.planner,
        id_number=ID_NUMBER,
        gender="F",
        birth_date=date(1980, 1, 1),
        residence=RESIDENCE,
    )
    return services.report_generate(
        kind=ReportRun.Kind.AUDITORS_ANNUAL, actor=people.reporting, period_start=date(2025, 1, 1)
    )


def download(client, user, run, fmt) -> bytes:
    client.force_login(user)
    response = client.get(f"/reporting/reports/{run.pk}/{fmt}/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_cells(content: bytes) -> dict:
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    [row] = [r for r in rows if r[1] != "" and "privacy-auditor" in r[1]]
    return dict(zip(header, row, strict=True))


def xlsx_cells(content: bytes) -> dict:
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    header, *rows = list(ws.iter_rows(values_only=True))
    [row] = [r for r in rows if "privacy-auditor" in str(r[1])]
    return dict(zip(header, row, strict=True))


@pytest.mark.parametrize("who", ["decider", "market_less"])
def test_roles_without_the_permission_download_the_auditors_report_masked(client, people, run, who):
    from certbody import roles
    from tests.conftest import make_staff

    user = people.decider if who == "decider" else make_staff("privacy-aud", roles.AUDITOR)

    for fmt, cells_of in (("csv", csv_cells), ("xlsx", xlsx_cells)):
        content = download(client, user, run, fmt)
        cells = cells_of(content)
        assert cells["身份证件号码"] == MASKED_ID
        assert cells["出生年月"] == "*******"
        assert cells["居住地区"] == "******"
        assert cells["性别"] == "女"  # not personal data: kept
        if fmt == "csv":
            assert ID_NUMBER.encode() not in content
            assert RESIDENCE.encode() not in content


def test_roles_with_the_permission_download_the_report_in_full(client, people, run):
    for user in (people.reporting, people.technical_manager, people.planner, people.market):
        cells = csv_cells(download(client, user, run, "csv"))
        assert (cells["身份证件号码"], cells["出生年月"], cells["居住地区"]) == (
            ID_NUMBER,
            "1980-01",
            RESIDENCE,
        )
        assert xlsx_cells(download(client, user, run, "xlsx"))["身份证件号码"] == ID_NUMBER


def test_the_report_page_says_the_download_is_masked(client, people, run):
    client.force_login(people.decider)
    assert (
        'data-testid="personal-data-masked"'
        in client.get(f"/staff/reports/{run.pk}/").content.decode()
    )
    client.force_login(people.reporting)
    assert (
        'data-testid="personal-data-masked"'
        not in client.get(f"/staff/reports/{run.pk}/").content.decode()
    )


def test_the_stored_file_keeps_the_full_values(people, run):
    with run.csv_file.open("rb") as stored:
        assert ID_NUMBER.encode() in stored.read()


def register_report(phone: str, ids: str) -> spreadsheets.Report:
    row = ["" for _ in reports.REGISTER_HEADERS]
    row[reports.KEYS.index("org_name")] = "=HYPERLINK(1)"
    row[reports.KEYS.index("phone")] = phone
    row[reports.KEYS.index("team_ids")] = ids
    row[reports.KEYS.index("headcount")] = 60
    return spreadsheets.Report("t", [spreadsheets.Sheet("t", reports.REGISTER_HEADERS, [row])])


@pytest.mark.parametrize("kind", ["organisations_monthly", "status_change"])
def test_register_reports_mask_the_clients_phone_and_every_team_members_id(kind):
    report = register_report(PHONE, f"{ID_NUMBER}；{ID_NUMBER[:-1]}X")

    for fmt, render, cells_of in (
        (
            "csv",
            spreadsheets.to_csv,
            lambda c: list(csv.reader(io.StringIO(c.decode("utf-8-sig")))),
        ),
        (
            "xlsx",
            spreadsheets.to_xlsx,
            lambda c: list(load_workbook(io.BytesIO(c)).worksheets[0].values),
        ),
    ):
        header, row = cells_of(privacy.masked_file(kind, fmt, render(report)))
        cells = dict(zip(header, row, strict=False))
        assert cells["联系电话"] == MASKED_PHONE
        assert cells["身份证件号码"] == f"{MASKED_ID}；110*************3X"
        assert cells["组织名称"] == "'=HYPERLINK(1)"  # other cells untouched, still neutralised
        assert str(cells["组织人数"]) == "60"


def test_every_declared_personal_column_is_a_column_of_its_report():
    columns = {
        "organisations_monthly": reports.REGISTER_HEADERS,
        "status_change": reports.REGISTER_HEADERS,
        "failures_monthly": reports.FAILURE_COLUMNS,
        "auditors_annual": reports.AUDITOR_COLUMNS,
        # the columns a loaded template may give the platform upload's sheets
        "platform_upload": list(layouts.CATALOGUES["platform_upload"].values()),
    }
    for kind, masks in reports.PERSONAL_COLUMNS.items():
        assert set(masks) <= set(columns[kind]), kind


def test_every_phone_and_id_number_column_is_declared_personal():
    every = {
        "organisations_monthly": reports.REGISTER_HEADERS,
        "failures_monthly": reports.FAILURE_COLUMNS,
        "cb_changes_monthly": reports.CB_CHANGE_COLUMNS,
        "auditors_annual": reports.AUDITOR_COLUMNS,
    }
    for kind, headers in every.items():
        for header in headers:
            if any(word in header for word in ("电话", "身份证", "出生", "居住")):
                assert header in reports.PERSONAL_COLUMNS.get(kind, {}), (kind, header)
