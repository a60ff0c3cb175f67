"""An in-process background executor for work that must follow a committed change but not
hold up the response (issue #16): rendering documents when Celery runs eagerly (no
``REDIS_URL``, the embedded mode).

One worker thread per process (``BACKGROUND_WORKERS``, default 1), started on first use: PDF
layout is CPU-bound, so one thread keeps a 2-core machine's request workers answering while
documents follow. Each job runs with its own database connection, closed afterwards. Nothing
here is durable: a process that dies with queued work leaves the rows pending, and the periodic
job that retries them (``pending_documents``) picks them up, as it does after a failed render.
At interpreter exit, ``concurrent.futures`` waits for the queued jobs to finish.

``settings.BACKGROUND_TASKS`` (env ``BACKGROUND_TASKS``, default on) turns it off: the work then
runs in place, in the caller's thread (the test suite does this; see tests/conftest.py).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger("certbody.background")

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_pending: set[Future] = set()


def enabled() -> bool:
    """Whether ``submit`` hands work to the background thread (``settings.BACKGROUND_TASKS``)."""
    return bool(getattr(settings, "BACKGROUND_TASKS", True))


def _get_executor() -> ThreadPoolExecutor:
    """The process's executor, created on first use (and again after a fork: gunicorn's
    workers must not share the master's, whose thread does not exist in the child)."""
    import os

    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(
                max_workers=int(getattr(settings, "BACKGROUND_WORKERS", 1)),
                thread_name_prefix="certbody-background",
            )
            _executor_pid = os.getpid()
        return _executor


def _run(func, args, kwargs):
    close_old_connections()
    try:
        return func(*args, **kwargs)
    except Exception:  # logged, never lost silently; the periodic jobs retry what is pending
        logger.exception("background job %s failed", getattr(func, "__name__", func))
        return None
    finally:
        connections.close_all()


def submit(func, /, *args, **kwargs) -> Future | None:
    """Run ``func(*args, **kwargs)`` in the background thread, or at once in this thread when
    background tasks are off. Returns the ``Future`` (None when run in place). Exceptions are
    logged, not raised to the caller. Call it after commit (``transaction.on_commit``): the
    background thread has its own connection and sees only committed rows."""
    if not enabled():
        func(*args, **kwargs)
        return None
    future = _get_executor().submit(_run, func, args, kwargs)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def wait(timeout: float | None = None) -> None:
    """Wait until everything submitted so far has run (benchmarks, management commands that
    must not exit before their documents are stored). ``timeout`` in seconds, None = forever."""
    with _lock:
        pending = list(_pending)
    if pending:
        futures_wait(pending, timeout=timeout)
