"""Fixture data built once per test module instead of once per test (issue #16).

Most of the suite's time goes into building certificates, audits and programmes the way
production does, through the services (``tests/certificates/factories.py``): an issued
certificate is about 0.12 s on SQLite and twice that on PostgreSQL. Where every test of a module
starts from the same data, ``@shared_fixture`` builds it once per module (per pytest-xdist
worker), the way Django's ``TestCase.setUpTestData`` does:

- the first test that asks for a shared fixture opens a transaction around the rest of the
  module (``module_transaction``); the builder runs inside it, under the same stand-ins the
  tests run under (stub PDFs unless the module is marked ``pdf``, documents rendered in place,
  a media directory of the module's own);
- each test then runs in a savepoint inside that transaction (pytest-django's ``db``), so what
  a test changes is rolled back before the next one, and the module's transaction is rolled
  back when the module ends;
- each test gets a deep copy of what the builder returned (one copy per test, shared by all
  its shared fixtures, as ``setUpTestData`` does), so a change a test makes to an object in
  memory never reaches the next test; the media files the builder wrote are copied into the
  test's own media directory.

A builder's parameters are other shared fixtures (``cb`` and ``staff`` are provided here) or
``module_monkeypatch`` (a module-scoped ``MonkeyPatch`` for patches the module's own autouse
fixtures apply to every test). Transactional tests (``transaction=True``, ``live_server``)
cannot run inside the module's transaction: a module that has both fails with a message.
"""

from __future__ import annotations

import copy
import functools
import inspect
import shutil
from pathlib import Path

import pytest

# Builder parameters passed through as they are (module-scoped fixtures), not as shared ones.
PASSED_THROUGH = {"module_monkeypatch"}

# The media directory of the module transaction that is open, if any (``_media_root`` copies
# it into each test's own directory).
open_media: Path | None = None


def shared_fixture(func=None, *, name: str | None = None):
    """Decorator: a fixture built once per module and copied into each test (module docstring).

    ``func(**deps)`` builds the data; each of its parameters names another shared fixture
    (``cb``, ``staff`` or one defined with this decorator) or ``module_monkeypatch``. Returns
    the function-scoped fixture the tests ask for by ``name`` (``func``'s name by default);
    the module-scoped one that holds the built value is ``_shared_<name>``. Define it at module
    level of a test module or a conftest, as with ``pytest.fixture``.
    """
    if func is None:
        return functools.partial(shared_fixture, name=name)
    name = name or func.__name__
    params = list(inspect.signature(func).parameters)
    deps = {p: p if p in PASSED_THROUGH else f"_shared_{p}" for p in params}

    def build(module_transaction, django_db_blocker, **kwargs):
        values = {p: kwargs[deps[p]] for p in params}
        with django_db_blocker.unblock():
            return func(**values)

    build.__signature__ = inspect.Signature(
        [
            inspect.Parameter(arg, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for arg in ("module_transaction", "django_db_blocker", *deps.values())
        ]
    )
    build.__name__ = f"_shared_{name}"
    module_fixture = pytest.fixture(scope="module", name=f"_shared_{name}")(build)

    def per_test(db, _shared_copies, **kwargs):
        return copy.deepcopy(kwargs[f"_shared_{name}"], _shared_copies)

    per_test.__signature__ = inspect.Signature(
        [
            inspect.Parameter(arg, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for arg in ("db", "_shared_copies", f"_shared_{name}")
        ]
    )
    per_test.__name__ = name
    per_test.__doc__ = func.__doc__
    test_fixture = pytest.fixture(name=name)(per_test)
    # Both must be module attributes for pytest to find them; the caller binds the returned
    # one to ``name`` and the module fixture is registered under a name of its own.
    caller = inspect.currentframe().f_back
    while caller is not None and caller.f_globals.get("__name__") == __name__:
        caller = caller.f_back
    caller.f_globals[f"_shared_{name}"] = module_fixture
    return test_fixture


def copy_media(test_media: Path) -> None:
    """Copy the files the module's builders stored into ``test_media`` (a test's own
    ``MEDIA_ROOT``), when a module transaction is open."""
    if open_media is not None and open_media.exists():
        shutil.copytree(open_media, test_media, dirs_exist_ok=True)


def refuse_transactional(transactional: bool) -> None:
    """Fail a transactional test (``transactional``) while a module transaction is open: its
    flush would empty the tables under the module's transaction."""
    if transactional and open_media is not None:
        pytest.fail(
            "a transactional test cannot run inside the transaction a module's shared fixtures "
            "hold (tests/shared.py): move it to a module without shared fixtures"
        )
