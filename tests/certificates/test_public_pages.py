"""The public search and QR pages for anonymous readers (issue #16): the layout comes from a
frame rendered once per language (certbody.public_layout) and a certificate's rendered facts
are kept under its public row's ETag, yet the page is the one the whole template gives and a
status change shows at once, with the local-memory cache and with Redis."""

import re
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.utils import translation
from django.utils.html import escape

from certbody import public_layout
from certificates import services as cert_services
from certificates.models import Certificate, PublicCertificate
from certificates.public import STATUS_TEXT
from tests.certificates.helpers import (
    certificates_in_every_status,
    multi_site_certificate,
    skip_pdf_rendering,
)
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status
LANGUAGES = ["zh-hans", "en"]


@pytest.fixture(autouse=True)
def _setup(settings, monkeypatch):
    skip_pdf_rendering(monkeypatch)
    settings.RATELIMIT_ENABLE = False
    public_layout.frames_clear()


certificates = shared_fixture(certificates_in_every_status, name="certificates")


@shared_fixture
def multi_site(staff, module_monkeypatch):
    """A head certificate of 多网点电器有限公司 with one sub-certificate."""
    skip_pdf_rendering(module_monkeypatch)
    return multi_site_certificate(staff=staff)


def _redis_url() -> str:
    """The Redis of this run (``REDIS_URL``, as CI's second phase sets it), or ""."""
    url = django_settings.REDIS_URL
    if not url:
        return ""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return ""
    return url


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    if request.param == "redis":
        url = _redis_url()
        if not url:
            pytest.skip("no Redis (set REDIS_URL)")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "certbody-public-pages-test",
            }
        }
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    caches["default"].clear()
    yield request.param
    caches["default"].clear()
    caches.close_all()


def _page(client, url, language, **extra) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language, **extra)
    assert response.status_code == 200
    return response.content.decode()


def _whole_template(client, url, language, **extra) -> str:
    """The page as ``render`` gives it to an anonymous reader: a session cookie (of no
    session) takes the request past the frame."""
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "no-such-session"
    try:
        return _page(client, url, language, **extra)
    finally:
        del client.cookies[django_settings.SESSION_COOKIE_NAME]


def _text(language, status, which) -> str:
    with translation.override(language):
        return escape(str(STATUS_TEXT[status][which]))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("status", list(Status))
def test_the_anonymous_pages_are_the_ones_the_whole_template_gives(
    client, status, language, certificates
):
    certificate = certificates[status]
    urls = [f"/verify/?q={certificate.number.lower()}", f"/verify/{certificate.token}/"]

    for url in urls:
        fast = _page(client, url, language)
        again = _page(client, url, language)  # from the kept frame and fragment

        assert fast == again == _whole_template(client, url, language), url
        assert _text(language, status, 1) in fast


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "query", ["", "x", "多网点", "多网点电器", "012399FW9999R0C", "<b>&amp;\"'"]
)
def test_the_search_page_without_one_result_is_the_one_the_whole_template_gives(
    client, query, language, multi_site
):

    fast = _page(client, "/verify/", language, data={"q": query})

    assert fast == _whole_template(client, "/verify/", language, data={"q": query})
    assert "<b>" not in fast


def test_a_reader_sees_their_query_and_the_language_form_returns_to_their_page(
    client, certificates
):
    certificate = certificates[Status.VALID]
    query = f" {certificate.number.lower()} "

    body = _page(client, "/verify/", "zh-hans", data={"q": query, "utm": '"><x>'})

    assert f'name="q" value="{escape(query.strip())}"' in body
    next_path = re.search(r'name="next" value="([^"]*)"', body).group(1)
    assert next_path.startswith("/verify/?q=")
    assert "&quot;&gt;&lt;x&gt;" not in next_path and "%22%3E%3Cx%3E" in next_path


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_status_change_shows_at_once_on_the_kept_search_and_qr_pages(
    client, cache_backend, language, staff, certificates
):
    certificate = certificates[Status.VALID]
    search = f"/verify/?q={certificate.number}"
    qr = f"/verify/{certificate.token}/"
    for url in (search, qr, search, qr):  # kept frames and fragments from here on
        body = _page(client, url, language)
        assert _text(language, Status.VALID, 0) in body
        assert _text(language, Status.SUSPENDED, 1) not in body

    cert_services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=11,
        verified_on=date(2025, 6, 2),
        starts_on=date(2025, 6, 2),
        ends_on=date(2025, 9, 1),
    )

    for url in (search, qr):
        body = _page(client, url, language)
        assert _text(language, Status.SUSPENDED, 1) in body, url
        assert "2025-09-01" in body
    assert 'class="banner warn"' in _page(client, qr, language)

    cert_services.certificate_restore(
        certificate=certificate,
        actor=staff.decider,
        restored_on=date(2025, 7, 15),
        evidence="整改验证通过",
    )

    for url in (search, qr):
        body = _page(client, url, language)
        assert _text(language, Status.SUSPENDED, 1) not in body, url
        assert _text(language, Status.VALID, 1) in body
    assert 'class="banner ok"' in _page(client, qr, language)


def test_the_qr_page_of_a_replaced_certificate_links_the_new_one_from_its_public_row(
    client, certificates
):
    old = certificates[Status.SUPERSEDED]
    new = old.superseded_by

    assert PublicCertificate.objects.get(pk=old.pk).successor_token == new.token
    assert PublicCertificate.objects.get(pk=new.pk).successor_token == ""
    body = _page(client, f"/verify/{old.token}/", "en")
    assert f'<a href="/verify/{new.token}/">{new.number}</a>' in body


def test_an_anonymous_reader_gets_no_cookie_and_leaves_no_session(client, certificates):
    from django.contrib.sessions.models import Session

    certificate = certificates[Status.VALID]

    for url in ("/verify/", f"/verify/?q={certificate.number}", f"/verify/{certificate.token}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert dict(response.cookies) == {}, url
        assert "csrfmiddlewaretoken" not in response.content.decode()
    assert not Session.objects.exists()
