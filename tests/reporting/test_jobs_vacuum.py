"""Statistics after bulk loads, outside a transaction (moved out of test_jobs.py: a
transactional test cannot run inside the transaction that module's shared fixtures hold)."""

import os

import pytest


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="VACUUM is PostgreSQL's"
)
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_postgresql_also_vacuums_after_a_bulk_load():
    """VACUUM sets the visibility map, as autovacuum would after the insert: a desk's
    ``COUNT(*)`` over the new rows then reads an index only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from certificates.importer import analyze

    with CaptureQueriesContext(connection) as queries:
        analyze()
    assert [q["sql"] for q in queries.captured_queries] == ["VACUUM (ANALYZE)"]
