"""Every counter and bar of the dashboard opens the list it counts (issue #14): following each
bar's link (``reporting.dashboard``) and each home section's "more" link (``*/home.py``) lands
on a workspace list whose number of records equals the figure shown, on several days."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from certbody import home
from certbody.models import User
from reporting.dashboard import dashboard_figures
from tests.certbody.world import World

pytestmark = pytest.mark.usefixtures("cb")

DAYS = [date(2025, 6, 5), date(2025, 9, 10), date(2026, 3, 15), date(2027, 2, 1)]


@pytest.fixture
def world(db):
    return World()


def listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["table"].paginator.count


def test_every_dashboard_bar_lands_on_a_list_of_its_count(client, world, time_machine):
    boss = User.objects.create_superuser("dash-links", password="x", is_staff=True)
    client.force_login(boss)
    nonzero = set()

    for day in DAYS:
        time_machine.move_to(
            datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
        )
        client.force_login(boss)  # a session does not outlive the jump in time
        figures = dashboard_figures(day)
        bars = [
            *figures.certificates,
            *figures.due_this_month,
            *figures.overdue,
            *figures.audits_per_month,
        ]
        for bar in bars:
            assert bar.url, bar.label
            assert (bar.label, listed(client, bar.url)) == (bar.label, bar.value), (day, bar.url)
            if bar.value:
                nonzero.add(bar.label)
        # The two counters under the charts link to their lists too.
        assert listed(client, "/staff/nonconformities/?unsettled=on") == (
            figures.open_nonconformities
        )
        assert listed(client, "/staff/proposals/?state=open") == figures.open_proposals

    assert len(nonzero) >= 6  # the world makes the comparison meaningful, not 0 == 0


def test_every_home_section_more_link_lands_on_a_list_of_its_count(client, world, time_machine):
    boss = User.objects.create_superuser("home-links", password="x", is_staff=True)
    client.force_login(boss)
    counted = 0

    for day in DAYS:
        time_machine.move_to(
            datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
        )
        client.force_login(boss)  # a session does not outlive the jump in time
        for section in home.sections_for(boss, day):
            if not section.more_url:
                continue
            assert (section.key, listed(client, section.more_url)) == (
                section.key,
                section.count,
            ), (day, section.more_url)
            counted += bool(section.count)

    assert counted >= 2
