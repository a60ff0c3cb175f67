"""The cache as an optimisation only: a cache that fails never fails the request.

Everything the site keeps in the cache (the CB profile, rate-limit counters) can be recomputed
or done without, so callers go through :func:`attempt` (or the :func:`read`/:func:`write`/
:func:`delete` shorthands) instead of ``django.core.cache.cache``. When the cache raises
(Redis stopped: connection refused; Redis frozen: a socket timeout, kept short by
``settings.REDIS_CACHE_OPTIONS``) the failure is logged once as a warning and this process
leaves that cache alone for ``SKIP_SECONDS``, so a frozen Redis costs one timeout per process
and period, not one per cache call.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache

logger = logging.getLogger(__name__)

# After a failure, this process does without the cache for this long (seconds) before trying
# it again. Short enough that a restarted Redis is back in use within moments.
SKIP_SECONDS = 10.0

T = TypeVar("T")

# cache alias → time.monotonic() until which the cache is skipped
_skip_until: dict[str, float] = {}


class CacheUnavailable(Exception):
    """The cache failed (``fresh``: just now, and logged) or is skipped after a recent failure."""

    def __init__(self, alias: str, *, fresh: bool):
        super().__init__(f"cache {alias!r} unavailable")
        self.alias = alias
        self.fresh = fresh


def attempt(operation: Callable[[BaseCache], T], *, alias: str = "default", what: str) -> T:
    """``operation(cache)`` on the cache ``alias``; raises :class:`CacheUnavailable` instead
    of the backend's error (any exception: redis-py, pymemcache … each have their own).

    ``what`` names the use in the warning, e.g. "rate limit 'verify'".
    """
    now = time.monotonic()
    if _skip_until.get(alias, 0.0) > now:
        raise CacheUnavailable(alias, fresh=False)
    try:
        return operation(caches[alias])
    except Exception as exc:
        _skip_until[alias] = time.monotonic() + SKIP_SECONDS
        logger.warning(
            "Cache %r failed during %s (%s: %s); going on without it for %g s.",
            alias,
            what,
            type(exc).__name__,
            exc,
            SKIP_SECONDS,
        )
        raise CacheUnavailable(alias, fresh=True) from exc


def read(key: str, default=None, *, alias: str = "default", what: str = "a read"):
    """``cache.get(key, default)``, or ``default`` when the cache is unavailable."""
    try:
        return attempt(lambda c: c.get(key, default), alias=alias, what=what)
    except CacheUnavailable:
        return default


def write(key: str, value, timeout: float | None, *, alias: str = "default", what: str = "a write"):
    """``cache.set(key, value, timeout)`` (seconds); True when stored, False otherwise."""
    try:
        attempt(lambda c: c.set(key, value, timeout), alias=alias, what=what)
    except CacheUnavailable:
        return False
    return True


def delete(key: str, *, alias: str = "default", what: str = "a delete") -> bool:
    """``cache.delete(key)``; False when the cache is unavailable (the entry may then outlive
    the change until it expires: keep the timeouts of such entries short)."""
    try:
        attempt(lambda c: c.delete(key), alias=alias, what=what)
    except CacheUnavailable:
        return False
    return True


def reset() -> None:
    """Forget recent failures (tests; a process that knows the cache is back)."""
    _skip_until.clear()
