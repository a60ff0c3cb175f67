"""Backup and restore: the database and the stored files (MEDIA_ROOT) of one moment, in one tar.

``backup_create`` writes ``certbody-backup-<local time>.tar`` holding

- ``database.sqlite3`` (SQLite, copied with sqlite3's online backup API through the live
  connection) or ``database.pgdump`` (PostgreSQL, ``pg_dump -Fc``);
- ``media/<path>``: every file under MEDIA_ROOT;
- ``manifest.json`` (last): the format, the time, the app version, the database engine, the
  dump's size and SHA-256, the migrations applied in the dump, every file's relative path,
  size and SHA-256, and the problems found while checking the files against the dump.

**Why this is one consistent moment.** The database dump is the reference point, taken first.
Every stored file (certificate PDFs, audit reports, uploads) is written under a new, unique name
*before* the row that references it is committed (``certificates.pdf.store_document``,
``certbody.uploads.save``), and is never rewritten afterwards. So every row in the dump names a
file that already existed, complete, when the dump was taken, and the file copy made after the
dump finds it unchanged. Files written after the dump are copied too when they are found, but
no row of the dump references them: they are harmless orphans after a restore. On PostgreSQL
``pg_dump`` runs on a snapshot exported from a REPEATABLE READ transaction
(``pg_export_snapshot``), and the list of referenced files is read in that same transaction, so
both see exactly the same rows; on SQLite the list is read from the copied database file.
After the copy every referenced file is checked against the copy (present; SHA-256 equal to the
row's ``sha256`` where the model records one); a problem (a file deleted or damaged on the live
system) is listed in the manifest and reported, and the archive is still written — a backup
with one damaged file beats none.

``restore`` checks the archive against its manifest before it touches anything (every member's
size and SHA-256, no member missing or extra, no path outside the archive), refuses a database
of the other engine, refuses a target database that has any table or a MEDIA_ROOT that has any
file unless ``force`` is given, refuses a dump with migrations this code does not have (made by
a newer version) unless ``force``, restores the database (SQLite: the online backup API into the
target file; PostgreSQL: ``pg_restore --clean --if-exists --no-owner --single-transaction``),
then the files, and finally checks every stored-file row of the restored database against the
restored files. The manifest's hashes detect damage and truncation, not a forger who rewrites
the manifest too: keep archives where only operators can write.

Stored-file rows are found from the models (``apps.get_models()``): every ``FileField`` column,
checked against the model's ``sha256`` column when it has one and exactly one file field
(``CertificateDocument``, ``AuditReport``, ``ApplicationDocument``, NC attachments); files of
other models (report runs' XLSX/CSV) are checked for presence.

Restore while the application, the workers and beat are stopped.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.db import connections, models
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
# libpq settings Django's OPTIONS may carry, passed on to pg_dump/pg_restore and psycopg.
LIBPQ_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "options")


class BackupError(Exception):
    """A backup or restore refused; ``problems`` lists the details (one line each)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass(frozen=True)
class StoredFile:
    """One file a database row references."""

    label: str  # "certificates.CertificateDocument #12 file"
    name: str  # path relative to MEDIA_ROOT, as stored in the column
    sha256: str  # the row's recorded SHA-256 (hex), "" when the model records none


@dataclass
class BackupResult:
    path: Path
    files: int = 0
    referenced: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    database: str
    files: int = 0
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    # Migrations of this code the restored database lacks ("app.name"): run ``migrate``.
    pending_migrations: list[str] = field(default_factory=list)


# --- helpers shared by both directions ------------------------------------------------------


def _engine(settings_dict: dict) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith(("postgresql", "postgis")):
        return "postgresql"
    raise BackupError(f"unsupported database engine {engine}")


def _sha256_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stored_file_models() -> list[tuple[type[models.Model], list, models.Field | None]]:
    """Every model with file fields: ``(model, its FileFields, its sha256 field or None)``.

    The hash is used only when the model has exactly one file field (which file would it be
    of otherwise?). Historical models (simple-history) keep file names as text: not listed.
    """
    found = []
    for model in apps.get_models():
        meta = model._meta
        file_fields = [f for f in meta.concrete_fields if isinstance(f, models.FileField)]
        if not file_fields:
            continue
        hashed = next((f for f in meta.concrete_fields if f.name == "sha256"), None)
        found.append((model, file_fields, hashed if len(file_fields) == 1 else None))
    return found


