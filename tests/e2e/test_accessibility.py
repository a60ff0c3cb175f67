"""Issue 15: axe-core finds no serious or critical accessibility problem on the main pages.

axe-core's own script ships inside the ``axe-playwright-python`` package (no network): it is
run on the demo data over the staff home, a staff list, a staff object page, the score sheet, the
client portal's home and nonconformity pages, the public verification pages and the complaint
form, in Simplified Chinese and in English.
Every violation whose impact is "serious" or "critical" fails the test (missing labels, too little
contrast, no landmarks, no page language, ...); the "moderate" and "minor" ones are left to a
person reading the report.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from audits.models import Audit
from certbody.models import User
from certificates.models import Certificate
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.helpers import demo_with_open_sheet, locale_page

# One worker builds the demo and restores it for each of these (tests/demo_snapshot.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo")]

BLOCKING = {"serious", "critical"}


@pytest.fixture
def demo(cb):
    return demo_with_open_sheet()


def _problems(page, url, report=None) -> list[str]:
    """axe-core's serious and critical violations on ``url``, one line per element; every
    violation (also the moderate and minor ones) is appended to ``report`` (a list of lines)."""
    if url:
        page.goto(url)
    results = Axe().run(page)
    # axe-core did run its rules on the page (a page it could not read would pass nothing)
    assert results.response["testEngine"]["name"] == "axe-core", url
    assert results.response["passes"], url
    found = []
    for violation in results.response["violations"]:
        if report is not None:
            report.append(f"{url}: [{violation['impact']}] {violation['id']}: {violation['help']}")
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            found.append(
                f"{url}: [{violation['impact']}] {violation['id']}: {violation['help']}"
                f" at {node['target']}: {node.get('failureSummary', '')}"
            )
    return found


def test_no_serious_accessibility_violations(browser, live_server, demo):
    stage2 = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.IN_PROGRESS)
    leader = stage2.team.get(role="leader").user
    # a valid certificate whose holder has a portal log-in
    with_login = User.objects.filter(organization__isnull=False).values("organization")
    certificate = (
        Certificate.objects.filter(status="valid", head__isnull=True, organization__in=with_login)
        .order_by("number")
        .first()
    )
    client = User.objects.filter(organization=certificate.organization).first()
    stage2_client = User.objects.get(organization=stage2.programme.organization)
    base = live_server.url
    pages = {
        # (user or None, landing): urls
        (leader.username, r"/home/$"): [
            f"{base}/home/",
            f"{base}/audits/{stage2.pk}/score-sheet/",
        ],
        ("decider1", r"/home/$"): [
            f"{base}/staff/certificates/",
            f"{base}/staff/certificates/{certificate.pk}/",
        ],
        (client.username, r"/portal/$"): [f"{base}/portal/"],
        (stage2_client.username, r"/portal/$"): [
            f"{base}/portal/nonconformities/",
            f"{base}/portal/nonconformities/{stage2.nonconformities.first().pk}/",
        ],
        (None, None): [
            f"{base}/verify/",
            f"{base}/verify/?q=有限公司",
            f"{base}/verify/{certificate.token}/",
            f"{base}/complaints/new/",
            f"{base}/register/",
            f"{base}/register/changes/",
        ],
    }
    found, report = [], []
    for locale in ("zh-CN", "en-US"):
        page = None  # one browser per language, each user signing in after the last
        for (username, landing), urls in pages.items():
            password = demo(username) if username else None
            page = locale_page(browser, live_server, locale, username, password, landing, page=page)
            for url in urls:
                found += _problems(page, url, report)
        page.context.close()
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "axe-report.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    assert not found, f"{len(found)} serious or critical accessibility problems:\n" + "\n".join(
        found
    )


def test_axe_reports_unlabelled_fields_and_images(page):
    """The check itself: axe-core, run from the package's own copy, reports an image without a
    text alternative and a field without a label as serious or critical."""
    page.set_content('<html lang="en"><body><main><img src="x.png"><input></main></body></html>')
    found = _problems(page, None)
    assert any("image-alt" in line for line in found), found
    assert any("label" in line for line in found), found
