"""Issue 7's main journeys in a real browser, through the staff workspace and the client portal
(never the Django admin), on the demo data set (its PDFs stubbed).

- An application: the market officer invites a client user, reviews a submitted application
  (start, record the review, accept) and drafts the contract; the new client user registers
  with the e-mailed link and signs the contract off in the portal; the audit department creates
  the programme and plans stage 2 (audit time, dates, team, plan, sent); the client confirms the
  plan in the portal.
- A certificate: on the demo's stage 2 in progress, the team leader fills the score sheet and
  sees the grade, raises a major nonconformity from the audit page, completes the audit and
  signs the sheet off; the client answers both open nonconformities in the portal; the team
  leader accepts the answers on the nonconformity pages; a decision maker grants on the
  decisions desk; the client downloads the certificate and the approval notice; the public
  opens the page the certificate's QR code encodes and sees it valid at the sheet's grade.

Every page's console is watched: a Content Security Policy violation fails the test.
"""

import math
import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from applications.models import Application, ApplicationReview, Contract
from audits.models import Audit, AuditPlan, AuditTimeDetermination, Nonconformity, ScoreSheet
from certbody.models import User
from certificates.models import Certificate, Decision
from tests.conftest import STUB_PDF
from tests.e2e.helpers import (
    BrowserConsole,
    assess_remaining,
    download_bytes,
    expect_summary,
    fill_form,
    locale_page,
    meeting_fields,
    open_as,
    score_row,
    workspace_action,
)

# One worker builds the demo and restores it for each of these (tests/demo_snapshot.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo")]

INVITED_EMAIL = "zhang.wei@client-e2e.example.cn"
CLIENT_USERNAME = "zhangwei"
CLIENT_PASSWORD = "Shouhou-Fuwu-2026!"
EVIDENCE = {
    "name": "投诉处理记录.pdf",
    "mimeType": "application/pdf",
    "buffer": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
}


@pytest.fixture
def demo(cb):
    """The demo data set, its PDFs stubbed; returns ``demo_password``."""
    from tests.demo_snapshot import load_demo

    return load_demo()


@pytest.fixture
def console():
    return BrowserConsole()


