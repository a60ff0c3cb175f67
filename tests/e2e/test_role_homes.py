"""Issue 7: the home page of each role, on the demo data set, in a real browser.

Each staff role logs in and lands on ``/home/`` with the sections of its work (what is due and
overdue, with counts and the first rows), its notifications and the dashboard figures; a client
user lands on the portal. With ``E2E_SCREENSHOTS=1`` a full-page screenshot of each is saved as
``tests/e2e/screenshots/home-<role>.png`` (ignored by git) for a person to look at. Every page's
console is watched: a Content Security Policy violation fails the test.
"""

import pytest
from playwright.sync_api import expect

from certbody import home
from certbody.models import User
from certificates.models import Certificate
from tests.e2e.helpers import CSP_MARK, BrowserConsole, open_as

# One worker builds the demo and restores it for each of these (tests/demo_snapshot.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo")]

# (screenshot name, demo user, the sections the role must see, the demo filling each of them)
STAFF_HOMES = (
    ("market", "market", ["applications-to-review"]),
    ("audit-department", "planner", ["audits-due", "plans-to-report"]),
    ("auditor", "auditor1", ["nonconformities-to-verify", "audits-i-lead", "my-audits"]),
    ("decision-maker", "decider1", ["decisions-to-make"]),
    ("reporting-officer", "reporting", ["reports-to-submit"]),
    ("technical-manager", "techmgr", ["appeals"]),
)
# Sections the demo data fills for the user above (the others may be empty today).
FILLED = {
    "applications-to-review",
    "audits-due",
    "audits-i-lead",
    "decisions-to-make",
    "reports-to-submit",
    "appeals",
}
ALL_SECTIONS = {key for _name, _user, keys in STAFF_HOMES for key in keys}


@pytest.fixture
def demo(cb):
    """The demo data set, its PDFs stubbed; returns ``demo_password``."""
    from tests.demo_snapshot import load_demo

    return load_demo()


def test_each_role_lands_on_its_home(browser, live_server, demo, screenshot):
    console = BrowserConsole()
    page = None  # one browser: each role logs in after the last (its cookies cleared)
    for name, username, keys in STAFF_HOMES:
        user = User.objects.get(username=username)
        expected = {s.key: s for s in home.sections_for(user)}
        assert set(expected) == set(keys), (username, sorted(expected))
        page = open_as(
            browser, live_server, console, username, demo(username), form=True, page=page
        )
        for key in keys:
            section = page.locator(f'[data-testid="home-{key}"]')
            expect(section).to_be_visible()
            expect(section).to_have_attribute("data-count", str(expected[key].count))
            expect(section).to_have_attribute("data-overdue", str(expected[key].overdue))
            expect(section.locator("tbody tr")).to_have_count(len(expected[key].rows))
            if key in FILLED:
                assert expected[key].count > 0, f"the demo leaves {key} of {username} empty"
                # the first row opens the record's workspace page
                href = section.locator("tbody tr a").first.get_attribute("href")
                assert href.startswith("/staff/"), href
        for key in ALL_SECTIONS - set(keys):
            expect(page.locator(f'[data-testid="home-{key}"]')).to_have_count(0)
        expect(page.locator("#notifications")).to_be_visible()
        expect(page.locator(".bars").first).to_be_visible()  # the dashboard's charts
        expect(page.locator("nav.desknav a").first).to_be_visible()
        screenshot(f"home-{name}", page)

    # A client user lands on the portal: its certificates with their documents.
    client = User.objects.get(username="client01")
    certificates = Certificate.objects.filter(organization=client.organization)
    page = open_as(
        browser,
        live_server,
        console,
        "client01",
        demo("client01"),
        r"/portal/$",
        form=True,
        page=page,
    )
    expect(page.locator(".card[data-number]")).to_have_count(certificates.count())
    head = certificates.get(head__isnull=True)
    card = page.locator(f'.card[data-number="{head.number}"]')
    expect(card.locator('tr[data-kind="certificate"]')).to_have_count(
        head.documents.filter(kind="certificate").count()
    )
    for section in (".card.nonconformities", ".card.appeals", ".card.client-requests"):
        expect(page.locator(section)).to_be_visible()
    expect(page.locator("nav.desknav")).to_have_count(0)  # no workspace for clients
    screenshot("home-client", page)
    page.context.close()
    console.assert_no_csp_violations()


def test_the_console_watch_catches_a_csp_violation(browser, live_server, cb):
    """The CSP check above is not vacuous: an inline script on a page is refused and seen."""
    console = BrowserConsole()
    context = console.watch(browser.new_context(locale="zh-CN"))
    page = context.new_page()
    page.goto(f"{live_server.url}/verify/")
    with page.expect_console_message(lambda message: CSP_MARK in message.text):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true";
                document.body.appendChild(script);
            }"""
        )
    assert page.evaluate("() => window.injected") is None  # refused, not run
    context.close()
    assert console.csp_violations, "the refused inline script was not reported"
    with pytest.raises(AssertionError, match="CSP violations"):
        console.assert_no_csp_violations()
