"""The staff score sheet page: access per role, htmx row posts with the live summary, the
plain-form fallback, special items and the leader's sign-off."""

import re
from datetime import date

import pytest
from django.urls import reverse

from audits import services as score_sheets
from audits.models import ScoreSheet
from certbody.models import User
from tests.applications.factories import OrganizationFactory
from tests.audits.factories import auditor_user
from tests.audits.test_score_sheets import stage2_in_progress
from tests.certificates.factories import assess_all_met
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@shared_fixture
def auditor2(cb):
    return auditor_user("sv-auditor")


@shared_fixture
def audit(staff, auditor2):
    return stage2_in_progress(staff, auditor=auditor2)


@shared_fixture
def sheet(staff, auditor2):
    """An opened sheet with every indicator assessed met (100 points).

    On a stage 2 of its own: the tests given ``audit`` find it without a sheet."""
    audit = stage2_in_progress(staff, auditor=auditor2)
    sheet = score_sheets.score_sheet_open(audit=audit, actor=staff.leader)
    return assess_all_met(sheet, staff.leader)


def page_url(audit):
    return reverse("audits:score_sheet", args=[audit.pk])


def item_url(sheet, code):
    return reverse("audits:score_item_update", args=[sheet.items.get(indicator__code=code).pk])


def summary(html: str) -> str:
    match = re.search(r'<section id="score-summary".*?</section>', html, re.S)
    assert match, "no summary in the response"
    return match.group(0)


def grade_in(html: str) -> str:
    return re.search(r'data-grade="([a-z_]+)"', summary(html)).group(1)


def score_in(html: str) -> str:
    return re.search(r'data-score="([0-9.\-]+)"', summary(html)).group(1)


# --- access -------------------------------------------------------------------------------


def test_page_renders_the_three_parts_and_the_summary_for_any_staff(client, staff, sheet):
    client.force_login(staff.decider)  # not on the team: reads only
    response = client.get(page_url(sheet.audit))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("售后服务体系", "商品服务", "顾客服务", "组织架构", "投诉处理"):
        assert name in html
    assert grade_in(html) == "five_star"
    assert "五星级" in summary(html)
    assert score_in(html) == "100.00"
    assert 'src="/static/vendor/htmx.min.js"' in html
    assert "hx-post" not in html  # read-only for people off the team
    assert "<script>" not in html


def test_team_member_gets_a_form_per_item(client, staff, sheet):
    client.force_login(staff.leader)
    html = client.get(page_url(sheet.audit)).content.decode()
    assert html.count('hx-trigger="change, submit"') == 15
    assert item_url(sheet, "1.2") in html
    assert 'name="samples"' in html and 'name="met"' in html


def test_client_user_cannot_see_the_page(client, staff, sheet):
    organization = sheet.audit.programme.organization
    user = User.objects.create_user(username="client-sv", password="x", organization=organization)
    client.force_login(user)
    assert client.get(page_url(sheet.audit)).status_code == 403
    response = client.post(item_url(sheet, "1.1"), {"met": "0", "evidence": "现场查阅记录"})
    assert response.status_code == 403
    assert sheet.items.get(indicator__code="1.1").met


def test_anonymous_user_is_sent_to_log_in(client, sheet):
    response = client.get(page_url(sheet.audit))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_unknown_audit_is_404(client, staff, db):
    client.force_login(staff.leader)
    assert client.get(reverse("audits:score_sheet", args=[999999])).status_code == 404


# --- opening ------------------------------------------------------------------------------


def test_page_offers_to_open_and_the_leader_opens(client, staff, audit):
    client.force_login(staff.leader)
    html = client.get(page_url(audit)).content.decode()
    assert reverse("audits:score_sheet_open", args=[audit.pk]) in html
    response = client.post(reverse("audits:score_sheet_open", args=[audit.pk]))
    assert response.status_code == 302
    assert ScoreSheet.objects.filter(audit=audit).exists()


def test_opening_by_someone_off_the_team_is_403(client, staff, audit):
    sheets = ScoreSheet.objects.count()
    client.force_login(staff.decider)
    html = client.get(page_url(audit)).content.decode()
    assert reverse("audits:score_sheet_open", args=[audit.pk]) not in html
    response = client.post(reverse("audits:score_sheet_open", args=[audit.pk]))
    assert response.status_code == 403
    assert ScoreSheet.objects.count() == sheets


def test_document_review_page_explains_there_is_no_sheet(client, staff, audit):
    review = audit.programme.audits.get(kind="document_review")
    client.force_login(staff.planner)
    response = client.get(page_url(review))
    assert response.status_code == 200
    assert reverse("audits:score_sheet_open", args=[review.pk]) not in response.content.decode()


