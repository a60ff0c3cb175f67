"""The agenda of an audit plan (004 §5.4.6.1): rows of date, times, site, process or clause and
auditor, checked against the audit's dates, the client's sites and the team; a change to a plan
already sent or confirmed revises it (004 §5.4.6.3) and it is reported to CNCA again (§9.2);
edited in the workspace by the planners or the team leader, printed, shown to the client."""

from datetime import date, time

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from audits import services
from audits.models import AuditPlan, AuditPlanAgendaRow
from certbody.lifecycle import RuleViolation
from tests.applications.factories import ClientUserFactory, SiteFactory
from tests.audits.test_plan_portal import END, START, drafted_plan
from tests.certificates.factories import Staff
from tests.conftest import make_staff
from tests.shared import shared_fixture


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are matched on their English words: the compiled catalogue gives Chinese by
    default, so requests and code here speak English."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db


TODAY = "2025-03-03 10:00 +08:00"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@shared_fixture
def staff(cb):
    with time_machine.travel(TODAY, tick=False):
        return Staff()


@shared_fixture
def plan(staff):
    with time_machine.travel(TODAY, tick=False):
        return drafted_plan(staff)


def _row(plan, staff, **changes):
    row = {
        "day": START,
        "starts_at": time(9, 0),
        "ends_at": time(9, 30),
        "site": plan.audit.programme.organization.sites.first(),
        "activity": "首次会议",
        "auditor": staff.leader,
    }
    return {**row, **changes}


def test_rows_are_stored_in_date_and_time_order(plan, staff):
    services.audit_plan_agenda_set(
        plan=plan,
        actor=staff.leader,
        rows=[
            _row(
                plan,
                staff,
                day=END,
                starts_at=time(16, 0),
                ends_at=time(17, 0),
                activity="末次会议",
            ),
            _row(plan, staff),
            _row(plan, staff, starts_at=time(9, 30), ends_at=time(12, 0), activity="5.2 服务承诺"),
        ],
    )
    rows = list(plan.agenda.all())
    assert [r.activity for r in rows] == ["首次会议", "5.2 服务承诺", "末次会议"]
    assert [r.position for r in rows] == [1, 2, 3]
    assert rows[0].history.first().history_change_reason == "编制审核计划日程"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"day": date(2025, 3, 12)}, "not within the audit's dates"),
        ({"day": date(2025, 3, 9)}, "not within the audit's dates"),
        ({"ends_at": time(8, 0)}, "must end after it starts"),
        ({"ends_at": time(9, 0)}, "must end after it starts"),
        ({"activity": "  "}, "needs a date"),
    ],
)
def test_a_row_outside_the_audit_or_out_of_order_is_refused(plan, staff, english, changes, message):
    with pytest.raises(RuleViolation, match=message) as refused:
        services.audit_plan_agenda_set(
            plan=plan, actor=staff.leader, rows=[_row(plan, staff, **changes)]
        )
    assert refused.value.rule.startswith("004 §5.4.6.1")
    assert not AuditPlanAgendaRow.objects.exists()


def test_another_organisations_site_is_refused(plan, staff, english):
    with pytest.raises(RuleViolation, match="not the client's"):
        services.audit_plan_agenda_set(
            plan=plan, actor=staff.leader, rows=[_row(plan, staff, site=SiteFactory())]
        )


def test_an_auditor_not_on_the_team_is_refused(plan, staff, english):
    with pytest.raises(RuleViolation, match="not on the audit team"):
        services.audit_plan_agenda_set(
            plan=plan, actor=staff.leader, rows=[_row(plan, staff, auditor=staff.decider)]
        )


def test_one_auditor_in_two_places_at_once_is_refused(plan, staff, english):
    with pytest.raises(RuleViolation, match="two places at once"):
        services.audit_plan_agenda_set(
            plan=plan,
            actor=staff.leader,
            rows=[
                _row(plan, staff, ends_at=time(12, 0)),
                _row(plan, staff, starts_at=time(11, 0), ends_at=time(13, 0), activity="5.3"),
            ],
        )


