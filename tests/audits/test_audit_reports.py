"""Audit reports (004 §5.11; 001 §6.5): generated and signed by the team leader, versioned,
termination reports (004 §5.11.6), delivery after the decision (004 §5.11.5) and the client's
download in the portal."""

import hashlib
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from audits import services as audit_reports
from audits import services as audit_services
from audits.models import Audit, AuditReport, Nonconformity, ScoreItem
from certbody.lifecycle import RuleViolation
from certificates import services as cert_services
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certificates.factories import completed_stage2, issued_certificate
from tests.certificates.helpers import pdf_text
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

SIGNED_ON = date(2025, 3, 13)  # stage 2 of completed_stage2 ends 2025-03-12


@shared_fixture
def stage2(staff):
    return completed_stage2(OrganizationFactory(name="南京苏宁电器有限公司"), staff, report=False)


@pytest.fixture
def rendered(monkeypatch):
    """The HTML of every report rendered (the PDF layout itself is stubbed)."""
    pages = []

    def capture(html):
        pages.append(html)
        return b"%PDF-1.7\n% stub " + hashlib.sha256(html.encode()).hexdigest().encode() + b"\n"

    monkeypatch.setattr("certbody.pdf.html_to_pdf", capture)
    return pages


def generate(audit, staff, signed_on=SIGNED_ON):
    return audit_reports.audit_report_generate(audit=audit, actor=staff.leader, signed_on=signed_on)


def decide(audit, staff):
    return cert_services.decision_make(
        audit=audit, actor=staff.decider, outcome="grant", decided_on=date(2025, 3, 20)
    )


def stored(report) -> bytes:
    with report.file.open("rb") as handle:
        return handle.read()


def nonconformity(audit, number, severity, state, **kwargs):
    return Nonconformity.objects.create(
        audit=audit,
        number=number,
        severity=severity,
        state=state,
        clause="GB/T 27922 5.2.3",
        description=kwargs.pop("description", "投诉处理记录未保存"),
        evidence="抽查 5 份投诉记录",
        raised_by=audit.team.get(role="leader").user,
        raised_on=audit.actual_end,
        due_on=kwargs.pop("due_on", date(2025, 9, 12)),
        **kwargs,
    )


# --- generate -----------------------------------------------------------------------------


def test_the_team_leader_generates_and_signs_the_report(staff, stage2, rendered):
    report = generate(stage2, staff)

    assert (report.kind, report.version) == (AuditReport.Kind.REPORT, 1)
    assert (report.signed_by, report.signed_on) == (staff.leader, SIGNED_ON)
    content = stored(report)
    assert hashlib.sha256(content).hexdigest() == report.sha256
    assert len(content) == report.size
    assert report.delivered_on is None
    html = rendered[-1]
    assert "服务认证审查报告" in html
    assert "南京苏宁电器有限公司" in html
    assert "审核基于对可获得信息的抽样过程" in html
    assert "审查组推荐认证注册，推荐星级：四星级" in html


def test_regenerating_makes_a_new_version_and_keeps_the_earlier_one(staff, stage2, rendered):
    first = generate(stage2, staff)
    first_content = stored(first)
    stage2.findings_summary = "补充：服务网点覆盖情况良好"
    Audit.objects.filter(pk=stage2.pk).update(findings_summary=stage2.findings_summary)

    second = generate(stage2, staff, signed_on=date(2025, 3, 14))

    assert second.version == 2
    assert "服务网点覆盖情况良好" in rendered[-1]
    first.refresh_from_db()
    assert stored(first) == first_content
    assert first.sha256 != second.sha256
    assert list(stage2.reports.values_list("version", flat=True)) == [2, 1]


@pytest.mark.parametrize("who", ["decider", "planner"])
def test_someone_other_than_the_team_leader_cannot_sign_the_report(staff, stage2, who):
    with pytest.raises(RuleViolation, match="无权.*本次审核的审核组长"):
        audit_reports.audit_report_generate(
            audit=stage2, actor=getattr(staff, who), signed_on=SIGNED_ON
        )
    assert not AuditReport.objects.exists()


def test_no_report_before_the_audit_is_completed(staff):
    certificate = issued_certificate(staff=staff)
    planned = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    audit_services.audit_team_add(
        audit=planned, actor=staff.planner, user=staff.leader, role="leader"
    )

    with pytest.raises(RuleViolation, match="审核完成或终止后才能编制报告"):
        generate(planned, staff, signed_on=date(2026, 1, 5))


def test_a_report_signed_before_the_audit_ended_is_refused(staff, stage2):
    with pytest.raises(RuleViolation, match="不能早于审核结束"):
        generate(stage2, staff, signed_on=date(2025, 3, 11))


