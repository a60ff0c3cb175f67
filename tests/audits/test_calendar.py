"""The planning calendar (issue #14): blocked days, booking refusals in the team and schedule
services, the conflicts shown before saving, the pages and their constant query count."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from audits import services
from audits.models import Audit, AuditorUnavailability, AuditTeamMember
from audits.selectors.calendar import calendar_month, schedule_conflicts
from certbody import roles
from certbody.lifecycle import RuleViolation
from certbody.policy import NotPermitted
from tests.applications.factories import ClientUserFactory
from tests.audits.factories import auditor_user
from tests.certificates.factories import Staff, accepted_application
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The refusals and conflicts are matched on their English words (the catalogue gives
    Chinese by default); pages requested in a test follow the person's own language."""
    with translation.override("en"):
        yield


TODAY = date(2026, 12, 6)
START = date(2027, 1, 11)  # a Monday
END = date(2027, 1, 12)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-12-06 09:00 +0800", tick=False):
        yield


@shared_fixture
def staff(cb):
    with time_machine.travel("2026-12-06 09:00 +0800", tick=False):  # as _today
        return Staff()


def new_stage2(staff):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    return programme.audits.get(kind=Audit.Kind.STAGE2)


@shared_fixture
def audit(staff):
    with time_machine.travel("2026-12-06 09:00 +0800", tick=False):  # as _today
        return new_stage2(staff)


def block(staff, user, start, end=None, kind="leave", actor=None):
    return services.auditor_block_days(
        auditor=user.auditor_profile,
        actor=actor or staff.planner,
        start=start,
        end=end or start,
        kind=kind,
        note="年假",
    )


def schedule(staff, audit, start=START, end=END):
    return services.audit_schedule(
        audit=audit, actor=staff.planner, planned_start=start, planned_end=end
    )


def add(staff, audit, user, role="leader"):
    return services.audit_team_add(audit=audit, actor=staff.planner, user=user, role=role)


# --- blocked days -------------------------------------------------------------------------


def test_an_auditor_blocks_their_own_days_and_the_planner_anyones(staff):
    other = auditor_user("cal-other")
    own = block(staff, staff.leader, START, actor=staff.leader)
    theirs = block(staff, other, START, END, kind="training")
    assert (own.recorded_by, own.kind) == (staff.leader, "leave")
    assert (theirs.start, theirs.end, theirs.recorded_by) == (START, END, staff.planner)
    assert own.history.first().history_user == staff.leader


def test_an_auditor_may_not_block_someone_elses_days(staff):
    other = auditor_user("cal-other")
    with pytest.raises(NotPermitted):
        block(staff, other, START, actor=staff.leader)
    market = make_staff("cal-market", roles.MARKET)
    with pytest.raises(NotPermitted):
        block(staff, other, START, actor=market)
    assert not AuditorUnavailability.objects.exists()


def test_a_block_ending_before_it_starts_or_of_unknown_kind_is_refused(staff):
    with pytest.raises(RuleViolation, match="cannot be before"):
        block(staff, staff.leader, END, START)
    with pytest.raises(RuleViolation, match="holiday"):
        block(staff, staff.leader, START, kind="holiday")


def test_unblocking_keeps_the_row_in_the_history(staff):
    row = block(staff, staff.leader, START)
    services.auditor_unblock_days(block=row, actor=staff.leader, reason="假期取消")
    assert not AuditorUnavailability.objects.exists()
    removed = AuditorUnavailability.history.filter(id=row.pk).order_by("-history_id").first()
    assert (removed.history_type, removed.history_change_reason) == ("-", "假期取消")
    assert removed.history_user == staff.leader


# --- hard refusals in the team and schedule services -----------------------------------------


def test_a_blocked_auditor_cannot_join_the_team_on_an_audit_day(staff, audit):
    schedule(staff, audit)
    block(staff, staff.leader, END)  # the last audit day
    with pytest.raises(RuleViolation, match="not available from 2027-01-12"):
        add(staff, audit, staff.leader)
    assert not audit.team.exists()


def test_a_block_ending_the_day_before_the_audit_is_no_conflict(staff, audit):
    schedule(staff, audit)
    block(staff, staff.leader, START - timedelta(days=3), START - timedelta(days=1))
    add(staff, audit, staff.leader)
    assert audit.team.filter(user=staff.leader, role="leader").exists()


def test_an_auditor_booked_on_another_audit_that_day_is_refused(staff, audit):
    other = new_stage2(staff)
    schedule(staff, other, END, END + timedelta(days=1))
    add(staff, other, staff.leader)
    schedule(staff, audit)
    with pytest.raises(RuleViolation, match="is booked on"):
        add(staff, audit, staff.leader)


def test_an_audit_ending_the_day_before_is_no_double_booking(staff, audit):
    other = new_stage2(staff)
    schedule(staff, other, START - timedelta(days=2), START - timedelta(days=1))
    add(staff, other, staff.leader)
    schedule(staff, audit)
    add(staff, audit, staff.leader)
    assert audit.team.count() == 1


