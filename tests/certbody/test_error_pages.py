"""400, 403, 404, 429 and 500 answer with the product's own page, in the visitor's language,
with a way back, and the 500 page shows no internal detail (DEBUG off, as in production)."""

import re

import pytest
from django.test import Client

from applications.models import Application
from certbody import roles
from tests.applications.factories import OrganizationFactory
from tests.certbody.test_workspace import new_application
from tests.conftest import make_staff

pytestmark = [pytest.mark.usefixtures("cb"), pytest.mark.urls("tests.certbody.error_urls")]

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _production_debug(settings):
    settings.DEBUG = False


def page(response) -> str:
    return response.content.decode()


def assert_product_page(response, code: int) -> str:
    body = page(response)
    assert response.status_code == code
    assert f'data-testid="error-{code}"' in body
    assert 'href="/"' in body and 'href="/verify/"' in body  # a way back: home, search
    assert "site.css" in body  # the product's layout, not Django's bare page
    return body


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Page not found"), ("zh-hans", "页面不存在")]
)
def test_an_unknown_url_renders_the_product_404_in_the_visitors_language(db, language, title):
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get("/no-such-page/")

    body = assert_product_page(response, 404)
    assert title in body


def test_a_forbidden_action_renders_the_403_page_naming_the_role_it_needs(db):
    draft = new_application(make_staff("market-err", roles.MARKET), OrganizationFactory())
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_staff("decider-err", roles.DECISION_MAKER))

    response = client.post(f"/staff/applications/{draft.pk}/submit/")

    body = assert_product_page(response, 403)
    assert "Not allowed" in body
    assert 'data-testid="needed-role"' in body
    assert "Market (applications, contracts)" in body  # applications.create_application
    draft.refresh_from_db()
    assert draft.state == Application.State.DRAFT


def test_the_403_page_names_the_role_in_chinese_too(db):
    draft = new_application(make_staff("market-err2", roles.MARKET), OrganizationFactory())
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(make_staff("decider-err2", roles.DECISION_MAKER))

    body = assert_product_page(client.post(f"/staff/applications/{draft.pk}/submit/"), 403)

    assert "市场部" in body


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_server_error_renders_the_500_page_without_internal_detail(db, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language, raise_request_exception=False)

    body = assert_product_page(client.get("/test-errors/500/"), 500)

    assert "hunter2" not in body and "RuntimeError" not in body and "Traceback" not in body
    if language == "en":
        # The language switch names each language in itself (简体中文); nothing else is Chinese.
        assert "Something went wrong" in body
        assert not CJK.search(re.sub(r'<form class="language".*?</form>', "", body, flags=re.S))


def test_a_bad_request_renders_the_400_page(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)

    body = assert_product_page(client.get("/test-errors/400/"), 400)

    assert "Bad request" in body and "malformed request detail" not in body


def test_too_many_requests_renders_the_429_page_in_the_visitors_language(db, settings):
    settings.RATELIMIT_VERIFY = "1/m"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.get("/verify/")

    response = client.get("/verify/")

    assert response.status_code == 429
    assert "Too many requests" in page(response)
    assert "site.css" in page(response)
