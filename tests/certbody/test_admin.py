"""The Django admin is for active superusers, users and reference data only (issue 12 "One staff
UI"): its index lists the reference data and the read-only history view, no lifecycle model has a
page there, nothing evidence rests on can be deleted there, and staff who are not superusers get
nothing from it. Staff work in the workspace."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from certbody import roles
from certbody.models import BusinessScope, CertificationBody, CncaCode, User
from tests.certificates.factories import Staff, issued_certificate
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

REFERENCE_DATA = {
    "certbody.User",
    "certbody.CertificationBody",
    "certbody.BusinessScope",
    "certbody.CncaCode",
    "certbody.CalendarDay",
    "certbody.CalendarYear",
}
# Authenticator devices stay: a superuser resets a lost one (django-otp's own admin).
ACCOUNT_SECURITY = {"otp_totp.TOTPDevice", "otp_static.StaticDevice"}
# The staff read API's tokens, created by a superuser (certbody.api, issue #17).
API_ACCESS = {"certbody.ApiToken"}
LIFECYCLE_APPS = ("applications", "audits", "certificates", "reporting")


def lifecycle_models():
    models = [m for label in LIFECYCLE_APPS for m in apps.get_app_config(label).get_models()]
    return [*models, apps.get_model("certbody", "Notification")]


def test_the_index_lists_only_reference_data_and_the_history_view(admin_client, cb):
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    listed = {
        f"{app['app_label']}.{model['object_name']}"
        for app in response.context["app_list"]
        for model in app["models"]
    }
    assert listed == {
        *(f"{label.split('.')[0]}.{label.split('.')[1]}" for label in REFERENCE_DATA),
        *ACCOUNT_SECURITY,
        *API_ACCESS,
        "history.history",
    }
    assert reverse("admin:history") in response.content.decode()


def test_the_registry_holds_no_lifecycle_model(cb):
    registered = {model._meta.label for model in admin.site._registry}

    assert registered == REFERENCE_DATA | ACCOUNT_SECURITY | API_ACCESS


@pytest.mark.parametrize("model", lifecycle_models(), ids=lambda m: m._meta.label)
def test_every_lifecycle_model_url_in_the_admin_is_404(admin_client, cb, model):
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    for url in (base, f"{base}add/", f"{base}1/change/", f"{base}1/delete/", f"{base}1/history/"):
        assert admin_client.get(url).status_code == 404, url
    if model._meta.app_label in LIFECYCLE_APPS:  # certbody's index lists its reference data
        assert admin_client.get(f"/admin/{model._meta.app_label}/").status_code == 404


@pytest.mark.parametrize("model", [User, CertificationBody, BusinessScope, CncaCode])
def test_the_admin_deletes_nothing_evidence_rests_on(admin_client, admin_user, cb, model):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    obj = model.objects.first()

    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_delete_permission(request, obj)
    assert "delete_selected" not in model_admin.get_actions(request)
    url = reverse(f"admin:certbody_{model._meta.model_name}_delete", args=[obj.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_the_calendar_stays_editable(admin_client, cb):
    assert admin_client.get(reverse("admin:certbody_calendarday_add")).status_code == 200
    assert admin_client.get(reverse("admin:certbody_calendaryear_changelist")).status_code == 200


def _refused(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", sorted(roles.STAFF_ROLES))
def test_staff_who_are_not_superusers_get_nothing_in_the_admin(client, cb, role):
    user = make_staff(f"adm-{role}", role)
    client.force_login(user)

    for url in (
        reverse("admin:index"),
        reverse("admin:app_list", args=["certbody"]),
        reverse("admin:certbody_user_changelist"),
        reverse("admin:certbody_certificationbody_changelist"),
        reverse("admin:history"),
        reverse("admin:history_list", args=["certificates.historicalcertificate"]),
    ):
        assert _refused(client.get(url)), url
    login = client.get(reverse("admin:login"))  # signed in, but not someone the admin accepts
    assert login.status_code == 403
    assert 'name="password"' not in login.content.decode()  # no password-only log-in form


def test_a_staff_member_with_every_role_is_still_refused(client, cb):
    client.force_login(make_staff("adm-all", *roles.STAFF_ROLES))

    assert _refused(client.get(reverse("admin:index")))
    assert client.get(reverse("admin:login")).status_code == 403


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
        assert response.status_code == 302


def test_a_superuser_on_the_admin_log_in_page_goes_on_to_the_admin(admin_client, cb):
    response = admin_client.get(reverse("admin:login") + "?next=/admin/certbody/user/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/certbody/user/"
    offsite = admin_client.get(reverse("admin:login") + "?next=https://evil.example/")
    assert offsite["Location"] == reverse("admin:index")


# --- the read-only history view -------------------------------------------------------------


def test_the_history_view_lists_and_shows_the_rows_of_any_lifecycle_record(admin_client, cb):
    certificate = issued_certificate(staff=Staff())
    label = "certificates.historicalcertificate"

    index = admin_client.get(reverse("admin:history"))
    assert index.status_code == 200
    assert reverse("admin:history_list", args=[label]) in index.content.decode()
    for app in LIFECYCLE_APPS:
        assert f"/admin/history/{app}." in index.content.decode()

    listing = admin_client.get(
        reverse("admin:history_list", args=[label]), {"object": certificate.pk}
    )
    assert listing.status_code == 200
    rows = listing.context["rows"]
    assert rows and {row["object_id"] for row in rows} == {certificate.pk}
    assert certificate.number in listing.content.decode()

    row = admin_client.get(reverse("admin:history_row", args=[label, rows[0]["history_id"]]))
    assert row.status_code == 200
    assert certificate.number in row.content.decode()
    assert "<form" not in row.content.decode().split('id="content-main"')[1]  # nothing to submit


@pytest.mark.parametrize(
    "path",
    [
        "/admin/history/certbody.businessscope/",  # reference data has no history model
        "/admin/history/nosuch.historicalthing/",
        "/admin/history/certificates.historicalcertificate/999999/",
    ],
)
def test_the_history_view_answers_404_for_unknown_models_and_rows(admin_client, cb, path):
    assert admin_client.get(path).status_code == 404


def test_a_bad_record_id_filter_is_404_not_500(admin_client, cb):
    response = admin_client.get(
        "/admin/history/certificates.historicalcertificate/", {"object": "abc"}
    )

    assert response.status_code == 404


# --- the home pages (not the admin) ---------------------------------------------------------


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


def test_the_admin_carries_the_cb_name_and_names_the_two_factor_devices_in_chinese(
    admin_client, cb
):
    body = admin_client.get(reverse("admin:index")).content.decode()
    assert cb.name in body
    assert "身份验证器" in body and "备用验证码" in body
    assert "TOTP" not in body and "Otp_" not in body

    page = admin_client.get("/admin/otp_totp/totpdevice/add/").content.decode()
    assert "时间步长（秒）" in page and "step" not in re.findall(r"<label[^>]*>([^<]*)<", page)


def test_the_admin_reads_in_english_with_the_english_name(admin_client, cb):
    cb.name_en = "CITIC Certification"
    cb.save()
    body = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "CITIC Certification" in body
    assert "Authenticator apps" in body and "Backup codes" in body
