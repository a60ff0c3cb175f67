"""Admin pages of reporting: visibility by role, generate, download, submit, notifications."""

from datetime import date

from django.urls import reverse

from certbody import roles
from certbody.notifications import notify_staff
from reporting import services
from reporting.models import CbChange, ReportRun
from tests.reporting.conftest import at


def generated(people, time_machine) -> ReportRun:
    time_machine.move_to(at(date(2026, 11, 2)), tick=False)
    return services.report_generate(
        kind=ReportRun.Kind.ORGANISATIONS_MONTHLY,
        actor=people.reporting,
        period_start=date(2026, 10, 1),
    )


def test_reporting_officer_sees_downloads_and_submits(client, people, time_machine):
    run = generated(people, time_machine)
    client.force_login(people.reporting)
    changelist = reverse("admin:reporting_reportrun_changelist")
    response = client.get(changelist)
    assert response.status_code == 200 and "获证组织基本信息月报" in response.content.decode()
    response = client.get(reverse("admin:reporting_reportrun_download", args=[run.pk, "csv"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xef\xbb\xbf")
    assert "attachment" in response["Content-Disposition"]
    response = client.post(
        changelist,
        {
            "action": "submit",
            "_selected_action": [run.pk],
            "apply": "1",
            "receipt_number": "CNCA-202611-0042",
            "submitted_on": "2026-11-02",
        },
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.state, run.receipt_number) == ("submitted", "CNCA-202611-0042")


def test_generate_view(client, people, time_machine):
    time_machine.move_to(at(date(2026, 11, 2)), tick=False)
    client.force_login(people.technical_manager)
    url = reverse("admin:reporting_reportrun_generate")
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "cb_changes_monthly", "period": "2026-10-09"})
    assert response.status_code == 302
    assert ReportRun.objects.get().period_start == date(2026, 10, 1)


def test_other_roles_do_not_see_reports(client, people, time_machine):
    run = generated(people, time_machine)
    client.force_login(people.market)
    assert client.get(reverse("admin:reporting_reportrun_changelist")).status_code == 403
    url = reverse("admin:reporting_reportrun_download", args=[run.pk, "xlsx"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("admin:reporting_reportrun_generate")).status_code == 404


def test_cb_changes_are_entered_by_the_reporting_officer(client, people):
    client.force_login(people.reporting)
    response = client.post(
        reverse("admin:reporting_cbchange_add"),
        {
            "category": 5,
            "occurred_on": "2026-10-09",
            "description": "新设上海分场所",
            "evidence": "",
        },
    )
    assert response.status_code == 200  # evidence is required for item 5 (002 §4.3.2.2)
    response = client.post(
        reverse("admin:reporting_cbchange_add"),
        {
            "category": 5,
            "occurred_on": "2026-10-09",
            "description": "新设上海分场所",
            "evidence": "分场所设立批复",
        },
    )
    assert response.status_code == 302
    assert CbChange.objects.get().recorded_by == people.reporting


def test_each_staff_member_sees_only_their_notifications(client, people):
    notify_staff(roles=(roles.MARKET,), template="job_failed", context={"job": "甲"}, kind="x")
    notify_staff(
        roles=(roles.REPORTING_OFFICER,), template="job_failed", context={"job": "乙"}, kind="x"
    )
    client.force_login(people.market)
    page = client.get(reverse("admin:certbody_notification_changelist")).content.decode()
    assert "【定时任务未能执行】甲" in page and "乙" not in page
    mine = people.market.notifications.get()
    response = client.get(reverse("admin:certbody_notification_change", args=[mine.pk]))
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.read_at is not None
    other = people.reporting.notifications.get()
    response = client.get(reverse("admin:certbody_notification_change", args=[other.pk]))
    assert response.status_code in (302, 404)