def test_the_report_lists_the_verification_of_earlier_nonconformities(staff, stage2, rendered):
    review = stage2.programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    earlier = nonconformity(
        review, 1, "minor", Nonconformity.State.CLOSED, closed_on=date(2025, 3, 11)
    )
    Nonconformity.objects.filter(pk=earlier.pk).update(verified_at=stage2)
    nonconformity(stage2, 1, "minor", Nonconformity.State.OPEN, description="回访记录缺失")

    generate(stage2, staff)

    html = rendered[-1]
    verification = html.split("对以前不符合纠正措施有效性的验证（16）")[1].split("<h2>")[0]
    assert "文件审核（2025-02-01）</td><td>NC-01</td><td>轻微</td>" in verification
    assert "2025-03-11" in verification
    assert "回访记录缺失" in html
    # The open minor of this audit is an unresolved issue (004 §5.11.3 (17)); the verified
    # one of the document review is not.
    issues = html.split("未解决的问题（17）")[1].split("<h2>")[0]
    assert "二阶段审核 NC-01（轻微" in issues
    assert "文件审核" not in issues


# --- termination report (004 §5.11.6) -----------------------------------------------------


def test_a_terminated_audit_gets_a_termination_report_with_the_reason(staff, rendered):
    certificate = issued_certificate(staff=staff)
    audit = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    audit_services.audit_terminate(
        audit=audit, actor=staff.planner, reason="受审核方拒绝提供服务记录，不配合审核"
    )

    # No team leader was assigned: the audit department signs.
    report = audit_reports.audit_report_generate(
        audit=audit, actor=staff.planner, signed_on=date(2026, 1, 5)
    )

    assert report.kind == AuditReport.Kind.TERMINATION
    html = rendered[-1]
    assert "终止审核报告" in html
    assert "受审核方拒绝提供服务记录，不配合审核" in html
    assert "审核终止前尚未开始现场审核" in html
    # Delivered at once, without a decision (004 §5.11.6).
    audit_reports.audit_report_deliver(
        report=report, actor=staff.planner, delivered_on=date(2026, 1, 6), evidence="EMS 1234"
    )
    report.refresh_from_db()
    assert report.delivered_on == date(2026, 1, 6)


# --- delivery (004 §5.11.5) ----------------------------------------------------------------


def test_delivery_before_the_decision_is_refused_and_allowed_after(staff, stage2):
    report = generate(stage2, staff)

    with pytest.raises(RuleViolation, match="作出认证决定后.*004 §5.11.5"):
        audit_reports.audit_report_deliver(
            report=report, actor=staff.planner, delivered_on=date(2025, 3, 15), evidence="签收单"
        )
    decide(stage2, staff)
    audit_reports.audit_report_deliver(
        report=report,
        actor=staff.planner,
        delivered_on=date(2025, 3, 21),
        evidence="客户签收单（王五，2025-03-21）",
    )

    report.refresh_from_db()
    assert report.delivered_on == date(2025, 3, 21)
    assert report.delivered_by == staff.planner
    assert report.delivery_evidence == "客户签收单（王五，2025-03-21）"
    with pytest.raises(RuleViolation, match="已于 2025-03-21 提交"):
        audit_reports.audit_report_deliver(
            report=report, actor=staff.planner, delivered_on=date(2025, 3, 22), evidence="x"
        )


@pytest.mark.parametrize(
    "evidence, version, message",
    [("  ", 2, "签收或提交的证据"), ("签收单", 1, "更新版本")],
)
def test_delivery_needs_evidence_and_the_latest_version(staff, stage2, evidence, version, message):
    generate(stage2, staff)
    generate(stage2, staff)
    decide(stage2, staff)
    report = stage2.reports.get(version=version)

    with pytest.raises(RuleViolation, match=message):
        audit_reports.audit_report_deliver(
            report=report, actor=staff.planner, delivered_on=date(2025, 3, 21), evidence=evidence
        )


# --- portal -------------------------------------------------------------------------------


@pytest.fixture
def delivered(staff, stage2):
    report = generate(stage2, staff)
    decide(stage2, staff)
    audit_reports.audit_report_deliver(
        report=report, actor=staff.planner, delivered_on=date(2025, 3, 21), evidence="签收单"
    )
    report.refresh_from_db()
    return report


def portal_url(report):
    return f"/portal/audits/reports/{report.pk}/"


def test_client_sees_the_delivered_report_and_the_score_after_the_decision(client, delivered):
    organization = delivered.audit.programme.organization
    client.force_login(ClientUserFactory(organization=organization))

    body = client.get("/portal/").content.decode()

    assert f'href="{portal_url(delivered)}"' in body
    row = body.split(f'data-audit="{delivered.audit_id}"')[1].split("</tr>")[0]
    assert re.search(r'<td class="score"[^>]*>92.00</td>', row)
    assert re.search(r'<td class="grade"[^>]*>四星级</td>', row)
    response = client.get(portal_url(delivered))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == delivered.sha256