def test_moving_an_audit_onto_a_members_blocked_day_is_refused(staff, audit):
    schedule(staff, audit)
    add(staff, audit, staff.leader)
    block(staff, staff.leader, date(2027, 1, 20))
    with pytest.raises(RuleViolation, match="cannot be held on these days"):
        schedule(staff, audit, date(2027, 1, 19), date(2027, 1, 20))
    audit.refresh_from_db()
    assert audit.planned_start == START
    schedule(staff, audit, date(2027, 1, 18), date(2027, 1, 19))  # the day before: allowed
    audit.refresh_from_db()
    assert audit.planned_end == date(2027, 1, 19)


def test_calendar_schedule_sets_dates_and_team_all_or_nothing(staff, audit):
    second = auditor_user("cal-second")
    block(staff, second, END)
    with pytest.raises(RuleViolation, match="cal-second"):
        services.audit_calendar_schedule(
            audit=audit,
            actor=staff.planner,
            planned_start=START,
            planned_end=END,
            leader=staff.leader,
            auditors=[second],
        )
    audit.refresh_from_db()
    assert (audit.planned_start, audit.team.count()) == (None, 0)
    services.audit_calendar_schedule(
        audit=audit,
        actor=staff.planner,
        planned_start=START,
        planned_end=START,
        leader=staff.leader,
        auditors=[second],
    )
    audit.refresh_from_db()
    assert audit.planned_start == START
    assert dict(audit.team.values_list("user__username", "role")) == {
        "wf-leader": "leader",
        "cal-second": "auditor",
    }
    assert audit.plan_report_due == START - timedelta(days=3)


# --- conflicts shown before saving ------------------------------------------------------------


def test_schedule_conflicts_lists_every_known_conflict(staff, audit):
    interested = auditor_user("cal-interest", codes=())
    services.conflict_declare(
        auditor=interested.auditor_profile,
        actor=staff.planner,
        organization=audit.organization,
        has_interest=True,
        description="亲属在该企业任职",
        declared_on=TODAY,
    )
    block(staff, staff.leader, START)
    expired = auditor_user("cal-expired", codes=())
    services.auditor_registration_update(
        auditor=expired.auditor_profile,
        actor=staff.planner,
        registration_type="auditor",
        registration_number=expired.auditor_profile.registration_number,
        registration_issued_on=date(2024, 1, 1),
        registration_valid_until=date(2027, 1, 11),
    )
    Audit.objects.filter(pk=audit.pk).update(due_on=date(2027, 1, 10))
    conflicts = schedule_conflicts(
        audit, START, END, [staff.leader.pk, interested.pk, expired.pk], today=TODAY
    )
    text = "\n".join(conflicts)
    assert "not available from 2027-01-11" in text
    assert "004 §5.4.4.3" in text and "cal-interest" in text
    assert any("cal-expired" in c and "2027-01-11" in c for c in conflicts)  # 004 §4.2
    assert "misses its window (004 §5.4.1.5)" in text
    assert "004 §9.2" not in text
    # without the competent leader, scope 24 is not covered
    conflicts = schedule_conflicts(audit, START, END, [interested.pk], today=TODAY)
    assert any("24" in c and "004 §5.4.4.1(2)" in c for c in conflicts)


def test_the_cnca_plan_report_is_still_possible_three_days_ahead(staff, audit):
    ok = schedule_conflicts(
        audit, TODAY + timedelta(days=3), TODAY + timedelta(days=3), [staff.leader.pk], today=TODAY
    )
    late = schedule_conflicts(
        audit, TODAY + timedelta(days=2), TODAY + timedelta(days=2), [staff.leader.pk], today=TODAY
    )
    assert not [c for c in ok if "004 §9.2" in c]
    assert [c for c in late if "004 §9.2" in c]


def test_a_free_competent_team_has_no_conflict(staff, audit):
    assert schedule_conflicts(audit, START, END, [staff.leader.pk], today=TODAY) == []


# --- the grid ---------------------------------------------------------------------------------


def test_the_month_shows_audits_blocks_load_due_windows_and_conflicts(staff, audit):
    schedule(staff, audit)
    add(staff, audit, staff.leader)
    # a leave recorded after the audit was planned: recorded, and the audit shows the conflict
    block(staff, staff.leader, END)
    surveillance = new_stage2(staff)
    Audit.objects.filter(pk=surveillance.pk).update(kind="surveillance", due_on=date(2027, 1, 25))
    grid = calendar_month(2027, 1)
    days = {d.day: d for week in grid.weeks for d in week}
    assert [e.audit for e in days[START].entries] == [audit]
    assert days[END].blocks[0].kind == "leave"
    assert days[END].entries[0].conflicts and "not available" in days[END].entries[0].conflicts[0]
    assert [a.pk for a in days[date(2027, 1, 25)].due] == [surveillance.pk]
    load = {x.auditor.user_id: x for x in grid.loads}[staff.leader.pk]
    assert (load.booked_days, load.blocked_days) == (2, 1)
    assert grid.first == date(2026, 12, 28) and grid.last == date(2027, 1, 31)


