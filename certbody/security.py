"""Request protection: rate limits on the public pages and the log-in, the 429 answer, and the
Content Security Policy middleware that relaxes the policy for the Django admin only.

Rate limits (:func:`throttle`) count requests in a sliding window on the
``RATELIMIT_USE_CACHE`` cache (Redis in production, so all gunicorn workers share the
counters; certbody.W002 warns when they would not be shared). The window is approximated from
two fixed-window counters, the previous one weighted by how much of it still lies inside the
window (:func:`sliding_window`), so a burst straddling a window boundary gets the rate once,
not twice as with a fixed window. Rates are read from settings at request time
(``RATELIMIT_VERIFY`` …, see settings.py); ``RATELIMIT_ENABLE = False`` switches them off.
When the cache is unavailable the limit is not enforced (fail open, with a logged warning):
the cache is an optimisation, never a reason to refuse the public pages.

A refused request raises django-ratelimit's ``Ratelimited``; its
``RatelimitMiddleware`` hands it to ``settings.RATELIMIT_VIEW`` = :func:`ratelimited`, which
answers 429 (never 403).
"""

import hashlib
import ipaddress
import logging
import math
import re
import time
import unicodedata
from functools import wraps

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django_ratelimit.exceptions import Ratelimited

from certbody import cache

logger = logging.getLogger(__name__)

# Paths answered with JSON instead of the HTML page (certificates/urls.py: api/v1/…).
API_PREFIX = "/api/"
# Used when the counter's window is unknown.
DEFAULT_RETRY_AFTER = 60
# Counter keys; the parts are hashed, so neither addresses nor user names are stored in clear.
KEY_PREFIX = "rl2:"
# A counter outlives its window by one more window (it is the "previous" one then) and this.
EXPIRY_MARGIN = 5

