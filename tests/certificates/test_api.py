"""Public JSON API GET /api/v1/certificates/<number> (002 §4.1.2; CNCA status codes §13)."""

import pytest

from certificates.models import Certificate
from tests.certificates.helpers import (
    certificates_in_every_status,
    multi_site_certificate,
    restored_certificate,
    skip_pdf_rendering,
)
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status

# status → (CNCA status code, suspended_from, suspended_until). A superseded certificate is
# reported to CNCA as withdrawn (03, reason 0120).
EXPECTED = {
    Status.VALID: ("01", None, None),
    Status.SUSPENDED: ("02", "2025-06-02", "2025-09-01"),
    Status.WITHDRAWN: ("03", None, None),
    Status.CANCELLED: ("04", None, None),
    Status.EXPIRED: ("05", None, None),
    Status.SUPERSEDED: ("03", None, None),
}


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


# A head certificate in each status, each of its own organisation; the valid one first
# (012325FW0001R0C).
certificates = shared_fixture(certificates_in_every_status, name="certificates")


@shared_fixture
def certificate(certificates):
    """A valid certificate (012325FW0001R0C, issued 2025-03-20, expires 2028-03-19)."""
    return certificates[Status.VALID]


def api(client, number):
    return client.get(f"/api/v1/certificates/{number}")


@pytest.mark.parametrize("status", list(Status))
def test_api_reports_each_status_with_its_cnca_code_and_suspension_dates(
    client, status, certificates
):
    certificate = certificates[status]
    status_code, suspended_from, suspended_until = EXPECTED[status]

    response = api(client, certificate.number)

    assert response.status_code == 200
    data = response.json()
    assert data["number"] == certificate.number
    assert data["status"] == status
    assert data["status_code"] == status_code
    assert data["suspended_from"] == suspended_from
    assert data["suspended_until"] == suspended_until


def test_api_gives_the_public_facts_of_a_certificate(client, certificate):
    response = api(client, certificate.number)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["number"] == certificate.number
    assert data["organization"] == certificate.organization.name
    assert data["scope"] == "家用电器的销售及售后服务（配送、安装、维修）"
    assert data["star_grade"] == "four_star"
    assert data["issued_on"] == "2025-03-20"
    assert data["expires_on"] == "2028-03-19"
    assert data["status"] == "valid"
    assert data["status_code"] == "01"
    assert data["suspended_from"] is None
    assert data["suspended_until"] is None


def test_api_restored_certificate_is_valid_again_without_suspension_dates(client):
    certificate = restored_certificate()

    data = api(client, certificate.number).json()

    assert (data["status"], data["status_code"]) == ("valid", "01")
    assert data["suspended_from"] is None
    assert data["suspended_until"] is None


def test_api_sub_certificate_names_its_head_and_follows_its_status(client):
    head, sub = multi_site_certificate()

    data = api(client, sub.number).json()

    assert data["number"] == sub.number
    assert data["head_number"] == head.number
    assert data["status"] == "valid"
    assert api(client, head.number).json()["head_number"] is None


def test_api_does_not_expose_internal_ids_or_the_token(client, certificate):
    response = api(client, certificate.number)

    text = response.content.decode()
    assert certificate.token not in text
    assert "token" not in response.json()
    assert "id" not in response.json()


def test_api_unknown_well_formed_number_is_404_with_json_error(client, certificate):

    response = api(client, "012325FW9999R0C")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


@pytest.mark.parametrize(
    "number",
    ["abc", "012325FW0001R0X", "012325FW001R0C", "012325FW0001R0C-0"],
    ids=["garbage", "unknown-accreditation", "short-sequence", "sub-zero"],
)
def test_api_malformed_number_is_400_with_json_error(client, number, certificate):
    assert certificate.number == "012325FW0001R0C"  # exists: a lenient lookup would find it

    response = api(client, number)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_api_is_get_only(client, certificate):
    assert client.post(f"/api/v1/certificates/{certificate.number}").status_code == 405


@pytest.mark.parametrize(
    "typed",
    ["{n}", "{lower}", " {lower} ", "{spaced}", "{fullwidth}"],
    ids=["exact", "lowercase", "outer-spaces", "inner-spaces", "full-width"],
)
def test_api_finds_a_number_typed_in_lower_case_with_spaces_or_full_width(
    client, typed, certificate
):
    n = certificate.number
    text = typed.format(
        n=n,
        lower=n.lower(),
        spaced=f"{n[:4]} {n[4:8]} {n[8:12]} {n[12:]}".lower(),
        fullwidth="".join(chr(ord(ch) + 0xFEE0) for ch in n),
    )

    response = client.get("/api/v1/certificates/" + text.replace(" ", "%20"))

    assert response.status_code == 200
    assert response.json()["number"] == n


def test_api_answers_head_requests_without_a_body(client, certificate):
    response = client.head(f"/api/v1/certificates/{certificate.number}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == b""
