"""Dashboard figures for the staff home page."""

from datetime import date

import pytest
from django.urls import reverse

from certbody import roles
from certbody.notifications import notify_staff
from reporting.dashboard import dashboard_figures
from reporting.models import ReportRun
from tests.certificates.factories import issued_certificate
from tests.reporting.conftest import at


def bars(items) -> dict:
    return {bar.label: bar.value for bar in items}


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
    from reporting import jobs

    jobs.run("periodic_reports")
    time_machine.move_to(at(date(2026, 4, 12)), tick=False)
    figures = dashboard_figures()
    assert bars(figures.overdue)["监督审核逾期"] == 1
    # the March monthly reports and last year's annual ones (due 10 January, 10 March)
    assert bars(figures.overdue)["报表逾期未报送"] == 5
    assert {run.kind for run in figures.overdue_reports} == set(ReportRun.Kind.values) - {
        ReportRun.Kind.STATUS_CHANGE
    }


@pytest.mark.parametrize("count", [1, 3])
def test_figures_use_a_constant_number_of_queries(people, count, django_assert_max_num_queries):
    for _ in range(count):
        issued_certificate(staff=people.workflow)
    with django_assert_max_num_queries(14):
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
