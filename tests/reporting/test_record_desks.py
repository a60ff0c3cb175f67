"""The workspace pages that replaced reporting's admin pages for staff: the CB's own changes
(002 §4.3.2) and auditors' personnel records (002 §4.3.6.1), recorded through the services;
reports generated, downloaded and submitted on the reports desk; and the admin refusing
reporting staff (it is for superusers only)."""

import re
from datetime import date

import pytest
from django.urls import reverse

from certbody import masking
from certbody.lifecycle import RuleViolation
from reporting import services
from reporting.models import CbChange, PersonnelRecord, ReportRun
from tests.audits.factories import auditor_user
from tests.reporting.conftest import at

TODAY = date(2026, 11, 2)
ID_NUMBER = "110105199001011234"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(at(TODAY), tick=False)


def offered(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r'data-action="([^"]+)"', response.content.decode()))


def body(response) -> str:
    assert response.status_code == 200
    match = re.search(r"<tbody.*?</tbody>", response.content.decode(), re.S)
    return match.group(0) if match else ""


# --- reports (formerly the admin's report pages) ---------------------------------------------


def generated(people) -> ReportRun:
    return services.report_generate(
        kind=ReportRun.Kind.ORGANISATIONS_MONTHLY,
        actor=people.reporting,
        period_start=date(2026, 10, 1),
    )


