"""The certificates desks of the staff workspace: decisions to make and made, certificates and
their status changes, proposals, appeals and complaints, regulatory events (certbody.workspace).

Each desk: the list with its filters and CSV/XLSX export at a constant number of queries; the
object page with its history offering exactly the actions the role may perform in the current
state; each action through its confirm page; a forged POST by a role without the permission is
a 403 and the button is not shown.
"""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.models import Audit, AuditTeamMember, Nonconformity
from certbody import roles
from certbody.models import BusinessScope
from certificates import services
from certificates.models import (
    Appeal,
    Certificate,
    CertificateDocument,
    Decision,
    Proposal,
    RegulatoryEvent,
)
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import (
    Staff,
    completed_stage2,
    issued_certificate,
    run_audit,
    score_sheet,
)
from tests.certificates.helpers import certificate_in, multi_site_certificate
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

TODAY = date(2026, 6, 1)  # a Monday; the factories' certificates are valid (2025-03-20 – 2028)
Status = Certificate.Status


def at_today():
    return time_machine.travel(
        datetime(2026, 6, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    )


@pytest.fixture(autouse=True)
def _today():
    with at_today():
        yield


@shared_fixture
def staff(cb):
    with at_today():
        return Staff()


@pytest.fixture
def reporting_officer(db):
    return make_staff("ro1", roles.REPORTING_OFFICER)


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def offered(response) -> set[str]:
    """The action buttons on an object page."""
    assert response.status_code == 200
    return set(re.findall(r'data-action="([^"]+)"', response.content.decode()))


def list_url(key):
    return f"/staff/{key}/"


def object_url(key, pk):
    return f"/staff/{key}/{pk}/"


def action_url(key, pk, action):
    return f"/staff/{key}/{pk}/{action}/"


def queries(client, url) -> int:
    client.get(url)  # warm caches (session, content types) so only the page counts
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context)


def assert_exports(client, url, expected: str):
    csv = client.get(url + "?export=csv")
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    assert expected in csv.content.decode("utf-8-sig")
    xlsx = client.get(url + "?export=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"


# --- decisions to make ----------------------------------------------------------------------


@shared_fixture
def stage2(staff):
    with at_today():
        return completed_stage2(OrganizationFactory(name="南京苏宁电器有限公司"), staff)


def test_decisions_list_shows_completed_audits_with_score_grade_ncs_and_deadline(
    client, staff, stage2
):
    Nonconformity.objects.create(
        audit=stage2,
        number=1,
        severity=Nonconformity.Severity.MINOR,
        state=Nonconformity.State.OPEN,
        clause="5.3",
        description="服务记录不完整",
        evidence="抽查记录",
        raised_by=staff.leader,
        raised_on=date(2025, 3, 12),
        due_on=date(2025, 9, 12),
    )

    response = get(client, staff.decider, list_url("decisions"))

    assert response.status_code == 200
    row = re.search(
        # the first cell may be the row's tick box (bulk actions, issue #14)
        r"<tr[^>]*>\s*(?:<td[^>]*><input[^>]*>\s*</td>\s*)?<td[^>]*><a[^>]*>南京苏宁电器有限公司</a>.*?</tr>",
        response.content.decode(),
        re.S,
    )
    assert row, response.content.decode()
    cells = re.sub(r"<[^>]+>", "|", row.group(0))
    assert "92.00" in cells
    assert "四星级" in cells
    assert "|1|" in cells.replace(" ", "").replace("\n", "")  # one unsettled NC
    assert "2025-09-12" in cells  # 6 months after stage 2 (004 §5.12.3)


def test_decisions_list_filters_by_kind_and_exports(client, staff, stage2):
    client.force_login(staff.decider)

    assert (
        "南京苏宁电器有限公司"
        in client.get(list_url("decisions") + "?kind=stage2").content.decode()
    )
    assert "南京苏宁电器有限公司" not in (
        client.get(list_url("decisions") + "?kind=surveillance").content.decode()
    )
    assert_exports(client, list_url("decisions"), "南京苏宁电器有限公司")


def test_decisions_list_query_count_does_not_grow_with_rows(client, staff, stage2):
    client.force_login(staff.decider)
    one = queries(client, list_url("decisions"))
    completed_stage2(OrganizationFactory(name="国美电器有限公司"), staff)
    completed_stage2(OrganizationFactory(name="京东家电有限公司"), staff)

    assert queries(client, list_url("decisions")) == one


def test_decision_page_shows_the_sheet_team_and_history(client, staff, stage2):
    response = get(client, staff.decider, object_url("decisions", stage2.pk))

    body = response.content.decode()
    assert 'data-testid="sheet-grade">四星级<' in body
    assert staff.leader.display_name in body
    assert "History" in body or "历史" in body


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("decider", {"grant", "refuse"}),
        ("leader", set()),
        ("market", set()),
        ("planner", set()),
    ],
)
def test_decision_actions_offered_per_role_on_a_stage2(client, staff, stage2, who, expected):
    response = get(client, getattr(staff, who), object_url("decisions", stage2.pk))

    assert offered(response) == expected


