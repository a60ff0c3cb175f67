"""The precomputed public rows (certificates.public_rows; issue #16): the API reads one row per
certificate, and a status change is visible at once through the API and the pages, with the
local-memory cache and with Redis; ETag and Cache-Control; search by name, USCC and number."""

import json
from datetime import date

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.html import escape

from certificates import services as cert_services
from certificates.models import Certificate, PublicCertificate
from certificates.public import STATUS_TEXT, certificate_json, public_queryset
from certificates.public_rows import public_rows_refresh, public_rows_refresh_all
from tests.certificates.factories import Staff, issued_certificate
from tests.certificates.helpers import skip_pdf_rendering

pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status
REDIS_URL = "redis://127.0.0.1:6379/1"  # this helper's database on the shared Redis


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception:
        return False
    return True


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    if request.param == "redis":
        if not _redis_available():
            pytest.skip("no Redis at 127.0.0.1:6379")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": "certbody-api-test",
            }
        }
    else:
        caches["default"].clear()
    yield request.param
    caches.close_all()


def live_json(certificate, language="en"):
    with translation.override(language):
        return certificate_json(public_queryset().get(pk=certificate.pk))


def test_a_status_change_is_served_at_once_by_the_api_and_the_pages(client, cache_backend):
    staff = Staff()
    certificate = issued_certificate(staff=staff)
    url = f"/api/v1/certificates/{certificate.number}"
    page = f"/verify/{certificate.token}/"
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"}
    assert client.get(url, **headers).json()["status"] == "valid"
    with translation.override("en"):
        suspended_meaning = escape(str(STATUS_TEXT[Status.SUSPENDED][1]))
    assert suspended_meaning not in client.get(page, **headers).content.decode()

    cert_services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=11,
        verified_on=date(2025, 6, 2),
        starts_on=date(2025, 6, 2),
        ends_on=date(2025, 9, 1),
    )

    data = client.get(url, **headers).json()
    assert (data["status"], data["suspended_until"]) == ("suspended", "2025-09-01")
    assert data == live_json(certificate)
    assert suspended_meaning in client.get(page, **headers).content.decode()
    with translation.override("en"):
        label = escape(str(STATUS_TEXT[Status.SUSPENDED][0]))
    search = client.get(f"/verify/?q={certificate.number}", **headers).content.decode()
    assert label in search

    cert_services.certificate_restore(
        certificate=certificate,
        actor=staff.decider,
        restored_on=date(2025, 7, 15),
        evidence="整改验证通过",
    )

    data = client.get(url, **headers).json()
    assert (data["status"], data["suspended_until"]) == ("valid", None)
    assert [event["kind"] for event in data["history"]] == ["issued", "suspended", "restored"]
    assert data == live_json(certificate)


def test_the_row_follows_the_organisations_name_and_uscc(client):
    certificate = issued_certificate()
    organization = certificate.organization
    Certificate.objects.filter(pk=certificate.pk).update(organization_name="")
    organization.name = "更名后的电器有限公司"
    organization.uscc = "91110105MA00ABCD1X"
    organization.save()

    data = client.get(f"/api/v1/certificates/{certificate.number}").json()

    assert data["organization"] == "更名后的电器有限公司"
    assert data["uscc"] == "91110105MA00ABCD1X"
    assert PublicCertificate.objects.get(pk=certificate.pk).uscc == "91110105MA00ABCD1X"


def test_the_rows_hold_the_live_json_in_both_languages_and_are_rebuilt_from_scratch():
    certificate = issued_certificate()
    row = PublicCertificate.objects.get(pk=certificate.pk)
    PublicCertificate.objects.all().delete()

    assert public_rows_refresh_all() == Certificate.objects.count()

    again = PublicCertificate.objects.get(pk=certificate.pk)
    assert (again.payload_zh, again.payload_en, again.etag) == (
        row.payload_zh,
        row.payload_en,
        row.etag,
    )
    assert json.loads(again.payload_zh) == live_json(certificate, "zh-hans")
    assert json.loads(again.payload_en) == live_json(certificate, "en")
    assert again.payload_zh != again.payload_en


