"""Importing a certificate register: round trip, per-row problems, all or nothing."""

import io
from datetime import date

import pytest
import xlsxwriter
from django.db import transaction

from applications.models import Organization
from applications.validators import build_uscc
from certbody import spreadsheets
from certbody.lifecycle import system_user
from certificates import services as cert_services
from certificates.importer import ImportRefused, import_register
from certificates.models import Certificate, CertificateEvent, CertificateSequence
from reporting import reports
from tests.certificates.factories import issued_certificate
from tests.certificates.helpers import certificate_in, multi_site_certificate, recertify


class _Rollback(Exception):
    pass


def snapshot() -> dict:
    """Everything a certificate register carries, per certificate number."""
    result = {}
    for c in Certificate.objects.select_related("organization", "head", "superseded_by"):
        events = sorted(
            (e.kind, e.occurred_on, e.status_code, e.change_code, e.reason_code, e.ends_on)
            for e in c.events.all()
        )
        result[c.number] = {
            "uscc": c.organization.uscc,
            "organization_name": c.organization_name,
            "registered_address": c.registered_address,
            "head": c.head.number if c.head_id else None,
            "number_parts": (c.year, c.sequence, c.cycle, c.accreditation),
            "scope_text": c.scope_text,
            "scopes": sorted(c.business_scopes.values_list("code", flat=True)),
            "star_grade": c.star_grade,
            "standard": c.standard,
            "dates": (c.issued_on, c.expires_on, c.status_changed_on, c.reissued_on),
            "status": c.status,
            "suspension": (c.suspended_from, c.suspended_until),
            "superseded_by": c.superseded_by.number if c.superseded_by_id else None,
            "events": events,
        }
    return result


def build_register(staff):
    certificate_in(Certificate.Status.SUSPENDED, staff=staff)
    certificate_in(Certificate.Status.WITHDRAWN, staff=staff)
    certificate_in(Certificate.Status.CANCELLED, staff=staff)
    certificate_in(Certificate.Status.EXPIRED, staff=staff)
    restored = certificate_in(Certificate.Status.SUSPENDED, staff=staff)
    cert_services.certificate_restore(
        certificate=restored, actor=staff.decider, restored_on=date(2025, 7, 15), evidence="整改"
    )
    renamed = issued_certificate(staff=staff)
    cert_services.certificate_reissue(
        certificate=renamed,
        actor=staff.decider,
        reason="01",
        reissued_on=date(2025, 8, 1),
        changes={"organization_name": "更名后的商贸有限公司"},
    )
    recertify(issued_certificate(staff=staff), staff)
    head, _sub = multi_site_certificate(staff=staff)
    cert_services.certificate_suspend(
        certificate=head,
        actor=staff.decider,
        cause=6,
        verified_on=date(2025, 10, 9),
        starts_on=date(2025, 10, 10),
        ends_on=date(2026, 4, 10),
    )


def test_export_then_import_reproduces_the_certificates(people):
    staff = people.workflow
    with pytest.raises(_Rollback), transaction.atomic():
        build_register(staff)
        before = snapshot()
        content = spreadsheets.to_xlsx(reports.register())
        raise _Rollback
    assert not Certificate.objects.exists()
    assert len(before) == 10  # 9 head certificates (one replaced) and a sub-certificate

    dry = import_register(content, actor=people.reporting, dry_run=True)
    assert dry.ok and not dry.written
    assert not Certificate.objects.exists()

    result = import_register(content, actor=people.reporting, dry_run=False)
    assert result.written and result.certificates == 10
    assert snapshot() == before
    # Later issues continue after the imported numbers (004 Appendix C).
    highest = max(c.sequence for c in Certificate.objects.filter(year=2025))
    assert CertificateSequence.objects.get(year=2025).last == highest
    # The import is recorded as the importing user's.
    event = CertificateEvent.objects.first()
    assert event.actor == people.reporting and "导入证书登记册" in event.evidence
    certificate = Certificate.objects.first()
    assert certificate.history.first().history_change_reason == "导入证书登记册"


