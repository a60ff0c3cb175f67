"""Issue #14 in a real browser: the client's application form keeps the uploaded files (and
what was typed) when another field fails, says "Already uploaded: …", and the next submission
uses them; the business scopes are a checkbox list with a search box (static script, strict
CSP)."""

import re

import pytest
from playwright.sync_api import expect

from applications.models import Application, ApplicationDocument
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.e2e.helpers import BrowserConsole, fill_form, open_as

pytestmark = pytest.mark.django_db(transaction=True)

PDF = {
    "mimeType": "application/pdf",
    "buffer": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
}


def test_an_upload_survives_an_error_on_another_field(browser, live_server, cb):
    user = ClientUserFactory(organization=OrganizationFactory(name="宁波家电服务有限公司"))
    console = BrowserConsole()
    page = open_as(browser, live_server, console, user.username, "client-pw", r"/portal/$")
    page.goto(f"{live_server.url}/portal/applications/new/")
    form = page.locator("#application-form")

    # The scope picker filters as one types; a ticked category stays visible.
    search = page.locator('[data-testid="scope-picker"] input[type=search]')
    expect(search).to_be_visible()
    search.fill("zzzz-no-such-category")
    expect(page.locator("[data-scope-option]:visible")).to_have_count(0)
    search.fill("")
    fill_form(
        form,
        {
            "scope_text": "家用电器的安装、维修及配送服务",
            "headcount": "0",  # refused by the server: at least 1
            "business_scope_codes": "24",
            "requested_grade": "standard",
        }
        | {
            f"documents_{kind}": [{"name": f"{kind}.pdf", **PDF}]
            for kind in ApplicationDocument.REQUIRED
        },
    )
    # Let the server, not the browser, refuse the headcount.
    page.evaluate("document.getElementById('application-form').noValidate = true")
    with page.expect_navigation():
        page.click("#application-submit")
    expect(page.locator('[data-testid="kept-documents_outlets"]')).to_contain_text("outlets.pdf")
    expect(page.locator('[name="scope_text"]')).to_have_value("家用电器的安装、维修及配送服务")
    expect(page.locator('[name="business_scope_codes"][value="24"]')).to_be_checked()
    assert not Application.objects.exists()

    page.fill('[name="headcount"]', "42")
    with page.expect_navigation():
        page.click("#application-submit")
    expect(page).to_have_url(re.compile(r"/portal/applications/\d+/$"))
    application = Application.objects.get()
    assert application.documents.count() == len(ApplicationDocument.REQUIRED)
    console.assert_no_csp_violations()
    page.context.close()