def test_the_etag_answers_304_until_the_status_changes(client):
    staff = Staff()
    certificate = issued_certificate(staff=staff)
    url = f"/api/v1/certificates/{certificate.number}"
    first = client.get(url)
    etag = first["ETag"]
    assert first["Cache-Control"] == "public, no-cache"
    assert "Accept-Language" in first["Vary"]

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    cert_services.certificate_cancel(
        certificate=certificate, actor=staff.decider, cancelled_on=date(2025, 7, 1)
    )

    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["status"] == "cancelled"


def test_search_by_name_uscc_and_number_is_paginated(client, settings):
    settings.RATELIMIT_ENABLE = False
    certificate = issued_certificate()
    org = certificate.organization

    by_name = client.get("/api/v1/certificates", {"name": org.name[:2] + org.name[-2:]}).json()
    by_uscc = client.get("/api/v1/certificates", {"uscc": org.uscc.lower()}).json()
    by_number = client.get("/api/v1/certificates", {"number": certificate.number.lower()}).json()
    nothing = client.get("/api/v1/certificates", {"uscc": "91110105MA00ZZZZ9Z"}).json()

    for found in (by_name, by_uscc, by_number):
        assert (found["count"], found["page"], found["pages"]) == (1, 1, 1)
        result = found["results"][0]
        assert result["number"] == certificate.number
        assert result["url"].endswith(f"/verify/{certificate.token}/")
        assert set(result) == {
            "number",
            "organization",
            "uscc",
            "status",
            "status_code",
            "status_label",
            "star_grade",
            "issued_on",
            "expires_on",
            "url",
        }
    assert (nothing["count"], nothing["results"]) == (0, [])


@pytest.mark.parametrize(
    "query",
    [{}, {"name": "苏"}, {"number": "abc"}, {"uscc": "x", "page": "0"}, {"uscc": "x", "page": "z"}],
)
def test_a_refused_search_answers_400_in_the_one_error_shape(client, query):
    response = client.get("/api/v1/certificates", query)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] and body["detail"]


def test_a_batch_refresh_costs_the_same_queries_for_one_row_or_many():
    staff = Staff()
    first = issued_certificate(staff=staff)
    second = issued_certificate(staff=staff)
    before = {row.pk: row.etag for row in PublicCertificate.objects.all()}
    with CaptureQueriesContext(connection) as one:
        assert public_rows_refresh([first.pk]) == 1
    with CaptureQueriesContext(connection) as two:
        assert public_rows_refresh([first.pk, second.pk]) == 2
    assert len(two) == len(one)
    # Rewritten in place: same rows, same content, nothing added.
    assert {row.pk: row.etag for row in PublicCertificate.objects.all()} == before


def test_a_migrations_backfill_rebuilds_the_rows_only_once_the_tables_have_every_live_column(
    monkeypatch,
):
    """Replaying the history reaches the 0012 backfill before 0014's column exists: the live
    code would fail there, so it waits for the migration that adds the column."""
    from types import SimpleNamespace

    from django.db import connection

    from certificates.public_rows import public_rows_backfill

    issued_certificate()
    editor = SimpleNamespace(connection=connection)
    PublicCertificate.objects.all().delete()
    describe = connection.introspection.get_table_description

    def without_successor_token(cursor, table):
        columns = describe(cursor, table)
        if table == PublicCertificate._meta.db_table:
            return [c for c in columns if c.name != "successor_token"]
        return columns

    monkeypatch.setattr(connection.introspection, "get_table_description", without_successor_token)
    assert public_rows_backfill(editor) == 0
    assert not PublicCertificate.objects.exists()

    monkeypatch.setattr(connection.introspection, "get_table_description", describe)
    assert public_rows_backfill(editor) == Certificate.objects.count()
    assert PublicCertificate.objects.count() == Certificate.objects.count()
