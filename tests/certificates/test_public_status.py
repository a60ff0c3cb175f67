"""Public disclosure of every status with its dates and reasons (002 §4.1.2; 004 §7.2.3,
§9.4): the QR page, the API, and the list of suspended, withdrawn and cancelled certificates."""

import re
from datetime import date

import pytest

from certificates import services
from certificates.models import Certificate
from certificates.views import INVALID_PAGE_SIZE
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import Staff, issued_certificate
from tests.certificates.helpers import (
    certificates_in_every_status,
    multi_site_certificate,
    restored_certificate,
    skip_pdf_rendering,
)
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status
INVALID = [Status.WITHDRAWN, Status.CANCELLED, Status.EXPIRED, Status.SUPERSEDED]

# status → (the sentence with its dates, the public reason or "")
EXPECTED = {
    Status.VALID: ("有效期 2025-03-20 至 2028-03-19", ""),
    Status.SUSPENDED: ("自 2025-06-02 起暂停，暂停期至 2025-09-01", "主动请求暂停的"),
    Status.WITHDRAWN: ("自 2025-07-01 起撤销", "没有运行售后服务认证体系或者已不具备运行条件的"),
    Status.CANCELLED: ("自 2025-07-01 起注销", "认证委托人申请注销的"),
    Status.EXPIRED: ("自 2028-03-20 起过期失效", "认证证书有效期届满，认证委托人未申请延期使用的"),
    Status.SUPERSEDED: ("自 2025-09-10 起由新证书 {successor} 替代", "因换发新证而撤销旧证书"),
}


def expected(certificate):
    """``EXPECTED`` for ``certificate``, naming its successor (numbers follow the module's
    shared certificates)."""
    since, reason = EXPECTED[certificate.status]
    successor = certificate.superseded_by.number if certificate.superseded_by else ""
    return since.format(successor=successor), reason


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


certificates = shared_fixture(certificates_in_every_status, name="certificates")


def detail(client, certificate) -> str:
    response = client.get(f"/verify/{certificate.token}/")
    assert response.status_code == 200
    return response.content.decode()


def history_rows(body) -> list[str]:
    return re.findall(r'<tr data-kind="\w+"><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td></tr>', body)


# --- QR page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_qr_page_shows_the_status_with_its_dates_and_reason(client, status, certificates):
    certificate = certificates[status]
    since, reason = expected(certificate)

    body = detail(client, certificate)

    if status == Status.VALID:
        assert "原因" not in body
    else:
        assert f"<dt>原因</dt><dd>{reason}" in body
    if status in INVALID:
        assert since in body


@pytest.mark.parametrize("status", INVALID)
def test_qr_page_of_an_invalid_certificate_is_unmistakable(client, status, certificates):
    certificate = certificates[status]

    body = detail(client, certificate)

    assert 'role="alert"' in body
    assert "证书无效 · 请勿采信" in body
    assert re.search(r"<title>【[^】]+】" + certificate.number, body)


@pytest.mark.parametrize("status", [Status.VALID, Status.SUSPENDED])
def test_qr_page_of_a_valid_or_suspended_certificate_has_no_invalid_stamp(
    client, status, certificates
):
    body = detail(client, certificates[status])

    assert "证书无效" not in body


def test_qr_page_lists_the_status_history_in_plain_chinese(client):
    staff = Staff()
    certificate = restored_certificate(staff)
    services.certificate_withdraw(
        certificate=certificate,
        actor=staff.decider,
        cause=3,
        verified_on=date(2025, 8, 1),
        withdrawn_on=date(2025, 8, 4),
    )

    rows = history_rows(detail(client, certificate))

    assert rows == [
        ("2025-03-20", "发证"),
        ("2025-06-02", "暂停，暂停期 2025-06-02 至 2025-09-01；原因：主动请求暂停的"),
        ("2025-07-15", "恢复，暂停原因已消除"),
        (
            "2025-08-04",
            "撤销，证书编号作废；原因：拒绝配合认证监管部门实施的监督检查，"
            "或者对有关事项的询问和调查提供了虚假材料或信息的",
        ),
    ]


def test_qr_page_never_shows_the_staffs_particulars(client, staff, certificates):
    certificate = certificates[Status.VALID]
    services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=1,
        verified_on=date(2025, 6, 3),
        starts_on=date(2025, 6, 3),
        ends_on=date(2025, 8, 1),
        reason="内部：总经理王某拒绝整改",
    )

    body = detail(client, certificate)

    assert "总经理王某" not in body
    assert "售后服务认证体系持续或严重不满足认证要求" in body


