"""The staff home page per role (certbody.home): what is due and overdue for me, with counts,
the first rows linking to the workspace, the dashboard figures and a bounded query count."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications import services as app_services
from audits.models import Audit
from certbody import home, roles
from certbody.models import CertificationBody
from certbody.workspace import DESKS
from certificates.models import Appeal
from reporting.models import ReportRun
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.audits.nc_factories import answer, complete, raise_nc, stage2_in_progress
from tests.certificates.factories import Staff, issued_certificate
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)


def report_run(kind, period_start, due_on, actor):
    return ReportRun.objects.create(
        kind=kind,
        period_start=period_start,
        period_end=period_start,
        rule="002 §4.3",
        due_on=due_on,
        generated_by=actor,
        generated_at=timezone.now(),
    )


def complaint(reference, due_on, handler=None):
    return Appeal.objects.create(
        reference=reference,
        kind=Appeal.Kind.COMPLAINT,
        channel=Appeal.Channel.STAFF,
        received_on=due_on - timedelta(days=60),
        due_on=due_on,
        subject=f"投诉 {reference}",
        description="维修人员未按约定时间上门。",
        name="赵六",
        contact="13800000000",
        handler=handler,
    )


class World:
    """One of each kind of work: a certificate with its surveillance due, a completed stage 2
    with an answered NC (a decision to make, an NC to verify, a score sheet to fill), a
    submitted application, report runs and appeals."""

    def __init__(self):
        self.staff = Staff()
        self.certificate = issued_certificate(
            OrganizationFactory(name="南京苏宁电器有限公司"), self.staff
        )
        self.surveillance = self.certificate.programme.audits.get(kind="surveillance", sequence=1)
        stage2 = stage2_in_progress(OrganizationFactory(name="上海国美商贸有限公司"), self.staff)
        self.nc = raise_nc(stage2, self.staff)
        answer(self.nc, ClientUserFactory(organization=stage2.programme.organization))
        self.stage2 = complete(stage2, self.staff)
        self.application = app_services.application_create(
            organization=OrganizationFactory(name="北京京东家电有限公司"),
            actor=self.staff.market,
            scope_text="家用电器的销售及售后服务",
            headcount=60,
            business_scope_codes=[24],
        )
        app_services.application_submit(application=self.application, actor=self.staff.market)
        self.reporting = make_staff("ro-home", roles.REPORTING_OFFICER)
        self.late_run = report_run(
            "organisations_monthly", date(2026, 1, 1), date(2026, 2, 15), self.reporting
        )
        self.next_run = report_run(
            "organisations_monthly", date(2026, 2, 1), date(2026, 3, 15), self.reporting
        )
        self.tm = make_staff("tm-home", roles.TECHNICAL_MANAGER)
        self.handled = complaint("SS2026-00001", date(2026, 3, 1), handler=self.staff.market)
        self.unassigned = complaint("SS2026-00002", date(2026, 4, 1))


@shared_fixture
def world(cb):
    return World()


def sections(client, user, day=None):
    client.force_login(user)
    response = client.get("/home/")
    assert response.status_code == 200
    body = response.content.decode()
    return body, set(re.findall(r'<section[^>]*data-testid="home-([a-z-]+)"', body))


def section_html(body, key):
    match = re.search(rf'<section[^>]*data-testid="home-{key}".*?</section>', body, re.S)
    assert match, key
    return match.group(0)


def test_each_role_sees_the_sections_of_its_work(client, world, time_machine):
    time_machine.move_to(at(date(2026, 2, 20)), tick=False)
    expected = {
        world.staff.market: {"applications-to-review", "appeals"},  # handler of one complaint
        world.staff.planner: {"audits-due", "plans-to-report"},
        world.staff.leader: {"nonconformities-to-verify", "audits-i-lead", "my-audits"},
        world.staff.decider: {"decisions-to-make"},
        world.reporting: {"reports-to-submit"},
        world.tm: {"appeals"},
    }
    for user, keys in expected.items():
        _body, found = sections(client, user)
        assert found == keys, user.username


def test_audit_department_sees_the_surveillance_due_and_then_overdue(client, world, time_machine):
    due = world.surveillance.due_on
    time_machine.move_to(at(due - timedelta(days=30)), tick=False)
    body, _ = sections(client, world.staff.planner)
    section = section_html(body, "audits-due")
    assert 'data-count="1"' in section and 'data-overdue="0"' in section
    assert f'href="/staff/audits/{world.surveillance.pk}/"' in section
    assert "南京苏宁电器有限公司" in section

    time_machine.move_to(at(due + timedelta(days=1)), tick=False)
    body, _ = sections(client, world.staff.planner)
    section = section_html(body, "audits-due")
    assert 'data-overdue="1"' in section
    assert 'class="overdue"' in section


def test_surveillance_far_ahead_is_not_due_yet(client, world, time_machine):
    time_machine.move_to(at(world.surveillance.due_on - timedelta(days=120)), tick=False)
    body, _ = sections(client, world.staff.planner)

    assert 'data-count="0"' in section_html(body, "audits-due")


def test_auditor_sees_answered_ncs_of_their_audits_and_the_score_sheet_to_fill(client, world):
    body, _ = sections(client, world.staff.leader)

    ncs = section_html(body, "nonconformities-to-verify")
    assert 'data-count="1"' in ncs
    assert f'href="{home.object_url("nonconformities", world.nc)}"' in ncs
    lead = section_html(body, "audits-i-lead")
    assert f'href="{home.object_url("audits", world.stage2)}"' in lead
    assert "上海国美商贸有限公司" in lead


def test_an_auditor_not_on_the_team_has_no_nc_to_verify(client, world):
    other = make_staff("auditor-home", roles.AUDITOR)
    body, _ = sections(client, other)

    assert 'data-count="0"' in section_html(body, "nonconformities-to-verify")
    assert 'data-count="0"' in section_html(body, "audits-i-lead")


def test_decision_maker_sees_completed_audits_without_decision_but_not_their_own(client, world):
    body, _ = sections(client, world.staff.decider)
    section = section_html(body, "decisions-to-make")
    assert 'data-count="1"' in section
    assert "上海国美商贸有限公司" in section

    # A decision maker who was on the team may not decide (004 §5.12.1): not offered.
    world.staff.leader.groups.add(*world.staff.decider.groups.all())
    body, _ = sections(client, world.staff.leader)
    assert 'data-count="0"' in section_html(body, "decisions-to-make")


def test_reporting_officer_sees_unsubmitted_reports_overdue_first(client, world, time_machine):
    time_machine.move_to(at(date(2026, 3, 1)), tick=False)
    body, _ = sections(client, world.reporting)
    section = section_html(body, "reports-to-submit")

    assert 'data-count="2"' in section and 'data-overdue="1"' in section
    first, second = re.findall(r"<tr[^>]*>.*?</tr>", section.split("<tbody>")[1], re.S)
    assert "2026-02-15" in first and 'class="overdue"' in first
    assert "2026-03-15" in second


def test_technical_manager_sees_every_open_appeal_a_handler_only_theirs(
    client, world, time_machine
):
    time_machine.move_to(at(date(2026, 3, 10)), tick=False)
    body, _ = sections(client, world.tm)
    section = section_html(body, "appeals")
    assert 'data-count="2"' in section and 'data-overdue="1"' in section

    body, _ = sections(client, world.staff.market)
    section = section_html(body, "appeals")
    assert 'data-count="1"' in section
    assert "SS2026-00001" in section and "SS2026-00002" not in section


def test_market_sees_applications_to_review(client, world):
    body, _ = sections(client, world.staff.market)
    section = section_html(body, "applications-to-review")

    assert 'data-count="1"' in section
    assert f'href="/staff/applications/{world.application.pk}/"' in section
    assert 'class="overdue"' not in section  # a submission date is not a deadline


def test_home_keeps_the_dashboard_and_notifications(client, world):
    body, _ = sections(client, world.tm)

    assert '<svg class="bar"' in body
    assert 'id="notifications"' in body
    assert 'href="/notifications/"' in body  # the full list is a workspace page


def test_staff_pages_never_link_to_the_admin(client, world):
    body, _ = sections(client, world.tm)

    assert "/admin/" not in body


def test_without_a_workspace_desk_a_row_has_no_link_rather_than_the_admin(world, monkeypatch):
    monkeypatch.delitem(DESKS, "audits", raising=False)

    assert home.object_url("audits", world.stage2) == ""
    assert home.list_url("audits") == ""
    assert home.list_url("decisions", "kind=stage2") == "/staff/decisions/?kind=stage2"


def test_client_users_go_to_the_portal_and_the_public_to_the_log_in(client, db):
    assert client.get("/home/")["Location"].startswith("/accounts/login/")
    client.force_login(ClientUserFactory())
    assert client.get("/home/")["Location"] == "/portal/"


def test_a_staff_member_without_a_role_is_told_so(client, db):
    body, found = sections(client, make_staff("nobody"))

    assert found == set()
    assert 'data-testid="home-no-role"' in body


def count_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/home/").status_code == 200
    return len(queries)


def test_home_query_count_does_not_grow_with_the_work(client, world, time_machine):
    """Each section: an aggregate and a sliced list, whatever the number of rows."""
    time_machine.move_to(at(date(2026, 3, 1)), tick=False)
    superuser = make_staff("boss-home")
    superuser.is_superuser = True
    superuser.save()
    Audit.objects.filter(pk=world.surveillance.pk).update(plan_report_due=date(2026, 2, 1))
    CertificationBody.get()  # the CB profile cached, as any page before leaves it
    before = count_queries(client, superuser)

    for n in range(12):
        report_run("auditors_annual", date(2000 + n, 1, 1), date(2001 + n, 1, 31), world.reporting)
        complaint(f"SS2026-1{n:04d}", date(2026, 2, 1) + timedelta(days=n))
    after = count_queries(client, superuser)

    assert after == before
    assert before < 60
