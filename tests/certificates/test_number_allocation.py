"""Gapless, concurrency-safe yearly sequence (004 Appendix C). PostgreSQL only."""

import threading

import pytest
from django.db import connection, connections, transaction

from certificates.models import Certificate, CertificateSequence
from certificates.services import allocate_sequence, certificate_issue
from tests.certificates.factories import Staff, completed_stage2

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (DATABASE_URL)"
)


@pytest.mark.django_db(transaction=True)
def test_allocate_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        allocate_sequence(2025)


@pytest.mark.django_db
def test_a_rolled_back_issue_gives_its_number_back():
    with transaction.atomic():
        assert allocate_sequence(2031) == 1
        transaction.set_rollback(True)
    with transaction.atomic():
        assert allocate_sequence(2031) == 1


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_issues_get_distinct_consecutive_numbers(cb):
    from certificates.services import decision_make

    staff = Staff()
    decisions = []
    for _ in range(20):
        stage2 = completed_stage2(staff=staff)
        # The decision is made without issuing, so the threads do the issuing concurrently.
        from certificates.models import Decision

        decisions.append(
            Decision.objects.create(
                audit=stage2,
                outcome="grant",
                decided_by=staff.decider,
                decided_on=stage2.actual_end,
                star_grade="three_star",
            )
        )
    assert decision_make  # the real path is covered elsewhere; here only numbering races
    barrier = threading.Barrier(len(decisions))
    errors = []

    def issue(decision):
        try:
            barrier.wait()
            certificate_issue(decision=decision, actor=staff.decider)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(d,)) for d in decisions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    sequences = sorted(
        Certificate.objects.filter(head__isnull=True, year=2025).values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, 21))
    assert CertificateSequence.objects.get(year=2025).last == 20
    numbers = Certificate.objects.values_list("number", flat=True)
    assert len(set(numbers)) == 20
