"""``manage.py export_register FILE.xlsx|FILE.csv``: the whole certificate register.

Every certificate event in the columns of the monthly 获证组织基本信息月报 (``reports.register``),
as XLSX or as CSV (UTF-8 with BOM) by the file's extension; ``import_register`` reads the XLSX
back.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certbody import spreadsheets
from reporting import reports


class Command(BaseCommand):
    help = "Export the certificate register (every certificate event) to XLSX or CSV."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        suffix = path.suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise CommandError("the file name must end in .xlsx or .csv")
        report = reports.register()
        content = spreadsheets.to_xlsx(report) if suffix == ".xlsx" else spreadsheets.to_csv(report)
        path.write_bytes(content)
        self.stdout.write(self.style.SUCCESS(f"{report.row_count} rows written to {path}"))
