from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from certbody.models import CalendarDay, CalendarYear
from certbody.workdays import load_package_calendar, package_years


class Command(BaseCommand):
    help = (
        "Load (or refresh) statutory holidays and make-up working days from the chinesecalendar "
        "package into the calendar table. Idempotent; rows edited by staff are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year",
            type=int,
            action="append",
            dest="years",
            help="Only this year (repeatable); default: every year the package covers.",
        )

    def handle(self, *args, years=None, **options):
        try:
            with transaction.atomic():
                result = load_package_calendar(CalendarDay, CalendarYear, years)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        covered = package_years()
        self.stdout.write(
            f"calendar: {len(result.years)} year(s) loaded "
            f"(package covers {covered[0]}–{covered[-1]}); {result.created} created, "
            f"{result.updated} updated, {result.deleted} deleted, "
            f"{result.kept_staff} staff-edited kept"
        )
