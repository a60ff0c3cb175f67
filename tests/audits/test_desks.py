"""The audits desks of the staff workspace (audits.desks): programmes, audits, nonconformities
and auditors — lists with filters and exports, object pages offering exactly the actions a role
may take in the current state, actions through their confirm pages, 403 on forged requests.
"""

import hashlib
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits import rules, services
from audits import services as nonconformities
from audits.models import (
    Audit,
    Auditor,
    AuditorCompetence,
    AuditPlan,
    AuditProgramme,
    AuditReport,
    ConflictDeclaration,
    Nonconformity,
)
from certbody import roles
from certificates import services as cert_services
from tests.applications.factories import ClientUserFactory, OrganizationFactory, SiteFactory
from tests.audits.nc_factories import (
    PDF,
    STAGE2_END,
    answer,
    complete,
    raise_nc,
    stage2_in_progress,
    upload,
)
from tests.certificates.factories import Staff, accepted_application, run_audit, score_sheet
from tests.certificates.helpers import skip_pdf_rendering
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

ACTION = re.compile(r'data-action="([a-z-]+)"')


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def staff(cb, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return Staff()


@shared_fixture
def tm(cb):
    return make_staff("desk-tm", roles.TECHNICAL_MANAGER)


@shared_fixture
def outsider(cb):
    """An auditor who is on no team."""
    return make_staff("desk-auditor", roles.AUDITOR)


@shared_fixture
def organization(cb):
    organization = OrganizationFactory(name="华东家电服务有限公司")
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    return organization


@shared_fixture
def programme(staff, organization):
    return services.programme_create(
        application=accepted_application(organization, staff), actor=staff.planner
    )


@shared_fixture
def other_programme(staff):
    """Another client's programme, its audits not yet planned."""
    return services.programme_create(
        application=accepted_application(None, staff), actor=staff.planner
    )


@shared_fixture
def started_stage2(staff):
    """A new client's stage 2 in progress, with no nonconformity."""
    return stage2_in_progress(staff=staff)


@pytest.fixture
def review(programme):
    return programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)


@pytest.fixture
def stage2(programme):
    return programme.audits.get(kind=Audit.Kind.STAGE2)


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def offered(client, user, key, obj) -> set[str]:
    response = get(client, user, f"/staff/{key}/{obj.pk}/")
    assert response.status_code == 200
    return set(ACTION.findall(response.content.decode()))


def rows(response) -> str:
    return response.content.decode()


