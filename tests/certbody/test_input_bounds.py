"""Unbounded input (issue 11 item 15): list parameters are validated, every form field gets the
bounds of its model column (certbody.bounds) and the services refuse a value beyond its column,
so a huge number is never stored to break the pages of everyone who opens it."""

from datetime import date
from decimal import Decimal

import pytest
from django import forms

from audits import services as audit_services
from audits.models import Audit
from certbody import bounds, roles
from certbody.models import Notification
from certificates import services as cert_services
from tests.certificates.factories import issued_certificate
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb", "english")

HUGE = "99999999999999999999999"
INT64 = str(2**63)


@shared_fixture
def certificate(staff):
    return issued_certificate(staff=staff)


@shared_fixture
def planned(certificate):
    return certificate.programme.audits.filter(state=Audit.State.PLANNED).order_by("pk").first()


# --- list parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "per_page=-1",
        "per_page=0",
        f"per_page={HUGE}",
        "page=-1",
        f"page={HUGE}",
        "page=x",
        "sort=no-such-column",
        "sort=-",
        f"sort={HUGE}",
    ],
)
def test_junk_list_parameters_show_the_list(client, staff, certificate, query):
    client.force_login(staff.planner)

    response = client.get(f"/staff/audits/?{query}")

    assert response.status_code == 200


def test_per_page_is_kept_within_its_bounds(rf, staff):
    from certbody.workspace import MAX_PER_PAGE, int_param

    assert int_param("-1", default=25, low=1, high=MAX_PER_PAGE) == 25
    assert int_param(HUGE, default=25, low=1, high=MAX_PER_PAGE) == 25
    assert int_param("50", default=25, low=1, high=MAX_PER_PAGE) == 50
    assert int_param("١٢", default=25, low=1, high=MAX_PER_PAGE) == 25  # not ASCII digits


@pytest.mark.parametrize("value", [INT64, HUGE, "-1", "1e3", "", "all-but-not"])
def test_notification_ids_beyond_the_column_mark_nothing(client, staff, value):
    Notification.objects.create(recipient=staff.planner, kind="k", subject="s", body="b")
    client.force_login(staff.planner)

    response = client.post("/notifications/", {"read": value})

    assert response.status_code == 302
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


# --- audit time -----------------------------------------------------------------------------


def test_a_huge_planned_days_is_refused_by_the_schedule_form(client, staff, planned):
    before = planned.planned_days
    client.force_login(staff.planner)
    url = f"/staff/audits/{planned.pk}/schedule/"
    data = {"planned_start": "2026-03-02", "planned_end": "2026-03-03"}

    for junk in [HUGE, "100000", "-" + HUGE, "1e400", "NaN"]:
        response = client.post(url, {**data, "planned_days": junk})
        assert response.status_code == 422, junk

    planned.refresh_from_db()
    assert planned.planned_days == before
    for page in [f"/staff/audits/{planned.pk}/", "/staff/audits/", "/staff/audits/?export=csv"]:
        assert client.get(page).status_code == 200


def test_the_schedule_service_refuses_planned_days_beyond_the_column(staff, planned):
    before = planned.planned_days

    with pytest.raises(ValueError, match="out of range"):
        audit_services.audit_schedule(
            audit=planned,
            actor=staff.planner,
            planned_start=date(2026, 3, 2),
            planned_end=date(2026, 3, 3),
            planned_days=Decimal(HUGE),
        )

    planned.refresh_from_db()
    assert planned.planned_days == before


# --- headcount ------------------------------------------------------------------------------


def test_a_headcount_beyond_the_column_is_refused_by_the_form(client, staff, certificate):
    programme = certificate.programme
    client.force_login(staff.planner)
    url = f"/staff/programmes/{programme.pk}/change-headcount/"

    for junk in [INT64, str(2**31), HUGE]:
        response = client.post(url, {"headcount": junk, "reason": "核实人数"})
        assert response.status_code == 422, junk

    programme.refresh_from_db()
    assert programme.headcount is None or programme.headcount < 2**31


def test_the_headcount_service_refuses_a_value_beyond_the_column(staff, certificate):
    with pytest.raises(ValueError, match="out of range"):
        audit_services.programme_headcount_change(
            programme=certificate.programme, actor=staff.planner, headcount=2**63, reason="x"
        )

    certificate.programme.refresh_from_db()
    assert certificate.programme.headcount != 2**63


# --- reissue --------------------------------------------------------------------------------

NAME_295 = "南京苏宁电器" * 49 + "有限公司"[:1]


def test_a_reissue_with_a_295_character_organisation_name_is_refused(client, certificate):
    assert len(NAME_295) == 295
    manager = make_staff("tm-bounds", roles.TECHNICAL_MANAGER)
    client.force_login(manager)
    url = f"/staff/certificates/{certificate.pk}/reissue/"
    data = {"reason": "01", "reissued_on": certificate.issued_on.isoformat()}

    response = client.post(url, {**data, "organization_name": NAME_295})

    assert response.status_code == 422
    assert "200" in response.content.decode()  # the form says the limit
    certificate.refresh_from_db()
    assert certificate.organization_name != NAME_295
    assert client.get(f"/staff/certificates/{certificate.pk}/").status_code == 200


def test_the_reissue_service_refuses_a_name_longer_than_its_column(certificate):
    manager = make_staff("tm-bounds-service", roles.TECHNICAL_MANAGER)

    with pytest.raises(ValueError, match="200"):
        cert_services.certificate_reissue(
            certificate=certificate,
            actor=manager,
            reason="01",
            reissued_on=certificate.issued_on,
            changes={"organization_name": NAME_295},
        )

    certificate.refresh_from_db()
    assert certificate.organization_name != NAME_295


# --- the bounds helper ------------------------------------------------------------------------


class MirrorForm(bounds.BoundedForm):
    bounds_model = "audits.Audit"
    bounds_fields = {"people": "audits.AuditProgramme.headcount"}

    planned_days = forms.DecimalField(min_value=Decimal("0.5"))
    reason = forms.CharField()
    people = forms.IntegerField(min_value=1)
    other = forms.IntegerField()
    when = forms.DateField()


def test_form_fields_get_the_bounds_of_their_model_columns():
    form = MirrorForm()

    days, reason, people = (form.fields[n] for n in ("planned_days", "reason", "people"))
    assert (days.max_digits, days.decimal_places) == (5, 1)
    assert days.max_value == Decimal("9999.9") and days.min_value == Decimal("0.5")
    assert reason.max_length == 300
    assert (people.min_value, people.max_value) == (1, 2**31 - 1)
    assert form.fields["other"].max_value == 2**31 - 1  # no column: a 32-bit integer


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("planned_days", "10000"),
        ("planned_days", "0.25"),
        ("reason", "x" * 301),
        ("people", str(2**31)),
        ("other", INT64),
        ("when", "9999-12-31"),
        ("when", "0001-01-01"),
    ],
)
def test_values_beyond_the_bounds_are_form_errors(field, value):
    data = {"planned_days": "3", "reason": "r", "people": "5", "other": "1", "when": "2025-06-02"}

    form = MirrorForm({**data, field: value})

    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert MirrorForm(data).is_valid()