def test_another_organisations_report_is_not_found(client, delivered):
    client.force_login(ClientUserFactory(organization=OrganizationFactory()))

    assert client.get(portal_url(delivered)).status_code == 404
    assert portal_url(delivered) not in client.get("/portal/").content.decode()


def test_a_report_not_yet_delivered_is_not_shown_to_the_client(client, staff, stage2):
    report = generate(stage2, staff)
    client.force_login(ClientUserFactory(organization=stage2.programme.organization))

    assert client.get(portal_url(report)).status_code == 404
    body = client.get("/portal/").content.decode()
    assert portal_url(report) not in body
    assert f'data-audit="{stage2.pk}"' not in body  # no decision yet: no score shown either


def test_anonymous_users_are_sent_to_log_in(client, delivered):
    response = client.get(portal_url(delivered))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_staff_download_the_report_from_the_audit_page(client, staff, delivered):
    client.force_login(staff.planner)
    url = reverse("audits_client:report", args=[delivered.pk])
    page = client.get(reverse("workspace:object", args=["audits", delivered.audit_id]))
    assert url in page.content.decode()

    response = client.get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored(delivered)
    assert Decimal(delivered.audit.score_sheet.score) == Decimal("92.00")


# --- workspace actions (formerly admin actions) ---------------------------------------------


def audit_action(client, audit, action, data):
    return client.post(reverse("workspace:action", args=["audits", audit.pk, action]), data)


def test_the_team_leader_generates_the_report_from_the_audit_page(client, staff, stage2):
    client.force_login(staff.leader)

    response = audit_action(client, stage2, "generate-report", {"signed_on": "2025-03-13"})

    assert response.status_code == 302
    report = stage2.reports.get()
    assert (report.signed_by, report.version) == (staff.leader, 1)
    page = client.get(reverse("workspace:object", args=["audits", stage2.pk])).content.decode()
    assert reverse("audits_client:report", args=[report.pk]) in page


def test_delivery_from_the_audit_page_shows_the_rule_before_the_decision(client, staff, stage2):
    report = generate(stage2, staff)
    client.force_login(staff.planner)
    data = {"delivered_on": "2025-03-15", "evidence": "签收单"}

    response = audit_action(client, stage2, "deliver-report", data)

    assert response.status_code == 422
    assert "004 §5.11.5" in response.content.decode()
    report.refresh_from_db()
    assert report.delivered_on is None
    decide(stage2, staff)
    assert audit_action(client, stage2, "deliver-report", data).status_code == 302
    report.refresh_from_db()
    assert report.delivered_on == date(2025, 3, 15)


def test_a_signed_report_cannot_be_rewritten_only_delivered(staff, stage2):
    report = generate(stage2, staff)
    report.sha256 = "0" * 64
    with pytest.raises(ValueError, match="immutable"):
        report.save()
    with pytest.raises(ValueError, match="immutable"):
        report.save(update_fields=["sha256"])
    report.delivery_evidence = "EMS 1234"
    report.save(update_fields=["delivery_evidence"])
    report.refresh_from_db()
    assert report.delivery_evidence == "EMS 1234"
    assert report.sha256 != "0" * 64


@pytest.mark.pdf
def test_the_report_pdf_holds_the_key_items_of_004_5_11_3(staff, stage2):
    sheet = stage2.score_sheet
    indicators = list(sheet.catalogue.indicators.all())
    for indicator in indicators:
        ScoreItem.objects.create(sheet=sheet, indicator=indicator, points=indicator.max_points)
    nonconformity(
        stage2,
        1,
        "major",
        Nonconformity.State.CLOSED,
        description="未建立顾客投诉处理制度",
        closed_on=date(2025, 3, 18),
        due_on=date(2025, 9, 12),
    )
    nonconformity(stage2, 2, "minor", Nonconformity.State.PLAN_ACCEPTED, due_on=date(2025, 4, 12))

    report = generate(stage2, staff)

    text = pdf_text(stored(report))
    assert "中信认证有限公司" in text  # (1)
    assert "南京苏宁电器有限公司" in text  # (2)
    assert "二阶段审核" in text or "Stage2" in text  # (3)
    assert "GB/T27922" in text  # (5)
    assert "2025-03-10至2025-03-12" in text  # (7)/(11)
    assert "售后服务体系" in text and "商品服务" in text and "顾客服务" in text
    assert "92.00分" in text
    assert "四星级" in text
    assert "NC-01" in text and "未建立顾客投诉处理制度" in text and "2025-09-12" in text
    assert "NC-02" in text and "2025-04-12" in text
    assert "审核基于对可获得信息的抽样过程" in text  # (18)
    assert "审查组推荐认证注册，推荐星级：四星级" in text  # (19)
    assert "审查组组长：wf-leader" in text