def test_only_the_planners_or_the_team_leader_write_the_agenda(plan, staff):
    with pytest.raises(RuleViolation):
        services.audit_plan_agenda_set(plan=plan, actor=staff.market, rows=[_row(plan, staff)])


def test_changing_a_confirmed_plans_agenda_resets_the_confirmation(plan, staff):
    plan = services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    plan = services.audit_plan_confirm(
        plan=plan, actor=staff.planner, confirmed_on=date(2025, 3, 2), confirmed_by="王五"
    )
    plan = services.audit_plan_report_cnca(
        plan=plan, actor=staff.planner, reported_on=date(2025, 3, 3)
    )
    services.audit_plan_agenda_set(plan=plan, actor=staff.leader, rows=[_row(plan, staff)])
    plan.refresh_from_db()
    assert plan.state == AuditPlan.State.DRAFT and plan.version == 2
    assert (plan.confirmed_on, plan.confirmed_by, plan.cnca_reported_on) == (None, "", None)
    assert "审核计划日程变更" in [h.history_change_reason for h in plan.history.all()]


def test_an_unchanged_agenda_does_not_revise_the_plan(plan, staff):
    services.audit_plan_agenda_set(plan=plan, actor=staff.leader, rows=[_row(plan, staff)])
    plan = services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    services.audit_plan_agenda_set(plan=plan, actor=staff.leader, rows=[_row(plan, staff)])
    plan.refresh_from_db()
    assert plan.state == AuditPlan.State.SENT and plan.version == 1


# --- pages -------------------------------------------------------------------------------------


