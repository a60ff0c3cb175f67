"""The audit department's admin: programme, audit time, sampling, team check, plans, auditors."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from audits import services
from audits.models import AsrpProgramme, Audit, Auditor, AuditPlan, AuditTimeDetermination
from certbody import roles
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.audits.factories import recertified_programme
from tests.certificates.factories import Staff, accepted_application, issued_certificate
from tests.certificates.helpers import skip_pdf_rendering
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(cb, monkeypatch):
    skip_pdf_rendering(monkeypatch)
    return Staff()


@pytest.fixture
def planner_client(client, staff):
    client.force_login(staff.planner)
    return client


def action(client, name, pk, model="audit", **data):
    url = reverse(f"admin:audits_{model}_changelist")
    return client.post(
        url, {"action": name, "_selected_action": [pk], "apply": "1", **data}, follow=True
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_programme_page_lists_due_dates_and_the_recertification_deadline(staff, planner_client):
    programme = issued_certificate(staff=staff).programme
    response = planner_client.get(
        reverse("admin:audits_auditprogramme_change", args=[programme.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()
    for due in (date(2026, 3, 20), date(2027, 6, 20), date(2028, 3, 18)):  # S1, S2, recert.
        assert date_format(due) in page
    assert "2027-12-19" in page  # recertification application due (004 §5.8.1)
    assert "004 §5.8.1" in page


def test_audit_page_shows_the_proposal_then_the_determination_with_adjustments(
    staff, planner_client
):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    url = reverse("admin:audits_audit_change", args=[stage2.pk])
    page = planner_client.get(url).content.decode()
    assert "3.0" in page and "2.5" in page  # proposed 3.0, least 2.5
    response = action(
        planner_client,
        "determine_time",
        stage2.pk,
        full_time_headcount="60",
        part_time_hours="0",
        standard_hours="2000",
        adjustments="+1 夜间班次需覆盖\n-0.5 网点集中",
        onsite_days="3.0",
        remote_days="0",
    )
    assert any("1 项已完成" in m for m in messages_of(response)), messages_of(response)
    determination = AuditTimeDetermination.objects.get(audit=stage2)
    assert determination.total_days == Decimal("3.5")
    page = planner_client.get(url).content.decode()
    assert "+1.0 — 夜间班次需覆盖" in page
    assert "-0.5 — 网点集中" in page
    assert "<strong>3.5</strong>" in page


def test_a_refused_determination_shows_the_rule(staff, planner_client):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    response = action(
        planner_client,
        "determine_time",
        stage2.pk,
        full_time_headcount="60",
        part_time_hours="0",
        standard_hours="2000",
        adjustments="-1.5 规模小",
        onsite_days="1.5",
        remote_days="0",
    )
    assert any("004 §5.4.2.3" in m for m in messages_of(response))
    assert not AuditTimeDetermination.objects.exists()


def test_audit_page_shows_the_team_check_result(staff, planner_client):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    url = reverse("admin:audits_audit_change", args=[review.pk])
    assert "审核组必须有组长（004 §5.4.4.1(1)）" in planner_client.get(url).content.decode()
    response = action(
        planner_client,
        "add_team_member",
        review.pk,
        user=str(staff.leader.pk),
        role="leader",
        whole_audit="on",
        tasks="文件审核",
    )
    assert any("1 项已完成" in m for m in messages_of(response))
    page = planner_client.get(url).content.decode()
    assert "team-check-ok" in page
    assert staff.leader.auditor_profile.registration_number in page


def test_sampling_plan_is_recorded_and_shown(staff, planner_client):
    organization = OrganizationFactory(headcount=160)
    head = SiteFactory(organization=organization, is_head_office=True, name="总部")
    outlets = [SiteFactory(organization=organization, name=f"门店{n}") for n in range(4)]
    programme = services.programme_create(
        application=accepted_application(organization, staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    confirm = planner_client.post(
        reverse("admin:audits_audit_changelist"),
        {"action": "record_sampling", "_selected_action": [stage2.pk]},
    )
    assert "Y=2" in confirm.content.decode()
    response = action(
        planner_client,
        "record_sampling",
        stage2.pk,
        similar_sites=[str(s.pk) for s in outlets],
        sampled_sites=[str(head.pk), str(outlets[0].pk), str(outlets[1].pk)],
        similarity_reason="同一服务规范、同类商品、同等风险",
        **{f"days_{head.pk}": "1.5"},
    )
    assert any("1 项已完成" in m for m in messages_of(response)), messages_of(response)
    page = planner_client.get(reverse("admin:audits_audit_change", args=[stage2.pk]))
    assert "同一服务规范、同类商品、同等风险" in page.content.decode()


def test_special_audit_is_added_from_the_programme(staff, planner_client):
    programme = issued_certificate(staff=staff).programme
    response = action(
        planner_client,
        "add_special_audit",
        programme.pk,
        model="auditprogramme",
        special_kind="regulator_finding",
        reason="市场监管部门书面通报售后承诺未履行",
        notified_on="2025-06-02",
        short_notice="on",
    )
    assert any("1 项已完成" in m for m in messages_of(response)), messages_of(response)
    special = programme.audits.get(kind=Audit.Kind.SPECIAL)
    assert (special.due_on, special.short_notice) == (date(2025, 7, 2), True)


def test_plan_is_prepared_sent_confirmed_and_printed(staff, planner_client):
    organization = OrganizationFactory()
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    programme = services.programme_create(
        application=accepted_application(organization, staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    services.audit_schedule(
        audit=stage2,
        actor=staff.planner,
        planned_start=date(2025, 3, 10),
        planned_end=date(2025, 3, 11),
    )
    services.audit_team_add(audit=stage2, actor=staff.planner, user=staff.leader, role="leader")
    confirm = planner_client.post(
        reverse("admin:audits_audit_changelist"),
        {"action": "prepare_plan", "_selected_action": [stage2.pk]},
    )
    form = confirm.context["form"]
    data = {name: form.fields[name].initial or "" for name in form.fields if name != "sites"} | {
        "sites": [str(pk) for pk in form.fields["sites"].initial]
    }
    response = action(planner_client, "prepare_plan", stage2.pk, **data)
    assert any("1 项已完成" in m for m in messages_of(response)), messages_of(response)
    action(planner_client, "send_plan", stage2.pk, sent_on="2025-03-01")
    action(
        planner_client, "confirm_plan", stage2.pk, confirmed_on="2025-03-02", confirmed_by="王五"
    )
    action(planner_client, "report_plan", stage2.pk, reported_on="2025-03-05")
    plan = AuditPlan.objects.get(audit=stage2)
    assert (plan.state, plan.cnca_reported_on) == (AuditPlan.State.CONFIRMED, date(2025, 3, 5))
    document = planner_client.get(reverse("admin:audits_audit_plan_document", args=[stage2.pk]))
    assert document.status_code == 200
    text = document.content.decode()
    assert staff.leader.auditor_profile.registration_number in text
    assert "总部" in text


def test_send_plan_without_a_plan_says_so(staff, planner_client):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    response = action(planner_client, "send_plan", review.pk, sent_on="2025-03-01")
    assert any("请先编制审核计划" in m for m in messages_of(response))


def test_audit_department_manages_auditors_with_competences(staff, planner_client):
    newcomer = make_staff("newcomer-admin", roles.AUDITOR)
    url = reverse("admin:audits_auditor_add")
    assert planner_client.get(url).status_code == 200
    prefix_c, prefix_d = "competences", "declarations"
    response = planner_client.post(
        url,
        {
            "user": newcomer.pk,
            "registration_number": "2025-FW-900",
            "qualification": "auditor",
            "is_full_time": "on",
            "active": "on",
            "notes": "",
            f"{prefix_c}-TOTAL_FORMS": "1",
            f"{prefix_c}-INITIAL_FORMS": "0",
            f"{prefix_c}-0-business_scope": "24",
            f"{prefix_c}-0-evidence": "售后服务审查员专业能力评价表",
            f"{prefix_c}-0-granted_on": "2025-01-01",
            f"{prefix_d}-TOTAL_FORMS": "0",
            f"{prefix_d}-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    auditor = Auditor.objects.get(user=newcomer)
    assert auditor.competence_codes() == [24]
    listing = planner_client.get(reverse("admin:audits_auditor_changelist"))
    assert "2025-FW-900" in listing.content.decode()


def test_auditor_admin_refuses_a_missing_registration_number(staff, planner_client):
    newcomer = make_staff("newcomer-admin2", roles.AUDITOR)
    response = planner_client.post(
        reverse("admin:audits_auditor_add"),
        {
            "user": newcomer.pk,
            "registration_number": "",
            "qualification": "auditor",
            "competences-TOTAL_FORMS": "0",
            "competences-INITIAL_FORMS": "0",
            "declarations-TOTAL_FORMS": "0",
            "declarations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "004 §4.2" in response.content.decode()


def test_market_staff_cannot_edit_auditors(staff, client):
    client.force_login(staff.market)
    assert client.get(reverse("admin:audits_auditor_add")).status_code == 403


def test_asrp_admin_shows_the_approval_check(staff, planner_client):
    programme = recertified_programme(staff=staff)
    response = action(
        planner_client,
        "create_asrp",
        programme.pk,
        model="auditprogramme",
        reliance="采信内审",
        witnessing_criteria="见证内审",
        internal_auditor_criteria="内审员资格",
        adjustment_criteria="指标未达到即调整",
        audit_components="投诉处理",
        special_competences="绩效评价能力",
    )
    assert any("1 项已完成" in m for m in messages_of(response)), messages_of(response)
    asrp = AsrpProgramme.objects.get(programme=programme)
    page = planner_client.get(reverse("admin:audits_asrpprogramme_change", args=[asrp.pk]))
    assert page.status_code == 200
    assert "000 §4.1.3" in page.content.decode()  # no indicators agreed yet
    response = action(
        planner_client,
        "approve",
        asrp.pk,
        model="asrpprogramme",
        approved_on="2025-10-08",
    )
    assert any("000 §3.3" in m for m in messages_of(response))  # planners do not approve


@pytest.mark.parametrize(
    "name",
    [
        "admin:audits_auditprogramme_changelist",
        "admin:audits_audit_changelist",
        "admin:audits_auditor_changelist",
        "admin:audits_asrpprogramme_changelist",
    ],
)
def test_changelists_open_for_the_audit_department(planner_client, name):
    assert planner_client.get(reverse(name)).status_code == 200
