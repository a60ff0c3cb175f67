"""Issue #14: the audit start and completion prechecks are the services' own gates
(``audits.selectors.gates``) asked without the form's date, so the object page disables the
button exactly when the service refuses, with the same words."""

from datetime import date, timedelta

import pytest

from audits import services
from audits.models import Audit
from certbody.lifecycle import RuleViolation
from certbody.workspace.desks import get_desk
from tests.certificates.factories import (
    Staff,
    hold_meetings,
    plan_ready,
    scheduled_stage2,
)
from tests.certificates.helpers import skip_pdf_rendering

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

START, END = date(2025, 3, 10), date(2025, 3, 11)


@pytest.fixture
def staff(cb, monkeypatch):
    skip_pdf_rendering(monkeypatch)
    return Staff()


@pytest.fixture
def stage2(staff):
    return scheduled_stage2(staff, START, END)


def precheck(action, audit, user):
    return get_desk("audits").action(action).refusal(Audit.objects.get(pk=audit.pk), user)


def refused(call) -> str:
    with pytest.raises(RuleViolation) as error:
        call()
    return str(error.value)


def start(audit, staff):
    return services.audit_start(audit=audit, actor=staff.planner, started_on=START)


def test_start_without_a_confirmed_plan_agrees_with_the_service(staff, stage2):
    reason = precheck("start", stage2, staff.planner)
    assert "written audit plan" in reason
    assert refused(lambda: start(stage2, staff)) == reason


def test_start_with_an_expired_registration_agrees_with_the_service(staff, stage2):
    plan_ready(stage2, staff, START, END)
    services.auditor_registration_update(
        auditor=staff.leader.auditor_profile,
        actor=staff.planner,
        registration_type="auditor",
        registration_number="2019-FW-1",
        registration_valid_until=START - timedelta(days=1),
    )
    reason = precheck("start", stage2, staff.planner)
    assert "004 §4.2" in reason
    assert refused(lambda: start(stage2, staff)) == reason


def test_start_through_every_gate_is_enabled_and_succeeds(staff, stage2):
    plan_ready(stage2, staff, START, END)
    assert precheck("start", stage2, staff.planner) == ""
    start(stage2, staff)


def test_stage2_completion_without_meetings_agrees_with_the_service(staff, stage2):
    plan_ready(stage2, staff, START, END)
    start(stage2, staff)
    reason = precheck("complete", stage2, staff.leader)
    assert "meetings are recorded" in reason

    def complete():
        services.audit_complete(
            audit=stage2, actor=staff.leader, ended_on=END, recommendation_positive=True
        )

    assert refused(complete) == reason
    hold_meetings(stage2, START, END)
    assert precheck("complete", stage2, staff.leader) == ""
    complete()
