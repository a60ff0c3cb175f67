"""Fixtures of the reporting tests: staff per role (with e-mail addresses), no PDF rendering."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from certbody import roles
from tests.certificates.helpers import skip_pdf_rendering
from tests.conftest import make_staff

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour: int = 9) -> datetime:
    """An aware Asia/Shanghai datetime on the local date ``day`` (for time-machine)."""
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


class People:
    """The certificate workflow's staff (tests.certificates.factories.Staff) and the people the
    jobs notify, each with an e-mail address."""

    def __init__(self):
        from certbody.models import User
        from tests.certificates.factories import Staff

        self.workflow = Staff()

        def get(name, role):
            user = User.objects.filter(username=name).first() or make_staff(name, role)
            if not user.email:
                user.email = f"{name}@cb.example.cn"
                user.save(update_fields=["email"])
            return user

        self.reporting = get("rp-reporting", roles.REPORTING_OFFICER)
        self.technical_manager = get("rp-techmgr", roles.TECHNICAL_MANAGER)
        self.planner = get("rp-planner", roles.AUDIT_DEPARTMENT)
        self.market = get("rp-market", roles.MARKET)
        self.decider = get("rp-decider", roles.DECISION_MAKER)


@pytest.fixture
def people(cb):
    return People()


# Whether a transactional test flushed the tables since the stored layouts were put back.
_layouts_flushed = False


@pytest.fixture(autouse=True)
def _stored_layouts(request):
    """The data migration stores version 1 of every default layout (reporting 0006); a
    transactional test's flush empties the table, so it is put back before the next database
    test, as tests/conftest.py does for the base data."""
    global _layouts_flushed
    from tests.conftest import DB_FIXTURES, _is_transactional

    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        DB_FIXTURES & set(request.fixturenames)
    )
    if uses_db and _layouts_flushed:
        from reporting.layouts import store_defaults

        request.getfixturevalue("django_db_blocker")
        with request.getfixturevalue("django_db_blocker").unblock():
            store_defaults()
        _layouts_flushed = False
    yield
    if uses_db and _is_transactional(request):
        _layouts_flushed = True
