"""Protection: log-in throttling, the Content Security Policy (and templates that keep to it),
security headers and cookies, and a clean `manage.py check --deploy` in production shape."""

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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


@pytest.mark.parametrize("url", ["/accounts/login/"])  # /admin/login/ takes no passwords
def test_full_width_look_alikes_of_the_user_name_share_its_budget(client, login_limits, url):
    """NFKC, as Django's log-in form applies it: ｄｅｃｉｄｅｒ２ logs in as decider2."""
    make_staff("decider2")
    for n in range(3):
        client.post(url, {"username": "decider2", "password": "wrong"}, REMOTE_ADDR=f"192.0.2.{n}")

    response = client.post(
        url, {"username": "ｄｅｃｉｄｅｒ２", "password": "pw-decider2"}, REMOTE_ADDR="192.0.2.9"
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("posted", "counted"),
    [
        ("ｄｅｃｉｄｅｒ２", "decider2"),
        ("  Decider2\u3000", "decider2"),  # ideographic space
        ("ＤＥＣＩＤＥＲ２", "decider2"),
        ("ﬁona", "fiona"),  # the fi ligature
        ("Straße", "strasse"),
    ],
)
def test_the_throttled_user_name_is_the_one_authentication_sees(posted, counted):
    from django.contrib.auth.forms import UsernameField

    from certbody.security import login_username

    assert login_username(posted) == counted
    # Django's log-in form cleans the name to the same thing, up to letter case.
    assert UsernameField().clean(posted).casefold() == login_username(posted)


def test_showing_the_log_in_page_is_not_counted(client, login_limits):
    make_staff("alice")
    for _ in range(10):
        assert client.get("/accounts/login/").status_code == 200

    response = log_in(client, "alice", "pw-alice")

    assert response.status_code == 302
    assert client.session["_auth_user_id"]


# The admin has no log-in form of its own: /admin/login/ sends to the throttled two-factor
# log-in above (tests/certbody/test_two_factor.py, test_admin.py).


# --- sliding-window rate limits -------------------------------------------------------------

