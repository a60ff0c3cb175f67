"""Issue 2's journey in a real browser: a submitted application to a verified certificate.

Staff work on the workspace desks (the admin is for superusers only); the public pages need no
log-in.
"""

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from applications.models import Application, ApplicationReview, Contract
from audits.models import Audit
from certificates.models import Certificate
from tests.e2e.helpers import (
    assess_remaining,
    expect_summary,
    fill_form,
    locale_page,
    login,
    meeting_fields,
    score_row,
    workspace_action,
)

# One worker builds the demo and restores it for each of these (tests/demo_snapshot.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo")]

DOC_REVIEW_ON = date(2026, 10, 9)
STAGE2 = (date(2026, 10, 19), date(2026, 10, 21))
PLAN_SENT_ON = date(2026, 10, 12)
PLAN_REPORTED_ON = date(2026, 10, 16)  # the last day: 3 days before stage 2 (004 §9.2)
DECIDED_ON = date(2026, 11, 2)


@pytest.fixture
def demo(cb):
    """The demo data set; the journey takes one of its submitted applications.

    The demo's own PDFs are stubbed (seconds each otherwise); the journey's certificate is
    rendered for real.
    """
    from tests.demo_snapshot import load_demo

    return load_demo()


def staff_user(role):
    from certbody.models import User

    return User.objects.filter(groups__name=role, is_active=True).order_by("username")


