"""The team check, the start of an audit and the sending of its plan read a fixed number of
rows whatever the size of the team (issue #16: no query per member, profile or competence,
no row read twice). The counts are ceilings: fewer is fine, more fails."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits import services
from audits.models import AuditPlan
from certbody import roles
from tests.audits.factories import auditor_profile
from tests.certificates.factories import plan_ready, scheduled_stage2
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")

START, END = date(2025, 3, 10), date(2025, 3, 12)


def _add_members(audit, staff, count):
    """``count`` more full-time auditors, each competent for two scopes, on the team."""
    for k in range(count):
        user = make_staff(f"qc-auditor-{k}", roles.AUDITOR)
        auditor_profile(user, actor=staff.planner, codes=(24, 29))
        services.audit_team_add(audit=audit, actor=staff.planner, user=user, role="auditor")


@pytest.fixture
def big_team_stage2(staff):
    stage2 = scheduled_stage2(staff, START, END)
    _add_members(stage2, staff, 4)
    return stage2


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, len(ctx.captured_queries)


def test_the_team_check_reads_five_rows_sets_for_a_team_of_five(big_team_stage2):
    # The audit with its application and determination, the members with their profiles, the
    # client's scopes, the competences, the declarations (before issue #16: 8).
    failures, count = _queries(lambda: services.audit_team_check(big_team_stage2))
    assert failures == []
    assert count <= 5


def test_starting_an_audit_reads_the_audit_and_its_plan_once(big_team_stage2, staff):
    plan_ready(big_team_stage2, staff, START, END)
    audit, count = _queries(
        lambda: services.audit_start(audit=big_team_stage2, actor=staff.planner, started_on=START)
    )
    assert audit.state == "in_progress"
    # Before issue #16: 20 (the audit, its application, the plan and the determination each
    # read twice).
    assert count <= 13


def test_sending_the_plan_snapshots_a_team_of_five_without_a_query_per_member(
    big_team_stage2, staff
):
    plan = services.audit_plan_prepare(
        audit=big_team_stage2,
        actor=staff.planner,
        objectives="评价售后服务体系",
        criteria="GB/T 27922-2011",
        scope_text="家用电器的销售及售后服务",
        shifts_covered="白班",
        sites=list(big_team_stage2.organization.sites.all()),
    )
    plan, count = _queries(
        lambda: services.audit_plan_send(
            plan=plan, actor=staff.planner, sent_on=START - timedelta(days=7)
        )
    )
    assert plan.state == AuditPlan.State.SENT
    snapshot = {row["name"]: row for row in plan.team_snapshot}
    assert len(snapshot) == 5
    assert snapshot["qc-auditor-0"]["competence_codes"] == [24, 29]
    assert snapshot["wf-leader"]["competence_codes"] == [24]
    # Before issue #16: 27 for this team (a profile and a competence query per member).
    assert count <= 15
