"""Two job runners at once (beat and cron, or two workers) must not duplicate work.

Two ``run_due_jobs`` at once once opened two withdrawal proposals for 13 of 20,000 suspended
certificates: the step checked "no open proposal" without claiming anything. The step now
claims each certificate through its JobMark, and the database allows one open proposal per
certificate and action.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from certbody.models import JobMark
from certificates import services as cert_services
from certificates.models import Certificate, Proposal
from tests.certificates.factories import Staff
from tests.certificates.helpers import SUSPENDED_UNTIL, certificate_in
from tests.db_setup import postgres_url

ROOT = Path(__file__).resolve().parents[2]
CERTIFICATES = 24


def test_a_second_open_proposal_for_the_same_certificate_and_action_is_refused(db, cb):
    staff = Staff()
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=staff)
    first = Proposal.objects.create(
        certificate=certificate, action="withdraw", cause=7, reason="一", created_by=staff.decider
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.create(
            certificate=certificate,
            action="withdraw",
            cause=7,
            reason="二",
            created_by=staff.decider,
        )
    # Other actions, and closed proposals, are not limited.
    Proposal.objects.create(
        certificate=certificate, action="suspend", cause=6, reason="三", created_by=staff.decider
    )
    Proposal.objects.filter(pk=first.pk).update(state="dismissed")
    Proposal.objects.create(
        certificate=certificate, action="withdraw", cause=7, reason="四", created_by=staff.decider
    )


def test_proposal_open_returns_the_proposal_already_open(db, cb):
    staff = Staff()
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=staff)
    first = Proposal.objects.create(
        certificate=certificate, action="withdraw", cause=7, reason="一", created_by=staff.decider
    )
    again = cert_services.proposal_open(
        certificate=certificate, actor=staff.decider, action="withdraw", cause=8, reason="二"
    )
    assert again == first
    assert Proposal.objects.count() == 1


def _run_due_jobs(env):
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_due_jobs",
            "--job",
            "suspension_ended",
            "--date",
            str(SUSPENDED_UNTIL + timedelta(days=1)),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_both_wait(cursor, runners, seconds=120):
    """Return once every runner (another session of this database) waits on a lock. Fails, the
    runners stopped, with a runner's output if it ended first, or with the sessions seen when
    ``seconds`` pass."""

    def fail(message):
        for runner in runners:
            runner.kill()
        pytest.fail(message)

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # pg_stat_activity is read once per transaction unless its snapshot is cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        if cursor.fetchone()[0] >= len(runners):
            return
        ended = [runner for runner in runners if runner.poll() is not None]
        if ended:
            fail(f"a runner ended before the barrier: {ended[0].communicate()}")
        time.sleep(0.05)
    cursor.execute(
        "SELECT pid, state, wait_event_type, wait_event, left(query, 200) FROM pg_stat_activity"
        " WHERE datname = current_database()"
    )
    fail(f"the runners did not all reach the barrier within {seconds} s: {cursor.fetchall()}")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two processes need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_open_one_withdrawal_proposal_per_certificate(cb, monkeypatch):
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    staff = Staff()
    suspended = [
        certificate_in(Certificate.Status.SUSPENDED, staff=staff).pk for _ in range(CERTIFICATES)
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": postgres_url(settings.DATABASES["default"]),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    # Both runners start behind a barrier: the certificates table is locked against the row
    # locks a step takes until both are waiting on it, so neither can finish every step before
    # the other has connected.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {Certificate._meta.db_table} IN EXCLUSIVE MODE")
        runners = [_run_due_jobs(env) for _ in range(2)]
        _wait_until_both_wait(cursor, runners)
    results = [runner.communicate(timeout=300) for runner in runners]
    for runner, (_out, err) in zip(runners, results, strict=True):
        assert runner.returncode == 0, err
    assert all(int(out.split()[1]) >= 1 for out, _err in results), results  # both worked

    open_withdrawals = (
        Proposal.objects.filter(action="withdraw", state="open")
        .values("certificate")
        .annotate(n=Count("pk"))
    )
    assert {row["certificate"]: row["n"] for row in open_withdrawals} == dict.fromkeys(suspended, 1)
    assert JobMark.objects.filter(job="suspension_ended").count() == CERTIFICATES


@pytest.mark.django_db(transaction=True)
def test_the_migration_closes_duplicates_already_opened_before_adding_the_constraint(cb):
    """Where overlapping runners already opened two, the oldest stays open, the others are
    dismissed with a note, so the constraint can be added."""
    from django.db.migrations.executor import MigrationExecutor

    staff = Staff()
    certificate = certificate_in(Certificate.Status.SUSPENDED, staff=staff)
    before = [("certificates", "0005_docs_pending_documents")]
    after = [("certificates", "0006_one_open_proposal")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("certificates", "Proposal")
        made = [
            old.objects.create(
                certificate_id=certificate.pk,
                action="withdraw",
                cause=7,
                reason=f"重复 {n}",
                created_by_id=staff.decider.pk,
            ).pk
            for n in range(3)
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert after[0] in MigrationExecutor(connection).loader.applied_migrations
    states = dict(Proposal.objects.filter(pk__in=made).values_list("pk", "state"))
    assert states == {made[0]: "open", made[1]: "dismissed", made[2]: "dismissed"}
    assert "重复的建议" in Proposal.objects.get(pk=made[1]).closing_note
