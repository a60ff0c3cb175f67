"""Dashboard figures for the staff home page."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from certbody import roles
from certbody.notifications import notify_staff
from reporting.dashboard import dashboard_figures
from reporting.models import ReportRun
from tests.certificates.factories import issued_certificate
from tests.reporting.conftest import at


@pytest.fixture(autouse=True)
def _chinese():
    """The figures' labels are read in the active language; these tests read them in Chinese
    (another test's request may have left English active in the worker)."""
    with translation.override("zh-hans"):
        yield


def bars(items) -> dict:
    return {bar.label: bar.value for bar in items}


def test_the_labels_follow_the_readers_language(people):
    with translation.override("en"):
        figures = dashboard_figures()
    assert "Surveillance audits overdue" in bars(figures.overdue)
    assert "Valid" in bars(figures.certificates)


def test_figures(people, time_machine):
    issued_certificate(staff=people.workflow)  # surveillance 1 due 2026-03-20
    time_machine.move_to(at(date(2026, 3, 5)), tick=False)
    figures = dashboard_figures()
    assert bars(figures.certificates)["有效"] == 1
    assert bars(figures.due_this_month)["监督审核"] == 1
    assert figures.overdue_total == 0
    assert figures.audits_per_month[0].label == "2026-03"
    assert figures.audits_per_month[0].value == 1 and figures.audits_per_month[0].percent == 100
    time_machine.move_to(at(date(2026, 4, 2)), tick=False)
    from certbody import jobs

    jobs.run("periodic_reports")
    time_machine.move_to(at(date(2026, 4, 12)), tick=False)
    figures = dashboard_figures()
    assert bars(figures.overdue)["监督审核逾期"] == 1
    # the March monthly reports and last year's annual ones (due 10 January, 10 March)
    assert bars(figures.overdue)["逾期未报送的报表"] == 5
    # (the platform upload is generated on request only, not by the periodic job)
    assert {run.kind for run in figures.overdue_reports} == set(ReportRun.Kind.values) - {
        ReportRun.Kind.STATUS_CHANGE,
        ReportRun.Kind.PLATFORM_UPLOAD,
    }


@pytest.mark.parametrize("count", [1, 3])
def test_figures_use_a_constant_number_of_queries(people, count, django_assert_max_num_queries):
    for _ in range(count):
        issued_certificate(staff=people.workflow)
    with django_assert_max_num_queries(15):  # 14 + one aggregate over nonconformities
        figures = dashboard_figures(date(2026, 3, 5))
    assert bars(figures.due_this_month)["监督审核"] == count


def test_home_page_shows_the_figures_and_my_notifications(client, people):
    notify_staff(
        roles=(roles.REPORTING_OFFICER,),
        template="calendar_missing",
        context={"year": 2031, "loaded": False},
        kind="calendar",
    )
    client.force_login(people.reporting)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "2031 年法定节假日安排尚未录入" in page
    assert response.context["unread_count"] == 1
    assert response.context["figures"].today


def test_nonconformity_counts(people, time_machine):
    from audits import services as nonconformities
    from tests.applications.factories import ClientUserFactory
    from tests.audits.nc_factories import answer, complete, raise_nc, stage2_in_progress

    staff = people.workflow
    stage2 = stage2_in_progress(staff=staff)
    major = raise_nc(stage2, staff)  # due 2025-09-12 once stage 2 ends on 2025-03-12
    minor = raise_nc(stage2, staff, severity="minor")
    closed = raise_nc(stage2, staff, severity="minor")
    complete(stage2, staff)
    client_user = ClientUserFactory(organization=stage2.programme.organization)
    for nc, is_plan in ((minor, True), (closed, False)):
        response = answer(nc, client_user, is_plan=is_plan)
        nonconformities.nonconformity_review(
            response=response,
            actor=staff.leader,
            accepted=True,
            note="",
            reviewed_on=date(2025, 4, 1),
        )
    time_machine.move_to(at(date(2025, 8, 20)), tick=False)
    figures = dashboard_figures()
    assert figures.open_nonconformities == 1  # the major; the plan accepted settles the minor
    assert bars(figures.due_this_month)["不符合项验证"] == 0
    time_machine.move_to(at(date(2025, 9, 5)), tick=False)
    figures = dashboard_figures()
    assert bars(figures.due_this_month)["不符合项验证"] == 1
    assert bars(figures.overdue)["不符合项逾期未验证"] == 0
    time_machine.move_to(at(date(2025, 9, 13)), tick=False)
    figures = dashboard_figures()
    assert bars(figures.overdue)["不符合项逾期未验证"] == 1
    assert major.pk in nonconformities.overdue_nonconformities().values_list("pk", flat=True)


def test_home_page_shows_the_open_nonconformities(client, people):
    from tests.audits.nc_factories import raise_nc, stage2_in_progress

    raise_nc(stage2_in_progress(staff=people.workflow), people.workflow)
    client.force_login(people.planner)
    page = client.get(reverse("home")).content.decode()
    assert 'id="open-nonconformities"' in page
    assert "/staff/nonconformities/?unsettled=on" in page
