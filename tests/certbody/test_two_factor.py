"""Two-factor authentication for staff (certbody.twofactor): enforcement by the middleware,
the two-step log-in with a TOTP token, the set-up wizard, and the pages' CSP compliance."""

from base64 import b32encode
from binascii import unhexlify

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from certbody import roles
from tests.applications.factories import ClientUserFactory
from tests.certbody.test_security import inline_code
from tests.conftest import make_staff

pytestmark = [pytest.mark.two_factor, pytest.mark.usefixtures("cb")]

SETUP = "/account/two_factor/setup/"
LOGIN = "/accounts/login/"


def current_token(device: TOTPDevice) -> str:
    """The six-digit code the authenticator app shows now (RFC 6238, as the device checks)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def planner(db):
    return make_staff("planner-2fa", roles.AUDIT_DEPARTMENT)


@pytest.fixture
def device(planner):
    return TOTPDevice.objects.create(user=planner, name="default", confirmed=True)


def password_step(client, user, **extra):
    return client.post(
        LOGIN,
        {
            "username": user.username,
            "password": f"pw-{user.username}",
            "login-current_step": "auth",
        },
        **extra,
    )


def token_step(client, token, **extra):
    return client.post(LOGIN, {"token-otp_token": token, "login-current_step": "token"}, **extra)


# --- enforcement ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/home/", "/staff/applications/", "/admin/", "/portal/"])
def test_staff_without_a_device_is_sent_to_the_set_up_from_every_staff_page(client, planner, url):
    client.force_login(planner)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == SETUP


def test_staff_with_a_device_but_a_password_only_session_is_sent_back_to_the_log_in(
    client, planner, device
):
    client.force_login(planner)

    response = client.get("/staff/applications/?state=submitted")

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert "%2Fstaff%2Fapplications%2F" in response["Location"]


def test_htmx_requests_of_unverified_staff_get_a_full_page_redirect(client, planner):
    client.force_login(planner)

    response = client.post("/audits/score-items/1/", headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == SETUP


def test_staff_logging_in_with_the_password_only_is_not_let_into_the_workspace(client, planner):
    response = password_step(client, planner)

    assert response.status_code == 302
    assert client.get("/home/")["Location"] == SETUP
    assert client.get("/staff/applications/")["Location"] == SETUP


@pytest.mark.parametrize(
    "url",
    ["/verify/", "/verify/invalid/", "/complaints/new/", SETUP, LOGIN, "/static/certbody/site.css"],
)
def test_public_pages_log_in_and_set_up_stay_open_to_unverified_staff(client, planner, url):
    client.force_login(planner)

    response = client.get(url)

    assert response.status_code in (200, 404)  # static files need collectstatic (404 in tests)
    assert response.get("Location") is None


def test_unverified_staff_may_log_out(client, planner):
    client.force_login(planner)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_client_users_are_never_asked_for_a_second_factor(client):
    client.force_login(ClientUserFactory())

    response = client.get("/portal/")

    assert response.status_code == 200
    assert client.get("/home/")["Location"] == "/portal/"


def test_enforcement_can_be_switched_off(client, planner, settings):
    settings.STAFF_REQUIRE_2FA = False
    client.force_login(planner)

    assert client.get("/home/").status_code == 200


# --- log-in with a token --------------------------------------------------------------------


def test_a_verified_totp_log_in_gets_into_the_workspace_not_the_admin(client, planner, device):
    response = password_step(client, planner)
    assert response.status_code == 200
    assert 'name="token-otp_token"' in response.content.decode()
    assert "_auth_user_id" not in client.session  # not logged in after the password alone

    response = token_step(client, current_token(device))

    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert client.get("/home/").status_code == 200
    assert client.get("/staff/applications/").status_code == 200
    admin = client.get("/admin/")  # the admin is for superusers only
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")


def test_a_superuser_needs_the_second_factor_for_the_admin_too(client):
    root = make_staff("root-2fa")
    root.is_superuser = True
    root.save()
    client.force_login(root)

    response = client.get("/admin/certbody/user/")

    assert response.status_code == 302
    assert response["Location"] == SETUP
    device = TOTPDevice.objects.create(user=root, name="default", confirmed=True)
    client.logout()
    password_step(client, root)
    token_step(client, current_token(device))
    assert client.get("/admin/certbody/user/").status_code == 200


def test_the_log_in_returns_to_the_page_asked_for(client, planner, device):
    client.post(
        f"{LOGIN}?next=/staff/applications/",
        {
            "username": planner.username,
            "password": f"pw-{planner.username}",
            "login-current_step": "auth",
        },
    )

    response = client.post(
        f"{LOGIN}?next=/staff/applications/",
        {"token-otp_token": current_token(device), "login-current_step": "token"},
    )

    assert response["Location"] == "/staff/applications/"


def test_a_wrong_token_does_not_log_in(client, planner, device):
    password_step(client, planner)
    wrong = f"{(int(current_token(device)) + 1) % 1_000_000:06d}"

    response = token_step(client, wrong)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/home/")["Location"].startswith(LOGIN)


def test_a_plain_username_and_password_post_is_the_first_step(client, planner, device):
    """Django's own log-in form (and scripts) post only the two fields."""
    response = client.post(
        LOGIN, {"username": planner.username, "password": f"pw-{planner.username}"}
    )

    assert response.status_code == 200
    assert 'name="token-otp_token"' in response.content.decode()


