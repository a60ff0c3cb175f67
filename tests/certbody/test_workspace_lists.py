"""The workspace lists (issue #14, certbody.workspace): the default order (needing action first,
newest first), saved filters seen only by their owner, date-range filters, search by contact
person, the tick-box column with its static select-all script, and the bulk action every desk
has, "export selected" (forged and empty requests refused), at a constant number of queries."""

import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation
from openpyxl import load_workbook

from applications import services as app_services
from applications.models import ContactPerson
from certbody import roles
from certbody.models import SavedFilter
from certbody.workspace import saved
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.conftest import make_staff


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are matched on their English words: the compiled catalogue gives Chinese by
    default, so requests and code here speak English."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = pytest.mark.usefixtures("cb")

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def market(db):
    return make_staff("market-lists", roles.MARKET)


def new_application(market, organization=None):
    return app_services.application_create(
        organization=organization or OrganizationFactory(),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=60,
        business_scope_codes=[24],
    )


def submitted(market, on: date, organization=None):
    with time_machine.travel(datetime(on.year, on.month, on.day, 10, tzinfo=SHANGHAI)):
        application = new_application(market, organization)
        return app_services.application_submit(application=application, actor=market)


def references(response) -> list[str]:
    assert response.status_code == 200
    body = re.search(r"<tbody.*?</tbody>", response.content.decode(), re.S).group(0)
    return re.findall(r">(SQ\d+)<", body)


# --- default order ----------------------------------------------------------------------------


def test_list_opens_on_what_needs_action_then_newest_first(client, market):
    with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=SHANGHAI)):
        old_draft = new_application(market)
    waiting = submitted(market, date(2026, 3, 2))
    with time_machine.travel(datetime(2026, 3, 3, 10, tzinfo=SHANGHAI)):
        new_draft = new_application(market)
    client.force_login(market)

    listed = references(client.get("/staff/applications/"))

    assert listed == [waiting.reference, new_draft.reference, old_draft.reference]


def test_a_chosen_sort_replaces_the_default_order(client, market):
    first = submitted(market, date(2026, 3, 1))
    second = submitted(market, date(2026, 3, 5))
    client.force_login(market)

    listed = references(client.get("/staff/applications/?sort=submitted_at"))

    assert listed == [first.reference, second.reference]


# --- date ranges and search -------------------------------------------------------------------


def test_date_range_filter_keeps_the_days_from_and_to_inclusive(client, market):
    march = submitted(market, date(2026, 3, 31))
    april = submitted(market, date(2026, 4, 1))
    may = submitted(market, date(2026, 5, 1))
    client.force_login(market)

    listed = references(
        client.get(
            "/staff/applications/?submitted_at_after=2026-04-01&submitted_at_before=2026-04-30"
        )
    )
    from_only = references(client.get("/staff/applications/?submitted_at_after=2026-04-01"))

    assert listed == [april.reference]
    assert set(from_only) == {april.reference, may.reference}
    assert march.reference not in from_only


def test_date_range_inputs_are_two_date_fields(client, market):
    client.force_login(market)
    page = client.get("/staff/applications/").content.decode()

    assert re.search(r'<input type="date" name="submitted_at_after"', page)
    assert re.search(r'<input type="date" name="submitted_at_before"', page)


def test_search_finds_organisations_and_applications_by_contact_person(client, market):
    by_primary = OrganizationFactory(contact_name="王晓明")
    by_other = OrganizationFactory(contact_name="李四")
    ContactPerson.objects.create(organization=by_other, name="王晓明", phone="010-1")
    ContactPerson.objects.create(organization=by_other, name="王晓明二", phone="010-2")
    nobody = OrganizationFactory(contact_name="赵六")
    application = new_application(market, by_other)
    new_application(market, nobody)
    client.force_login(market)

    organizations = client.get("/staff/organizations/?q=王晓明").content.decode()
    applications = references(client.get("/staff/applications/?q=王晓明"))

    assert by_primary.name in organizations and by_other.name in organizations
    assert nobody.name not in organizations
    assert organizations.count(by_other.name) == 1  # two matching contacts, one row
    assert applications == [application.reference]


# --- saved filters ----------------------------------------------------------------------------


def test_saved_filter_keeps_the_filters_only_and_opens_the_list_with_them(client, market):
    client.force_login(market)

    response = client.post(
        "/staff/applications/filters/",
        {"name": "待审核", "query": "state=submitted&q=&page=3&export=csv"},
    )

    saved_filter = SavedFilter.objects.get(user=market, desk="applications")
    assert (saved_filter.name, saved_filter.query) == ("待审核", "state=submitted")
    assert response.status_code == 302
    assert response["Location"] == "/staff/applications/?state=submitted"
    page = client.get("/staff/applications/").content.decode()
    assert 'href="/staff/applications/?state=submitted"' in page


