"""Regulator file layouts as data (#17): loaded from the platform's template, followed by the
generated report, validated by row and column; and the report preview (#14)."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from certbody import spreadsheets
from certbody.lifecycle import RuleViolation
from certbody.policy import NotPermitted
from reporting import layouts, privacy, reports, services
from reporting.models import ReportLayout, ReportRun
from tests.certificates.factories import issued_certificate
from tests.reporting.conftest import at

Kind = ReportRun.Kind
MARCH = date(2025, 3, 1)


def template(headers, *, title="获证组织基本信息月报（平台模板）", sheet="证书信息") -> bytes:
    """A platform template: a title row above the header row."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([title])
    ws.append(headers)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def platform_headers() -> list[str]:
    """Today's columns with 通讯地址 renamed, 组织英文名称 dropped, and 联系人 added third."""
    headers = [h for h in reports.REGISTER_HEADERS if h != "组织英文名称"]
    headers[headers.index("通讯地址")] = "组织通讯地址"
    headers.insert(2, "联系人")
    return headers


def loaded():
    """The layouts loaded from templates (version 1 of each kind is the stored default)."""
    return ReportLayout.objects.exclude(source_name=layouts.DEFAULT_SOURCE)


def rows_of(content: bytes):
    book = load_workbook(io.BytesIO(content))
    ws = book.worksheets[0]
    values = list(ws.values)
    return ws.title, list(values[0]), [list(row) for row in values[1:]]


def test_a_template_with_a_renamed_and_an_added_column_is_followed(people, time_machine):
    staff = people.workflow
    certificate = issued_certificate(staff=staff)
    organization = certificate.organization
    organization.contact_name = "王联系"
    organization.save(update_fields=["contact_name"])
    content = template(platform_headers())

    # The renamed header matches no field: refused by name, nothing saved.
    with pytest.raises(services.UnknownColumns) as refused:
        services.layout_load(
            kind=Kind.ORGANISATIONS_MONTHLY, content=content, actor=people.reporting
        )
    assert refused.value.headers == ["组织通讯地址"]
    assert not loaded().exists()

    layout = services.layout_load(
        kind=Kind.ORGANISATIONS_MONTHLY,
        content=content,
        actor=people.reporting,
        source_name="模板.xlsx",
        mapping={"组织通讯地址": "address"},
    )
    assert (layout.version, layout.active, layout.loaded_by) == (2, True, people.reporting)
    assert len(layout.source_sha256) == 64 and layout.spec["synonyms"] == {
        "组织通讯地址": "address"
    }

    time_machine.move_to(at(date(2025, 4, 2)), tick=False)
    run = services.report_generate(
        kind=Kind.ORGANISATIONS_MONTHLY, actor=people.reporting, period_start=MARCH
    )
    assert run.layout == layout
    title, header, rows = rows_of(run.file.read())
    assert title == "证书信息"
    assert header == platform_headers()
    [row] = [dict(zip(header, r, strict=True)) for r in rows if certificate.number in r]
    assert row["组织名称"] == organization.name
    assert row["联系人"] == "王联系"
    assert row["组织通讯地址"] == certificate.registered_address
    assert "组织英文名称" not in row

    # The confirmed synonym is remembered: the same template loads without asking again.
    again = services.layout_load(
        kind=Kind.ORGANISATIONS_MONTHLY, content=content, actor=people.reporting
    )
    assert again.version == 3 and again.active
    layout.refresh_from_db()
    assert not layout.active


def test_an_added_unknown_column_is_reported_by_name(people):
    headers = [*reports.REGISTER_HEADERS, "平台内部编号"]
    with pytest.raises(services.UnknownColumns) as refused:
        services.layout_load(
            kind=Kind.ORGANISATIONS_MONTHLY, content=template(headers), actor=people.reporting
        )
    assert refused.value.headers == ["平台内部编号"]
    assert "平台内部编号" in str(refused.value)
    assert not loaded().exists()


def test_a_layout_missing_a_required_field_is_refused_with_its_name(people, english):
    headers = [h for h in reports.REGISTER_HEADERS if h not in ("证书编号", "风险系数")]
    with pytest.raises(RuleViolation) as refused:
        services.layout_load(
            kind=Kind.ORGANISATIONS_MONTHLY, content=template(headers), actor=people.reporting
        )
    assert "证书编号 (number)" in str(refused.value)
    assert "风险系数" not in str(refused.value)  # not required
    assert not loaded().exists()


def test_files_that_are_no_template_are_refused(people, english):
    with pytest.raises(RuleViolation, match="not an XLSX"):
        services.layout_load(
            kind=Kind.ORGANISATIONS_MONTHLY, content=b"not a workbook", actor=people.reporting
        )
    with pytest.raises(RuleViolation, match="no file layout"):
        services.layout_load(
            kind=Kind.AUDITORS_ANNUAL,
            content=template(reports.REGISTER_HEADERS),
            actor=people.reporting,
        )


def test_only_the_reporting_officer_loads_layouts(people):
    with pytest.raises(NotPermitted):
        services.layout_load(
            kind=Kind.ORGANISATIONS_MONTHLY,
            content=template(reports.REGISTER_HEADERS),
            actor=people.technical_manager,
        )


