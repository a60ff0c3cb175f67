"""Shared fixtures: the CB profile, staff users per role, a client organisation and user."""

import gc
import itertools
import os

import pytest
from django.contrib.auth.models import Group

from certbody import roles
from certbody.models import CertificationBody
from tests import shared

# Playwright's sync API runs an event loop; Django refuses ORM calls from such threads
# unless told it is safe (only the browser tests use both).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_media_dirs = itertools.count()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    """Each test stores its files in a media directory of its own. Numbered here rather than
    made with ``tmp_path``, which lists every directory it made before to find the next number
    (the suite's 3,000 tests made that quadratic)."""
    media = tmp_path_factory.getbasetemp() / "media" / str(next(_media_dirs))
    media.mkdir(parents=True)
    settings.MEDIA_ROOT = media
    shared.copy_media(media)


STUB_PDF = b"%PDF-1.7\n% stand-in for tests that do not look at the PDF\n%%EOF\n"


def stand_ins(monkeypatch, node) -> None:
    """The stand-ins every test runs under, applied with ``monkeypatch`` for ``node`` (a test,
    or a module whose shared fixtures are built once: ``tests/shared.py``), by its marks:

    - PDFs: WeasyPrint takes 0.3–0.7 s a page; outside ``pdf`` the HTML is still rendered from
      its template (so template errors fail any test) but not laid out as a PDF. With no real
      PDF there is nothing to read back and no font in use: the read-back and font checks
      (``certbody.pdf.check_readable``, ``require_fonts``) belong to the real renders only.
    - Documents: services write documents pending and render them after commit (issue #11).
      pytest-django runs each test inside a transaction that never commits, so outside
      ``after_commit`` the render runs in place of the on-commit hook, right where the service
      queues it (the document is stored when the service returns, as tests expect).
      ``after_commit`` keeps the on-commit hook and, without REDIS_URL, the eager Celery task
      (production hands it to a background thread, switched off here); with REDIS_URL the
      render is called directly, so no worker is needed. No background thread: it would not
      see the test's uncommitted rows (tests/certbody/test_background.py covers the thread).
    """
    from django.conf import settings

    from certificates import pdf

    if node.get_closest_marker("pdf") is None:
        monkeypatch.setattr("certbody.pdf.html_to_pdf", lambda html: STUB_PDF)
        monkeypatch.setattr("certbody.pdf.check_readable", lambda content, expected: None)
        monkeypatch.setattr("certbody.pdf.require_fonts", lambda: None)
    else:
        # the real ones, also for a test in a module whose shared fixtures were built with stubs
        for name, func in _REAL["certbody.pdf"].items():
            monkeypatch.setattr(f"certbody.pdf.{name}", func)
    after_commit = node.get_closest_marker("after_commit") is not None
    monkeypatch.setattr(settings, "BACKGROUND_TASKS", False)
    if not (after_commit and settings.CELERY_TASK_ALWAYS_EAGER):
        monkeypatch.setattr(
            pdf, "_dispatch", lambda document_id: pdf.document_render(document_id=document_id)
        )
    else:
        monkeypatch.setattr(pdf, "_dispatch", _REAL["certificates.pdf"]["_dispatch"])
    if not after_commit:
        monkeypatch.setattr(pdf, "after_commit", lambda func: func())
    else:
        monkeypatch.setattr(pdf, "after_commit", _REAL["certificates.pdf"]["after_commit"])


def _real_functions() -> dict:
    """The functions ``stand_ins`` replaces, as the product defines them."""
    import certbody.pdf
    import certificates.pdf

    return {
        "certbody.pdf": {
            name: getattr(certbody.pdf, name)
            for name in ("html_to_pdf", "check_readable", "require_fonts")
        },
        "certificates.pdf": {
            name: getattr(certificates.pdf, name) for name in ("_dispatch", "after_commit")
        },
    }


_REAL = _real_functions()


@pytest.fixture(autouse=True)
def _stand_ins(request, monkeypatch):
    stand_ins(monkeypatch, request.node)


@pytest.fixture(autouse=True)
def _staff_two_factor(request, settings):
    """Staff 2FA is enforced only in tests marked ``two_factor``; the others log staff in with
    ``force_login`` (no OTP device) and test what comes after the log-in."""
    settings.STAFF_REQUIRE_2FA = request.node.get_closest_marker("two_factor") is not None


DEMO_FIXTURES = {"demo", "seeded"}


def stray_demo_tests(items) -> list[str]:
    """Node ids of the tests that use the demo data set (a ``demo`` or ``seeded`` fixture)
    outside the ``demo`` xdist group."""
    stray = []
    for item in items:
        if DEMO_FIXTURES & set(getattr(item, "fixturenames", ())):
            group = item.get_closest_marker("xdist_group")
            if group is None or group.args[:1] != ("demo",):
                stray.append(item.nodeid)
    return stray


def pytest_collection_finish(session):
    """The tests allocate millions of short-lived ORM and template objects, and Python's
    collector went through the whole heap again and again (about a tenth of a worker's CPU):
    what is alive once the tests are collected (Django, the apps, the test modules) is frozen
    out of collection, and the youngest generation is collected every 50,000 allocations
    instead of 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def pytest_collection_modifyitems(config, items):
    """A test on the demo data set must be in the ``demo`` xdist group: that worker builds the
    demo once and restores it for each later test; anywhere else it is built again."""
    stray = stray_demo_tests(items)
    if stray:
        raise pytest.UsageError(
            'tests using the demo must be marked pytest.mark.xdist_group("demo"): '
            + ", ".join(stray)
        )


# Whether a transactional test has flushed the tables since the base data was last put back.
_base_data_flushed = False


def _ensure_base_data():
    from tests.db_setup import base_data

    base_data()


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """Each worker's test database, made from the models and completed as the migrations would
    leave it (``tests.db_setup``: about 40 s of CPU less per worker than replaying them)."""
    from django.db import connections
    from django.test import override_settings
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    from tests.db_setup import NoMigrations, finish, install_delete_flush

    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    with django_db_blocker.unblock():
        with override_settings(MIGRATION_MODULES=NoMigrations()):
            db_cfg = setup_databases(
                verbosity=0,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
            )
        for alias in aliases:
            finish(connections[alias])
            if connections[alias].vendor == "postgresql":
                install_delete_flush()
                ops = connections[alias].ops
                # A test database need not survive a crash: commits (transactional tests,
                # live servers, job runners in subprocesses) don't wait for the WAL flush.
                name = ops.quote_name(connections[alias].settings_dict["NAME"])
                with connections[alias].cursor() as cursor:
                    cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit TO off")
                    cursor.execute("SET synchronous_commit TO off")
    yield
    with django_db_blocker.unblock():
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture(scope="module")
def base_data_committed(django_db_setup, django_db_blocker):
    """For module fixtures that hold one transaction around a whole module (the demo tests):
    base data a transactional test flushed is put back, committed, before that transaction
    opens. Restored inside it (by ``_base_data``, which runs per test), it would be rolled
    back with the module, and every later test of the worker would find no role groups.
    Also when the flag missed a flush (one query), as ``_base_data`` checks per test."""
    with django_db_blocker.unblock():
        restore_base_data()


def restore_base_data() -> None:
    """Put the base data back when a transactional test flushed it (the flag) or it is missing
    anyway (one query)."""
    global _base_data_flushed
    if _base_data_flushed or not _base_data_present():
        _ensure_base_data()
    _base_data_flushed = False


def _base_data_present() -> bool:
    return Group.objects.filter(name=roles.MARKET).exists()


@pytest.fixture(autouse=True)
def _base_data(request, django_db_blocker):
    """Transactional tests flush the tables the migrations filled; put them back, committed,
    before the next database test starts (its own transaction then rolls back to them)."""
    global _base_data_flushed
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        DB_FIXTURES & set(request.fixturenames)
    )
    if not uses_db:
        yield
        return
    request.getfixturevalue("django_db_setup")
    shared.refuse_transactional(_is_transactional(request))
    with django_db_blocker.unblock():
        # Also when the flag missed a flush (one query): a module-wide transaction can roll
        # a restore back.
        restore_base_data()
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("_django_db_helper")
    yield
    if _is_transactional(request):
        # _django_db_helper's teardown (the flush) has run before this one.
        _base_data_flushed = True


@pytest.fixture(scope="module")
def module_monkeypatch():
    """A ``MonkeyPatch`` undone when the module ends (for shared fixtures' builders)."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def module_transaction(
    request, django_db_setup, base_data_committed, django_db_blocker, tmp_path_factory
):
    """The transaction held around the rest of a module once a test asks for a shared fixture,
    with the stand-ins its tests run under and a media directory of its own; rolled back when
    the module ends (``tests/shared.py``)."""
    from django.core.cache import cache
    from django.db import transaction
    from django.test import override_settings

    media = tmp_path_factory.mktemp("shared-media")
    node = request.node
    with (
        pytest.MonkeyPatch.context() as patch,
        override_settings(
            MEDIA_ROOT=media, STAFF_REQUIRE_2FA=node.get_closest_marker("two_factor") is not None
        ),
    ):
        stand_ins(patch, node)
        with django_db_blocker.unblock():
            cache.clear()
            atomic = transaction.atomic()
            atomic.__enter__()
        shared.open_media = media
        try:
            yield media
        finally:
            shared.open_media = None
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                cache.clear()


@pytest.fixture
def _shared_copies():
    """The deep-copy memo of one test: its shared fixtures' copies share their objects."""
    return {}


def cb_create():
    """The CB profile the tests run with (pk 1)."""
    body, _ = CertificationBody.objects.update_or_create(
        pk=1,
        defaults={
            "name": "中信认证有限公司",
            "address": "北京市朝阳区建国路 88 号",
            "cnca_approval_number": "CNCA-R-2018-123",
            "number_prefix": "0123",
            "accreditation": "C",
            "accreditation_number": "CNAS C123-S",
        },
    )
    return body


@pytest.fixture
def cb(db):
    return cb_create()


shared.shared_fixture(cb_create, name="cb")


def _staff_create(cb):
    """One staff member per role (``tests.certificates.factories.Staff``), built once per
    module: the ``staff`` of every module that does not define its own."""
    from tests.certificates.factories import Staff

    return Staff()


staff = shared.shared_fixture(_staff_create, name="staff")


def make_staff(username: str, *role_names: str):
    from certbody.models import User

    user = User.objects.create_user(
        username=username, password="pw-" + username, is_staff=True, display_name=username
    )
    for name in role_names:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def market(db):
    return make_staff("market1", roles.MARKET)


@pytest.fixture
def planner(db):
    return make_staff("planner1", roles.AUDIT_DEPARTMENT)


@pytest.fixture
def leader(db):
    return make_staff("leader1", roles.AUDITOR)


@pytest.fixture
def auditor(db):
    return make_staff("auditor2", roles.AUDITOR)


@pytest.fixture
def decider(db):
    return make_staff("decider1", roles.DECISION_MAKER)


@pytest.fixture
def technical_manager(db):
    return make_staff("tm1", roles.TECHNICAL_MANAGER)


@pytest.fixture
def system_user(db):
    from certbody.lifecycle import system_user

    return system_user()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters (and anything else cached) never carry over from another test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request through the test client leaves the
    language its LocaleMiddleware activated on the thread (e.g. English from Accept-Language),
    which would otherwise decide the wording in whichever test runs next in that worker."""
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def english():
    """Messages in English, as an English-speaking user reads them (rule messages go through
    gettext; the default language is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield
