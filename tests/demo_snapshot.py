"""The demo data set, built once per test process and restored from a snapshot afterwards.

``build_demo`` walks every story through the services (tens of seconds of CPU). The browser
journeys and the demo report tests each want that same data set, so the first test of a process
(an xdist worker) builds it and copies every table and the stored files; every later test gets
the copy back in well under a second: the tables are emptied and refilled in one transaction
(PostgreSQL: ``DELETE`` + ``COPY``, sequences reset; SQLite: ``DELETE`` + ``INSERT``), and the
files are copied into that test's ``MEDIA_ROOT``. Foreign keys are deferred on both databases,
so the order of the tables does not matter.

The demo's PDFs are stubbed (seconds each otherwise); a test that wants a real PDF renders its
own document after the demo is in place.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from unittest import mock

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management.color import no_style
from django.db import connection, transaction

STUB_PDF = b"%PDF-1.7 demo stub"


@dataclass
class Snapshot:
    vendor: str
    tables: dict[str, tuple[list[str], object]]
    files: Path


_snapshot: Snapshot | None = None


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _sqlite_value(value):
    # Django's SQLite connection parses "time" columns into datetime.time on the way out,
    # which sqlite3 cannot bind on the way back in; it stores them as ISO text.
    return value.isoformat() if isinstance(value, time) else value


def _take() -> Snapshot:
    connection.ensure_connection()
    raw = connection.connection.cursor()
    tables: dict[str, tuple[list[str], object]] = {}
    for table in _tables():
        if connection.vendor == "postgresql":
            with raw.copy(f"COPY {_quote(table)} TO STDOUT") as copy:
                tables[table] = ([], b"".join(bytes(block) for block in copy))
        else:
            raw.execute(f"SELECT * FROM {_quote(table)}")
            columns = [column[0] for column in raw.description]
            tables[table] = (columns, [tuple(map(_sqlite_value, row)) for row in raw.fetchall()])
    files = Path(tempfile.mkdtemp(prefix="demo-files-"))
    media = Path(settings.MEDIA_ROOT)
    if media.exists():
        shutil.copytree(media, files, dirs_exist_ok=True)
    return Snapshot(connection.vendor, tables, files)


def _restore(snapshot: Snapshot) -> None:
    with transaction.atomic():
        raw = connection.connection.cursor()
        # The test flush (on PostgreSQL ``tests.db_setup.delete_flush_sql``: DELETE with the
        # foreign keys deferred, not a TRUNCATE of every table; on SQLite DELETE anyway).
        for sql in connection.ops.sql_flush(no_style(), list(snapshot.tables)):
            raw.execute(sql)
        if snapshot.vendor == "postgresql":
            for table, (_columns, data) in snapshot.tables.items():
                if data:
                    with raw.copy(f"COPY {_quote(table)} FROM STDIN") as copy:
                        copy.write(data)
            models = apps.get_models(include_auto_created=True)
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                raw.execute(sql)
        else:
            for table, (columns, rows) in snapshot.tables.items():
                if rows:
                    marks = ", ".join("?" for _ in columns)
                    names_sql = ", ".join(_quote(c) for c in columns)
                    raw.executemany(
                        f"INSERT INTO {_quote(table)} ({names_sql}) VALUES ({marks})", rows
                    )
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    shutil.copytree(snapshot.files, media, dirs_exist_ok=True)
    ContentType.objects.clear_cache()
    cache.clear()


def load_demo() -> object:
    """Put the demo data set in the test database; returns ``demo.plan.demo_password``.

    The first call in a process builds it (``build_demo`` with its PDFs stubbed) and keeps a
    snapshot; later calls restore the snapshot instead, replacing whatever the tables hold.
    """
    global _snapshot
    from demo.build import build_demo
    from demo.plan import demo_password

    if _snapshot is not None and _snapshot.vendor == connection.vendor:
        _restore(_snapshot)
        return demo_password
    with (
        mock.patch("certificates.pdf.render_certificate_pdf", return_value=STUB_PDF),
        mock.patch("certificates.notices.render_notice_pdf", return_value=STUB_PDF),
    ):
        build_demo()
    _snapshot = _take()
    return demo_password
