"""A workspace list's tick boxes in a real browser (issue #14): the header box ticks and clears
every row of the page through the static script (the CSP refuses inline ones), the header
follows the rows, and "export selected" downloads the ticked rows."""

import pytest
from playwright.sync_api import expect

from applications import services as app_services
from certbody import roles
from tests.applications.factories import OrganizationFactory
from tests.conftest import make_staff
from tests.e2e.helpers import BrowserConsole, open_as

pytestmark = pytest.mark.django_db(transaction=True)


def test_select_all_ticks_the_page_and_export_selected_downloads(browser, live_server, cb):
    market = make_staff("e2e-lists", roles.MARKET)
    for _ in range(3):
        app_services.application_create(
            organization=OrganizationFactory(),
            actor=market,
            scope_text="家用电器的销售及售后服务",
            headcount=60,
            business_scope_codes=[24],
        )
    console = BrowserConsole()
    page = open_as(browser, live_server, console, "e2e-lists", "pw-e2e-lists")
    page.goto(f"{live_server.url}/staff/applications/")
    rows = page.locator("input.bulk-select")
    select_all = page.locator("input.bulk-select-all")

    select_all.check()
    expect(page.locator("input.bulk-select:checked")).to_have_count(3)
    rows.first.uncheck()
    expect(select_all).not_to_be_checked()
    rows.first.check()
    expect(select_all).to_be_checked()

    with page.expect_download() as download:
        page.click('[data-testid="bulk-submit"]')  # "export selected" is the first action
    assert download.value.suggested_filename.startswith("applications-")
    console.assert_no_csp_violations()