def _next_monday(day):
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def test_application_reviewed_contracted_and_audit_planned(
    browser, live_server, demo, console, mailoutbox, screenshot
):
    today = timezone.localdate()
    # The smallest submitted application: the shortest audit time to schedule.
    application = (
        Application.objects.filter(state=Application.State.SUBMITTED)
        .order_by("headcount", "pk")
        .first()
    )
    assert application is not None, "the demo has submitted applications"
    organization = application.organization
    staff = f"{live_server.url}/staff"

    # Market: invite a client user from the organisation's page.
    market = open_as(browser, live_server, console, "market", demo("market"))
    market.goto(f"{staff}/organizations/{organization.pk}/")
    workspace_action(market, "invite", {"email": INVITED_EMAIL})
    (invitation,) = [m for m in mailoutbox if m.to == [INVITED_EMAIL]]
    register_path = re.search(r"/portal/applications/register/[\w-]+/", invitation.body)[0]

    # Market: review the application, accept it, draft the contract.
    market.goto(f"{staff}/applications/")
    market.fill('#list-filters [name="q"]', application.reference)
    market.click('#list-filters button[type="submit"]')
    market.click(f'table a[href="/staff/applications/{application.pk}/"]')
    workspace_action(market, "start-review")
    workspace_action(
        market,
        "record-review",
        dict.fromkeys(ApplicationReview.CHECKS, True)
        | {"notes": "营业执照在有效期内，申请范围与实际经营一致。"},
    )
    workspace_action(market, "accept")
    workspace_action(
        market,
        "create-contract",
        {
            "audit_fee": "18000",
            "terms": "认证费用含文件审核、二阶段审核及证书费；监督审核另行收费。",
        },
    )
    application.refresh_from_db()
    assert application.state == Application.State.ACCEPTED
    contract = Contract.objects.get(application=application)
    assert contract.state == Contract.State.DRAFT
    screenshot("journey-market-application", market)

    # The invited client registers with the e-mailed link and signs the contract off.
    context = console.watch(browser.new_context(locale="zh-CN", accept_downloads=True))
    client = context.new_page()
    client.goto(live_server.url + register_path)
    fill_form(
        client.locator("#register-form"),
        {
            "username": CLIENT_USERNAME,
            "display_name": "张伟",
            "password1": CLIENT_PASSWORD,
            "password2": CLIENT_PASSWORD,
        },
    )
    client.click("#register-submit")
    expect(client).to_have_url(re.compile(r"/portal/applications/$"))
    client.click(f'a[href="/portal/applications/{application.pk}/"]')
    expect(client.locator("#contract")).to_contain_text(contract.number)
    client.click("#sign-contract")
    client.locator('#sign-form [name="agree"]').check()
    client.click("#sign-submit")
    expect(client.locator(".messages .success")).to_have_count(1)
    expect(client.locator("#sign-contract")).to_have_count(0)
    contract.refresh_from_db()
    assert contract.state == Contract.State.SIGNED
    assert contract.signed_by_client == "张伟" and contract.signed_on == today

    # Audit department: the programme, then stage 2's time, dates, team and plan.
    # (in the market officer's browser, signed in after it)
    planner = open_as(browser, live_server, console, "planner", demo("planner"), page=market)
    planner.goto(f"{staff}/programmes/")
    planner.click('[data-testid="create"]')
    fill_form(planner.locator("#create-form"), {"application": application.pk})
    planner.click('#create-form [data-testid="confirm"]')
    expect(planner).to_have_url(re.compile(r"/staff/programmes/\d+/$"))
    stage2 = Audit.objects.get(programme__application=application, kind=Audit.Kind.STAGE2)
    planner.click(f'#programme-audits tr[data-audit="{stage2.pk}"] a')
    workspace_action(planner, "determine-time")  # the Appendix A proposal as offered
    determination = AuditTimeDetermination.objects.get(audit=stage2)
    expect(planner.locator('[data-testid="total-days"]')).to_have_text(
        str(determination.total_days)
    )
    # Two qualified auditors deliver the on-site time at one auditor-day each a day.
    start = _next_monday(today + timedelta(days=14))
    end = start + timedelta(days=max(math.ceil(determination.onsite_days / 2), 1) - 1)
    workspace_action(
        planner, "schedule", {"planned_start": start.isoformat(), "planned_end": end.isoformat()}
    )
    leader, member = User.objects.get(username="auditor1"), User.objects.get(username="auditor2")
    workspace_action(
        planner, "add-member", {"user": leader.pk, "role": "leader", "tasks": "首次会议、服务体系"}
    )
    workspace_action(
        planner, "add-member", {"user": member.pk, "role": "auditor", "tasks": "服务网点、投诉"}
    )
    expect(planner.locator("#team-check.banner.ok")).to_have_count(1)
    workspace_action(planner, "prepare-plan", {"schedule": f"{start:%m-%d} 09:00 首次会议"})
    workspace_action(planner, "send-plan")
    expect(planner.locator("#audit-plan [data-plan-state]")).to_have_attribute(
        "data-plan-state", "sent"
    )
    screenshot("journey-planner-audit", planner)
    planner.context.close()

    # The client confirms the plan in the portal.
    plan = AuditPlan.objects.get(audit=stage2)
    client.goto(f"{live_server.url}/portal/audits/plans/")
    row = client.locator(f'#audit-plans tr[data-plan="{plan.pk}"]')
    expect(row).to_have_attribute("data-state", "sent")
    row.locator("a").click()
    expect(client.locator("#plan-team")).to_contain_text(str(leader))
    client.click("#plan-confirm")
    expect(client.locator(".messages .success")).to_have_count(1)
    expect(client.locator("#plan")).to_have_attribute("data-state", "confirmed")
    screenshot("journey-client-plan-confirmed", client)
    context.close()
    plan.refresh_from_db()
    assert plan.state == AuditPlan.State.CONFIRMED
    assert plan.confirmed_on == today and plan.confirmed_by == "张伟"
    console.assert_no_csp_violations()


