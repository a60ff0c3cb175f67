"""My tasks (issue #14): the sections whose work belongs to a person are filtered to them,
oldest overdue first; each section and each dashboard bar opens the filtered desk list it
counts; the navigation is grouped by role; object pages carry breadcrumbs and cross-links;
the query count of every "my tasks" list does not grow from 10 to 1,000 audits."""

import re
from datetime import date, timedelta

import pytest

from audits import services as audit_services
from audits.models import Audit, AuditTeamMember
from certbody import roles
from certbody.models import CertificationBody
from certbody.workspace import desks_for, nav_groups
from reporting.dashboard import dashboard_figures
from tests.certbody.test_home import World, at, count_queries, section_html, sections
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")


@shared_fixture
def world(cb):
    return World()


def rows(section: str) -> list[str]:
    return re.findall(r"<tr[^>]*>.*?</tr>", section.split("<tbody>")[1], re.S)


def list_count(client, url: str) -> int:
    body = client.get(url).content.decode()
    return int(re.search(r'<p class="muted">\D*(\d+)', body).group(1))


def test_an_auditor_sees_the_audits_they_are_on_oldest_overdue_first(client, world, time_machine):
    programme = world.certificate.programme
    first = programme.audits.get(kind="surveillance", sequence=1)
    second = programme.audits.get(kind="surveillance", sequence=2)
    for audit in (second, first):
        audit_services.audit_team_add(
            audit=audit, actor=world.staff.planner, user=world.staff.leader, role="leader"
        )
    time_machine.move_to(at(first.due_on + timedelta(days=1)), tick=False)

    body, _ = sections(client, world.staff.leader)
    section = section_html(body, "my-audits")
    assert 'data-count="2"' in section and 'data-overdue="1"' in section
    top, below = rows(section)
    assert f"/staff/audits/{first.pk}/" in top and 'class="overdue"' in top
    assert f"/staff/audits/{second.pk}/" in below and 'class="overdue"' not in below
    assert re.search(r'<h2><a class="section-link" href="/staff/audits/\?todo=my-audits"', section)

    # The list the title opens holds exactly the audits the section counts (issue #14): the
    # open ones on the auditor's team.
    assert list_count(client, "/staff/audits/?todo=my-audits") == 2
    assert list_count(client, "/staff/audits/?mine=on") == (
        AuditTeamMember.objects.filter(user=world.staff.leader).values("audit").distinct().count()
    )

    other = make_staff("auditor-mine", roles.AUDITOR)
    body, _ = sections(client, other)
    assert 'data-count="0"' in section_html(body, "my-audits")


def test_sections_link_to_their_filtered_lists(client, world, time_machine):
    time_machine.move_to(at(date(2026, 3, 10)), tick=False)
    body, _ = sections(client, world.staff.leader)
    assert 'href="/staff/nonconformities/?to_verify=on"' in section_html(
        body, "nonconformities-to-verify"
    )
    assert list_count(client, "/staff/nonconformities/?to_verify=on") == 1

    body, _ = sections(client, world.staff.decider)
    assert 'href="/staff/decisions/?not_on_team=on"' in section_html(body, "decisions-to-make")
    assert list_count(client, "/staff/decisions/?not_on_team=on") == 1
    # 004 §5.12.1: the team leader made a decision maker is not offered their own audit.
    world.staff.leader.groups.add(*world.staff.decider.groups.all())
    client.force_login(world.staff.leader)
    assert list_count(client, "/staff/decisions/?not_on_team=on") == 0

    # An appeal handler's section opens the appeals assigned to them, not everyone's.
    body, _ = sections(client, world.staff.market)
    section = section_html(body, "appeals")
    assert 'href="/staff/appeals/?mine=on"' in section
    client.force_login(world.tm)
    listed = client.get("/staff/appeals/?mine=on").content.decode()
    assert "SS2026-00002" not in listed
    client.force_login(world.staff.market)
    if any(d.key == "appeals" for d in desks_for(world.staff.market)):
        listed = client.get("/staff/appeals/?mine=on").content.decode()
        assert "SS2026-00001" in listed and "SS2026-00002" not in listed


