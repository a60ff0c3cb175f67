"""The product's URLs plus views that fail on purpose (tests/certbody/test_error_pages.py)."""

from django.core.exceptions import SuspiciousOperation
from django.urls import path

from certbody.urls import urlpatterns as product_urlpatterns


def boom(request):
    raise RuntimeError("secret internal detail: password=hunter2")


def bad(request):
    raise SuspiciousOperation("malformed request detail")


urlpatterns = [
    path("test-errors/500/", boom),
    path("test-errors/400/", bad),
    *product_urlpatterns,
]