def export(client, user, url):
    csv = get(client, user, f"{url}{'&' if '?' in url else '?'}export=csv")
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    xlsx = get(client, user, f"{url}{'&' if '?' in url else '?'}export=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    return csv.content.decode("utf-8-sig")


def queries(client, user, url) -> int:
    client.force_login(user)
    client.get(url)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


# --- programmes -------------------------------------------------------------------------------


def test_programme_list_filters_and_exports(client, staff, programme, other_programme):
    other = other_programme

    page = get(client, staff.leader, f"/staff/programmes/?q={programme.organization.name}")

    assert page.status_code == 200
    assert programme.organization.name in rows(page)
    assert other.organization.name not in rows(page)
    csv = export(client, staff.leader, f"/staff/programmes/?q={programme.organization.name}")
    assert programme.organization.name in csv and other.organization.name not in csv
    assert "R0" in csv


def test_programme_page_shows_its_audits_and_offers_planning_to_the_audit_department(
    client, staff, programme, outsider
):
    page = get(client, staff.planner, f"/staff/programmes/{programme.pk}/")

    assert page.status_code == 200
    assert 'id="programme-audits"' in rows(page)
    assert rows(page).count("data-audit=") == 2  # document review and stage 2
    assert offered(client, staff.planner, "programmes", programme) == {
        "plan-cycle",
        "replan",
        "change-headcount",
        "add-special-audit",
    }
    assert offered(client, outsider, "programmes", programme) == set()
    assert offered(client, staff.market, "programmes", programme) == set()


def test_audit_department_creates_a_programme_for_an_accepted_application(client, staff):
    application = accepted_application(None, staff)

    form = get(client, staff.planner, "/staff/programmes/new/")
    assert form.status_code == 200 and application.reference in rows(form)
    response = post(
        client, staff.planner, "/staff/programmes/new/", {"application": application.pk}
    )

    programme = AuditProgramme.objects.get(application=application)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/programmes/{programme.pk}/"
    assert programme.audits.count() == 2


def test_creating_a_programme_is_refused_to_other_roles(client, staff):
    application = accepted_application(None, staff)

    assert get(client, staff.market, "/staff/programmes/new/").status_code == 403
    response = post(client, staff.leader, "/staff/programmes/new/", {"application": application.pk})

    assert response.status_code == 403
    assert not AuditProgramme.objects.filter(application=application).exists()


def test_plan_the_cycle_then_replan_through_the_confirm_pages(client, staff, programme):
    url = f"/staff/programmes/{programme.pk}/plan-cycle/"
    assert get(client, staff.planner, url).status_code == 200

    response = post(
        client,
        staff.planner,
        url,
        {"decision_date": "2025-03-20", "expires_on": "2028-03-19"},
    )

    assert response.status_code == 302
    programme.refresh_from_db()
    assert (programme.decided_on, programme.expires_on) == (date(2025, 3, 20), date(2028, 3, 19))
    assert programme.audits.filter(kind=Audit.Kind.SURVEILLANCE).count() == 2
    assert "plan-cycle" not in offered(client, staff.planner, "programmes", programme)

    response = post(
        client, staff.planner, f"/staff/programmes/{programme.pk}/replan/", {"reason": "复核"}
    )
    assert response.status_code == 302
    assert programme.history.first().history_change_reason


def test_a_forged_programme_action_is_refused(client, staff, programme, outsider):
    for user in (staff.market, outsider, staff.decider):
        response = post(
            client,
            user,
            f"/staff/programmes/{programme.pk}/plan-cycle/",
            {"decision_date": "2025-03-20", "expires_on": "2028-03-19"},
        )
        assert response.status_code == 403
    programme.refresh_from_db()
    assert programme.decided_on is None


def test_a_client_user_cannot_open_the_workspace(client, programme):
    user = ClientUserFactory(organization=programme.organization)

    assert get(client, user, "/staff/programmes/").status_code == 403
    assert get(client, user, f"/staff/audits/{programme.audits.first().pk}/").status_code == 403


# --- audits -----------------------------------------------------------------------------------


def test_audit_list_filters_by_kind_state_due_and_my_audits(
    client, staff, programme, review, other_programme
):
    other = other_programme
    services.audit_schedule(
        audit=review,
        actor=staff.planner,
        planned_start=date(2025, 2, 1),
        planned_end=date(2025, 2, 1),
    )
    services.audit_team_add(audit=review, actor=staff.planner, user=staff.leader, role="leader")
    services.programme_plan_cycle(
        programme=other,
        actor=staff.planner,
        decision_date=date(2024, 1, 10),
        expires_on=date(2027, 1, 9),
    )  # surveillance 1 of the other client is long overdue

    page = get(client, staff.leader, "/staff/audits/?kind=document_review")
    assert rows(page).count(programme.organization.name) == 1
    assert other.organization.name in rows(page)

    mine = get(client, staff.leader, "/staff/audits/?mine=on")
    assert programme.organization.name in rows(mine)
    assert other.organization.name not in rows(mine)
    assert str(staff.leader) in rows(mine)  # the team leader column

    overdue = get(client, staff.leader, "/staff/audits/?due=overdue")
    assert other.organization.name in rows(overdue)
    assert programme.organization.name not in rows(overdue)  # no due dates yet

    planned = get(client, staff.leader, "/staff/audits/?state=in_progress")
    assert programme.organization.name not in rows(planned)

    csv = export(client, staff.leader, "/staff/audits/?mine=on")
    assert programme.organization.name in csv and str(staff.leader) in csv


@pytest.mark.parametrize("people_limit", [500, 0])
def test_audit_search_finds_audits_by_organisation_and_by_team_member(
    client, staff, programme, review, other_programme, monkeypatch, people_limit
):
    """Issue #14: the audits desk's search matches the organisation's name or USCC and the name
    of anyone on the team. The people matched are read first (ids, up to ``PEOPLE_LIMIT``);
    past that limit they stay a sub-select (``people_limit=0``): the rows are the same."""
    from audits.desks.audits import AuditFilter

    monkeypatch.setattr(AuditFilter, "PEOPLE_LIMIT", people_limit)
    other = other_programme
    services.audit_team_add(audit=review, actor=staff.planner, user=staff.leader, role="leader")
    staff.leader.display_name = "欧阳检索"
    staff.leader.save(update_fields=["display_name"])

    by_member = rows(get(client, staff.planner, "/staff/audits/?q=欧阳检索"))
    assert programme.organization.name in by_member  # the review the leader is on
    assert other.organization.name not in by_member

    by_name = rows(get(client, staff.planner, f"/staff/audits/?q={other.organization.name}"))
    assert other.organization.name in by_name
    assert programme.organization.name not in by_name

    by_uscc = rows(get(client, staff.planner, f"/staff/audits/?q={other.organization.uscc}"))
    assert other.organization.name in by_uscc
    assert programme.organization.name not in by_uscc

    nobody = rows(get(client, staff.planner, "/staff/audits/?q=无此名称的机构"))
    assert programme.organization.name not in nobody
    assert other.organization.name not in nobody


def test_audit_page_offers_each_role_only_its_actions(client, staff, stage2, tm, outsider):
    assert offered(client, staff.planner, "audits", stage2) == {
        "schedule",
        "determine-time",
        "add-member",
        "start",
        "terminate",
    }
    # the technical manager stands in for the audit department (policy.MATRIX)
    assert offered(client, tm, "audits", stage2) == {
        "schedule",
        "determine-time",
        "add-member",
        "start",
        "terminate",
    }
    for user in (outsider, staff.market, staff.decider):
        assert offered(client, user, "audits", stage2) == set()

    services.audit_schedule(
        audit=stage2,
        actor=staff.planner,
        planned_start=date(2025, 3, 10),
        planned_end=date(2025, 3, 11),
    )
    services.audit_team_add(audit=stage2, actor=staff.planner, user=staff.leader, role="leader")

    assert offered(client, staff.planner, "audits", stage2) == {
        "schedule",
        "determine-time",
        "add-member",
        "remove-member",
        "prepare-plan",
        "start",
        "terminate",
    }
    # the team leader writes the plan and runs the audit; planning stays with the department
    # (the department may record the start for the team: policy.MATRIX "audits.start_audit")
    assert offered(client, staff.leader, "audits", stage2) == {"prepare-plan", "start"}


def test_audit_page_shows_team_time_plan_score_sheet_ncs_and_reports(client, staff, stage2):
    page = rows(get(client, staff.leader, f"/staff/audits/{stage2.pk}/"))

    for section in (
        "audit-team",
        "audit-time",
        "audit-plan",
        "score-sheet",
        "audit-ncs",
        "audit-reports",
    ):
        assert f'id="{section}"' in page
    assert f"/audits/{stage2.pk}/score-sheet/" in page
    assert "History" in page or "历史" in page


def test_determine_the_audit_time_with_signed_adjustments(client, staff, stage2):
    proposal = services.audit_time_propose(stage2)
    total = proposal.table_days - Decimal("0.5")
    url = f"/staff/audits/{stage2.pk}/determine-time/"
    assert get(client, staff.planner, url).status_code == 200

    response = post(
        client,
        staff.planner,
        url,
        {
            "full_time_headcount": proposal.effective_headcount,
            "part_time_hours": "0",
            "standard_hours": "2000",
            "adjustments": "-0.5 服务网点集中，流程简单",
            "onsite_days": str(rules.least_onsite_days(total)),
            "remote_days": "0",
        },
    )

    assert response.status_code == 302
    determination = stage2.time_determination
    assert determination.total_days == total
    (adjustment,) = determination.adjustments.all()
    assert (adjustment.days, adjustment.reason) == (Decimal("-0.5"), "服务网点集中，流程简单")
    page = rows(get(client, staff.planner, f"/staff/audits/{stage2.pk}/"))
    assert "服务网点集中，流程简单" in page


def test_an_adjustment_without_reason_is_a_form_error(client, staff, stage2):
    proposal = services.audit_time_propose(stage2)
    response = post(
        client,
        staff.planner,
        f"/staff/audits/{stage2.pk}/determine-time/",
        {
            "full_time_headcount": proposal.effective_headcount,
            "part_time_hours": "0",
            "standard_hours": "2000",
            "adjustments": "-0.5",
            "onsite_days": str(proposal.onsite_days),
            "remote_days": "0",
        },
    )

    assert response.status_code == 422
    assert "理由" in rows(response)
    assert not hasattr(Audit.objects.get(pk=stage2.pk), "time_determination")


def test_an_audit_is_planned_run_and_reported_through_its_confirm_pages(
    client, staff, review, organization
):
    base = f"/staff/audits/{review.pk}"

    def act(user, name, data=None):
        response = post(client, user, f"{base}/{name}/", data)
        assert response.status_code == 302, rows(response)
        review.refresh_from_db()
        return response

    act(staff.planner, "schedule", {"planned_start": "2025-02-01", "planned_end": "2025-02-01"})
    assert review.plan_report_due == date(2025, 1, 29)
    act(
        staff.planner,
        "add-member",
        {"user": staff.leader.pk, "role": "leader", "whole_audit": "on"},
    )
    assert review.team.get().user == staff.leader
    act(
        staff.leader,
        "prepare-plan",
        {
            "objectives": "审查售后服务体系文件",
            "criteria": "GB/T 27922",
            "scope_text": "家用电器的销售及售后服务",
            "sites": [organization.sites.get().pk],
            "shifts_covered": "白班",
        },
    )
    assert review.plan.state == AuditPlan.State.DRAFT
    act(staff.leader, "send-plan", {"sent_on": "2025-01-20"})
    assert review.plan.state == AuditPlan.State.SENT
    act(staff.planner, "confirm-plan", {"confirmed_on": "2025-01-21", "confirmed_by": "王五"})
    assert (review.plan.state, review.plan.confirmed_by) == (AuditPlan.State.CONFIRMED, "王五")
    act(staff.planner, "report-plan", {"reported_on": "2025-01-22"})
    assert review.plan.cnca_reported_on == date(2025, 1, 22)
    act(staff.leader, "start", {"started_on": "2025-02-01"})
    assert review.state == Audit.State.IN_PROGRESS

    response = act(
        staff.leader,
        "raise-nc",
        {
            "severity": "minor",
            "clause": "GB/T 27922 5.1",
            "description": "服务承诺未形成文件。",
            "evidence": "文件清单中无服务承诺。",
            "raised_on": "2025-02-01",
        },
    )
    nc = review.nonconformities.get()
    assert response["Location"] == f"/staff/nonconformities/{nc.pk}/"

    act(
        staff.leader,
        "complete",
        {"ended_on": "2025-02-01", "findings": "文件基本符合", "recommendation_positive": "1"},
    )
    assert review.state == Audit.State.COMPLETED
    act(staff.leader, "generate-report", {"signed_on": "2025-02-01"})
    report = review.reports.get()
    assert report.signed_by == staff.leader
    assert offered(client, staff.leader, "audits", review) == {
        "raise-nc",
        "generate-report",
        "deliver-report",
    }

    page = rows(get(client, staff.planner, f"{base}/"))
    assert f"/portal/audits/reports/{report.pk}/" in page
    download = get(client, staff.market, f"/portal/audits/reports/{report.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"


def test_a_client_downloads_a_report_only_once_delivered(client, staff, review):
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 1))
    report = AuditReport.objects.create(
        audit=review,
        kind=AuditReport.Kind.REPORT,
        version=1,
        file="audit-reports/x.pdf",
        sha256=hashlib.sha256(PDF).hexdigest(),  # downloads re-check it
        size=len(PDF),
        signed_by=staff.leader,
        signed_on=date(2025, 2, 1),
    )
    default_storage.save("audit-reports/x.pdf", io.BytesIO(PDF))
    own = ClientUserFactory(organization=review.programme.organization)
    stranger = ClientUserFactory()

    assert get(client, own, f"/portal/audits/reports/{report.pk}/").status_code == 404
    AuditReport.objects.filter(pk=report.pk).update(delivered_on=date(2025, 3, 1))
    assert get(client, own, f"/portal/audits/reports/{report.pk}/").status_code == 200
    assert get(client, stranger, f"/portal/audits/reports/{report.pk}/").status_code == 404


