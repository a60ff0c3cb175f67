"""Request protection: rate limits on the public pages and the log-in, the 429 answer, and the
Content Security Policy middleware that relaxes the policy for the Django admin only.

Rate limits use django-ratelimit's counters on the default cache (Redis in production, so
all gunicorn workers share them). Rates are read from settings at request time
(``RATELIMIT_VERIFY`` …, see settings.py); ``RATELIMIT_ENABLE = False`` switches them off.
A refused request raises ``Ratelimited``; ``django_ratelimit.middleware.RatelimitMiddleware``
hands it to ``settings.RATELIMIT_VIEW`` = :func:`ratelimited`, which answers 429 (never 403).
"""

from functools import wraps

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django_ratelimit import ALL
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

# Paths answered with JSON instead of the HTML page (certificates/urls.py: api/v1/…).
API_PREFIX = "/api/"
# Used when the counter's window is unknown (the cache failed and the request was refused).
DEFAULT_RETRY_AFTER = 60


def _rate(setting: str):
    """django-ratelimit rate callable: the setting's current value (tests override it)."""

    def rate(group, request):
        return getattr(settings, setting)

    return rate


def _username_key(group, request) -> str:
    # The cache key is a SHA-256 of the parts, so the user name is not stored in clear.
    return request.POST.get("username", "").strip().casefold()


def throttle(group: str, rate_setting: str, *, key="ip", methods=ALL):
    """View decorator: at most ``settings.<rate_setting>`` requests per ``key`` in ``group``.

    ``key`` is a django-ratelimit key ("ip", "post:<field>" or a callable); ``methods`` the
    HTTP methods counted (others pass freely). Views sharing a group share one budget. The
    refused request raises ``Ratelimited`` with the seconds to wait in
    ``request.ratelimit_retry_after``.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            usage = get_usage(
                request,
                group=group,
                key=key,
                rate=_rate(rate_setting),
                method=methods,
                increment=True,
            )
            if usage is not None and usage["should_limit"]:
                time_left = usage["time_left"]
                request.ratelimit_retry_after = time_left if time_left > 0 else DEFAULT_RETRY_AFTER
                raise Ratelimited()
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def throttle_login(view):
    """POSTs to the log-in view, per address and per user name (password guessing)."""
    view = throttle("login-user", "RATELIMIT_LOGIN_USER", key=_username_key, methods="POST")(view)
    return throttle("login-ip", "RATELIMIT_LOGIN_IP", methods="POST")(view)


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
