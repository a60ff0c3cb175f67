"""Browser tests: pytest-playwright driving Debian's Chromium (never a downloaded browser)."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "accept_downloads": True}


def screenshots_wanted() -> bool:
    """Whether the journeys save their full-page screenshots: only with ``E2E_SCREENSHOTS`` set
    (``1`` or ``all``). Each costs about 0.3 s of Chromium's CPU and asserts nothing, and the
    suite runs twice in CI; ``test_responsive`` keeps its own few always (issue #15)."""
    return bool(os.environ.get("E2E_SCREENSHOTS"))


@pytest.fixture
def screenshot():
    """``screenshot(name, page)``: a full-page screenshot of ``page`` (a Playwright ``Page``)
    saved as ``tests/e2e/screenshots/<name>.png`` for a person to look at, when
    ``screenshots_wanted()``; otherwise nothing. (It asks for no ``page`` fixture of its own:
    that would open a browser context the journeys, which open their own, never use.)"""
    wanted = screenshots_wanted()
    if wanted:
        SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str, page):
        if wanted:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
