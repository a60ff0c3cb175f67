"""Issue 13's gates in a real browser: what the seeds forbid, the product refuses and says why.

- The planner sees why an audit whose plan the client has not confirmed cannot start, and the
  team leader's start is refused (004 §5.4.6.3).
- The team leader cannot sign a score sheet with an unassessed indicator (004 §5.6.5.2–3).
- A decision maker cannot grant without the signed audit report (004 §5.12.1).

Issue #14: those buttons are shown disabled with the service's reason (the confirm page, reached
anyway, says it and the service still refuses); the application form keeps an upload after an
error on another field.
"""

import re
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


def expect_blocked(page, action: str, clause: str) -> None:
    """``action``'s button is disabled (``disabled``, ``aria-disabled``) with the reason, naming
    ``clause``, visible next to it and as its title; no link to its confirm page."""
    blocked = page.locator(f'#object-actions [data-blocked="{action}"]')
    button = blocked.locator("button")
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("aria-disabled", "true")
    expect(button).to_have_attribute("title", re.compile(re.escape(clause)))
    expect(blocked.locator('[data-testid="blocked-reason"]')).to_be_visible()
    expect(blocked.locator('[data-testid="blocked-reason"]')).to_contain_text(clause)
    expect(page.locator(f'#object-actions a[data-action="{action}"]')).to_have_count(0)


def confirm(page, fields: dict | None = None):
    """Submit the open confirm page's form and return the refusal shown (a locator)."""
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
    # Planners may record the start too (audits.start_audit), but not now: the button is
    # disabled with the service's own reason next to it (issue #14).
    expect_blocked(page, "start", "004 §5.4.6.3")
    # The team leader sees the same; a forged confirm is still refused by the service (each
    # user after the last in the same browser).
    page = login(browser, live_server, leader.username, demo(leader.username), page=page)
    page.goto(f"{staff}/audits/{audit.pk}/")
    expect_blocked(page, "start", "004 §5.4.6.3")
    page.goto(f"{staff}/audits/{audit.pk}/start/")
    expect(page.locator('[data-testid="action-precheck"]')).to_contain_text("004 §5.4.6.3")
    expect(confirm(page, {"started_on": start.isoformat()})).to_contain_text("004 §5.4.6.3")
    audit.refresh_from_db()
    assert audit.state == Audit.State.PLANNED

    # 2. The stage 2 in progress: its leader opens the score sheet, scores one indicator and
    # tries to sign it off: refused, the sheet stays a draft and shows "incomplete".
    stage2 = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.IN_PROGRESS)
    stage2_leader = stage2.team.get(role="leader").user
    page = login(
        browser, live_server, stage2_leader.username, demo(stage2_leader.username), page=page
    )
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
    page = login(browser, live_server, decider.username, demo(decider.username), page=page)
    page.goto(f"{staff}/decisions/{awaiting.pk}/")
    expect_blocked(page, "grant", "004 §5.12.1")
    page.goto(f"{staff}/decisions/{awaiting.pk}/grant/")
    expect(confirm(page, {"decided_on": today.isoformat()})).to_contain_text("004 §5.12.1")
    awaiting.refresh_from_db()
    assert awaiting.state == Audit.State.COMPLETED and not awaiting.decisions.exists()
    page.context.close()
