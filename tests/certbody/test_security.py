"""Protection: log-in throttling, the Content Security Policy (and templates that keep to it),
security headers and cookies, and a clean `manage.py check --deploy` in production shape."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from certbody.env import env_rate
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certificates.helpers import certificate_in
from tests.conftest import make_staff

BASE_DIR = Path(django_settings.BASE_DIR)
TEMPLATES = BASE_DIR / "templates"

# An inline script (no src), an event-handler attribute, a style attribute or element.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
# htmx evaluates hx-on handlers with Function(), which the policy refuses ('unsafe-eval').
HTMX_ON = re.compile(r"<[^>]*\shx-on[:-]", re.I)


def inline_code(html: str) -> list[str]:
    found = []
    for name, pattern in [
        ("inline <script>", INLINE_SCRIPT),
        ("on…= handler", EVENT_HANDLER),
        ("style attribute", STYLE_ATTRIBUTE),
        ("<style> element", STYLE_ELEMENT),
        ("hx-on handler", HTMX_ON),
    ]:
        found += [f"{name}: {m.group(0)[:80]}" for m in pattern.finditer(html)]
    return found


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


# --- log-in throttling ----------------------------------------------------------------------


@pytest.fixture
def login_limits(settings, cb):
    settings.RATELIMIT_LOGIN_USER = "3/10m"
    settings.RATELIMIT_LOGIN_IP = "5/10m"
    return settings


def log_in(client, username, password="wrong", **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_guessing_one_users_password_is_stopped_with_429_even_for_the_right_password(
    client, login_limits
):
    make_staff("alice")
    for _ in range(3):
        assert log_in(client, "alice").status_code == 200

    response = log_in(client, "alice", "pw-alice", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_the_user_name_limit_holds_across_addresses_and_letter_case(client, login_limits):
    for n, name in enumerate(["alice", "Alice", " ALICE "]):
        log_in(client, name, REMOTE_ADDR=f"192.0.2.{n + 1}")

    assert log_in(client, "alice", REMOTE_ADDR="192.0.2.99").status_code == 429
    assert log_in(client, "bob", REMOTE_ADDR="192.0.2.99").status_code == 200


def test_one_address_trying_many_user_names_is_stopped(client, login_limits):
    for n in range(5):
        assert log_in(client, f"user{n}").status_code == 200

    assert log_in(client, "someone-else").status_code == 429
    assert log_in(client, "someone-else", REMOTE_ADDR="192.0.2.50").status_code == 200


def test_showing_the_log_in_page_is_not_counted(client, login_limits):
    make_staff("alice")
    for _ in range(10):
        assert client.get("/accounts/login/").status_code == 200

    response = log_in(client, "alice", "pw-alice")

    assert response.status_code == 302
    assert client.session["_auth_user_id"]


# The admin has no log-in form of its own: /admin/login/ sends to the throttled two-factor
# log-in above (tests/certbody/test_two_factor.py, test_admin.py).


# --- Content Security Policy ----------------------------------------------------------------


def assert_strict_policy(response):
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_public_verification_page_sends_a_strict_policy(client, cb):
    response = client.get("/verify/")

    assert response.status_code == 200
    assert_strict_policy(response)


def test_client_portal_sends_a_strict_policy(client, cb):
    client.force_login(ClientUserFactory())

    response = client.get("/portal/")

    assert response.status_code == 200
    assert_strict_policy(response)


def test_429_and_404_pages_send_the_policy(client, settings, cb):
    settings.RATELIMIT_VERIFY = "1/m"
    client.get("/verify/")

    assert_strict_policy(client.get("/verify/"))
    assert_strict_policy(client.get("/no-such-page/"))


def test_only_the_admin_may_run_inline_scripts_and_styles(admin_client, cb):
    response = admin_client.get("/admin/")

    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert_strict_policy(admin_client.get("/home/"))


def test_htmx_is_told_not_to_inject_its_inline_indicator_style(client, cb):
    body = client.get("/verify/").content.decode()

    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', body)
    assert json.loads(config.group(1))["includeIndicatorStyles"] is False


@pytest.fixture
def withdrawn(cb):
    return certificate_in("withdrawn", OrganizationFactory(name="京东家电有限公司"))


def test_main_pages_render_without_inline_code(client, settings, withdrawn):
    """What the browser gets: any inline code here would be blocked by the policy."""
    technical_manager = make_staff("tm-csp", "technical_manager")
    client_user = ClientUserFactory(organization=withdrawn.organization)
    pages = {
        "search": ("get", "/verify/?q=京东", None),
        "search refused": ("get", "/verify/?q=京", None),
        "certificate": ("get", f"/verify/{withdrawn.token}/", None),
        "invalid list": ("get", "/verify/invalid/", None),
        "complaint form with errors": ("post", "/complaints/new/", {"subject": ""}),
        "log-in with error": ("post", "/accounts/login/", {"username": "x", "password": "y"}),
    }
    rendered = {}
    for name, (method, url, data) in pages.items():
        response = getattr(client, method)(url, data) if data else client.get(url)
        assert response.status_code == 200, name
        rendered[name] = response.content.decode()
    client.force_login(client_user)
    for name, url in [("portal", "/portal/"), ("appeal form", "/portal/appeals/new/")]:
        response = client.get(url)
        assert response.status_code == 200, name
        rendered[name] = response.content.decode()
    client.force_login(technical_manager)
    response = client.get("/home/")
    assert response.status_code == 200
    rendered["staff home with dashboard"] = response.content.decode()
    settings.RATELIMIT_VERIFY = "1/m"
    client.get("/verify/")
    response = client.get("/verify/")
    assert response.status_code == 429
    rendered["429"] = response.content.decode()

    assert 'class="card invalid-stamp"' in rendered["certificate"]
    assert '<svg class="bar"' in rendered["staff home with dashboard"]
    assert {name: inline_code(html) for name, html in rendered.items() if inline_code(html)} == {}


def served_templates() -> list[Path]:
    """Every HTML template a browser may get; PDF documents (WeasyPrint) are never served and
    the admin's own templates run under the admin's relaxed policy."""
    return sorted(
        path
        for path in TEMPLATES.rglob("*.html")
        if "pdf" not in path.relative_to(TEMPLATES).parts[:-1]
        and path.relative_to(TEMPLATES).parts[0] != "admin"
    )


def test_no_served_template_contains_inline_code():
    offending = {
        str(path.relative_to(TEMPLATES)): inline_code(path.read_text(encoding="utf-8"))
        for path in served_templates()
    }

    assert len(offending) > 10
    assert {name: found for name, found in offending.items() if found} == {}


# --- headers, cookies, sessions -------------------------------------------------------------


def test_security_headers_on_every_page(client, cb):
    response = client.get("/verify/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_sessions_last_a_working_day_and_end_with_the_browser(client, cb):
    make_staff("alice")
    log_in(client, "alice", "pw-alice")

    assert django_settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert not cookie["max-age"] and not cookie["expires"]
    assert client.session.get_expiry_age() == 8 * 60 * 60


@pytest.mark.parametrize("value", ["60/m", "10/10m", "5/h", "1000/d", "3/s"])
def test_rate_settings_accept_django_ratelimit_rates(monkeypatch, value):
    monkeypatch.setenv("RATELIMIT_TEST", value)

    assert env_rate("RATELIMIT_TEST", "1/m") == value


@pytest.mark.parametrize("value", ["60", "60/min", "0/m", "ten/m", "60 per minute"])
def test_rate_settings_refuse_anything_else(monkeypatch, value):
    monkeypatch.setenv("RATELIMIT_TEST", value)

    with pytest.raises(ImproperlyConfigured, match="RATELIMIT_TEST"):
        env_rate("RATELIMIT_TEST", "1/m")


# --- manage.py check --deploy -------------------------------------------------------------

# The production variables documented in the README ("Production settings").
PRODUCTION_ENV = {
    "DEBUG": "0",
    "CERTBODY_REQUIRE_SECRET": "1",
    "ALLOWED_HOSTS": "cb.example.cn",
    "CSRF_TRUSTED_ORIGINS": "https://cb.example.cn",
    "SITE_URL": "https://cb.example.cn",
    "SESSION_COOKIE_SECURE": "1",
    "TRUST_X_FORWARDED_PROTO": "1",
    "SECURE_SSL_REDIRECT": "1",
    "HSTS_SECONDS": "31536000",
    "HSTS_INCLUDE_SUBDOMAINS": "1",
    "HSTS_PRELOAD": "1",
    "RATELIMIT_IP_META_KEY": "HTTP_X_REAL_IP",
}


def check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    base = {
        name: value
        for name, value in os.environ.items()
        # conftest.py allows async-unsafe ORM calls for Playwright; never in deployment.
        if name not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        and name != "DJANGO_ALLOW_ASYNC_UNSAFE"
        and name not in PRODUCTION_ENV
        and name != "SECRET_KEY"
    }
    # An empty database: the calendar check (certbody.W001) needs a migrated one to speak.
    base["SQLITE_PATH"] = str(tmp_path / "empty.sqlite3")
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION_ENV, SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_on_the_development_defaults(tmp_path):
    result = check_deploy(tmp_path, DEBUG="0")

    assert result.returncode != 0
    for check in ["W004", "W008", "W009", "W012", "W016"]:
        assert f"security.{check}" in result.stderr