def test_grant_through_the_confirm_page_issues_the_certificate_at_the_sheets_grade(
    client, staff, stage2
):
    url = action_url("decisions", stage2.pk, "grant")
    page = get(client, staff.decider, url)
    assert page.status_code == 200
    assert 'value="four_star" selected' in page.content.decode()

    response = client.post(url, {"decided_on": "2025-03-20"})

    decision = Decision.objects.get(audit=stage2)
    assert response.status_code == 302
    assert response["Location"] == object_url("decided", decision.pk)
    assert decision.outcome == "grant"
    certificate = decision.certificates.get(head__isnull=True)
    assert certificate.star_grade == "four_star"
    stage2.refresh_from_db()
    assert stage2.state == Audit.State.CLOSED


def test_a_decided_audits_link_leads_to_its_decision_not_a_404(client, staff, stage2):
    """A link to the audit on "decisions to make" (a notification, a bookmark, the browser's
    back button) after its decision is made goes to that decision, saying it has moved on;
    a second grant posted from a stale page changes nothing."""
    grant = action_url("decisions", stage2.pk, "grant")
    client.force_login(staff.decider)
    client.post(grant, {"decided_on": "2025-03-20"})
    decision = Decision.objects.get(audit=stage2)

    page = client.get(object_url("decisions", stage2.pk))
    assert page.status_code == 302
    assert page["Location"] == object_url("decided", decision.pk)
    again = client.post(grant, {"decided_on": "2025-03-21"})
    assert again.status_code == 302
    assert again["Location"] == object_url("decided", decision.pk)
    assert Decision.objects.filter(audit=stage2).count() == 1
    followed = client.get(page["Location"])
    assert followed.status_code == 200
    assert any("moved on" in str(m) or "已转到" in str(m) for m in followed.context["messages"])


def test_an_unknown_or_hidden_object_is_still_a_404(client, staff, stage2):
    client.force_login(staff.decider)
    assert client.get(object_url("decisions", 999999)).status_code == 404


def test_refusal_needs_reasons_and_then_refuses(client, staff, stage2):
    url = action_url("decisions", stage2.pk, "refuse")

    missing = post(client, staff.decider, url, {"decided_on": "2025-03-20"})
    assert missing.status_code == 422
    assert not Decision.objects.exists()

    done = client.post(url, {"decided_on": "2025-03-20", "reasons": "服务测评未覆盖配送环节"})

    assert done.status_code == 302
    decision = Decision.objects.get(audit=stage2)
    assert decision.outcome == "refuse"
    assert decision.documents.filter(kind=CertificateDocument.Kind.REFUSAL_NOTICE).exists()


def test_a_refused_grant_shows_the_services_reason(client, staff, stage2):
    response = post(
        client,
        staff.decider,
        action_url("decisions", stage2.pk, "grant"),
        {"decided_on": "2025-12-01"},
    )

    assert response.status_code == 422
    assert "6 个月内" in response.content.decode()
    # Shown once, above the form, not a second time beside it.
    assert response.content.decode().count('data-testid="action-error"') == 1
    assert not Decision.objects.exists()