def test_superseded_certificate_links_its_successor(client, certificates):
    old = certificates[Status.SUPERSEDED]

    body = detail(client, old)

    assert f'href="/verify/{old.superseded_by.token}/">{old.superseded_by.number}</a>' in body


def test_reissued_certificate_shows_date_and_change_type_only(client, staff, certificates):
    certificate = certificates[Status.VALID]
    services.certificate_reissue(
        certificate=certificate,
        actor=staff.decider,
        reason="01",
        reissued_on=date(2025, 7, 1),
        changes={"organization_name": "北京新名称电器有限公司"},
        note="内部备注",
    )

    body = detail(client, certificate)

    assert "换证日期</dt><dd>2025-07-01（组织更名）" in body
    assert "北京新名称电器有限公司" in body
    assert "内部备注" not in body


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_api_gives_every_status_its_dates_reason_and_history(client, status, certificates):
    certificate = certificates[status]
    since, reason = expected(certificate)

    data = client.get(f"/api/v1/certificates/{certificate.number}").json()

    assert data["status_since"] == since
    assert data["status_reason"] == reason
    assert data["history"][0] == {
        "date": "2025-03-20",
        "kind": "issued",
        "label": "发证",
        "status_code": "01",
        "text": "发证",
    }
    dated = {
        "withdrawn_on": Status.WITHDRAWN,
        "cancelled_on": Status.CANCELLED,
        "expired_on": Status.EXPIRED,
        "superseded_on": Status.SUPERSEDED,
    }
    for key, own in dated.items():
        assert (data[key] is not None) == (status == own), key
    assert data["number_void"] == (status == Status.WITHDRAWN)
    assert data["superseded_by"] == (
        certificate.superseded_by.number if status == Status.SUPERSEDED else None
    )


def test_api_suspension_history_carries_the_period(client, certificates):
    certificate = certificates[Status.SUSPENDED]

    data = client.get(f"/api/v1/certificates/{certificate.number}").json()

    assert data["history"][-1]["text"] == (
        "暂停，暂停期 2025-06-02 至 2025-09-01；原因：主动请求暂停的"
    )


# --- list of invalid certificates (004 §9.4) ----------------------------------------------------


def listed(response) -> list[str]:
    return re.findall(r'<tr data-number="([^"]+)">', response.content.decode())


def test_invalid_list_shows_suspended_withdrawn_and_cancelled_with_dates_and_reasons(
    client, certificates
):
    response = client.get("/verify/invalid/")

    assert response.status_code == 200
    numbers = listed(response)
    shown = {certificates[s].number for s in (Status.SUSPENDED, Status.WITHDRAWN, Status.CANCELLED)}
    assert set(numbers) == shown
    body = response.content.decode()
    assert "暂停期：2025-06-02 至 2025-09-01" in body
    assert "自 2025-07-01 起撤销" in body
    assert "自 2025-07-01 起注销" in body
    assert "主动请求暂停的" in body
    assert "认证委托人申请注销的" in body


def test_invalid_list_filters_by_status(client, certificates):
    suspended = certificates[Status.SUSPENDED]  # next to a cancelled one

    response = client.get("/verify/invalid/", {"status": "suspended"})

    assert listed(response) == [suspended.number]


def test_invalid_list_includes_sub_certificates(client):
    staff = Staff()
    head, sub = multi_site_certificate(staff=staff)
    # The module's shared certificates in the list (suspended, withdrawn, cancelled) stay.
    before = set(listed(client.get("/verify/invalid/")))
    services.certificate_cancel(
        certificate=head, actor=staff.decider, cancelled_on=date(2025, 5, 6)
    )

    assert set(listed(client.get("/verify/invalid/"))) == before | {head.number, sub.number}


def test_invalid_list_is_paginated_newest_first(client):
    staff = Staff()
    certificates = [issued_certificate(OrganizationFactory(), staff) for _ in range(3)]
    # The module's shared certificates in the list, changed later (June, July), come first.
    before = listed(client.get("/verify/invalid/"))
    for day, certificate in enumerate(certificates, start=1):
        services.certificate_cancel(
            certificate=certificate, actor=staff.decider, cancelled_on=date(2025, 5, day)
        )

    response = client.get("/verify/invalid/")

    assert listed(response) == before + [c.number for c in reversed(certificates)]
    assert INVALID_PAGE_SIZE == 50
    assert client.get("/verify/invalid/", {"page": "99"}).status_code == 200


def test_invalid_list_is_linked_from_the_search_page(client, db):
    body = client.get("/verify/").content.decode()

    assert 'href="/verify/invalid/"' in body


def test_invalid_list_is_get_only(client, db):
    assert client.post("/verify/invalid/").status_code == 405
