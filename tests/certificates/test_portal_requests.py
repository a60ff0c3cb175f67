"""A client's requests for a change, a cancellation or a suspension (issue #7): submitted in the
portal for its own organisation's certificates only (another's is a 404), notified to staff,
answered on the workspace's "requests" desk; the status change itself stays with the
certificate actions (certificates.services.client_requests)."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certbody import roles
from certbody.lifecycle import RuleViolation
from certbody.models import Notification
from certificates import services
from certificates.models import Certificate, ClientRequest
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certificates.factories import Staff, issued_certificate
from tests.certificates.helpers import certificate_in, multi_site_certificate
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

Kind = ClientRequest.Kind
State = ClientRequest.State


def at_today():
    return time_machine.travel(
        datetime(2026, 6, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    )


@pytest.fixture(autouse=True)
def _today():
    with at_today():
        yield


@shared_fixture
def staff(cb):
    with at_today():
        return Staff()


@shared_fixture
def certificate(staff):
    with at_today():
        return issued_certificate(OrganizationFactory(name="南京苏宁电器有限公司"), staff)


@shared_fixture
def own(certificate):
    """A client user of the certificate's organisation, with an e-mail address."""
    with at_today():
        return ClientUserFactory(
            organization=certificate.organization, email="kehu@suning.example.cn"
        )


@shared_fixture
def other(staff):
    """A certificate of another organisation."""
    with at_today():
        return issued_certificate(OrganizationFactory(name="上海国美商贸有限公司"), staff)


@pytest.fixture
def technical_manager(db):
    user = make_staff("tm-requests", roles.TECHNICAL_MANAGER)
    user.email = "tm@cb.example.cn"
    user.save(update_fields=["email"])
    return user


def submit(user, certificate=None, kind=Kind.SUSPENSION, details="因店面装修，申请暂停三个月"):
    return services.client_request_submit(
        actor=user, kind=kind, details=details, certificate=certificate
    )


# --- portal -----------------------------------------------------------------------------------


def test_client_submits_a_suspension_request_in_the_portal(
    client, own, certificate, technical_manager, django_capture_on_commit_callbacks
):
    client.force_login(own)
    form = client.get(f"/portal/requests/new/?certificate={certificate.pk}")
    assert form.status_code == 200
    assert certificate.number in form.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/portal/requests/new/",
            {"kind": "suspension", "certificate": certificate.pk, "details": "店面装修，申请暂停"},
        )

    assert response.status_code == 302
    assert response["Location"] == "/portal/requests/"
    request = ClientRequest.objects.get()
    assert (request.organization, request.certificate, request.kind, request.state) == (
        certificate.organization,
        certificate,
        Kind.SUSPENSION,
        State.RECEIVED,
    )
    assert request.submitted_by == own
    notification = Notification.objects.get(recipient=technical_manager)
    assert notification.link == f"/staff/requests/{request.pk}/"
    assert certificate.number in notification.subject
    assert any("tm@cb.example.cn" in m.to for m in mail.outbox)
    listing = client.get("/portal/requests/").content.decode()
    assert f'data-request="{request.pk}"' in listing
    assert f'data-request="{request.pk}"' in client.get("/portal/").content.decode()


def test_the_portal_navigation_links_to_the_requests(client, own):
    client.force_login(own)

    assert 'href="/portal/requests/"' in client.get("/portal/").content.decode()


def test_a_change_request_may_name_no_certificate(client, own):
    client.force_login(own)

    response = client.post("/portal/requests/new/", {"kind": "change", "details": "公司地址变更"})

    assert response.status_code == 302
    assert ClientRequest.objects.get().certificate is None


def test_a_cancellation_request_needs_a_certificate(client, own):
    client.force_login(own)

    response = client.post("/portal/requests/new/", {"kind": "cancellation", "details": "申请注销"})

    assert response.status_code == 422
    assert "须指明证书" in response.content.decode()
    assert not ClientRequest.objects.exists()


def test_another_organisations_certificate_in_the_link_is_404(client, own, other):
    client.force_login(own)

    assert client.get(f"/portal/requests/new/?certificate={other.pk}").status_code == 404


def test_another_organisations_certificate_in_a_forged_post_is_404(client, own, other):
    client.force_login(own)

    response = client.post(
        "/portal/requests/new/",
        {"kind": "cancellation", "certificate": other.pk, "details": "申请注销"},
    )

    assert response.status_code == 404
    assert not ClientRequest.objects.exists()


def test_a_client_sees_only_their_organisations_requests(client, own, certificate, other):
    mine = submit(own, certificate)
    theirs = submit(ClientUserFactory(organization=other.organization), other)
    client.force_login(own)

    body = client.get("/portal/requests/").content.decode()

    assert f'data-request="{mine.pk}"' in body
    assert f'data-request="{theirs.pk}"' not in body


def test_staff_have_no_portal_request_pages(client, staff):
    client.force_login(staff.market)

    assert client.get("/portal/requests/").status_code == 404
    assert client.get("/portal/requests/new/").status_code == 404


def test_the_service_refuses_another_organisations_certificate(own, other):
    with pytest.raises(RuleViolation, match="本组织"):
        submit(own, other)


def test_the_service_refuses_staff(staff, certificate):
    with pytest.raises(RuleViolation, match="获证组织的用户"):
        submit(staff.market, certificate)


