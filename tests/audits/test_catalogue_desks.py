"""The indicator catalogue desk of the staff workspace (audits.desks, 004 §5.6.5.2): versions
listed with their lock, indicators and points per part; the version's page grouping the
indicators by part against 40 / 35 / 25; copying, making current and editing the indicators
through the confirm pages (``score_sheets.catalogue_indicators_update``); locked versions and
broken totals refused; forged requests 403.
"""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits import services as score_sheets
from audits.catalogue import DEFAULT_VERSION
from audits.models import Indicator, IndicatorCatalogue
from certbody import roles
from certbody.lifecycle import RuleViolation
from tests.audits.test_score_sheets import stage2_in_progress
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

D = Decimal
ACTION = re.compile(r'data-action="([a-z-]+)"')


@pytest.fixture
def tm(db):
    return make_staff("cat-desk-tm", roles.TECHNICAL_MANAGER)


@pytest.fixture
def default():
    return IndicatorCatalogue.objects.get(version=DEFAULT_VERSION)


@pytest.fixture
def copy(staff, default):
    return score_sheets.catalogue_new_version(
        source=default, actor=staff.planner, version="2026-1", title="2026 年版检查表"
    )


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def offered(client, user, catalogue) -> set[str]:
    return set(ACTION.findall(page(get(client, user, f"/staff/catalogues/{catalogue.pk}/"))))


def points(catalogue, code) -> Decimal:
    return catalogue.indicators.get(code=code).max_points


def edit_data(catalogue, **changes) -> dict:
    """The edit form's POST data: every indicator as it is, ``changes[code]`` applied
    (a dict of field → value, e.g. ``{"1.1": {"max_points": "6"}}``)."""
    data = {}
    for indicator in catalogue.indicators.all():
        values = {
            "name": indicator.name,
            "max_points": str(indicator.max_points),
            "method": indicator.method,
            "guidance": indicator.guidance,
            **changes.get(indicator.code, {}),
        }
        for name, value in values.items():
            data[f"{name}_{indicator.pk}"] = value
    return data


def edit(client, user, catalogue, **changes):
    return post(
        client,
        user,
        f"/staff/catalogues/{catalogue.pk}/edit-indicators/",
        edit_data(catalogue, **changes),
    )


# --- list and page -----------------------------------------------------------------------------


def test_list_shows_versions_with_current_lock_indicators_and_totals(client, staff, default, copy):
    score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)
    copy.indicators.filter(code="1.1").update(max_points=D(6))

    html = page(get(client, staff.leader, "/staff/catalogues/"))

    assert DEFAULT_VERSION in html and "2026-1" in html
    assert f'href="/staff/catalogues/{copy.pk}/"' in html
    assert "售后服务体系 41/40 ✗" in html and "售后服务体系 40/40" in html
    csv = get(client, staff.leader, "/staff/catalogues/?export=csv").content.decode("utf-8-sig")
    lines = {line.split(",")[0]: line for line in csv.splitlines()[1:]}
    assert "15" in lines["2026-1"] and "41/40 ✗" in lines["2026-1"]
    default_row = lines[DEFAULT_VERSION].split(",")
    assert default_row[2:5] == ["True", "True", "15"]  # current, locked, indicators
    filtered = page(get(client, staff.leader, "/staff/catalogues/?q=2026"))
    assert "2026-1" in filtered and DEFAULT_VERSION not in filtered


def test_list_runs_the_same_queries_for_more_versions(client, staff, default):
    def count():
        client.force_login(staff.planner)
        client.get("/staff/catalogues/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/staff/catalogues/").status_code == 200
        return len(captured)

    one = count()
    for n in range(4):
        score_sheets.catalogue_new_version(source=default, actor=staff.planner, version=f"v{n}")
    score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)
    assert count() == one