def test_a_decision_maker_on_the_team_sees_no_button_and_a_forged_post_is_refused(
    client, staff, stage2
):
    member = make_staff("decider-on-team", roles.DECISION_MAKER)
    AuditTeamMember.objects.create(audit=stage2, user=member, role=AuditTeamMember.Role.AUDITOR)

    page = get(client, member, object_url("decisions", stage2.pk))
    assert offered(page) == set()
    assert 'data-testid="decider-checks"' in page.content.decode()

    response = client.post(
        action_url("decisions", stage2.pk, "grant"), {"decided_on": "2025-03-20"}
    )

    assert response.status_code == 403
    assert not Decision.objects.exists()


@pytest.mark.parametrize("who", ["market", "leader", "planner"])
def test_a_forged_grant_by_a_role_without_the_permission_is_403(client, staff, stage2, who):
    response = post(
        client,
        getattr(staff, who),
        action_url("decisions", stage2.pk, "grant"),
        {"decided_on": "2025-03-20"},
    )

    assert response.status_code == 403
    assert not Decision.objects.exists()


@shared_fixture
def surveillance(staff):
    with at_today():
        certificate = issued_certificate(OrganizationFactory(name="上海国美商贸有限公司"), staff)
        audit = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
        run_audit(audit, staff, date(2026, 3, 2), date(2026, 3, 3), grade=None)
        score_sheet(audit, "four_star")
        return audit


@pytest.mark.parametrize(
    ("who", "expected"),
    [("decider", {"maintain"}), ("leader", {"conclude"}), ("market", set())],
)
def test_surveillance_actions_offered_per_role(client, staff, surveillance, who, expected):
    response = get(client, getattr(staff, who), object_url("decisions", surveillance.pk))

    assert offered(response) == expected


def test_team_leaders_conclusion_maintains_the_certificate(client, staff, surveillance):
    response = post(
        client,
        staff.leader,
        action_url("decisions", surveillance.pk, "conclude"),
        {"concluded_on": "2026-03-05", "positive": "yes", "note": "体系运行有效"},
    )

    decision = Decision.objects.get(audit=surveillance)
    assert response.status_code == 302
    assert response["Location"] == object_url("decided", decision.pk)
    assert decision.basis == Decision.Basis.TEAM_LEADER_CONCLUSION


def test_decision_maker_maintains_a_surveillance(client, staff, surveillance):
    response = post(
        client,
        staff.decider,
        action_url("decisions", surveillance.pk, "maintain"),
        {"decided_on": "2026-03-10"},
    )

    assert response.status_code == 302
    assert Decision.objects.get(audit=surveillance).outcome == "maintain"


def test_a_forged_conclusion_by_the_decision_maker_is_403(client, staff, surveillance):
    response = post(
        client,
        staff.decider,
        action_url("decisions", surveillance.pk, "conclude"),
        {"concluded_on": "2026-03-05", "positive": "yes"},
    )

    assert response.status_code == 403


def test_decisions_made_list_and_page(client, staff):
    certificate = issued_certificate(OrganizationFactory(name="南京苏宁电器有限公司"), staff)
    decision = certificate.decision
    client.force_login(staff.market)

    listing = client.get(list_url("decided") + "?outcome=grant")
    assert "南京苏宁电器有限公司" in listing.content.decode()
    assert (
        "南京苏宁电器有限公司"
        not in client.get(list_url("decided") + "?outcome=refuse").content.decode()
    )
    assert_exports(client, list_url("decided"), "南京苏宁电器有限公司")
    page = client.get(object_url("decided", decision.pk))
    assert offered(page) == set()
    assert certificate.number in page.content.decode()
    assert 'data-kind="approval_notice"' in page.content.decode()


# --- certificates -----------------------------------------------------------------------------


@shared_fixture
def valid(staff):
    with at_today():
        return issued_certificate(OrganizationFactory(name="南京苏宁电器有限公司"), staff)


STATUS_ACTIONS = {
    Status.VALID: {"suspend", "withdraw", "cancel", "reissue", "reduce-scope"},
    Status.SUSPENDED: {"restore", "withdraw", "cancel"},
    Status.WITHDRAWN: set(),
    Status.CANCELLED: set(),
}


