"""A real Celery worker against Redis runs one job end to end (only when REDIS_URL is set, as on
CI; e.g. REDIS_URL=redis://127.0.0.1:6379/15). The worker runs in a thread of this process
(``celery.contrib.testing.worker.start_worker``, solo pool) and takes the task from Redis; the
test waits for its effect in the database, with bounded timeouts."""

import time
from datetime import date

import pytest
from django.conf import settings
from django.db import OperationalError

from certificates.models import Certificate

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs a real Redis (REDIS_URL)"),
]

TIMEOUT_SECONDS = 30


def _status(pk: int) -> str:
    try:
        return Certificate.objects.values_list("status", flat=True).get(pk=pk)
    except OperationalError:  # SQLite's shared in-memory test database, briefly locked
        return ""


@pytest.mark.django_db(transaction=True)
def test_a_worker_expires_a_certificate_through_the_broker(people):
    from celery.contrib.testing.worker import start_worker

    from certbody.celery import app
    from reporting.tasks import run_job
    from tests.certificates.factories import issued_certificate

    assert not app.conf.task_always_eager
    certificate = issued_certificate(staff=people.workflow)  # expires 2028-03-19
    app.control.purge()
    with start_worker(
        app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        shutdown_timeout=TIMEOUT_SECONDS,
        loglevel="WARNING",
    ):
        result = run_job.delay("expiry", today=date(2028, 3, 20).isoformat())
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline and _status(certificate.pk) != "expired":
            time.sleep(0.2)
    assert result.id
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED
    event = certificate.events.get(kind="expired")
    assert event.actor.username == "system" and event.occurred_on == date(2028, 3, 20)
