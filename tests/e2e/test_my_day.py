"""Issue 14, in a real browser on the demo data set: an auditor finds the audit they are on in
"My audits" on their home and opens it through the grouped navigation's breadcrumbs; the
client with a stage 2 in progress (``client09``) sees its open nonconformity with its due date
on the portal home's to-do list and answers it from there. Screenshots (with
``E2E_SCREENSHOTS=1``): ``tests/e2e/screenshots/my-day-*.png``."""

import pytest
from playwright.sync_api import expect

from audits.models import Audit, AuditTeamMember, Nonconformity
from certbody.models import User
from tests.e2e.helpers import BrowserConsole, open_as
from tests.e2e.test_role_homes import demo  # noqa: F401  (the demo fixture)

# The demo is built once on the demo worker and restored for each of its tests
# (tests/demo_snapshot.py); elsewhere it would be built again (a minute on PostgreSQL).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo")]

EVIDENCE = {
    "name": "整改记录.pdf",
    "mimeType": "application/pdf",
    "buffer": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
}


def test_an_auditor_sees_their_audit_and_the_client_answers_its_nc_from_the_home(
    browser,
    live_server,
    demo,  # noqa: F811
    screenshot,
):
    console = BrowserConsole()
    client_user = User.objects.get(username="client09")
    stage2 = Audit.objects.get(
        programme__organization=client_user.organization,
        kind=Audit.Kind.STAGE2,
        state=Audit.State.IN_PROGRESS,
    )
    member = AuditTeamMember.objects.filter(audit=stage2).select_related("user").first()
    auditor = member.user

    page = open_as(browser, live_server, console, auditor.username, demo(auditor.username))
    mine = page.locator('[data-testid="home-my-audits"]')
    expect(mine).to_be_visible()
    expect(mine.locator(f'a[href="/staff/audits/{stage2.pk}/"]')).to_have_count(1)
    # The grouped navigation: the audits group opens to its desks (no script: <details>).
    group = page.locator('details.navgroup[data-group="audits"]')
    group.locator("summary").click()
    expect(group.locator('a[href="/staff/audits/"]')).to_be_visible()
    screenshot("my-day-auditor", page)
    mine.locator(f'a[href="/staff/audits/{stage2.pk}/"]').click()
    crumbs = page.locator('[data-testid="breadcrumbs"]')
    expect(crumbs.locator('a[href="/staff/audits/"]')).to_have_count(1)
    expect(page.locator('[data-testid="crosslinks"] a').first).to_be_visible()

    nc = stage2.nonconformities.filter(
        state__in=[Nonconformity.State.OPEN, Nonconformity.State.REJECTED]
    ).first()
    portal = open_as(
        browser, live_server, console, "client09", demo("client09"), r"/portal/$", page=page
    )  # in the same browser, after the auditor
    todo = portal.locator('[data-testid="portal-todo"]')
    row = todo.locator(
        f'tr[data-kind="nonconformity"]:has(a[href="/portal/nonconformities/{nc.pk}/"])'
    )
    expect(row).to_have_count(1)
    expect(row).to_contain_text(nc.due_on.isoformat())
    # No certificate yet: no change, suspension or cancellation request offered.
    expect(portal.locator('a[href="/portal/requests/new/"]')).to_have_count(0)
    screenshot("my-day-portal", portal)

    row.locator("a").click()
    form = portal.locator("#answer-form")
    form.locator('[name="cause_analysis"]').fill("服务管理制度未明确投诉处理时限的考核要求。")
    form.locator('[name="correction"]').fill("已逐一回访超期投诉的顾客并处理完毕。")
    form.locator('[name="corrective_action"]').fill(
        "修订《投诉处理程序》，增加超时预警和升级处理，每月由服务部抽查。"
    )
    if form.locator('[name="is_plan"]').count():
        form.locator('[name="is_plan"]').check()
    else:
        form.locator('[name="attachments"]').set_input_files(EVIDENCE)
    portal.click("#answer-submit")
    expect(portal.locator(".messages .success")).to_have_count(1)

    portal.goto(f"{live_server.url}/portal/")
    expect(
        portal.locator(f'[data-testid="portal-todo"] a[href="/portal/nonconformities/{nc.pk}/"]')
    ).to_have_count(0)
    nc.refresh_from_db()
    assert nc.state == Nonconformity.State.ANSWERED
    portal.context.close()
    console.assert_no_csp_violations()