@pytest.mark.parametrize("status", list(STATUS_ACTIONS))
def test_certificate_actions_follow_the_status(client, staff, status):
    certificate = certificate_in(status, staff=staff)

    response = get(client, staff.decider, object_url("certificates", certificate.pk))

    assert offered(response) == STATUS_ACTIONS[status]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (roles.DECISION_MAKER, True),
        (roles.TECHNICAL_MANAGER, True),
        (roles.AUDIT_DEPARTMENT, True),
        (roles.MARKET, False),
        (roles.AUDITOR, False),
        (roles.REPORTING_OFFICER, False),
    ],
)
def test_status_actions_are_offered_only_to_status_roles(client, valid, role, allowed):
    user = make_staff(f"user-{role}", role)

    response = get(client, user, object_url("certificates", valid.pk))

    assert offered(response) == (STATUS_ACTIONS[Status.VALID] if allowed else set())


def test_a_sub_certificate_offers_no_status_action(client, staff):
    head, sub = multi_site_certificate(staff=staff)

    response = get(client, staff.decider, object_url("certificates", sub.pk))

    assert offered(response) == set()
    assert head.number in response.content.decode()


def test_certificate_page_shows_events_with_cnca_codes_documents_and_history(client, staff):
    certificate = certificate_in(Status.SUSPENDED, staff=staff)

    response = get(client, staff.market, object_url("certificates", certificate.pk))

    body = response.content.decode()
    assert 'data-event="suspended"' in body
    assert "<td>97_01</td>" in body and "<td>02</td>" in body
    suspension = certificate.documents.get(kind=CertificateDocument.Kind.SUSPENSION_NOTICE)
    assert f'href="/portal/documents/{suspension.pk}/"' in body
    assert staff.decider.display_name in body  # the history's "who"