def test_importing_the_same_register_twice_is_refused(people):
    issued_certificate(staff=people.workflow)
    content = spreadsheets.to_xlsx(reports.register())
    result = import_register(content, actor=people.reporting, dry_run=True)
    assert [str(p) for p in result.problems] == [
        f"第 2 行：证书编号 {Certificate.objects.get().number} 已存在"
    ]


def _register_file(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for col, header in enumerate(reports.REGISTER_HEADERS):
        sheet.write_string(0, col, header)
    for r, row in enumerate(rows, start=1):
        for col, key in enumerate(reports.KEYS):
            value = row.get(key, "")
            if value not in ("", None):
                sheet.write_string(r, col, str(value))
    book.close()
    return buffer.getvalue()


def _row(n: int, **changes) -> dict:
    row = {
        "org_name": f"导入商贸有限公司{n}",
        "uscc": build_uscc("110105", 880_000 + n),
        "division": "110105",
        "address": "北京市朝阳区导入路 1 号",
        "legal_rep": "王五",
        "headcount": "50",
        "activity": "01",
        "change_date": "2024-05-06",
        "number": f"012324FW{n:04d}R0C",
        "is_sub": "否",
        "mark": "CNAS",
        "scope_codes": "24",
        "scope_text": "家用电器的销售及售后服务",
        "grade": "达标",
        "issued_on": "2024-05-06",
        "expires_on": "2027-05-05",
        "status": "01",
        "reissued": "否",
    }
    row.update(changes)
    return row


def test_dry_run_lists_every_rows_problems(people):
    good = _row(1)
    rows = [
        good,
        _row(2, uscc="91110105123456789X"),
        _row(3, scope_codes="24；98"),
        _row(4, expires_on="2024-01-01"),
        _row(5, number="0123-24-FW-5"),
        _row(
            6,
            activity="04",
            change_type="97_01",
            status="02",
            change_date="2024-06-01",
            suspended_from="2024-06-01",
            suspended_until="2024-12-01",
            suspension_reason="0999",
        ),
        _row(7, issued_on="2024/05/06"),
    ]
    result = import_register(_register_file(rows), actor=people.reporting, dry_run=True)
    problems = {(p.row, p.message) for p in result.problems}
    assert (3, "统一社会信用代码“91110105123456789X”无效") in problems
    assert (4, "未知的业务范围代码“98”") in problems
    assert (5, "证书到期日期须晚于颁证日期") in problems
    assert any(row == 6 and "证书编号" in message for row, message in problems)
    assert (7, "未知的暂停原因代码“0999”") in problems
    assert any(row == 8 and "YYYY-MM-DD" in message for row, message in problems)
    assert not any(row == 2 for row, _ in problems)


def test_an_import_with_problems_writes_nothing(people):
    rows = [_row(1), _row(2), _row(3, uscc="bad")]
    with pytest.raises(ImportRefused) as refused:
        import_register(_register_file(rows), actor=people.reporting, dry_run=False)
    assert len(refused.value.result.problems) == 1
    assert not Organization.objects.filter(name__startswith="导入商贸").exists()
    assert not Certificate.objects.exists()
    result = import_register(_register_file(rows[:2]), actor=people.reporting, dry_run=False)
    assert result.certificates == 2
    assert Organization.objects.filter(name__startswith="导入商贸").count() == 2


def test_status_history_that_the_lifecycle_does_not_allow_is_a_problem(people):
    rows = [
        _row(1),
        _row(
            1,
            activity="04",
            change_type="97_02",
            status="01",
            change_date="2024-07-01",
        ),  # restored without a suspension
    ]
    result = import_register(_register_file(rows), actor=people.reporting, dry_run=True)
    assert [p.row for p in result.problems] == [3]
    assert "状态变更顺序不合理" in result.problems[0].message


def test_missing_columns_and_unreadable_files(people):
    result = import_register(b"not a spreadsheet", actor=system_user(), dry_run=True)
    assert "无法读取" in str(result.problems[0])
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet().write_string(0, 0, "组织名称")
    book.close()
    result = import_register(buffer.getvalue(), actor=system_user(), dry_run=True)
    assert "缺少列" in str(result.problems[0])


def test_import_and_export_commands(people, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    issued_certificate(staff=people.workflow)
    path = tmp_path / "register.xlsx"
    call_command("export_register", str(path), stdout=StringIO())
    out = StringIO()
    call_command("import_register", str(path), stdout=out)
    assert "已存在" in out.getvalue() and "dry run" in out.getvalue()


def test_dry_run_reports_year_sequence_cycle_collisions_by_row(people):
    """Two head certificates with the same year, sequence and cycle (only the approval number
    or accreditation letter differs) cannot both exist (004 Appendix C.1): the dry run says
    which rows, and a commit is refused with nothing written instead of failing mid-way."""
    existing = issued_certificate(staff=people.workflow)
    taken = f"0999{existing.year % 100:02d}FW{existing.sequence:04d}R{existing.cycle}Z"
    rows = [
        _row(1),
        _row(2, number="012324FW0001R0Z", mark=""),  # same as row 2's 2024/0001/R0
        _row(
            3,
            number=taken,
            mark="",
            issued_on=existing.issued_on.isoformat(),
            change_date=existing.issued_on.isoformat(),
            expires_on=existing.expires_on.isoformat(),
        ),
    ]
    result = import_register(_register_file(rows), actor=people.reporting, dry_run=True)
    problems = {(p.row, p.message) for p in result.problems}
    assert (
        3,
        "证书编号 012324FW0001R0Z 与第 2 行的证书 012324FW0001R0C 年份、流水号和再认证次数相同",
    ) in problems
    assert (
        4,
        f"证书编号 {taken} 与已有证书 {existing.number} 年份、流水号和再认证次数相同",
    ) in problems
    assert not any(row == 2 for row, _ in problems)
    with pytest.raises(ImportRefused):
        import_register(_register_file(rows), actor=people.reporting, dry_run=False)
    assert Certificate.objects.count() == 1


FORMULA_MESSAGE = "以 =、+、-、@、制表符或回车开头，可能是公式，请改为纯文本"


def _letter(key: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(reports.KEYS.index(key) + 1)


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x.example","点击")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_like_text_is_refused_by_row_and_column(people, value):
    rows = [_row(1), _row(2, org_name=value)]
    result = import_register(_register_file(rows), actor=people.reporting, dry_run=True)
    assert [(p.row, p.message) for p in result.problems] == [
        (
            3,
            f"“组织名称”列（{_letter('org_name')} 列）{FORMULA_MESSAGE}",
        )
    ]
    with pytest.raises(ImportRefused):
        import_register(_register_file(rows), actor=people.reporting, dry_run=False)
    assert not Certificate.objects.exists()


def test_formula_cells_are_refused_and_signed_numbers_and_apostrophe_text_are_not(people):
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for col, header in enumerate(reports.REGISTER_HEADERS):
        sheet.write_string(0, col, header)
    for r, row in enumerate([_row(1), _row(2), _row(3)], start=1):
        for col, key in enumerate(reports.KEYS):
            if row.get(key):
                sheet.write_string(r, col, str(row[key]))
    phone = reports.KEYS.index("phone")
    address = reports.KEYS.index("address")
    sheet.write_formula(1, address, '="北京"&"朝阳"', None, "北京朝阳")  # a real formula
    sheet.write_string(2, phone, "+8610")  # a signed number as text
    sheet.write_string(3, phone, "'-")  # our own exports' neutralised text
    book.close()
    result = import_register(buffer.getvalue(), actor=people.reporting, dry_run=True)
    assert [(p.row, p.message) for p in result.problems] == [
        (
            2,
            f"“通讯地址”列（{_letter('address')} 列）{FORMULA_MESSAGE}",
        )
    ]