def test_the_edit_page_is_prefilled_with_the_meetings(client, plan, staff):
    client.force_login(staff.leader)
    page = client.get(reverse("audits:agenda", args=[plan.audit.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "首次会议" in html and "末次会议" in html
    assert plan.objectives in html and plan.criteria in html
    assert "<script>" not in html and "style=" not in html


def _post(client, plan, rows):
    data = {
        "agenda-TOTAL_FORMS": str(len(rows)),
        "agenda-INITIAL_FORMS": "0",
        "agenda-MIN_NUM_FORMS": "0",
        "agenda-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"agenda-{index}-{name}"] = value
    return client.post(reverse("audits:agenda", args=[plan.audit.pk]), data)


def test_the_leader_saves_rows_from_the_page(client, plan, staff):
    client.force_login(staff.leader)
    response = _post(
        client,
        plan,
        [
            {
                "day": "2025-03-10",
                "starts_at": "09:00",
                "ends_at": "09:30",
                "activity": "首次会议",
                "auditor": staff.leader.pk,
            },
            {"day": "", "starts_at": "", "ends_at": "", "activity": ""},  # an added row left empty
        ],
    )
    assert response.status_code == 302
    assert [r.activity for r in plan.agenda.all()] == ["首次会议"]


def test_a_refused_row_comes_back_with_the_reason(client, plan, staff, english):
    client.force_login(staff.leader)
    response = _post(
        client,
        plan,
        [{"day": "2025-04-01", "starts_at": "09:00", "ends_at": "09:30", "activity": "首次会议"}],
    )
    assert response.status_code == 422
    assert "not within the audit&#x27;s dates" in response.content.decode()
    assert not plan.agenda.exists()


def test_the_added_row_comes_with_the_new_total(client, plan, staff):
    client.force_login(staff.leader)
    response = client.get(
        reverse("audits:agenda_row", args=[plan.audit.pk]) + "?index=3", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'name="agenda-3-day"' in html
    assert 'name="agenda-TOTAL_FORMS" value="4"' in html and "index=4" in html


@pytest.mark.parametrize("who", ["market", "decider"])
def test_other_staff_may_not_edit_the_agenda(client, plan, staff, who):
    client.force_login(getattr(staff, who))
    assert client.get(reverse("audits:agenda", args=[plan.audit.pk])).status_code == 403
    assert client.get(reverse("audits:agenda_row", args=[plan.audit.pk])).status_code == 403


def test_the_planner_may_edit_and_a_client_may_not(client, plan, staff):
    client.force_login(staff.planner)
    assert client.get(reverse("audits:agenda", args=[plan.audit.pk])).status_code == 200
    client.force_login(ClientUserFactory(organization=plan.audit.programme.organization))
    assert client.get(reverse("audits:agenda", args=[plan.audit.pk])).status_code in (403, 404)


def test_the_printed_plan_and_the_audit_page_show_the_agenda(client, plan, staff):
    services.audit_plan_agenda_set(
        plan=plan, actor=staff.leader, rows=[_row(plan, staff, activity="5.4 投诉处理")]
    )
    client.force_login(staff.planner)
    printed = client.get(reverse("audits:plan_document", args=[plan.audit.pk])).content.decode()
    assert "5.4 投诉处理" in printed and 'id="plan-agenda"' in printed
    page = client.get(reverse("workspace:object", args=["audits", plan.audit.pk])).content.decode()
    assert "5.4 投诉处理" in page and 'data-testid="plan-agenda-edit"' in page


def test_the_client_sees_the_agenda_it_confirms(client, plan, staff):
    services.audit_plan_agenda_set(
        plan=plan, actor=staff.leader, rows=[_row(plan, staff, activity="5.4 投诉处理")]
    )
    plan = services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    client.force_login(ClientUserFactory(organization=plan.audit.programme.organization))
    page = client.get(f"/portal/audits/plans/{plan.pk}/").content.decode()
    assert "5.4 投诉处理" in page and 'id="plan-agenda"' in page and 'id="plan-confirm"' in page


def test_a_staff_member_without_a_role_gets_403(client, plan):
    client.force_login(make_staff("nobody"))
    assert client.get(reverse("audits:agenda", args=[plan.audit.pk])).status_code == 403


def test_the_staff_and_the_client_download_the_plan_as_pdf(client, plan, staff):
    plan = services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    client.force_login(staff.planner)
    response = client.get(reverse("audits:plan_pdf", args=[plan.audit.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    client.force_login(ClientUserFactory(organization=plan.audit.programme.organization))
    assert client.get(f"/portal/audits/plans/{plan.pk}/pdf/").status_code == 200
    client.force_login(ClientUserFactory())
    assert client.get(f"/portal/audits/plans/{plan.pk}/pdf/").status_code == 404


@pytest.mark.pdf
def test_the_plan_pdf_is_chinese_with_the_agenda(plan, staff, english):
    from audits.plan_pdf import plan_pdf
    from certbody.pdf import pdf_text

    services.audit_plan_agenda_set(
        plan=plan, actor=staff.leader, rows=[_row(plan, staff, activity="5.4投诉处理")]
    )
    text = pdf_text(plan_pdf(plan))
    assert "审核计划" in text and "审核日程" in text and "5.4投诉处理" in text
    assert plan.audit.programme.organization.name in text


def test_without_javascript_add_a_row_posts_back_one_more_row(client, plan, staff):
    client.force_login(staff.leader)
    data = {
        "agenda-TOTAL_FORMS": "1",
        "agenda-INITIAL_FORMS": "0",
        "agenda-MIN_NUM_FORMS": "0",
        "agenda-MAX_NUM_FORMS": "1000",
        "agenda-0-day": "2025-03-10",
        "agenda-0-starts_at": "09:00",
        "agenda-0-ends_at": "09:30",
        "agenda-0-activity": "首次会议",
        "add": "1",
    }
    response = client.post(reverse("audits:agenda", args=[plan.audit.pk]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="agenda-1-day"' in html and 'value="首次会议"' in html
    assert not plan.agenda.exists()
