"""The appeals list's bulk action "assign a handler" (issue #14; 004 §8.3): a confirm page
listing the ticked cases, then each case through ``appeal_assign`` with the matrix asked per
row; a case whose state does not allow it is listed as refused and left as it was; a role
without ``certificates.assign_appeal`` is answered 403."""

import re
from datetime import date

import pytest

from certbody import roles
from certificates import services
from certificates.models import Appeal
from tests.applications.factories import OrganizationFactory
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")


@pytest.fixture
def people(db):
    class People:
        market = make_staff("bulk-market", roles.MARKET)
        technical_manager = make_staff("bulk-tm", roles.TECHNICAL_MANAGER)
        handler = make_staff("bulk-handler", roles.MARKET)

    return People


def complaint(people, *, acknowledged=True):
    case = services.appeal_receive(
        actor=people.market,
        kind="complaint",
        received_on=date(2025, 4, 1),
        subject="维修承诺未兑现",
        description="说明",
        name="张女士",
        contact="13800000000",
        organization=OrganizationFactory(),
    )
    if acknowledged:
        services.appeal_acknowledge(
            appeal=case, actor=people.market, acknowledged_on=date(2025, 4, 2)
        )
    return case


def test_assign_a_handler_to_many_cases_lists_the_refused_ones(client, people, english):
    ready = [complaint(people), complaint(people)]
    not_acknowledged = complaint(people, acknowledged=False)
    ids = [str(case.pk) for case in [*ready, not_acknowledged]]
    client.force_login(people.technical_manager)

    confirm = client.post("/staff/appeals/bulk/", {"bulk": "assign", "selected": ids})
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert all(case.reference in page for case in [*ready, not_acknowledged])
    assert Appeal.objects.filter(handler__isnull=False).count() == 0  # nothing done yet

    done = client.post(
        "/staff/appeals/bulk/",
        {"bulk": "assign", "selected": ids, "confirm": "1", "handler": people.handler.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    body = done.content.decode()
    assert done.status_code == 200
    assert "Done on 2 rows." in body
    refused = re.search(r'data-testid="bulk-refused".*?</table>', body, re.S).group(0)
    assert not_acknowledged.reference in refused
    assert "not possible in the current state" in refused
    for case in ready:
        case.refresh_from_db()
        assert (case.handler, case.state) == (people.handler, Appeal.State.UNDER_INVESTIGATION)
    not_acknowledged.refresh_from_db()
    assert (not_acknowledged.handler, not_acknowledged.state) == (None, Appeal.State.RECEIVED)


def test_confirm_without_a_handler_changes_nothing(client, people):
    case = complaint(people)
    client.force_login(people.technical_manager)

    response = client.post(
        "/staff/appeals/bulk/", {"bulk": "assign", "selected": [case.pk], "confirm": "1"}
    )

    assert response.status_code == 422
    case.refresh_from_db()
    assert case.handler is None


def test_forged_bulk_assign_by_a_role_without_the_permission_is_403(client, people):
    case = complaint(people)
    client.force_login(people.market)

    page = client.get("/staff/appeals/").content.decode()
    response = client.post(
        "/staff/appeals/bulk/",
        {"bulk": "assign", "selected": [case.pk], "confirm": "1", "handler": people.handler.pk},
    )

    assert 'value="assign"' not in page  # not offered
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.handler is None
