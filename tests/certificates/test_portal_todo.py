"""The portal home is a to-do list (issue #14): contract to sign, NCs to answer with their due
dates, invoices due, the next audit window; certificates below. Appeal and change /
suspension / cancellation requests are offered only where they apply, and the views refuse
them otherwise (004 §8.1: an appeal needs a decision or a certificate)."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import Invoice
from certificates.portal_todo import portal_todo
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.audits.nc_factories import raise_nc, stage2_in_progress
from tests.certificates.factories import accepted_application, issued_certificate

pytestmark = pytest.mark.usefixtures("cb")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def todo_html(body: str) -> str:
    return re.search(r'<section class="card todo".*?</section>', body, re.S).group(0)


def test_open_nc_is_on_the_home_with_its_due_date_and_the_answer_page(client, staff):
    stage2 = stage2_in_progress(OrganizationFactory(name="上海国美商贸有限公司"), staff)
    nc = raise_nc(stage2, staff)
    user = ClientUserFactory(organization=stage2.programme.organization)
    client.force_login(user)

    todo = todo_html(client.get("/portal/").content.decode())
    row = re.search(r'<tr data-kind="nonconformity".*?</tr>', todo, re.S).group(0)
    assert f'href="/portal/nonconformities/{nc.pk}/"' in row
    assert nc.due_on.isoformat() in row
    assert client.get(f"/portal/nonconformities/{nc.pk}/").status_code == 200


def test_without_a_certificate_no_request_and_no_appeal_is_offered_or_accepted(client, staff):
    stage2 = stage2_in_progress(OrganizationFactory(name="上海国美商贸有限公司"), staff)
    client.force_login(ClientUserFactory(organization=stage2.programme.organization))

    body = client.get("/portal/").content.decode()
    assert "/portal/requests/new/" not in body
    assert "/portal/appeals/new/" not in body
    # Neither the requests card nor the navigation's "Requests" link: nothing to ask about.
    assert 'href="/portal/requests/"' not in body and "client-requests" not in body
    for url in ("/portal/requests/new/", "/portal/appeals/new/"):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == "/portal/"
        messages = [str(m) for m in response.context["messages"]]
        assert messages and ("证书" in messages[0] or "certificate" in messages[0])
    assert client.post("/portal/requests/new/", {"kind": "cancellation"}).status_code == 302


def test_a_certificate_holder_is_offered_requests_and_appeals_and_sees_the_next_audit(
    client, staff
):
    certificate = issued_certificate(OrganizationFactory(name="南京苏宁电器有限公司"), staff)
    client.force_login(ClientUserFactory(organization=certificate.organization))
    surveillance = certificate.programme.audits.get(kind="surveillance", sequence=1)

    body = client.get("/portal/").content.decode()
    assert "/portal/requests/new/" in body and "/portal/appeals/new/" in body
    assert 'href="/portal/requests/"' in body and "client-requests" in body
    next_audit = re.search(r'data-testid="next-audit">(.*?)</p>', body, re.S).group(1)
    assert surveillance.due_on.isoformat() in next_audit
    assert body.index('data-testid="portal-todo"') < body.index(
        f'data-number="{certificate.number}"'
    )
    assert client.get("/portal/requests/new/").status_code == 200


def test_contract_to_sign_and_invoices_due_oldest_overdue_first(client, staff, time_machine):
    time_machine.move_to(datetime(2026, 3, 1, 9, tzinfo=SHANGHAI), tick=False)
    application = accepted_application(
        OrganizationFactory(name="北京京东家电有限公司"), staff, sign=False
    )
    contract = application.contract
    for number, due_on in (("INV-2", date(2026, 4, 1)), ("INV-1", date(2026, 2, 1))):
        Invoice.objects.create(
            contract=contract,
            number=number,
            kind=Invoice.Kind.APPLICATION,
            amount=Decimal("3000.00"),
            issued_on=date(2026, 1, 1),
            due_on=due_on,
            recorded_by=staff.market,
        )
    user = ClientUserFactory(organization=application.organization)

    items = portal_todo(user, date(2026, 3, 1))
    assert [i.kind for i in items] == ["contract", "invoice", "invoice"]
    assert items[0].url == f"/portal/applications/{application.pk}/contract/sign/"
    assert [i.day for i in items[1:]] == [date(2026, 2, 1), date(2026, 4, 1)]
    assert [i.overdue for i in items[1:]] == [True, False]
    # On the boundary day an invoice is due, not overdue.
    assert not portal_todo(user, date(2026, 2, 1))[1].overdue

    other = ClientUserFactory(organization=OrganizationFactory())
    assert portal_todo(other, date(2026, 3, 1)) == []
    assert portal_todo(staff.market, date(2026, 3, 1)) == []


def test_portal_home_queries_do_not_grow_with_the_to_do_list(client, staff):
    stage2 = stage2_in_progress(OrganizationFactory(name="上海国美商贸有限公司"), staff)
    raise_nc(stage2, staff)
    client.force_login(ClientUserFactory(organization=stage2.programme.organization))
    client.get("/portal/")  # warm the per-process caches (the CB's profile)
    with CaptureQueriesContext(connection) as before:
        client.get("/portal/")
    for n in range(5):
        raise_nc(stage2, staff, clause=f"5.{n}.1", raised_on=stage2.actual_start + timedelta(0))
    with CaptureQueriesContext(connection) as after:
        body = client.get("/portal/").content.decode()
    assert todo_html(body).count('data-kind="nonconformity"') == 6
    assert len(after) == len(before)
