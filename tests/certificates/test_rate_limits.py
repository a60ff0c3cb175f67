"""Rate limits on the public pages: verification, the JSON API and the complaint form, per
client address (certbody/security.py; limits from settings, e.g. RATELIMIT_VERIFY)."""

import pytest

from tests.certificates.test_appeals import FORM

pytestmark = pytest.mark.usefixtures("cb")

UNKNOWN_NUMBER = "012325FW9999R0C"


@pytest.fixture
def limits(settings):
    settings.RATELIMIT_VERIFY = "3/m"
    settings.RATELIMIT_API = "2/m"
    settings.RATELIMIT_COMPLAINT = "2/h"
    return settings


def test_the_verification_pages_share_one_budget_and_the_next_request_gets_429(client, limits):
    assert client.get("/verify/").status_code == 200
    assert client.get("/verify/invalid/").status_code == 200
    assert client.get("/verify/no-such-token/").status_code == 404

    response = client.get("/verify/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert "Too many requests" in body
    assert "try again later" in body


def test_the_429_page_is_in_chinese_by_default(client, limits):
    for _ in range(3):
        client.get("/verify/")

    response = client.get("/verify/")

    assert response.status_code == 429
    assert '<html lang="zh-hans">' in response.content.decode()
    assert response.templates[0].name == "429.html"


def test_another_address_is_not_limited(client, limits):
    for _ in range(3):
        client.get("/verify/invalid/")
    assert client.get("/verify/invalid/").status_code == 429

    assert client.get("/verify/invalid/", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_the_address_is_read_from_the_configured_proxy_header(client, limits):
    limits.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    for _ in range(3):
        client.get("/verify/", HTTP_X_REAL_IP="198.51.100.1")

    assert client.get("/verify/", HTTP_X_REAL_IP="198.51.100.1").status_code == 429
    assert client.get("/verify/", HTTP_X_REAL_IP="198.51.100.2").status_code == 200


def test_the_api_answers_429_in_json_with_retry_after(client, limits):
    assert client.get(f"/api/v1/certificates/{UNKNOWN_NUMBER}").status_code == 404
    assert client.get("/api/v1/certificates/not-a-number").status_code == 400

    response = client.get(f"/api/v1/certificates/{UNKNOWN_NUMBER}")

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "too many requests"
    assert int(response["Retry-After"]) == response.json()["retry_after"] > 0


def test_api_and_verification_pages_are_counted_separately(client, limits):
    for _ in range(3):
        client.get("/verify/")

    assert client.get(f"/api/v1/certificates/{UNKNOWN_NUMBER}").status_code == 404


def test_complaint_form_posts_are_limited_but_the_form_still_opens(client, limits):
    for _ in range(2):
        assert client.post("/complaints/new/", {**FORM, "subject": ""}).status_code == 200

    assert client.post("/complaints/new/", FORM).status_code == 429
    assert client.get("/complaints/new/").status_code == 200


def test_limits_can_be_switched_off(client, limits):
    limits.RATELIMIT_ENABLE = False

    for _ in range(5):
        assert client.get("/verify/").status_code == 200


def test_default_limits_leave_room_for_normal_use(client, settings):
    assert settings.RATELIMIT_VERIFY == "60/m"
    assert settings.RATELIMIT_API == "120/m"

    for _ in range(20):
        assert client.get("/verify/invalid/").status_code == 200
