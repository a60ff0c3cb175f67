"""Issue 4's journey in a real browser: a scored stage 2 with nonconformities, to a certificate
at the grade the score sheet reached.

On the demo data, on the workspace pages (the admin is for superusers only): the team leader
(auditor1) scores the demo's stage 2 in progress on its score sheet and watches the grade follow
each change, raises a major nonconformity, completes the audit and signs the sheet off; the
client answers both open nonconformities in the portal (the demo's minor one with a corrective
action plan, the new major one with an evidence file); the team leader accepts the answers; a
decision maker grants; the client's portal and the public page show the certificate at the
sheet's grade.
"""

from datetime import date

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from audits.models import Audit, Nonconformity, ScoreSheet
from certbody.models import User
from certificates.models import Certificate
from tests.e2e.helpers import (
    assess_remaining,
    expect_summary,
    locale_page,
    login,
    meeting_fields,
    score_row,
    workspace_action,
)

# One worker builds the demo and restores it for each of these (tests/demo_snapshot.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo")]

RAISED_ON = date(2026, 11, 13)
ENDED_ON = date(2026, 11, 15)
EVIDENCE = {
    "name": "整改记录.pdf",
    "mimeType": "application/pdf",
    "buffer": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
}


@pytest.fixture
def demo(cb):
    """The demo data set (its PDFs stubbed) and its stage 2 in progress."""
    from tests.demo_snapshot import load_demo

    return load_demo()


