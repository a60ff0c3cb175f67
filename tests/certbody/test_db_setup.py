"""The suite's own database set-up (``tests/db_setup.py``): PostgreSQL flushes by DELETE."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection

from certbody import roles
from certbody.models import User
from tests.conftest import stray_demo_tests
from tests.db_setup import delete_flush_sql


def _truncate(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    return [f"TRUNCATE {', '.join(tables)} RESTART={reset_sequences} CASCADE={allow_cascade};"]


def test_the_flush_deletes_each_table_with_the_foreign_keys_deferred():
    flush = delete_flush_sql(_truncate)
    statements = flush(connection.ops, no_style(), ["auth_group", "certbody_user"])
    assert statements[0] == "SET CONSTRAINTS ALL DEFERRED;"
    assert [s.split()[2] for s in statements[1:]] == [
        connection.ops.quote_name("auth_group") + ";",
        connection.ops.quote_name("certbody_user") + ";",
    ]


def test_resetting_sequences_keeps_the_original_statement():
    flush = delete_flush_sql(_truncate)
    assert flush(connection.ops, no_style(), ["auth_group"], reset_sequences=True) == [
        "TRUNCATE auth_group RESTART=True CASCADE=False;"
    ]
    assert flush(connection.ops, no_style(), []) == ["TRUNCATE  RESTART=False CASCADE=False;"]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_flush_empties_rows_that_reference_each_other():
    """Every PostgreSQL connection of the worker flushes with DELETE (also one made in another
    thread or greenlet); rows linked by foreign keys (a user in a role group, the group's
    permissions) go in one flush whatever the table order."""
    user = User.objects.create_user(username="flushed", password="x")
    user.groups.add(Group.objects.get(name=roles.MARKET))
    tables = connection.introspection.django_table_names(only_existing=True)
    statements = connection.ops.sql_flush(no_style(), tables)
    assert statements[0] == "SET CONSTRAINTS ALL DEFERRED;"
    assert not any(s.startswith("TRUNCATE") for s in statements)
    connection.ops.execute_sql_flush(statements)
    assert not User.objects.exists()
    assert not Group.objects.exists()
    assert not User.groups.through.objects.exists()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
@pytest.mark.django_db
def test_a_postgresql_test_database_commits_without_waiting_for_the_wal():
    """Set on the test database itself, so every new connection (live servers, subprocesses)
    gets it too."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("off",)
        cursor.execute(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
            " WHERE d.datname = current_database()"
        )
        assert ["synchronous_commit=off"] in [row[0] for row in cursor.fetchall()]


def test_a_demo_test_outside_the_demo_group_is_found():
    """tests/conftest.py refuses at collection a test that uses the demo outside the demo
    xdist group (it would build the demo again on another worker)."""

    def item(nodeid, fixtures, group=None):
        marker = pytest.mark.xdist_group(group).mark if group else None
        return SimpleNamespace(
            nodeid=nodeid, fixturenames=fixtures, get_closest_marker=lambda name: marker
        )

    items = [
        item("stray", ["db", "demo"]),
        item("grouped", ["demo"], "demo"),
        item("seeded elsewhere", ["seeded"], "other"),
        item("no demo", ["db"]),
    ]
    assert stray_demo_tests(items) == ["stray", "seeded elsewhere"]
    assert stray_demo_tests([]) == []