def test_audit_department_terminates_a_planned_audit(client, staff, stage2):
    page = get(client, staff.planner, f"/staff/audits/{stage2.pk}/terminate/")
    assert page.status_code == 200

    response = post(
        client, staff.planner, f"/staff/audits/{stage2.pk}/terminate/", {"reason": "客户撤回申请"}
    )

    stage2.refresh_from_db()
    assert response.status_code == 302
    assert (stage2.state, stage2.termination_reason) == (Audit.State.TERMINATED, "客户撤回申请")
    assert "客户撤回申请" in rows(get(client, staff.planner, f"/staff/audits/{stage2.pk}/"))


def test_forged_audit_actions_are_refused_and_an_impossible_state_is_a_conflict(
    client, staff, stage2, outsider
):
    for user, name, data in (
        (staff.market, "terminate", {"reason": "x"}),
        (outsider, "schedule", {"planned_start": "2025-03-10", "planned_end": "2025-03-11"}),
        (staff.leader, "add-member", {"user": staff.leader.pk, "role": "leader"}),
        (outsider, "start", {"started_on": "2025-03-10"}),
        (staff.decider, "raise-nc", {}),
    ):
        assert post(client, user, f"/staff/audits/{stage2.pk}/{name}/", data).status_code == 403
    stage2.refresh_from_db()
    assert stage2.state == Audit.State.PLANNED and stage2.planned_start is None
    assert not stage2.team.exists()
    # the department may terminate, but not an audit already terminated
    services.audit_terminate(audit=stage2, actor=staff.planner, reason="客户撤回")
    response = post(client, staff.planner, f"/staff/audits/{stage2.pk}/terminate/", {"reason": "x"})
    assert response.status_code == 409


