"""The cache is an optimisation only: with Redis stopped or frozen every page still answers,
the CB profile comes from the database, rate limits fail open with a warning, certificates are
issued, and the periodic jobs run (issue 11).

Each test starts its own throw-away ``redis-server`` on a free port (never the shared one of
``REDIS_URL``), points the default cache (and so the rate limiter) at it, then kills or
freezes it (SIGSTOP). The server is always stopped at teardown, even when a test fails.
"""

import dataclasses
import logging
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError

from certbody import cache as safe_cache
from certbody import jobs
from certbody.models import CertificationBody
from tests.applications.factories import ClientUserFactory
from tests.certificates.factories import Staff, issued_certificate
from tests.certificates.helpers import certificate_in
from tests.conftest import make_staff

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

RATELIMIT_LOGGER = "certbody.security"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProcess:
    """One redis-server child process: running, killed or frozen (SIGSTOP)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_until_ready()

    def _wait_until_ready(self):
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def freeze(self):
        self.process.send_signal(signal.SIGSTOP)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process cannot handle SIGKILL late
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    server = RedisProcess()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_cache(settings, redis_server):
    """The default cache (and so the rate limiter) on the throw-away Redis, shaped as in
    production (settings.REDIS_CACHE_OPTIONS: short socket timeouts)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "certbody",
            "OPTIONS": dict(django_settings.REDIS_CACHE_OPTIONS),
        }
    }
    settings.RATELIMIT_ENABLE = True
    safe_cache.reset()
    yield redis_server
    safe_cache.reset()


@pytest.fixture(params=["killed", "frozen"])
def redis_down(request, redis_cache):
    """The Redis the site uses, stopped (connection refused) or frozen (no answer)."""
    cache.set("warm", 1)  # the pool holds an open connection, as in a running site
    if request.param == "killed":
        redis_cache.kill()
    else:
        redis_cache.freeze()
    return request.param


def test_the_settings_give_redis_short_socket_timeouts():
    options = django_settings.REDIS_CACHE_OPTIONS
    assert 0 < options["socket_connect_timeout"] <= 1
    assert 0 < options["socket_timeout"] <= 1
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.CACHES['default']['OPTIONS'] == s.REDIS_CACHE_OPTIONS, "
            "s.CELERY_BROKER_TRANSPORT_OPTIONS['socket_connect_timeout'], "
            "s.CELERY_BROKER_CONNECTION_TIMEOUT)",
        ],
        cwd=django_settings.BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "certbody.settings",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "PYTHONPATH": str(django_settings.BASE_DIR),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    same, broker_timeout, connect_timeout = result.stdout.split()
    assert same == "True"
    assert 0 < float(broker_timeout) <= 1
    assert 0 < float(connect_timeout) <= 1


def test_the_profile_is_cached_while_redis_runs(redis_cache, cb):
    assert CertificationBody.get().name == cb.name

    assert cache.get(CertificationBody.CACHE_KEY).pk == cb.pk


def test_the_profile_comes_from_the_database_when_redis_is_down(cb, redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="certbody.cache"):
        body = CertificationBody.get()

    assert body.pk == cb.pk and body.name == cb.name
    assert "cache" in caplog.text.lower()


def test_a_missing_profile_is_still_reported_when_redis_is_down(redis_down, db):
    CertificationBody.objects.all().delete()

    with pytest.raises(CertificationBody.DoesNotExist):
        CertificationBody.get()


@pytest.fixture
def site(cb):
    """A valid certificate, a client user of its organisation and a staff member."""
    certificate = certificate_in("valid")
    client_user = ClientUserFactory(organization=certificate.organization)
    staff = make_staff("tm-fault", "technical_manager")
    return certificate, client_user, staff


def test_every_kind_of_page_answers_when_redis_is_down(client, site, redis_down):
    certificate, client_user, staff = site
    public = {
        "verification": "/verify/",
        "search": f"/verify/?q={certificate.organization.name}",
        "certificate page": f"/verify/{certificate.token}/",
        "api": f"/api/v1/certificates/{certificate.number}",
        "log-in page": "/accounts/login/",
    }
    answers = {name: client.get(url).status_code for name, url in public.items()}
    answers["log-in post"] = client.post(
        "/accounts/login/", {"username": "tm-fault", "password": "pw-tm-fault"}
    ).status_code
    client.force_login(staff)
    answers["staff home"] = client.get("/home/").status_code
    answers["staff workspace"] = client.get("/staff/applications/").status_code
    client.force_login(client_user)
    answers["portal"] = client.get("/portal/").status_code

    assert answers == {
        "verification": 200,
        "search": 200,
        "certificate page": 200,
        "api": 200,
        "log-in page": 200,
        "log-in post": 302,
        "staff home": 200,
        "staff workspace": 200,
        "portal": 200,
    }


