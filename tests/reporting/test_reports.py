"""Report builders: columns and codes for each row kind, empty periods, the annual totals check,
formula injection, and a constant number of queries at two sizes."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from applications.models import Organization
from applications.validators import build_uscc
from audits.models import Audit
from certbody import spreadsheets
from certificates import services as cert_services
from certificates.models import Certificate
from reporting import reports, services
from reporting.models import CbChange
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.audits.factories import surveillance_maintained
from tests.certificates.factories import completed_stage2, issued_certificate
from tests.certificates.helpers import (
    CHANGED_ON,
    SUSPENDED_FROM,
    SUSPENDED_UNTIL,
    certificate_in,
    multi_site_certificate,
    recertify,
)

MARCH = (date(2025, 3, 1), date(2025, 3, 31))
JUNE = (date(2025, 6, 1), date(2025, 6, 30))
JULY = (date(2025, 7, 1), date(2025, 7, 31))


def rows_of(report) -> list[dict]:
    [sheet] = report.sheets
    assert sheet.columns == reports.REGISTER_HEADERS
    return [dict(zip(reports.KEYS, row, strict=True)) for row in sheet.rows]


def one_row(report, **match) -> dict:
    found = [r for r in rows_of(report) if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def staff(people):
    return people.workflow


def test_headers_are_the_platforms_column_names():
    assert reports.REGISTER_HEADERS[:4] == [
        "组织名称",
        "组织英文名称",
        "组织原名称",
        "统一社会信用代码",
    ]
    assert {
        "认证审核活动类别",
        "变更类别",
        "审核人日数",
        "风险系数",
        "身份证件号码",
        "是否专职",
    } <= set(reports.REGISTER_HEADERS)
    assert {
        "认可标志",
        "主证书编号",
        "是否多现场",
        "认证领域",
        "暂停原因",
        "撤销日期",
        "换证原因",
    } <= set(reports.REGISTER_HEADERS)


def test_initial_certification_row(staff, people):
    from reporting.services import personnel_record_save

    personnel_record_save(
        auditor=staff.leader.auditor_profile,
        actor=people.planner,
        id_number="110105198001011234",
        gender="M",
    )
    certificate = issued_certificate(staff=staff)
    organization = certificate.organization
    row = one_row(reports.organisations_monthly(*MARCH), number=certificate.number)
    assert row["org_name"] == organization.name
    assert row["uscc"] == organization.uscc
    assert (row["country"], row["division"]) == ("156", "110105")
    assert row["headcount"] == organization.headcount
    # 01 初次认证, 1003 二阶段 (cnca_codes.json)
    assert (row["activity"], row["audit_type"], row["change_type"]) == ("01", "1003", "")
    assert row["change_date"] == date(2025, 3, 20)
    assert row["audit_days"] == Decimal("3.0")  # Appendix A: 46–65 people
    assert (row["audit_start"], row["audit_end"]) == (date(2025, 3, 10), date(2025, 3, 12))
    assert row["risk"] == "低"
    assert row["team_names"] == str(staff.leader)
    assert row["team_ids"] == "110105198001011234"
    assert (row["team_qualifications"], row["team_roles"], row["team_full_time"]) == (
        "审查员",
        "组长",
        "是",
    )
    assert (row["mark"], row["is_sub"], row["head_number"], row["multi_site"]) == (
        "CNAS",
        "否",
        "",
        "否",
    )
    assert (row["field"], row["scope_codes"], row["grade"]) == ("SC03", "24", "四星")
    assert (row["issued_on"], row["expires_on"], row["status"]) == (
        date(2025, 3, 20),
        date(2028, 3, 19),
        "01",
    )
    assert row["reissued"] == "否" and row["suspension_reason"] is None


def test_missing_id_numbers_are_listed_as_problems(staff):
    issued_certificate(staff=staff)
    report = reports.organisations_monthly(*MARCH)
    assert report.problems == [f"审核人员“{staff.leader}”未登记身份证件号码"]


def test_status_change_rows(staff):
    suspended = certificate_in(Certificate.Status.SUSPENDED, staff=staff)
    withdrawn = certificate_in(Certificate.Status.WITHDRAWN, staff=staff)
    cancelled = certificate_in(Certificate.Status.CANCELLED, staff=staff)
    row = one_row(reports.organisations_monthly(*JUNE), number=suspended.number)
    assert (row["activity"], row["change_type"], row["status"]) == ("04", "97_01", "02")
    # cause 11 "主动请求暂停的" → CNCA 0116
    assert (row["suspension_reason"], row["suspended_from"], row["suspended_until"]) == (
        "0116",
        SUSPENDED_FROM,
        SUSPENDED_UNTIL,
    )
    assert row["audit_type"] is None and row["team_names"] is None
    july = reports.organisations_monthly(*JULY)
    row = one_row(july, number=withdrawn.number)
    assert (row["change_type"], row["status"], row["withdrawal_reason"], row["withdrawn_on"]) == (
        "97_03",
        "03",
        "0116",
        CHANGED_ON,
    )
    row = one_row(july, number=cancelled.number)
    assert (row["change_type"], row["status"], row["cancellation_reason"], row["cancelled_on"]) == (
        "99",
        "04",
        "0204",
        CHANGED_ON,
    )


def test_restoration_expiry_reissue_and_surveillance_rows(staff):
    restored = certificate_in(Certificate.Status.SUSPENDED, staff=staff)
    cert_services.certificate_restore(
        certificate=restored,
        actor=staff.decider,
        restored_on=date(2025, 7, 15),
        evidence="整改有效",
    )
    row = one_row(reports.organisations_monthly(*JULY), number=restored.number)
    assert (row["change_type"], row["status"], row["change_date"]) == (
        "97_02",
        "01",
        date(2025, 7, 15),
    )

    expired = certificate_in(Certificate.Status.EXPIRED, staff=staff)
    row = one_row(
        reports.organisations_monthly(date(2028, 3, 1), date(2028, 3, 31)), number=expired.number
    )
    assert (row["change_type"], row["status"], row["cancellation_reason"]) == (
        "97_05",
        "05",
        "0201",
    )

    certificate = issued_certificate(staff=staff)
    cert_services.certificate_reissue(
        certificate=certificate,
        actor=staff.decider,
        reason="01",
        reissued_on=date(2025, 7, 20),
        changes={"organization_name": "新名称商贸有限公司"},
    )
    row = one_row(reports.organisations_monthly(*JULY), number=certificate.number)
    assert (row["activity"], row["change_type"], row["reissued"]) == ("04", "01", "是")
    assert (row["reissue_reason"], row["reissued_on"]) == ("0104", date(2025, 7, 20))
    assert row["org_name"] == "新名称商贸有限公司"

    surveillance_maintained(
        certificate,
        staff,
        start=date(2025, 10, 8),
        end=date(2025, 10, 9),
        decided_on=date(2025, 10, 15),
    )
    row = one_row(
        reports.organisations_monthly(date(2025, 10, 1), date(2025, 10, 31)),
        number=certificate.number,
    )
    # 03 监督, 1004-1 监一
    assert (row["activity"], row["audit_type"], row["change_date"]) == (
        "03",
        "1004-1",
        date(2025, 10, 15),
    )
    assert row["team_roles"] == "组长" and row["status"] == "01"


def test_recertification_rows(staff):
    old = issued_certificate(staff=staff)
    new = recertify(old, staff)
    september = reports.organisations_monthly(date(2025, 9, 1), date(2025, 9, 30))
    row = one_row(september, number=new.number)
    assert (row["activity"], row["audit_type"], row["status"]) == ("02", "1007", "01")
    assert "R1" in row["number"]
    row = one_row(september, number=old.number)
    # the replaced certificate: withdrawn with 0120 因换发新证而撤销旧证书
    assert (row["change_type"], row["status"], row["withdrawal_reason"]) == ("97_03", "03", "0120")


def test_sub_certificates_carry_their_head_number(staff):
    head, sub = multi_site_certificate(staff=staff)
    report = reports.organisations_monthly(*MARCH)
    head_row = one_row(report, number=head.number)
    sub_row = one_row(report, number=sub.number)
    assert (head_row["is_sub"], head_row["multi_site"]) == ("否", "是")
    assert (sub_row["is_sub"], sub_row["head_number"], sub_row["multi_site"]) == (
        "是",
        head.number,
        "是",
    )


def test_status_change_report_has_the_head_and_its_sub_certificates(staff):
    head, sub = multi_site_certificate(staff=staff)
    cert_services.certificate_suspend(
        certificate=head,
        actor=staff.decider,
        cause=11,
        verified_on=SUSPENDED_FROM,
        starts_on=SUSPENDED_FROM,
        ends_on=SUSPENDED_UNTIL,
    )
    event = head.events.get(kind="suspended")
    report = reports.status_change(event)
    assert [r["number"] for r in rows_of(report)] == [head.number, sub.number]
    assert {r["change_type"] for r in rows_of(report)} == {"97_01"}
    with pytest.raises(ValueError):
        reports.status_change(head.events.get(kind="issued"))


def test_an_empty_month_still_gives_a_report_with_its_headers(cb):
    report = reports.organisations_monthly(date(2024, 1, 1), date(2024, 1, 31))
    assert report.row_count == 0
    sheet = load_workbook(io.BytesIO(spreadsheets.to_xlsx(report))).active
    assert [c.value for c in sheet[1]] == reports.REGISTER_HEADERS
    assert sheet.max_row == 1
    text = spreadsheets.to_csv(report).decode("utf-8-sig")
    assert text.strip() == ",".join(reports.REGISTER_HEADERS)
    assert reports.failures_monthly(date(2024, 1, 1), date(2024, 1, 31)).row_count == 0
    assert reports.cb_changes_monthly(date(2024, 1, 1), date(2024, 1, 31)).sheets[0].columns == (
        reports.CB_CHANGE_COLUMNS
    )


def test_formula_injection_in_client_data_is_neutralised(staff):
    organization = OrganizationFactory(name='=HYPERLINK("http://evil.example","点我")')
    certificate = issued_certificate(organization, staff)
    report = reports.organisations_monthly(*MARCH)
    book = load_workbook(io.BytesIO(spreadsheets.to_xlsx(report)))
    names = [row[0].value for row in book.active.iter_rows(min_row=2)]
    assert names == ["'" + certificate.organization_name]
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)
    lines = list(csv.reader(io.StringIO(spreadsheets.to_csv(report).decode("utf-8-sig"))))
    assert lines[1][0] == "'" + certificate.organization_name


def test_failed_initial_audits(staff):
    stage2 = completed_stage2(staff=staff)
    cert_services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="refuse",
        decided_on=date(2025, 4, 2),
        reasons="严重不符合项未在规定期限内完成纠正。",
    )
    report = reports.failures_monthly(date(2025, 4, 1), date(2025, 4, 30))
    [row] = report.sheets[0].rows
    cells = dict(zip(reports.FAILURE_COLUMNS, row, strict=True))
    organization = stage2.programme.organization
    assert cells["统一社会信用代码"] == organization.uscc
    assert (cells["认证审核活动类别"], cells["审核类型"], cells["业务范围代码"]) == (
        "01",
        "1003",
        "24",
    )
    assert cells["认证决定日期"] == date(2025, 4, 2)
    assert cells["未通过原因"] == "严重不符合项未在规定期限内完成纠正。"
    assert reports.failures_monthly(*MARCH).row_count == 0


def test_cb_changes_with_appeals_and_complaints(people):
    services.cb_change_record(
        actor=people.reporting,
        category=CbChange.Category.MANAGEMENT,
        occurred_on=date(2025, 5, 6),
        description="技术负责人由郑涛变更为周静",
        evidence="任命文件 HX-2025-12",
    )
    cert_services.appeal_receive(
        actor=people.technical_manager,
        kind="complaint",
        received_on=date(2025, 5, 8),
        subject="审核员迟到",
        description="审核员未按计划时间到场。",
        name="张三",
        contact="13800000000",
    )
    [change, complaint] = (
        reports.cb_changes_monthly(date(2025, 5, 1), date(2025, 5, 31)).sheets[0].rows
    )
    assert change[:4] == [1, 2, "认证机构管理层和技术管理部门负责人的变更", date(2025, 5, 6)]
    assert complaint[1] == 10 and "审核员迟到" in complaint[4]


def test_cb_change_needs_evidence_except_items_7_to_9(people):
    from certbody.lifecycle import RuleViolation

    with pytest.raises(RuleViolation, match="证实性材料"):
        services.cb_change_record(
            actor=people.reporting,
            category=CbChange.Category.SITES,
            occurred_on=date(2025, 5, 6),
            description="新设上海分场所",
        )
    services.cb_change_record(
        actor=people.reporting,
        category=CbChange.Category.ACCIDENT,
        occurred_on=date(2025, 5, 6),
        description="获证组织发生重大事故",
    )


# --- annual ----------------------------------------------------------------------------------


def test_annual_statistics(staff):
    valid = issued_certificate(staff=staff)
    other_province = OrganizationFactory(division_code="310115", uscc=build_uscc("310115", 999_001))
    issued_certificate(other_province, staff)
    certificate_in(Certificate.Status.SUSPENDED, staff=staff)  # period ended, not yet withdrawn
    certificate_in(Certificate.Status.WITHDRAWN, staff=staff)
    multi_site_certificate(staff=staff)
    report = reports.statistics_annual(2025)
    by_status, by_scope, by_region, by_standard = report.sheets
    status = {(r[0], r[1]): r[3] for r in by_status.rows}
    # sub-certificates are not counted (002 §4.3.5.2 1)
    assert status[("01", "有效")] == 3
    assert status[("02", "暂停")] == 1
    assert status[("03", "撤销")] == 1
    assert by_scope.rows == [["24", by_scope.rows[0][1], 3]]
    assert by_region.rows == [["11", "北京市", 2], ["31", "上海市", 1]]
    assert by_region.total_row == ["合计", "", 3]  # = the valid total (002 §4.3.5.2 4)
    assert by_standard.total_row[1] == 3
    assert valid.organization.province == "北京市"


def test_annual_statistics_refuse_province_totals_that_do_not_add_up(staff):
    certificate = issued_certificate(staff=staff)
    Organization.objects.filter(pk=certificate.organization_id).update(division_code="990101")
    with pytest.raises(reports.ReportCheckError, match="不一致"):
        reports.statistics_annual(2025)
    from certbody.lifecycle import RuleViolation
    from reporting.models import ReportRun

    with pytest.raises(RuleViolation, match="002 §4.3.5.2"):
        services.report_generate(
            kind=ReportRun.Kind.STATISTICS_ANNUAL,
            actor=staff_reporting(),
            period_start=date(2025, 1, 1),
        )


def staff_reporting():
    from certbody.lifecycle import system_user

    return system_user()


def test_annual_statistics_status_on_31_december(staff):
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=staff)
    # suspended 2025-06-02 … 2025-09-01: still suspended on 31 December 2025 (not yet withdrawn)
    assert {(r[0], r[1]): r[3] for r in reports.statistics_annual(2025).sheets[0].rows}[
        ("02", "暂停")
    ] == 1
    # before its issue it is not counted at all
    assert reports.statistics_annual(2024).sheets[0].rows[0][3] == 0
    assert certificate.status == "suspended"


def test_annual_auditors(staff, people):
    from reporting.services import personnel_record_save

    auditor = staff.leader.auditor_profile
    personnel_record_save(
        auditor=auditor,
        actor=people.planner,
        id_number="110105198001011234",
        gender="F",
        birth_date=date(1980, 1, 1),
        education="本科",
        employed_on=date(2015, 3, 1),
    )
    issued_certificate(staff=staff)  # document review 0.5 d + stage 2 3 d, leader alone
    report = reports.auditors_annual(2025)
    [row] = [r for r in report.sheets[0].rows if r[1] == str(staff.leader)]
    cells = dict(zip(reports.AUDITOR_COLUMNS, row, strict=True))
    assert (cells["性别"], cells["出生年月"], cells["身份证件号码"]) == (
        "女",
        "1980-01",
        "110105198001011234",
    )
    assert (cells["人员类别"], cells["是否专职"], cells["在职状况"]) == ("审查员", "是", "在职")
    assert cells["注册号"] == auditor.registration_number
    assert (cells["认证领域代码"], cells["专业能力代码（业务范围）"]) == ("SC03", "24")
    assert cells["本年度总审核人日数"] == Decimal("3.5")
    assert reports.auditors_annual(2024).sheets[0].rows[0][17] == Decimal("0")


# --- constant queries --------------------------------------------------------------------------


def build_month(staff, count: int) -> None:
    """``count`` certificates issued in March 2025 (one multi-site), suspended in June,
    surveillance maintained in October, and a refusal."""
    for n in range(count):
        organization = OrganizationFactory()
        if n == 0:
            SiteFactory(organization=organization, is_head_office=True, name="总部")
            SiteFactory(organization=organization, name="门店")
        certificate = issued_certificate(organization, staff)
        surveillance_maintained(
            certificate,
            staff,
            start=date(2025, 10, 8),
            end=date(2025, 10, 9),
            decided_on=date(2025, 10, 15),
        )
        cert_services.certificate_suspend(
            certificate=certificate,
            actor=staff.decider,
            cause=11,
            verified_on=date(2025, 11, 3),
            starts_on=date(2025, 11, 3),
            ends_on=date(2026, 2, 3),
        )


BUILDERS = [
    ("march", lambda: reports.organisations_monthly(*MARCH)),
    ("october", lambda: reports.organisations_monthly(date(2025, 10, 1), date(2025, 10, 31))),
    ("november", lambda: reports.organisations_monthly(date(2025, 11, 1), date(2025, 11, 30))),
    ("register", reports.register),
    ("failures", lambda: reports.failures_monthly(*MARCH)),
    ("cb_changes", lambda: reports.cb_changes_monthly(*MARCH)),
    ("statistics", lambda: reports.statistics_annual(2025)),
    ("auditors", lambda: reports.auditors_annual(2025)),
]
# Measured at both sizes (the test fails when a builder starts querying per row).
MAX_QUERIES = {
    "march": 4,  # events, their scopes, their audits' teams, maintain decisions
    "october": 5,  # + the maintained certificates (and their scopes, teams)
    "november": 4,
    "register": 3,
    "failures": 3,  # CB profile, refusals, their application scopes
    "cb_changes": 3,
    "statistics": 5,
    "auditors": 4,
}


@pytest.mark.parametrize("count", [1, 4])
def test_builders_use_a_constant_number_of_queries(staff, count, django_assert_max_num_queries):
    from django.core.cache import cache

    from certbody.models import CertificationBody

    build_month(staff, count)
    assert Audit.objects.filter(kind="surveillance", state="closed").count() == count
    for name, builder in BUILDERS:
        cache.delete(CertificationBody.CACHE_KEY)
        with django_assert_max_num_queries(MAX_QUERIES[name]):
            report = builder()
        if name == "march":
            assert report.row_count == count + 1  # the multi-site client's sub-certificate
        if name == "october":
            assert report.row_count == count + 1
