"""The admin offers transitions as actions that call the services; refusals become messages."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from certbody import roles
from certificates.models import Certificate
from tests.certificates.factories import Staff, issued_certificate

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "admin:applications_organization_changelist",
    "admin:applications_application_changelist",
    "admin:applications_contract_changelist",
    "admin:audits_auditprogramme_changelist",
    "admin:audits_audit_changelist",
    "admin:certificates_certificate_changelist",
    "admin:certificates_decision_changelist",
    "admin:certificates_certificateevent_changelist",
    "admin:certificates_certificatesequence_changelist",
    "admin:certbody_certificationbody_changelist",
    "admin:certbody_businessscope_changelist",
    "admin:certbody_cncacode_changelist",
    "admin:certbody_user_changelist",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_superuser_sees_every_changelist(admin_client, cb, name):
    assert admin_client.get(reverse(name)).status_code == 200


def test_each_role_group_gets_its_permissions():
    market = Group.objects.get(name=roles.MARKET)
    assert market.permissions.filter(codename="change_application").exists()
    reporting = Group.objects.get(name=roles.REPORTING_OFFICER)
    assert not reporting.permissions.filter(codename="change_certificate").exists()
    assert reporting.permissions.filter(codename="view_certificate").exists()


def _suspend(client, certificate, ends_on):
    url = reverse("admin:certificates_certificate_changelist")
    return client.post(
        url,
        {
            "action": "suspend",
            "_selected_action": [certificate.pk],
            "apply": "1",
            "cause": "11",
            "verified_on": "2025-06-01",
            "starts_on": "2025-06-01",
            "ends_on": ends_on,
            "evidence": "客户书面申请",
        },
        follow=True,
    )


def test_suspend_action_asks_for_the_period_then_calls_the_service(client, cb):
    staff = Staff()
    certificate = issued_certificate(staff=staff)
    client.force_login(staff.decider)
    url = reverse("admin:certificates_certificate_changelist")
    confirm = client.post(url, {"action": "suspend", "_selected_action": [certificate.pk]})
    assert confirm.status_code == 200
    assert b'name="starts_on"' in confirm.content
    response = _suspend(client, certificate, "2025-10-01")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    assert certificate.events.last().actor == staff.decider
    assert any("1 项已完成" in str(m) for m in response.context["messages"])


def test_refused_action_shows_the_rule_and_changes_nothing(client, cb):
    staff = Staff()
    certificate = issued_certificate(staff=staff)
    client.force_login(staff.decider)
    response = _suspend(client, certificate, "2026-01-01")  # over 6 months
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    assert any("004 §7.2.2" in str(m) for m in response.context["messages"])


def test_invalid_form_is_shown_again_with_errors(client, cb):
    staff = Staff()
    certificate = issued_certificate(staff=staff)
    client.force_login(staff.decider)
    response = _suspend(client, certificate, "not-a-date")
    assert response.status_code == 200
    assert b"errorlist" in response.content
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_lifecycle_fields_are_read_only_in_the_admin(client, cb):
    staff = Staff()
    certificate = issued_certificate(staff=staff)
    client.force_login(staff.decider)
    url = reverse("admin:certificates_certificate_change", args=[certificate.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b'name="status"' not in response.content
    assert b'name="number"' not in response.content


def test_staff_home_shows_counts(client, cb):
    staff = Staff()
    issued_certificate(staff=staff)
    client.force_login(staff.market)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    counts = dict(response.context["certificate_counts"])
    assert list(counts.values())[0] == 1


def test_client_user_home_redirects_to_portal(client, cb):
    from tests.applications.factories import ClientUserFactory

    client.force_login(ClientUserFactory())
    assert client.get(reverse("home")).url == reverse("certificates:portal")