def test_the_complaint_form_opens_when_redis_is_down(client, cb, redis_down):
    assert client.get("/complaints/new/").status_code == 200


def test_a_complaint_is_received_when_redis_is_down(client, cb, redis_down):
    from tests.certificates.test_appeals import FORM

    response = client.post("/complaints/new/", FORM)

    assert response.status_code == 302


def test_rate_limits_fail_open_with_a_warning_when_redis_is_down(
    client, cb, settings, redis_down, caplog
):
    settings.RATELIMIT_VERIFY = "2/m"

    with caplog.at_level(logging.WARNING):
        answers = [client.get("/verify/").status_code for _ in range(4)]

    assert answers == [200] * 4
    warnings = [r for r in caplog.records if r.name == RATELIMIT_LOGGER]
    assert warnings and all(r.levelno == logging.WARNING for r in warnings)
    assert "not enforced" in warnings[0].getMessage()


def test_a_cache_that_just_failed_is_skipped_for_a_while(client, cb, redis_down, caplog):
    """One failure is paid (and logged) once; the next requests do not wait on Redis again."""
    with caplog.at_level(logging.WARNING, logger="certbody.cache"):
        for _ in range(3):
            assert client.get("/verify/").status_code == 200

    failures = [r for r in caplog.records if r.name == "certbody.cache"]
    assert len(failures) == 1


def test_rate_limits_count_on_redis_and_hold_again_once_it_is_back(
    client, cb, settings, redis_cache
):
    settings.RATELIMIT_VERIFY = "2/m"
    assert [client.get("/verify/").status_code for _ in range(3)] == [200, 200, 429]

    redis_cache.freeze()
    assert client.get("/verify/").status_code == 200  # fails open
    redis_cache.process.send_signal(signal.SIGCONT)
    safe_cache.reset()  # the skip period after a failure is over

    assert client.get("/verify/").status_code == 429


def test_a_certificate_is_issued_when_redis_is_down(cb, redis_down):
    certificate = issued_certificate(None, Staff())

    assert certificate.pk and certificate.number
    assert certificate.documents.exists()


# --- periodic jobs: one failing job does not stop the others ---------------------------------


@pytest.fixture
def failing_job(monkeypatch, db):
    """The first job raises; records the order in which the jobs ran."""
    ran = []
    first = next(iter(jobs.JOBS))

    def step_for(name, original):
        # Wraps a job's one-row step and, for jobs that work a page at a time, its batch.
        def step(**kwargs):
            ran.append(name)
            if name == first:
                raise RuntimeError("boom")
            return original(**kwargs)

        return step

    for name, job in list(jobs.JOBS.items()):
        replaced = dataclasses.replace(
            job,
            step=step_for(name, job.step),
            batch=step_for(name, job.batch) if job.batch else None,
        )
        monkeypatch.setitem(jobs.JOBS, name, replaced)
    return first, ran


def test_run_all_logs_a_failing_job_and_runs_the_others(failing_job, caplog):
    first, ran = failing_job

    with caplog.at_level(logging.ERROR, logger="certbody.jobs"):
        results = jobs.run_all()

    assert list(dict.fromkeys(ran)) == list(jobs.JOBS)  # every job was tried, in order
    assert results[first] is None
    assert all(isinstance(results[name], int) for name in list(jobs.JOBS)[1:])
    assert any(first in r.getMessage() and r.exc_info for r in caplog.records)


def test_run_due_jobs_runs_the_others_and_then_fails(failing_job, capsys):
    first, ran = failing_job

    with pytest.raises(CommandError, match=first):
        call_command("run_due_jobs")

    assert list(dict.fromkeys(ran)) == list(jobs.JOBS)
    out = capsys.readouterr().out
    assert f"{first}" in out and "failed" in out
    last = list(jobs.JOBS)[-1]
    assert last in out


def test_run_all_runs_every_job_when_redis_is_down(redis_down, cb):
    results = jobs.run_all()

    assert set(results) == set(jobs.JOBS)
    assert all(isinstance(done, int) for done in results.values())