@pytest.mark.parametrize(
    ("status", "kind", "allowed"),
    [
        (Certificate.Status.SUSPENDED, Kind.SUSPENSION, False),
        (Certificate.Status.SUSPENDED, Kind.CANCELLATION, True),
        (Certificate.Status.SUSPENDED, Kind.CHANGE, False),
        (Certificate.Status.WITHDRAWN, Kind.CANCELLATION, False),
    ],
)
def test_the_certificates_status_must_allow_what_is_asked(staff, status, kind, allowed):
    certificate = certificate_in(status, staff=staff)
    user = ClientUserFactory(organization=certificate.organization)

    if allowed:
        assert submit(user, certificate, kind=kind).certificate == certificate
    else:
        with pytest.raises(RuleViolation, match="不能申请"):
            submit(user, certificate, kind=kind)


def test_a_sub_certificate_stands_for_its_head(staff):
    head, sub = multi_site_certificate(staff=staff)
    user = ClientUserFactory(organization=head.organization)

    assert submit(user, sub).certificate == head


# --- staff desk -------------------------------------------------------------------------------


def offered(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r'data-action="([^"]+)"', response.content.decode()))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (roles.TECHNICAL_MANAGER, {"handle"}),
        (roles.AUDIT_DEPARTMENT, {"handle"}),
        (roles.MARKET, {"handle"}),
        (roles.DECISION_MAKER, set()),
        (roles.REPORTING_OFFICER, set()),
    ],
)
def test_request_actions_per_role(client, own, certificate, role, expected):
    request = submit(own, certificate)
    client.force_login(make_staff(f"user-{role}", role))

    response = client.get(f"/staff/requests/{request.pk}/")

    assert offered(response) == expected
    assert f"/staff/certificates/{certificate.pk}/" in response.content.decode()


def test_staff_answer_a_request_and_the_client_is_told(
    client, own, certificate, technical_manager, django_capture_on_commit_callbacks
):
    request = submit(own, certificate)
    client.force_login(technical_manager)
    url = f"/staff/requests/{request.pk}/handle/"
    assert client.get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"outcome": "handled", "note": "已于 6 月 1 日暂停证书"})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == State.HANDLED
    assert request.handled_by == technical_manager
    assert request.outcome_note == "已于 6 月 1 日暂停证书"
    assert any(own.email in m.to for m in mail.outbox)
    page = client.get(f"/staff/requests/{request.pk}/")
    assert offered(page) == set()
    client.force_login(own)
    assert "已于 6 月 1 日暂停证书" in client.get("/portal/requests/").content.decode()


def test_declining_needs_a_reason(client, own, certificate, technical_manager):
    request = submit(own, certificate)
    client.force_login(technical_manager)

    response = client.post(f"/staff/requests/{request.pk}/handle/", {"outcome": "declined"})

    assert response.status_code == 422
    request.refresh_from_db()
    assert request.state == State.RECEIVED


def test_a_forged_answer_by_a_decision_maker_is_403(client, own, certificate, staff):
    request = submit(own, certificate)
    client.force_login(staff.decider)

    response = client.post(
        f"/staff/requests/{request.pk}/handle/", {"outcome": "declined", "note": "x"}
    )

    assert response.status_code == 403
    request.refresh_from_db()
    assert request.state == State.RECEIVED


def test_a_client_cannot_answer_their_own_request(client, own, certificate):
    request = submit(own, certificate)
    client.force_login(own)

    response = client.post(
        f"/staff/requests/{request.pk}/handle/", {"outcome": "handled", "note": "x"}
    )

    assert response.status_code == 403


def test_requests_list_filters_exports_and_keeps_its_query_count(
    client, own, certificate, other, staff
):
    first = submit(own, certificate)
    client.force_login(staff.market)
    client.get("/staff/requests/")
    with CaptureQueriesContext(connection) as one:
        client.get("/staff/requests/")
    submit(ClientUserFactory(organization=other.organization), other, kind=Kind.CANCELLATION)
    submit(own, None, kind=Kind.CHANGE, details="名称变更")
    with CaptureQueriesContext(connection) as three:
        response = client.get("/staff/requests/")

    assert len(three) == len(one)
    assert "上海国美商贸有限公司" in response.content.decode()
    cancellation = client.get("/staff/requests/?kind=cancellation").content.decode()
    assert "上海国美商贸有限公司" in cancellation and "南京苏宁电器有限公司" not in cancellation
    handled = client.get("/staff/requests/?state=handled").content.decode()
    assert "南京苏宁电器有限公司" not in handled
    csv = client.get("/staff/requests/?export=csv")
    assert csv.status_code == 200 and "南京苏宁电器有限公司" in csv.content.decode("utf-8-sig")
    xlsx = client.get("/staff/requests/?export=xlsx")
    assert xlsx.content[:2] == b"PK"
    assert first.pk


def test_the_certificate_page_lists_its_requests(client, own, certificate, staff):
    request = submit(own, certificate)
    client.force_login(staff.planner)

    body = client.get(f"/staff/certificates/{certificate.pk}/").content.decode()

    assert f"/staff/requests/{request.pk}/" in body
    assert date(2026, 6, 1).isoformat() in body