# --- nonconformities --------------------------------------------------------------------------


@shared_fixture
def answered(staff):
    """A major NC of a stage 2 in progress, answered by the client with one PDF."""
    audit = stage2_in_progress(staff=staff)
    nc = raise_nc(audit, staff)
    client_user = ClientUserFactory(organization=audit.programme.organization)
    answer(nc, client_user, attachments=[upload("整改记录.pdf", PDF)])
    nc.refresh_from_db()
    return nc


def test_nc_list_filters_by_state_severity_overdue_and_to_verify(client, staff, answered, outsider):
    audit = answered.audit
    minor = raise_nc(audit, staff, severity="minor", clause="5.4.1")

    def numbers(url):
        page = rows(get(client, staff.leader, url))
        return set(re.findall(r'href="/staff/nonconformities/(\d+)/"', page))

    assert numbers("/staff/nonconformities/") == {str(answered.pk), str(minor.pk)}
    assert numbers("/staff/nonconformities/?state=answered") == {str(answered.pk)}
    assert numbers("/staff/nonconformities/?severity=minor") == {str(minor.pk)}
    assert numbers("/staff/nonconformities/?to_verify=on") == {str(answered.pk)}
    # due 6 months after it was raised in March 2025: overdue now, both unsettled
    assert numbers("/staff/nonconformities/?overdue=on") == {str(answered.pk), str(minor.pk)}
    outsider_page = rows(get(client, outsider, "/staff/nonconformities/?to_verify=on"))
    assert f"/staff/nonconformities/{answered.pk}/" not in outsider_page

    csv = export(client, staff.leader, "/staff/nonconformities/?severity=major")
    assert "NC-01" in csv and "NC-02" not in csv


