"""Issue 5's journey in a real browser: staff suspend a demo certificate, the client finds the
suspension notice in the portal, the public page shows the period; staff restore it and the
public page shows it valid again.

The demo data set is built through the services; staff work on the workspace's certificate
page (the admin is for superusers only); the public pages need no log-in.
"""

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from certbody.dates import add_months
from certbody.models import User
from certificates.models import Certificate, CertificateDocument
from tests.e2e.helpers import login, workspace_action

# One worker builds the demo and restores it for each of these (tests/demo_snapshot.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo")]


@pytest.fixture
def story(cb):
    """A valid demo certificate held by a client with a log-in, and a decision maker."""
    from tests.demo_snapshot import load_demo

    demo_password = load_demo()
    client_user = (
        User.objects.filter(
            organization__certificates__status=Certificate.Status.VALID,
            organization__certificates__head__isnull=True,
        )
        .order_by("username")
        .first()
    )
    assert client_user is not None, "the demo has a client with a valid certificate"
    certificate = Certificate.objects.get(
        organization=client_user.organization,
        head__isnull=True,
        status=Certificate.Status.VALID,
    )
    decider = User.objects.filter(groups__name="decision_maker", is_active=True).first()
    return SimpleNamespace(
        certificate=certificate,
        decider=decider,
        decider_password=demo_password(decider.username),
        client=client_user,
        client_password=demo_password(client_user.username),
    )


def test_suspend_notify_publish_restore(browser, live_server, story, screenshot):
    certificate, decider, client_user = story.certificate, story.decider, story.client
    today = timezone.localdate()
    until = add_months(today, 3)
    certificate_page = f"{live_server.url}/staff/certificates/{certificate.pk}/"
    public_url = f"{live_server.url}/verify/{certificate.token}/"

    # Staff: suspend at the client's own request, verified today.
    page = login(browser, live_server, decider.username, story.decider_password)
    page.goto(certificate_page)
    workspace_action(
        page,
        "suspend",
        {
            "cause": "11",
            "verified_on": today.isoformat(),
            "starts_on": today.isoformat(),
            "ends_on": until.isoformat(),
            "reason": "门店装修停业，获证组织书面申请暂停",
            "evidence": "获证组织暂停申请函",
        },
    )
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    screenshot("suspension-workspace-done", page)

    # The client: the suspension notice is in the portal and downloads as the stored PDF (in
    # the same browser, after the decision maker).
    portal = login(
        browser, live_server, client_user.username, story.client_password, r"/portal/$", page=page
    )
    card = portal.locator(f'.card[data-number="{certificate.number}"]')
    expect(card.locator(".banner.warn")).to_contain_text(f"{today:%Y-%m-%d} – {until:%Y-%m-%d}")
    row = card.locator('tr[data-kind="suspension_notice"]')
    expect(row).to_have_count(1)
    with portal.expect_download() as download_info:
        row.locator("a.button").click()
    content = Path(download_info.value.path()).read_bytes()
    notice = CertificateDocument.objects.get(
        certificate=certificate, kind=CertificateDocument.Kind.SUSPENSION_NOTICE
    )
    assert content.startswith(b"%PDF")
    assert len(content) == notice.size
    screenshot("suspension-portal-notice", portal)

    # The public: the QR page and the list of invalid certificates show the period.
    public_context = browser.new_context(locale="zh-CN")
    public = public_context.new_page()
    public.goto(public_url)
    expect(public.locator(".banner.warn")).to_contain_text(
        f"{today.year}年{today.month}月{today.day}日 至 {until.year}年{until.month}月{until.day}日"
    )
    expect(public.locator("body")).to_contain_text("暂停期间不得使用认证证书和认证标志")
    expect(public.locator("body")).to_contain_text("主动请求暂停的")
    screenshot("suspension-public-suspended", public)
    public.goto(f"{live_server.url}/verify/invalid/")
    expect(public.locator(f'tr[data-number="{certificate.number}"]')).to_contain_text(
        f"暂停期：{today:%Y-%m-%d} 至 {until:%Y-%m-%d}"
    )

    # Staff: the cause is removed; restore with the evidence.
    page = login(browser, live_server, decider.username, story.decider_password, page=portal)
    page.goto(certificate_page)
    workspace_action(
        page,
        "restore",
        {"restored_on": today.isoformat(), "evidence": "门店恢复营业，现场验证服务正常"},
    )
    page.context.close()

    # The public page shows it valid again, with the suspension in its history.
    public.goto(public_url)
    expect(public.locator(".banner.ok")).to_have_text("本证书有效。")
    expect(public.locator(".banner.warn")).to_have_count(0)
    expect(public.locator('tr[data-kind="restored"]')).to_contain_text(today.isoformat())
    public.goto(f"{live_server.url}/verify/invalid/")
    expect(public.locator(f'tr[data-number="{certificate.number}"]')).to_have_count(0)
    screenshot("suspension-public-restored", public)
    public_context.close()
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    assert certificate.documents.filter(kind="restoration_notice").count() == 1
