"""Steps the browser journeys share: log in, run an admin service action, score a row."""

import re

from playwright.sync_api import Page, expect


def login(browser, live_server, username, password, landing=r"/home/$") -> Page:
    """A fresh browser context logged in as ``username``; waits for the landing page."""
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(landing))
    return page


def run_action(page: Page, url: str, pks, action: str, fields: dict | None = None):
    """Select rows (one pk or several) of an admin changelist, run ``action`` and confirm its
    form; expects one success message and no error."""
    page.goto(url)
    for pk in pks if isinstance(pks, list | tuple) else [pks]:
        page.check(f'input[name="_selected_action"][value="{pk}"]')
    page.select_option('select[name="action"]', action)
    page.click('button[name="index"]')
    if fields is not None:
        for selector, value in fields.items():
            if value is True:
                page.check(selector)
            elif selector.startswith("select"):
                page.select_option(selector, value)
            else:
                page.fill(selector, value)
        page.click('input[name="apply"]')
    expect(page.locator(".messagelist .error")).to_have_count(0)
    expect(page.locator(".messagelist .success")).to_have_count(1)


def _is_item_post(response) -> bool:
    return "/audits/score-items/" in response.url and response.request.method == "POST"


def score_row(page: Page, code: str, **values) -> None:
    """Change the fields of indicator ``code`` on the score sheet page one at a time, waiting
    for each htmx post and the summary it swaps in before the next change: the live server's
    in-memory SQLite shares one connection, so overlapping posts would break."""
    row = page.locator(f'[data-testid="score-item-{code}"]')
    for name, value in values.items():
        field = row.locator(f'[name="{name}"]')
        with page.expect_response(_is_item_post) as response:
            if name == "met":
                field.select_option("1" if value else "0")
            else:
                field.fill(str(value))
                field.press("Tab")  # the change event fires when the field loses focus
        assert response.value.status == 200, response.value.text()
        # the out-of-band summary has been swapped in once htmx settles the response
        page.wait_for_function("() => !document.querySelector('.htmx-request')")


def expect_summary(page: Page, *, grade: str, score: str | None = None) -> None:
    summary = page.locator("#score-summary")
    expect(summary.locator("[data-grade]")).to_have_attribute("data-grade", grade)
    if score is not None:
        expect(summary.locator("[data-score]")).to_have_attribute("data-score", score)