def file_references(cursor, tables: set[str]) -> list[StoredFile]:
    """Every file referenced by a row of the database behind ``cursor`` (any DB-API cursor:
    sqlite3, psycopg), read with plain SQL from the models' tables found in ``tables``."""
    found = []
    for model, file_fields, hashed in stored_file_models():
        meta = model._meta
        if meta.db_table not in tables:
            continue
        columns = [meta.pk.column, *(f.column for f in file_fields)]
        if hashed is not None:
            columns.append(hashed.column)
        cursor.execute(
            f"SELECT {', '.join(map(_quote, columns))} FROM {_quote(meta.db_table)} "
            f"ORDER BY {_quote(meta.pk.column)}"
        )
        for row in cursor.fetchall():
            pk, names = row[0], row[1 : 1 + len(file_fields)]
            digest = row[-1] if hashed is not None else ""
            for file_field, name in zip(file_fields, names, strict=True):
                if name:
                    found.append(
                        StoredFile(f"{meta.label} #{pk} {file_field.name}", name, digest or "")
                    )
    return found


def _check_references(references: list[StoredFile], lookup) -> list[str]:
    """Problems of ``references``; ``lookup(name)`` gives the file's SHA-256 or None (absent)."""
    problems = []
    for ref in references:
        actual = lookup(ref.name)
        if actual is None:
            problems.append(f"{ref.label}: {ref.name} is missing")
        elif ref.sha256 and actual != ref.sha256:
            problems.append(f"{ref.label}: {ref.name} has SHA-256 {actual}, not {ref.sha256}")
    return problems


def _libpq_env(settings_dict: dict) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for key in LIBPQ_OPTIONS:
        if options.get(key):
            env[f"PG{key.upper().replace('_', '')}"] = str(options[key])
    return env


def _pg_connect(settings_dict: dict):
    import psycopg

    params = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
    }
    options = settings_dict.get("OPTIONS") or {}
    params.update({k: options[k] for k in LIBPQ_OPTIONS if options.get(k)})
    return psycopg.connect(**{k: v for k, v in params.items() if v not in (None, "")})


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(
            f"{command[0]} not found: install the PostgreSQL client (Debian: postgresql-client)"
        ) from exc
    if completed.returncode != 0:
        raise BackupError(
            f"{command[0]} failed (exit {completed.returncode})",
            completed.stderr.strip().splitlines(),
        )


def _sqlite_connect(name) -> sqlite3.Connection:
    # Django's in-memory test databases are URIs ("file:memorydb_default?mode=memory&…").
    name = str(name)
    return sqlite3.connect(name, uri=name.startswith("file:"))


def _sqlite_tables(cursor) -> set[str]:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in cursor.fetchall()}


def _pg_tables(cursor) -> set[str]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )
    return {row[0] for row in cursor.fetchall()}


def _migrations(cursor, tables: set[str]) -> dict[str, list[str]]:
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


def _app_version() -> str:
    try:
        return metadata.version("certbody")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- backup ---------------------------------------------------------------------------------