def test_saving_again_under_the_same_name_replaces_the_filter(client, market):
    client.force_login(market)
    client.post("/staff/applications/filters/", {"name": "mine", "query": "state=submitted"})
    client.post("/staff/applications/filters/", {"name": "mine", "query": "state=accepted"})

    assert list(SavedFilter.objects.values_list("name", "query")) == [("mine", "state=accepted")]


def test_saved_filters_are_seen_and_deleted_by_their_owner_only(client, market):
    other = make_staff("market-lists-2", roles.MARKET)
    mine = saved.saved_filter_save(
        actor=market, desk_key="applications", name="我的筛选", query="state=submitted"
    )

    client.force_login(other)
    page = client.get("/staff/applications/").content.decode()
    forged = client.post(f"/staff/applications/filters/{mine.pk}/delete/")

    assert "我的筛选" not in page
    assert forged.status_code == 404
    assert SavedFilter.objects.filter(pk=mine.pk).exists()

    client.force_login(market)
    assert "我的筛选" in client.get("/staff/applications/").content.decode()
    assert "我的筛选" not in client.get("/staff/contracts/").content.decode()  # per list
    client.post(f"/staff/applications/filters/{mine.pk}/delete/")
    assert not SavedFilter.objects.filter(pk=mine.pk).exists()


def test_saving_needs_a_name_and_some_filters(client, market, english):
    client.force_login(market)

    no_name = client.post(
        "/staff/applications/filters/", {"name": " ", "query": "state=submitted"}, follow=True
    )
    no_filters = client.post(
        "/staff/applications/filters/", {"name": "all", "query": "page=2"}, follow=True
    )

    assert "Give the filter a name." in no_name.content.decode()
    assert "Choose some filters before saving them." in no_filters.content.decode()
    assert not SavedFilter.objects.exists()


def test_clients_cannot_save_filters(client):
    user = ClientUserFactory(organization=OrganizationFactory())
    client.force_login(user)

    response = client.post("/staff/applications/filters/", {"name": "x", "query": "state=draft"})

    assert response.status_code == 403
    assert not SavedFilter.objects.exists()


# --- bulk actions: the tick boxes and "export selected" ----------------------------------------


def test_list_has_tick_boxes_tied_to_the_bulk_form_and_a_static_script(client, market):
    application = new_application(market)
    client.force_login(market)

    page = client.get("/staff/applications/").content.decode()

    assert re.search(
        rf'<input[^>]*name="selected"[^>]*value="{application.pk}"|'
        rf'<input[^>]*value="{application.pk}"[^>]*name="selected"',
        page,
    )
    assert 'form="bulk-form"' in page and 'id="bulk-form"' in page
    assert "bulk-select-all" in page
    assert re.search(r'<script src="[^"]*certbody/bulk\.js"', page)
    assert "<script>" not in page  # strict CSP: no inline script


def test_export_selected_downloads_only_the_ticked_rows(client, market):
    chosen = [new_application(market), new_application(market)]
    left_out = new_application(market)
    client.force_login(market)

    response = client.post(
        "/staff/applications/bulk/",
        {"bulk": "export", "selected": [str(a.pk) for a in chosen]},
    )

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = {value for row in sheet.iter_rows(values_only=True) for value in row}
    assert {a.reference for a in chosen} <= cells
    assert left_out.reference not in cells


def test_bulk_request_without_rows_goes_back_to_the_list(client, market, english):
    client.force_login(market)

    response = client.post(
        "/staff/applications/bulk/", {"bulk": "export", "selected": ["x", "999999"]}, follow=True
    )

    assert "Select at least one row." in response.content.decode()


def test_bulk_requests_are_refused_to_clients_and_unknown_actions_are_404(client, market):
    application = new_application(market)
    client.force_login(ClientUserFactory(organization=application.organization))
    forged = client.post(
        "/staff/applications/bulk/", {"bulk": "export", "selected": [application.pk]}
    )
    client.force_login(market)
    unknown = client.post(
        "/staff/applications/bulk/", {"bulk": "nothing", "selected": [application.pk]}
    )
    by_get = client.get("/staff/applications/bulk/")

    assert forged.status_code == 403
    assert unknown.status_code == 404
    assert by_get.status_code == 405


# --- constant number of queries ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/staff/applications/?q=王&submitted_at_after=2020-01-01",
        "/staff/organizations/?q=王",
        "/staff/applications/",
    ],
)
def test_lists_with_search_and_dates_keep_their_number_of_queries(
    client, market, url, django_assert_max_num_queries
):
    saved.saved_filter_save(actor=market, desk_key="applications", name="a", query="state=draft")
    client.force_login(market)

    def make(n):
        for _ in range(n):
            organization = OrganizationFactory(contact_name="王五")
            ContactPerson.objects.create(organization=organization, name="王五", phone="1")
            submitted(market, date(2026, 3, 1), organization)

    make(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    make(8)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200