def test_the_default_layout_writes_todays_columns():
    layout = layouts.Layout(
        Kind.ORGANISATIONS_MONTHLY, 0, layouts.default_spec("organisations_monthly")
    )
    assert layout.fields() == reports.KEYS
    assert layout.headers() == reports.REGISTER_HEADERS


def _row(**cells):
    row = dict.fromkeys(reports.KEYS)
    row.update(
        org_name="甲公司",
        uscc="91110000000000000X",
        country="156",
        division="110105",
        activity="04",
        change_date=date(2025, 3, 20),
        number="00125S0001R0M",
        is_sub="否",
        multi_site="否",
        field="SC03",
        standard="GB/T 27922",
        issued_on=date(2025, 3, 20),
        expires_on=date(2028, 3, 19),
        status="01",
    )
    row.update(cells)
    return [row[key] for key in reports.KEYS]


def test_validation_lists_every_problem_by_row_and_column(english):
    layout = layouts.Layout(
        Kind.ORGANISATIONS_MONTHLY, 0, layouts.default_spec("organisations_monthly")
    )
    rows = [
        _row(),
        _row(uscc="", status="09"),
        _row(is_sub="是", audit_start=date(2025, 3, 12), audit_end=date(2025, 3, 10)),
        _row(change_type="97_01"),
    ]
    report = spreadsheets.Report("t", [spreadsheets.Sheet("t", reports.REGISTER_HEADERS, rows)])
    found = [(f["row"], f["column"], layouts.describe(f)) for f in layouts.validate(report, layout)]
    assert found == [
        (3, "统一社会信用代码", "Required cell is empty."),
        (3, "证书状态", "“09” is not in the code table certificate_status."),
        (4, "主证书编号", "Required cell is empty."),
        (4, "审核结束日期", "Earlier than “审核开始日期”."),
        (5, "暂停原因", "Required cell is empty."),
        (5, "暂停开始日期", "Required cell is empty."),
    ]


def test_a_renamed_personal_column_stays_masked(people):
    headers = list(reports.REGISTER_HEADERS)
    headers[headers.index("联系电话")] = "组织联系电话"
    layout_row = services.layout_load(
        kind=Kind.ORGANISATIONS_MONTHLY,
        content=template(headers),
        actor=people.reporting,
        mapping={"组织联系电话": "phone"},
    )
    layout = layouts.Layout(layout_row.kind, layout_row.version, layout_row.spec, layout_row.pk)
    masks = privacy.personal_columns(Kind.ORGANISATIONS_MONTHLY, layout)
    assert set(masks) == {"组织联系电话", "身份证件号码"}


# --- the pages ---------------------------------------------------------------------------------


def test_loading_through_the_confirm_page(client, people):
    client.force_login(people.reporting)
    upload = io.BytesIO(template(platform_headers()))
    upload.name = "模板.xlsx"
    response = client.post(
        reverse("reporting:layouts"), {"kind": Kind.ORGANISATIONS_MONTHLY, "template": upload}
    )
    assert response.status_code == 302 and response.url == reverse("reporting:layout_confirm")
    page = client.get(response.url)
    assert "组织通讯地址" in page.content.decode()

    refused = client.post(reverse("reporting:layout_confirm"), {"map-0": "__refuse__"})
    assert refused.status_code == 200 and "组织通讯地址" in refused.content.decode()
    assert not loaded().exists()

    done = client.post(reverse("reporting:layout_confirm"), {"map-0": "address"})
    assert done.status_code == 302
    layout = loaded().get()
    assert layout.source_name == "模板.xlsx" and layout.active
    assert "模板.xlsx" in client.get(reverse("reporting:layouts")).content.decode()


def test_other_staff_may_not_load_layouts(client, people):
    client.force_login(people.technical_manager)
    upload = io.BytesIO(template(reports.REGISTER_HEADERS))
    upload.name = "t.xlsx"
    response = client.post(
        reverse("reporting:layouts"), {"kind": Kind.ORGANISATIONS_MONTHLY, "template": upload}
    )
    assert response.status_code == 403
    assert client.get(reverse("reporting:layouts")).status_code == 200  # may look
    assert not loaded().exists()


def test_preview_pages_the_rows_and_highlights_the_problems(client, people, time_machine):
    staff = people.workflow
    certificate = issued_certificate(staff=staff)
    time_machine.move_to(at(date(2025, 4, 2)), tick=False)
    run = services.report_generate(
        kind=Kind.ORGANISATIONS_MONTHLY, actor=people.reporting, period_start=MARCH
    )
    # A problem found by validation at row 2, column 证书编号 (the stored findings).
    col = reports.KEYS.index("number")
    run.findings = [{"sheet": "t", "row": 2, "column": "证书编号", "col": col, "code": "required"}]
    run.save(update_fields=["findings"])
    client.force_login(people.reporting)
    page = client.get(reverse("reporting:preview", args=[run.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert certificate.number in html
    assert f'data-problem="2-{col}"' in html
    # Submitting is refused while the problem stands: the button is disabled with the reason.
    assert 'data-testid="preview-submit"' not in html
    assert 'data-testid="preview-submit-blocked"' in html
    assert reverse("reporting:download", args=[run.pk, "xlsx"]) in html
