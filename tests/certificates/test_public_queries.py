"""What one public, anonymous look-up costs in queries (issue #16): a well-formed number on the
search page and the API detail read one indexed ``PublicCertificate`` row and nothing else — no
certificate table, no session, no CB profile (cached), no navigation. A test here fails when a
query is added to that path."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from certificates.models import Certificate
from tests.certificates.factories import Staff
from tests.certificates.helpers import certificate_in, skip_pdf_rendering
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status


@pytest.fixture(autouse=True)
def _english(settings, monkeypatch):
    skip_pdf_rendering(monkeypatch)
    settings.LANGUAGE_CODE = "en"
    settings.RATELIMIT_ENABLE = False
    with translation.override("en"):
        yield


@shared_fixture
def certificates(cb, module_monkeypatch):
    """A valid, a suspended and a superseded head certificate, each of its own organisation."""
    skip_pdf_rendering(module_monkeypatch)
    staff = Staff()
    return {
        status: certificate_in(status, staff=staff)
        for status in (Status.VALID, Status.SUSPENDED, Status.SUPERSEDED)
    }


def _queries(client, url, params=None, **headers):
    client.get(url, params, **headers)  # warms the cached CB profile
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params, **headers)
    assert response.status_code == 200
    return response, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_number_on_the_search_page_is_one_query_on_the_public_rows(
    client, language, certificates
):
    certificate = certificates[Status.SUSPENDED]

    response, sql = _queries(
        client, "/verify/", {"q": certificate.number.lower()}, HTTP_ACCEPT_LANGUAGE=language
    )

    assert len(sql) == 1, sql
    assert "certificates_publiccertificate" in sql[0]
    assert 'certificates_certificate"' not in sql[0]
    assert certificate.number in response.content.decode()
    assert response.cookies.get("sessionid") is None


def test_the_api_detail_is_one_query_on_the_public_rows(client, certificates):
    certificate = certificates[Status.VALID]

    response, sql = _queries(client, f"/api/v1/certificates/{certificate.number}")

    assert len(sql) == 1, sql
    assert "certificates_publiccertificate" in sql[0]
    assert response.json()["number"] == certificate.number


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("status", [Status.SUSPENDED, Status.SUPERSEDED])
def test_the_qr_page_is_one_query_on_the_public_rows(client, language, status, certificates):
    certificate = certificates[status]

    response, sql = _queries(client, f"/verify/{certificate.token}/", HTTP_ACCEPT_LANGUAGE=language)

    assert len(sql) == 1, sql
    assert "certificates_publiccertificate" in sql[0]
    assert 'certificates_certificate"' not in sql[0]
    assert certificate.number in response.content.decode()
    assert response.cookies.get("sessionid") is None


def test_an_unknown_qr_token_is_one_query_and_not_found(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/verify/no-such-token/")

    sql = [q["sql"] for q in captured.captured_queries]
    assert response.status_code == 404
    assert len([q for q in sql if "certificates_publiccertificate" in q]) == 1, sql
    assert not [q for q in sql if 'certificates_certificate"' in q], sql
