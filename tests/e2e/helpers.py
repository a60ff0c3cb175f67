"""Steps the browser journeys share: log in, run a workspace action, score a row, watch the
console for CSP violations."""

import re
from pathlib import Path

from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from playwright.sync_api import Page, expect


def sign_in(page: Page, live_server, username, password, landing, *, form=False) -> Page:
    """``page`` (a Playwright ``Page``) signed in as ``username`` and on its landing page
    (``landing``, a URL regex), where the log-in would lead. The cookies of its browser context
    are cleared first, as a browser that signed out, so a page another user was signed in on
    can be handed on.

    By default the session is made as the log-in form makes it, by checking ``password``
    (``django.test.Client.login``), and handed to the browser as its session cookie: that spares
    each journey the form's two page loads. ``form=True`` fills in and sends the log-in form
    itself (test_role_homes: each role logs in and lands on its home).
    """
    page.context.clear_cookies()
    if form:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
    else:
        client = Client()
        assert client.login(username=username, password=password), f"{username} cannot log in"
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page.goto(f"{live_server.url}{resolve_url(settings.LOGIN_REDIRECT_URL)}")
    expect(page).to_have_url(re.compile(landing))
    return page


def login(
    browser,
    live_server,
    username,
    password,
    landing=r"/home/$",
    *,
    console=None,
    form=False,
    page=None,
) -> Page:
    """``username`` signed in (``sign_in``, ``form`` as there) and on its landing page: in
    ``page`` (a ``Page``) when given, the next user of the same browser (a new browser context
    costs Chromium about 0.4 s of CPU, a page load about 0.2 s); else in a fresh browser context
    whose every page ``console`` (a ``BrowserConsole``) watches if given."""
    if page is None:
        context = browser.new_context(locale="zh-CN", accept_downloads=True)
        if console is not None:
            console.watch(context)
        page = context.new_page()
    return sign_in(page, live_server, username, password, landing, form=form)


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


def assess_remaining(page: Page, samples: int = 10) -> None:
    """Assess every indicator still unassessed on the score sheet page: qualitative ones met,
    sampled ones with ``samples`` conforming samples (a sheet has no score before, 004
    §5.6.5.2). A later ``score_row`` of the same sample count sends nothing (no change)."""
    rows = page.locator('[data-testid^="score-item-"][data-assessed="false"]')
    pending = rows.evaluate_all(
        "rows => rows.map(r => [r.dataset.code, !!r.querySelector('select[name=met]')])"
    )
    for code, qualitative in pending:
        if qualitative:
            score_row(page, code, met=True)
        else:
            score_row(page, code, samples=samples)


def expect_summary(page: Page, *, grade: str, score: str | None = None) -> None:
    summary = page.locator("#score-summary")
    expect(summary.locator("[data-grade]")).to_have_attribute("data-grade", grade)
    if score is not None:
        expect(summary.locator("[data-score]")).to_have_attribute("data-score", score)


# --- the staff workspace and the browser console (issue 7) -----------------------------------

CSP_MARK = "Content Security Policy"


class BrowserConsole:
    """What the pages of the watched browser contexts print to their console.

    Chromium reports every refused inline script, style or source as a console error naming
    the "Content Security Policy"; ``assert_no_csp_violations`` fails the test on any.
    """

    def __init__(self):
        self.csp_violations: list[str] = []
        self.errors: list[str] = []

    def watch(self, context):
        """Listen to every page of ``context`` (a Playwright ``BrowserContext``)."""

        def on_console(message):
            where = message.page.url if message.page else "?"
            if CSP_MARK in message.text:
                self.csp_violations.append(f"{where}: {message.text}")
            elif message.type == "error":
                self.errors.append(f"{where}: {message.text}")

        context.on("console", on_console)
        return context

    def assert_no_csp_violations(self) -> None:
        assert not self.csp_violations, "CSP violations:\n" + "\n".join(self.csp_violations)


def open_as(
    browser,
    live_server,
    console: BrowserConsole,
    username: str,
    password: str,
    landing=r"/home/$",
    *,
    form=False,
    page=None,
) -> Page:
    """``login`` in a fresh context whose console ``console`` watches, or in ``page`` (a page
    of such a context) when given (``form`` as for ``sign_in``)."""
    return login(
        browser, live_server, username, password, landing, console=console, form=form, page=page
    )


def fill_form(form, values: dict) -> None:
    """Fill the fields of ``form`` (a locator) by name: text and dates as strings, checkboxes
    with booleans (a checkbox list with the value to tick), selects with their option value,
    file inputs with Playwright file payloads."""
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]')
        kind = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "input:checkbox" and isinstance(value, str | int) and field.count() > 1:
            # A checkbox list (e.g. the business scopes): tick the one with this value.
            form.locator(f'[name="{name}"][value="{value}"]').check()
        elif kind == "input:checkbox":
            field.set_checked(bool(value))
        elif kind.startswith("select"):
            field.select_option(str(value))
        elif kind == "input:file":
            field.set_input_files(value)
        else:
            field.fill(str(value))


def workspace_action(page: Page, action: str, fields: dict | None = None) -> None:
    """On a workspace object page: click the action's button, fill its confirm form, confirm;
    fails with the refusal shown when the server refuses, else expects the success message."""
    page.click(f'#object-actions a[data-action="{action}"]')
    expect(page).to_have_url(re.compile(rf"/{re.escape(action)}/$"))
    form = page.locator("#action-form")
    fill_form(form, fields or {})
    with page.expect_navigation():
        form.locator('[data-testid="confirm"]').click()
    errors = page.locator('[data-testid="action-error"], #action-form .error')
    if errors.count():
        raise AssertionError(f"{action} refused: " + " | ".join(errors.all_inner_texts()))
    expect(page.locator(".messages .success")).to_have_count(1)


def download_bytes(page: Page, link) -> tuple[bytes, str]:
    """Click ``link`` (a locator) and return the downloaded file's bytes and suggested name."""
    with page.expect_download() as info:
        link.click()
    download = info.value
    return Path(download.path()).read_bytes(), download.suggested_filename


def meeting_fields(kind: str, held_on) -> dict:
    """The record-meeting form's fields: ``kind`` on ``held_on``, the top manager present and
    the CNCA check-in done (004 §5.5.2)."""
    return {
        "kind": kind,
        "held_on": held_on.isoformat(),
        "attendees": "王五, 最高管理者, 总经理\n赵六, 售后服务负责人, 售后服务部经理",
        "top_manager_present": True,
        "check_in_confirmed": True,
    }


def demo_with_open_sheet():
    """Build the demo data set (its PDFs stubbed) and open the score sheet of the stage 2 in
    progress; returns ``demo.plan.demo_password`` (username → password)."""
    from audits import services as score_sheets
    from audits.models import Audit
    from tests.demo_snapshot import load_demo

    demo_password = load_demo()
    stage2 = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.IN_PROGRESS)
    leader = stage2.team.get(role="leader").user
    score_sheets.score_sheet_open(audit=stage2, actor=leader)
    return demo_password


def locale_page(
    browser, live_server, locale, username=None, password=None, landing=None, *, page=None
) -> Page:
    """A page speaking ``locale``: ``page`` when given (a page of a context made here for the
    same locale: its cookies are cleared), else one in a new browser context. Signed in as
    ``username`` (on its landing page, ``sign_in``) when given, anonymous otherwise. Close it
    with ``page.context.close()``."""
    if page is None:
        page = browser.new_context(locale=locale).new_page()
    if username:
        return sign_in(page, live_server, username, password, landing)
    page.context.clear_cookies()
    return page
