"""The client confirms the audit plan sent to their organisation in the portal (004 §5.4.6.3);
another organisation's plan, and a plan not sent, are 404."""

from datetime import date

import pytest
from django.utils import timezone

from audits import services
from audits.models import Audit, AuditPlan
from tests.applications.factories import ClientUserFactory, OrganizationFactory, SiteFactory
from tests.certificates.factories import accepted_application

pytestmark = pytest.mark.django_db

START, END = date(2025, 3, 10), date(2025, 3, 11)


def drafted_plan(staff, organization=None) -> AuditPlan:
    """Stage 2 scheduled, led by ``staff.leader``, with its plan written (a draft)."""
    organization = organization or OrganizationFactory()
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    programme = services.programme_create(
        application=accepted_application(organization, staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    services.audit_schedule(audit=stage2, actor=staff.planner, planned_start=START, planned_end=END)
    services.audit_team_add(
        audit=stage2, actor=staff.planner, user=staff.leader, role="leader", tasks="全部条款"
    )
    return services.audit_plan_prepare(
        audit=stage2,
        actor=staff.leader,
        objectives="评价售后服务体系与 GB/T 27922 的符合性和有效性，确定星级",
        criteria="GB/T 27922-2011；ZXRZ 售后服务认证规则",
        scope_text="家用电器的销售及售后服务",
        shifts_covered="白班（9:00–18:00）",
        sites=list(organization.sites.all()),
        schedule="3 月 10 日 9:00 首次会议",
    )


def sent_plan(staff, organization=None) -> AuditPlan:
    plan = drafted_plan(staff, organization)
    return services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))


@pytest.fixture
def plan(staff):
    return sent_plan(staff)


@pytest.fixture
def client_user(plan):
    return ClientUserFactory(
        organization=plan.audit.programme.organization, display_name="王五", username="wangwu"
    )


def test_client_sees_the_plan_sent_to_them_with_the_team_as_sent(client, plan, client_user, staff):
    client.force_login(client_user)

    listing = client.get("/portal/audits/plans/")
    detail = client.get(f"/portal/audits/plans/{plan.pk}/")

    assert listing.status_code == 200
    assert f'data-plan="{plan.pk}"' in listing.content.decode()
    assert "/portal/audits/plans/" in listing.content.decode()  # the portal navigation link
    page = detail.content.decode()
    assert detail.status_code == 200
    for text in (plan.objectives, plan.criteria, plan.scope_text, "总部", "全部条款"):
        assert text in page
    assert staff.leader.auditor_profile.registration_number in page
    assert 'id="plan-confirm"' in page


def test_client_confirms_the_plan_in_their_own_name(client, plan, client_user):
    client.force_login(client_user)

    response = client.post(f"/portal/audits/plans/{plan.pk}/confirm/")

    assert response.status_code == 302
    assert response["Location"] == f"/portal/audits/plans/{plan.pk}/"
    plan.refresh_from_db()
    assert plan.state == AuditPlan.State.CONFIRMED
    assert (plan.confirmed_by, plan.confirmed_on) == ("王五", timezone.localdate())
    assert plan.history.first().history_user == client_user
    page = client.get(f"/portal/audits/plans/{plan.pk}/").content.decode()
    assert 'id="plan-confirm"' not in page


def test_another_organisations_plan_is_not_found(client, plan, staff):
    stranger = ClientUserFactory()
    client.force_login(stranger)

    assert f'data-plan="{plan.pk}"' not in client.get("/portal/audits/plans/").content.decode()
    assert client.get(f"/portal/audits/plans/{plan.pk}/").status_code == 404
    assert client.post(f"/portal/audits/plans/{plan.pk}/confirm/").status_code == 404
    plan.refresh_from_db()
    assert plan.state == AuditPlan.State.SENT


def test_a_plan_not_sent_is_neither_shown_nor_confirmed(client, staff):
    draft = drafted_plan(staff)
    user = ClientUserFactory(organization=draft.audit.programme.organization)
    client.force_login(user)

    assert f'data-plan="{draft.pk}"' not in client.get("/portal/audits/plans/").content.decode()
    assert client.get(f"/portal/audits/plans/{draft.pk}/").status_code == 404
    assert client.post(f"/portal/audits/plans/{draft.pk}/confirm/").status_code == 404
    draft.refresh_from_db()
    assert (draft.state, draft.confirmed_by) == (AuditPlan.State.DRAFT, "")


def test_a_plan_already_confirmed_is_not_confirmed_again(client, plan, client_user):
    services.audit_plan_confirm(
        plan=plan, actor=client_user, confirmed_on=date(2025, 3, 2), confirmed_by=""
    )
    client.force_login(client_user)

    response = client.post(f"/portal/audits/plans/{plan.pk}/confirm/", follow=True)

    plan.refresh_from_db()
    assert plan.confirmed_on == date(2025, 3, 2)  # unchanged
    assert "不能执行" in response.content.decode()  # the service's refusal, shown as a message


def test_a_revised_plan_must_be_confirmed_again(client, plan, client_user, staff):
    services.audit_plan_confirm(plan=plan, actor=client_user, confirmed_on=date(2025, 3, 2))
    services.audit_schedule(
        audit=plan.audit,
        actor=staff.planner,
        planned_start=date(2025, 3, 12),
        planned_end=date(2025, 3, 13),
    )  # new dates: back to draft, version 2
    client.force_login(client_user)
    assert client.get(f"/portal/audits/plans/{plan.pk}/").status_code == 404

    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 5))
    client.post(f"/portal/audits/plans/{plan.pk}/confirm/")

    plan.refresh_from_db()
    assert (plan.state, plan.version) == (AuditPlan.State.CONFIRMED, 2)


def test_staff_record_confirmations_in_the_workspace_not_here(client, plan, staff):
    client.force_login(staff.planner)

    assert client.get(f"/portal/audits/plans/{plan.pk}/").status_code == 200
    assert client.post(f"/portal/audits/plans/{plan.pk}/confirm/").status_code == 403
    plan.refresh_from_db()
    assert plan.state == AuditPlan.State.SENT


def test_anonymous_visitors_are_sent_to_log_in(client, plan):
    response = client.get(f"/portal/audits/plans/{plan.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