def test_nc_page_shows_the_answer_with_its_files_and_offers_review_to_the_team(
    client, staff, answered, outsider
):
    page = rows(get(client, staff.planner, f"/staff/nonconformities/{answered.pk}/"))
    attachment = answered.responses.get().attachments.get()

    assert "整改记录.pdf" in page
    assert f"/portal/nonconformities/attachments/{attachment.pk}/" in page
    assert (
        get(
            client, staff.planner, f"/portal/nonconformities/attachments/{attachment.pk}/"
        ).status_code
        == 200
    )
    assert offered(client, staff.leader, "nonconformities", answered) == {"accept", "reject"}
    for user in (staff.planner, staff.decider, staff.market):
        assert offered(client, user, "nonconformities", answered) == set()
    # any auditor may be offered a plan verification, but only for an accepted plan
    assert offered(client, outsider, "nonconformities", answered) == set()


def test_team_rejects_then_accepts_an_answer_through_the_confirm_pages(client, staff, answered):
    url = f"/staff/nonconformities/{answered.pk}"
    assert get(client, staff.leader, f"{url}/reject/").status_code == 200
    refused = post(
        client, staff.leader, f"{url}/reject/", {"note": "", "reviewed_on": "2025-03-12"}
    )
    assert refused.status_code == 422  # the reason is required by the form

    response = post(
        client, staff.leader, f"{url}/reject/", {"note": "证据不足", "reviewed_on": "2025-03-12"}
    )
    answered.refresh_from_db()
    assert response.status_code == 302
    assert answered.state == Nonconformity.State.REJECTED

    client_user = ClientUserFactory(organization=answered.organization)
    answer(answered, client_user)
    response = post(
        client, staff.leader, f"{url}/accept/", {"note": "已验证", "reviewed_on": "2025-03-13"}
    )
    answered.refresh_from_db()
    assert response.status_code == 302
    assert (answered.state, answered.closed_on) == (Nonconformity.State.CLOSED, date(2025, 3, 13))