# A whole minute: fixed windows of 60 s start here.
BOUNDARY = datetime(2026, 3, 2, 9, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def statuses(client, count: int) -> list[int]:
    return [client.get("/verify/invalid/").status_code for _ in range(count)]


def test_a_burst_across_a_window_boundary_gets_the_rate_once_not_twice(
    client, cb, settings, time_machine
):
    """A fixed window lets 100 through just before the minute and 100 more just after."""
    settings.RATELIMIT_VERIFY = "100/m"
    time_machine.move_to(BOUNDARY - timedelta(seconds=1), tick=False)
    before = statuses(client, 150)
    time_machine.move_to(BOUNDARY + timedelta(seconds=1), tick=False)
    after = statuses(client, 150)

    assert before.count(200) == 100
    assert before.count(200) + after.count(200) <= 102
    assert set(before + after) == {200, 429}


def test_a_burst_just_after_a_full_window_is_held_back_too(client, cb, settings, time_machine):
    settings.RATELIMIT_VERIFY = "100/m"
    time_machine.move_to(BOUNDARY - timedelta(seconds=1), tick=False)
    assert statuses(client, 100) == [200] * 100  # exactly the rate, just before the minute
    time_machine.move_to(BOUNDARY + timedelta(seconds=1), tick=False)

    assert statuses(client, 100).count(200) <= 2


def test_a_client_within_the_rate_is_never_refused(client, cb, settings, time_machine):
    settings.RATELIMIT_VERIFY = "60/m"
    start = BOUNDARY - timedelta(seconds=30)
    answers = []
    for n in range(200):  # one request every 1.1 s for 3⅔ minutes, across 4 boundaries
        time_machine.move_to(start + timedelta(seconds=1.1 * n), tick=False)
        answers += statuses(client, 1)

    assert answers == [200] * 200


def test_after_retry_after_seconds_the_next_request_passes(client, cb, settings, time_machine):
    settings.RATELIMIT_VERIFY = "10/m"
    time_machine.move_to(BOUNDARY + timedelta(seconds=20), tick=False)
    statuses(client, 10)
    refused = client.get("/verify/invalid/")
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 120

    time_machine.move_to(BOUNDARY + timedelta(seconds=20 + wait), tick=False)

    assert statuses(client, 1) == [200]


@pytest.mark.parametrize(
    ("previous", "current", "elapsed", "refused"),
    [
        (0, 10, 0.0, False),
        (0, 11, 0.99, True),
        (10, 1, 0.0, True),  # the previous window still counts in full
        (10, 5, 0.5, False),  # half of it has slid out
        (10, 6, 0.5, True),
        (20, 1, 0.95, False),
    ],
)
def test_the_sliding_window_weights_the_previous_window(previous, current, elapsed, refused):
    from certbody.security import sliding_window

    result, wait = sliding_window(
        previous=previous, current=current, limit=10, elapsed=elapsed, period=60
    )

    assert result is refused
    assert (wait >= 1) is refused


@pytest.mark.parametrize("rate", ["60/m", "10/10m", "5/h", "1000/d", "3/s"])
def test_rates_are_parsed_like_the_settings_accept_them(rate):
    from certbody.security import parse_rate

    count, seconds = parse_rate(rate)
    assert count == int(rate.split("/")[0])
    assert seconds == {"60/m": 60, "10/10m": 600, "5/h": 3600, "1000/d": 86400, "3/s": 1}[rate]


def test_the_rate_limiter_warns_about_a_cache_local_to_each_process(settings):
    from certbody.checks import ratelimit_cache_shared_check

    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [m.id for m in ratelimit_cache_shared_check()] == ["certbody.W002"]

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert [m.id for m in ratelimit_cache_shared_check()] == ["certbody.W002"]

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    }
    assert ratelimit_cache_shared_check() == []

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.DEBUG = True
    assert ratelimit_cache_shared_check() == []


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
    # Shared rate-limit counters (certbody.W002); `check` never connects to it.
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def deploy_env(tmp_path, **env) -> dict[str, str]:
    """This process's environment without the test and production variables, plus ``env``."""
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
    return {**base, **env}


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    return run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], deploy_env(tmp_path, **env)
    )


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    result = check_deploy(tmp_path, **PRODUCTION_ENV, SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_on_the_development_defaults(tmp_path):
    result = check_deploy(tmp_path, DEBUG="0")

    assert result.returncode != 0
    for check in ["W004", "W008", "W009"]:
        assert f"security.{check}" in result.stderr
    # Secure session and CSRF cookies are the default with DEBUG off, whatever the database.
    assert "security.W012" not in result.stderr and "security.W016" not in result.stderr
    # No REDIS_URL: every worker would count the rate limits for itself.
    assert "certbody.W002" in result.stderr


# `check --deploy` in December with next year's calendar not yet published (this year's is).
DECEMBER_CHECK = """
import datetime, os, sys, zoneinfo
os.environ["DJANGO_SETTINGS_MODULE"] = "certbody.settings"
import django
django.setup()
import time_machine
from django.core.management import call_command
from django.db import connection
from certbody.models import CalendarYear
with connection.schema_editor() as editor:
    editor.create_model(CalendarYear)
CalendarYear.objects.bulk_create([CalendarYear(year=int(y)) for y in sys.argv[1:]])
december = datetime.datetime(2026, 12, 5, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
with time_machine.travel(december, tick=False):
    call_command("check", "--deploy", "--fail-level", "WARNING")
"""


def check_deploy_in_december(tmp_path, *published_years: int) -> subprocess.CompletedProcess:
    env = deploy_env(tmp_path, **PRODUCTION_ENV, SECRET_KEY=secrets.token_urlsafe(50))
    return run_python(["-c", DECEMBER_CHECK, *map(str, published_years)], env)


def test_check_deploy_passes_in_december_before_next_years_calendar_is_out(tmp_path):
    result = check_deploy_in_december(tmp_path, 2026)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "certbody.I001" in result.stderr  # shown, as information
    assert "The working-day calendar for 2027 is not published." in result.stderr
    assert "certbody.W001" not in result.stderr


def test_check_deploy_fails_without_this_years_calendar(tmp_path):
    result = check_deploy_in_december(tmp_path)

    assert result.returncode != 0
    assert "certbody.W001" in result.stderr
    assert "The working-day calendar for 2026 is not published." in result.stderr


# Settings are read once, at import: each case imports them afresh in a new interpreter.
COOKIE_FLAGS = "import certbody.settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"


@pytest.mark.parametrize(
    ("env", "session_secure", "csrf_secure"),
    [
        ({"DEBUG": "0"}, True, True),  # SQLite and DEBUG off: still HTTPS-only cookies
        ({"DEBUG": "0", "DATABASE_URL": "postgres://u@h/db"}, True, True),
        ({"DEBUG": "1"}, False, False),  # make run, plain HTTP
        ({"DEBUG": "0", "SESSION_COOKIE_SECURE": "0"}, False, False),
        ({"DEBUG": "0", "CSRF_COOKIE_SECURE": "0"}, True, False),
        ({"DEBUG": "1", "SESSION_COOKIE_SECURE": "1"}, True, True),
    ],
)
def test_cookies_are_secure_unless_debug(tmp_path, env, session_secure, csrf_secure):
    base = deploy_env(tmp_path)
    base.pop("CSRF_COOKIE_SECURE", None)

    result = run_python(["-c", COOKIE_FLAGS], {**base, **env})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(session_secure), str(csrf_secure)]
