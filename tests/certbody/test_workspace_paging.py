"""Paging a long workspace list (issue #16, ``certbody.workspace.tables.TailPaginator``): a page
in the second half is read in the reversed order from its end, and holds exactly the rows the
forward read gives, in the same order; past the end is the last page, counted once."""

import re

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Organization
from certbody import roles
from tests.applications.factories import OrganizationFactory
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")

LIST = "/staff/organizations/"


@pytest.fixture
def market(db):
    return make_staff("market-paging", roles.MARKET)


def row_ids(response) -> list[int]:
    assert response.status_code == 200
    link = reverse("workspace:object", args=["organizations", 999999]).replace("999999", r"(\d+)")
    return [int(pk) for pk in re.findall(f'href="{link}"', response.content.decode())]


def test_every_page_holds_the_rows_of_the_forward_order(client, market):
    OrganizationFactory.create_batch(7)
    expected = list(
        Organization.objects.order_by(F("created_at").desc(nulls_last=True), "-pk").values_list(
            "pk", flat=True
        )
    )
    client.force_login(market)

    pages = [row_ids(client.get(LIST, {"per_page": 2, "page": n})) for n in (1, 2, 3, 4)]

    assert pages == [expected[0:2], expected[2:4], expected[4:6], expected[6:7]]
    assert row_ids(client.get(LIST, {"per_page": 2, "page": 99})) == expected[6:7]


def test_the_last_page_is_read_from_the_end_with_one_count(client, market):
    OrganizationFactory.create_batch(7)
    client.force_login(market)
    client.get(LIST)

    with CaptureQueriesContext(connection) as captured:
        client.get(LIST, {"per_page": 2, "page": 1000000000})

    sql = [q["sql"] for q in captured.captured_queries if "applications_organization" in q["sql"]]
    assert sum(s.startswith("SELECT COUNT(") for s in sql) == 1
    assert not any("OFFSET 6" in s for s in sql)
    assert any("LIMIT 1" in s for s in sql)


def test_a_sort_by_a_column_that_is_not_unique_pages_forward(client, market):
    for headcount in (10, 20, 20, 20, 30):
        OrganizationFactory(headcount=headcount)
    client.force_login(market)

    seen = [
        row_ids(client.get(LIST, {"per_page": 2, "page": n, "sort": "headcount"}))
        for n in (1, 2, 3)
    ]

    ids = [pk for page in seen for pk in page]
    assert sorted(ids) == sorted(Organization.objects.values_list("pk", flat=True))


def test_the_audit_order_index_is_the_audits_desks_default_order():
    import importlib

    from audits.desks._common import OPEN_AUDIT_STATES
    from certbody.workspace.desks import DESKS

    migration = importlib.import_module("audits.migrations.0016_audit_desk_order_index")
    ordered = dict(DESKS["audits"].needs_action().children)["state__in"]

    assert tuple(migration.OPEN_STATES) == tuple(OPEN_AUDIT_STATES) == tuple(ordered)
    assert DESKS["audits"].newest == "due_on"


@pytest.mark.parametrize(
    ("term", "lookups"),
    [
        ("沈阳", {"name__contains"}),
        ("Shenyang", {"name__icontains", "uscc__icontains"}),
        ("9121", {"name__contains", "uscc__contains"}),
    ],
)
def test_a_search_term_without_letter_case_is_matched_without_upper(term, lookups):
    from certbody.workspace.tables import text_search

    condition = text_search(term, ("name", "uscc"), ascii_fields=("uscc",))

    assert {lookup for lookup, _value in condition.children} == lookups
