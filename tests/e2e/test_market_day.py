"""A market officer's day in a real browser (issue #14, market): record a new organisation on
the workspace's "new" page, add its head office and an outlet and a second contact person,
invite a client user; the client registers and applies online in the portal; the officer finds
the application among the applications to review on their home page ("my tasks") and in their
notifications, which link to it.

Every page's console is watched: a Content Security Policy violation fails the test.
"""

import re

import pytest
from playwright.sync_api import expect

from applications.models import Application, ApplicationDocument, Organization
from applications.validators import build_uscc
from certbody import roles
from certbody.models import Notification
from tests.conftest import make_staff
from tests.e2e.helpers import BrowserConsole, fill_form, open_as, workspace_action

pytestmark = pytest.mark.django_db(transaction=True)

USCC = build_uscc("330106", 424_242)
INVITED = "lin.hua@xihu-service.example.cn"
PASSWORD = "Xihu-Shouhou-2026!"
PDF = {
    "mimeType": "application/pdf",
    "buffer": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
}


ORGANIZATION = {
    "name": "杭州西湖家电服务有限公司",
    "uscc": f"{USCC[:8]} {USCC[8:].lower()}",
    "registered_address": "浙江省杭州市西湖区文三路 100 号",
    "division_code": "330106",
    "legal_representative": "林一",
    "headcount": "90",
    "business_scope_codes": "24",
    "contact_name": "林华",
    "contact_position": "售后服务部经理",
    "contact_phone": "13588886666",
    "contact_email": INVITED,
}


@pytest.fixture
def console():
    return BrowserConsole()


@pytest.fixture
def officer(cb):
    user = make_staff("market-day", roles.MARKET)
    user.email = "market-day@cb.example.cn"
    user.save(update_fields=["email"])
    return user


def test_market_officer_records_an_organisation_and_sees_its_online_application(
    browser, live_server, officer, console, mailoutbox, screenshot
):
    staff = f"{live_server.url}/staff"
    market = open_as(browser, live_server, console, officer.username, f"pw-{officer.username}")

    # A new organisation with its primary contact; the code typed with spaces and lower case.
    market.goto(f"{staff}/organizations/")
    market.click('[data-testid="create"]')
    expect(market).to_have_url(re.compile(r"/staff/organizations/new/$"))
    fill_form(market.locator("#create-form"), ORGANIZATION)
    with market.expect_navigation():
        market.click('#create-form [data-testid="confirm"]')
    expect(market).to_have_url(re.compile(r"/staff/organizations/\d+/$"))
    organization = Organization.objects.get(uscc=USCC)

    # Two sites and a second contact person, from the organisation's page.
    workspace_action(
        market,
        "add-site",
        {
            "name": "西湖总部",
            "address": "浙江省杭州市西湖区文三路 100 号",
            "division_code": "330106",
            "headcount": "30",
            "is_head_office": True,
        },
    )
    workspace_action(
        market,
        "add-site",
        {
            "name": "滨江服务网点",
            "address": "浙江省杭州市滨江区江南大道 8 号",
            "division_code": "330108",
            "headcount": "12",
        },
    )
    workspace_action(
        market,
        "add-contact",
        {"name": "陈静", "position": "客服主管", "phone": "13577775555"},
    )
    sites = market.locator("#organization-sites tr[data-site]")
    expect(sites).to_have_count(2)
    expect(sites.first).to_contain_text("西湖总部")
    contacts = market.locator('#organization-contacts tr[data-contact="person"]')
    expect(contacts).to_have_count(2)
    expect(contacts.first).to_contain_text("林华")
    expect(contacts.nth(1)).to_contain_text("陈静")

    # The same code again: the form links the organisation already recorded.
    market.goto(f"{staff}/organizations/new/")
    fill_form(market.locator("#create-form"), ORGANIZATION | {"name": "重复", "uscc": USCC})
    market.click('#create-form [data-testid="confirm"]')
    expect(market.locator('[data-testid="existing-organization"]')).to_have_attribute(
        "href", f"/staff/organizations/{organization.pk}/"
    )

    # Invite the contact as a client user.
    market.goto(f"{staff}/organizations/{organization.pk}/")
    workspace_action(market, "invite", {"email": INVITED})
    (invitation,) = [m for m in mailoutbox if m.to == [INVITED]]
    register_path = re.search(r"/portal/applications/register/[\w-]+/", invitation.body)[0]
    screenshot("market-day-organisation", market)

    # The client registers and applies online with the required documents.
    context = console.watch(browser.new_context(locale="zh-CN"))
    client = context.new_page()
    client.goto(live_server.url + register_path)
    fill_form(
        client.locator("#register-form"),
        {
            "username": "linhua",
            "display_name": "林华",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    client.click("#register-submit")
    expect(client).to_have_url(re.compile(r"/portal/applications/$"))
    client.click("#apply-online")
    fill_form(
        client.locator("#application-form"),
        {
            "scope_text": "家用电器的安装、维修及配送服务",
            "headcount": "42",
            "business_scope_codes": "24",
            "requested_grade": "standard",
        }
        | {
            f"documents_{kind}": [{"name": f"{kind}.pdf", **PDF}]
            for kind in ApplicationDocument.REQUIRED
        },
    )
    with client.expect_navigation():
        client.click("#application-submit")
    application = Application.objects.get(organization=organization)
    assert application.state == Application.State.SUBMITTED
    context.close()

    # The officer's home lists it to review ("my tasks") and the notifications link to it.
    market.goto(f"{live_server.url}/home/")
    to_review = market.locator('[data-testid="home-applications-to-review"]')
    expect(to_review.locator(f'a[href="/staff/applications/{application.pk}/"]')).to_have_count(1)
    market.goto(f"{live_server.url}/notifications/")
    notice = Notification.objects.get(recipient=officer, kind="online_application")
    row = market.locator(f'[data-testid="notifications"] tr[data-notification="{notice.pk}"]')
    expect(row).to_contain_text(application.reference)
    row.locator(f'a[href="/staff/applications/{application.pk}/"]').click()
    expect(market).to_have_url(re.compile(rf"/staff/applications/{application.pk}/$"))
    assert any(officer.email in m.to and application.reference in m.subject for m in mailoutbox)
    screenshot("market-day-application", market)
    market.context.close()
    console.assert_no_csp_violations()
