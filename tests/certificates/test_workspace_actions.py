"""The staff pages of issue 5, now on the workspace desks (formerly admin actions): every
transition goes through its service; the pages are visible to the CB's roles and refusals come
back on the confirm form. Reporting obligations after a major accident are listed with their
due dates and marked reported. The admin keeps these records read-only, for superusers."""

from datetime import date

import pytest
from django.urls import reverse

from certificates import services
from certificates.models import (
    Appeal,
    Certificate,
    Proposal,
    RegulatoryEvent,
    ReportingObligation,
)
from tests.certificates.factories import issued_certificate
from tests.certificates.helpers import skip_pdf_rendering
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def certificate(staff, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return issued_certificate(staff=staff)


def act(client, key, pk, action, data):
    return client.post(reverse("workspace:action", args=[key, pk, action]), data)


def page_of(key, pk):
    return reverse("workspace:object", args=[key, pk])


@pytest.mark.parametrize("key", ["regulatory-events", "proposals", "obligations", "appeals"])
def test_the_pages_are_visible_to_cb_roles(client, staff, key):
    url = reverse("workspace:list", args=[key])
    for user in (staff.decider, staff.planner, make_staff("reporter", "reporting_officer")):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_staff_record_a_letter_as_an_appeal_through_the_service(client, staff, certificate):
    client.force_login(staff.market)

    response = client.post(
        reverse("workspace:create", args=["appeals"]),
        {
            "kind": "appeal",
            "received_on": "2025-04-01",
            "decision": certificate.decision.pk,
            "subject": "对星级评定有异议（来函）",
            "description": "来函称评分有误",
        },
    )

    appeal = Appeal.objects.get()
    assert response["Location"] == page_of("appeals", appeal.pk)
    assert (appeal.channel, appeal.organization, appeal.submitted_by) == (
        "staff",
        certificate.organization,
        staff.market,
    )
    assert appeal.reference in client.get(response["Location"]).content.decode()


def test_recording_an_appeal_without_decision_shows_the_rule(client, staff):
    client.force_login(staff.market)

    response = client.post(
        reverse("workspace:create", args=["appeals"]),
        {"kind": "appeal", "received_on": "2025-04-01", "subject": "x", "description": "y"},
    )

    assert response.status_code == 422
    assert "004 §8.1" in response.content.decode()
    assert not Appeal.objects.exists()


def test_regulatory_event_is_recorded_about_the_certificate(client, staff, certificate):
    client.force_login(staff.planner)

    response = client.post(
        reverse("workspace:create", args=["regulatory-events"]),
        {
            "certificate_number": certificate.number,
            "kind": "spot_check",
            "occurred_on": "2025-05-06",
            "source": "省市场监管局监督抽查",
            "description": "抽查不合格",
            "level": "provincial",
            "result": "fail",
        },
    )

    event = RegulatoryEvent.objects.get()
    assert response["Location"] == page_of("regulatory-events", event.pk)
    assert (event.certificate, event.level, event.result) == (certificate, "provincial", "fail")


def test_reissue_action_passes_the_changes(client, staff, certificate):
    client.force_login(staff.decider)

    response = act(
        client,
        "certificates",
        certificate.pk,
        "reissue",
        {"reason": "99", "reissued_on": "2025-07-01", "star_grade": "five_star", "note": ""},
    )

    assert response.status_code == 302
    certificate.refresh_from_db()
    assert (certificate.star_grade, certificate.reissued_on) == ("five_star", date(2025, 7, 1))


def test_late_withdrawal_is_refused_with_the_rule_on_the_form(client, staff, certificate):
    client.force_login(staff.decider)

    response = act(
        client,
        "certificates",
        certificate.pk,
        "withdraw",
        {"cause": "1", "verified_on": "2025-08-04", "withdrawn_on": "2025-08-20"},
    )

    assert response.status_code == 422
    assert "004 §7.3.1(1)" in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_proposal_is_accepted_on_its_page(client, staff, certificate):
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
        "proposals",
        proposal.pk,
        "accept",
        {"verified_on": "2025-06-03", "withdrawn_on": "2025-06-05", "evidence": "抽查报告"},
    )

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.WITHDRAWN