def test_every_dashboard_bar_opens_the_list_it_counts(client, world, time_machine):
    time_machine.move_to(at(date(2026, 3, 10)), tick=False)
    figures = dashboard_figures(date(2026, 3, 10))
    bars = figures.certificates + figures.due_this_month + figures.overdue
    bars += figures.audits_per_month
    assert all(bar.url.startswith("/staff/") for bar in bars)

    client.force_login(world.tm)
    appeals = next(b for b in figures.overdue if "appeals=" in b.url or "/appeals/" in b.url)
    assert appeals.value == 1 and list_count(client, appeals.url) == 1
    for bar in figures.certificates:
        assert list_count(client, bar.url) == bar.value, bar.label
    for bar in figures.audits_per_month:
        assert list_count(client, bar.url) == bar.value, bar.label

    body = client.get("/home/").content.decode()
    assert 'data-testid="bar-link"' in body
    assert f'href="{figures.certificates[0].url.replace("&", "&amp;")}"' in body


def test_navigation_is_grouped_by_role_with_breadcrumbs_and_cross_links(client, world):
    planner = world.staff.planner
    groups = nav_groups(planner)
    keys = [g.key for g in groups]
    assert keys == sorted(keys, key=["clients", "audits", "certificates", "reporting"].index)
    assert {d.key for g in groups for d in g.desks} == {d.key for d in desks_for(planner)}
    assert next(g for g in groups if g.key == "audits").desks[0].key == "programmes"
    assert all(d.group == "certificates" for g in groups for d in g.desks if d.key == "decisions")

    client.force_login(planner)
    body = client.get("/home/").content.decode()
    assert re.findall(r'<details class="navgroup[^"]*" data-group="([a-z]+)"', body) == keys
    assert "<script" not in body.split("</header>")[0]  # CSP: no inline script in the nav

    programme = world.certificate.programme
    page = client.get(f"/staff/programmes/{programme.pk}/").content.decode()
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', page, re.S).group(0)
    assert 'href="/home/"' in crumbs and 'href="/staff/programmes/"' in crumbs
    links = re.search(r'data-testid="crosslinks">(.*?)</p>', page, re.S).group(1)
    assert f'href="/staff/organizations/{programme.organization_id}/"' in links
    first = programme.audits.get(kind="surveillance", sequence=1)
    assert f'href="/staff/audits/{first.pk}/"' in links

    audit_page = client.get(f"/staff/audits/{first.pk}/").content.decode()
    links = re.search(r'data-testid="crosslinks">(.*?)</p>', audit_page, re.S).group(1)
    assert f'href="/staff/programmes/{programme.pk}/"' in links
    assert f'href="/staff/organizations/{programme.organization_id}/"' in links

    org_page = client.get(f"/staff/organizations/{programme.organization_id}/").content.decode()
    links = re.search(r'data-testid="crosslinks">(.*?)</p>', org_page, re.S).group(1)
    assert f'href="/staff/programmes/{programme.pk}/"' in links


def add_audits(programme, n: int, start: int, leader, decider_team=None) -> None:
    """``n`` audits on ``programme`` (planned, in progress and completed in turn) with
    ``leader`` on each team: cheap rows for the query-count test."""
    states = [Audit.State.PLANNED, Audit.State.IN_PROGRESS, Audit.State.COMPLETED]
    audits = Audit.objects.bulk_create(
        Audit(
            programme=programme,
            kind=Audit.Kind.SURVEILLANCE,
            sequence=start + i,
            state=states[i % 3],
            due_on=date(2026, 1, 1) + timedelta(days=i % 400),
            planned_start=date(2026, 1, 1) + timedelta(days=i % 400),
            actual_end=date(2026, 1, 5) if states[i % 3] == Audit.State.COMPLETED else None,
        )
        for i in range(n)
    )
    AuditTeamMember.objects.bulk_create(
        AuditTeamMember(audit=a, user=leader, role=AuditTeamMember.Role.LEADER) for a in audits
    )


def test_my_tasks_query_count_is_the_same_for_10_and_1000_audits(client, world, time_machine):
    time_machine.move_to(at(date(2026, 3, 1)), tick=False)
    programme = world.certificate.programme
    add_audits(programme, 10, 100, world.staff.leader)
    CertificationBody.get()  # the CB profile cached, as any page before leaves it
    leader_10 = count_queries(client, world.staff.leader)
    decider_10 = count_queries(client, world.staff.decider)
    body, _ = sections(client, world.staff.leader)
    assert 'data-count="7"' in section_html(body, "my-audits")  # planned, in progress

    add_audits(programme, 990, 200, world.staff.leader)
    assert count_queries(client, world.staff.leader) == leader_10
    assert count_queries(client, world.staff.decider) == decider_10
    body, _ = sections(client, world.staff.leader)
    section = section_html(body, "my-audits")
    assert int(re.search(r'data-count="(\d+)"', section).group(1)) > 600
    assert len(rows(section)) == 5
