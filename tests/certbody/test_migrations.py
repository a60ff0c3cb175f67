"""The migrations against the models: the test databases are made from the models
(``tests/db_setup.py``), so these tests are what proves the migrations themselves.

- ``makemigrations --check``: no model change lacks its migration.
- The whole migration history replayed by ``manage.py migrate`` into an empty database of its
  own (a SQLite file, or a PostgreSQL database next to the test database) gives the same tables,
  columns, indexes and constraints as the test database, and the same base data.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from tests.db_setup import postgres_url

ROOT = Path(__file__).resolve().parents[2]

# Tables the data migrations fill on an empty database.
BASE_MODELS = [
    ("certbody", "BusinessScope"),
    ("certbody", "CncaCode"),
    ("certbody", "CalendarDay"),
    ("certbody", "CalendarYear"),
    ("auth", "Group"),
    ("audits", "IndicatorCatalogue"),
    ("audits", "Indicator"),
    ("reporting", "ReportLayout"),
]


def _base_tables() -> list[str]:
    return [apps.get_model(app, name)._meta.db_table for app, name in BASE_MODELS]


def _sqlite_schema(cursor) -> dict:
    cursor.execute(
        "SELECT type, name, tbl_name FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' AND type IN ('table', 'index')"
    )
    objects = cursor.fetchall()
    tables = sorted(name for kind, name, _table in objects if kind == "table")
    columns = {}
    for table in tables:
        cursor.execute(f'PRAGMA table_info("{table}")')
        columns[table] = sorted(
            (name, kind.lower(), bool(notnull)) for _cid, name, kind, notnull, _dflt, _pk in cursor
        )
    indexes = sorted((table, name) for kind, name, table in objects if kind == "index")
    return {"columns": columns, "indexes": indexes, "constraints": []}


def _postgresql_schema(cursor) -> dict:
    cursor.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'public'"
    )
    columns: dict[str, list] = {}
    for table, name, kind, nullable in cursor.fetchall():
        columns.setdefault(table, []).append((name, kind, nullable == "NO"))
    cursor.execute(
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"
    )
    indexes = [tuple(row) for row in cursor.fetchall()]
    cursor.execute(
        "SELECT rel.relname, con.contype, pg_get_constraintdef(con.oid) FROM pg_constraint con "
        "JOIN pg_class rel ON rel.oid = con.conrelid "
        "JOIN pg_namespace ns ON ns.oid = rel.relnamespace WHERE ns.nspname = 'public' "
        "ORDER BY 1, 2, 3"
    )
    constraints = [tuple(row) for row in cursor.fetchall()]
    return {
        "columns": {table: sorted(rows) for table, rows in sorted(columns.items())},
        "indexes": indexes,
        "constraints": constraints,
    }


# Django's own history: auth's first migration made this auto-created table's key a 32-bit
# integer; made from today's models it is 64-bit. Nothing of ours reads it.
WIDTH_ONLY = {("auth_group_permissions", "id")}


def _comparable(table: str, columns: list) -> list:
    return [
        (name, "integer" if (table, name) in WIDTH_ONLY else kind, notnull)
        for name, kind, notnull in columns
    ]


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def _schema(cursor, vendor: str) -> dict:
    return _sqlite_schema(cursor) if vendor == "sqlite" else _postgresql_schema(cursor)


def _migrate(env: dict) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _environment(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


@pytest.mark.django_db
def test_no_model_change_lacks_its_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_the_migrations_replayed_give_the_test_databases_schema_and_base_data(tmp_path):
    tables = _base_tables()
    with connection.cursor() as cursor:
        expected = _schema(cursor, connection.vendor)
        expected_counts = _counts(cursor, tables)
    assert all(expected_counts.values()), expected_counts

    if connection.vendor == "sqlite":
        path = tmp_path / "replayed.sqlite3"
        _migrate(_environment(SQLITE_PATH=str(path)))
        replayed_connection = sqlite3.connect(path)
        try:
            cursor = replayed_connection.cursor()
            replayed = _sqlite_schema(cursor)
            replayed_counts = _counts(cursor, tables)
        finally:
            replayed_connection.close()
    else:
        import psycopg

        params = connection.get_connection_params()
        name = f"{connection.settings_dict['NAME']}_replayed"
        admin = {k: v for k, v in params.items() if k in {"host", "port", "user", "password"}}
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}"')
            server.execute(f'CREATE DATABASE "{name}"')
        try:
            url = postgres_url(connection.settings_dict, name)
            _migrate(_environment(DATABASE_URL=url))
            with psycopg.connect(dbname=name, **admin) as replayed_connection:
                cursor = replayed_connection.cursor()
                replayed = _postgresql_schema(cursor)
                replayed_counts = _counts(cursor, tables)
        finally:
            with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{name}"')

    assert replayed["columns"].keys() == expected["columns"].keys()
    for table, columns in expected["columns"].items():
        assert _comparable(table, replayed["columns"][table]) == _comparable(table, columns), table
    assert replayed["indexes"] == expected["indexes"]
    assert replayed["constraints"] == expected["constraints"]
    assert replayed_counts == expected_counts
