"""The market department is told, in its notifications and by e-mail, of a client's online
application, a contract signed off in the portal and a client request (applications.
market_notices; certificates.services.client_requests)."""

from datetime import date

import pytest
from django.core import mail

from applications import services
from applications.models import ApplicationDocument, ApplicationReview
from certbody import roles
from certbody.lifecycle import RuleViolation
from certbody.models import Notification
from certificates import services as cert_services
from certificates.models import ClientRequest
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certbody.test_uploads import PDF, upload
from tests.certificates.factories import Staff, issued_certificate
from tests.conftest import make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cb")]


@pytest.fixture
def officer(db):
    """A market officer with an e-mail address."""
    user = make_staff("market-notices", roles.MARKET)
    user.email = "shichang@cb.example.cn"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def planner_with_mail(db):
    user = make_staff("planner-notices", roles.AUDIT_DEPARTMENT)
    user.email = "shenhe@cb.example.cn"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def organization():
    return OrganizationFactory(name="苏州吴中家电服务有限公司")


@pytest.fixture
def own(organization):
    return ClientUserFactory(organization=organization, display_name="孙三")


def online(organization, actor):
    return services.application_submit_online(
        organization=organization,
        actor=actor,
        documents=[
            (kind.value, upload(f"{kind}.pdf", PDF)) for kind in ApplicationDocument.REQUIRED
        ],
        scope_text="家用电器的安装及维修服务",
        headcount=50,
        business_scope_codes=[24],
    )


def mailed_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def test_an_online_application_is_told_to_the_market_department(
    officer, planner_with_mail, organization, own, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = online(organization, own)

    (notice,) = Notification.objects.filter(recipient=officer)
    assert notice.kind == "online_application"
    assert notice.link == f"/staff/applications/{application.pk}/"
    assert application.reference in notice.subject and organization.name in notice.subject
    (letter,) = mailed_to("shichang@cb.example.cn")
    assert application.reference in letter.subject
    assert notice.link in letter.body
    # the audit department does not review applications: not told
    assert not Notification.objects.filter(recipient=planner_with_mail).exists()
    assert not mailed_to("shenhe@cb.example.cn")


def test_an_application_entered_by_the_market_department_tells_no_one(
    officer, market, organization
):
    online(organization, market)
    assert not Notification.objects.filter(kind="online_application").exists()


def test_a_refused_online_application_tells_no_one(officer, own):
    other = OrganizationFactory()
    with pytest.raises(RuleViolation):
        online(other, own)  # another organisation's
    assert not Notification.objects.exists()


def accepted_with_contract(organization, own, market):
    application = online(organization, own)
    services.application_start_review(application=application, actor=market)
    services.application_review_record(
        application=application, actor=market, checks=dict.fromkeys(ApplicationReview.CHECKS, True)
    )
    services.application_accept(application=application, actor=market)
    return services.contract_create(application=application, actor=market, fee=18000)


def test_a_contract_signed_in_the_portal_is_told_to_the_market_department(
    officer, market, organization, own, django_capture_on_commit_callbacks
):
    contract = accepted_with_contract(organization, own, market)
    Notification.objects.all().delete()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.contract_sign(
            contract=contract, actor=own, signed_on=date.today(), signed_by_client="孙三"
        )

    (notice,) = Notification.objects.filter(recipient=officer)
    assert notice.kind == "contract_signed"
    assert notice.link == f"/staff/contracts/{contract.pk}/"
    assert contract.number in notice.subject
    assert mailed_to("shichang@cb.example.cn")


def test_a_signature_recorded_by_the_market_department_tells_no_one(
    officer, market, organization, own
):
    contract = accepted_with_contract(organization, own, market)
    Notification.objects.all().delete()

    services.contract_sign(
        contract=contract, actor=market, signed_on=date.today(), signed_by_client="孙三"
    )

    assert not Notification.objects.filter(kind="contract_signed").exists()


def test_a_client_request_is_told_to_the_market_department(
    officer, django_capture_on_commit_callbacks
):
    certificate = issued_certificate(OrganizationFactory(name="无锡家电服务有限公司"), Staff())
    client_user = ClientUserFactory(organization=certificate.organization)

    with django_capture_on_commit_callbacks(execute=True):
        request = cert_services.client_request_submit(
            actor=client_user,
            kind=ClientRequest.Kind.CHANGE,
            details="公司地址变更",
            certificate=certificate,
        )

    (notice,) = Notification.objects.filter(recipient=officer)
    assert notice.kind == "client_request"
    assert notice.link == f"/staff/requests/{request.pk}/"
    assert mailed_to("shichang@cb.example.cn")