def test_appeal_handled_through_the_actions(client, staff, certificate):
    from certbody.lifecycle import system_user

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

    act(client, "appeals", appeal.pk, "acknowledge", {"acknowledged_on": "2025-04-02"})
    response = act(client, "appeals", appeal.pk, "assign", {"handler": staff.decider.pk})
    assert response.status_code == 422
    assert "参与过" in response.content.decode()  # decided on the certificate
    act(client, "appeals", appeal.pk, "assign", {"handler": manager.pk})
    act(
        client,
        "appeals",
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


# --- reporting obligations after a major accident (002 §4.3.8.2; 004 §9.5) --------------------


@pytest.fixture
def accident(staff, certificate):
    """A major accident at the certificate holder: a CNAS and a local regulator report owed."""
    return services.regulatory_event_record(
        certificate=certificate,
        actor=staff.planner,
        kind=RegulatoryEvent.Kind.ACCIDENT,
        occurred_on=date(2025, 6, 2),
        notified_on=date(2025, 6, 3),
        source="门店火灾",
        description="门店仓库失火",
        major=True,
    )


def test_obligations_are_listed_with_their_due_dates(client, staff, accident, time_machine):
    time_machine.move_to(date(2025, 6, 20), tick=False)
    obligations = list(accident.reporting_obligations.order_by("due_on"))
    assert len(obligations) == 2
    client.force_login(staff.decider)
    url = reverse("workspace:list", args=["obligations"])

    listing = client.get(url).content.decode()

    for obligation in obligations:
        assert obligation.due_on.isoformat() in listing
        assert page_of("obligations", obligation.pk) in listing
    assert "✔" in listing  # both overdue on 20 June
    assert client.get(url, {"overdue": "false"}).context["table"].paginator.count == 0
    cnas = client.get(url, {"recipient": "cnas"}).context["table"].paginator.count
    assert cnas == 1
    export = client.get(url, {"export": "csv"}).content.decode("utf-8-sig")
    assert obligations[0].subject in export
    event_page = client.get(page_of("regulatory-events", accident.pk)).content.decode()
    assert page_of("obligations", obligations[0].pk) in event_page


@pytest.mark.parametrize(
    ("who", "may"),
    [("decider", True), ("planner", True), ("reporting", True), ("market", False)],
)
def test_an_obligation_is_marked_reported_by_the_roles_the_service_allows(
    client, staff, accident, who, may
):
    obligation = accident.reporting_obligations.order_by("due_on").first()
    user = make_staff("ob-reporter", "reporting_officer") if who == "reporting" else None
    client.force_login(user or getattr(staff, who))
    page = client.get(page_of("obligations", obligation.pk)).content.decode()
    assert ('data-action="done"' in page) is may

    response = act(client, "obligations", obligation.pk, "done", {"done_on": "2025-06-04"})

    obligation.refresh_from_db()
    if may:
        assert response["Location"] == page_of("obligations", obligation.pk)
        assert obligation.done_on == date(2025, 6, 4)
        assert obligation.history.first().history_change_reason == "已报送"
    else:
        assert response.status_code == 403
        assert obligation.done_on is None


def test_a_reported_obligation_offers_no_action_and_refuses_a_second_report(
    client, staff, accident
):
    obligation = accident.reporting_obligations.order_by("due_on").first()
    services.reporting_obligation_done(
        obligation=obligation, actor=staff.decider, done_on=date(2025, 6, 4)
    )
    client.force_login(staff.decider)
    assert (
        'data-action="done"'
        not in client.get(page_of("obligations", obligation.pk)).content.decode()
    )
    response = act(client, "obligations", obligation.pk, "done", {"done_on": "2025-06-05"})
    assert response.status_code == 409
    reported = client.get(reverse("workspace:list", args=["obligations"]), {"reported": "true"})
    assert reported.context["table"].paginator.count == 1


def test_a_future_report_date_is_refused_on_the_form(client, staff, accident, time_machine):
    time_machine.move_to(date(2025, 6, 5), tick=False)
    obligation = accident.reporting_obligations.order_by("due_on").first()
    client.force_login(staff.decider)
    response = act(client, "obligations", obligation.pk, "done", {"done_on": "2025-06-09"})
    assert response.status_code == 422
    obligation.refresh_from_db()
    assert obligation.done_on is None
    assert ReportingObligation.objects.filter(done_on__isnull=False).count() == 0
