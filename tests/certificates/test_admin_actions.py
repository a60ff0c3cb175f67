"""The admin pages and actions of issue 5: every transition goes through its service; the new
pages are visible to the CB's roles and their refusals come back as messages."""

from datetime import date

import pytest
from django.urls import reverse

from certificates.models import Appeal, Certificate, Proposal, RegulatoryEvent
from tests.certificates.factories import Staff, issued_certificate
from tests.certificates.helpers import skip_pdf_rendering
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@pytest.fixture
def staff(db):
    return Staff()


@pytest.fixture
def certificate(staff):
    return issued_certificate(staff=staff)


def act(client, model, pk, action, data):
    url = reverse(f"admin:certificates_{model}_changelist")
    return client.post(
        url,
        {"action": action, "_selected_action": [pk], "apply": "1", **data},
        follow=True,
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize("model", ["regulatoryevent", "proposal", "reportingobligation", "appeal"])
def test_new_pages_are_visible_to_cb_roles(client, staff, model):
    url = reverse(f"admin:certificates_{model}_changelist")
    for user in (staff.decider, staff.planner, make_staff("reporter", "reporting_officer")):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_records_cannot_be_added_or_edited_in_the_admin(client, staff):
    client.force_login(make_staff("su", "technical_manager"))
    for model in ("regulatoryevent", "proposal"):
        assert client.get(reverse(f"admin:certificates_{model}_add")).status_code == 403


def test_staff_record_a_letter_as_an_appeal_through_the_service(client, staff, certificate):
    client.force_login(staff.market)
    add = client.get(reverse("admin:certificates_appeal_add"), follow=True)
    assert add.redirect_chain[-1][0] == reverse("admin:certificates_appeal_record")

    response = client.post(
        reverse("admin:certificates_appeal_record"),
        {
            "kind": "appeal",
            "received_on": "2025-04-01",
            "decision": certificate.decision.pk,
            "subject": "对星级评定有异议（来函）",
            "description": "来函称评分有误",
        },
        follow=True,
    )

    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.organization, appeal.submitted_by) == (
        "staff",
        certificate.organization,
        staff.market,
    )
    assert any(appeal.reference in m for m in messages_of(response))


def test_recording_an_appeal_without_decision_shows_the_rule(client, staff):
    client.force_login(staff.market)

    response = client.post(
        reverse("admin:certificates_appeal_record"),
        {"kind": "appeal", "received_on": "2025-04-01", "subject": "x", "description": "y"},
    )

    assert response.status_code == 200
    assert "004 §8.1" in response.content.decode()
    assert not Appeal.objects.exists()


def test_regulatory_event_is_recorded_from_the_certificate_page(client, staff, certificate):
    client.force_login(staff.planner)

    response = act(
        client,
        "certificate",
        certificate.pk,
        "record_regulatory_event",
        {
            "kind": "spot_check",
            "occurred_on": "2025-05-06",
            "source": "省市场监管局监督抽查",
            "description": "抽查不合格",
            "level": "provincial",
            "result": "fail",
        },
    )

    assert any("1 项已完成" in m for m in messages_of(response))
    event = RegulatoryEvent.objects.get()
    assert (event.certificate, event.level, event.result) == (certificate, "provincial", "fail")


def test_reissue_action_passes_the_changes(client, staff, certificate):
    client.force_login(staff.decider)

    act(
        client,
        "certificate",
        certificate.pk,
        "reissue",
        {"reason": "99", "reissued_on": "2025-07-01", "star_grade": "five_star", "note": ""},
    )

    certificate.refresh_from_db()
    assert (certificate.star_grade, certificate.reissued_on) == ("five_star", date(2025, 7, 1))


def test_late_withdrawal_is_refused_with_the_rule_as_a_message(client, staff, certificate):
    client.force_login(staff.decider)

    response = act(
        client,
        "certificate",
        certificate.pk,
        "withdraw",
        {"cause": "1", "verified_on": "2025-08-04", "withdrawn_on": "2025-08-20"},
    )

    assert any("004 §7.3.1(1)" in m for m in messages_of(response))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_proposal_is_accepted_from_the_admin(client, staff, certificate):
    proposal = Proposal.objects.create(
        certificate=certificate,
        action="withdraw",
        cause=10,
        reason="三次抽查不合格",
        created_by=staff.decider,
    )
    client.force_login(staff.decider)

    act(
        client,
        "proposal",
        proposal.pk,
        "accept",
        {"verified_on": "2025-06-03", "withdrawn_on": "2025-06-05", "evidence": "抽查报告"},
    )

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.WITHDRAWN


def test_appeal_handled_through_the_admin_actions(client, staff, certificate):
    from certbody.lifecycle import system_user
    from certificates import services

    appeal = services.appeal_receive(
        actor=system_user(),
        kind="complaint",
        received_on=date(2025, 4, 1),
        subject="服务投诉",
        description="说明",
        name="李先生",
        contact="13900000000",
        certificate=certificate,
    )
    manager = make_staff("tm-admin", "technical_manager")
    client.force_login(manager)

    act(client, "appeal", appeal.pk, "acknowledge", {"acknowledged_on": "2025-04-02"})
    response = act(client, "appeal", appeal.pk, "assign", {"handler": staff.decider.pk})
    assert any("参与过" in m for m in messages_of(response))  # decided on the certificate
    act(client, "appeal", appeal.pk, "assign", {"handler": manager.pk})
    act(
        client,
        "appeal",
        appeal.pk,
        "decide",
        {
            "decided_on": "2025-05-01",
            "outcome": "not_upheld",
            "decision_text": "经调查，投诉不成立。",
        },
    )

    appeal.refresh_from_db()
    assert appeal.state == Appeal.State.DECIDED
    assert appeal.documents.count() == 1