def test_version_page_groups_indicators_by_part_with_their_totals(client, staff, default):
    html = page(get(client, staff.leader, f"/staff/catalogues/{default.pk}/"))

    assert 'data-testid="totals-ok"' in html
    for part, total in (("system", "40/40"), ("goods", "35/35"), ("customer", "25/25")):
        assert f'id="catalogue-part-{part}"' in html
        assert re.search(rf'data-part-total="{part}">{total}<', html)
    one = default.indicators.get(code="1.2")
    assert one.name in html and one.guidance in html and one.get_method_display() in html
    assert re.search(r'data-code="1.2">\s*<td>1.2</td><td>人员配置</td><td data-points>6<', html)
    # a role that keeps no catalogue only reads it
    assert offered(client, staff.leader, default) == set()
    assert offered(client, staff.planner, default) == {"edit-indicators", "copy"}


def test_a_version_with_wrong_totals_shows_the_problems(client, staff, copy):
    copy.indicators.filter(code="2.1").update(max_points=D("4.5"))

    html = page(get(client, staff.planner, f"/staff/catalogues/{copy.pk}/"))

    assert "✗ 商品服务合计 34.5 分，应为 35 分" in html
    assert 'data-part-total="goods">34.5/35 ✗<' in html


# --- copy and make current ------------------------------------------------------------------


def test_copy_a_version_through_its_confirm_page(client, staff, default):
    assert get(client, staff.planner, f"/staff/catalogues/{default.pk}/copy/").status_code == 200

    response = post(
        client,
        staff.planner,
        f"/staff/catalogues/{default.pk}/copy/",
        {"version": "2027-1", "title": "2027 年版"},
    )

    new = IndicatorCatalogue.objects.get(version="2027-1")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/catalogues/{new.pk}/"
    assert (new.title, new.is_current, new.indicators.count()) == ("2027 年版", False, 15)
    again = post(
        client, staff.planner, f"/staff/catalogues/{default.pk}/copy/", {"version": "2027-1"}
    )
    assert again.status_code == 422 and "已存在" in again.content.decode()


def test_make_current_through_its_confirm_page(client, staff, default, copy, tm):
    assert "make-current" not in offered(client, tm, default)
    assert "make-current" in offered(client, tm, copy)
    assert get(client, tm, f"/staff/catalogues/{copy.pk}/make-current/").status_code == 200

    response = post(client, tm, f"/staff/catalogues/{copy.pk}/make-current/")

    assert response.status_code == 302
    copy.refresh_from_db()
    default.refresh_from_db()
    assert copy.is_current and not default.is_current
    assert "设为当前版本" in page(get(client, tm, f"/staff/catalogues/{copy.pk}/"))


def test_make_current_is_refused_with_the_totals_problem(client, staff, default, copy):
    copy.indicators.filter(code="1.1").update(max_points=D(6))

    response = post(client, staff.planner, f"/staff/catalogues/{copy.pk}/make-current/")

    assert response.status_code == 422
    assert "售后服务体系合计 41 分，应为 40 分" in response.content.decode()
    assert "004 §5.6.5.2" in response.content.decode()
    copy.refresh_from_db()
    default.refresh_from_db()
    assert not copy.is_current and default.is_current


# --- editing the indicators -----------------------------------------------------------------


def test_edit_the_indicators_of_a_version_not_in_use(client, staff, copy):
    form = page(get(client, staff.planner, f"/staff/catalogues/{copy.pk}/edit-indicators/"))
    one = copy.indicators.get(code="1.1")
    assert f'name="max_points_{one.pk}"' in form and 'value="5.00"' in form

    response = edit(
        client,
        staff.planner,
        copy,
        **{
            "1.1": {"max_points": "7.5", "method": "sampled", "guidance": "抽查组织架构文件"},
            "3.1": {"name": "服务承诺兑现"},
        },
    )

    assert response.status_code == 302
    one.refresh_from_db()
    assert (one.max_points, one.method, one.guidance) == (D("7.50"), "sampled", "抽查组织架构文件")
    assert copy.indicators.get(code="3.1").name == "服务承诺兑现"
    # not current: the totals may be off until it is made current
    html = page(get(client, staff.planner, f"/staff/catalogues/{copy.pk}/"))
    assert "售后服务体系合计 42.5 分，应为 40 分" in html
    assert "修改指标 1.1、3.1" in html  # the version's history says who changed what


