"""Benchmarks (``make bench``, i.e. ``.venv/bin/python scripts/bench.py [options]``).

Runs on its own SQLite database, ``bench-results/bench.sqlite3`` (gitignored), never the
development one: ``SQLITE_PATH`` points there, ``DATABASE_URL`` and ``REDIS_URL`` are dropped.

1. Prepare: ``manage.py migrate``, then ``manage.py generate_data --certificates N``
   (skipped with ``--reuse-db`` when the database already holds at least N certificates).
2. ``api``: start gunicorn on 127.0.0.1 at a free port (``-w 2``, DEBUG off), wait until it
   answers, then send ``--requests`` GETs to ``/api/v1/certificates/<number>`` for random
   existing numbers from ``--concurrency`` client threads (stdlib http.client, loopback only,
   at most ``--max-seconds``). Reports median / p95 / p99 latency and requests per second,
   plus the median of 200 one-at-a-time warm-up requests (latency without queueing).
   gunicorn is stopped by its pid in a ``finally`` block.
3. ``pdf``: in this process after ``django.setup()`` (``demo.bench``, as the next two): one
   warm-up render, then the median of ``--pdf-renders`` renders of different certificates with
   ``render_certificate_pdf``.
4. ``reports``: in this process: time and query count of building the monthly
   获证组织基本信息月报 (the month before the data's anchor date) and the annual statistics (the
   year before), plus rendering the monthly one to XLSX and CSV.
5. ``jobs``: one full pass of every periodic job the day after the anchor date, rolled back.

The README quotes 100,000 certificates: ``make bench BENCH_ARGS="--certificates 100000"``
(generating them takes a few minutes; ``--reuse-db`` keeps the database for later runs).

Figures are printed at the end and written to ``bench-results/bench-<timestamp>.json``.

Adding a benchmark: write ``def bench_<name>(ctx: Context) -> dict[str, float | int | str]``
and register it in ``BENCHMARKS``; ``--only <name>`` runs just that one. ``ctx.django()``
sets Django up in-process on the benchmark database; ``ctx.manage(...)`` runs a management
command in a subprocess with the same environment.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench-results"
VENV_BIN = Path(sys.executable).parent


@dataclass
class Context:
    args: argparse.Namespace
    db_path: Path
    env: dict[str, str]
    results: dict[str, dict] = field(default_factory=dict)
    _django_ready: bool = False

    def manage(self, *arguments: str) -> float:
        """Run ``manage.py <arguments>`` on the benchmark database; returns seconds taken."""
        started = time.monotonic()
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *arguments],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        return time.monotonic() - started

    def django(self) -> None:
        """Set Django up in this process on the benchmark database (once)."""
        if not self._django_ready:
            os.environ.update(self.env)
            for name in ("DATABASE_URL", "REDIS_URL"):
                os.environ.pop(name, None)
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            self._django_ready = True

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the benchmark database directly (stdlib sqlite3, read-only)."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as db:
            return db.execute(sql, params).fetchall()

    def certificate_count(self) -> int:
        try:
            return self.query("SELECT COUNT(*) FROM certificates_certificate")[0][0]
        except sqlite3.Error:
            return 0


def benchmark_env(db_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "certbody.settings",
            "SQLITE_PATH": str(db_path),
            "MEDIA_ROOT": str(RESULTS_DIR / "media"),
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            # The load test hammers the public API from one address: measure the app, not
            # the rate limiter.
            "RATELIMIT_ENABLE": "0",
            # The jobs benchmark notifies thousands of clients: no console output.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


# --- preparation --------------------------------------------------------------------------


def prepare(ctx: Context) -> dict:
    wanted = ctx.args.certificates
    present = ctx.certificate_count() if ctx.db_path.exists() else 0
    if ctx.args.reuse_db and present >= wanted:
        print(f"reusing {ctx.db_path} ({present:,} certificates)")
        return {"certificates": present, "reused": True}
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{ctx.db_path}{suffix}").unlink(missing_ok=True)
    print(f"creating {ctx.db_path} …")
    migrate = ctx.manage("migrate", "--noinput", "-v", "0")
    generate = ctx.manage(
        "generate_data", "--certificates", str(wanted), "--seed", str(ctx.args.seed)
    )
    return {
        "certificates": ctx.certificate_count(),
        "migrate_s": round(migrate, 1),
        "generate_data_s": round(generate, 1),
    }


# --- api ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, float]:
    """One GET on a fresh connection (gunicorn's sync workers close after each response)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def wait_until_up(port: int, path: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}")
        try:
            status, _ = get(port, path, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {seconds} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def load(port: int, paths: list[str], *, requests: int, threads: int, max_seconds: float):
    """``requests`` GETs from ``threads`` threads, stopping at ``max_seconds``."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            with lock:
                if next(counter, None) is None:
                    return
            try:
                status, seconds = get(port, rng.choice(paths))
            except OSError as exc:
                status, seconds = type(exc).__name__, None
            with lock:
                statuses[status] += 1
                if seconds is not None and status == 200:
                    latencies.append(seconds)

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(max_seconds + 15)
    return latencies, statuses, time.monotonic() - started


def bench_api(ctx: Context) -> dict:
    args = ctx.args
    rng = random.Random(args.seed)
    numbers = [row[0] for row in ctx.query("SELECT number FROM certificates_certificate")]
    paths = [f"/api/v1/certificates/{n}" for n in rng.sample(numbers, min(2000, len(numbers)))]
    port = free_port()
    log_path = RESULTS_DIR / "gunicorn.log"
    command = [
        str(VENV_BIN / "gunicorn"),
        "certbody.wsgi:application",
        "-w",
        str(args.workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=ctx.env, stdout=log, stderr=log)
        try:
            wait_until_up(port, paths[0], process)
            # Warm-up, one request at a time: the latency without queueing.
            serial, _, _ = load(port, paths, requests=200, threads=1, max_seconds=20)
            latencies, statuses, elapsed = load(
                port,
                paths,
                requests=args.requests,
                threads=args.concurrency,
                max_seconds=args.max_seconds,
            )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    done = sum(statuses.values())
    if not latencies:
        raise RuntimeError(f"no successful request; statuses {dict(statuses)}, see {log_path}")
    return {
        "requests": done,
        "ok": statuses.get(200, 0),
        "errors": done - statuses.get(200, 0),
        "concurrency": args.concurrency,
        "gunicorn_workers": args.workers,
        "serial_median_ms": round(statistics.median(serial) * 1000, 1) if serial else None,
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "requests_per_s": round(done / elapsed, 1),
        "elapsed_s": round(elapsed, 1),
    }


# --- pdf, reports and jobs: in this process (demo.bench) ------------------------------------------


def bench_pdf(ctx: Context) -> dict:
    ctx.django()
    from demo import bench

    return bench.pdf(renders=ctx.args.pdf_renders, seed=ctx.args.seed)


def bench_reports(ctx: Context) -> dict:
    ctx.django()
    from demo import bench

    return bench.reports()


def bench_jobs(ctx: Context) -> dict:
    ctx.django()
    from demo import bench

    return bench.jobs()


# Name → benchmark; run in this order.
BENCHMARKS = {
    "api": bench_api,
    "pdf": bench_pdf,
    "reports": bench_reports,
    "jobs": bench_jobs,
}


# --- main ---------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=10_000, help="default 10,000")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--requests", type=int, default=2000, help="API requests (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--max-seconds", type=float, default=60, help="hard cap on the load phase (default 60)"
    )
    parser.add_argument("--pdf-renders", type=int, default=20, help="timed renders (default 20)")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="keep bench-results/bench.sqlite3 if it already has enough certificates",
    )
    parser.add_argument("--db", type=Path, default=RESULTS_DIR / "bench.sqlite3")
    return parser.parse_args(argv)


def report(ctx: Context) -> str:
    lines = ["", "=" * 64, "certbody benchmark figures", "=" * 64]
    for name, figures in ctx.results.items():
        lines.append(f"[{name}]")
        for key, value in figures.items():
            is_count = isinstance(value, int) and not isinstance(value, bool)
            shown = f"{value:,}" if is_count else value
            lines.append(f"  {key:<22} {shown}")
    lines.append("=" * 64)
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    selected = [name for name in args.only.split(",") if name] or list(BENCHMARKS)
    unknown = set(selected) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    RESULTS_DIR.mkdir(exist_ok=True)
    db_path = args.db.resolve()
    ctx = Context(args=args, db_path=db_path, env=benchmark_env(db_path))
    ctx.results["setup"] = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count() or 0,
        "database": str(db_path.relative_to(ROOT) if db_path.is_relative_to(ROOT) else db_path),
        **prepare(ctx),
    }
    for name in selected:
        print(f"running {name} …", flush=True)
        ctx.results[name] = BENCHMARKS[name](ctx)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS_DIR / f"bench-{stamp}.json"
    out.write_text(json.dumps(ctx.results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report(ctx))
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
