"""The platform's three-sheet upload (issue #17): certificate, audit-team and audit-plan sheets
built from the month's data, written through a stored layout the reporting officer can replace
with the platform's own template, validated before download; submission waits until the
validation finds nothing."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from audits import services as audit_services
from audits.models import Auditor
from certbody.lifecycle import RuleViolation
from certificates import services as cert_services
from reporting import layouts, reports, services
from reporting.models import ReportLayout, ReportRun
from tests.audits.factories import auditor_user, surveillance_maintained
from tests.certificates.helpers import multi_site_certificate
from tests.reporting.conftest import at

Kind = ReportRun.Kind
MARCH = (date(2025, 3, 1), date(2025, 3, 31))
OCTOBER = (date(2025, 10, 1), date(2025, 10, 31))
CERTIFICATES, TEAMS, PLANS = (name for name, _ in layouts.PLATFORM_SHEETS)


@pytest.fixture
def client_data(people):
    """A head certificate with one sub-certificate issued 20 March 2025, its surveillance 1
    (team of 2: leader and auditor, 8–9 October, maintained 15 October) and its suspension on
    20 October (the sub-certificate follows)."""
    staff = people.workflow
    head, sub = multi_site_certificate(staff=staff)
    member = auditor_user("rp-member", actor=staff.planner)
    audit = head.programme.audits.get(kind="surveillance", sequence=1)
    audit_services.audit_schedule(
        audit=audit,
        actor=staff.planner,
        planned_start=date(2025, 10, 8),
        planned_end=date(2025, 10, 9),
    )
    for user, role in ((staff.leader, "leader"), (member, "auditor")):
        audit_services.audit_team_add(audit=audit, actor=staff.planner, user=user, role=role)
    surveillance_maintained(
        head, staff, start=date(2025, 10, 8), end=date(2025, 10, 9), decided_on=date(2025, 10, 15)
    )
    cert_services.certificate_suspend(
        certificate=head,
        actor=staff.decider,
        cause=11,  # the client's own request (004 §7.2.1(11), CNCA 0116)
        verified_on=date(2025, 10, 20),
        starts_on=date(2025, 10, 20),
        ends_on=date(2026, 1, 20),
    )
    return head, sub, member


def sheet_rows(report, n: int) -> list[dict]:
    sheet = report.sheets[n]
    return [dict(zip(sheet.columns, row, strict=True)) for row in sheet.rows]


def test_the_three_sheets_carry_the_codes_and_the_head_number(
    client_data, people, django_assert_max_num_queries
):
    head, sub, member = client_data
    march = reports.platform_upload(*MARCH)
    assert [s.title for s in march.sheets] == [CERTIFICATES, TEAMS, PLANS]
    rows = {r["证书编号"]: r for r in sheet_rows(march, 0)}
    assert set(rows) == {head.number, sub.number}
    # 01: first issue (no code in the seeds or cnca_codes.json; see layouts.REPORT_TYPE_ISSUE)
    assert (rows[head.number]["上报类型"], rows[head.number]["是否子证书"]) == ("01", "否")
    assert rows[head.number]["主证书编号"] == ""
    assert (rows[sub.number]["是否子证书"], rows[sub.number]["主证书编号"]) == ("是", head.number)
    # The audits behind the issue: stage 1 (document review) and stage 2, under the head number.
    plans = sheet_rows(march, 2)
    assert [(p["证书编号"], p["审核阶段"]) for p in plans] == [
        (head.number, "0101"),
        (head.number, "0102"),
    ]
    assert {(t["审核阶段"], t["组内身份"]) for t in sheet_rows(march, 1)} == {
        ("0101", "组长"),
        ("0102", "组长"),
    }

    with django_assert_max_num_queries(7):
        october = reports.platform_upload(*OCTOBER)
    rows = sheet_rows(october, 0)
    assert [(r["证书编号"], r["上报类型"], r["主证书编号"]) for r in rows] == [
        (head.number, "05", ""),
        (sub.number, "05", head.number),
    ]
    assert {(r["变更类别"], r["证书状态"], r["暂停原因"]) for r in rows} == {
        ("97_01", "02", "0116")
    }
    assert rows[0]["暂停开始日期"] == date(2025, 10, 20)
    team = sheet_rows(october, 1)
    assert [(t["证书编号"], t["审核阶段"], t["审核员姓名"], t["组内身份"]) for t in team] == [
        (head.number, "03", str(people.workflow.leader), "组长"),
        (head.number, "03", str(member), "组员"),
    ]
    assert team[1]["注册证书号"] == Auditor.objects.get(user=member).registration_number
    assert (team[0]["审核开始日期"], team[0]["审核结束日期"]) == (
        date(2025, 10, 8),
        date(2025, 10, 9),
    )
    [plan] = sheet_rows(october, 2)
    assert (plan["证书编号"], plan["审核阶段"]) == (head.number, "03")
    assert (plan["计划开始日期"], plan["计划结束日期"]) == (date(2025, 10, 8), date(2025, 10, 9))
    assert plan["审核计划上报日期"] == date(2025, 10, 3)  # reported 5 days before (004 §9.2)
    assert set(plan["审核场所"].split("；")) == {"总部", "海淀网点"}
    assert plan["审核人日数"] is not None

    layout = layouts.active(Kind.PLATFORM_UPLOAD)
    assert layouts.validate(layouts.apply(october, layout), layout) == []


def test_validation_requires_the_head_number_of_a_sub_certificate(english):
    layout = layouts.Layout(Kind.PLATFORM_UPLOAD, 0, layouts.default_spec(Kind.PLATFORM_UPLOAD))
    keys = layout.sheet_fields()
    row = dict.fromkeys(keys[0])
    row.update(
        report_type="05",
        number="0123S25001S1",
        is_sub="是",
        org_name="甲",
        uscc="91110000000000000X",
        issued_on=date(2025, 3, 20),
        expires_on=date(2028, 3, 19),
        change_date=date(2025, 10, 20),
        status="01",
    )
    team = dict.fromkeys(keys[1])
    team.update(number="0123S25001", audit_stage="05", auditor_name="张三", team_role="组员")
    team.update(audit_start=date(2025, 10, 9), audit_end=date(2025, 10, 8))
    from certbody.spreadsheets import Report, Sheet

    report = Report(
        "t",
        [
            Sheet(CERTIFICATES, layout.headers(0), [[row[k] for k in keys[0]]]),
            Sheet(TEAMS, layout.headers(1), [[team[k] for k in keys[1]]]),
            Sheet(PLANS, layout.headers(2), []),
        ],
    )
    found = [
        (f["sheet"], f["row"], f["column"], f["code"]) for f in layouts.validate(report, layout)
    ]
    assert found == [
        (CERTIFICATES, 2, "主证书编号", "required"),
        (TEAMS, 2, "审核阶段", "code_table"),  # 05 is no audit stage
        (TEAMS, 2, "注册证书号", "required"),  # a member (组员) holds a registration
        (TEAMS, 2, "审核结束日期", "order"),
    ]


# --- stored layouts and the platform's template ---------------------------------------------


def test_the_data_migration_stores_one_active_default_layout_per_kind(system_user):
    stored = ReportLayout.objects.filter(active=True)
    assert sorted(stored.values_list("kind", flat=True)) == sorted(layouts.CATALOGUES)
    for row in stored:
        assert (row.version, row.loaded_by, row.source_name) == (
            1,
            system_user,
            layouts.DEFAULT_SOURCE,
        )
        assert row.spec == layouts.default_spec(row.kind)
        assert layouts.active(row.kind).pk == row.pk
    platform = stored.get(kind=Kind.PLATFORM_UPLOAD)
    assert [s["name"] for s in platform.spec["sheets"]] == [CERTIFICATES, TEAMS, PLANS]
    # Without a stored row the code-built default is the fallback (version 0).
    ReportLayout.objects.filter(kind=Kind.PLATFORM_UPLOAD).delete()
    assert layouts.active(Kind.PLATFORM_UPLOAD).version == 0
    assert layouts.store_defaults() == [Kind.PLATFORM_UPLOAD]
    assert layouts.store_defaults() == []


def template(sheets: dict[str, list[str]]) -> bytes:
    """A platform template with ``sheets`` (name → headers), a title row above each header row."""
    book = Workbook()
    book.remove(book.active)
    for name, headers in sheets.items():
        ws = book.create_sheet(name)
        ws.append(["认证信息上报模板"])
        ws.append(headers)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def renamed(sheet: int, old: str, new: str, added: str) -> list[str]:
    headers = [h for _, h in layouts.PLATFORM_SHEETS[sheet][1]]
    headers[headers.index(old)] = new
    return [*headers, added]


PLATFORM_TEMPLATE = {
    # the plan sheet first: sheets are matched by name, not by order
    PLANS: renamed(2, "审核场所", "审核地点", "审核开始日期"),
    CERTIFICATES: renamed(0, "通讯地址", "组织通讯地址", "联系人"),
    TEAMS: renamed(1, "组内身份", "审核组身份", "资格类型"),
}
MAPPING = {
    "证书信息：组织通讯地址": "address",
    "审核组信息：审核组身份": "team_role",
    "审核计划信息：审核地点": "sites",
}


def table(book, name: str) -> list[dict]:
    values = list(book[name].values)
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def test_a_three_sheet_template_with_renamed_and_added_columns_is_followed(
    client_data, people, time_machine
):
    head, sub, member = client_data
    organization = head.organization
    organization.contact_name = "王联系"
    organization.save(update_fields=["contact_name"])
    content = template(PLATFORM_TEMPLATE)
    with pytest.raises(services.UnknownColumns) as refused:
        services.layout_load(kind=Kind.PLATFORM_UPLOAD, content=content, actor=people.reporting)
    assert refused.value.headers == list(MAPPING)
    assert ReportLayout.objects.filter(kind=Kind.PLATFORM_UPLOAD).count() == 1  # nothing saved

    layout = services.layout_load(
        kind=Kind.PLATFORM_UPLOAD, content=content, actor=people.reporting, mapping=MAPPING
    )
    assert (layout.version, layout.active) == (2, True)

    time_machine.move_to(at(date(2025, 11, 3)), tick=False)
    run = services.report_generate(
        kind=Kind.PLATFORM_UPLOAD, actor=people.reporting, period_start=OCTOBER[0]
    )
    assert run.layout_id == layout.pk and run.findings == []
    book = load_workbook(io.BytesIO(run.file.read()))
    assert book.sheetnames == [CERTIFICATES, TEAMS, PLANS]
    for name in book.sheetnames:
        values = list(book[name].values)
        assert list(values[0]) == PLATFORM_TEMPLATE[name]
    certificates = table(book, CERTIFICATES)
    assert certificates[1]["主证书编号"] == head.number
    assert certificates[0]["组织通讯地址"] == head.registered_address
    assert certificates[0]["联系人"] == "王联系"
    team = table(book, TEAMS)
    assert [(t["审核组身份"], t["资格类型"]) for t in team] == [
        ("组长", "审查员"),
        ("组员", "审查员"),
    ]
    [plan] = table(book, PLANS)
    assert set(plan["审核地点"].split("；")) == {"总部", "海淀网点"}
    assert str(plan["审核开始日期"])[:10] == "2025-10-08"


def test_loading_the_three_sheet_template_through_the_confirm_page(client, people):
    client.force_login(people.reporting)
    upload = io.BytesIO(template(PLATFORM_TEMPLATE))
    upload.name = "平台模板.xlsx"
    response = client.post(
        reverse("reporting:layouts"), {"kind": Kind.PLATFORM_UPLOAD, "template": upload}
    )
    assert response.status_code == 302 and response.url == reverse("reporting:layout_confirm")
    page = client.get(response.url).content.decode()
    assert all(name in page for name in MAPPING)
    done = client.post(
        reverse("reporting:layout_confirm"),
        {f"map-{n}": field for n, field in enumerate(MAPPING.values())},
    )
    assert done.status_code == 302
    layout = ReportLayout.objects.get(kind=Kind.PLATFORM_UPLOAD, active=True)
    assert (layout.version, layout.source_name) == (2, "平台模板.xlsx")
    assert [s["name"] for s in layout.spec["sheets"]] == [CERTIFICATES, TEAMS, PLANS]


def test_an_unknown_column_of_a_sheet_is_reported_by_sheet_and_name(people):
    sheets = {name: [h for _, h in columns] for name, columns in layouts.PLATFORM_SHEETS}
    sheets[TEAMS].append("平台内部编号")
    with pytest.raises(services.UnknownColumns) as refused:
        services.layout_load(
            kind=Kind.PLATFORM_UPLOAD, content=template(sheets), actor=people.reporting
        )
    assert refused.value.headers == ["审核组信息：平台内部编号"]
    assert "审核组信息：平台内部编号" in str(refused.value)


def test_a_sheet_missing_a_required_field_is_refused_by_name(people, english):
    sheets = {name: [h for _, h in columns] for name, columns in layouts.PLATFORM_SHEETS}
    sheets[TEAMS].remove("审核员姓名")
    with pytest.raises(RuleViolation) as refused:
        services.layout_load(
            kind=Kind.PLATFORM_UPLOAD, content=template(sheets), actor=people.reporting
        )
    assert "审核组信息：审核员姓名 (auditor_name)" in str(refused.value)
    assert ReportLayout.objects.filter(kind=Kind.PLATFORM_UPLOAD).count() == 1

    del sheets[PLANS]
    with pytest.raises(RuleViolation, match="3 sheet"):
        services.layout_load(
            kind=Kind.PLATFORM_UPLOAD, content=template(sheets), actor=people.reporting
        )


# --- validation blocks submission ------------------------------------------------------------


def test_submission_is_refused_while_problems_stand(
    client_data, people, time_machine, client, english, settings
):
    settings.LANGUAGE_CODE = "en"  # the pages below are read in English, as the messages
    head, sub, member = client_data
    # The member's registration number is lost: the audit-team row misses a required cell.
    Auditor.objects.filter(user=member).update(registration_number="")
    time_machine.move_to(at(date(2025, 11, 3)), tick=False)
    run = services.report_generate(
        kind=Kind.PLATFORM_UPLOAD, actor=people.reporting, period_start=OCTOBER[0]
    )
    assert [(f["sheet"], f["row"], f["column"]) for f in run.findings] == [(TEAMS, 3, "注册证书号")]
    with pytest.raises(RuleViolation) as refused:
        services.report_submit(run=run, actor=people.reporting, receipt_number="R-1")
    assert "1 problem" in str(refused.value)
    assert "审核组信息 row 3, 注册证书号" in str(refused.value)
    run.refresh_from_db()
    assert not run.is_submitted

    # The run can still be previewed and downloaded; its page shows the button disabled.
    client.force_login(people.reporting)
    assert client.get(reverse("reporting:download", args=[run.pk, "xlsx"])).status_code == 200
    preview = client.get(reverse("reporting:preview", args=[run.pk]), {"sheet": 1}).content.decode()
    assert 'data-testid="preview-submit-blocked"' in preview and "注册证书号" in preview
    page = client.get(reverse("workspace:object", args=["reports", run.pk])).content.decode()
    assert 'data-blocked="submit"' in page and "1 problem" in page

    # Fixed and regenerated: submitted.
    Auditor.objects.filter(user=member).update(registration_number="2024-FW-999999")
    run = services.report_regenerate(run=run, actor=people.reporting)
    assert run.findings == []
    run = services.report_submit(run=run, actor=people.reporting, receipt_number="R-1")
    assert run.is_submitted and run.receipt_number == "R-1"
