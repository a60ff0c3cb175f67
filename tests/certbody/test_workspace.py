"""The workspace framework (certbody.workspace, certbody.workspace.views) through the
applications desk: lists with search, sorting, pagination and CSV/XLSX export (UTF-8 BOM,
formula-looking cells neutralised), object pages with their history (who, when, why, what
changed), confirm pages answering 409 when the state does not allow the action and 403 when
the role may not perform it, and staff-only access."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook

from applications import services as app_services
from applications.models import Application
from certbody import roles, workspace
from certbody.workspace import DESKS
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")

FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
def market(db):
    return make_staff("market-ws", roles.MARKET)


def new_application(market, organization=None, **kwargs):
    return app_services.application_create(
        organization=organization or OrganizationFactory(),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=60,
        business_scope_codes=[24],
        **kwargs,
    )


@pytest.fixture
def draft(market):
    return new_application(market, OrganizationFactory(name="南京苏宁电器有限公司"))


# --- exports --------------------------------------------------------------------------------


def test_csv_export_is_utf8_with_bom_and_neutralises_formulas(client, market):
    new_application(market, OrganizationFactory(name=FORMULA_NAME))
    new_application(market, OrganizationFactory(name="-2+3"))
    new_application(market, OrganizationFactory(name="上海国美商贸有限公司"))
    client.force_login(market)

    response = client.get("/staff/applications/?export=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + FORMULA_NAME in cells
    assert "'-2+3" in cells
    assert "上海国美商贸有限公司" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_xlsx_export_holds_the_filtered_rows_with_formulas_as_text(client, market):
    new_application(market, OrganizationFactory(name=FORMULA_NAME))
    new_application(market, OrganizationFactory(name="上海国美商贸有限公司"))
    client.force_login(market)

    response = client.get("/staff/applications/?export=xlsx&q=HYPERLINK")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    cells = [v for row in values for v in row if isinstance(v, str)]
    assert any(v == "'" + FORMULA_NAME for v in cells)
    assert not any("上海国美" in v for v in cells)  # the filter applies to the export
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_an_unknown_export_format_is_404(client, market, draft):
    client.force_login(market)

    assert client.get("/staff/applications/?export=pdf").status_code == 404


# --- lists ----------------------------------------------------------------------------------


def test_list_searches_sorts_and_paginates(client, market):
    for n in range(30):
        new_application(market, OrganizationFactory(name=f"分页测试公司{n:02d}"))
    new_application(market, OrganizationFactory(name="南京苏宁电器有限公司"))
    client.force_login(market)

    found = client.get("/staff/applications/?q=苏宁").content.decode()
    first = client.get("/staff/applications/?sort=organization").content.decode()
    second = client.get("/staff/applications/?sort=organization&page=2").content.decode()

    assert "南京苏宁电器有限公司" in found and "分页测试公司" not in found
    assert "分页测试公司00" in first and "分页测试公司29" not in first
    assert "分页测试公司29" in second


# --- confirm pages --------------------------------------------------------------------------


def test_an_action_the_state_does_not_allow_answers_409(client, market, draft):
    client.force_login(market)

    for method in (client.get, client.post):
        response = method(f"/staff/applications/{draft.pk}/accept/")
        assert response.status_code == 409
    draft.refresh_from_db()
    assert draft.state == Application.State.DRAFT


def test_an_action_is_offered_only_when_state_and_role_allow_it(client, market, draft):
    client.force_login(market)
    body = client.get(f"/staff/applications/{draft.pk}/").content.decode()

    assert 'data-action="submit"' in body
    assert 'data-action="accept"' not in body  # not in this state
    client.force_login(make_staff("auditor-ws", roles.AUDITOR))
    body = client.get(f"/staff/applications/{draft.pk}/").content.decode()
    assert 'data-action="submit"' not in body  # not for this role


def test_a_forged_post_by_a_role_without_the_permission_is_403_and_changes_nothing(client, draft):
    client.force_login(make_staff("decider-ws", roles.DECISION_MAKER))

    response = client.post(f"/staff/applications/{draft.pk}/submit/")

    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == Application.State.DRAFT


def test_performing_an_action_calls_the_service_and_returns_to_the_object(client, market, draft):
    client.force_login(market)

    confirm = client.get(f"/staff/applications/{draft.pk}/submit/")
    response = client.post(f"/staff/applications/{draft.pk}/submit/")

    assert confirm.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == f"/staff/applications/{draft.pk}/"
    draft.refresh_from_db()
    assert draft.state == Application.State.SUBMITTED


def test_unknown_desks_objects_and_actions_are_404(client, market, draft):
    client.force_login(market)

    assert client.get("/staff/no-such-desk/").status_code == 404
    assert client.get(f"/staff/applications/{draft.pk + 1000}/").status_code == 404
    assert client.get(f"/staff/applications/{draft.pk}/no-such-action/").status_code == 404


# --- history --------------------------------------------------------------------------------


def test_history_rows_say_who_when_why_and_what_changed(market, draft):
    app_services.application_submit(application=draft, actor=market)
    app_services.application_start_review(application=draft, actor=market)

    rows = workspace.history_rows(draft)

    assert [row.reason for row in rows[:2]] == ["开始申请评审", "提交申请"]
    assert {row.who for row in rows[:2]} == {"market-ws"}
    assert all(row.when for row in rows)
    review, submit = rows[0], rows[1]
    state_change = {label: (old, new) for label, old, new in review.changes}
    assert list(state_change.values()) == [
        (str(Application.State.SUBMITTED.label), str(Application.State.UNDER_REVIEW.label))
    ]
    assert any(old == str(Application.State.DRAFT.label) for _l, old, _n in submit.changes)
    assert rows[-1].changes == []  # the creation has nothing to compare with


def test_the_object_page_shows_the_history(client, market, draft):
    app_services.application_submit(application=draft, actor=market)
    client.force_login(market)

    body = client.get(f"/staff/applications/{draft.pk}/").content.decode()

    assert "提交申请" in body
    assert "market-ws" in body
    assert f"{Application.State.DRAFT.label} → {Application.State.SUBMITTED.label}" in body


# --- access ---------------------------------------------------------------------------------


def test_the_workspace_is_for_staff_only(client, draft):
    assert client.get("/staff/applications/")["Location"].startswith("/accounts/login/")
    client.force_login(ClientUserFactory(organization=draft.organization))
    assert client.get("/staff/applications/").status_code == 403
    assert client.get(f"/staff/applications/{draft.pk}/").status_code == 403


def test_navigation_lists_the_desks_a_staff_member_may_open(client, market):
    client.force_login(market)

    body = client.get("/home/").content.decode()

    for desk in workspace.desks_for(market):
        assert f'href="{desk.url()}"' in body
    assert workspace.desks_for(market)
    assert {d.key for d in workspace.desks_for(market)} <= set(DESKS)


def test_the_audit_page_history_includes_its_team_plan_and_time(client, db):
    """Work stored on related records (team, audit time, plan …) shows on the audit's page."""
    from audits.models import AuditTeamMember
    from tests.certificates.factories import Staff, completed_stage2

    staff = Staff()
    audit = completed_stage2(staff=staff)
    assert AuditTeamMember.objects.filter(audit=audit).exists()
    client.force_login(staff.planner)
    page = client.get(f"/staff/audits/{audit.pk}/").content.decode()
    history = page[page.index('class="card history"') :]
    assert "审核组" in history or "audit team" in history
    assert "评分表" in history or "score sheet" in history


@time_machine.travel(datetime(2026, 12, 6, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_exports_are_named_after_the_desk_and_date_with_typed_xlsx_cells(client, market, draft):
    from tests.certificates.factories import issued_certificate

    certificate = issued_certificate()
    client.force_login(make_staff("tm-export", roles.TECHNICAL_MANAGER))

    xlsx = client.get("/staff/certificates/?export=xlsx")
    csv = client.get("/staff/certificates/?export=csv")

    assert 'filename="certificates-2026-12-06.xlsx"' in xlsx["Content-Disposition"]
    assert 'filename="certificates-2026-12-06.csv"' in csv["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in sheet[1]]
    row = {header[i]: c.value for i, c in enumerate(sheet[2])}
    issued = row[header[4]]
    assert isinstance(issued, datetime)  # a date cell, not "2026-…" text
    assert issued.date() == certificate.issued_on
    assert row[header[6]] is None  # no head certificate: an empty cell, not ""
    assert certificate.issued_on.isoformat() in csv.content.decode("utf-8-sig")
