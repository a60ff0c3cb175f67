"""URLs of the benchmark's gunicorn only (``demo.bench_settings``): the production URLs plus
``/bench/bare/``, a bare view returning a small JSON through the same middleware, the baseline
the API and the verification page are compared with (issue #16). Never in production URLs:
``certbody.urls`` does not include this module (tests/certbody/test_bench_harness.py)."""

from django.http import JsonResponse
from django.urls import path

from certbody.urls import urlpatterns as production


def bare(request):
    """A small JSON, no database: what the stack costs before any application work."""
    return JsonResponse({"number": "0123-25FW0001R0C", "status": "valid"})


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *production]
