"""Staff-list benchmark of ``scripts/bench.py`` (issue #16), in-process through Django's test
client on the benchmark database: the certificates, audits and organisations desks, first and
last page, and with a search term, as a signed-in member of every staff role (two-factor
enforcement off: the benchmark measures the lists, not the log-in). Rolled back afterwards."""

from __future__ import annotations

import statistics
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from certificates.models import Certificate

DESKS = ("certificates", "audits", "organizations")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def lists(*, rounds: int = 10) -> dict:
    """p95 and median milliseconds over ``rounds`` × (3 desks × first page, last page, search)
    GETs, after one warm-up round; any answer other than 200 is counted as an error."""
    name = Certificate.objects.order_by("pk").values_list("organization_name", flat=True).first()
    term = (name or "公司")[:2]
    timings: list[float] = []
    by_desk: dict[str, list[float]] = {desk: [] for desk in DESKS}
    errors = 0
    with override_settings(STAFF_REQUIRE_2FA=False), transaction.atomic():
        user = get_user_model().objects.create_user(
            username="bench-lists", password=None, is_staff=True
        )
        user.groups.set(Group.objects.all())
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(user)
        queries = [{}, {"page": "1000000000"}, {"q": term}]
        for round_ in range(rounds + 1):
            for desk in DESKS:
                url = reverse("workspace:list", args=[desk])
                for params in queries:
                    started = time.perf_counter()
                    status = client.get(url, params).status_code
                    seconds = time.perf_counter() - started
                    if status != 200:
                        errors += 1
                    elif round_:  # the first round warms up
                        timings.append(seconds)
                        by_desk[desk].append(seconds)
        transaction.set_rollback(True)
    if not timings:
        return {"errors": errors}
    return {
        "requests": len(timings),
        "errors": errors,
        "median_ms": round(statistics.median(timings) * 1000, 1),
        "p95_ms": round(percentile(timings, 0.95) * 1000, 1),
        **{
            f"{desk}_p95_ms": round(percentile(values, 0.95) * 1000, 1)
            for desk, values in by_desk.items()
            if values
        },
    }
