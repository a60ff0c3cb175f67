"""Staff-write benchmarks of ``scripts/bench.py`` (issue #16), in-process on the benchmark
database once the script has set Django up.

``writes``: grant, suspend, restore, withdraw and reissue through their services, each in its
own committed transaction with its on-commit hooks (as a request runs them: the documents are
queued and, without a broker, handed to the background thread), timed from the call to the
end of the commit. Candidates are picked from the data; one the rules refuse (``RuleViolation``)
is skipped and counted. Then the time until the queued documents are stored.

``concurrent_issues``: ``threads`` grants at once, one forked process and one database
connection each (PostgreSQL only: SQLite serialises writers), released together by a barrier;
certificates per second from the first grant's start to the last one's commit, and a check that
the certificate numbers issued are unique and gapless. Processes, not threads: concurrent grants
reach production through separate worker processes, and threads of one process would share one
core under Python's GIL. Documents follow after commit: in production (``REDIS_URL``) a grant
commits its pending document rows and publishes their ids to Celery, and a worker renders them;
the granting processes here do the same minus the broker (the ids are collected, no PDF is laid
out in the timed window), and the documents are rendered after the burst, timed apart
(``documents_followed_s``).
"""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from certbody import background, roles
from certbody.lifecycle import RuleViolation
from certificates import services
from certificates.desks.awaiting_decisions import GRANT_KINDS, awaiting_decision
from certificates.models import Certificate, CertificateDocument

Status = Certificate.Status


def _deciders():
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(groups__name=roles.DECISION_MAKER)
        .distinct()
        .order_by("pk")
    )


def _grant_candidates(limit: int) -> list:
    """Up to ``limit`` completed audits awaiting a grant; made when the data has too few
    (``prepare_grants``; generated data has every audit decided)."""
    found = list(awaiting_decision().filter(kind__in=GRANT_KINDS).order_by("pk")[:limit])
    if len(found) < limit:
        prepare_grants(limit - len(found))
        found = list(awaiting_decision().filter(kind__in=GRANT_KINDS).order_by("pk")[:limit])
    return found


def prepare_grants(count: int) -> None:
    """Make ``count`` completed stage 2 audits (application, programme, document review,
    stage 2 with its signed report and score sheet) through the services, with the test
    suite's factories (a development install); not timed."""
    from applications.models import Organization
    from tests.applications.factories import OrganizationFactory
    from tests.certificates.factories import Staff, completed_stage2

    # Numbers past every organisation already there (earlier runs made some too).
    OrganizationFactory.reset_sequence(500_000 + Organization.objects.count())
    staff = Staff()
    for _ in range(count):
        completed_stage2(OrganizationFactory(), staff)


def _grade(audit) -> str:
    """The submitted score sheet's grade, as the grant form shows it (004 §5.6.5.3)."""
    sheet = getattr(audit, "score_sheet", None)
    return sheet.grade if sheet is not None and sheet.state == sheet.State.SUBMITTED else ""


_deciders_lock = threading.Lock()


def _grant(audit, deciders, today):
    """Grant on ``audit`` by the first decider the rules accept, decided a week after the
    audit ended (or ``today``)."""
    ended = audit.actual_end
    decided_on = min(today, ended + timedelta(days=8)) if ended else today
    last = None
    for decider in deciders:
        try:
            decision = services.decision_make(
                audit=audit,
                actor=decider,
                outcome="grant",
                decided_on=decided_on,
                star_grade=_grade(audit),
            )
        except RuleViolation as exc:  # on the audit team, or another rule: try the next one
            last = exc
            continue
        with _deciders_lock:  # the next grant (and the other writes) start with this one
            if deciders[0] is not decider:
                deciders.remove(decider)
                deciders.insert(0, decider)
        return decision
    raise last or RuleViolation("no decider")


def _timed_commit(call) -> float:
    """Seconds for ``call()`` inside ``transaction.atomic()`` including the commit and its
    on-commit hooks (what a request pays before its response)."""
    started = time.perf_counter()
    with transaction.atomic():
        call()
    return time.perf_counter() - started