def test_forged_nc_review_is_refused(client, staff, answered):
    for user in (staff.planner, staff.decider):
        response = post(
            client,
            user,
            f"/staff/nonconformities/{answered.pk}/accept/",
            {"note": "x", "reviewed_on": "2025-03-12"},
        )
        assert response.status_code == 403
    answered.refresh_from_db()
    assert answered.state == Nonconformity.State.ANSWERED


def test_a_minors_plan_is_verified_at_the_next_audit_from_the_nc_page(
    client, staff, started_stage2
):
    stage2 = started_stage2
    minor = raise_nc(stage2, staff, severity="minor")
    response = answer(minor, ClientUserFactory(organization=stage2.organization), is_plan=True)
    nonconformities.nonconformity_review(
        response=response,
        actor=staff.leader,
        accepted=True,
        note="计划可行",
        reviewed_on=STAGE2_END,
    )
    complete(stage2, staff)
    score_sheet(stage2, "four_star")
    cert_services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 3, 20),
        star_grade="four_star",
    )
    surveillance = stage2.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    run_audit(surveillance, staff, date(2025, 8, 1), date(2025, 8, 2))
    assert offered(client, staff.leader, "nonconformities", minor) == {"verify-plan"}

    form = get(client, staff.leader, f"/staff/nonconformities/{minor.pk}/verify-plan/")
    assert f'value="{surveillance.pk}"' in rows(form)
    assert f'value="{stage2.pk}"' not in rows(form)  # not at its own audit
    response = post(
        client,
        staff.leader,
        f"/staff/nonconformities/{minor.pk}/verify-plan/",
        {
            "audit": surveillance.pk,
            "effective": "on",
            "note": "抽查网点均已公示",
            "verified_on": "2025-08-02",
        },
    )

    minor.refresh_from_db()
    assert response.status_code == 302
    assert (minor.state, minor.verified_at) == (Nonconformity.State.CLOSED, surveillance)


