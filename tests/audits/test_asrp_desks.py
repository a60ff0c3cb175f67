"""The ASRP desk of the staff workspace (audits.desks, seed 000): the list, the programme page
with its eligibility checks, indicators, activities and approval checklist, each transition
through its confirm page as the role the service accepts, and 403 for a forged POST.
"""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits import services
from audits.models import AsrpAuditActivity, AsrpEligibilityCheck, AsrpProgramme, Audit
from certbody import roles
from tests.applications.factories import OrganizationFactory
from tests.audits.factories import recertified_programme
from tests.audits.test_asrp import CONTENT, EVIDENCE
from tests.certificates.factories import Staff, accepted_application
from tests.certificates.helpers import skip_pdf_rendering
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

C = AsrpEligibilityCheck.Criterion
ACTION = re.compile(r'data-action="([a-z-]+)"')
MANAGE = {"record-eligibility", "add-indicator", "end"}


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def staff(cb, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return Staff()


@shared_fixture
def tm(cb):
    return make_staff("asrp-desk-tm", roles.TECHNICAL_MANAGER)


@shared_fixture
def programme(staff, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return recertified_programme(OrganizationFactory(name="华南电器服务有限公司"), staff)


@pytest.fixture
def asrp(programme, staff):
    return services.asrp_programme_create(programme=programme, actor=staff.planner, **CONTENT)


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def offered(client, user, key, obj) -> set[str]:
    return set(ACTION.findall(page(get(client, user, f"/staff/{key}/{obj.pk}/"))))


def act(client, user, asrp, action, data=None):
    return post(client, user, f"/staff/asrp/{asrp.pk}/{action}/", data)


def state(asrp) -> str:
    return AsrpProgramme.objects.get(pk=asrp.pk).state


def record_preconditions(client, user, asrp):
    for criterion, evidence in EVIDENCE.items():
        response = act(
            client,
            user,
            asrp,
            "record-eligibility",
            {"criterion": criterion, "met": "on", "evidence": evidence, "checked_on": "2025-09-20"},
        )
        assert response.status_code == 302, response.content.decode()
    response = act(
        client,
        user,
        asrp,
        "add-indicator",
        {"name": "维修及时率", "target": "≥ 98 %", "method": "按月统计", "agreed_on": "2025-09-15"},
    )
    assert response.status_code == 302
    indicator = asrp.indicators.get()
    response = act(
        client,
        user,
        asrp,
        "record-result",
        {
            "indicator": indicator.pk,
            "period": "2025Q3",
            "period_end": "2025-09-30",
            "value": "98.6 %",
            "met": "on",
        },
    )
    assert response.status_code == 302


# --- designing ---------------------------------------------------------------------------------


def test_the_programme_page_offers_an_asrp_once_a_full_cycle_is_completed(
    client, staff, programme, tm
):
    html = page(get(client, staff.planner, f"/staff/programmes/{programme.pk}/"))
    assert 'data-testid="asrp-eligible"' in html
    assert "design-asrp" in offered(client, staff.planner, "programmes", programme)
    assert "design-asrp" in offered(client, tm, "programmes", programme)
    assert "design-asrp" not in offered(client, staff.leader, "programmes", programme)
    assert "design-asrp" not in offered(client, staff.market, "programmes", programme)

    response = post(
        client, staff.planner, f"/staff/programmes/{programme.pk}/design-asrp/", CONTENT
    )

    asrp = AsrpProgramme.objects.get(programme=programme)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/asrp/{asrp.pk}/"
    assert asrp.checks.get().criterion == C.FULL_CYCLE
    assert "design-asrp" not in offered(client, staff.planner, "programmes", programme)
    assert f"/staff/asrp/{asrp.pk}/" in page(
        get(client, staff.planner, f"/staff/programmes/{programme.pk}/")
    )


def test_a_first_cycle_programme_is_not_offered_an_asrp(client, staff):
    first = services.programme_create(
        application=accepted_application(None, staff), actor=staff.planner
    )

    assert "design-asrp" not in offered(client, staff.planner, "programmes", first)
    response = post(client, staff.planner, f"/staff/programmes/{first.pk}/design-asrp/", CONTENT)
    assert response.status_code == 409
    assert not AsrpProgramme.objects.exists()


def test_the_create_page_designs_an_asrp_for_an_eligible_programme(client, staff, programme):
    first = services.programme_create(
        application=accepted_application(None, staff), actor=staff.planner
    )
    form = page(get(client, staff.planner, "/staff/asrp/new/"))
    assert f'value="{programme.pk}"' in form
    assert f'value="{first.pk}"' not in form  # a first cycle is not offered

    refused = post(client, staff.planner, "/staff/asrp/new/", {"programme": first.pk, **CONTENT})
    assert refused.status_code == 422
    response = post(
        client, staff.planner, "/staff/asrp/new/", {"programme": programme.pk, **CONTENT}
    )

    asrp = AsrpProgramme.objects.get(programme=programme)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/asrp/{asrp.pk}/"


def test_other_roles_cannot_design_an_asrp(client, staff, programme):
    assert get(client, staff.leader, "/staff/asrp/new/").status_code == 403
    for user in (staff.market, staff.leader, staff.decider):
        assert (
            post(
                client, user, "/staff/asrp/new/", {"programme": programme.pk, **CONTENT}
            ).status_code
            == 403
        )
        assert (
            post(
                client, user, f"/staff/programmes/{programme.pk}/design-asrp/", CONTENT
            ).status_code
            == 403
        )
    assert not AsrpProgramme.objects.exists()


# --- list and page -----------------------------------------------------------------------------


def test_asrp_list_shows_organisation_state_and_dates_filters_and_exports(client, staff, asrp, tm):
    other = services.programme_create(
        application=accepted_application(None, staff), actor=staff.planner
    )
    AsrpProgramme.objects.create(programme=other, **CONTENT)  # a row for the filters only

    html = page(get(client, staff.leader, "/staff/asrp/?state=draft&q=华南"))
    assert "华南电器服务有限公司" in html and other.organization.name not in html
    assert f'href="/staff/asrp/{asrp.pk}/"' in html
    csv = get(client, staff.leader, "/staff/asrp/?q=华南&export=csv").content.decode("utf-8-sig")
    assert "华南电器服务有限公司" in csv and "R1" in csv
    assert "华南" not in page(get(client, staff.leader, "/staff/asrp/?state=approved"))


def test_asrp_list_runs_the_same_queries_for_more_rows(client, staff, asrp):
    def count():
        client.force_login(staff.planner)
        client.get("/staff/asrp/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/staff/asrp/").status_code == 200
        return len(captured)

    one = count()
    for _n in range(3):
        other = services.programme_create(
            application=accepted_application(None, staff), actor=staff.planner
        )
        AsrpProgramme.objects.create(programme=other, approved_by=staff.planner, **CONTENT)
    assert count() == one


def test_asrp_page_shows_contents_checks_indicators_and_the_approval_checklist(client, staff, asrp):
    services.asrp_eligibility_record(
        asrp=asrp,
        actor=staff.planner,
        criterion=C.SATISFACTION_DATA,
        met=False,
        evidence="客户尚未开放顾客满意度数据",
        checked_on=date(2025, 9, 20),
    )
    services.asrp_indicator_add(
        asrp=asrp, actor=staff.planner, name="满意度", target="≥ 90 分", agreed_on=date(2025, 9, 1)
    )

    html = page(get(client, staff.leader, f"/staff/asrp/{asrp.pk}/"))

    assert CONTENT["reliance"] in html and "000 §4.3.1" in html
    assert 'data-criterion="full_cycle" data-met="yes"' in html
    assert 'data-criterion="satisfaction_data" data-met="no"' in html
    assert 'data-criterion="ncs_resolved" data-met="unchecked"' in html
    assert "满意度" in html
    assert f"✗ 不满足：{C.SATISFACTION_DATA.label}" in html
    assert f"✗ 未核对：{C.NCS_RESOLVED.label}" in html
    assert "没有达成情况记录" in html
    assert "设计 ASRP 方案" in html  # the history says who designed it and why
    assert offered(client, staff.leader, "asrp", asrp) == set()


# --- transitions through the confirm pages ---------------------------------------------------


def test_audit_department_records_and_the_technical_manager_approves(client, staff, asrp, tm):
    assert offered(client, staff.planner, "asrp", asrp) == MANAGE
    assert offered(client, tm, "asrp", asrp) == MANAGE | {"approve"}
    for action in ("record-eligibility", "add-indicator", "approve"):
        assert get(client, tm, f"/staff/asrp/{asrp.pk}/{action}/").status_code == 200

    record_preconditions(client, staff.planner, asrp)
    html = page(get(client, staff.planner, f"/staff/asrp/{asrp.pk}/"))
    assert 'data-testid="asrp-ready"' in html and 'data-result="2025Q3"' in html
    assert "record-result" in offered(client, staff.planner, "asrp", asrp)

    response = act(client, tm, asrp, "approve", {"approved_on": "2025-10-08"})

    assert response.status_code == 302
    asrp.refresh_from_db()
    assert (asrp.state, asrp.approved_by, asrp.approved_on) == ("approved", tm, date(2025, 10, 8))
    assert offered(client, staff.planner, "asrp", asrp) == {
        "record-result",
        "notify",
        "record-activity",
        "end",
    }

    response = act(client, staff.planner, asrp, "notify", {"notified_on": "2025-10-10"})
    assert response.status_code == 302
    assert state(asrp) == AsrpProgramme.State.NOTIFIED

    row = AsrpAuditActivity.objects.filter(audit__programme=asrp.programme).first()
    assert row.audit.state == Audit.State.PLANNED
    form = page(get(client, staff.planner, f"/staff/asrp/{asrp.pk}/record-activity/"))
    assert f'value="{row.pk}"' in form
    data = {"activity": row.pk, "notes": "已访谈总经理"}
    response = act(client, staff.planner, asrp, "record-activity", data)
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.covered, row.notes) == (True, "已访谈总经理")
    assert 'data-covered="yes"' in page(get(client, staff.planner, f"/staff/asrp/{asrp.pk}/"))

    response = act(
        client,
        staff.planner,
        asrp,
        "end",
        {"ended_on": "2025-11-01", "reason": "维修及时率连续两期未达到"},
    )
    assert response.status_code == 302
    asrp.refresh_from_db()
    assert (asrp.state, asrp.end_reason) == ("ended", "维修及时率连续两期未达到")
    assert offered(client, staff.planner, "asrp", asrp) == set()
    history = page(get(client, staff.planner, f"/staff/asrp/{asrp.pk}/"))
    for reason in ("批准 ASRP 方案", "已通知认可机构", "终止 ASRP 方案", "ASRP 活动已开展"):
        assert reason in history


def test_approval_is_refused_with_every_missing_precondition(client, staff, asrp, tm):
    response = act(client, tm, asrp, "approve", {"approved_on": "2025-10-08"})

    assert response.status_code == 422
    html = response.content.decode()
    assert "ASRP 方案不能批准" in html and f"未核对：{C.NCS_RESOLVED.label}" in html
    assert state(asrp) == AsrpProgramme.State.DRAFT


def test_a_refused_record_is_a_form_error(client, staff, asrp):
    response = act(
        client,
        staff.planner,
        asrp,
        "record-eligibility",
        {"criterion": C.INTERNAL_AUDIT, "evidence": "内审记录", "checked_on": "2099-01-01"},
    )

    assert response.status_code == 422
    assert not asrp.checks.filter(criterion=C.INTERNAL_AUDIT).exists()


def test_an_action_the_state_does_not_allow_answers_409(client, staff, asrp, tm):
    notify = act(client, staff.planner, asrp, "notify", {"notified_on": "2025-10-10"})
    assert notify.status_code == 409
    assert act(client, staff.planner, asrp, "record-activity").status_code == 409
    assert act(client, staff.planner, asrp, "record-result").status_code == 409  # no indicator
    assert state(asrp) == AsrpProgramme.State.DRAFT


def test_forged_asrp_actions_are_refused(client, staff, asrp, tm):
    record_preconditions(client, staff.planner, asrp)
    forged = {
        "record-eligibility": {
            "criterion": C.INTERNAL_AUDIT,
            "met": "on",
            "evidence": "伪造",
            "checked_on": "2025-09-20",
        },
        "add-indicator": {"name": "伪造", "target": "1", "agreed_on": "2025-09-15"},
        "approve": {"approved_on": "2025-10-08"},
        "end": {"ended_on": "2025-10-08", "reason": "伪造"},
    }
    checks, indicators = asrp.checks.count(), asrp.indicators.count()
    for user in (staff.market, staff.leader, staff.decider):
        for action, data in forged.items():
            assert act(client, user, asrp, action, data).status_code == 403, (user, action)
    # the audit department records, but only the technical manager approves (000 §3.3)
    assert act(client, staff.planner, asrp, "approve", forged["approve"]).status_code == 403

    asrp.refresh_from_db()
    assert asrp.state == AsrpProgramme.State.DRAFT and asrp.approved_by is None
    assert (asrp.checks.count(), asrp.indicators.count()) == (checks, indicators)