def test_scored_stage2_to_a_certificate_verified_by_qr(
    browser, live_server, demo, console, monkeypatch, screenshot
):
    # Keep the HTML of every PDF rendered from now on: the certificate's carries its QR code.
    rendered: list[str] = []

    def html_to_pdf(html):
        rendered.append(html)
        return STUB_PDF

    monkeypatch.setattr("certbody.pdf.html_to_pdf", html_to_pdf)
    stage2 = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.IN_PROGRESS)
    leader = stage2.team.get(role="leader").user
    organization = stage2.programme.organization
    client = User.objects.get(organization=organization, is_staff=False)
    decider = (
        User.objects.filter(groups__name="decision_maker", is_active=True)
        .exclude(pk__in=stage2.team.values("user"))
        .order_by("username")
        .first()
    )
    seeded_nc = stage2.nonconformities.get(state=Nonconformity.State.OPEN)
    raised_on = stage2.actual_start + timedelta(days=1)
    ended_on = stage2.actual_start + timedelta(days=3)
    staff = f"{live_server.url}/staff"

    # The team leader finds the audit on the home page and opens its score sheet.
    page = open_as(browser, live_server, console, leader.username, demo(leader.username))
    page.click(f'[data-testid="home-audits-i-lead"] a[href="/staff/audits/{stage2.pk}/"]')
    page.click('[data-testid="score-sheet-link"]')
    page.click('[data-testid="open-score-sheet"]')
    expect_summary(page, grade="incomplete")  # nothing assessed yet (004 §5.6.5.2)
    assess_remaining(page)
    expect_summary(page, grade="five_star", score="100.00")
    # Service culture not met: its 5 points lost, still five stars at 95.
    score_row(page, "1.7", evidence="未开展服务文化建设活动。", met=False)
    expect_summary(page, grade="five_star", score="95.00")
    # Complaints: 2 of 10 not handled in time; 13 × 8/10 = 10.40 points, below 95.
    score_row(page, "3.2", evidence="2 份投诉超时。", nonconforming=2)  # of 10
    expect_summary(page, grade="four_star", score="92.40")
    screenshot("journey-score-sheet", page)

    # It raises a major nonconformity from the audit's page, completes the audit and signs the
    # score sheet off.
    page.goto(f"{staff}/audits/{stage2.pk}/")
    workspace_action(
        page,
        "raise-nc",
        {
            "severity": "major",
            "clause": "GB/T 27922 5.4.2",
            "description": "顾客投诉处理程序未得到实施，多起投诉超期未处理。",
            "evidence": "抽查投诉处理记录 10 份，2 份超过承诺的 48 小时处理时限。",
            "raised_on": raised_on.isoformat(),
        },
    )
    expect(page).to_have_url(re.compile(r"/staff/nonconformities/\d+/$"))
    raised = stage2.nonconformities.get(severity=Nonconformity.Severity.MAJOR)
    assert raised.state == Nonconformity.State.OPEN and raised.raised_by == leader
    page.goto(f"{staff}/audits/{stage2.pk}/")
    # The opening meeting was recorded on the first day; the closing one now (004 §5.5.2).
    workspace_action(page, "record-meeting", meeting_fields("closing", ended_on))
    workspace_action(
        page,
        "complete",
        {
            "ended_on": ended_on.isoformat(),
            "findings": "开具严重不符合项 1 项、轻微不符合项 1 项，其余售后服务体系运行有效。",
            "recommendation_positive": "1",
        },
    )
    page.click('[data-testid="score-sheet-link"]')
    page.click('[data-testid="submit-score-sheet"]')
    page.fill("#id_submitted_on", ended_on.isoformat())
    page.click('[data-testid="confirm-submit"]')
    expect(page.locator("[data-sheet-state]")).to_have_attribute("data-sheet-state", "submitted")
    sheet = ScoreSheet.objects.get(audit=stage2)
    assert sheet.state == ScoreSheet.State.SUBMITTED and sheet.grade == "four_star"

    def client_portal(page):
        """The client signed in on the portal, in ``page``'s browser after whoever was there."""
        return open_as(
            browser,
            live_server,
            console,
            client.username,
            demo(client.username),
            r"/portal/$",
            page=page,
        )

    # The client answers both nonconformities in the portal (each user after the last in the
    # same browser).
    portal = client_portal(page)
    portal.goto(f"{live_server.url}/portal/nonconformities/")
    expect(portal.locator('#nonconformities tr[data-state="open"]')).to_have_count(2)
    for nc, is_plan in ((seeded_nc, True), (raised, False)):
        portal.click(f'#nonconformities tr[data-nc="{nc.pk}"] a')
        answer = {
            "cause_analysis": "服务管理制度未明确投诉处理时限的考核要求。",
            "correction": "已逐一回访超期投诉的顾客并处理完毕。",
            "corrective_action": "修订《投诉处理程序》，增加超时预警和升级处理，每月抽查。",
        }
        if is_plan:
            answer["is_plan"] = True
        else:
            answer["attachments"] = EVIDENCE
        fill_form(portal.locator("#answer-form"), answer)
        portal.click("#answer-submit")
        expect(portal.locator(".messages .success")).to_have_count(1)
        portal.goto(f"{live_server.url}/portal/nonconformities/")
    expect(portal.locator('#nonconformities tr[data-state="answered"]')).to_have_count(2)

    # The team leader verifies both answers from the nonconformities on its home page.
    page = open_as(
        browser, live_server, console, leader.username, demo(leader.username), page=portal
    )
    to_verify = page.locator('[data-testid="home-nonconformities-to-verify"]')
    for nc in (seeded_nc, raised):
        to_verify.locator(f'a[href="/staff/nonconformities/{nc.pk}/"]').click()
        expect(page.locator(".card.response")).to_have_count(1)
        workspace_action(page, "accept", {"note": "答复及证据已审核，纠正措施有效。"})
        page.goto(f"{live_server.url}/home/")
    expect(to_verify).to_have_attribute("data-count", "0")
    # It signs the audit report the decision rests on (004 §5.12.1).
    page.goto(f"{live_server.url}/staff/audits/{stage2.pk}/")
    workspace_action(page, "generate-report")
    raised.refresh_from_db()
    seeded_nc.refresh_from_db()
    assert raised.state == Nonconformity.State.CLOSED
    assert seeded_nc.state == Nonconformity.State.PLAN_ACCEPTED

    # A decision maker, not on the team, grants from the decisions to make on its home page.
    page = open_as(
        browser, live_server, console, decider.username, demo(decider.username), page=page
    )
    page.locator('[data-testid="home-decisions-to-make"]').locator(
        f'a[href="/staff/decisions/{stage2.pk}/"]'
    ).click()
    expect(page.locator('[data-testid="sheet-score"]')).to_have_text("92.40")
    expect(page.locator('[data-testid="sheet-grade"]')).to_have_text(
        _sheet_grade_label("four_star")
    )
    expect(page.locator('[data-testid="decider-checks"]')).to_have_count(0)
    page.click('#object-actions a[data-action="grant"]')
    expect(page.locator('#action-form [name="star_grade"]')).to_have_value("four_star")
    page.go_back()
    workspace_action(page, "grant", {"reasons": "不符合项已关闭或纠正措施计划已接受，批准认证。"})
    expect(page).to_have_url(re.compile(r"/staff/decided/\d+/$"))
    decision = Decision.objects.get(audit=stage2)
    certificate = Certificate.objects.get(decision=decision, head__isnull=True)
    assert certificate.star_grade == "four_star"
    # The decision's own list of issued certificates (the cross-links name it too).
    expect(
        page.locator(f'main a[href="/staff/certificates/{certificate.pk}/"]').filter(
            has_text=re.compile(rf"^{re.escape(certificate.number)}$")
        )
    ).to_have_count(1)
    screenshot("journey-decision-granted", page)

    # The client downloads the certificate and the approval notice from the portal.
    portal = client_portal(page)
    card = portal.locator(f'.card[data-number="{certificate.number}"]')
    expect(card).to_contain_text(_grade_label(certificate))
    for kind in ("certificate", "approval_notice"):
        link = card.locator(f'tr[data-kind="{kind}"] a')
        expect(link).to_have_count(1)
        content, name = download_bytes(portal, link)
        assert content.startswith(b"%PDF") and name.endswith(".pdf"), (kind, name)
        response = portal.request.get(live_server.url + link.get_attribute("href"))
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("attachment")
    screenshot("journey-portal-certificate", portal)

    # The public scans the QR code: the certificate's PDF encodes its verification page.
    from certificates.pdf import qr_svg, verification_url

    url = verification_url(certificate)
    assert urlparse(url).path == f"/verify/{certificate.token}/"
    certificate_html = [html for html in rendered if certificate.number in html and "<svg" in html]
    assert certificate_html and qr_svg(url) in certificate_html[0]
    public = locale_page(browser, live_server, "zh-CN", page=portal)  # signed out
    public.goto(live_server.url + urlparse(url).path)
    expect(public.locator(".banner.ok")).to_contain_text("本证书有效")
    expect(public.locator("body")).to_contain_text(certificate.number)
    expect(public.locator("body")).to_contain_text(_grade_label(certificate))
    screenshot("journey-public-verify-qr", public)
    public.context.close()
    console.assert_no_csp_violations()


def _grade_label(certificate: Certificate) -> str:
    with translation.override("zh-hans"):
        return str(certificate.get_star_grade_display())


def _sheet_grade_label(grade: str) -> str:
    from audits.scoring import GRADES

    with translation.override("zh-hans"):
        return str(GRADES[grade])