def test_the_current_version_keeps_its_part_totals(client, staff, default, tm):
    refused = edit(client, tm, default, **{"1.1": {"max_points": "6"}})

    assert refused.status_code == 422
    text = refused.content.decode()
    assert "售后服务体系合计 41 分，应为 40 分" in text and "004 §5.6.5.2" in text
    assert points(default, "1.1") == D(5)

    moved = edit(client, tm, default, **{"1.1": {"max_points": "6"}, "1.2": {"max_points": "5"}})

    assert moved.status_code == 302
    assert (points(default, "1.1"), points(default, "1.2")) == (D(6), D(5))
    assert default.history.first().history_user == tm


def test_bad_points_are_form_errors(client, staff, copy):
    response = edit(client, staff.planner, copy, **{"1.1": {"max_points": "0"}})

    assert response.status_code == 422
    assert points(copy, "1.1") == D(5)


def test_a_locked_version_cannot_be_edited(client, staff, default):
    score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)

    assert offered(client, staff.planner, default) == {"copy"}
    url = f"/staff/catalogues/{default.pk}/edit-indicators/"
    assert get(client, staff.planner, url).status_code == 409
    assert edit(client, staff.planner, default, **{"1.1": {"name": "改名"}}).status_code == 409
    assert default.indicators.get(code="1.1").name == "组织架构"
    # the service refuses too, whatever calls it
    one = default.indicators.get(code="1.1")
    with pytest.raises(RuleViolation, match=r"已被评分表使用.*004 §5.6.5.2"):
        score_sheets.catalogue_indicators_update(
            catalogue=default, actor=staff.planner, rows=[{"id": one.pk, "name": "改名"}]
        )


def test_forged_catalogue_actions_are_refused(client, staff, default, copy):
    for user in (staff.leader, staff.market, staff.decider):
        assert edit(client, user, copy, **{"1.1": {"max_points": "9"}}).status_code == 403
        assert post(client, user, f"/staff/catalogues/{copy.pk}/make-current/").status_code == 403
        response = post(client, user, f"/staff/catalogues/{default.pk}/copy/", {"version": "x"})
        assert response.status_code == 403
    assert points(copy, "1.1") == D(5)
    default.refresh_from_db()
    assert default.is_current
    assert not IndicatorCatalogue.objects.filter(version="x").exists()


# --- the service ------------------------------------------------------------------------------


def test_update_refuses_bad_rows_and_other_roles(staff, default, copy):
    mine = copy.indicators.get(code="1.1")
    theirs = default.indicators.get(code="1.1")

    def update(rows, actor=staff.planner):
        return score_sheets.catalogue_indicators_update(catalogue=copy, actor=actor, rows=rows)

    with pytest.raises(RuleViolation, match="不属于"):
        update([{"id": theirs.pk, "max_points": "6"}])
    with pytest.raises(RuleViolation, match="分值须大于 0"):
        update([{"id": mine.pk, "max_points": "-1"}])
    with pytest.raises(RuleViolation, match="最多两位小数"):
        update([{"id": mine.pk, "max_points": "5.125"}])
    with pytest.raises(RuleViolation, match="须为数字"):
        update([{"id": mine.pk, "max_points": "五"}])
    with pytest.raises(RuleViolation, match="评分方法"):
        update([{"id": mine.pk, "method": "guess"}])
    with pytest.raises(RuleViolation, match="须填写"):
        update([{"id": mine.pk, "name": "  "}])
    with pytest.raises(RuleViolation, match="重复"):
        update([{"id": mine.pk, "name": "a"}, {"id": mine.pk, "name": "b"}])
    with pytest.raises(RuleViolation, match="无权"):
        update([{"id": mine.pk, "name": "a"}], actor=staff.leader)
    mine.refresh_from_db()
    assert (mine.name, mine.max_points) == ("组织架构", D(5))


def test_an_update_that_changes_nothing_writes_no_history(staff, copy):
    before = copy.history.count()
    one = copy.indicators.get(code="1.1")

    score_sheets.catalogue_indicators_update(
        catalogue=copy,
        actor=staff.planner,
        rows=[{"id": one.pk, "name": one.name, "max_points": D("5.00")}],
    )

    assert copy.history.count() == before
    assert Indicator.objects.get(pk=one.pk).max_points == D(5)
