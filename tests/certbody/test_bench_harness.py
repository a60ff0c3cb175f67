"""Issue #16: the benchmark's bare baseline view lives in the bench's own URL configuration
only, and the harness reads ``wrk``'s figures and prints one table against the targets."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("bench_script", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_script"] = module
    spec.loader.exec_module(module)
    return module


def test_the_bare_view_is_not_in_the_production_urls():
    clear_url_caches()
    with pytest.raises(Resolver404):
        resolve("/bench/bare/", urlconf="certbody.urls")


@override_settings(ROOT_URLCONF="demo.bench_urls")
def test_the_bench_urls_add_the_bare_view_to_the_production_ones(client):
    clear_url_caches()
    try:
        assert resolve("/bench/bare/").url_name == "bench_bare"
        assert resolve("/api/v1/certificates/x").namespace == "api"
        response = client.get("/bench/bare/")
        assert response.status_code == 200
        assert response.json()["status"] == "valid"
    finally:
        clear_url_caches()


def test_the_bench_settings_differ_from_production_only_by_the_urls():
    from certbody import settings as production
    from demo import bench_settings

    assert bench_settings.ROOT_URLCONF == "demo.bench_urls"
    assert production.ROOT_URLCONF == "certbody.urls"
    assert bench_settings.MIDDLEWARE == production.MIDDLEWARE


RAW = {
    "requests": 2000,
    "duration_us": 10000000,
    "elapsed_us": 660000,
    "errors_status": 3,
    "errors_connect": 0,
    "errors_read": 0,
    "errors_write": 0,
    "errors_timeout": 1,
    "p50_us": 2500,
    "p95_us": 4100,
    "p99_us": 6000,
    "max_us": 20110,
}
WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:18001/bench/bare/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.61ms    1.02ms  20.11ms   90.00%
    Req/Sec     3.05k   200.00     3.30k    70.00%
  2000 requests in 0.66s, 400.00KB read
Requests/sec:   3030.30
Transfer/sec:    606.06KB
BENCH_JSON {BENCH_JSON}
"""


def test_wrk_output_is_read_from_the_lua_summary():
    bench = load_script()
    figures = bench.parse_wrk(WRK_OUTPUT.replace("{BENCH_JSON}", json.dumps(RAW)))
    assert figures["requests"] == 2000
    assert figures["requests_per_s"] == pytest.approx(3030.3, abs=0.1)
    assert figures["p50_ms"] == 2.5 and figures["p95_ms"] == 4.1 and figures["p99_ms"] == 6.0
    assert figures["errors"] == 4


def test_the_table_shows_each_figure_its_target_and_the_ratio_to_the_bare_view():
    bench = load_script()
    results = {
        "bare": {"requests_per_s": 1000.0, "p99_ms": 10.0},
        "api": {"requests_per_s": 600.0, "p99_ms": 25.0},
        "writes": {"median_ms": 120.0},
    }
    table = bench.table(results)
    api_row = next(line for line in table.splitlines() if "API throughput" in line)
    assert "≥ 50% of bare" in api_row and "600" in api_row and "60%" in api_row
    assert "ok" in api_row
    p99_row = next(line for line in table.splitlines() if "API p99" in line)
    assert "2.5×" in p99_row and "MISS" in p99_row
    writes_row = next(line for line in table.splitlines() if "staff writes" in line)
    assert "≤ 300 ms" in writes_row and "120" in writes_row and "ok" in writes_row
    # a figure not measured in this run is shown as such, not as a pass
    pdf_row = next(line for line in table.splitlines() if "PDF" in line)
    assert "not run" in pdf_row
