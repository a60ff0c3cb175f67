"""``manage.py import_register FILE.xlsx [--commit] [--user USERNAME]``.

Checks an existing certificate register (XLSX with the columns of the monthly
获证组织基本信息月报, one row per certificate event; see ``certificates.importer``) and lists every
row's problems. Nothing is written unless ``--commit`` is given and the file has no problem at
all; then everything is imported in one transaction.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from certbody.lifecycle import system_user
from certificates.importer import ImportRefused, analyze, import_register


class Command(BaseCommand):
    help = (
        "Dry-run (default) or import (--commit) a certificate register XLSX: organisations, "
        "certificates and their status history, all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--commit", action="store_true", help="write when the file has no problems"
        )
        parser.add_argument(
            "--user", default="", help="username recorded as importing (default: system)"
        )

    def handle(self, *args, path: Path, commit: bool, user: str, **options):
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = system_user()
        if user:
            actor = get_user_model().objects.filter(username=user, is_staff=True).first()
            if actor is None:
                raise CommandError(f"no staff user {user!r}")
        try:
            result = import_register(path.read_bytes(), actor=actor, dry_run=not commit)
        except ImportRefused as exc:
            result = exc.result
        for problem in result.problems:
            self.stdout.write(self.style.ERROR(str(problem)))
        self.stdout.write(
            f"{result.rows} rows ({result.skipped_rows} surveillance rows skipped): "
            f"{len(result.problems)} problem(s)"
        )
        if result.written:
            analyze()
            self.stdout.write(
                self.style.SUCCESS(
                    f"imported {result.organisations} organisations "
                    f"({result.organisations_existing} already present), "
                    f"{result.certificates} certificates, {result.events} events"
                )
            )
        elif commit:
            raise CommandError("nothing imported: fix the problems listed above")
        else:
            self.stdout.write("dry run: nothing written (use --commit to import)")
