"""``manage.py seed_demo``: the demo CB, its staff and clients, every lifecycle state.

Deterministic (``random.Random(2026)``) and idempotent: when the demo is already there (its
first organisation's USCC exists) nothing is created and only the log-ins are printed.
Everything goes through the services; see the demo package (demo/) for the stories.
"""

import time

from django.core.management.base import BaseCommand

from certbody.roles import STAFF_ROLES
from demo.build import DemoResult, build_demo

OTHER_ROLES = {"superuser": "超级用户（系统管理）", "client": "获证组织用户"}


class Command(BaseCommand):
    help = (
        "Seed the demo data (CB profile, staff and client users, ~30 organisations with "
        "applications, audits and certificates in every state) and print the demo log-ins. "
        "Does nothing but print the log-ins when the demo is already seeded."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        result = build_demo(log=lambda message: self.stdout.write(f"  {message}"))
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(f"Demo data created in {time.monotonic() - started:.1f} s.")
            )
        else:
            self.stdout.write(self.style.WARNING("Demo data already present; nothing created."))
        self._summary(result)
        self._logins(result)

    def _summary(self, result: DemoResult) -> None:
        self.stdout.write("")
        for group, counts in result.counts.items():
            shown = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
            self.stdout.write(f"{group:<20} {shown or '-'}")

    def _logins(self, result: DemoResult) -> None:
        self.stdout.write("")
        self.stdout.write("Demo log-ins (password rule: demo-<username>-2026)")
        # Chinese text is double width in a terminal: the aligned columns come first.
        rows = [("username", "password", "role · name · organisation")]
        for login in result.logins:
            role = str(OTHER_ROLES.get(login.role) or STAFF_ROLES[login.role])
            parts = (role, login.display_name, login.organization)
            who = " · ".join(part for part in parts if part)
            rows.append((login.username, login.password, who))
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        for n, (username, password, who) in enumerate(rows):
            self.stdout.write(f"{username:<{widths[0]}}  {password:<{widths[1]}}  {who}")
            if n == 0:
                self.stdout.write(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 26}")
