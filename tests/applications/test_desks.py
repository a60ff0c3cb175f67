"""Staff desks for organisations, applications and contracts: lists (search, filters, exports,
constant queries), object pages (sections, masked phones, history) and every action offered
to exactly the roles of the policy matrix, through its confirm page, 403 when forged."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import (
    Application,
    ApplicationDocument,
    ApplicationReview,
    ClientInvitation,
    Contract,
)
from certbody import roles
from certbody.models import BusinessScope
from tests.applications.factories import ClientUserFactory, OrganizationFactory, SiteFactory
from tests.certbody.test_uploads import PDF, upload
from tests.conftest import make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cb")]

ROLES = ("market", "planner", "leader", "decider", "technical_manager", "reporting_officer")


@pytest.fixture
def reporting_officer(db):
    return make_staff("ro1", roles.REPORTING_OFFICER)


@pytest.fixture
def organization():
    organization = OrganizationFactory(
        name="华东家电服务有限公司", contact_phone="13812345678", contact_email="fw@example.cn"
    )
    SiteFactory(organization=organization, name="上海总部", is_head_office=True)
    ClientUserFactory(organization=organization, display_name="赵六", phone="13900001111")
    return organization


@pytest.fixture
def draft(organization, market):
    return services.application_create(
        organization=organization,
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )


@pytest.fixture
def submitted(draft, market):
    return services.application_submit(application=draft, actor=market)


def accepted(application, market):
    services.application_start_review(application=application, actor=market)
    services.application_review_record(
        application=application,
        actor=market,
        checks=dict.fromkeys(ApplicationReview.CHECKS, True),
        notes="资料齐全",
    )
    return services.application_accept(application=application, actor=market)


@pytest.fixture
def contract(submitted, market):
    accepted(submitted, market)
    return services.contract_create(application=submitted, actor=market, fee=20000)


def offered(response) -> set[str]:
    return set(re.findall(r'data-action="([^"]+)"', response.content.decode()))


def object_url(key, obj):
    return reverse("workspace:object", args=[key, obj.pk])


def action_url(key, obj, action):
    return reverse("workspace:action", args=[key, obj.pk, action])


def list_url(key):
    return reverse("workspace:list", args=[key])


def rows_of(response) -> list:
    return list(response.context["table"].page.object_list.data)


# --- organisations ---------------------------------------------------------------------------


def test_organisations_list_searches_filters_and_exports(client, market, organization):
    shanghai = OrganizationFactory(name="上海售后服务有限公司", division_code="310101", scopes=[11])
    client.force_login(market)

    def names(**query):
        response = client.get(list_url("organizations"), query)
        assert response.status_code == 200
        return {row.record.name for row in response.context["table"].page.object_list}

    assert names() == {organization.name, shanghai.name}
    assert names(q="华东") == {organization.name}
    assert names(q=shanghai.uscc.lower()) == {shanghai.name}
    assert names(province="31") == {shanghai.name}
    assert names(division_code="1101") == {organization.name}
    scope = BusinessScope.objects.get(code=11)
    assert names(business_scope=scope.pk) == {shanghai.name}

    response = client.get(list_url("organizations"), {"province": "31", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff") and shanghai.name in text and organization.name not in text
    assert "上海市" in text
    response = client.get(list_url("organizations"), {"export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content.startswith(b"PK")


def test_phones_are_masked_in_the_list_and_export_for_roles_without_personal_data(
    client, market, leader, organization
):
    client.force_login(leader)  # an auditor does not need the client's phone numbers
    page = client.get(list_url("organizations")).content.decode()
    assert "13812345678" not in page and "138****5678" in page
    export = client.get(list_url("organizations"), {"export": "csv"}).content.decode()
    assert "13812345678" not in export and "138****5678" in export
    client.force_login(market)
    assert "13812345678" in client.get(list_url("organizations")).content.decode()


def test_organisation_list_keeps_a_constant_number_of_queries(
    client, market, django_assert_max_num_queries
):
    OrganizationFactory.create_batch(2)
    client.force_login(market)
    with CaptureQueriesContext(connection) as few:
        client.get(list_url("organizations"))
    for organization in OrganizationFactory.create_batch(30, scopes=[11, 24]):
        SiteFactory(organization=organization)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(list_url("organizations"))
    assert len(rows_of(response)) == 25  # a full page
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(list_url("organizations"), {"export": "csv"})


def test_organisation_page_shows_sites_contacts_applications_and_certificates(
    client, market, leader, organization, draft
):
    client.force_login(market)
    response = client.get(object_url("organizations", organization))
    assert response.status_code == 200
    page = response.content.decode()
    assert "上海总部" in page and "赵六" in page
    assert "13812345678" in page and "13900001111" in page
    assert draft.reference in page and object_url("applications", draft) in page
    assert response.context["summary"][-1][1] == 0  # certificates held
    assert response.context["history"]  # created, recorded

    client.force_login(leader)
    page = client.get(object_url("organizations", organization)).content.decode()
    assert "13812345678" not in page and "138****5678" in page
    assert "13900001111" not in page and "139****1111" in page


@pytest.mark.parametrize("role", ROLES)
def test_organisation_actions_follow_the_matrix(client, request, role, organization):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get(object_url("organizations", organization))
    # the organisation's own record: applications.manage_organization (market, technical manager)
    record = {"edit", "add-site", "add-contact"}
    expected = {
        "market": {"new-application", "invite"} | record,
        "technical_manager": record,
    }.get(role, set())
    assert offered(response) == expected
    assert {a.name for a in response.context["actions"]} == expected


def test_market_creates_an_application_from_the_organisation_page(client, market, organization):
    client.force_login(market)
    url = action_url("organizations", organization, "new-application")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "scope_text": "家用电器的维修服务",
            "headcount": "45",
            "business_scope_codes": ["24"],
            "requested_grade": "standard",
        },
    )
    application = Application.objects.get(organization=organization)
    assert response.status_code == 302
    assert response["Location"] == object_url("applications", application)
    assert application.state == Application.State.DRAFT and application.headcount == 45
    assert application.history.last().history_user == market


def test_market_invites_a_client_user_from_the_organisation_page(
    client, market, organization, django_capture_on_commit_callbacks
):
    client.force_login(market)
    url = action_url("organizations", organization, "invite")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "new@example.cn"})
    assert response.status_code == 302
    assert response["Location"] == object_url("organizations", organization)
    invitation = ClientInvitation.objects.get()
    assert invitation.organization == organization and invitation.invited_by == market
    assert mail.outbox[0].to == ["new@example.cn"]
    assert "/portal/applications/register/" in mail.outbox[0].body
    page = client.get(object_url("organizations", organization)).content.decode()
    assert "new@example.cn" in page


def test_inviting_an_address_with_an_account_shows_the_refusal(client, market, organization):
    organization.users.update(email="zhao@example.cn")
    client.force_login(market)
    response = client.post(
        action_url("organizations", organization, "invite"), {"email": "zhao@example.cn"}
    )
    assert response.status_code == 422
    assert "已有账户" in response.content.decode()
    assert not ClientInvitation.objects.exists()


@pytest.mark.parametrize("role", [r for r in ROLES if r != "market"])
def test_forged_organisation_actions_are_403(client, request, role, organization):
    client.force_login(request.getfixturevalue(role))
    for action, data in (
        ("new-application", {"scope_text": "x", "headcount": "5", "requested_grade": "standard"}),
        ("invite", {"email": "x@example.cn"}),
    ):
        assert client.get(action_url("organizations", organization, action)).status_code == 403
        assert client.post(action_url("organizations", organization, action), data).status_code == (
            403
        )
    assert not Application.objects.exists() and not ClientInvitation.objects.exists()


def test_client_users_cannot_open_the_desks(client, organization):
    client.force_login(organization.users.get())
    assert client.get(list_url("organizations")).status_code == 403
    assert client.get(object_url("organizations", organization)).status_code == 403


# --- applications ----------------------------------------------------------------------------


def test_application_page_shows_the_review_the_documents_and_the_contract(
    client, planner, market, organization
):
    own = organization.users.get()
    application = services.application_submit_online(
        organization=organization,
        actor=own,
        documents=[(k.value, upload(f"{k}.pdf", PDF)) for k in ApplicationDocument.REQUIRED],
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )
    accepted(application, market)
    contract = services.contract_create(application=application, actor=market, fee=20000)
    client.force_login(planner)
    response = client.get(object_url("applications", application))
    page = response.content.decode()
    assert 'id="application-review"' in page and "资料齐全" in page
    assert len(response.context["review_checks"]) == len(ApplicationReview.CHECKS)
    assert all(passed for _label, passed in response.context["review_checks"])
    for document in application.documents.all():
        url = reverse("applications_portal:document", args=[document.pk])
        assert url in page
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    download.close()
    assert contract.number in page and object_url("contracts", contract) in page


@pytest.mark.parametrize("role", ROLES)
def test_application_actions_are_offered_to_the_market_only(client, request, role, submitted):
    client.force_login(request.getfixturevalue(role))
    response = client.get(object_url("applications", submitted))
    expected = (
        {"start-review", "withdraw", "add-documents", "request-document"}
        if role == "market"
        else set()
    )
    assert offered(response) == expected


def test_market_walks_an_application_through_its_confirm_pages(client, market, submitted):
    client.force_login(market)
    for action, data in (
        ("start-review", {}),
        ("record-review", dict.fromkeys(ApplicationReview.CHECKS, "on")),
        ("accept", {}),
        ("create-contract", {"audit_fee": "18000.00", "terms": "按通用条款执行"}),
    ):
        url = action_url("applications", submitted, action)
        assert client.get(url).status_code == 200, action
        assert client.post(url, data).status_code == 302, action
    submitted.refresh_from_db()
    assert submitted.state == Application.State.ACCEPTED
    assert submitted.contract.fee == 18000
    assert offered(client.get(object_url("applications", submitted))) == set()


def test_market_adds_documents_from_the_application_page(client, market, submitted):
    client.force_login(market)
    url = action_url("applications", submitted, "add-documents")
    response = client.post(url, {"kind": "licences", "files": [upload("许可证.pdf", PDF)]})
    assert response.status_code == 302
    document = submitted.documents.get()
    assert document.kind == "licences" and document.uploaded_by == market
    response = client.post(url, {"kind": "licences", "files": [upload("伪装.pdf", b"MZ")]})
    assert response.status_code == 422 and submitted.documents.count() == 1


@pytest.mark.parametrize("role", [r for r in ROLES if r != "market"])
def test_forged_application_actions_are_403(client, request, role, submitted):
    client.force_login(request.getfixturevalue(role))
    for action in ("start-review", "withdraw"):
        assert client.post(action_url("applications", submitted, action)).status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == Application.State.SUBMITTED


def test_applications_list_exports_and_keeps_a_constant_number_of_queries(
    client, market, draft, django_assert_max_num_queries
):
    client.force_login(market)
    with CaptureQueriesContext(connection) as few:
        client.get(list_url("applications"))
    for organization in OrganizationFactory.create_batch(12):
        services.application_create(
            organization=organization, actor=market, scope_text="x", headcount=5
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(list_url("applications"))
    assert len(rows_of(response)) == 13
    export = client.get(list_url("applications"), {"q": draft.reference, "export": "csv"})
    assert draft.reference in export.content.decode()


# --- contracts -------------------------------------------------------------------------------


def test_contracts_list_searches_filters_and_exports(client, planner, contract, market):
    other = OrganizationFactory(name="另一家公司")
    second = services.application_create(
        organization=other, actor=market, scope_text="x", headcount=5, business_scope_codes=[24]
    )
    services.application_submit(application=second, actor=market)
    accepted(second, market)
    signed = services.contract_create(application=second, actor=market, fee=30000)
    services.contract_sign(
        contract=signed, actor=market, signed_on=timezone.localdate(), signed_by_client="钱七"
    )
    client.force_login(planner)

    def numbers(**query):
        response = client.get(list_url("contracts"), query)
        assert response.status_code == 200
        return {row.record.number for row in response.context["table"].page.object_list}

    assert numbers() == {contract.number, signed.number}
    assert numbers(state="signed") == {signed.number}
    assert numbers(q="另一家") == {signed.number}
    assert numbers(q=contract.application.reference) == {contract.number}
    text = client.get(list_url("contracts"), {"export": "csv"}).content.decode()
    assert contract.number in text and "钱七" in text
    xlsx = client.get(list_url("contracts"), {"export": "xlsx"})
    assert xlsx.content.startswith(b"PK")


def test_contracts_list_keeps_a_constant_number_of_queries(
    client, market, contract, django_assert_max_num_queries
):
    client.force_login(market)
    with CaptureQueriesContext(connection) as few:
        client.get(list_url("contracts"))
    for organization in OrganizationFactory.create_batch(5):
        application = services.application_create(
            organization=organization,
            actor=market,
            scope_text="x",
            headcount=5,
            business_scope_codes=[24],
        )
        services.application_submit(application=application, actor=market)
        accepted(application, market)
        services.contract_create(application=application, actor=market, fee=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(list_url("contracts"))
    assert len(rows_of(response)) == 6


@pytest.mark.parametrize("role", ROLES)
def test_contract_signature_is_offered_to_the_market_only(client, request, role, contract):
    client.force_login(request.getfixturevalue(role))
    response = client.get(object_url("contracts", contract))
    assert response.status_code == 200
    # a draft contract: its fees can still change and invoices be recorded (tests/applications
    # /test_fees.py) or be filled in from the quotation (test_quotations.py); payments and
    # waivers need an unpaid invoice
    market = {"sign", "edit-fees", "fees-from-quotation", "issue-invoice"}
    assert offered(response) == (market if role == "market" else set())


def test_market_records_the_signature_through_the_confirm_page(client, market, contract):
    client.force_login(market)
    url = action_url("contracts", contract, "sign")
    assert client.get(url).status_code == 200
    today = timezone.localdate()
    response = client.post(url, {"signed_on": today.isoformat(), "signed_by_client": "王五"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.state == Contract.State.SIGNED and contract.signed_by_client == "王五"
    page = client.get(object_url("contracts", contract))
    assert offered(page) == {"issue-invoice"}  # invoices are recorded whatever the state
    assert any(row.reason == "合同签订" for row in page.context["history"])
    # signed once: the URL refuses a second signature
    assert client.post(
        url, {"signed_on": today.isoformat(), "signed_by_client": "x"}
    ).status_code == (409)


def test_a_signature_dated_in_the_future_is_refused(client, market, contract):
    client.force_login(market)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        action_url("contracts", contract, "sign"),
        {"signed_on": tomorrow.isoformat(), "signed_by_client": "王五"},
    )
    assert response.status_code == 422 and "不能晚于今天" in response.content.decode()
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT


@pytest.mark.parametrize("role", [r for r in ROLES if r != "market"])
def test_forged_signature_is_403(client, request, role, contract):
    client.force_login(request.getfixturevalue(role))
    today = timezone.localdate().isoformat()
    response = client.post(
        action_url("contracts", contract, "sign"), {"signed_on": today, "signed_by_client": "x"}
    )
    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT


def test_the_desks_are_in_the_staff_navigation(client, leader):
    client.force_login(leader)
    page = client.get(list_url("contracts")).content.decode()
    for key in ("organizations", "applications", "contracts"):
        assert f'href="{list_url(key)}"' in page
