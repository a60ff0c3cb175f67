"""Versions of the indicator catalogue: copying, locking once used, making current with the
fixed part totals (004 §5.6.5.2), and their admin; the score sheet's read-only admin."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from audits import score_sheets
from audits.admin import IndicatorCatalogueAdmin
from audits.catalogue import DEFAULT_VERSION
from audits.models import Indicator, IndicatorCatalogue
from certbody import roles
from certbody.lifecycle import RuleViolation
from tests.audits.test_score_sheets import stage2_in_progress
from tests.certificates.factories import Staff
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def staff(cb):
    return Staff()


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
    with pytest.raises(RuleViolation, match="不能维护评价指标目录"):
        score_sheets.catalogue_new_version(source=default, actor=staff.leader, version="x")
    with pytest.raises(RuleViolation, match="不能维护评价指标目录"):
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
    assert new_sheet.items.get(indicator__code="1.1").points == D(6)
    old_sheet.refresh_from_db()
    assert old_sheet.catalogue == default
    assert old_sheet.items.get(indicator__code="1.1").indicator.max_points == D(5)


# --- admin --------------------------------------------------------------------------------


def action(client, name, pk, **data):
    url = reverse("admin:audits_indicatorcatalogue_changelist")
    return client.post(
        url, {"action": name, "_selected_action": [pk], "apply": "1", **data}, follow=True
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_admin_locked_version_shows_indicators_read_only(client, staff, default, copy):
    score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)
    client.force_login(staff.planner)
    locked = client.get(reverse("admin:audits_indicatorcatalogue_change", args=[default.pk]))
    assert locked.status_code == 200
    assert 'name="indicators-0-max_points"' not in locked.content.decode()
    assert "组织架构" in locked.content.decode()
    editable = client.get(reverse("admin:audits_indicatorcatalogue_change", args=[copy.pk]))
    assert 'name="indicators-0-max_points"' in editable.content.decode()


def test_admin_lists_part_totals(client, staff, default):
    client.force_login(staff.planner)
    page = client.get(reverse("admin:audits_indicatorcatalogue_changelist")).content.decode()
    assert "售后服务体系 40/40" in page and "顾客服务 25/25" in page


def test_admin_new_version_action(client, staff, default):
    client.force_login(staff.planner)
    response = action(client, "new_catalogue_version", default.pk, version="2027-1", title="")
    assert any("1 项已完成" in m for m in messages_of(response))
    assert IndicatorCatalogue.objects.get(version="2027-1").indicators.count() == 15


def test_admin_make_current_refuses_wrong_totals(client, staff, default, copy):
    set_points(copy, **{"3.2": "12"})  # customer 24
    client.force_login(staff.planner)
    response = action(client, "make_catalogue_current", copy.pk)
    assert any("顾客服务合计 24 分，应为 25 分" in m for m in messages_of(response))
    copy.refresh_from_db()
    assert not copy.is_current


def inline_formset(staff, catalogue, **points):
    """The admin's indicator formset for ``catalogue`` bound with its rows, ``points`` changed."""
    request = RequestFactory().get("/")
    request.user = staff.planner
    model_admin = IndicatorCatalogueAdmin(IndicatorCatalogue, admin.site)
    inline = model_admin.get_inline_instances(request, catalogue)[0]
    formset_class = inline.get_formset(request, catalogue)
    indicators = list(catalogue.indicators.all())
    data = {
        "indicators-TOTAL_FORMS": str(len(indicators)),
        "indicators-INITIAL_FORMS": str(len(indicators)),
        "indicators-MIN_NUM_FORMS": "0",
        "indicators-MAX_NUM_FORMS": "1000",
    }
    for n, indicator in enumerate(indicators):
        for field in ("position", "part", "code", "name", "method", "guidance"):
            data[f"indicators-{n}-{field}"] = str(getattr(indicator, field))
        data[f"indicators-{n}-max_points"] = points.get(indicator.code, str(indicator.max_points))
        data[f"indicators-{n}-id"] = str(indicator.pk)
        data[f"indicators-{n}-catalogue"] = str(catalogue.pk)
    return formset_class(data, instance=catalogue, prefix="indicators")


def test_admin_refuses_breaking_the_totals_of_the_current_version(staff, default, copy):
    assert not inline_formset(staff, default, **{"1.1": "7"}).is_valid()
    assert inline_formset(staff, default, **{"1.1": "6", "1.2": "5"}).is_valid()
    # a version being prepared may be incomplete until it is made current
    assert inline_formset(staff, copy, **{"1.1": "7"}).is_valid()


def test_score_sheet_admin_is_read_only_with_a_link_to_the_staff_page(client, staff):
    audit = stage2_in_progress(staff)
    sheet = score_sheets.score_sheet_open(audit=audit, actor=staff.leader)
    client.force_login(staff.planner)
    response = client.get(reverse("admin:audits_scoresheet_change", args=[sheet.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("audits:score_sheet", args=[audit.pk]) in page
    assert 'name="_save"' not in page
    assert "五星级" in page
    audit_page = client.get(reverse("admin:audits_audit_change", args=[audit.pk])).content
    assert reverse("audits:score_sheet", args=[audit.pk]) in audit_page.decode()
    assert Indicator.objects.filter(catalogue=sheet.catalogue).count() == 15
