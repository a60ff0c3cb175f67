"""The nonconformities list's bulk action "remind the client" and the audits list's search by
team member (issue #14): each ticked NC awaiting the client's answer sends the client the
reminder letter (004 §5.10.1) through the outbox; an NC not waiting for the client is listed
as refused; a role without ``audits.remind_nonconformity`` is answered 403."""

import pytest

from audits.models import Nonconformity
from certbody import roles
from certbody.models import OutgoingEmail
from tests.applications.factories import ClientUserFactory
from tests.audits.nc_factories import answer, raise_nc, stage2_in_progress
from tests.certificates.factories import Staff
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")


@pytest.fixture
def setting(db):
    staff = Staff()
    audit = stage2_in_progress(staff=staff)
    organization = audit.programme.organization
    organization.contact_email = "contact@client.example.cn"
    organization.save(update_fields=["contact_email"])
    waiting = raise_nc(audit, staff)
    answered = raise_nc(audit, staff, clause="5.3.3")
    answer(answered, ClientUserFactory(organization=organization))
    return staff, audit, waiting, answered


def test_remind_the_client_of_the_ticked_nonconformities(client, setting, english):
    staff, audit, waiting, answered = setting
    answered.refresh_from_db()
    assert answered.state == Nonconformity.State.ANSWERED
    client.force_login(staff.planner)

    done = client.post(
        "/staff/nonconformities/bulk/",
        {"bulk": "remind", "selected": [waiting.pk, answered.pk], "confirm": "1"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    body = done.content.decode()
    assert "Done on 1 row." in body
    assert "not possible in the current state" in body
    letters = OutgoingEmail.objects.filter(kind="nonconformity_reminder")
    assert "contact@client.example.cn" in set(letters.values_list("to", flat=True))
    assert all(f"NC-{waiting.number:02d}" in letter.subject for letter in letters)


def test_forged_reminder_by_a_role_without_the_permission_is_403(client, setting):
    staff, audit, waiting, answered = setting
    client.force_login(make_staff("nc-market", roles.MARKET))

    response = client.post(
        "/staff/nonconformities/bulk/",
        {"bulk": "remind", "selected": [waiting.pk], "confirm": "1"},
    )

    assert response.status_code == 403
    assert not OutgoingEmail.objects.filter(kind="nonconformity_reminder").exists()


def test_audits_are_found_by_the_name_of_a_team_member(client, setting):
    staff, audit, waiting, answered = setting
    staff.leader.display_name = "钱审核"
    staff.leader.save(update_fields=["display_name"])
    client.force_login(staff.planner)

    found = client.get("/staff/audits/?q=钱审核").content.decode()
    missed = client.get("/staff/audits/?q=孙无人").content.decode()

    assert f"/staff/audits/{audit.pk}/" in found
    assert f"/staff/audits/{audit.pk}/" not in missed
