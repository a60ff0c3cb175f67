"""Every public and portal page reads in English for an English visitor (issue #15): no CJK
character outside the data itself (organisation names, scope text, CNCA reference labels).

Public pages follow ``Accept-Language``; the portal follows the client user's stored language.
Certificates and regulator files stay Chinese (004 §6.2.4), so PDFs are not rendered here.
"""

import re

import pytest

from certbody.models import BusinessScope, CertificationBody
from certificates.models import Certificate
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certificates.factories import Staff
from tests.certificates.helpers import certificate_in, skip_pdf_rendering
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
RUN = re.compile(CJK.pattern + "+(?:[^<>]{0,3}" + CJK.pattern + "+)*")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
Status = Certificate.Status


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


def data_values(certificate: Certificate) -> list[str]:
    """The data a page may show in Chinese: what people and the reference tables wrote."""
    organization = certificate.organization
    values = [
        organization.name,
        organization.registered_address,
        certificate.organization_name,
        certificate.registered_address,
        certificate.scope_text,
        certificate.standard,
        certificate.status_reason,
        certificate.reissue_reason,
    ]
    values += list(BusinessScope.objects.values_list("name", flat=True))
    values.append(CertificationBody.objects.get().address)
    # the language switch names each language in itself
    values.append("简体中文")
    return sorted((v for v in values if v), key=len, reverse=True)


def cjk_outside_data(html: str, data: list[str]) -> list[str]:
    """Snippets of ``html`` around each run of CJK characters that is not part of a data value."""
    for value in data:
        html = html.replace(value, "")
    found = []
    for match in RUN.finditer(html):
        snippet = html[max(0, match.start() - 30) : match.end() + 30].replace("\n", " ")
        if snippet not in found:
            found.append(snippet)
    return found


@shared_fixture
def staff(cb):
    # the CB's English name is shown in English; its address is data
    cb.name_en = "CITIC Certification Co., Ltd."
    cb.save()
    return Staff()


@shared_fixture
def certificates(staff, module_monkeypatch):
    """A valid, a suspended and a withdrawn certificate of organisations with English names."""
    skip_pdf_rendering(module_monkeypatch)
    made = {}
    for i, status in enumerate((Status.VALID, Status.SUSPENDED, Status.WITHDRAWN)):
        organization = OrganizationFactory(name=f"Acme Retail {i} Ltd")
        made[status] = certificate_in(status, organization, staff)
    return made


def data_of(certificates) -> list[str]:
    values = []
    for certificate in certificates.values():
        values += data_values(certificate)
    return sorted(set(values), key=len, reverse=True)


def assert_english(response, data):
    assert response.status_code == 200, response.status_code
    leftovers = cjk_outside_data(response.content.decode(), data)
    assert not leftovers, "\n".join(leftovers[:15])


def test_public_pages_are_english_for_an_english_visitor(client, certificates):
    data = data_of(certificates)
    valid = certificates[Status.VALID]
    pages = [
        "/verify/",
        f"/verify/?q={valid.number}",
        "/verify/?q=Acme",
        "/verify/?q=zz-no-such",
        "/verify/?q=x",
        "/verify/invalid/",
        "/verify/invalid/?status=suspended",
        "/complaints/new/",
    ]
    pages += [f"/verify/{c.token}/" for c in certificates.values()]
    for url in pages:
        assert_english(client.get(url, **EN), data)


def test_the_complaint_form_errors_are_english(client, certificates):
    response = client.post("/complaints/new/", {"name": ""}, **EN)
    assert_english(response, data_of(certificates))


def test_api_labels_follow_accept_language(client, certificates):
    suspended = certificates[Status.SUSPENDED]
    body = client.get(f"/api/v1/certificates/{suspended.number}", **EN).json()
    for key in ("status_label", "status_meaning", "status_since", "star_grade_label"):
        assert not CJK.search(body[key]), (key, body[key])
    for event in body["history"]:
        assert not CJK.search(event["label"]), event
    chinese = client.get(f"/api/v1/certificates/{suspended.number}").json()
    assert chinese["status_label"] == "暂停"


def test_portal_pages_are_english_for_an_english_client(client, certificates):
    valid = certificates[Status.VALID]
    user = ClientUserFactory(organization=valid.organization, language="en")
    client.force_login(user)
    data = data_of(certificates)
    for url in (
        "/portal/",
        "/portal/appeals/new/",
        "/portal/requests/",
        "/portal/requests/new/",
        "/portal/nonconformities/",
        "/portal/audits/",
        "/portal/applications/",
    ):
        response = client.get(url)
        if response.status_code == 404:
            continue
        assert_english(response, data)
