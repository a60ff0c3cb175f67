"""Client portal: a certified client's certificates and downloads (002 §4.1.2; style.md
"Querysets for clients are always filtered by the user's organisation")."""

import hashlib

import pytest

from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certificates.factories import issued_certificate
from tests.certificates.helpers import certificate_document, multi_site_certificate
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")


@shared_fixture
def certificate(staff):
    """A certificate with its real PDF, held by 苏宁 (the client under test)."""
    return issued_certificate(OrganizationFactory(name="南京苏宁电器有限公司"), staff)


def download_url(document):
    return f"/portal/documents/{document.pk}/"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_client_sees_their_organisations_certificate_with_its_download_link(client, certificate):
    client.force_login(ClientUserFactory(organization=certificate.organization))
    document = certificate_document(certificate)

    response = client.get("/portal/")

    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-number="{certificate.number}"' in body
    assert f'href="{download_url(document)}"' in body
    assert f'href="/verify/{certificate.token}/"' in body


def test_client_downloads_the_certificate_pdf_exactly_as_stored(client, certificate):
    client.force_login(ClientUserFactory(organization=certificate.organization))
    document = certificate_document(certificate)

    response = client.get(download_url(document))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert certificate.number in response["Content-Disposition"]
    content = body_of(response)
    assert content.startswith(b"%PDF")
    assert len(content) == document.size
    assert hashlib.sha256(content).hexdigest() == document.sha256


def test_client_of_a_multi_site_organisation_sees_head_and_sub_certificates(client, staff):
    head, sub = multi_site_certificate(staff=staff)
    client.force_login(ClientUserFactory(organization=head.organization))

    response = client.get("/portal/")

    body = response.content.decode()
    assert f'data-number="{head.number}"' in body
    assert f'data-number="{sub.number}"' in body
    assert f'href="{download_url(certificate_document(sub))}"' in body


def test_client_of_another_organisation_does_not_see_the_certificate(client, certificate, staff):
    own = issued_certificate(OrganizationFactory(name="上海国美商贸有限公司"), staff)
    client.force_login(ClientUserFactory(organization=own.organization))

    response = client.get("/portal/")

    body = response.content.decode()
    assert f'data-number="{own.number}"' in body
    assert certificate.number not in body
    assert download_url(certificate_document(certificate)) not in body


def test_client_of_another_organisation_gets_404_for_the_download(client, certificate, staff):
    own = issued_certificate(OrganizationFactory(name="上海国美商贸有限公司"), staff)
    client.force_login(ClientUserFactory(organization=own.organization))

    response = client.get(download_url(certificate_document(certificate)))

    assert response.status_code == 404
    assert client.get(download_url(certificate_document(own))).status_code == 200


def test_user_without_organisation_sees_nothing_and_downloads_nothing(client, certificate):
    client.force_login(ClientUserFactory(organization=None))

    assert certificate.number not in client.get("/portal/").content.decode()
    assert client.get(download_url(certificate_document(certificate))).status_code == 404


def test_unknown_document_is_404(client, certificate):
    client.force_login(ClientUserFactory(organization=certificate.organization))

    assert client.get("/portal/documents/999999/").status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client, certificate):
    url = download_url(certificate_document(certificate))

    portal = client.get("/portal/")
    download = client.get(url)

    assert portal.status_code == 302
    assert portal["Location"] == "/accounts/login/?next=/portal/"
    assert download.status_code == 302
    assert download["Location"].startswith("/accounts/login/?next=")


def test_staff_are_sent_from_the_portal_to_their_workspace(client, staff):
    client.force_login(staff.planner)

    response = client.get("/portal/")

    assert response.status_code == 302
    assert response["Location"] == "/home/"


def test_staff_can_download_any_clients_document(client, certificate, staff):
    client.force_login(staff.planner)
    document = certificate_document(certificate)

    response = client.get(download_url(document))

    assert response.status_code == 200
    assert hashlib.sha256(body_of(response)).hexdigest() == document.sha256


def test_download_is_get_only(client, certificate):
    client.force_login(ClientUserFactory(organization=certificate.organization))

    assert client.post(download_url(certificate_document(certificate))).status_code == 405
