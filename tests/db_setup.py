"""The test databases are made from the models, not by replaying the migrations (issue #16).

Replaying the project's 80-odd migrations costs about 40 s of CPU on SQLite (Django renders
the historical models again for nearly every operation), and every pytest-xdist worker of both
CI phases paid it before its first test. Each worker now creates the tables the way
``migrate --run-syncdb`` does for an app without migrations, then:

- records every migration as applied, so code that asks the migration loader (backups'
  manifests, the tests that migrate back and forth) sees a fully migrated database;
- loads what the data migrations load on an empty database (``base_data``: reference data,
  calendar, role groups, system user, indicator catalogue, stored report layouts);
- runs the schema statements that live only in migrations (``MIGRATION_ONLY_SQL``).

``tests/certbody/test_migrations.py`` replays the real migrations into a database of their own
once per run and compares its schema and base data with this one, so a migration that drifts
from the models, or a new migration-only statement missing here, fails the suite.
"""

from __future__ import annotations

import importlib

from django.db import connection as default_connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder


def delete_flush_sql(original):
    """PostgreSQL's ``DatabaseOperations.sql_flush`` for the tests (``install_delete_flush``):
    ``DELETE FROM`` each table, with the foreign keys (Django makes them ``DEFERRABLE INITIALLY
    DEFERRED``) checked at the flush's commit, instead of one ``TRUNCATE`` of every table. A
    transactional test's teardown flushes some 200 tables; TRUNCATE gives each of them, its
    indexes and its TOAST table new files (2–5 s a flush on a 2-core machine), where deleting
    the few rows a test left takes milliseconds. Resetting sequences (``reset_sequences=True``)
    keeps the original statement. ``original`` is the method it wraps (``self`` first)."""

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [
            f"DELETE FROM {self.quote_name(table)};" for table in tables
        ]

    sql_flush.delete_flush = True
    return sql_flush


def install_delete_flush() -> None:
    """Make every PostgreSQL connection of this (test) process flush by ``DELETE``: on the
    backend's class, since each thread and each greenlet (Playwright's sync API) gets its own
    connection object. Idempotent."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    if not getattr(DatabaseOperations.sql_flush, "delete_flush", False):
        DatabaseOperations.sql_flush = delete_flush_sql(DatabaseOperations.sql_flush)


# (migration module, name of its SQL constant, vendor): schema made by RunPython/RunSQL only.
MIGRATION_ONLY_SQL = [("audits.migrations.0016_audit_desk_order_index", "CREATE", "postgresql")]


class NoMigrations:
    """``settings.MIGRATION_MODULES`` value under which every app is made from its models."""

    def __contains__(self, item: str) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None


def base_data() -> None:
    """What the data migrations put in an empty database (idempotent); also restores it after
    a transactional test flushed the tables."""
    from audits.catalogue import ensure_default_catalogue
    from audits.models import Indicator, IndicatorCatalogue
    from certbody.reference import ensure_base_data
    from reporting.layouts import store_defaults

    ensure_base_data()
    ensure_default_catalogue(IndicatorCatalogue, Indicator)
    store_defaults()


def finish(connection=default_connection) -> None:
    """Complete a database made from the models (see the module docstring)."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    recorder = MigrationRecorder(connection)
    recorder.ensure_schema()
    # As ``migrate`` records them: a squashed migration, and each one it replaces.
    names = set()
    for key in loader.graph.nodes:
        names.update([key, *loader.graph.nodes[key].replaces])
    names -= set(recorder.applied_migrations())
    recorder.Migration.objects.using(connection.alias).bulk_create(
        recorder.Migration(app=app, name=name) for app, name in sorted(names)
    )
    with connection.cursor() as cursor:
        for module, constant, vendor in MIGRATION_ONLY_SQL:
            if connection.vendor == vendor:
                cursor.execute(getattr(importlib.import_module(module), constant))
    base_data()


def postgres_url(settings_dict: dict, name: str | None = None) -> str:
    """A ``DATABASE_URL`` for a child process on the same PostgreSQL server as the Django
    connection ``settings_dict`` (its ``NAME`` unless ``name`` is given). The host may be a
    Unix socket directory (CI connects through ``/var/run/postgresql`` when it can): it is
    percent-encoded, as ``dj_database_url`` reads it back."""
    from urllib.parse import quote

    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = quote(settings_dict.get("HOST") or "127.0.0.1", safe="")
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(name or settings_dict['NAME'])}"