class _HashingReader:
    """A file object that hashes what ``tarfile`` reads from it."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _dump_sqlite(using: str, target: Path) -> tuple[list[StoredFile], dict]:
    connection = connections[using]
    if connection.in_atomic_block:
        # The backup API copies what this connection sees, uncommitted writes included.
        raise BackupError("a backup cannot be taken inside a transaction")
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): the whole database under one read lock, a single moment.
        connection.connection.backup(copy)
        cursor = copy.cursor()
        tables = _sqlite_tables(cursor)
        return file_references(cursor, tables), _migrations(cursor, tables)
    finally:
        copy.close()


def _dump_postgresql(settings_dict: dict, target: Path) -> tuple[list[StoredFile], dict]:
    import psycopg

    with _pg_connect(settings_dict) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            # pg_dump sees exactly this transaction's snapshot; so do the queries below.
            _run(
                ["pg_dump", "-Fc", f"--snapshot={snapshot}", "--no-password", "-f", str(target)],
                _libpq_env(settings_dict),
            )
            tables = _pg_tables(cursor)
            return file_references(cursor, tables), _migrations(cursor, tables)


def backup_create(*, output: Path, using: str = "default") -> BackupResult:
    """Write a backup archive of database ``using`` and ``settings.MEDIA_ROOT`` into ``output``.

    Args:
        output: an existing directory (the archive is ``certbody-backup-<YYYYmmdd-HHMMSS>.tar``
            in local time inside it) or a path ending in ``.tar``.
        using: the database alias (its ``settings_dict``: under tests, the test database).

    Returns:
        ``BackupResult``: the archive's path, the number of files copied and of file rows, and
        the problems found (referenced files missing or with another SHA-256; also listed in
        the manifest). The archive is written even with problems.

    Raises:
        BackupError: unsupported engine, ``output`` inside MEDIA_ROOT, ``pg_dump`` missing or
            failing, called inside a transaction (SQLite). No archive is left behind.
    """
    settings_dict = connections[using].settings_dict
    engine = _engine(settings_dict)
    media_root = Path(settings.MEDIA_ROOT).resolve()
    now = timezone.localtime()
    output = Path(output)
    path = (
        output
        if output.suffix == ".tar"
        else output / f"certbody-backup-{now.strftime('%Y%m%d-%H%M%S')}.tar"
    )
    if not path.parent.is_dir():
        raise BackupError(f"no such directory: {path.parent}")
    if path.exists():
        raise BackupError(f"{path} already exists")
    if path.resolve().is_relative_to(media_root):
        raise BackupError("the backup cannot be written inside MEDIA_ROOT")
    partial = path.with_name(path.name + ".partial")
    result = BackupResult(path=path)
    try:
        with tempfile.TemporaryDirectory(prefix="certbody-backup-") as tmp:
            dump = Path(tmp) / DUMP_NAMES[engine]
            # 1. The database: the reference point.
            if engine == "sqlite":
                references, migrations = _dump_sqlite(using, dump)
            else:
                references, migrations = _dump_postgresql(settings_dict, dump)
            dump_size, dump_sha = _sha256_file(dump)
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
                archive.add(dump, arcname=dump.name, recursive=False)
                # 2. The files, after the dump (see the module docstring).
                files = _add_media(archive, media_root)
                # 3. The dump's rows against the files copied.
                result.problems = _check_references(
                    references, lambda name: files[name]["sha256"] if name in files else None
                )
                manifest = {
                    "format": FORMAT,
                    "created_at": now.isoformat(),
                    "app_version": _app_version(),
                    "engine": engine,
                    "database": {"path": dump.name, "size": dump_size, "sha256": dump_sha},
                    "migrations": migrations,
                    "files": sorted(files.values(), key=lambda f: f["path"]),
                    "referenced_files": len(references),
                    "problems": result.problems,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(now.timestamp())
                archive.addfile(info, io.BytesIO(data))
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    result.files = len(files)
    result.referenced = len(references)
    return result


def _add_media(archive: tarfile.TarFile, media_root: Path) -> dict[str, dict]:
    files: dict[str, dict] = {}
    if not media_root.is_dir():
        return files
    for directory, dirnames, filenames in os.walk(media_root):
        dirnames.sort()
        for filename in sorted(filenames):
            source = Path(directory) / filename
            if source.is_symlink() or not source.is_file():
                continue
            name = source.relative_to(media_root).as_posix()
            info = archive.gettarinfo(source, arcname=MEDIA_PREFIX + name)
            with open(source, "rb") as handle:
                reader = _HashingReader(handle)
                archive.addfile(info, reader)
            if reader.size != info.size:
                raise BackupError(f"{name} changed size while it was copied")
            files[name] = {"path": name, "size": reader.size, "sha256": reader.digest.hexdigest()}
    return files


# --- restore --------------------------------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def read_archive(archive: Path, staging: Path) -> dict:
    """Extract ``archive`` into ``staging`` and check it against its manifest.

    Returns the manifest. Raises ``BackupError`` (with every problem) when the archive cannot
    be read, has no or an unknown manifest, or any member is missing, extra, not a regular file,
    outside the archive, or of another size or SHA-256 than the manifest says.
    """
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 (closed by the "with tar" below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive}: {exc}") from exc
    with tar:
        try:
            members = tar.getmembers()
            by_name = {m.name: m for m in members}
            if MANIFEST not in by_name:
                raise BackupError(f"{archive} has no {MANIFEST}: not a certbody backup")
            manifest = json.loads(tar.extractfile(by_name[MANIFEST]).read())
        except (tarfile.TarError, OSError, ValueError) as exc:
            raise BackupError(f"cannot read {archive}: {exc}") from exc
        if manifest.get("format") != FORMAT or manifest.get("engine") not in DUMP_NAMES:
            raise BackupError(f"{archive}: unknown backup format")
        expected = {manifest["database"]["path"]: manifest["database"]}
        expected.update({MEDIA_PREFIX + f["path"]: f for f in manifest["files"]})
        problems = []
        for name in sorted(set(expected) - set(by_name)):
            problems.append(f"{name}: listed in the manifest but not in the archive")
        for member in members:
            name = member.name
            if name == MANIFEST:
                continue
            if name not in expected:
                problems.append(f"{name}: in the archive but not in the manifest")
                continue
            if not member.isfile() or not _safe_member_name(name):
                problems.append(f"{name}: not a regular file inside the archive")
                continue
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            size = 0
            try:
                with tar.extractfile(member) as source, open(target, "wb") as sink:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        sink.write(chunk)
            except (tarfile.TarError, OSError) as exc:
                problems.append(f"{name}: cannot be read ({exc})")
                continue
            want = expected[name]
            if size != want["size"] or digest.hexdigest() != want["sha256"]:
                problems.append(f"{name}: size or SHA-256 differs from the manifest")
        if problems:
            raise BackupError(
                f"{archive} does not match its manifest: nothing was restored", problems
            )
    return manifest


def _is_empty(engine: str, settings_dict: dict, media_root: Path) -> list[str]:
    """What the target already holds ([] when it is empty)."""
    held = []
    if engine == "sqlite":
        name = str(settings_dict["NAME"])
        if name.startswith("file:") or (Path(name).exists() and Path(name).stat().st_size):
            conn = _sqlite_connect(name)
            try:
                if _sqlite_tables(conn.cursor()):
                    held.append(f"the database {name} has tables")
            finally:
                conn.close()
    else:
        with _pg_connect(settings_dict) as conn, conn.cursor() as cursor:
            if _pg_tables(cursor):
                held.append(f"the database {settings_dict['NAME']} has tables")
    if media_root.is_dir() and any(p.is_file() for p in media_root.rglob("*")):
        held.append(f"MEDIA_ROOT {media_root} has files")
    return held


def restore(
    *,
    archive: Path,
    force: bool = False,
    using: str = "default",
    database: dict | None = None,
    media_root: Path | None = None,
) -> RestoreResult:
    """Restore a ``backup_create`` archive into a database and a MEDIA_ROOT, then verify it.

    Args:
        archive: the ``.tar`` file.
        force: overwrite a target database that has tables / a MEDIA_ROOT that has files
            (files of the same name are replaced; others are left).
        using: the alias whose connection is closed before the database is replaced.
        database: the target's settings dict (default: ``connections[using].settings_dict``).
        media_root: the target MEDIA_ROOT (default: ``settings.MEDIA_ROOT``).

    Returns:
        ``RestoreResult``: the database name, files restored, file rows checked, and the
        problems of that check (a file missing or with another SHA-256 than its row's).

    Raises:
        BackupError: the archive does not match its manifest, is of the other engine, the
            target is not empty or the dump has migrations unknown here (without ``force``),
            or ``pg_restore`` failed. Raised before
            anything is changed, except for a ``pg_restore`` failure (which, in one
            transaction, leaves the database as it was; no file has been written yet).
    """
    settings_dict = dict(database or connections[using].settings_dict)
    engine = _engine(settings_dict)
    media_root = Path(media_root or settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="certbody-restore-") as tmp:
        staging = Path(tmp)
        manifest = read_archive(Path(archive), staging)
        unknown, pending = _migration_difference(manifest["migrations"])
        if unknown and not force:
            raise BackupError(
                "the archive was made by a newer version of certbody: upgrade the code first "
                "(or use --force)",
                [f"migration {name} is unknown here" for name in unknown],
            )
        if manifest["engine"] != engine:
            raise BackupError(
                f"the archive holds a {manifest['engine']} database; the target is {engine}"
            )
        held = _is_empty(engine, settings_dict, media_root)
        if held and not force:
            raise BackupError("the target is not empty (use --force to overwrite)", held)
        dump = staging / manifest["database"]["path"]
        if settings_dict.get("NAME") == connections[using].settings_dict.get("NAME"):
            connections[using].close()
        if engine == "sqlite":
            source = sqlite3.connect(dump)
            target = _sqlite_connect(settings_dict["NAME"])
            try:
                # The backup API replaces every page of the target under its lock (WAL too).
                source.backup(target)
            finally:
                source.close()
                target.close()
        else:
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-password",
                    "-d",
                    settings_dict["NAME"],
                    str(dump),
                ],
                _libpq_env(settings_dict),
            )
        for entry in manifest["files"]:
            _install(staging / MEDIA_PREFIX / entry["path"], media_root / entry["path"])
    result = RestoreResult(
        database=str(settings_dict["NAME"]),
        files=len(manifest["files"]),
        pending_migrations=pending,
    )
    references = _references_of(engine, settings_dict)
    result.checked = len(references)
    result.problems = _check_references(references, lambda name: _disk_sha(media_root, name))
    return result


def _migration_difference(applied: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(migrations in the dump this code does not have, this code's migrations not in it)."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    done = {(app, name) for app, names in applied.items() for name in names}
    return (
        sorted(f"{app}.{name}" for app, name in done - known),
        sorted(f"{app}.{name}" for app, name in known - done),
    )


def _install(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(source, partial)
    partial.replace(target)


def _disk_sha(media_root: Path, name: str) -> str | None:
    path = media_root / name
    if not _safe_member_name(name) or not path.is_file():
        return None
    return _sha256_file(path)[1]


def _references_of(engine: str, settings_dict: dict) -> list[StoredFile]:
    if engine == "sqlite":
        conn = _sqlite_connect(settings_dict["NAME"])
        try:
            cursor = conn.cursor()
            return file_references(cursor, _sqlite_tables(cursor))
        finally:
            conn.close()
    with _pg_connect(settings_dict) as conn, conn.cursor() as cursor:
        return file_references(cursor, _pg_tables(cursor))
