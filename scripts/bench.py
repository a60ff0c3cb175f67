"""Benchmarks (``make bench``, i.e. ``.venv/bin/python scripts/bench.py [options]``).

Database: PostgreSQL when ``DATABASE_URL`` is set (its schema is rebuilt when it lacks the
certificates asked for), otherwise its own SQLite file, ``bench-results/bench.sqlite3``
(gitignored), never the development one. ``REDIS_URL`` is dropped (documents follow in the
background thread, ``certbody.background``).

1. Prepare: ``manage.py migrate``, then ``manage.py generate_data --certificates N``
   (deterministic from ``--seed``; skipped with ``--reuse-db`` when the database already holds
   at least N certificates).
2. HTTP (``bare``, ``api``, ``verify``): gunicorn on 127.0.0.1 at a free port (``-w 2``, DEBUG
   off, rate limits off) with ``demo.bench_settings`` (the production settings and URLs plus
   ``/bench/bare/``, a small JSON through the same middleware), loaded by ``wrk -t1 -c8``
   (Debian's ``wrk``; ``scripts/bench_wrk.lua`` picks random certificate numbers, stops after
   ``--requests`` and prints the percentiles), each run at most ``--max-seconds``. The bare view
   runs first in the same gunicorn, so the API and the ``/verify/?q=<number>`` page are shown
   against it (throughput ratio, p99 ratio). gunicorn is stopped by its pid at the end.
3. In this process after ``django.setup()`` (``demo.bench``, ``demo.bench_writes``): ``pdf``
   (warm and first renders), ``reports``, ``jobs`` (rolled back), ``lists`` (staff desks
   through the test client, rolled back), then ``writes`` (grant,
   suspend, restore, withdraw, reissue through their services, committed: the data changes a
   little) and ``concurrent_issues`` (20 grants at once, PostgreSQL only).

The README quotes 100,000 certificates: ``make bench BENCH_ARGS="--certificates 100000"``.

Prints one table (``table``): each figure, its target (``TARGETS``), the measured value, for
the API and the page the bare view's figure and the ratio; all figures are also written to
``bench-results/bench-<timestamp>.json``.

Adding a benchmark: write ``def bench_<name>(ctx: Context) -> dict[str, float | int | str]``
and register it in ``BENCHMARKS``; ``--only <name>`` runs just that one. Add its targets to
``TARGETS`` (benchmark, figure key, label, comparison, limit). ``ctx.django()`` sets Django up
in-process on the benchmark database; ``ctx.manage(...)`` runs a management command in a
subprocess with the same environment.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench-results"
VENV_BIN = Path(sys.executable).parent
WRK_SCRIPT = ROOT / "scripts" / "bench_wrk.lua"
BENCH_SETTINGS = "demo.bench_settings"


@dataclass
class Context:
    args: argparse.Namespace
    db_label: str
    env: dict[str, str]
    results: dict[str, dict] = field(default_factory=dict)
    _django_ready: bool = False
    _server: tuple | None = None  # (process, port, log path)

    @property
    def postgres(self) -> bool:
        return bool(self.env.get("DATABASE_URL"))

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
            if not self.postgres:
                os.environ.pop("DATABASE_URL", None)
            os.environ.pop("REDIS_URL", None)
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            self._django_ready = True

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the benchmark database (through Django's connection, SQLite or PostgreSQL)."""
        self.django()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def certificate_count(self) -> int:
        try:
            return self.query("SELECT COUNT(*) FROM certificates_certificate")[0][0]
        except Exception:  # no table yet
            from django.db import connection

            connection.close()
            return 0

    def server(self) -> int:
        """The port of the benchmark's gunicorn, started on first use (stopped by ``stop``)."""
        if self._server is None:
            self._server = start_gunicorn(self)
        return self._server[1]

    def stop(self) -> None:
        if self._server is not None:
            process = self._server[0]
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self._server = None