def writes(*, repeats: int = 5) -> dict:
    """Median and max milliseconds of each staff write over up to ``repeats`` candidates; the
    writes commit (use a database made for the benchmark)."""
    today = timezone.localdate()
    candidates = _grant_candidates(repeats * 3)  # may make audits (and their staff): first
    deciders = _deciders()
    if not deciders:
        return {"error": "no decision maker in the data"}
    actor = deciders[0]
    timings: dict[str, list[float]] = {n: [] for n in ("grant", "suspend", "restore", "withdraw")}
    timings["reissue"] = []
    refused: dict[str, int] = dict.fromkeys(timings, 0)

    def attempt(name, call):
        try:
            timings[name].append(_timed_commit(call))
            return True
        except RuleViolation:
            refused[name] += 1
            return False

    for audit in candidates:
        if len(timings["grant"]) >= repeats:
            break
        attempt("grant", lambda audit=audit: _grant(audit, deciders, today))
    actor = deciders[0]  # one a grant accepted, if any (decision makers must be registered)

    valid = Certificate.objects.filter(head__isnull=True, status=Status.VALID).order_by("-pk")
    for certificate in valid[: repeats * 3]:
        if len(timings["suspend"]) >= repeats:
            break
        suspended = attempt(
            "suspend",
            lambda c=certificate: services.certificate_suspend(
                certificate=c,
                actor=actor,
                cause=11,
                verified_on=today,
                starts_on=today,
                ends_on=today + timedelta(days=60),
                reason="bench",
            ),
        )
        if suspended:
            certificate.refresh_from_db()
            attempt(
                "restore",
                lambda c=certificate: services.certificate_restore(
                    certificate=c, actor=actor, restored_on=today, evidence="bench"
                ),
            )

    valid = Certificate.objects.filter(head__isnull=True, status=Status.VALID).order_by("pk")
    for certificate in valid[: repeats * 3]:
        if len(timings["reissue"]) >= repeats:
            break
        attempt(
            "reissue",
            lambda c=certificate: services.certificate_reissue(
                certificate=c,
                actor=actor,
                reason="01",
                reissued_on=today,
                changes={"organization_name": f"{c.organization_name}（更名）"},
                note="bench",
            ),
        )
    valid = Certificate.objects.filter(head__isnull=True, status=Status.VALID).order_by("pk")
    for certificate in valid[repeats * 3 : repeats * 6]:
        if len(timings["withdraw"]) >= repeats:
            break
        attempt(
            "withdraw",
            lambda c=certificate: services.certificate_withdraw(
                certificate=c,
                actor=actor,
                cause=8,
                verified_on=today,
                withdrawn_on=today,
                reason="bench",
            ),
        )

    started = time.perf_counter()
    background.wait(timeout=600)
    documents_s = time.perf_counter() - started
    figures: dict = {}
    for name, values in timings.items():
        figures[f"{name}_n"] = len(values)
        if values:
            figures[f"{name}_median_ms"] = round(statistics.median(values) * 1000, 1)
            figures[f"{name}_max_ms"] = round(max(values) * 1000, 1)
        if refused[name]:
            figures[f"{name}_refused"] = refused[name]
    medians = [statistics.median(values) for values in timings.values() if values]
    if medians:  # the target holds for each write: the slowest write's median
        figures["median_ms"] = round(max(medians) * 1000, 1)
    figures["documents_followed_s"] = round(documents_s, 1)
    figures["documents_pending"] = CertificateDocument.objects.filter(
        state=CertificateDocument.State.PENDING
    ).count()
    return figures


