"""The audit department's pages in the workspace (formerly its admin): programme, audit time,
sampling, team check, plans and their printed form, auditors; and the admin refusing staff."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from audits import services
from audits.models import Audit, Auditor, AuditPlan, AuditTimeDetermination
from certbody import roles
from tests.applications.factories import OrganizationFactory, SiteFactory
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


def page(client, key, obj) -> str:
    response = client.get(reverse("workspace:object", args=[key, obj.pk]))
    assert response.status_code == 200
    return response.content.decode()


def action(client, name, obj, key="audits", **data):
    return client.post(reverse("workspace:action", args=[key, obj.pk, name]), data)


def done(response):
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def test_programme_page_lists_due_dates_and_the_recertification_deadline(staff, planner_client):
    programme = issued_certificate(staff=staff).programme
    text = page(planner_client, "programmes", programme)
    for due in (date(2026, 3, 20), date(2027, 6, 20), date(2028, 3, 18)):  # S1, S2, recert.
        assert due.isoformat() in text
    assert "2027-12-19" in text  # recertification application due (004 §5.8.1)
    assert "004 §5.8.1" in text


def test_audit_page_shows_the_proposal_then_the_determination_with_adjustments(
    staff, planner_client
):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    text = page(planner_client, "audits", stage2)
    assert "3.0" in text and "2.5" in text  # proposed 3.0, least 2.5
    done(
        action(
            planner_client,
            "determine-time",
            stage2,
            full_time_headcount="60",
            part_time_hours="0",
            standard_hours="2000",
            adjustments="+1 夜间班次需覆盖\n-0.5 网点集中",
            onsite_days="3.0",
            remote_days="0",
        )
    )
    determination = AuditTimeDetermination.objects.get(audit=stage2)
    assert determination.total_days == Decimal("3.5")
    text = page(planner_client, "audits", stage2)
    assert "<td>+1.0</td><td>夜间班次需覆盖</td>" in text
    assert "<td>-0.5</td><td>网点集中</td>" in text
    assert '<dd data-testid="total-days">3.5</dd>' in text


def test_a_refused_determination_shows_the_rule(staff, planner_client):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    response = action(
        planner_client,
        "determine-time",
        stage2,
        full_time_headcount="60",
        part_time_hours="0",
        standard_hours="2000",
        adjustments="-1.5 规模小",
        onsite_days="1.5",
        remote_days="0",
    )
    assert response.status_code == 422
    assert "004 §5.4.2.3" in response.content.decode()
    assert not AuditTimeDetermination.objects.exists()


def test_audit_page_shows_the_team_check_result(staff, planner_client):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    assert "审核组必须有组长（004 §5.4.4.1(1)）" in page(planner_client, "audits", review)
    done(
        action(
            planner_client,
            "add-member",
            review,
            user=str(staff.leader.pk),
            role="leader",
            whole_audit="on",
            tasks="文件审核",
        )
    )
    text = page(planner_client, "audits", review)
    assert '<p class="banner ok" id="team-check">' in text
    assert staff.leader.auditor_profile.registration_number in text


def test_sampling_plan_is_recorded_and_shown(staff, planner_client):
    organization = OrganizationFactory(headcount=160)
    head = SiteFactory(organization=organization, is_head_office=True, name="总部")
    outlets = [SiteFactory(organization=organization, name=f"门店{n}") for n in range(4)]
    programme = services.programme_create(
        application=accepted_application(organization, staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    url = reverse("workspace:action", args=["audits", stage2.pk, "record-sampling"])
    assert "Y=2" in planner_client.get(url).content.decode()
    done(
        action(
            planner_client,
            "record-sampling",
            stage2,
            similar_sites=[str(s.pk) for s in outlets],
            sampled_sites=[str(head.pk), str(outlets[0].pk), str(outlets[1].pk)],
            similarity_reason="同一服务规范、同类商品、同等风险",
            **{f"days_{head.pk}": "1.5"},
        )
    )
    assert "同一服务规范、同类商品、同等风险" in page(planner_client, "audits", stage2)


def test_special_audit_is_added_from_the_programme(staff, planner_client):
    programme = issued_certificate(staff=staff).programme
    done(
        action(
            planner_client,
            "add-special-audit",
            programme,
            key="programmes",
            special_kind="regulator_finding",
            reason="市场监管部门书面通报售后承诺未履行",
            notified_on="2025-06-02",
            short_notice="on",
        )
    )
    special = programme.audits.get(kind=Audit.Kind.SPECIAL)
    assert (special.due_on, special.short_notice) == (date(2025, 7, 2), True)


def test_plan_is_prepared_sent_confirmed_reported_and_printed(staff, planner_client):
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
    confirm = planner_client.get(
        reverse("workspace:action", args=["audits", stage2.pk, "prepare-plan"])
    )
    form = confirm.context["form"]
    data = {name: form.fields[name].initial or "" for name in form.fields if name != "sites"} | {
        "sites": [str(pk) for pk in form.fields["sites"].initial]
    }
    done(action(planner_client, "prepare-plan", stage2, **data))
    assert 'data-testid="plan-document"' in page(planner_client, "audits", stage2)
    done(action(planner_client, "send-plan", stage2, sent_on="2025-03-01"))
    done(
        action(
            planner_client, "confirm-plan", stage2, confirmed_on="2025-03-02", confirmed_by="王五"
        )
    )
    done(action(planner_client, "report-plan", stage2, reported_on="2025-03-05"))
    plan = AuditPlan.objects.get(audit=stage2)
    assert (plan.state, plan.cnca_reported_on) == (AuditPlan.State.CONFIRMED, date(2025, 3, 5))
    document = planner_client.get(reverse("audits:plan_document", args=[stage2.pk]))
    assert document.status_code == 200
    text = document.content.decode()
    assert staff.leader.auditor_profile.registration_number in text
    assert "总部" in text


def test_the_printed_plan_is_for_staff_only(staff, client):
    from tests.applications.factories import ClientUserFactory

    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    url = reverse("audits:plan_document", args=[stage2.pk])
    assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(ClientUserFactory(organization=programme.organization))
    assert client.get(url).status_code == 403  # clients read their plans in the portal


def test_send_plan_without_a_plan_is_not_offered(staff, planner_client):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    assert 'data-action="send-plan"' not in page(planner_client, "audits", review)
    assert action(planner_client, "send-plan", review, sent_on="2025-03-01").status_code == 409
    assert not AuditPlan.objects.exists()


def test_audit_department_manages_auditors_with_competences(staff, planner_client):
    newcomer = make_staff("newcomer-admin", roles.AUDITOR)
    url = reverse("workspace:create", args=["auditors"])
    assert planner_client.get(url).status_code == 200
    response = done(
        planner_client.post(
            url,
            {
                "user": newcomer.pk,
                "registration_number": "2025-FW-900",
                "qualification": "auditor",
                "is_full_time": "on",
                "notes": "",
            },
        )
    )
    auditor = Auditor.objects.get(user=newcomer)
    assert response["Location"] == reverse("workspace:object", args=["auditors", auditor.pk])
    done(
        action(
            planner_client,
            "grant-competence",
            auditor,
            key="auditors",
            scope_code="24",
            evidence="售后服务审查员专业能力评价表",
            granted_on="2025-01-01",
        )
    )
    assert auditor.competence_codes() == [24]
    listing = planner_client.get(reverse("workspace:list", args=["auditors"]))
    assert "2025-FW-900" in listing.content.decode()


def test_registering_an_auditor_refuses_a_missing_registration_number(staff, planner_client):
    newcomer = make_staff("newcomer-admin2", roles.AUDITOR)
    response = planner_client.post(
        reverse("workspace:create", args=["auditors"]),
        {"user": newcomer.pk, "registration_number": "", "qualification": "auditor"},
    )
    assert response.status_code == 422
    assert "004 §4.2" in response.content.decode()
    assert not Auditor.objects.filter(user=newcomer).exists()


def test_market_staff_cannot_edit_auditors(staff, client):
    client.force_login(staff.market)
    assert client.get(reverse("workspace:create", args=["auditors"])).status_code == 403
    auditor = staff.leader.auditor_profile
    url = reverse("workspace:action", args=["auditors", auditor.pk, "grant-competence"])
    assert client.get(url).status_code == 403


def test_asrp_page_shows_the_approval_check_and_planners_do_not_approve(staff, planner_client):
    from audits.models import AsrpProgramme
    from certbody.lifecycle import RuleViolation
    from tests.audits.factories import recertified_programme
    from tests.audits.test_asrp import CONTENT

    programme = recertified_programme(staff=staff)
    response = done(
        planner_client.post(
            reverse("workspace:create", args=["asrp"]), {"programme": programme.pk, **CONTENT}
        )
    )
    asrp = AsrpProgramme.objects.get(programme=programme)
    assert response["Location"] == reverse("workspace:object", args=["asrp", asrp.pk])
    text = page(planner_client, "asrp", asrp)
    assert "000 §4.1.3" in text  # no indicators agreed yet
    assert 'data-action="approve"' not in text
    forged = action(planner_client, "approve", asrp, key="asrp", approved_on="2025-10-08")
    assert forged.status_code == 403
    with pytest.raises(RuleViolation, match="无权.*技术负责人"):  # planners do not approve
        services.asrp_programme_approve(
            asrp=asrp, actor=staff.planner, approved_on=date(2025, 10, 8)
        )
    asrp.refresh_from_db()
    assert asrp.state == AsrpProgramme.State.DRAFT


@pytest.mark.parametrize(
    "key", ["programmes", "audits", "auditors", "nonconformities", "asrp", "catalogues"]
)
def test_desks_open_for_the_audit_department(planner_client, key):
    assert planner_client.get(reverse("workspace:list", args=[key])).status_code == 200
