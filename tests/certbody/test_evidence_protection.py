"""Certification evidence cannot be hard-deleted (issue 11 item 8): the records a decision, a
certificate or a regulator report rests on are PROTECTed, sites are closed instead of deleted,
and the CB's profile and users (with their roles) keep a history naming who changed them."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import ProtectedError

from applications.models import Site
from audits.models import Audit, Auditor, ScoreSheet
from certbody import roles
from certbody.models import CertificationBody, User
from certificates.models import Decision
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.audits.test_plans import prepare
from tests.certificates.factories import Staff, issued_certificate
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db


@shared_fixture
def certificate(cb):
    organization = OrganizationFactory()
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    return issued_certificate(organization, Staff())


def test_a_signed_score_sheet_cannot_be_deleted_with_its_items(certificate):
    sheet = ScoreSheet.objects.get(
        audit__programme__application__organization=certificate.organization
    )

    with pytest.raises(ProtectedError), transaction.atomic():
        sheet.delete()
    assert ScoreSheet.objects.filter(pk=sheet.pk).exists()


def test_closed_and_terminated_audits_cannot_be_deleted(certificate):
    audits = Audit.objects.filter(programme__application__organization=certificate.organization)
    closed = audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    assert closed.state == Audit.State.CLOSED
    bare = audits.exclude(pk=closed.pk).exclude(team__isnull=False).first()

    with pytest.raises(ProtectedError), transaction.atomic():
        closed.delete()
    assert bare is not None  # a planned audit nothing points at yet is refused too
    with pytest.raises(ProtectedError), transaction.atomic():
        bare.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        audits.delete()
    assert audits.filter(pk=closed.pk).exists()


def test_an_auditor_with_competences_cannot_be_deleted(certificate):
    auditor = Auditor.objects.get(user__username="wf-leader")

    with pytest.raises(ProtectedError), transaction.atomic():
        auditor.delete()
    assert auditor.competences.exists()


def test_a_signed_contract_and_its_application_cannot_be_deleted(certificate):
    application = certificate.decision.audit.programme.application

    with pytest.raises(ProtectedError), transaction.atomic():
        application.contract.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        application.delete()


def test_a_decision_cannot_be_deleted(certificate):
    with pytest.raises(ProtectedError), transaction.atomic():
        Decision.objects.get(pk=certificate.decision_id).delete()


def test_a_head_office_site_is_closed_never_deleted(certificate):
    head_office = certificate.organization.sites.get(is_head_office=True)

    with pytest.raises(ProtectedError), transaction.atomic():
        head_office.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        Site.objects.filter(pk=head_office.pk).delete()  # the bulk path too
    with pytest.raises(ProtectedError), transaction.atomic():
        certificate.organization.delete()

    head_office.closed_on = date(2026, 1, 31)
    head_office.save()
    assert Site.objects.get(pk=head_office.pk).closed_on == date(2026, 1, 31)


def test_a_site_an_audit_plan_covered_cannot_be_deleted(cb):
    from audits import services

    staff = Staff()
    organization = OrganizationFactory()
    outlet = SiteFactory(organization=organization, name="网点")
    from tests.certificates.factories import accepted_application

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
    plan = prepare(stage2, staff.planner, sites=[outlet])
    assert list(plan.sites.all()) == [outlet]

    with pytest.raises(ProtectedError), transaction.atomic():
        outlet.delete()
    assert plan.sites.filter(pk=outlet.pk).exists()


def test_a_site_no_record_names_may_still_be_deleted(cb):
    site = SiteFactory()

    site.delete()

    assert not Site.objects.filter(pk=site.pk).exists()


# --- history of the CB profile and of users -------------------------------------------------


def _cb_form(body, **changes):
    data = {
        "name": body.name,
        "name_en": body.name_en,
        "address": body.address,
        "postcode": body.postcode,
        "phone": body.phone,
        "website": body.website,
        "cnca_approval_number": body.cnca_approval_number,
        "number_prefix": body.number_prefix,
        "accreditation": body.accreditation,
        "accreditation_number": body.accreditation_number,
        "scheme": body.scheme,
        "standard": body.standard,
        "day_rate": body.day_rate,
        "tariff_application_fee": body.tariff_application_fee,
        "tariff_certificate_fee": body.tariff_certificate_fee,
    }
    data.update(changes)
    return data


def test_a_change_of_the_number_prefix_is_kept_with_its_actor(admin_client, admin_user, cb):
    response = admin_client.post(
        f"/admin/certbody/certificationbody/{cb.pk}/change/",
        _cb_form(cb, number_prefix="456", accreditation="Z"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    rows = list(cb.history.order_by("history_id"))
    assert rows[-1].number_prefix == "456" and rows[-1].accreditation == "Z"
    assert rows[-1].history_user == admin_user
    assert rows[-2].number_prefix == "0123"  # the earlier value is kept
    assert CertificationBody.get().number_prefix == "456"


def test_a_role_given_to_a_user_is_kept_with_its_actor(admin_client, admin_user, cb):
    user = User.objects.create_user(username="new-planner", password="pw", is_staff=True)
    group = Group.objects.get(name=roles.AUDIT_DEPARTMENT)
    form = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "is_staff": "on",
        "groups": [str(group.pk)],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "display_name": "新计划员",
        "phone": "",
        "organization": "",
    }

    response = admin_client.post(f"/admin/certbody/user/{user.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(user.groups.all()) == [group]
    latest = user.history.order_by("-history_id").first()
    assert latest.history_user == admin_user
    assert [m.group_id for m in latest.groups.all()] == [group.pk]
    first = user.history.order_by("history_id").first()
    assert list(first.groups.all()) == []
    assert not hasattr(latest, "password")  # the hash is not history


def test_a_log_in_leaves_no_history_row_but_the_next_change_does(client, cb):
    user = User.objects.create_user(username="logs-in", password="pw-logs-in", is_staff=True)
    rows = user.history.count()

    assert client.login(username="logs-in", password="pw-logs-in")

    user.refresh_from_db()
    assert user.last_login is not None
    assert user.history.count() == rows
    user.display_name = "改名"
    user.save()
    assert user.history.count() == rows + 1