def test_reporting_officer_sees_downloads_and_submits(client, people):
    run = generated(people)
    client.force_login(people.reporting)
    listing = client.get(reverse("workspace:list", args=["reports"]))
    assert "获证组织基本信息月报" in body(listing)
    response = client.get(reverse("reporting:download", args=[run.pk, "csv"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xef\xbb\xbf")
    assert "attachment" in response["Content-Disposition"]
    response = client.post(
        reverse("workspace:action", args=["reports", run.pk, "submit"]),
        {"receipt_number": "CNCA-202611-0042", "submitted_on": "2026-11-02"},
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.state, run.receipt_number) == ("submitted", "CNCA-202611-0042")


def test_technical_manager_generates_on_the_create_page(client, people):
    client.force_login(people.technical_manager)
    url = reverse("workspace:create", args=["reports"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "cb_changes_monthly", "period": "2026-10-09"})
    assert response.status_code == 302
    assert ReportRun.objects.get().period_start == date(2026, 10, 1)


def test_other_roles_may_not_generate_or_submit_reports_nor_see_them_in_the_admin(client, people):
    run = generated(people)
    client.force_login(people.market)
    assert client.get(reverse("workspace:create", args=["reports"])).status_code == 403
    submit = reverse("workspace:action", args=["reports", run.pk, "submit"])
    assert (
        client.post(submit, {"receipt_number": "X", "submitted_on": "2026-11-02"}).status_code
        == 403
    )
    run.refresh_from_db()
    assert run.state == ReportRun.State.GENERATED
    # The files are served by the workspace's checked view, which market may use: they are
    # the CB's own reports. A client user gets 403 there (tests/reporting/test_desks.py).


# --- the CB's own changes (002 §4.3.2) --------------------------------------------------------

CB_CHANGES = reverse("workspace:list", args=["cb-changes"])
NEW_CB_CHANGE = reverse("workspace:create", args=["cb-changes"])


def recorded(people, **values) -> CbChange:
    values = {
        "category": CbChange.Category.SITES,
        "occurred_on": date(2026, 10, 9),
        "description": "新设上海分场所",
        "evidence": "分场所设立批复",
        **values,
    }
    return services.cb_change_record(actor=people.reporting, **values)


def test_cb_changes_are_entered_by_the_reporting_officer(client, people):
    client.force_login(people.reporting)
    assert 'data-testid="create"' in client.get(CB_CHANGES).content.decode()
    data = {"category": 5, "occurred_on": "2026-10-09", "description": "新设上海分场所"}
    refused = client.post(NEW_CB_CHANGE, {**data, "evidence": ""})
    assert refused.status_code == 422  # evidence is required for item 5 (002 §4.3.2.2)
    assert "002 §4.3.2.2" in refused.content.decode()
    assert not CbChange.objects.exists()

    response = client.post(NEW_CB_CHANGE, {**data, "evidence": "分场所设立批复"})

    change = CbChange.objects.get()
    assert response["Location"] == reverse("workspace:object", args=["cb-changes", change.pk])
    assert change.recorded_by == people.reporting
    assert change.history.get().history_change_reason == "登记机构变更"


def test_a_change_without_evidence_is_accepted_for_items_7_to_9(client, people):
    client.force_login(people.technical_manager)
    response = client.post(
        NEW_CB_CHANGE,
        {"category": 9, "occurred_on": "2026-10-20", "description": "获证组织发生重大事故"},
    )
    assert response.status_code == 302
    assert CbChange.objects.get().evidence == ""


def test_cb_change_list_filters_and_exports(client, people):
    recorded(people)
    recorded(
        people,
        category=CbChange.Category.OTHER,
        occurred_on=date(2026, 9, 1),
        description="网站地址变更",
        evidence="新网站备案",
    )
    client.force_login(people.technical_manager)
    rows = body(client.get(CB_CHANGES))
    assert "新设上海分场所" in rows and "网站地址变更" in rows
    assert rows.index("新设上海分场所") < rows.index("网站地址变更")  # newest first
    only_sites = body(client.get(CB_CHANGES, {"category": 5}))
    assert "新设上海分场所" in only_sites and "网站地址变更" not in only_sites
    october = body(client.get(CB_CHANGES, {"occurred_from": "2026-10-01"}))
    assert "网站地址变更" not in october
    assert "网站地址变更" in body(client.get(CB_CHANGES, {"q": "网站"}))
    csv = client.get(CB_CHANGES, {"export": "csv"}).content.decode("utf-8-sig")
    assert "新设上海分场所" in csv and "分场所设立批复" in csv


def test_a_change_is_corrected_with_a_reason_in_its_history(client, people):
    change = recorded(people)
    client.force_login(people.technical_manager)
    url = reverse("workspace:action", args=["cb-changes", change.pk, "correct"])
    form = client.get(url).content.decode()
    assert "新设上海分场所" in form  # the form starts from the recorded values

    response = client.post(
        url,
        {
            "category": 5,
            "occurred_on": "2026-10-08",
            "description": "新设上海浦东分场所",
            "evidence": "分场所设立批复",
            "reason": "日期录错",
        },
    )

    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.occurred_on, change.description) == (date(2026, 10, 8), "新设上海浦东分场所")
    assert change.recorded_by == people.reporting  # who recorded it first stays
    latest = change.history.first()
    assert (latest.history_user, latest.history_change_reason) == (
        people.technical_manager,
        "更正：日期录错",
    )
    page = client.get(reverse("workspace:object", args=["cb-changes", change.pk])).content
    assert "更正：日期录错" in page.decode()


def test_a_correction_breaking_the_rules_is_refused(client, people):
    change = recorded(people)
    client.force_login(people.reporting)
    url = reverse("workspace:action", args=["cb-changes", change.pk, "correct"])
    response = client.post(
        url,
        {
            "category": 5,
            "occurred_on": "2026-10-09",
            "description": "x",
            "evidence": "",
            "reason": "补",
        },
    )
    assert response.status_code == 422
    assert "002 §4.3.2.2" in response.content.decode()
    change.refresh_from_db()
    assert change.evidence == "分场所设立批复"


def test_correcting_needs_a_reason_and_a_role(people):
    change = recorded(people)
    values = {
        "category": 5,
        "occurred_on": date(2026, 10, 9),
        "description": "新设上海分场所",
        "evidence": "批复",
    }
    with pytest.raises(RuleViolation, match="更正原因"):
        services.cb_change_correct(change=change, actor=people.reporting, reason=" ", **values)
    with pytest.raises(RuleViolation, match="无权执行此操作"):
        services.cb_change_correct(change=change, actor=people.market, reason="x", **values)


@pytest.mark.parametrize("who", ["market", "planner", "decider"])
def test_other_roles_neither_see_nor_record_cb_changes(client, people, who):
    change = recorded(people)
    client.force_login(getattr(people, who))
    assert client.get(CB_CHANGES).status_code == 403
    assert (
        client.get(reverse("workspace:object", args=["cb-changes", change.pk])).status_code == 403
    )
    data = {"category": 9, "occurred_on": "2026-10-20", "description": "伪造"}
    assert client.post(NEW_CB_CHANGE, data).status_code == 403
    assert CbChange.objects.count() == 1
    assert 'href="/staff/cb-changes/"' not in client.get(reverse("home")).content.decode()


# --- auditors' personnel records (002 §4.3.6.1) -------------------------------------------------

PERSONNEL = reverse("workspace:list", args=["personnel"])
NEW_PERSONNEL = reverse("workspace:create", args=["personnel"])


@pytest.fixture
def auditor(people):
    return auditor_user("pr-auditor", actor=people.planner).auditor_profile


def test_the_audit_department_adds_a_personnel_record(client, people, auditor):
    client.force_login(people.planner)
    form = client.get(NEW_PERSONNEL).content.decode()
    assert str(auditor) in form

    response = client.post(
        NEW_PERSONNEL,
        {
            "auditor": auditor.pk,
            "id_number": ID_NUMBER,
            "gender": "F",
            "birth_date": "1990-01-01",
            "education": "本科",
            "title": "工程师",
            "employed_on": "2024-03-01",
        },
    )

    record = PersonnelRecord.objects.get(auditor=auditor)
    assert response["Location"] == reverse("workspace:object", args=["personnel", record.pk])
    assert (record.id_number, record.gender, record.employed_on) == (
        ID_NUMBER,
        "F",
        date(2024, 3, 1),
    )
    assert record.history.get().history_user == people.planner
    # an auditor with a record is not offered again
    assert str(auditor) not in client.get(NEW_PERSONNEL).content.decode()


def test_a_record_the_service_refuses_is_shown_with_the_reason(client, people, auditor):
    client.force_login(people.reporting)
    response = client.post(
        NEW_PERSONNEL,
        {"auditor": auditor.pk, "employed_on": "2024-03-01", "left_on": "2024-01-01"},
    )
    assert response.status_code == 422
    assert "解聘日期不能早于聘用日期" in response.content.decode()
    assert not PersonnelRecord.objects.exists()


def test_the_reporting_officer_edits_a_record(client, people, auditor):
    record = services.personnel_record_save(
        auditor=auditor, actor=people.planner, id_number=ID_NUMBER, education="本科"
    )
    client.force_login(people.reporting)
    url = reverse("workspace:action", args=["personnel", record.pk, "edit"])
    assert ID_NUMBER in client.get(url).content.decode()  # filled with the record's values

    response = client.post(
        url, {"id_number": ID_NUMBER, "education": "硕士研究生", "left_on": "2026-10-31"}
    )

    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.education, record.left_on) == ("硕士研究生", date(2026, 10, 31))
    assert record.history.first().history_change_reason == "更新人员信息"


def test_personnel_list_shows_id_numbers_to_those_who_may_see_them(client, people, auditor):
    services.personnel_record_save(auditor=auditor, actor=people.planner, id_number=ID_NUMBER)
    client.force_login(people.technical_manager)
    assert ID_NUMBER in body(client.get(PERSONNEL))
    assert str(auditor.user) in body(client.get(PERSONNEL, {"q": ID_NUMBER[:6]}))
    assert ID_NUMBER in client.get(PERSONNEL, {"export": "csv"}).content.decode("utf-8-sig")
    assert "pr-auditor" not in body(client.get(PERSONNEL, {"employed": "false"}))


def test_personnel_pages_mask_id_numbers_without_the_permission(
    client, people, auditor, monkeypatch
):
    """Every role allowed on this desk holds ``certbody.view_personal_data`` today; the pages
    still go through the masking, so narrowing that permission masks them here too."""
    record = services.personnel_record_save(
        auditor=auditor, actor=people.planner, id_number=ID_NUMBER
    )
    monkeypatch.setattr("reporting.desks.can_see_personal_data", lambda user: False)
    monkeypatch.setattr("reporting.forms.can_see_personal_data", lambda user: False)
    client.force_login(people.technical_manager)
    masked = masking.mask_id_number(ID_NUMBER)

    page = client.get(reverse("workspace:object", args=["personnel", record.pk])).content
    listing = body(client.get(PERSONNEL))
    export = client.get(PERSONNEL, {"export": "csv"}).content.decode("utf-8-sig")
    by_id = body(client.get(PERSONNEL, {"q": ID_NUMBER}))

    for text in (page.decode(), listing, export):
        assert masked in text and ID_NUMBER not in text
    assert "pr-auditor" not in by_id  # no probing by ID number
    client.force_login(people.planner)
    form = client.get(reverse("workspace:action", args=["personnel", record.pk, "edit"]))
    assert 'name="id_number"' not in form.content.decode()


@pytest.mark.parametrize(
    ("who", "sees", "edits"),
    [
        ("planner", True, True),
        ("reporting", True, True),
        ("technical_manager", True, False),
        ("market", False, False),
        ("decider", False, False),
    ],
)
def test_personnel_records_by_role(client, people, auditor, who, sees, edits):
    record = services.personnel_record_save(
        auditor=auditor, actor=people.planner, id_number=ID_NUMBER
    )
    client.force_login(getattr(people, who))
    page = client.get(reverse("workspace:object", args=["personnel", record.pk]))
    assert page.status_code == (200 if sees else 403)
    if sees:
        assert offered(page) == ({"edit"} if edits else set())
    edit = reverse("workspace:action", args=["personnel", record.pk, "edit"])
    forged = client.post(edit, {"education": "伪造"})
    assert forged.status_code == (302 if edits else 403)
    record.refresh_from_db()
    assert (record.education == "伪造") is edits