# --- auditors ---------------------------------------------------------------------------------


def test_auditor_list_filters_by_competence_and_exports(client, staff, outsider):
    expert = make_staff("desk-expert", roles.AUDITOR)
    services.auditor_register(
        user=expert, actor=staff.planner, qualification="technical_expert", is_full_time=False
    )

    page = rows(get(client, staff.planner, "/staff/auditors/?scope=24"))
    assert str(staff.leader) in page and "desk-expert" not in page
    page = rows(get(client, staff.planner, "/staff/auditors/?qualification=technical_expert"))
    assert "desk-expert" in page and str(staff.leader) not in page

    csv = export(client, staff.planner, "/staff/auditors/")
    assert staff.leader.auditor_profile.registration_number in csv
    assert "24" in csv


def test_auditor_id_number_and_phone_are_masked_for_roles_without_personal_data(
    client, staff, outsider
):
    from reporting.models import PersonnelRecord

    staff.leader.phone = "13812345678"
    staff.leader.save(update_fields=["phone"])
    PersonnelRecord.objects.create(
        auditor=staff.leader.auditor_profile, id_number="110105199001011234"
    )
    url = f"/staff/auditors/{staff.leader.auditor_profile.pk}/"

    full = rows(get(client, staff.planner, url))
    assert "13812345678" in full and "110105199001011234" in full
    masked = rows(get(client, outsider, url))
    assert "13812345678" not in masked and "138****5678" in masked
    assert "110105199001011234" not in masked and "110*************34" in masked


def test_auditor_page_offers_competences_and_declarations_to_the_audit_department(
    client, staff, tm, outsider
):
    auditor = staff.leader.auditor_profile
    page = rows(get(client, staff.planner, f"/staff/auditors/{auditor.pk}/"))
    assert 'id="auditor-competences"' in page and 'data-code="24"' in page

    managing = {
        "update-registration",
        "grant-competence",
        "declare-conflict",
        "record-training",
        "record-witnessed-audit",
    }
    assert offered(client, staff.planner, "auditors", auditor) == managing
    assert offered(client, tm, "auditors", auditor) == managing
    # An auditor declares their own interests (004 §4.3) but grants no competences.
    assert offered(client, staff.leader, "auditors", auditor) == {"declare-conflict"}
    assert offered(client, outsider, "auditors", auditor) == set()


def test_grant_a_competence_and_declare_a_conflict_through_the_confirm_pages(client, staff):
    auditor = staff.leader.auditor_profile
    organization = OrganizationFactory()
    url = f"/staff/auditors/{auditor.pk}"
    assert get(client, staff.planner, f"{url}/grant-competence/").status_code == 200

    response = post(
        client,
        staff.planner,
        f"{url}/grant-competence/",
        {"scope_code": "25", "evidence": "专业能力评价记录", "granted_on": "2025-01-01"},
    )
    assert response.status_code == 302
    assert AuditorCompetence.objects.filter(auditor=auditor, business_scope__code=25).exists()

    response = post(
        client,
        staff.planner,
        f"{url}/declare-conflict/",
        {
            "organization": organization.pk,
            "has_interest": "on",
            "description": "曾任该公司顾问",
            "declared_on": "2025-01-01",
        },
    )
    assert response.status_code == 302
    declaration = ConflictDeclaration.objects.get(auditor=auditor, organization=organization)
    assert declaration.has_interest


