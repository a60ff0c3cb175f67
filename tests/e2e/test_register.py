"""Issue 17 in a real browser: a visitor filters the public register by region and star grade
and downloads the filtered CSV; a certificate's live badge turns red after its suspension."""

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from certbody.dates import add_months
from certificates import services
from certificates.badge import GREEN, RED
from certificates.models import Certificate
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import Staff, issued_certificate
from tests.certificates.register_factories import make_certificate

pytestmark = pytest.mark.django_db(transaction=True)


def badge_state(page, url: str) -> tuple[str, set[str]]:
    """Open the badge in the browser: its data-status and the fills of its shapes."""
    response = page.goto(url)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    svg = page.locator("svg")
    fills = set(svg.locator("rect").evaluate_all("rects => rects.map(r => r.getAttribute('fill'))"))
    return svg.get_attribute("data-status"), fills


def test_register_filters_downloads_and_the_badge_turns_red(browser, live_server, cb, screenshot):
    staff = Staff()
    wanted = issued_certificate(
        OrganizationFactory(name="苏州金桥电器有限公司", division_code="320505"),
        staff,
        grade="five_star",
        decided_on=date(2025, 3, 20),
    )
    make_certificate(name="苏州别家电器有限公司", division_code="320506", grade="four_star")
    make_certificate(name="北京五星电器有限公司", division_code="110105", grade="five_star")

    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()

    # A visitor finds the register from the verification page.
    page.goto(f"{live_server.url}/verify/")
    page.locator('[data-testid="nav-register"]').click()
    expect(page).to_have_url(re.compile(r"/register/$"))
    expect(page.locator("table.register tbody tr")).to_have_count(3)

    # Filter by region (Jiangsu) and grade (five star).
    page.select_option("#id_region", "32")
    page.select_option("#id_grade", "five_star")
    page.locator("#register-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"region=32"))
    rows = page.locator("table.register tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-number", wanted.number)
    expect(rows.first).to_contain_text("苏州金桥电器有限公司")
    expect(rows.first).to_contain_text("江苏省")
    screenshot("register-filtered", page)

    # The CSV holds the filtered rows only.
    with page.expect_download() as download_info:
        page.locator('[data-testid="register-csv"]').click()
    download = download_info.value
    assert re.fullmatch(r"register-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    content = Path(download.path()).read_bytes()
    assert content.startswith("\ufeff".encode())
    header, *lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [line[0] for line in lines] == [wanted.number]
    assert lines[0][header.index("星级")] == "五星级"

    # The badge: green while valid.
    badge_url = f"{live_server.url}/badge/{wanted.token}.svg"
    status, fills = badge_state(page, badge_url)
    assert status == "valid"
    assert GREEN in fills
    context.close()

    # The certificate is suspended.
    today = timezone.localdate()
    services.certificate_suspend(
        certificate=Certificate.objects.get(pk=wanted.pk),
        actor=staff.decider,
        cause=11,
        verified_on=today,
        starts_on=today,
        ends_on=add_months(today, 3),
    )

    # The same badge URL now shows it red (a new visitor, nothing cached).
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    status, fills = badge_state(page, badge_url)
    assert status == "suspended"
    assert RED in fills and GREEN not in fills
    # And the register marks it suspended.
    page.goto(f"{live_server.url}/register/?region=32&grade=five_star")
    expect(page.locator(f'tr[data-number="{wanted.number}"]')).to_have_attribute(
        "data-status", "suspended"
    )
    screenshot("register-suspended", page)
    context.close()
