"""Password reset by e-mail (certbody.password_reset): clients and staff, no account
enumeration, throttled, and staff still give their second factor afterwards."""

import re

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from certbody import roles
from tests.applications.factories import ClientUserFactory
from tests.certbody.test_security import inline_code
from tests.certbody.test_two_factor import current_token, token_step
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")

RESET = "/accounts/password_reset/"
DONE = "/accounts/password_reset/done/"
LOGIN = "/accounts/login/"
NEW_PASSWORD = "Neue-Passw0rt-2026"


def ask_for_reset(client, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(RESET, {"email": email})


def reset_link() -> str:
    assert len(mail.outbox) == 1
    match = re.search(r"http://testserver(/accounts/password_reset/\S+/)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(1)


def set_new_password(client, link: str):
    response = client.get(link)  # the token moves into the session; redirect to set-password
    assert response.status_code == 302
    form_url = response["Location"]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/complete/"
    return client.get(response["Location"])


@pytest.fixture
def site_url(settings):
    settings.SITE_URL = "http://testserver"


def test_a_client_resets_the_password_by_e_mail_and_logs_in(
    client, django_capture_on_commit_callbacks, site_url
):
    user = ClientUserFactory(email="kehu@example.cn")

    response = ask_for_reset(client, "KeHu@example.cn", django_capture_on_commit_callbacks)

    assert response.status_code == 302 and response["Location"] == DONE
    message = mail.outbox[0]
    assert message.to == ["kehu@example.cn"]
    assert message.subject.startswith("【密码重置】")
    assert user.username in message.body and "动态验证码" not in message.body
    complete = set_new_password(client, reset_link())
    assert complete.status_code == 200
    assert "_auth_user_id" not in client.session  # the reset itself logs nobody in
    assert client.login(username=user.username, password=NEW_PASSWORD)
    # The link works once.
    client.logout()
    response = client.get(reset_link(), follow=True)
    assert response.status_code == 200
    assert b'data-testid="password-reset-invalid"' in response.content


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client, django_capture_on_commit_callbacks
):
    ClientUserFactory(email="kehu@example.cn")
    inactive = ClientUserFactory(email="inactive@example.cn")
    inactive.is_active = False
    inactive.save()

    known = ask_for_reset(client, "kehu@example.cn", django_capture_on_commit_callbacks)
    mail.outbox.clear()
    unknown = ask_for_reset(client, "nobody@example.cn", django_capture_on_commit_callbacks)
    disabled = ask_for_reset(client, "inactive@example.cn", django_capture_on_commit_callbacks)

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert (disabled.status_code, disabled["Location"]) == (302, DONE)
    assert mail.outbox == []


def test_requests_are_throttled_per_e_mail_address_and_per_client_address(
    client, settings, django_capture_on_commit_callbacks
):
    settings.RATELIMIT_PASSWORD_RESET = "2/h"
    ClientUserFactory(email="kehu@example.cn")
    for _ in range(2):
        assert (
            ask_for_reset(client, "kehu@example.cn", django_capture_on_commit_callbacks).status_code
            == 302
        )
    # Same mailbox from another address: still refused (no flooding one mailbox).
    response = client.post(RESET, {"email": "kehu@example.cn"}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429
    # Same client address, other mailboxes: refused too (no guessing in bulk).
    response = client.post(RESET, {"email": "other@example.cn"})
    assert response.status_code == 429
    assert len(mail.outbox) == 2
    assert client.get(RESET).status_code == 200  # showing the form is not counted


def test_the_log_in_page_links_to_the_reset_and_the_pages_carry_no_inline_code(client):
    login = client.get(LOGIN)
    assert f'href="{RESET}"'.encode() in login.content
    for url in (RESET, DONE, "/accounts/password_reset/complete/", f"{RESET}MQ/bad-token/"):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert inline_code(response.content.decode()) == [], url


@pytest.mark.two_factor
def test_staff_reset_the_password_and_are_still_asked_for_the_second_factor(
    client, django_capture_on_commit_callbacks, site_url
):
    planner = make_staff("planner-reset", roles.AUDIT_DEPARTMENT)
    planner.email = "planner@cb.example.cn"
    planner.save()
    device = TOTPDevice.objects.create(user=planner, name="default", confirmed=True)

    ask_for_reset(client, planner.email, django_capture_on_commit_callbacks)
    assert "动态验证码" in mail.outbox[0].body
    set_new_password(client, reset_link())

    response = client.post(
        LOGIN,
        {"username": planner.username, "password": NEW_PASSWORD, "login-current_step": "auth"},
    )
    assert response.status_code == 200
    assert b'data-testid="otp-form"' in response.content  # the token step, not logged in
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/applications/").status_code == 302
    token_step(client, current_token(device))
    assert client.session["_auth_user_id"] == str(planner.pk)


@pytest.mark.two_factor
def test_the_reset_pages_stay_open_to_an_unverified_staff_session_and_nothing_else_does(
    client, django_capture_on_commit_callbacks, site_url
):
    planner = make_staff("planner-reset", roles.AUDIT_DEPARTMENT)
    planner.email = "planner@cb.example.cn"
    planner.save()
    client.force_login(planner)  # password only, no device yet: sent to the set-up elsewhere

    assert client.get(RESET).status_code == 200
    assert client.get(DONE).status_code == 200
    ask_for_reset(client, planner.email, django_capture_on_commit_callbacks)
    assert client.get(reset_link()).status_code == 302  # to its set-password form
    assert client.get("/accounts/password_reset_elsewhere/").status_code == 302
    assert client.get("/home/")["Location"] == "/account/two_factor/setup/"