def concurrent_issues(*, threads: int = 20) -> dict:
    """``threads`` grants at once on PostgreSQL (one process and connection each), then their
    documents; returns the figures as a dict.

    Warm processes, as production's long-lived workers are: first one untimed grant in this
    process (its documents rendered), so the processes forked from it inherit compiled
    templates, translations and first-use caches; then each forked process grants one more
    decision, untimed, before the barrier: a process's first work after a fork also pays for
    its copy-on-write pages and a garbage collection (about 15–20 ms of CPU a process, measured
    on the grant; a worker serving requests pays that once, not per grant).

    The burst: every process waits at a barrier, then grants one decision in its own
    transaction (``_grant``, the ``certificates.services`` grant path with every check).
    ``certificates_per_s``: certificates issued by the timed grants (head and
    sub-certificates) over the seconds from the first timed grant's start to the last one's
    commit; ``grant_cpu_median_ms``: the
    median Python CPU time of one grant in its process (a figure a busy machine disturbs
    less than the wall clock). A grant's documents follow after
    commit, as with ``REDIS_URL`` in production: the pending ``CertificateDocument`` rows are
    committed with the grant and their ids, which a request would publish to the Celery broker
    (``certificates.pdf._dispatch``), are collected instead, so no PDF is laid out in the
    timed window (a broker publish is not timed either).

    After the burst, the collected documents are rendered one after another in this process
    (``pdf.document_render``, what the Celery task runs): ``documents_followed_s`` is that
    time, ``documents`` how many, ``documents_failed`` those still pending afterwards.

    Checks: the head certificates' sequence numbers (warm-up and timed grants) are unique and
    gapless (one run right after the year's last number before the forks); ``errors`` counts
    failed grants (the first is shown), never dropped from the figure.
    """
    if connection.vendor != "postgresql":
        return {"skipped": "PostgreSQL only (set DATABASE_URL)"}
    from certificates import pdf

    today = timezone.localdate()
    # Audits made for the burst, so none is refused for what the data lacks (a signed report).
    from audits.models import Audit

    newest = Audit.objects.aggregate(top=Max("pk"))["top"] or 0
    wanted = 2 * threads + 1  # the parent's warm-up, then a warm-up and a timed one a process
    prepare_grants(wanted)
    audits = list(
        awaiting_decision().filter(kind__in=GRANT_KINDS, pk__gt=newest).order_by("pk")[:wanted]
    )
    deciders = _deciders()  # after the preparation, which may have made the decision maker
    if len(audits) < wanted:
        return {"skipped": f"only {len(audits)} audits await a grant"}
    # A warm worker: production's processes live for many requests, so the processes forked
    # below inherit one grant's templates, translations and first-use caches from this
    # untimed grant (and render its documents: a Celery worker warms its PDFs at start-up).
    warm_up, *audits = audits
    warm_documents: list[int] = []
    dispatch, pdf._dispatch = pdf._dispatch, warm_documents.append
    try:
        with transaction.atomic():
            _grant(warm_up, deciders, today)
    finally:
        pdf._dispatch = dispatch
    for document_id in warm_documents:
        pdf.document_render(document_id=document_id)
    before = Certificate.objects.aggregate(top=Max("pk"))["top"] or 0
    # One process per grant, as concurrent grants arrive in production (web server worker
    # processes, Celery workers): threads of one process would measure Python's GIL (one core
    # for every grant and the render thread), not the database's number lock.
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(threads)
    results = context.Queue()
    connections.close_all()  # no connection crosses the fork: each child opens its own

    def worker(warm_up, audit):
        queued: list[int] = []
        # The Celery path's hand-over (a broker message per committed document), minus the
        # broker: the ids go back to the parent, which renders them after the burst.
        pdf._dispatch = queued.append
        outcome = {"error": "", "documents": queued, "audit": audit.pk}
        try:
            with transaction.atomic():
                _grant(warm_up, deciders, today)
            barrier.wait(120)
            outcome["start"], cpu = time.monotonic(), time.thread_time()
            with transaction.atomic():
                _grant(audit, deciders, today)
            outcome["end"] = time.monotonic()  # committed: the number row is free again
            outcome["cpu"] = time.thread_time() - cpu
        except Exception as exc:  # counted and shown: the figure must not hide a failure
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        results.put(outcome)
        connections.close_all()

    pool = [
        context.Process(target=worker, args=pair)
        for pair in zip(audits[:threads], audits[threads:], strict=True)
    ]
    for process in pool:
        process.start()
    outcomes = [results.get(timeout=600) for _ in pool]
    for process in pool:
        process.join(600)
    errors = [outcome["error"] for outcome in outcomes if outcome["error"]]
    timed = [outcome for outcome in outcomes if "end" in outcome]
    elapsed = max(o["end"] for o in timed) - min(o["start"] for o in timed) if timed else 0.0
    cpu_ms = statistics.median(o["cpu"] for o in timed) * 1000 if timed else 0.0

    documents = [pk for outcome in outcomes for pk in outcome["documents"]]
    started = time.monotonic()
    for document_id in documents:
        pdf.document_render(document_id=document_id)
    documents_s = time.monotonic() - started
    still_pending = CertificateDocument.objects.filter(
        pk__in=documents, state=CertificateDocument.State.PENDING
    ).count()

    issued = Certificate.objects.filter(pk__gt=before)
    timed_certificates = issued.filter(
        decision__audit__in=[outcome["audit"] for outcome in timed]
    ).count()
    heads = list(issued.filter(head__isnull=True).values_list("year", "sequence"))
    numbers = list(issued.values_list("number", flat=True))
    by_year: dict[int, list[int]] = {}
    for year, sequence in heads:
        by_year.setdefault(year, []).append(sequence)
    gapless = True
    for year, sequences in by_year.items():
        first = min(sequences)
        earlier = (
            Certificate.objects.filter(year=year, head__isnull=True)
            .filter(pk__lte=before)
            .aggregate(top=Max("sequence"))["top"]
            or 0
        )
        # one run of numbers, right after the year's last number before the burst
        gapless &= sorted(sequences) == list(range(first, first + len(sequences)))
        gapless &= first == earlier + 1
    return {
        "processes": threads,
        "elapsed_s": round(elapsed, 2),
        "certificates": timed_certificates,
        "certificates_per_s": round(timed_certificates / elapsed, 1) if elapsed else 0,
        "grant_cpu_median_ms": round(cpu_ms, 1),
        "unique_numbers": len(set(numbers)) == len(numbers),
        "gapless": gapless,
        "errors": len(errors),
        **({"first_error": errors[0][:200]} if errors else {}),
        "documents": len(documents),
        "documents_followed_s": round(documents_s, 1),
        "documents_failed": still_pending,
    }
