"""``manage.py backup [--output DIR|FILE.tar]``: the database and MEDIA_ROOT in one archive.

See ``certbody.backup`` for the archive's contents and why the database dump and the files
copied after it are one consistent moment. Exits non-zero when a file the database references
is missing or damaged (the archive is still written, with the problems in its manifest).
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certbody.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup or pg_dump -Fc) and every file under "
        "MEDIA_ROOT into one timestamped tar archive with a SHA-256 manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="directory for certbody-backup-<time>.tar, or a FILE.tar "
            "(default: <CERTBODY_VAR_DIR>/backups)",
        )
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, output: Path | None, database: str, **options):
        if output is None:
            output = Path(settings.VAR_DIR) / "backups"
            output.mkdir(parents=True, exist_ok=True)
        try:
            result = backup_create(output=output, using=database)
        except BackupError as exc:
            raise CommandError("\n".join([str(exc), *exc.problems])) from exc
        self.stdout.write(
            f"{result.path}: database and {result.files} file(s); "
            f"{result.referenced} file row(s) checked"
        )
        if result.problems:
            for problem in result.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"{len(result.problems)} referenced file(s) missing or damaged on this system; "
                "the archive was written and lists them"
            )
        self.stdout.write(self.style.SUCCESS("backup complete"))