def benchmark_env(db_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    if not env.get("DATABASE_URL"):
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(db_path)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "certbody.settings",
            "MEDIA_ROOT": str(RESULTS_DIR / "media"),
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            # The load test hammers the public pages from one address: measure the app, not
            # the rate limiter.
            "RATELIMIT_ENABLE": "0",
            # The jobs benchmark notifies thousands of clients: no console output.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


# --- preparation --------------------------------------------------------------------------


def _reset_database(ctx: Context) -> None:
    if ctx.postgres:
        ctx.django()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        connection.close()
    else:
        if ctx._django_ready:  # no connection may stay open on the file removed here
            from django.db import connections

            connections.close_all()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{ctx.args.db.resolve()}{suffix}").unlink(missing_ok=True)


def prepare(ctx: Context) -> dict:
    wanted = ctx.args.certificates
    present = ctx.certificate_count()
    if ctx.args.reuse_db and present >= wanted:
        print(f"reusing {ctx.db_label} ({present:,} certificates)")
        return {"certificates": present, "reused": True}
    print(f"creating {ctx.db_label} …")
    _reset_database(ctx)
    migrate = ctx.manage("migrate", "--noinput", "-v", "0")
    generate = ctx.manage(
        "generate_data", "--certificates", str(wanted), "--seed", str(ctx.args.seed)
    )
    return {
        "certificates": ctx.certificate_count(),
        "migrate_s": round(migrate, 1),
        "generate_data_s": round(generate, 1),
    }


# --- HTTP: gunicorn + wrk -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 10.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def start_gunicorn(ctx: Context) -> tuple:
    port = free_port()
    log_path = RESULTS_DIR / "gunicorn.log"
    command = [
        str(VENV_BIN / "gunicorn"),
        "certbody.wsgi:application",
        "-w",
        str(ctx.args.workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        # wrk keeps the connections it opened after its last request until its -d ends; a
        # sync worker waiting on one for gunicorn's default 30 s was killed and restarted
        # (with its PDF warm-up) during the next load. They see EOF once wrk exits.
        "--timeout",
        str(int(ctx.args.max_seconds) + 60),
    ]
    env = {**ctx.env, "DJANGO_SETTINGS_MODULE": BENCH_SETTINGS}
    log = open(log_path, "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}, see {log_path}")
        try:
            if get(port, "/bench/bare/", timeout=2) == 200:
                return process, port, log_path
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn did not answer on port {port}, see {log_path}")


def parse_wrk(output: str) -> dict:
    """Figures from ``wrk``'s output with ``scripts/bench_wrk.lua``: its ``BENCH_JSON`` line
    (microseconds) turned into requests, errors (non-2xx/3xx and socket errors), requests/s
    over the span from the first request to the last answer, p50/p95/p99/max in ms."""
    match = re.search(r"^BENCH_JSON (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no BENCH_JSON line in wrk's output:\n{output}")
    raw = json.loads(match.group(1))
    # The span from the first request to the last answer (wrk's own duration is its -d even
    # when the script stopped after the requests asked for).
    seconds = raw.get("elapsed_us", raw["duration_us"]) / 1e6
    errors = sum(value for key, value in raw.items() if key.startswith("errors_"))
    return {
        "requests": raw["requests"],
        "errors": errors,
        "requests_per_s": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "elapsed_s": round(seconds, 2),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
    }


def run_wrk(ctx: Context, name: str, paths: list[str]) -> dict:
    """``wrk -t1 -c<concurrency>`` on ``paths`` (random order), at most ``--requests`` requests
    and ``--max-seconds`` seconds, after a short warm-up."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (make bench installs it: apt-get install wrk)")
    port = ctx.server()
    paths_file = RESULTS_DIR / f"paths-{name}.txt"
    paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    base = [wrk, "-t1", f"-c{ctx.args.concurrency}", "-s", str(WRK_SCRIPT), "--timeout", "10s"]
    url = f"http://127.0.0.1:{port}"
    seed = str(ctx.args.seed)
    warm = max(50, ctx.args.requests // 20)
    subprocess.run(
        [*base, "-d", "5s", url, "--", str(paths_file), seed, str(warm)],
        capture_output=True,
        check=True,
    )
    duration = f"{int(ctx.args.max_seconds)}s"
    limit = str(ctx.args.requests)
    completed = subprocess.run(
        [*base, "-d", duration, url, "--", str(paths_file), seed, limit],
        capture_output=True,
        text=True,
        check=True,
    )
    return {**parse_wrk(completed.stdout), "concurrency": ctx.args.concurrency}


def _numbers(ctx: Context, count: int = 2000) -> list[str]:
    rows = ctx.query("SELECT number FROM certificates_certificate ORDER BY id")
    numbers = [row[0] for row in rows]
    return random.Random(ctx.args.seed).sample(numbers, min(count, len(numbers)))


def bench_bare(ctx: Context) -> dict:
    return run_wrk(ctx, "bare", ["/bench/bare/"])


def _against_bare(ctx: Context, figures: dict) -> dict:
    if "bare" not in ctx.results:
        ctx.results["bare"] = bench_bare(ctx)
    bare = ctx.results["bare"]
    return {
        **figures,
        "bare_requests_per_s": bare["requests_per_s"],
        "bare_p99_ms": bare["p99_ms"],
    }


def bench_api(ctx: Context) -> dict:
    paths = [f"/api/v1/certificates/{number}" for number in _numbers(ctx)]
    return _against_bare(ctx, run_wrk(ctx, "api", paths))


def bench_verify(ctx: Context) -> dict:
    paths = [f"/verify/?q={number}" for number in _numbers(ctx)]
    return _against_bare(ctx, run_wrk(ctx, "verify", paths))


# --- in this process (demo.bench, demo.bench_writes) ----------------------------------------


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


def bench_writes(ctx: Context) -> dict:
    ctx.django()
    from demo import bench_writes

    return bench_writes.writes(repeats=ctx.args.write_repeats)


def bench_concurrent_issues(ctx: Context) -> dict:
    ctx.django()
    from demo import bench_writes

    return bench_writes.concurrent_issues(threads=20)


def bench_lists(ctx: Context) -> dict:
    ctx.django()
    from demo import bench_lists

    return bench_lists.lists()


# Name → benchmark; run in this order (the writes change the data: last).
BENCHMARKS = {
    "bare": bench_bare,
    "api": bench_api,
    "verify": bench_verify,
    "pdf": bench_pdf,
    "reports": bench_reports,
    "jobs": bench_jobs,
    "lists": bench_lists,
    "writes": bench_writes,
    "concurrent_issues": bench_concurrent_issues,
}


# --- the table ------------------------------------------------------------------------------

# (benchmark, figure key, label, comparison, limit). Comparisons: "<=" / ">=" an absolute
# limit in the figure's unit; "bare>=" a share of the bare view's throughput (same run);
# "bare<=x" a multiple of the bare view's p99 (same run). Issue #16's targets.
TARGETS = [
    ("api", "requests_per_s", "API throughput (req/s)", "bare>=", 0.50),
    ("api", "p99_ms", "API p99 (ms)", "bare<=x", 2.0),
    ("verify", "requests_per_s", "/verify/?q= throughput (req/s)", "bare>=", 0.35),
    ("writes", "median_ms", "staff writes, slowest median (ms)", "<=", 300),
    ("concurrent_issues", "certificates_per_s", "20 concurrent issues (cert/s, PG)", ">=", 20),
    ("pdf", "median_ms", "certificate PDF warm, median (ms)", "<=", 200),
    ("pdf", "pdf_kb", "certificate PDF size (KB)", "<=", 300),
    ("pdf", "first_render_ms", "first PDF render in a fresh worker (ms)", "<=", 300),
    ("jobs", "idle_pass_s", "jobs: nothing-due pass (s)", "<=", 0.3),
    ("jobs", "full_pass_s", "jobs: first pass (s)", "<=", 30),
    ("reports", "monthly_build_s", "monthly report build (s)", "<=", 1.5),
    ("reports", "monthly_xlsx_s", "monthly report XLSX (s)", "<=", 1.0),
    ("lists", "p95_ms", "staff lists p95 (ms)", "<=", 150),
]


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _unit(key: str) -> str:
    """The unit a figure's key ends with (``_ms``, ``_s``, ``_kb``, ``_per_s``)."""
    for suffix, unit in (("_per_s", "/s"), ("_ms", " ms"), ("_kb", " KB"), ("_s", " s")):
        if key.endswith(suffix):
            return unit
    return ""


def _row(results: dict, bench: str, key: str, how: str, limit: float) -> tuple:
    """(target text, measured, bare, ratio, verdict) of one target row."""
    figures = results.get(bench) or {}
    value = figures.get(key)
    bare = results.get("bare") or {}
    if how == "bare>=":
        target, base = f"≥ {limit:.0%} of bare", bare.get("requests_per_s")
    elif how == "bare<=x":
        target, base = f"≤ {limit:g}× bare", bare.get("p99_ms")
    else:
        target, base = f"{'≤' if how == '<=' else '≥'} {limit:g}{_unit(key)}", None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        shown = figures.get("skipped") or ("not measured" if figures else "not run")
        return target, str(shown), "", "", "—"
    if how in ("bare>=", "bare<=x"):
        if not base:
            return target, _number(value), "—", "", "—"
        ratio = value / base
        ok = ratio >= limit if how == "bare>=" else ratio <= limit
        ratio_text = f"{ratio:.0%}" if how == "bare>=" else f"{ratio:.1f}×"
        return target, _number(value), _number(base), ratio_text, "ok" if ok else "MISS"
    ok = value <= limit if how == "<=" else value >= limit
    return target, _number(value), "", "", "ok" if ok else "MISS"


def table(results: dict) -> str:
    """The one table a run prints: figure, target, measured, the bare view's figure and the
    ratio (API and page), and ok / MISS / — (not measured)."""
    header = ("figure", "target", "measured", "bare", "ratio", "")
    rows = [header]
    for bench, key, label, how, limit in TARGETS:
        rows.append((label, *_row(results, bench, key, how, limit)))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(str(cell).ljust(width) for cell, width in cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=10_000, help="default 10,000")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--requests", type=int, default=5000, help="requests per HTTP figure (default 5000)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--max-seconds", type=float, default=30, help="cap on each HTTP load (default 30)"
    )
    parser.add_argument("--pdf-renders", type=int, default=20, help="timed renders (default 20)")
    parser.add_argument(
        "--write-repeats", type=int, default=5, help="times each staff write (default 5)"
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="keep the benchmark database if it already has enough certificates",
    )
    parser.add_argument("--db", type=Path, default=RESULTS_DIR / "bench.sqlite3")
    return parser.parse_args(argv)


def details(ctx: Context) -> str:
    lines = []
    for name, figures in ctx.results.items():
        shown = ", ".join(f"{key} {_number(value)}" for key, value in figures.items())
        lines.append(f"[{name}] {shown}")
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
    env = benchmark_env(db_path)
    label = "PostgreSQL (DATABASE_URL)" if env.get("DATABASE_URL") else str(db_path)
    ctx = Context(args=args, db_label=label, env=env)
    ctx.results["setup"] = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count() or 0,
        "database": "postgresql" if ctx.postgres else "sqlite",
        **prepare(ctx),
    }
    try:
        for name in selected:
            print(f"running {name} …", flush=True)
            ctx.results[name] = BENCHMARKS[name](ctx)
    finally:
        ctx.stop()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS_DIR / f"bench-{stamp}.json"
    out.write_text(json.dumps(ctx.results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(details(ctx))
    print()
    print(table(ctx.results))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