def test_scored_stage2_with_nonconformities_to_a_graded_certificate(
    browser, live_server, demo, screenshot
):
    today = timezone.localdate()
    stage2 = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.IN_PROGRESS)
    leader = stage2.team.get(role="leader").user
    assert leader.username == "auditor1"
    organization = stage2.programme.organization
    client = User.objects.get(organization=organization)
    decider = (
        User.objects.filter(groups__name="decision_maker", is_active=True)
        .exclude(pk__in=stage2.team.values("user"))
        .order_by("username")
        .first()
    )
    seeded_nc = stage2.nonconformities.get(state=Nonconformity.State.OPEN)
    staff = f"{live_server.url}/staff"
    sheet_url = f"{live_server.url}/audits/{stage2.pk}/score-sheet/"

    # The team leader opens the score sheet: every indicator met, 100 points, five stars.
    page = login(browser, live_server, leader.username, demo(leader.username))
    page.goto(sheet_url)
    page.click('[data-testid="open-score-sheet"]')
    # A new sheet has no score until every indicator is assessed (004 §5.6.5.2).
    expect_summary(page, grade="incomplete")
    assess_remaining(page)
    expect_summary(page, grade="five_star", score="100.00")
    # Complaint records: 3 of 20 not resolved in time; 13 × 17/20 = 11.05 points.
    score_row(page, "3.2", samples=20, evidence="3 份投诉超时未解决。", nonconforming=3)
    expect_summary(page, grade="five_star", score="98.05")
    expect(page.locator('[data-testid="score-item-result-3.2"] [data-points]')).to_have_attribute(
        "data-points", "11.05"
    )
    # Supervision not met: all 6 points lost, below 95.
    score_row(page, "1.5", evidence="无服务监督检查记录。", met=False)
    expect_summary(page, grade="four_star", score="92.05")
    # Delivery and installation: 2 of 10 late; 7 × 8/10 = 5.60.
    score_row(page, "2.3", evidence="2 份送装超时。", nonconforming=2)  # of 10
    expect_summary(page, grade="four_star", score="90.65")
    expect(page.locator("#score-summary [data-passed]")).to_have_attribute("data-passed", "true")
    screenshot("scored-audit-score-sheet", page)

    # It raises a major nonconformity from the audit's page.
    page.goto(f"{staff}/audits/{stage2.pk}/")
    workspace_action(
        page,
        "raise-nc",
        {
            "severity": "major",
            "clause": "GB/T 27922 5.4.2",
            "description": "顾客投诉处理程序未得到实施，多起投诉超期未处理。",
            "evidence": "抽查投诉处理记录 20 份，3 份超过承诺的 48 小时处理时限。",
            "raised_on": RAISED_ON.isoformat(),
        },
    )
    raised = stage2.nonconformities.get(severity=Nonconformity.Severity.MAJOR)
    assert raised.state == Nonconformity.State.OPEN

    # It records the closing meeting (the opening one was on the first day, 004 §5.5.2),
    # completes the audit and signs the score sheet off.
    page.goto(f"{staff}/audits/{stage2.pk}/")
    workspace_action(page, "record-meeting", meeting_fields("closing", ENDED_ON))
    workspace_action(
        page,
        "complete",
        {
            "ended_on": ENDED_ON.isoformat(),
            "findings": "开具严重不符合项 1 项、轻微不符合项 1 项，其余售后服务体系运行有效。",
            "recommendation_positive": "1",
        },
    )
    page.goto(sheet_url)
    page.click('[data-testid="submit-score-sheet"]')
    expect_summary(page, grade="four_star", score="90.65")
    page.fill("#id_submitted_on", ENDED_ON.isoformat())
    page.click('[data-testid="confirm-submit"]')
    expect(page.locator("[data-sheet-state]")).to_have_attribute("data-sheet-state", "submitted")
    assert ScoreSheet.objects.get(audit=stage2).state == ScoreSheet.State.SUBMITTED

    # The client answers both nonconformities in the portal (each user after the last in the
    # same browser: ``login(page=…)``).
    portal = login(
        browser, live_server, client.username, demo(client.username), r"/portal/$", page=page
    )
    portal.goto(f"{live_server.url}/portal/nonconformities/")
    expect(portal.locator('#nonconformities tr[data-state="open"]')).to_have_count(2)
    screenshot("scored-audit-portal-open", portal)
    answers = (
        (seeded_nc, True, None),
        (raised, False, EVIDENCE),
    )
    for nc, is_plan, evidence in answers:
        portal.click(f'tr[data-nc="{nc.pk}"] a')
        form = portal.locator("#answer-form")
        form.locator('[name="cause_analysis"]').fill("服务管理制度未明确投诉处理时限的考核要求。")
        form.locator('[name="correction"]').fill("已逐一回访超期投诉的顾客并处理完毕。")
        form.locator('[name="corrective_action"]').fill(
            "修订《投诉处理程序》，增加超时预警和升级处理，每月由服务部抽查。"
        )
        if is_plan:
            form.locator('[name="is_plan"]').check()
        else:
            expect(form.locator('[name="is_plan"]')).to_have_count(0)  # majors: no plan
        if evidence:
            form.locator('[name="attachments"]').set_input_files(evidence)
        portal.click("#answer-submit")
        expect(portal.locator(".messages .success")).to_have_count(1)
        expect(portal.locator("#answer-form")).to_have_count(0)
        portal.goto(f"{live_server.url}/portal/nonconformities/")
    expect(portal.locator('#nonconformities tr[data-state="answered"]')).to_have_count(2)
    raised.refresh_from_db()
    assert raised.responses.get().attachments.get().original_name == "整改记录.pdf"

    # The team leader accepts both answers: the major closes, the minor's plan is accepted.
    page = login(browser, live_server, leader.username, demo(leader.username), page=portal)
    for nc in (seeded_nc, raised):
        page.goto(f"{staff}/nonconformities/{nc.pk}/")
        workspace_action(
            page,
            "accept",
            {"reviewed_on": today.isoformat(), "note": "答复及证据已审核，纠正措施有效。"},
        )
    # It signs the audit report the decision rests on (004 §5.12.1).
    page.goto(f"{staff}/audits/{stage2.pk}/")
    workspace_action(page, "generate-report", {"signed_on": today.isoformat()})
    raised.refresh_from_db()
    seeded_nc.refresh_from_db()
    assert raised.state == Nonconformity.State.CLOSED
    assert seeded_nc.state == Nonconformity.State.PLAN_ACCEPTED

    # A decision maker, not on the team, grants; the grade comes from the score sheet.
    page = login(browser, live_server, decider.username, demo(decider.username), page=page)
    page.goto(f"{staff}/decisions/{stage2.pk}/")
    workspace_action(page, "grant", {"decided_on": today.isoformat()})
    certificate = Certificate.objects.get(decision__audit=stage2, head__isnull=True)
    assert certificate.star_grade == "four_star"
    with translation.override("zh-hans"):
        grade_label = str(certificate.get_star_grade_display())

    # The client's portal shows the certificate and the scored audit at that grade.
    portal = login(
        browser, live_server, client.username, demo(client.username), r"/portal/$", page=page
    )
    card = portal.locator(f'.card[data-number="{certificate.number}"]')
    expect(card).to_contain_text(grade_label)
    row = portal.locator(f'.audits tr[data-audit="{stage2.pk}"]')
    expect(row.locator(".score")).to_have_text("90.65")
    screenshot("scored-audit-portal-certificate", portal)

    # The public page shows it too, to anyone (signed out).
    public = locale_page(browser, live_server, "zh-CN", page=portal)
    public.goto(f"{live_server.url}/verify/{certificate.token}/")
    expect(public.locator(".banner.ok")).to_contain_text("本证书有效")
    expect(public.locator("body")).to_contain_text(certificate.number)
    expect(public.locator("body")).to_contain_text(grade_label)
    screenshot("scored-audit-public-verify", public)
    public.context.close()