def test_staff_download_a_certificates_document(client, staff, valid):
    document = valid.documents.get(kind=CertificateDocument.Kind.CERTIFICATE)

    response = get(client, staff.market, f"/portal/documents/{document.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_certificate_list_filters_and_exports(client, staff):
    valid = issued_certificate(OrganizationFactory(name="南京苏宁电器有限公司"), staff)
    suspended = certificate_in(
        Status.SUSPENDED, OrganizationFactory(name="上海国美商贸有限公司"), staff
    )
    client.force_login(staff.planner)

    by_status = client.get(list_url("certificates") + "?status=suspended").content.decode()
    assert suspended.number in by_status and valid.number not in by_status
    by_grade = client.get(list_url("certificates") + "?star_grade=five_star").content.decode()
    assert valid.number not in by_grade
    by_scope = client.get(list_url("certificates") + "?scope=24").content.decode()
    assert valid.number in by_scope
    assert valid.number not in client.get(list_url("certificates") + "?scope=30").content.decode()
    # The filter takes the category's code (as the register does), whatever its primary key.
    added = BusinessScope.objects.create(code=99, name="测试类别")
    assert added.pk != 99
    valid.business_scopes.add(added)
    by_code = client.get(list_url("certificates") + "?scope=99").content.decode()
    assert valid.number in by_code and suspended.number not in by_code
    search = client.get(list_url("certificates") + "?q=国美").content.decode()
    assert suspended.number in search and valid.number not in search
    assert_exports(client, list_url("certificates"), valid.number)


def test_certificate_list_filters_those_expiring_within_90_days(client, staff, valid):
    client.force_login(staff.planner)
    assert (
        valid.number not in client.get(list_url("certificates") + "?expiring=true").content.decode()
    )

    with time_machine.travel(datetime(2028, 1, 10, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        client.force_login(staff.planner)  # the session of 2026 has expired
        soon = client.get(list_url("certificates") + "?expiring=true").content.decode()

    assert valid.number in soon


def test_certificate_list_query_count_does_not_grow_with_rows(client, staff, valid):
    client.force_login(staff.planner)
    one = queries(client, list_url("certificates"))
    multi_site_certificate(staff=staff)
    issued_certificate(OrganizationFactory(name="京东家电有限公司"), staff)

    assert queries(client, list_url("certificates")) == one


def test_suspend_through_the_confirm_page(client, staff, valid):
    response = post(
        client,
        staff.decider,
        action_url("certificates", valid.pk, "suspend"),
        {
            "cause": "11",
            "verified_on": "2026-06-01",
            "starts_on": "2026-06-01",
            "ends_on": "2026-08-31",
            "reason": "客户申请暂停",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == object_url("certificates", valid.pk)
    valid.refresh_from_db()
    assert valid.status == Status.SUSPENDED
    assert valid.suspended_until == date(2026, 8, 31)


def test_a_suspension_refused_by_the_service_shows_why(client, staff, valid):
    response = post(
        client,
        staff.decider,
        action_url("certificates", valid.pk, "suspend"),
        {
            "cause": "11",
            "verified_on": "2026-06-01",
            "starts_on": "2026-06-01",
            "ends_on": "2027-06-01",
        },
    )

    assert response.status_code == 422
    assert "6 个月" in response.content.decode()
    valid.refresh_from_db()
    assert valid.status == Status.VALID


def test_restore_through_the_confirm_page(client, staff):
    certificate = certificate_in(Status.SUSPENDED, staff=staff)

    response = post(
        client,
        staff.decider,
        action_url("certificates", certificate.pk, "restore"),
        {"restored_on": "2025-07-15", "evidence": "整改验证通过"},
    )

    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == Status.VALID


def test_withdraw_through_the_confirm_page(client, staff, valid):
    response = post(
        client,
        staff.decider,
        action_url("certificates", valid.pk, "withdraw"),
        {"cause": "8", "verified_on": "2026-06-01", "withdrawn_on": "2026-06-01"},
    )

    assert response.status_code == 302
    valid.refresh_from_db()
    assert valid.status == Status.WITHDRAWN


def test_cancel_through_the_confirm_page(client, staff, valid):
    response = post(
        client,
        staff.decider,
        action_url("certificates", valid.pk, "cancel"),
        {"reason_code": "0204", "cancelled_on": "2026-06-01", "evidence": "客户书面申请"},
    )

    assert response.status_code == 302
    valid.refresh_from_db()
    assert valid.status == Status.CANCELLED


def test_reissue_through_the_confirm_page(client, staff, valid):
    response = post(
        client,
        staff.decider,
        action_url("certificates", valid.pk, "reissue"),
        {
            "reason": "01",
            "reissued_on": "2026-06-01",
            "organization_name": "南京苏宁易购电器有限公司",
        },
    )

    assert response.status_code == 302
    valid.refresh_from_db()
    assert valid.organization_name == "南京苏宁易购电器有限公司"
    assert valid.reissued_on == TODAY


def test_reduce_scope_through_the_confirm_page(client, staff, valid):
    response = post(
        client,
        staff.decider,
        action_url("certificates", valid.pk, "reduce-scope"),
        {
            "cause": "3",
            "verified_on": "2026-06-01",
            "reduced_on": "2026-06-01",
            "scope_text": "家用电器的销售及售后服务（配送、安装）",
        },
    )

    assert response.status_code == 302
    valid.refresh_from_db()
    assert valid.scope_text == "家用电器的销售及售后服务（配送、安装）"


@pytest.mark.parametrize("who", ["market", "leader"])
def test_a_forged_suspension_by_a_role_without_the_permission_is_403(client, staff, valid, who):
    response = post(
        client,
        getattr(staff, who),
        action_url("certificates", valid.pk, "suspend"),
        {
            "cause": "11",
            "verified_on": "2026-06-01",
            "starts_on": "2026-06-01",
            "ends_on": "2026-08-31",
        },
    )

    assert response.status_code == 403
    valid.refresh_from_db()
    assert valid.status == Status.VALID


def test_an_action_the_status_does_not_allow_is_409(client, staff, valid):
    response = post(
        client,
        staff.decider,
        action_url("certificates", valid.pk, "restore"),
        {"restored_on": "2026-06-01", "evidence": "x"},
    )

    assert response.status_code == 409


def test_client_users_cannot_open_the_workspace(client, valid):
    from tests.applications.factories import ClientUserFactory

    response = get(
        client,
        ClientUserFactory(organization=valid.organization),
        object_url("certificates", valid.pk),
    )

    assert response.status_code == 403


# --- proposals ------------------------------------------------------------------------------


def withdrawal_proposal(certificate, staff):
    return services.proposal_open(
        certificate=certificate,
        actor=staff.decider,
        action=Proposal.Action.WITHDRAW,
        cause=8,
        reason="三次国家监督抽查不合格",
    )


@pytest.mark.parametrize(
    ("who", "expected"),
    [("decider", {"accept", "dismiss"}), ("planner", {"accept", "dismiss"}), ("market", set())],
)
def test_proposal_actions_per_role(client, staff, valid, who, expected):
    proposal = withdrawal_proposal(valid, staff)

    response = get(client, getattr(staff, who), object_url("proposals", proposal.pk))

    assert offered(response) == expected


def test_a_suspension_proposal_is_dismissed_not_accepted_here(client, staff, valid):
    proposal = services.proposal_open(
        certificate=valid, actor=staff.decider, action="suspend", cause=1, reason="测评不合格"
    )

    response = get(client, staff.decider, object_url("proposals", proposal.pk))

    assert offered(response) == {"dismiss"}


def test_proposals_list_filters_and_exports(client, staff, valid):
    proposal = withdrawal_proposal(valid, staff)
    client.force_login(staff.decider)

    assert valid.number in client.get(list_url("proposals") + "?state=open").content.decode()
    assert (
        valid.number not in client.get(list_url("proposals") + "?state=dismissed").content.decode()
    )
    assert_exports(client, list_url("proposals"), valid.number)
    assert proposal.pk


def test_accepting_a_withdrawal_proposal_withdraws_the_certificate(client, staff, valid):
    proposal = withdrawal_proposal(valid, staff)

    response = post(
        client,
        staff.decider,
        action_url("proposals", proposal.pk, "accept"),
        {"verified_on": "2026-06-01", "withdrawn_on": "2026-06-01"},
    )

    assert response.status_code == 302
    proposal.refresh_from_db()
    valid.refresh_from_db()
    assert proposal.state == Proposal.State.ACCEPTED
    assert valid.status == Status.WITHDRAWN


def test_dismissing_a_proposal_keeps_the_reason(client, staff, valid):
    proposal = withdrawal_proposal(valid, staff)

    response = post(
        client,
        staff.decider,
        action_url("proposals", proposal.pk, "dismiss"),
        {"note": "抽查结果已被撤销"},
    )

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.DISMISSED
    assert proposal.closing_note == "抽查结果已被撤销"


def test_a_forged_dismissal_by_market_is_403(client, staff, valid):
    proposal = withdrawal_proposal(valid, staff)

    response = post(
        client, staff.market, action_url("proposals", proposal.pk, "dismiss"), {"note": "x"}
    )

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.OPEN


# --- appeals and complaints ---------------------------------------------------------------


@pytest.fixture
def complaint(staff):
    return services.appeal_receive(
        actor=staff.market,
        kind=Appeal.Kind.COMPLAINT,
        received_on=date(2026, 5, 20),
        subject="维修服务不到位",
        description="多次报修无人上门",
        name="张三",
        contact="13812345678",
    )


@pytest.fixture
def technical_manager(db):
    return make_staff("tm-desk", roles.TECHNICAL_MANAGER)


def test_appeals_list_shows_the_60_day_due_date_filters_and_exports(client, staff, complaint):
    client.force_login(staff.market)

    body = client.get(list_url("appeals")).content.decode()
    assert complaint.reference in body
    assert "2026-07-19" in body  # 60 days after receipt (004 §8.3)
    assert (
        complaint.reference in client.get(list_url("appeals") + "?kind=complaint").content.decode()
    )
    assert (
        complaint.reference not in client.get(list_url("appeals") + "?kind=appeal").content.decode()
    )
    assert (
        complaint.reference
        not in client.get(list_url("appeals") + "?overdue=true").content.decode()
    )
    with time_machine.travel(datetime(2026, 8, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        client.force_login(staff.market)
        late = client.get(list_url("appeals") + "?overdue=true").content.decode()
    assert complaint.reference in late
    assert_exports(client, list_url("appeals"), complaint.reference)


@pytest.mark.parametrize(
    ("who", "state", "expected"),
    [
        ("market", Appeal.State.RECEIVED, {"acknowledge"}),
        ("technical_manager", Appeal.State.RECEIVED, {"acknowledge"}),
        ("technical_manager", Appeal.State.ACKNOWLEDGED, {"assign"}),
        ("market", Appeal.State.ACKNOWLEDGED, set()),
        ("technical_manager", Appeal.State.UNDER_INVESTIGATION, {"assign", "decide"}),
        ("planner", Appeal.State.RECEIVED, set()),
    ],
)
def test_appeal_actions_per_role_and_state(
    client, staff, technical_manager, complaint, who, state, expected
):
    if state != Appeal.State.RECEIVED:
        services.appeal_acknowledge(appeal=complaint, actor=staff.market, acknowledged_on=TODAY)
    if state == Appeal.State.UNDER_INVESTIGATION:
        services.appeal_assign(appeal=complaint, actor=technical_manager, handler=technical_manager)
    user = technical_manager if who == "technical_manager" else getattr(staff, who)

    response = get(client, user, object_url("appeals", complaint.pk))

    assert offered(response) == expected


def test_an_appeal_goes_through_acknowledge_assign_and_decide(
    client, staff, technical_manager, complaint
):
    assert (
        post(
            client,
            staff.market,
            action_url("appeals", complaint.pk, "acknowledge"),
            {"acknowledged_on": "2026-05-21"},
        ).status_code
        == 302
    )
    assert (
        post(
            client,
            technical_manager,
            action_url("appeals", complaint.pk, "assign"),
            {"handler": technical_manager.pk},
        ).status_code
        == 302
    )
    response = post(
        client,
        technical_manager,
        action_url("appeals", complaint.pk, "decide"),
        {"decided_on": "2026-06-01", "outcome": "upheld", "decision_text": "已督促整改"},
    )

    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.state == Appeal.State.DECIDED
    assert complaint.handler == technical_manager
    page = client.get(object_url("appeals", complaint.pk))
    assert 'data-kind="appeal_decision"' in page.content.decode()


def test_a_forged_assignment_by_market_is_403(client, staff, complaint):
    services.appeal_acknowledge(appeal=complaint, actor=staff.market, acknowledged_on=TODAY)

    response = post(
        client,
        staff.market,
        action_url("appeals", complaint.pk, "assign"),
        {"handler": staff.market.pk},
    )

    assert response.status_code == 403
    complaint.refresh_from_db()
    assert complaint.handler is None


def test_the_complainants_phone_is_masked_for_roles_without_personal_data(client, staff, complaint):
    masked = get(client, staff.decider, object_url("appeals", complaint.pk)).content.decode()
    full = get(client, staff.market, object_url("appeals", complaint.pk)).content.decode()

    assert "13812345678" not in masked and "138****5678" in masked
    assert "13812345678" in full


def test_staff_record_a_complaint_on_the_create_page(client, staff):
    response = post(
        client,
        staff.market,
        "/staff/appeals/new/",
        {
            "kind": "complaint",
            "received_on": "2026-05-30",
            "name": "李四",
            "contact": "010-12345678",
            "subject": "安装收费不透明",
            "description": "安装后额外收费",
        },
    )

    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == object_url("appeals", appeal.pk)
    assert appeal.channel == Appeal.Channel.STAFF


def test_a_role_without_appeal_handling_cannot_record_one(client, staff):
    assert get(client, staff.planner, "/staff/appeals/new/").status_code == 403


# --- regulatory events ----------------------------------------------------------------------


def test_record_a_regulatory_event_on_the_create_page(client, staff, valid):
    response = post(
        client,
        staff.planner,
        "/staff/regulatory-events/new/",
        {
            "kind": "spot_check",
            "occurred_on": "2026-05-20",
            "source": "江苏省市场监督管理局",
            "description": "省级监督抽查",
            "level": "provincial",
            "result": "fail",
            "certificate_number": valid.number,
        },
    )

    event = RegulatoryEvent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == object_url("regulatory-events", event.pk)
    assert event.certificate == valid and event.organization == valid.organization
    client.force_login(staff.market)
    body = client.get(list_url("regulatory-events") + "?kind=spot_check").content.decode()
    assert "江苏省市场监督管理局" in body
    assert "江苏省市场监督管理局" not in (
        client.get(list_url("regulatory-events") + "?kind=accident").content.decode()
    )
    assert_exports(client, list_url("regulatory-events"), "江苏省市场监督管理局")
    assert client.get(object_url("regulatory-events", event.pk)).status_code == 200


def test_a_regulatory_event_about_an_organisation_by_its_uscc(client, staff, valid):
    response = post(
        client,
        staff.planner,
        "/staff/regulatory-events/new/",
        {
            "kind": "media_exposure",
            "occurred_on": "2026-05-20",
            "source": "南京日报",
            "description": "报道维修乱收费",
            "organization_uscc": valid.organization.uscc.lower(),
        },
    )

    assert response.status_code == 302
    event = RegulatoryEvent.objects.get()
    assert event.organization == valid.organization
    assert event.certificate == valid  # the organisation's current certificate


def test_an_unknown_certificate_number_is_a_form_error(client, staff):
    response = post(
        client,
        staff.planner,
        "/staff/regulatory-events/new/",
        {
            "kind": "accident",
            "occurred_on": "2026-05-20",
            "source": "媒体",
            "description": "事故",
            "certificate_number": "0123-NOPE",
        },
    )

    assert response.status_code == 422
    assert not RegulatoryEvent.objects.exists()


def test_a_regulatory_event_needs_a_certificate_or_an_organisation(client, staff):
    response = post(
        client,
        staff.planner,
        "/staff/regulatory-events/new/",
        {"kind": "accident", "occurred_on": "2026-05-20", "source": "媒体", "description": "事故"},
    )

    assert response.status_code == 422
    assert not RegulatoryEvent.objects.exists()


@pytest.mark.parametrize("who", ["market", "decider"])
def test_roles_without_the_permission_cannot_record_a_regulatory_event(client, staff, who):
    user = getattr(staff, who)
    client.force_login(user)

    assert 'data-testid="create"' not in client.get(list_url("regulatory-events")).content.decode()
    assert client.post("/staff/regulatory-events/new/", {}).status_code == 403


# --- constant queries on the other lists ------------------------------------------------------


def _add_row(key, certificate, staff, n):
    if key == "appeals":
        services.appeal_receive(
            actor=staff.market,
            kind=Appeal.Kind.COMPLAINT,
            received_on=date(2026, 5, 20),
            subject=f"投诉 {n}",
            description="服务不到位",
            organization=certificate.organization,
        )
    elif key == "proposals":
        services.proposal_open(
            certificate=certificate,
            actor=staff.decider,
            action=Proposal.Action.SUSPEND,
            cause=1,
            reason=f"建议 {n}",
        )
    else:
        services.regulatory_event_record(
            actor=staff.planner,
            kind=RegulatoryEvent.Kind.MEDIA_EXPOSURE,
            occurred_on=date(2026, 5, n),
            source=f"报道 {n}",
            description="维修乱收费",
            certificate=certificate,
        )


@pytest.mark.parametrize("key", ["appeals", "proposals", "regulatory-events", "decided"])
def test_list_query_count_does_not_grow_with_rows(client, staff, valid, key):
    client.force_login(staff.planner)
    if key != "decided":
        _add_row(key, valid, staff, 1)
    one = queries(client, list_url(key))
    for n in (2, 3):
        if key == "decided":
            issued_certificate(OrganizationFactory(name=f"第{n}家电器有限公司"), staff)
        else:
            _add_row(key, valid, staff, n)

    assert queries(client, list_url(key)) == one


def test_the_decision_page_offers_the_audit_report_before_delivery(client, staff, stage2):
    from audits import services as audit_reports

    report = audit_reports.audit_report_generate(
        audit=stage2, actor=staff.leader, signed_on=date(2025, 3, 13)
    )
    client.force_login(staff.decider)

    page = client.get(object_url("decisions", stage2.pk)).content.decode()
    url = f"/portal/audits/reports/{report.pk}/"
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_clients_cannot_download_a_report_before_its_delivery(client, staff, stage2):
    from audits import services as audit_reports
    from tests.applications.factories import ClientUserFactory

    report = audit_reports.audit_report_generate(
        audit=stage2, actor=staff.leader, signed_on=date(2025, 3, 13)
    )
    client.force_login(ClientUserFactory(organization=stage2.programme.organization))

    # Delivered after the decision (004 §5.11.5): until then the report is not the client's.
    assert client.get(f"/portal/audits/reports/{report.pk}/").status_code == 404


def test_a_certificate_past_its_expiry_can_be_marked_expired(client, staff, valid):
    with time_machine.travel(
        datetime(2028, 3, 21, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        page = get(client, staff.planner, object_url("certificates", valid.pk))
        assert "expire" in offered(page)
        response = client.post(action_url("certificates", valid.pk, "expire"))

    assert response.status_code == 302
    valid.refresh_from_db()
    assert valid.status == Status.EXPIRED
