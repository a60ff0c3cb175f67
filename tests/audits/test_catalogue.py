"""Versions of the indicator catalogue: copying, locking once used, making current with the
fixed part totals (004 §5.6.5.2), on the workspace's catalogue pages."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audits import services as score_sheets
from audits.catalogue import DEFAULT_VERSION
from audits.models import IndicatorCatalogue
from certbody import roles
from certbody.lifecycle import RuleViolation
from tests.audits.test_score_sheets import stage2_in_progress
from tests.certificates.factories import assess_all_met
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def default():
    return IndicatorCatalogue.objects.get(version=DEFAULT_VERSION)


@pytest.fixture
def copy(staff, default):
    return score_sheets.catalogue_new_version(
        source=default, actor=staff.planner, version="2026-1", title="2026 年版检查表"
    )


def set_points(catalogue, **points):
    for code, value in points.items():
        indicator = catalogue.indicators.get(code=code)
        indicator.max_points = D(value)
        indicator.save()


# --- services -----------------------------------------------------------------------------


def test_new_version_copies_every_indicator_and_is_not_current(default, copy):
    fields = ("part", "code", "name", "max_points", "method", "guidance", "position")
    assert list(copy.indicators.values_list(*fields)) == list(
        default.indicators.values_list(*fields)
    )
    assert copy.indicators.count() == 15
    assert not copy.is_current and not copy.is_locked
    assert copy.title == "2026 年版检查表"
    assert DEFAULT_VERSION in copy.notes
    default.refresh_from_db()
    assert default.is_current


def test_new_version_keeps_the_title_when_none_is_given(staff, default):
    copy = score_sheets.catalogue_new_version(source=default, actor=staff.planner, version="v2")
    assert copy.title == default.title


def test_new_version_label_must_be_new(staff, default, copy):
    with pytest.raises(RuleViolation, match="已存在"):
        score_sheets.catalogue_new_version(source=default, actor=staff.planner, version="2026-1")


def test_only_the_audit_department_or_technical_manager_keeps_the_catalogue(staff, default, copy):
    with pytest.raises(RuleViolation, match="无权"):
        score_sheets.catalogue_new_version(source=default, actor=staff.leader, version="x")
    with pytest.raises(RuleViolation, match="无权"):
        score_sheets.catalogue_make_current(catalogue=copy, actor=staff.decider)


def test_a_version_used_by_a_score_sheet_is_locked(staff, default):
    assert not default.is_locked
    score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)
    assert default.is_locked
    indicator = default.indicators.get(code="1.1")
    indicator.max_points = D(6)
    with pytest.raises(ValidationError):
        indicator.save()
    with pytest.raises(ValidationError):
        indicator.delete()
    # the copy is the way to change the points
    copy = score_sheets.catalogue_new_version(source=default, actor=staff.planner, version="v2")
    set_points(copy, **{"1.1": "6", "1.2": "5"})
    assert copy.indicators.get(code="1.1").max_points == D(6)


def test_make_current_refuses_parts_not_adding_up_to_40_35_25(staff, default, copy):
    set_points(copy, **{"1.1": "6"})  # system 41
    with pytest.raises(RuleViolation, match=r"售后服务体系合计 41 分，应为 40 分.*004 §5.6.5.2"):
        score_sheets.catalogue_make_current(catalogue=copy, actor=staff.planner)
    copy.refresh_from_db()
    default.refresh_from_db()
    assert not copy.is_current and default.is_current


def test_make_current_switches_new_sheets_but_old_sheets_keep_their_version(staff, default, copy):
    old_sheet = score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)
    set_points(copy, **{"1.1": "6", "1.2": "5"})  # still 40 for the system part
    technical_manager = make_staff("cat-tm", roles.TECHNICAL_MANAGER)
    score_sheets.catalogue_make_current(catalogue=copy, actor=technical_manager)
    copy.refresh_from_db()
    default.refresh_from_db()
    assert copy.is_current and not default.is_current
    assert IndicatorCatalogue.objects.filter(is_current=True).count() == 1
    new_sheet = score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)
    assert new_sheet.catalogue == copy
    new_sheet = assess_all_met(new_sheet, staff.leader)
    assert new_sheet.items.get(indicator__code="1.1").points == D(6)
    old_sheet.refresh_from_db()
    assert old_sheet.catalogue == default
    assert old_sheet.items.get(indicator__code="1.1").indicator.max_points == D(5)


# --- workspace pages (formerly the admin) ---------------------------------------------------


def action(client, name, catalogue, **data):
    return client.post(reverse("workspace:action", args=["catalogues", catalogue.pk, name]), data)


def test_a_locked_version_offers_no_edit_and_a_copy_does(client, staff, default, copy):
    score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)
    client.force_login(staff.planner)
    locked = client.get(reverse("workspace:object", args=["catalogues", default.pk]))
    assert locked.status_code == 200
    assert 'data-action="edit-indicators"' not in locked.content.decode()
    assert "组织架构" in locked.content.decode()
    editable = client.get(
        reverse("workspace:action", args=["catalogues", copy.pk, "edit-indicators"])
    )
    one = copy.indicators.get(code="1.1")
    assert f'name="max_points_{one.pk}"' in editable.content.decode()


def test_the_list_shows_part_totals(client, staff, default):
    client.force_login(staff.planner)
    page = client.get(reverse("workspace:list", args=["catalogues"])).content.decode()
    assert "售后服务体系 40/40" in page and "顾客服务 25/25" in page


def test_a_new_version_is_copied_on_its_confirm_page(client, staff, default):
    client.force_login(staff.planner)
    response = action(client, "copy", default, version="2027-1", title="")
    new = IndicatorCatalogue.objects.get(version="2027-1")
    assert response["Location"] == reverse("workspace:object", args=["catalogues", new.pk])
    assert new.indicators.count() == 15


def test_make_current_refuses_wrong_totals_on_the_form(client, staff, default, copy):
    set_points(copy, **{"3.2": "12"})  # customer 24
    client.force_login(staff.planner)
    response = action(client, "make-current", copy)
    assert response.status_code == 422
    assert "顾客服务合计 24 分，应为 25 分" in response.content.decode()
    copy.refresh_from_db()
    assert not copy.is_current