def test_token_guessing_is_throttled_per_user_being_logged_in(client, planner, device, settings):
    settings.RATELIMIT_LOGIN_USER = "3/10m"
    settings.RATELIMIT_LOGIN_IP = "100/10m"
    password_step(client, planner)  # counted for the user name
    for guess in ["000000", "000001", "000002"]:  # counted for the user being logged in
        assert token_step(client, guess).status_code == 200

    assert token_step(client, current_token(device)).status_code == 429
    assert "_auth_user_id" not in client.session


# --- set-up ---------------------------------------------------------------------------------


def test_staff_sets_up_a_totp_device_and_is_then_verified(client, planner):
    client.force_login(planner)
    page = client.get(SETUP)
    assert page.status_code == 200

    page = client.post(SETUP, {"staff_setup_view-current_step": "welcome"})
    body = page.content.decode()
    assert 'data-testid="otp-qr"' in body and "<svg" in body
    secret = client.session["django_two_factor-qr_secret_key"]
    key = unhexlify(client.session["wizard_staff_setup_view"]["extra_data"]["keys"]["generator"])
    assert b32encode(key).decode() == secret
    token = f"{totp(key):06d}"

    response = client.post(
        SETUP, {"staff_setup_view-current_step": "generator", "generator-token": token}
    )

    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=planner, confirmed=True).count() == 1
    assert client.get("/home/").status_code == 200
    assert client.get("/account/two_factor/setup/complete/").status_code == 200


def test_two_factor_pages_carry_no_inline_code(client, planner, device):
    pages = {}
    pages["log-in"] = client.get(LOGIN).content.decode()
    pages["token step"] = password_step(client, planner).content.decode()
    pages["token step with error"] = token_step(client, "12").content.decode()
    assert token_step(client, current_token(device)).status_code == 302
    for name, url in [
        ("profile", "/account/two_factor/"),
        ("backup tokens", "/account/two_factor/backup/tokens/"),
        ("set-up complete", "/account/two_factor/setup/complete/"),
        ("disable", "/account/two_factor/disable/"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, name
        pages[name] = response.content.decode()
    other = make_staff("tm-2fa", roles.TECHNICAL_MANAGER)
    client.force_login(other)
    pages["set-up"] = client.get(SETUP).content.decode()
    pages["set-up QR"] = client.post(
        SETUP, {"staff_setup_view-current_step": "welcome"}
    ).content.decode()

    assert {name: inline_code(html) for name, html in pages.items() if inline_code(html)} == {}
    assert "cdnjs" not in "".join(pages.values())


# --- the second factor cannot be skipped (issue 11 item 10) ---------------------------------


def enrol_through_the_setup(client) -> bool:
    """Walk the set-up wizard with the key it offers; True if a device was enrolled."""
    page = client.post(SETUP, {"staff_setup_view-current_step": "welcome"})
    wizard = client.session.get("wizard_staff_setup_view") or {}
    key = ((wizard.get("extra_data") or {}).get("keys") or {}).get("generator")
    if page.status_code != 200 or not key:
        return False
    token = f"{totp(unhexlify(key)):06d}"
    client.post(SETUP, {"staff_setup_view-current_step": "generator", "generator-token": token})
    return True


def test_a_password_only_session_of_a_user_with_a_device_cannot_enrol_another(
    client, planner, device
):
    client.force_login(planner)  # password only: the device's token was never given

    assert client.get(SETUP)["Location"].startswith(f"{LOGIN}?next=")
    assert client.post(SETUP, {"staff_setup_view-current_step": "welcome"}).status_code == 302
    enrol_through_the_setup(client)

    assert TOTPDevice.objects.filter(user=planner).count() == 1
    assert client.get("/home/")["Location"].startswith(LOGIN)


def test_the_set_up_refuses_every_method_to_a_user_who_has_a_device(client, planner, device):
    password_step(client, planner)
    token_step(client, current_token(device))  # verified: the middleware lets them through

    for method in (client.get, client.post, client.put, client.delete):
        response = method(SETUP)
        assert response.status_code == 302, method
        assert response["Location"] == "/account/two_factor/"
    assert not enrol_through_the_setup(client)
    assert TOTPDevice.objects.filter(user=planner).count() == 1


@pytest.fixture
def root(db):
    user = make_staff("root-admin-2fa")
    user.is_superuser = True
    user.save()
    return user


def test_the_admin_log_in_is_the_two_factor_log_in(client, root):
    device = TOTPDevice.objects.create(user=root, name="default", confirmed=True)

    response = client.post(
        "/admin/login/?next=/admin/certbody/user/",
        {"username": root.username, "password": f"pw-{root.username}"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert "_auth_user_id" not in client.session  # no password-only admin session
    assert not enrol_through_the_setup(client)
    assert client.get("/admin/certbody/user/").status_code == 302
    assert TOTPDevice.objects.filter(user=root).count() == 1
    # The way in: the two-step log-in, then back to the admin page asked for.
    client.get(response["Location"])
    client.post(
        response["Location"],
        {"username": root.username, "password": f"pw-{root.username}"},
    )
    done = client.post(
        response["Location"],
        {"token-otp_token": current_token(device), "login-current_step": "token"},
    )
    assert done["Location"] == "/admin/certbody/user/"
    assert client.get("/admin/certbody/user/").status_code == 200


def test_the_admin_log_in_page_sends_to_the_two_factor_log_in(client):
    response = client.get("/admin/login/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2F"