_PERIODS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/10m"`` → ``(10, 600)``: requests allowed and window length in seconds.

    Raises ValueError for anything else (settings check rates with ``certbody.env.env_rate``).
    """
    match = _RATE.match(rate)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"not a rate such as 60/m or 10/10m: {rate!r}")
    count, multiple, unit = match.groups()
    seconds = int(multiple or 1) * _PERIODS[unit]
    if seconds < 1:
        raise ValueError(f"the period of a rate must be at least 1 s: {rate!r}")
    return int(count), seconds


def sliding_window(
    *, previous: int, current: int, limit: int, elapsed: float, period: int
) -> tuple[bool, int]:
    """Whether the request just counted must be refused, and the seconds to wait if so.

    ``previous`` and ``current`` are the request counts of the previous and the current fixed
    window (``current`` including this request), ``elapsed`` the fraction (0 ≤ elapsed < 1) of
    the current window gone, ``period`` its length in seconds. The estimate of the requests in
    the last ``period`` seconds is ``previous × (1 − elapsed) + current``; the request is
    refused when it exceeds ``limit``. The wait is until a next request would fit again,
    assuming none comes meanwhile (at least 1 s).
    """
    estimate = previous * (1 - elapsed) + current
    if estimate <= limit:
        return False, 0
    room = limit - 1  # a next request fits when the estimate without it is at most this
    if current <= room and previous > 0:
        # Still in this window, once enough of the previous one has slid out.
        fits_at = 1 - (room - current) / previous
        wait = (fits_at - elapsed) * period
    else:
        # Only in the next window, once enough of this one has slid out.
        fits_at = 1 - room / current
        wait = (1 - elapsed) * period + fits_at * period
    return True, max(1, math.ceil(wait))


def client_address(request) -> str:
    """The client address counted by "ip" limits: ``REMOTE_ADDR``, or the META key named by
    ``settings.RATELIMIT_IP_META_KEY`` (a header the reverse proxy sets). IPv6 addresses count
    per /64 network (one subscriber's range). Raises ImproperlyConfigured when the header is
    missing, as behind a misconfigured proxy every client would otherwise share one budget."""
    meta_key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    value = request.META.get(meta_key, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"No client address in {meta_key}: check RATELIMIT_IP_META_KEY and the proxy."
        )
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return value  # counted as given (e.g. a test client's name)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def login_username(raw: str) -> str:
    """The user name as log-in throttling counts it: the form's value as Django's log-in form
    reads it (whitespace stripped, NFKC as ``UsernameField`` and ``normalize_username`` do, so
    full-width ｄｅｃｉｄｅｒ２ is decider2), then case-folded (one budget whatever the case)."""
    name = unicodedata.normalize("NFKC", raw.strip())
    return unicodedata.normalize("NFKC", name.casefold())


def _counter_key(group: str, rate: str, value: str, window: int) -> str:
    digest = hashlib.sha256("\x1f".join([group, rate, value, str(window)]).encode()).hexdigest()
    return KEY_PREFIX + digest


def _count(cache_backend, key: str, period: int) -> int:
    """Atomically add this request to the counter ``key`` (created when missing)."""
    if cache_backend.add(key, 1, 2 * period + EXPIRY_MARGIN):
        return 1
    try:
        return cache_backend.incr(key)
    except ValueError:  # expired between add() and incr()
        cache_backend.add(key, 1, 2 * period + EXPIRY_MARGIN)
        return 1


def _usage(group: str, rate: str, value: str, *, now: float) -> tuple[bool, int]:
    """Count a request of ``value`` in ``group`` and judge it (see :func:`sliding_window`);
    raises certbody.cache.CacheUnavailable when the cache fails."""
    limit, period = parse_rate(rate)
    window, into = divmod(now, period)
    window = int(window)

    def count(cache_backend):
        current = _count(cache_backend, _counter_key(group, rate, value, window), period)
        previous = cache_backend.get(_counter_key(group, rate, value, window - 1), 0)
        return previous, current

    previous, current = cache.attempt(
        count, alias=settings.RATELIMIT_USE_CACHE, what=f"rate limit {group!r}"
    )
    return sliding_window(
        previous=int(previous), current=current, limit=limit, elapsed=into / period, period=period
    )


def throttle(group: str, rate_setting: str, *, key="ip", methods=None):
    """View decorator: at most ``settings.<rate_setting>`` requests per ``key`` in ``group``
    within any window of the rate's period (sliding window, see the module docstring).

    ``key`` is "ip" (:func:`client_address`) or a callable ``(group, request) -> str`` (an
    empty string is counted like any other value); ``methods`` the HTTP methods counted
    (a name or a tuple; None: all; others pass freely). Views sharing a group share one
    budget. Refused requests count too, so a client that keeps hammering stays refused. The
    refused request raises ``Ratelimited`` with the seconds to wait in
    ``request.ratelimit_retry_after``. When the cache is unavailable the request passes and a
    warning is logged (once per failure; certbody.cache then skips the cache for a while).
    """
    counted = {methods.upper()} if isinstance(methods, str) else methods and set(methods)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if settings.RATELIMIT_ENABLE and (not counted or request.method in counted):
                rate = getattr(settings, rate_setting)
                value = client_address(request) if key == "ip" else key(group, request)
                try:
                    refused, wait = _usage(group, rate, value, now=time.time())
                except cache.CacheUnavailable as exc:
                    if exc.fresh:
                        logger.warning(
                            "Rate limit %r not enforced: the cache %r is unavailable.",
                            group,
                            exc.alias,
                        )
                else:
                    if refused:
                        request.ratelimit_retry_after = wait
                        raise Ratelimited()
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def ratelimited(request, exception):
    """``RATELIMIT_VIEW``: 429 Too Many Requests with ``Retry-After``; JSON for the API."""
    retry_after = getattr(request, "ratelimit_retry_after", DEFAULT_RETRY_AFTER)
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse(
            {
                "error": "too many requests",
                "detail": f"Rate limit exceeded; retry after {retry_after} seconds.",
                "retry_after": retry_after,
            },
            status=429,
        )
    else:
        response = render(
            request,
            "429.html",
            {"retry_after": retry_after},
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    add_never_cache_headers(response)
    return response


# Sources added to the policy under ADMIN_PREFIX only. Django 5.2's own admin templates carry no
# inline code, but third-party admin templates do (simple-history's history list has style
# attributes) and admin customisations may; the admin is for logged-in staff only, so it keeps
# working rather than being held to the public pages' policy.
ADMIN_PREFIX = "/admin/"
ADMIN_CSP_UPDATE = {
    "script-src": ["'unsafe-inline'"],
    "style-src": ["'unsafe-inline'"],
}


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware with the policy relaxed for the Django admin (ADMIN_PREFIX).

    Everything else gets settings.CONTENT_SECURITY_POLICY unchanged, which allows no inline
    script or style: templates use static files (certbody/static/) only.
    """

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(ADMIN_PREFIX):
            update = {k: list(v) for k, v in ADMIN_CSP_UPDATE.items()}
            for directive, sources in (parts.update or {}).items():
                update.setdefault(directive, [])
                update[directive] += [sources] if isinstance(sources, str) else list(sources)
            parts.update = update
        return parts
