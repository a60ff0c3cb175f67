"""``manage.py generate_data --certificates N [--seed S] [--batch B]``: benchmark data, bulk
inserted bypassing the services (``demo.generate`` says what and how)."""

import time

from django.core.management.base import BaseCommand

from certificates.importer import analyze
from demo.generate import generate


class Command(BaseCommand):
    help = (
        "Bulk-generate N certificates (sub-certificates included) with their organisations, "
        "applications, programmes, audits, decisions and events, bypassing the services, for "
        "benchmarks. Deterministic for a seed; running it again adds N more."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--certificates", type=int, required=True, help="certificate rows to add"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--batch", type=int, default=5000, help="certificates per transaction (default 5000)"
        )

    def handle(self, *args, certificates, seed, batch, **options):
        started = time.monotonic()
        counts = generate(certificates=certificates, seed=seed, batch=batch, log=self.stdout.write)
        analyze()
        elapsed = time.monotonic() - started
        self.stdout.write("rows created:")
        for label, n in counts.items():
            self.stdout.write(f"  {label:<40} {n:>9,}")
        self.stdout.write(f"  {'total':<40} {sum(counts.values()):>9,}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts['certificates.Certificate']:,} certificates in {elapsed:.1f} s"
            )
        )
