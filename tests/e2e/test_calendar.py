"""Issue #14 in a real browser: the planner blocks an auditor's leave day on the planning
calendar, tries to schedule that auditor on it and sees the conflict before saving, then
schedules another auditor. With ``E2E_SCREENSHOTS=1``, screenshots of the month and week views
are saved as ``tests/e2e/screenshots/calendar-month.png`` and ``calendar-week.png``.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audits import services
from audits.models import Audit, AuditorUnavailability
from certbody import roles
from tests.audits.factories import auditor_user
from tests.certificates.factories import Staff, accepted_application
from tests.conftest import make_staff
from tests.e2e.helpers import BrowserConsole, open_as

pytestmark = pytest.mark.django_db(transaction=True)


def _next_monday(day):
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


@pytest.fixture
def world(cb):
    staff = Staff()
    planner = make_staff("cal-planner", roles.AUDIT_DEPARTMENT)
    first = auditor_user("cal-li")
    second = auditor_user("cal-zhang")
    programmes = [
        services.programme_create(
            application=accepted_application(staff=staff), actor=staff.planner
        )
        for _ in range(3)
    ]
    target = programmes[0].audits.get(kind=Audit.Kind.STAGE2)
    day = _next_monday(timezone.localdate() + timedelta(days=7))
    # Two more audits on the calendar, so the grid shows something around the one to plan.
    for n, programme in enumerate(programmes[1:]):
        other = programme.audits.get(kind=Audit.Kind.STAGE2)
        services.audit_calendar_schedule(
            audit=other,
            actor=staff.planner,
            planned_start=day + timedelta(days=2 + n),
            planned_end=day + timedelta(days=3 + n),
            leader=staff.leader if n == 0 else second,
        )
    return {"planner": planner, "first": first, "second": second, "target": target, "day": day}


def test_planner_blocks_leave_sees_the_conflict_and_schedules_another_auditor(
    browser, live_server, world, screenshot
):
    planner, first, second = world["planner"], world["first"], world["second"]
    audit, day = world["target"], world["day"]
    console = BrowserConsole()
    page = open_as(browser, live_server, console, planner.username, "pw-" + planner.username)
    page.goto(f"{live_server.url}/staff/calendar/?date={day.isoformat()}")
    expect(page.locator('[data-testid="calendar-grid"]')).to_be_visible()

    # 1. The planner blocks auditor cal-li's leave day.
    form = page.locator('[data-testid="block-form"]')
    form.locator('[name="auditor"]').select_option(str(first.auditor_profile.pk))
    form.locator('[name="start"]').fill(day.isoformat())
    form.locator('[name="end"]').fill(day.isoformat())
    form.locator('[name="kind"]').select_option("leave")
    form.locator('[name="note"]').fill("年休假")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator(".messages .success")).to_have_count(1)
    cell = page.locator(f'td[data-day="{day.isoformat()}"]')
    expect(cell.locator('[data-testid="cal-block"]')).to_contain_text(str(first))
    assert AuditorUnavailability.objects.filter(auditor__user=first, start=day).exists()

    # 2. Scheduling cal-li on that day shows the conflict before saving (htmx check).
    page.goto(f"{live_server.url}/staff/calendar/audits/{audit.pk}/schedule/")
    schedule = page.locator('[data-testid="schedule-form"]')
    schedule.locator('[name="planned_start"]').fill(day.isoformat())
    schedule.locator('[name="planned_end"]').fill((day + timedelta(days=1)).isoformat())
    schedule.locator('[name="leader"]').select_option(str(first.pk))
    page.click('[data-testid="check-conflicts"]')
    conflicts = page.locator('#conflicts [data-testid="conflicts"]')
    expect(conflicts).to_contain_text(str(first))
    expect(conflicts).to_contain_text(day.isoformat())
    expect(page).to_have_url(re.compile(r"/schedule/$"))  # nothing saved, still on the form
    audit.refresh_from_db()
    assert audit.planned_start is None

    # Saving anyway is refused by the service (a blocked day is a hard refusal).
    with page.expect_navigation():
        page.click('[data-testid="save-schedule"]')
    expect(page.locator('[data-testid="schedule-refused"]')).to_contain_text(str(first))
    audit.refresh_from_db()
    assert audit.planned_start is None

    # 3. Another auditor: no conflict, then saved.
    schedule = page.locator('[data-testid="schedule-form"]')
    schedule.locator('[name="leader"]').select_option(str(second.pk))
    page.click('[data-testid="check-conflicts"]')
    expect(page.locator('#conflicts [data-testid="no-conflicts"]')).to_be_visible()
    with page.expect_navigation():
        page.click('[data-testid="save-schedule"]')
    expect(page.locator(".messages .success")).to_have_count(1)
    audit.refresh_from_db()
    assert (audit.planned_start, audit.planned_end) == (day, day + timedelta(days=1))
    assert audit.team.get(role="leader").user == second
    cell = page.locator(f'td[data-day="{day.isoformat()}"]')
    expect(cell.locator('[data-testid="cal-audit"]')).to_contain_text(
        audit.programme.organization.name
    )
    screenshot("calendar-month", page)

    page.click('[data-testid="cal-week"]')
    expect(page).to_have_url(re.compile(r"view=week"))
    expect(page.locator(f'td[data-day="{day.isoformat()}"] .cal-team').first).to_contain_text(
        str(second)
    )
    screenshot("calendar-week", page)
    console.assert_no_csp_violations()
