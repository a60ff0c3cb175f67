"""manage.py backup / restore: one consistent archive, verified before and after restoring."""

import io
import json
import sqlite3
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from certbody.backup import BackupError, backup_create, read_archive, restore
from certificates.models import CertificateDocument
from certificates.pdf import store_document
from tests.certificates.factories import Staff, issued_certificate

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="restores into a fresh SQLite file"
)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump/pg_restore need PostgreSQL (DATABASE_URL)"
)


def _documents(staff) -> list[CertificateDocument]:
    """Stored documents with distinct contents: a certificate's PDFs and two notices."""
    certificate = issued_certificate(staff=staff)
    for n in range(2):
        store_document(
            kind=CertificateDocument.Kind.SUSPENSION_NOTICE,
            content=f"%PDF-1.7\n% notice {n} 中文\n%%EOF\n".encode(),
            actor=staff.decider,
            certificate=certificate,
        )
    documents = list(CertificateDocument.objects.order_by("pk"))
    assert len(documents) >= 3
    return documents


def _rewrite(archive: Path, target: Path, change) -> None:
    """Copy ``archive`` to ``target`` with ``change(name, data) -> data`` applied."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as sink:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            sink.addfile(member, io.BytesIO(data))


@pytest.fixture
def archive(tmp_path, cb, settings):
    staff = Staff()
    documents = _documents(staff)
    (Path(settings.MEDIA_ROOT) / "orphan.txt").write_bytes(b"written by nothing")
    out = StringIO()
    call_command("backup", output=tmp_path, stdout=out)
    path = next(tmp_path.glob("certbody-backup-*.tar"))
    assert str(path) in out.getvalue() and "backup complete" in out.getvalue()
    return path, documents


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_fresh_sqlite_database_with_every_hash_verified(archive, tmp_path):
    path, documents = archive
    with tarfile.open(path) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "database.sqlite3" and names[-1] == "manifest.json"
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert {d.file.name: d.sha256 for d in documents}.items() <= listed.items()
    assert "orphan.txt" in listed
    assert manifest["engine"] == "sqlite" and manifest["problems"] == []
    assert "0001_initial" in manifest["migrations"]["certificates"]

    fresh_db, fresh_media = tmp_path / "fresh.sqlite3", tmp_path / "fresh-media"
    result = restore(
        archive=path,
        database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(fresh_db)},
        media_root=fresh_media,
    )
    assert result.problems == [] and result.pending_migrations == []
    assert result.checked >= len(documents)
    # Every document of the restored database, by its own recorded hash.
    with sqlite3.connect(fresh_db) as restored:
        rows = restored.execute(
            f"SELECT file, sha256 FROM {CertificateDocument._meta.db_table}"
        ).fetchall()
    assert sorted(rows) == sorted((d.file.name, d.sha256) for d in documents)
    for document in documents:
        assert (fresh_media / document.file.name).read_bytes() == document.file.read()
    assert (fresh_media / "orphan.txt").read_bytes() == b"written by nothing"

    # Restoring over a database with tables needs force; force puts damaged files right.
    target = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(fresh_db)}
    with pytest.raises(BackupError, match="not empty"):
        restore(archive=path, database=target, media_root=fresh_media)
    (fresh_media / documents[0].file.name).write_bytes(b"damaged")
    result = restore(archive=path, database=target, media_root=fresh_media, force=True)
    assert result.problems == []


@pytest.mark.django_db(transaction=True)
def test_a_tampered_archive_is_refused_before_anything_is_touched(archive, tmp_path):
    path, documents = archive
    victim = documents[-1].file.name
    tampered = tmp_path / "tampered.tar"
    _rewrite(
        path, tampered, lambda name, data: b"%PDF forged" if name == f"media/{victim}" else data
    )
    fresh_db, fresh_media = tmp_path / "fresh.sqlite3", tmp_path / "fresh-media"
    with pytest.raises(BackupError) as refused:
        restore(
            archive=tampered,
            database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(fresh_db)},
            media_root=fresh_media,
        )
    assert refused.value.problems == [f"media/{victim}: size or SHA-256 differs from the manifest"]
    assert not fresh_db.exists() and not fresh_media.exists()

    # A member the manifest does not list (e.g. a path outside MEDIA_ROOT) is refused too.
    extra = tmp_path / "extra.tar"
    with tarfile.open(path) as source, tarfile.open(extra, "w") as sink:
        for member in source.getmembers():
            sink.addfile(member, source.extractfile(member))
        info = tarfile.TarInfo("media/../../evil.txt")
        info.size = 4
        sink.addfile(info, io.BytesIO(b"evil"))
    with pytest.raises(BackupError) as refused:
        read_archive(extra, tmp_path / "staging")
    assert refused.value.problems == [
        "media/../../evil.txt: in the archive but not in the manifest"
    ]

    # A database made by a newer version (a migration this code lacks) is refused.
    def future(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"]["certificates"].append("9999_future")
        return json.dumps(manifest).encode()

    newer = tmp_path / "newer.tar"
    _rewrite(path, newer, future)
    with pytest.raises(BackupError, match="newer version") as refused:
        restore(
            archive=newer,
            database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(fresh_db)},
            media_root=fresh_media,
        )
    assert refused.value.problems == ["migration certificates.9999_future is unknown here"]
    assert not fresh_db.exists() and not fresh_media.exists()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_restore_command_refuses_a_database_with_tables_and_reports_mismatches(
    archive, tmp_path, settings
):
    path, documents = archive
    # The test database has tables: refused without --force.
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(path), stdout=StringIO())
    # A row whose recorded hash no longer matches its file: the backup is written but exits
    # non-zero naming the row, and so does the restore's verification.
    doc = documents[0]
    CertificateDocument.objects.filter(pk=doc.pk).update(sha256="0" * 64)
    out = StringIO()
    with pytest.raises(CommandError, match="missing or damaged"):
        call_command("backup", output=tmp_path / "second.tar", stdout=StringIO(), stderr=out)
    assert f"certificates.CertificateDocument #{doc.pk} file" in out.getvalue()
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    err = StringIO()
    with pytest.raises(CommandError, match="1 stored file"):
        call_command(
            "restore", str(tmp_path / "second.tar"), force=True, stdout=StringIO(), stderr=err
        )
    assert (
        f"certificates.CertificateDocument #{doc.pk} file: {doc.file.name} has SHA-256"
        in err.getvalue()
    )


def test_a_backup_inside_a_transaction_is_refused(db, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("pg_dump runs on its own connection")
    with pytest.raises(BackupError, match="inside a transaction"):
        backup_create(output=tmp_path)
    assert list(tmp_path.iterdir()) == []


RESTORE_DB = "certbody_ops_restore"


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_postgres_backup_restores_into_a_fresh_database(archive, tmp_path):
    import psycopg

    path, documents = archive
    source = connection.settings_dict
    admin = {
        k: v
        for k, v in {
            "dbname": "postgres",
            "user": source["USER"],
            "password": source["PASSWORD"],
            "host": source["HOST"],
            "port": source["PORT"],
        }.items()
        if v
    }
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {RESTORE_DB}")
        conn.execute(f"CREATE DATABASE {RESTORE_DB}")
    try:
        target = {**source, "NAME": RESTORE_DB}
        fresh_media = tmp_path / "fresh-media"
        result = restore(archive=path, database=target, media_root=fresh_media)
        assert result.problems == [] and result.checked >= len(documents)
        with psycopg.connect(**{**admin, "dbname": RESTORE_DB}) as conn:
            rows = conn.execute(
                f"SELECT file, sha256 FROM {CertificateDocument._meta.db_table}"
            ).fetchall()
        assert sorted(rows) == sorted((d.file.name, d.sha256) for d in documents)
        with pytest.raises(BackupError, match="not empty"):
            restore(archive=path, database=target, media_root=tmp_path / "other")
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {RESTORE_DB} WITH (FORCE)")


def test_every_stored_file_model_is_checked_by_its_hash_where_it_records_one():
    from certbody.backup import stored_file_models

    models = {model._meta.label: hashed is not None for model, _, hashed in stored_file_models()}
    assert models == {
        "applications.ApplicationDocument": True,
        "applications.PendingUpload": True,
        "applications.RejectionNotice": True,
        "audits.NonconformityAttachment": True,
        "audits.AuditReport": True,
        "audits.AuditMeeting": False,  # the sign-in sheet: no recorded hash, checked for presence
        "certificates.CertificateDocument": True,
        "reporting.ReportRun": False,  # XLSX and CSV, no recorded hash: checked for presence
    }
