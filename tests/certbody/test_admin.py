"""The Django admin is for active superusers only (users and reference data, issue 7): every
staff role gets the admin's log-in page instead of its data, its log-in form refuses them, and
a superuser still sees every page. Staff transitions run on the workspace desks, which call
the services; refusals come back on the confirm form."""

import pytest
from django.urls import reverse

from certbody import roles
from certbody.models import User
from certificates.models import Certificate
from tests.certificates.factories import Staff, issued_certificate
from tests.conftest import make_staff

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


def _login_page(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", sorted(roles.STAFF_ROLES))
def test_no_staff_role_gets_admin_data(client, cb, role):
    user = make_staff(f"adm-{role}", role)
    certificate = issued_certificate(staff=Staff())
    client.force_login(user)

    for url in (
        reverse("admin:index"),
        reverse("admin:app_list", args=["certificates"]),
        reverse("admin:certificates_certificate_changelist"),
        reverse("admin:certificates_certificate_change", args=[certificate.pk]),
        reverse("admin:certbody_user_changelist"),
    ):
        response = client.get(url)
        assert _login_page(response), (url, response.status_code)
        assert certificate.number not in response.content.decode()
    # Following the redirect: the admin's log-in page, which names no record.
    page = client.get(reverse("admin:certificates_certificate_changelist"), follow=True)
    assert page.status_code == 200
    assert certificate.number not in page.content.decode()
    assert 'name="password"' in page.content.decode()
    # An action posted to a changelist does nothing either.
    response = client.post(
        reverse("admin:certificates_certificate_changelist"),
        {"action": "suspend", "_selected_action": [certificate.pk]},
    )
    assert _login_page(response)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_a_staff_member_with_every_role_is_still_refused(client, cb):
    user = make_staff("adm-all", *roles.STAFF_ROLES)
    client.force_login(user)
    assert _login_page(client.get(reverse("admin:index")))


@pytest.mark.parametrize(
    "flags",
    [
        {"is_active": True, "is_staff": True, "is_superuser": True},
        {"is_active": True, "is_staff": False, "is_superuser": True},
        {"is_active": False, "is_staff": True, "is_superuser": True},
    ],
)
def test_only_active_staff_superusers_get_in(client, cb, flags):
    user = User.objects.create_user(username="adm-root", password="pw", **flags)
    client.force_login(user)
    response = client.get(reverse("admin:certbody_user_changelist"))
    if all(flags.values()):
        assert response.status_code == 200
        assert "adm-root" in response.content.decode()
    else:
        assert _login_page(response)


def test_the_admin_log_in_form_refuses_staff_and_admits_superusers(client, cb):
    make_staff("adm-market", roles.MARKET)
    response = client.post(
        reverse("admin:login"), {"username": "adm-market", "password": "pw-adm-market"}
    )
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors

    root = make_staff("adm-boss")
    root.is_superuser = True
    root.save()
    response = client.post(
        reverse("admin:login"),
        {"username": "adm-boss", "password": "pw-adm-boss", "next": reverse("admin:index")},
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_lifecycle_fields_are_read_only_in_the_admin(admin_client, cb):
    certificate = issued_certificate(staff=Staff())
    url = reverse("admin:certificates_certificate_change", args=[certificate.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b'name="status"' not in response.content
    assert b'name="number"' not in response.content


# --- the same transitions on the workspace (formerly admin actions) --------------------------


def _suspend(client, certificate, ends_on):
    return client.post(
        reverse("workspace:action", args=["certificates", certificate.pk, "suspend"]),
        {
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
    url = reverse("workspace:action", args=["certificates", certificate.pk, "suspend"])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert b'name="starts_on"' in confirm.content
    response = _suspend(client, certificate, "2025-10-01")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    assert certificate.events.last().actor == staff.decider
    assert response.redirect_chain[-1][0] == reverse(
        "workspace:object", args=["certificates", certificate.pk]
    )
    assert len([m for m in response.context["messages"] if m.level_tag == "success"]) == 1


def test_refused_action_shows_the_rule_and_changes_nothing(client, cb):
    staff = Staff()
    certificate = issued_certificate(staff=staff)
    client.force_login(staff.decider)
    response = _suspend(client, certificate, "2026-01-01")  # over 6 months
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    assert response.status_code == 422
    assert "004 §7.2.2" in response.content.decode()


def test_invalid_form_is_shown_again_with_errors(client, cb):
    staff = Staff()
    certificate = issued_certificate(staff=staff)
    client.force_login(staff.decider)
    response = _suspend(client, certificate, "not-a-date")
    assert response.status_code == 422
    assert 'class="error"' in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


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