# --- scoring rows -------------------------------------------------------------------------


def test_htmx_post_returns_the_row_and_the_summary_with_the_new_grade(client, staff, sheet):
    client.force_login(staff.leader)
    # 1.4 规范要求 (7) not met and 1.1 组织架构 (5) not met → 88.00, 三星级
    client.post(item_url(sheet, "1.4"), {"met": "0", "evidence": "现场查阅记录"}, **HTMX)
    response = client.post(item_url(sheet, "1.1"), {"met": "0", "evidence": "无职责文件"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="item-')  # the row's result: points and any refusal
    assert 'hx-swap-oob="true"' in summary(html)
    assert grade_in(html) == "three_star"
    assert "三星级" in summary(html)
    assert score_in(html) == "88.00"
    assert 'data-points="0.00"' in html
    sheet.refresh_from_db()
    assert sheet.grade == "three_star"


def test_htmx_post_of_proportional_samples(client, auditor2, sheet):
    client.force_login(auditor2)
    response = client.post(
        item_url(sheet, "1.2"),
        {"samples": "3", "nonconforming": "1", "evidence": "抽查 3 份，1 份不符合"},
        **HTMX,
    )
    html = response.content.decode()
    assert 'data-points="4.00"' in html
    assert score_in(html) == "98.00"


def test_refused_row_is_422_with_the_error_next_to_the_row(client, staff, sheet):
    client.force_login(staff.leader)
    response = client.post(item_url(sheet, "1.2"), {"samples": "2", "nonconforming": "5"}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    item = sheet.items.get(indicator__code="1.2")
    assert html.startswith(f'<div id="item-{item.pk}-result"')
    assert "data-error" in html and "004 §5.6.5.2 b)" in html
    assert score_in(html) == "100.00"  # unchanged


def test_exclusion_without_justification_is_refused_next_to_the_row(client, staff, sheet):
    client.force_login(staff.leader)
    response = client.post(item_url(sheet, "2.6"), {"excluded": "on", "met": "1"}, **HTMX)
    assert response.status_code == 422
    assert "004 §5.6.5.2 e)" in response.content.decode()
    response = client.post(
        item_url(sheet, "2.6"),
        {"excluded": "on", "met": "1", "exclusion_justification": "无形服务"},
        **HTMX,
    )
    assert response.status_code == 200
    assert 'data-applicable="95.00"' in summary(response.content.decode())


def test_plain_post_redirects_back_to_the_row(client, staff, sheet):
    client.force_login(staff.leader)
    url = item_url(sheet, "1.1")
    response = client.post(url, {"met": "0", "evidence": "现场查阅记录"})
    item = sheet.items.get(indicator__code="1.1")
    assert response.status_code == 302
    assert response["Location"].endswith(f"{page_url(sheet.audit)}#item-{item.pk}")
    assert not item.met


def test_plain_post_refused_shows_the_message(client, staff, sheet):
    client.force_login(staff.leader)
    response = client.post(item_url(sheet, "1.1"), {"met": "1", "samples": "3"}, follow=True)
    assert "004 §5.6.5.2 a)" in response.content.decode()


def test_non_team_staff_post_is_403(client, staff, sheet):
    outsider = auditor_user("sv-outsider")
    for user in (outsider, staff.planner, staff.decider):
        client.force_login(user)
        assert (
            client.post(
                item_url(sheet, "1.1"), {"met": "0", "evidence": "现场查阅记录"}, **HTMX
            ).status_code
            == 403
        )
    assert sheet.items.get(indicator__code="1.1").met


def test_rows_of_another_organisation_are_not_reachable_by_client_users(client, sheet):
    other = User.objects.create_user(
        username="client-other", password="x", organization=OrganizationFactory()
    )
    client.force_login(other)
    assert (
        client.post(item_url(sheet, "1.1"), {"met": "0", "evidence": "现场查阅记录"}).status_code
        == 403
    )


# --- special items ------------------------------------------------------------------------


def test_five_special_deductions_fail_the_sheet_on_the_page(client, staff, sheet):
    client.force_login(staff.leader)
    url = reverse("audits:special_deduction_add", args=[sheet.pk])
    for n in range(5):
        response = client.post(
            url,
            {
                "category": "law",
                "description": f"未公示三包规定（{n}）",
                "correction_required": "公示并培训",
            },
        )
        assert response.status_code == 302
    html = client.get(page_url(sheet.audit)).content.decode()
    assert grade_in(html) == "fail"
    assert 'data-deductions="5"' in html
    assert 'data-passed="false"' in html
    deduction = sheet.deductions.first()
    client.post(reverse("audits:special_deduction_remove", args=[deduction.pk]))
    html = client.get(page_url(sheet.audit)).content.decode()
    assert grade_in(html) == "five_star"  # 4 deductions: 96.00


def test_bonus_needs_a_justification_on_the_page(client, staff, sheet):
    client.force_login(staff.leader)
    url = reverse("audits:special_bonus_set", args=[sheet.pk])
    response = client.post(url, {"granted": "on"}, follow=True)
    assert "004 §5.6.5.2 d)" in response.content.decode()
    client.post(url, {"granted": "on", "justification": "行业领先的 2 小时响应"})
    sheet.refresh_from_db()
    assert sheet.special_bonus


def test_special_items_by_someone_off_the_team_are_403(client, staff, sheet):
    client.force_login(staff.decider)
    add = reverse("audits:special_deduction_add", args=[sheet.pk])
    data = {"category": "law", "description": "x", "correction_required": "y"}
    assert client.post(add, data).status_code == 403
    bonus = reverse("audits:special_bonus_set", args=[sheet.pk])
    assert client.post(bonus, {"granted": "on", "justification": "x"}).status_code == 403
    assert not sheet.deductions.exists()


# --- sign-off -----------------------------------------------------------------------------


def test_leader_signs_off_after_a_confirm_step(client, staff, sheet):
    client.force_login(staff.leader)
    url = reverse("audits:score_sheet_submit", args=[sheet.pk])
    assert url in client.get(page_url(sheet.audit)).content.decode()
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert 'name="submitted_on"' in confirm.content.decode()
    sheet.refresh_from_db()
    assert sheet.state == ScoreSheet.State.DRAFT  # the GET changes nothing
    response = client.post(url, {"submitted_on": "2025-03-12"})
    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.state == ScoreSheet.State.SUBMITTED
    assert sheet.submitted_on == date(2025, 3, 12)
    html = client.get(page_url(sheet.audit)).content.decode()
    assert "hx-post" not in html  # signed off: read-only
    assert reverse("audits:score_sheet_reopen", args=[sheet.pk]) in html


def test_sign_off_refusal_is_shown_on_the_confirm_page(client, staff, sheet):
    client.force_login(staff.leader)
    url = reverse("audits:score_sheet_submit", args=[sheet.pk])
    response = client.post(url, {"submitted_on": "2099-01-01"})
    assert response.status_code == 200
    assert "不能晚于今天" in response.content.decode()


def test_only_the_leader_may_sign_off_or_reopen(client, auditor2, sheet):
    client.force_login(auditor2)
    assert client.get(reverse("audits:score_sheet_submit", args=[sheet.pk])).status_code == 403
    response = client.post(
        reverse("audits:score_sheet_submit", args=[sheet.pk]), {"submitted_on": "2025-03-12"}
    )
    assert response.status_code == 403
    assert client.get(reverse("audits:score_sheet_reopen", args=[sheet.pk])).status_code == 403
    sheet.refresh_from_db()
    assert sheet.state == ScoreSheet.State.DRAFT


def test_edit_after_sign_off_is_refused_and_reopen_allows_it_again(client, staff, sheet):
    score_sheets.score_sheet_submit(sheet=sheet, actor=staff.leader, submitted_on=date(2025, 3, 12))
    client.force_login(staff.leader)
    response = client.post(item_url(sheet, "1.1"), {"met": "0", "evidence": "现场查阅记录"}, **HTMX)
    assert response.status_code == 422
    assert "须先退回" in response.content.decode()
    response = client.post(
        reverse("audits:score_sheet_reopen", args=[sheet.pk]), {"reason": "更正抽样"}
    )
    assert response.status_code == 302
    response = client.post(item_url(sheet, "1.1"), {"met": "0", "evidence": "现场查阅记录"}, **HTMX)
    assert response.status_code == 200
    assert score_in(response.content.decode()) == "95.00"


def test_evidence_typed_before_the_result_leaves_the_indicator_unassessed(client, staff, audit):
    from audits.models import Indicator

    fresh = score_sheets.score_sheet_open(audit=audit, actor=staff.leader)
    item = fresh.items.filter(indicator__method=Indicator.Method.QUALITATIVE).first()
    client.force_login(staff.leader)

    url = reverse("audits:score_item_update", args=[item.pk])
    response = client.post(url, {"evidence": "查阅了服务承诺文件"}, **HTMX)

    assert response.status_code == 422
    item.refresh_from_db()
    assert not item.assessed  # never "met" by default (004 §5.6.5.2 a)
    response = client.post(url, {"met": "0", "evidence": "服务承诺未公开"}, **HTMX)
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.assessed and not item.met
