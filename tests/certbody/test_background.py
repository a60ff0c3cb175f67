"""Issue #16: without a broker (tasks run eagerly) documents are rendered after the response by
an in-process background thread (``certbody.background``), not inside the request."""

import threading
from datetime import date

import pytest

from certbody import background
from certificates import pdf, services
from certificates.models import CertificateDocument
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import Staff, issued_certificate

State = CertificateDocument.State


@pytest.fixture
def background_on(settings):
    settings.BACKGROUND_TASKS = True
    yield
    background.wait(timeout=30)


def test_submit_returns_before_the_work_runs_and_wait_waits_for_it(background_on):
    release = threading.Event()
    ran_in = []

    def work(value):
        release.wait(10)
        ran_in.append((value, threading.current_thread().name))

    future = background.submit(work, 7)
    assert future is not None and not future.done()
    assert ran_in == []  # the caller is not held up by the work
    release.set()
    background.wait(timeout=10)
    assert future.done()
    assert ran_in[0][0] == 7
    assert ran_in[0][1].startswith("certbody-background")
    assert ran_in[0][1] != threading.current_thread().name


def test_a_failing_job_is_logged_and_never_raised(background_on, caplog):
    def boom():
        raise RuntimeError("render crashed")

    future = background.submit(boom)
    background.wait(timeout=10)
    assert future.result() is None
    assert "render crashed" in caplog.text


def test_switched_off_the_work_runs_in_place(settings):
    settings.BACKGROUND_TASKS = False
    ran_in = []
    assert background.submit(lambda: ran_in.append(threading.current_thread().name)) is None
    assert ran_in == [threading.current_thread().name]


@pytest.mark.after_commit
def test_without_a_broker_the_render_is_handed_to_the_background_thread(
    db, cb, settings, monkeypatch, django_capture_on_commit_callbacks
):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("with REDIS_URL the task goes to a worker")
    staff = Staff()
    certificate = issued_certificate(OrganizationFactory(name="北京后台服务有限公司"), staff)
    settings.BACKGROUND_TASKS = True
    handed = []
    monkeypatch.setattr(background, "submit", lambda func, *args: handed.append((func, args)))

    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_suspend(
            certificate=certificate,
            actor=staff.decider,
            cause=11,
            verified_on=date(2025, 6, 3),
            starts_on=date(2025, 6, 3),
            ends_on=date(2025, 8, 31),
        )

    notice = certificate.documents.get(kind=CertificateDocument.Kind.SUSPENSION_NOTICE)
    # The request returns with the notice pending; the background thread renders it.
    assert notice.state == State.PENDING
    assert handed == [(pdf._render_in_background, (notice.pk,))]
    assert pdf._render_in_background(notice.pk) is True
    notice.refresh_from_db()
    assert notice.state == State.STORED


def test_mails_queued_by_a_change_are_sent_by_the_background_thread_after_commit(
    db, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from certbody import notifications

    settings.BACKGROUND_TASKS = True
    handed = []
    monkeypatch.setattr(background, "submit", lambda func, *args: handed.append((func, args)))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = notifications._send_on_commit("subject", "body", ["a@example.com"])
    assert handed == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert handed == [(notifications._send_ids, ([rows[0].pk],))]