def test_register_an_auditor_from_the_create_page(client, staff):
    user = make_staff("desk-new-auditor", roles.AUDITOR)

    response = post(
        client,
        staff.planner,
        "/staff/auditors/new/",
        {
            "user": user.pk,
            "qualification": "auditor",
            "registration_number": "2025-FW-999999",
            "is_full_time": "on",
        },
    )

    auditor = Auditor.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/auditors/{auditor.pk}/"


def test_forged_auditor_actions_are_refused(client, staff, outsider):
    auditor = staff.leader.auditor_profile
    response = post(
        client,
        outsider,
        f"/staff/auditors/{auditor.pk}/grant-competence/",
        {"scope_code": "25", "evidence": "x", "granted_on": "2025-01-01"},
    )
    assert response.status_code == 403
    assert post(client, outsider, "/staff/auditors/new/", {}).status_code == 403
    assert not AuditorCompetence.objects.filter(auditor=auditor, business_scope__code=25).exists()


# --- constant query counts ---------------------------------------------------------------------


def test_list_pages_use_a_constant_number_of_queries(client, staff):
    def client_with_audits():
        audit = stage2_in_progress(staff=staff)
        raise_nc(audit, staff)
        return audit

    client_with_audits()
    urls = [
        "/staff/programmes/",
        "/staff/audits/",
        "/staff/nonconformities/",
        "/staff/auditors/",
    ]
    before = {url: queries(client, staff.planner, url) for url in urls}
    for n in range(3):
        client_with_audits()
        services.auditor_register(
            user=make_staff(f"desk-more-{n}", roles.AUDITOR),
            actor=staff.planner,
            qualification="auditor",
            is_full_time=True,
            registration_number=f"2025-FW-{n:06d}",
        )
    after = {url: queries(client, staff.planner, url) for url in urls}

    assert after == before
    assert Audit.objects.count() >= 8


def test_the_audit_department_closes_a_completed_document_review(client, staff, review):
    run_audit(review, staff, date(2025, 1, 10), date(2025, 1, 10), grade=None)
    review.refresh_from_db()
    assert review.state == Audit.State.COMPLETED
    assert "close-review" in offered(client, staff.planner, "audits", review)
    assert "close-review" not in offered(client, staff.decider, "audits", review)
    assert (
        post(client, staff.decider, f"/staff/audits/{review.pk}/close-review/").status_code == 403
    )

    response = post(client, staff.planner, f"/staff/audits/{review.pk}/close-review/")

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == Audit.State.CLOSED


def test_the_team_leader_records_a_meeting_from_the_audit_page(client, staff, started_stage2):
    audit = started_stage2
    assert "record-meeting" in offered(client, staff.leader, "audits", audit)
    assert "record-meeting" not in offered(client, staff.decider, "audits", audit)
    url = f"/staff/audits/{audit.pk}/record-meeting/"
    data = {
        "kind": "opening",
        "held_on": "2025-03-10",
        "attendees": "王五, 最高管理者, 总经理\n赵六，售后服务部经理",
        "check_in_confirmed": "on",
    }
    # The top manager absent without a reason and a delegate: refused, nothing recorded.
    response = post(client, staff.leader, url, data)
    assert response.status_code == 422 and "004 §5.5.2" in response.content.decode()
    assert not audit.meetings.exists()

    response = post(client, staff.leader, url, {**data, "top_manager_present": "on"})

    assert response.status_code == 302
    meeting = audit.meetings.get()
    assert meeting.attendees == [
        {"name": "王五", "role": "最高管理者", "position": "总经理"},
        {"name": "赵六", "role": "售后服务部经理", "position": ""},
    ]
    assert meeting.check_in_confirmed and meeting.recorded_by == staff.leader
