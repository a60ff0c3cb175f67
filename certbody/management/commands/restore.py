"""``manage.py restore ARCHIVE [--force]``: restore a ``manage.py backup`` archive, then verify.

Checks the archive against its manifest before changing anything, refuses a target database
with tables or a MEDIA_ROOT with files unless ``--force``, restores the database and the files,
and checks every stored-file row's SHA-256 against the restored file; exits non-zero listing
any mismatch. Stop the application, the workers and beat first. See ``certbody.backup``.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certbody.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore the database and MEDIA_ROOT from a backup archive (verified first), then "
        "check every stored document's SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="overwrite a database that has tables and files of the same name",
        )
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args, archive: Path, force: bool, database: str, **options):
        try:
            result = restore(archive=archive, force=force, using=database)
        except BackupError as exc:
            raise CommandError("\n".join([str(exc), *exc.problems])) from exc
        self.stdout.write(
            f"restored {result.database} and {result.files} file(s); "
            f"{result.checked} file row(s) checked"
        )
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.pending_migrations)} migration(s) of this version are not "
                    "applied to the restored database: run manage.py migrate"
                )
            )
        if result.problems:
            for problem in result.problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(result.problems)} stored file(s) missing or mismatched")
        self.stdout.write(self.style.SUCCESS("restore verified"))
