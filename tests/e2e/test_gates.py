"""Issue 13's gates in a real browser: what the seeds forbid, the product refuses and says why.

- The planner sees why an audit whose plan the client has not confirmed cannot start, and the
  team leader's start is refused (004 §5.4.6.3).
- The team leader cannot sign a score sheet with an unassessed indicator (004 §5.6.5.2–3).
- A decision maker cannot grant without the signed audit report (004 §5.12.1).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audits.models import Audit, ScoreSheet
from certbody.models import User
from tests.e2e.helpers import login, score_row, workspace_action

# One worker builds the demo and restores it for each of these (tests/demo_snapshot.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("demo")]


@pytest.fixture
def demo(cb):
    """The demo data set, its PDFs stubbed."""
    from tests.demo_snapshot import load_demo

    return load_demo()


def refused(page, action: str, fields: dict | None = None):
    """Submit ``action``'s confirm form and return the refusal shown (a locator)."""
    page.click(f'#object-actions a[data-action="{action}"]')
    form = page.locator("#action-form")
    for name, value in (fields or {}).items():
        form.locator(f'[name="{name}"]').fill(str(value))
    with page.expect_navigation():
        form.locator('[data-testid="confirm"]').click()
    error = page.locator('[data-testid="action-error"], #action-form .error')
    expect(error.first).to_be_visible()
    return error.first


def test_the_gates_refuse_and_say_why(browser, live_server, demo):
    today = timezone.localdate()
    staff = f"{live_server.url}/staff"
    planner = User.objects.get(username="planner")
    leader = User.objects.get(username="auditor2")

    # 1. A planned surveillance: the planner schedules it, staffs it and sends the plan; the
    # client has not confirmed it, so the page says the audit cannot start yet.
    audit = (
        Audit.objects.filter(
            kind=Audit.Kind.SURVEILLANCE, state=Audit.State.PLANNED, team__isnull=True
        )
        .order_by("pk")
        .first()
    )
    assert audit is not None, "the demo has planned surveillances"
    start = today + timedelta(days=10)
    page = login(browser, live_server, planner.username, demo(planner.username))
    page.goto(f"{staff}/audits/{audit.pk}/")
    workspace_action(
        page,
        "schedule",
        {"planned_start": start.isoformat(), "planned_end": start.isoformat()},
    )
    workspace_action(page, "add-member", {"user": leader.pk, "role": "leader"})
    expect(page.locator('[data-testid="start-check"]')).to_contain_text("004 §5.4.6.1")
    workspace_action(page, "prepare-plan")
    workspace_action(page, "send-plan")
    expect(page.locator('[data-testid="start-check"]')).to_contain_text("004 §5.4.6.3")
    # planners may record the start too (policy.MATRIX "audits.start_audit")
    expect(page.locator('#object-actions a[data-action="start"]')).to_have_count(
        1
    )  # planners may record the start (audits.start_audit)
    page.context.close()
    # The team leader, who starts audits, is refused with the clause.
    page = login(browser, live_server, leader.username, demo(leader.username))
    page.goto(f"{staff}/audits/{audit.pk}/")
    expect(refused(page, "start", {"started_on": start.isoformat()})).to_contain_text(
        "004 §5.4.6.3"
    )
    audit.refresh_from_db()
    assert audit.state == Audit.State.PLANNED
    page.context.close()

    # 2. The stage 2 in progress: its leader opens the score sheet, scores one indicator and
    # tries to sign it off: refused, the sheet stays a draft and shows "incomplete".
    stage2 = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.IN_PROGRESS)
    stage2_leader = stage2.team.get(role="leader").user
    page = login(browser, live_server, stage2_leader.username, demo(stage2_leader.username))
    page.goto(f"{live_server.url}/audits/{stage2.pk}/score-sheet/")
    page.click('[data-testid="open-score-sheet"]')
    score_row(page, "1.1", met=True)
    expect(page.locator("#score-summary [data-grade]")).to_have_attribute(
        "data-grade", "incomplete"
    )
    page.click('[data-testid="submit-score-sheet"]')
    page.fill("#id_submitted_on", stage2.actual_start.isoformat())
    page.click('[data-testid="confirm-submit"]')
    expect(page.locator("body")).to_contain_text("004 §5.6.5.3")
    assert ScoreSheet.objects.get(audit=stage2).state == ScoreSheet.State.DRAFT
    page.context.close()

    # 3. The stage 2 awaiting its decision has no signed audit report: no grant.
    awaiting = Audit.objects.filter(
        kind=Audit.Kind.STAGE2, state=Audit.State.COMPLETED, reports__isnull=True
    ).first()
    assert awaiting is not None, "the demo has a stage 2 awaiting its decision"
    decider = (
        User.objects.filter(groups__name="decision_maker", is_active=True)
        .exclude(pk__in=awaiting.team.values("user"))
        .order_by("username")
        .first()
    )
    page = login(browser, live_server, decider.username, demo(decider.username))
    page.goto(f"{staff}/decisions/{awaiting.pk}/")
    expect(refused(page, "grant", {"decided_on": today.isoformat()})).to_contain_text("004 §5.12.1")
    awaiting.refresh_from_db()
    assert awaiting.state == Audit.State.COMPLETED and not awaiting.decisions.exists()
    page.context.close()
