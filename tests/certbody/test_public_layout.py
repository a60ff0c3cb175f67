"""The public pages' layout for anonymous readers, from a frame kept per process
(certbody.public_layout; issue #16): what may change it shows at once, and whoever is more than
an anonymous reader still gets the whole layout."""

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from certbody import public_layout, roles
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_frames(settings):
    settings.RATELIMIT_ENABLE = False
    public_layout.frames_clear()


def test_a_change_of_the_cb_profile_shows_at_once_in_the_kept_layout(client, cb):
    assert "CNCA-R-2018-123" in client.get("/verify/").content.decode()

    cb.name = "新名称认证有限公司"
    cb.cnca_approval_number = "CNCA-R-2026-999"
    cb.save()

    page = client.get("/verify/").content.decode()
    assert "新名称认证有限公司" in page
    assert "CNCA-R-2026-999" in page and "CNCA-R-2018-123" not in page


def test_the_kept_layout_follows_the_language(client, cb):
    assert 'lang="zh-hans"' in client.get("/verify/").content.decode()

    page = client.get("/verify/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'lang="en"' in page and "Verify a certificate" in page
    assert 'lang="zh-hans"' in client.get("/verify/").content.decode()


def test_a_signed_in_person_gets_their_own_layout_on_the_public_pages(cb):
    user = make_staff("layout-tm", roles.TECHNICAL_MANAGER)
    anonymous = Client()
    anonymous.get("/verify/")  # the anonymous frame exists
    browser = Client()
    browser.force_login(user)

    page = browser.get("/verify/").content.decode()

    assert 'data-testid="profile-link"' in page
    assert f'action="{reverse("logout")}"' in page and "csrfmiddlewaretoken" in page
    assert 'data-testid="profile-link"' not in anonymous.get("/verify/").content.decode()


def test_a_reader_with_a_message_waiting_sees_it_on_the_public_pages(client, cb):
    cookie = CookieStorage(HttpRequest())._encode([Message(constants.INFO, "消息已送达")])
    client.cookies[CookieStorage.cookie_name] = cookie

    page = client.get("/verify/").content.decode()

    assert "消息已送达" in page


def test_only_requests_without_session_or_messages_cookie_are_anonymous_readers(settings):
    request = HttpRequest()
    assert public_layout.anonymous_reader(request)
    request.COOKIES = {"csrftoken": "x", "django_language": "en"}
    assert public_layout.anonymous_reader(request)
    request.COOKIES = {settings.SESSION_COOKIE_NAME: "x"}
    assert not public_layout.anonymous_reader(request)
    request.COOKIES = {CookieStorage.cookie_name: "x"}
    assert not public_layout.anonymous_reader(request)


def test_kept_fragments_are_bounded_and_the_oldest_go_first(monkeypatch):
    monkeypatch.setattr(public_layout, "MAX_FRAGMENTS", 3)
    rendered = []

    def render(n):
        rendered.append(n)
        return f"<p>{n}</p>"

    for n in (1, 2, 3, 1, 4, 1):
        assert public_layout.fragment(("test", n), lambda n=n: render(n)) == f"<p>{n}</p>"

    assert rendered == [1, 2, 3, 4, 1]