def _calendar_queries(client, user, audit, count, month):
    """Add ``count`` planned audits in ``month`` of 2027 with a two-person team (bulk) and count
    the queries of the month page."""
    other = auditor_user(f"cal-bulk-{count}")
    audits = Audit.objects.bulk_create(
        [
            Audit(
                programme_id=audit.programme_id,
                kind="surveillance",
                sequence=n + 2,
                due_on=date(2027, month, 1) + timedelta(days=n % 28),
                planned_start=date(2027, month, 1) + timedelta(days=n % 28),
                planned_end=date(2027, month, 2) + timedelta(days=n % 28),
            )
            for n in range(count)
        ]
    )
    AuditTeamMember.objects.bulk_create(
        [AuditTeamMember(audit=a, user=user, role="leader") for a in audits]
        + [AuditTeamMember(audit=a, user=other, role="auditor") for a in audits]
    )
    AuditorUnavailability.objects.bulk_create(
        [
            AuditorUnavailability(
                auditor=other.auditor_profile,
                start=date(2027, month, 1) + timedelta(days=n % 28),
                end=date(2027, month, 1) + timedelta(days=n % 28),
                kind="leave",
                recorded_by=user,
            )
            for n in range(count // 10 or 1)
        ]
    )
    url = reverse("audits_calendar:calendar") + f"?date=2027-{month:02d}-15"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b'data-testid="cal-audit"') >= count
    week = client.get(url + "&view=week")
    assert week.status_code == 200
    return len(queries)


def test_the_calendar_runs_as_many_queries_for_150_audits_as_for_10(client, staff, audit):
    # One query per audit or per day would add 140 or 20.
    client.force_login(staff.planner)
    few = _calendar_queries(client, staff.leader, audit, 10, 1)
    many = _calendar_queries(client, staff.leader, audit, 150, 3)
    assert many == few


# --- the pages --------------------------------------------------------------------------------


def test_the_planner_blocks_days_and_the_check_shows_the_conflict(client, staff, audit):
    client.force_login(staff.planner)
    response = client.post(
        reverse("audits_calendar:block_days"),
        {
            "auditor": staff.leader.auditor_profile.pk,
            "start": "2027-01-11",
            "end": "2027-01-11",
            "kind": "leave",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert AuditorUnavailability.objects.get().auditor.user == staff.leader
    data = {"planned_start": "2027-01-11", "planned_end": "2027-01-12", "leader": staff.leader.pk}
    check = client.post(
        reverse("audits_calendar:schedule_check", args=[audit.pk]), data, HTTP_HX_REQUEST="true"
    )
    assert check.status_code == 200
    assert b'data-testid="conflicts"' in check.content
    saved = client.post(reverse("audits_calendar:schedule", args=[audit.pk]), data)
    assert saved.status_code == 422
    audit.refresh_from_db()
    assert audit.planned_start is None


def test_an_auditor_may_block_only_their_own_days_from_the_page(client, staff):
    other = auditor_user("cal-other")
    client.force_login(staff.leader)
    page = client.get(reverse("audits_calendar:calendar"))
    assert page.status_code == 200
    assert page.context["block_form"].fields["auditor"].queryset.get().user == staff.leader
    client.post(
        reverse("audits_calendar:block_days"),
        {
            "auditor": other.auditor_profile.pk,
            "start": "2027-01-11",
            "end": "2027-01-11",
            "kind": "leave",
        },
    )
    assert not AuditorUnavailability.objects.exists()


def test_only_the_planners_open_the_schedule_page_and_clients_not_the_calendar(
    client, staff, audit
):
    client.force_login(staff.leader)
    assert client.get(reverse("audits_calendar:schedule", args=[audit.pk])).status_code == 403
    client.force_login(staff.planner)
    assert client.get(reverse("audits_calendar:schedule", args=[audit.pk])).status_code == 200
    client.force_login(ClientUserFactory(organization=audit.organization))
    assert client.get(reverse("audits_calendar:calendar")).status_code == 403


def test_the_home_page_links_the_calendar_for_planners_and_auditors_only(client, staff):
    url = reverse("audits_calendar:calendar")
    client.force_login(staff.planner)
    assert f'href="{url}"' in client.get(reverse("home")).content.decode()
    client.force_login(staff.market)
    assert f'href="{url}"' not in client.get(reverse("home")).content.decode()


def test_only_days_from_today_count_as_double_booking(staff, audit):
    other = new_stage2(staff)
    schedule(staff, other, TODAY - timedelta(days=1), TODAY)
    add(staff, other, staff.leader)
    # yesterday overlaps only: a past day is history, not planning
    schedule(staff, audit, TODAY - timedelta(days=2), TODAY - timedelta(days=1))
    add(staff, audit, staff.leader)
    services.audit_team_remove(audit=audit, actor=staff.planner, user=staff.leader)
    # today overlaps: refused
    schedule(staff, audit, TODAY, TODAY + timedelta(days=1))
    with pytest.raises(RuleViolation, match="is booked on"):
        add(staff, audit, staff.leader)