def test_submitted_application_to_verified_certificate(browser, live_server, demo, screenshot):
    application = Application.objects.filter(state="submitted").order_by("pk").first()
    assert application is not None, "the demo has submitted applications"
    org_name = application.organization.name
    market = staff_user("market").first()
    planner = staff_user("audit_department").first()
    auditors = list(staff_user("auditor"))
    leader = auditors[0]
    decider = staff_user("decision_maker").exclude(pk=leader.pk).first()
    staff = live_server.url + "/staff"

    # Market: review, accept, contract.
    page = login(browser, live_server, market.username, demo(market.username))
    page.goto(f"{staff}/applications/{application.pk}/")
    workspace_action(page, "start-review")
    # Every review check, the eligibility conditions included (004 §5.2.2(1)).
    workspace_action(page, "record-review", dict.fromkeys(ApplicationReview.CHECKS, True))
    workspace_action(page, "accept")
    workspace_action(page, "create-contract", {"audit_fee": "26000"})
    contract = Contract.objects.get(application=application)
    page.goto(f"{staff}/contracts/{contract.pk}/")
    workspace_action(page, "sign", {"signed_on": "2026-10-01", "signed_by_client": "法定代表人"})

    # Audit department: programme, team (each user after the last in the same browser).
    page = login(browser, live_server, planner.username, demo(planner.username), page=page)
    page.goto(f"{staff}/programmes/new/")
    fill_form(page.locator("#create-form"), {"application": application.pk})
    page.click('#create-form [data-testid="confirm"]')
    expect(page).to_have_url(re.compile(r"/staff/programmes/\d+/$"))
    programme = application.programme
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    for audit in (review, stage2):
        page.goto(f"{staff}/audits/{audit.pk}/")
        workspace_action(page, "add-member", {"user": leader.pk, "role": "leader"})
    # Stage 2 starts only with its written plan confirmed by the client and reported to CNCA
    # at least 3 days before its first day (004 §5.4.6.3, §9.2).
    workspace_action(
        page,
        "schedule",
        {"planned_start": STAGE2[0].isoformat(), "planned_end": STAGE2[1].isoformat()},
    )
    workspace_action(page, "prepare-plan")
    workspace_action(page, "send-plan", {"sent_on": PLAN_SENT_ON.isoformat()})
    workspace_action(
        page,
        "confirm-plan",
        {"confirmed_on": PLAN_SENT_ON.isoformat(), "confirmed_by": "法定代表人"},
    )
    workspace_action(page, "report-plan", {"reported_on": PLAN_REPORTED_ON.isoformat()})

    # The team leader: document review, then stage 2 (it starts once the review is completed,
    # 001 §6.3; starting is the team leader's on the workspace).
    leader_page = login(browser, live_server, leader.username, demo(leader.username), page=page)
    leader_page.goto(f"{staff}/audits/{review.pk}/")
    workspace_action(leader_page, "start", {"started_on": DOC_REVIEW_ON.isoformat()})
    workspace_action(
        leader_page,
        "complete",
        {"ended_on": DOC_REVIEW_ON.isoformat(), "recommendation_positive": "1"},
    )
    leader_page.goto(f"{staff}/audits/{stage2.pk}/")
    workspace_action(leader_page, "start", {"started_on": STAGE2[0].isoformat()})
    # The team leader scores stage 2 on its score sheet: four stars (93.80).
    leader_page.goto(f"{live_server.url}/audits/{stage2.pk}/score-sheet/")
    leader_page.click('[data-testid="open-score-sheet"]')
    # A new sheet has no score until every indicator is assessed (004 §5.6.5.2).
    expect_summary(leader_page, grade="incomplete")
    assess_remaining(leader_page)
    expect_summary(leader_page, grade="five_star", score="100.00")
    score_row(leader_page, "1.7", evidence="未开展服务文化建设活动。", met=False)
    score_row(leader_page, "3.1", evidence="1 份未按时回访。", nonconforming=1)  # of 10
    expect_summary(leader_page, grade="four_star", score="93.80")
    leader_page.goto(f"{staff}/audits/{stage2.pk}/")
    # The opening and closing meetings, with the top manager, are recorded (004 §5.5.2).
    for kind, held_on in (("opening", STAGE2[0]), ("closing", STAGE2[1])):
        workspace_action(leader_page, "record-meeting", meeting_fields(kind, held_on))
    workspace_action(
        leader_page,
        "complete",
        {
            "ended_on": STAGE2[1].isoformat(),
            "findings": "售后服务体系运行有效",
            "recommendation_positive": "1",
        },
    )
    leader_page.goto(f"{live_server.url}/audits/{stage2.pk}/score-sheet/")
    leader_page.click('[data-testid="submit-score-sheet"]')
    leader_page.fill("#id_submitted_on", STAGE2[1].isoformat())
    leader_page.click('[data-testid="confirm-submit"]')
    expect(leader_page.locator("[data-sheet-state]")).to_have_attribute(
        "data-sheet-state", "submitted"
    )
    # The team leader signs the audit report the decision rests on (004 §5.12.1).
    leader_page.goto(f"{staff}/audits/{stage2.pk}/")
    workspace_action(leader_page, "generate-report", {"signed_on": STAGE2[1].isoformat()})

    # Decision maker (not on the team): grant at the score sheet's grade, which issues the
    # certificate.
    page = login(browser, live_server, decider.username, demo(decider.username), page=leader_page)
    page.goto(f"{staff}/decisions/{stage2.pk}/")
    page.click('#object-actions a[data-action="grant"]')
    expect(page.locator('#action-form [name="star_grade"]')).to_have_value("four_star")
    page.go_back()
    workspace_action(page, "grant", {"decided_on": DECIDED_ON.isoformat()})
    certificate = Certificate.objects.get(decision__audit=stage2, head__isnull=True)
    assert certificate.star_grade == "four_star"
    page.goto(f"{staff}/certificates/{certificate.pk}/")
    expect(page.locator("body")).to_contain_text(certificate.number)
    with page.expect_download() as download_info:
        page.locator('a[href*="/portal/documents/"]').first.click()
    pdf_bytes = Path(download_info.value.path()).read_bytes()
    assert pdf_bytes.startswith(b"%PDF")

    # The public (signed out): by number, then through the QR token.
    public = locale_page(browser, live_server, "zh-CN", page=page)
    public.goto(f"{live_server.url}/verify/")
    public.fill("input[name=q]", certificate.number)
    public.click("button[type=submit]")
    row = public.locator("table.list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(org_name)
    expect(row).to_contain_text("有效")
    screenshot("public-verify-by-number", public)
    public.goto(f"{live_server.url}/verify/{certificate.token}/")
    expect(public.locator(".banner.ok")).to_contain_text("本证书有效")
    expect(public.locator("body")).to_contain_text(certificate.number)
    expect(public.locator("body")).to_contain_text("2026-11-02")
    screenshot("public-verify-qr", public)
    public.context.close()
