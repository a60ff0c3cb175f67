"""Rebuild every certificate's public row (certificates.public_rows; issue #16).

Normally unnecessary: the rows follow every save. Use after writing certificates by raw SQL."""

from django.core.management.base import BaseCommand
from django.db import transaction

from certificates.public_rows import public_rows_refresh_all


class Command(BaseCommand):
    help = "Rebuild the precomputed public record of every certificate."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = public_rows_refresh_all()
        self.stdout.write(f"{count} public certificate rows rebuilt")
