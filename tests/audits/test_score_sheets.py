"""Score sheets through their services: opening, scoring, special items, sign-off
(004 §5.6.5.2–§5.6.5.3; 001 §6.4.3, §6.5)."""

from datetime import date
from decimal import Decimal

import pytest

from audits import services as audit_services
from audits import services as score_sheets
from audits.models import (
    Audit,
    Auditor,
    IndicatorCatalogue,
    ScoreItem,
    ScoreSheet,
    SpecialDeduction,
)
from audits.scoring import evaluate
from certbody.lifecycle import RuleViolation
from tests.audits.factories import auditor_user
from tests.certificates.factories import (
    accepted_application,
    assess_all_met,
    completed_stage2,
    hold_meetings,
    plan_ready,
    run_audit,
)
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

D = Decimal
STARTED = date(2025, 3, 10)


def stage2_in_progress(staff, *, auditor=None, trainee=None):
    """A stage 2 audit started on 2025-03-10 led by ``staff.leader`` (plus ``auditor``,
    ``trainee`` when given)."""
    application = accepted_application(staff=staff)
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 1))
    audit_services.audit_close(audit=review, actor=staff.planner)
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    audit_services.audit_team_add(
        audit=stage2, actor=staff.planner, user=staff.leader, role="leader"
    )
    if auditor is not None:
        audit_services.audit_team_add(
            audit=stage2, actor=staff.planner, user=auditor, role="auditor"
        )
    if trainee is not None:
        audit_services.audit_team_add(
            audit=stage2, actor=staff.planner, user=trainee, role="trainee"
        )
    plan_ready(stage2, staff, STARTED, date(2025, 3, 12))
    audit_services.audit_start(audit=stage2, actor=staff.planner, started_on=STARTED)
    stage2.refresh_from_db()
    return stage2


def item(sheet, code) -> ScoreItem:
    return sheet.items.select_related("indicator").get(indicator__code=code)


def score(sheet, code, actor, **values) -> ScoreSheet:
    """Change indicator ``code``'s fields; a finding without evidence gets some written, as
    a not-met indicator or a nonconforming sample needs it (004 §5.6.5.2)."""
    current = item(sheet, code)
    fields = {
        "excluded": current.excluded,
        "exclusion_justification": current.exclusion_justification,
        "met": current.met,
        "samples": current.samples,
        "nonconforming": current.nonconforming,
        "evidence": current.evidence,
        **values,
    }
    if (not fields["met"] or fields["nonconforming"]) and "evidence" not in values:
        fields["evidence"] = fields["evidence"] or f"{code} 现场抽查记录"
    return score_sheets.score_item_update(item=current, actor=actor, **fields)


def deduct(sheet, actor, n=1):
    for number in range(n):
        score_sheets.special_deduction_add(
            sheet=sheet,
            actor=actor,
            category=SpecialDeduction.Category.OWN_RULES,
            description=f"未按服务承诺在 24 小时内上门（{number + 1}）",
            correction_required="按承诺时限组织上门服务并考核",
        )


@shared_fixture
def auditor2(cb):
    return auditor_user("sc-auditor")


@shared_fixture
def audit(staff, auditor2):
    return stage2_in_progress(staff, auditor=auditor2)


@shared_fixture
def sheet(staff, auditor2):
    """An opened sheet with every indicator assessed met (sampled: 10 samples conforming).

    On a stage 2 of its own: the tests given ``audit`` find it without a sheet."""
    audit = stage2_in_progress(staff, auditor=auditor2)
    sheet = score_sheets.score_sheet_open(audit=audit, actor=staff.leader)
    return assess_all_met(sheet, staff.leader)


# --- opening ------------------------------------------------------------------------------


def test_open_creates_one_unassessed_item_per_current_indicator(staff, audit):
    sheet = score_sheets.score_sheet_open(audit=audit, actor=staff.leader)
    catalogue = IndicatorCatalogue.objects.get(is_current=True)
    assert sheet.catalogue == catalogue
    assert sheet.items.count() == catalogue.indicators.count() == 15
    assert all(
        not i.assessed and i.samples == 0 and i.points == 0
        for i in sheet.items.select_related("indicator")
    )
    sheet.refresh_from_db()
    assert (sheet.earned, sheet.applicable, sheet.score) == (D(0), D(0), D(0))
    assert not sheet.passed and sheet.grade == ScoreSheet.INCOMPLETE
    assert not sheet.is_complete
    assert score_sheets.score_sheet_result(sheet) is None
    sheet = assess_all_met(sheet, staff.leader)
    assert (sheet.earned, sheet.applicable, sheet.score) == (D(100), D(100), D("100.00"))
    assert sheet.passed and sheet.grade == "five_star"
    assert sheet.state == ScoreSheet.State.DRAFT
    assert catalogue.is_locked
    assert sheet.history.first().history_user == staff.leader


def test_open_by_the_audit_department_is_allowed(staff, audit):
    sheet = score_sheets.score_sheet_open(audit=audit, actor=staff.planner)
    assert sheet.audit == audit


def test_open_on_a_completed_stage2_is_allowed(staff):
    stage2 = completed_stage2(staff=staff, grade=None)
    assert score_sheets.score_sheet_open(audit=stage2, actor=staff.leader).pk


def test_open_refused_for_a_document_review(staff, audit):
    review = audit.programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    sheets = ScoreSheet.objects.count()
    with pytest.raises(RuleViolation, match="004 §5.6.5"):
        score_sheets.score_sheet_open(audit=review, actor=staff.planner)
    assert ScoreSheet.objects.count() == sheets


def test_open_refused_for_a_planned_audit(staff):
    application = accepted_application(staff=staff)
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    with pytest.raises(RuleViolation, match="进行中或已完成"):
        score_sheets.score_sheet_open(audit=stage2, actor=staff.planner)


def test_open_refused_for_someone_outside_the_team(staff, audit):
    outsider = auditor_user("sc-outsider")
    sheets = ScoreSheet.objects.count()
    for actor in (outsider, staff.decider, staff.market):
        with pytest.raises(RuleViolation, match="无权"):
            score_sheets.score_sheet_open(audit=audit, actor=actor)
    assert ScoreSheet.objects.count() == sheets


def test_open_refused_twice(staff, sheet):
    with pytest.raises(RuleViolation, match="已有评分表"):
        score_sheets.score_sheet_open(audit=sheet.audit, actor=staff.leader)


def test_open_refused_without_a_current_catalogue(staff, audit):
    IndicatorCatalogue.objects.update(is_current=False)
    with pytest.raises(RuleViolation, match="没有当前"):
        score_sheets.score_sheet_open(audit=audit, actor=staff.leader)


# --- scoring items ------------------------------------------------------------------------


def test_qualitative_indicator_not_met_loses_all_its_points(staff, sheet):
    sheet = score(sheet, "1.1", staff.leader, met=False, evidence="无售后服务部门职责文件")
    assert item(sheet, "1.1").points == D("0.00")
    sheet.refresh_from_db()
    assert (sheet.earned, sheet.applicable, sheet.score) == (D(95), D(100), D("95.00"))
    assert sheet.grade == "five_star"
    assert item(sheet, "1.1").evidence == "无售后服务部门职责文件"


def test_item_update_recomputes_the_grade(staff, auditor2, sheet):
    score(sheet, "1.1", staff.leader, met=False)  # −5
    score(sheet, "1.4", auditor2, met=False)  # −7
    sheet.refresh_from_db()
    assert sheet.score == D("88.00")
    assert sheet.grade == "three_star"
    assert score_sheets.score_sheet_result(sheet).grade_label == "三星级"


def test_sampled_indicator_loses_points_in_proportion(staff, sheet):
    # 1.2 人员配置, 6 points: 1 of 3 samples nonconforming → 6 × 2/3 = 4.00
    sheet = score(sheet, "1.2", staff.leader, samples=3, nonconforming=1)
    assert item(sheet, "1.2").points == D("4.00")
    sheet.refresh_from_db()
    assert sheet.earned == D("98.00")
    assert sheet.score == D("98.00")


def test_nonconforming_samples_cannot_exceed_the_samples(staff, sheet):
    with pytest.raises(RuleViolation, match=r"004 §5.6.5.2 b\)"):
        score(sheet, "1.2", staff.leader, samples=2, nonconforming=3)
    assert item(sheet, "1.2").points == D("6.00")


def test_negative_samples_are_refused(staff, sheet):
    with pytest.raises(RuleViolation, match="非负整数"):
        score(sheet, "1.2", staff.leader, samples=-1)


def test_qualitative_indicator_takes_no_samples(staff, sheet):
    with pytest.raises(RuleViolation, match=r"定性指标.*004 §5.6.5.2 a\)"):
        score(sheet, "1.1", staff.leader, samples=4, nonconforming=1)


def test_sampled_indicator_is_not_judged_as_a_whole(staff, sheet):
    with pytest.raises(RuleViolation, match=r"抽样指标.*004 §5.6.5.2 b\)"):
        score(sheet, "1.2", staff.leader, met=False)


def test_exclusion_leaves_both_sides_of_the_score(staff, sheet):
    # 2.6 废弃商品回收 (5) excluded; 1.1 (5) not met → 90 / 95 × 100 = 94.74
    score(
        sheet,
        "2.6",
        staff.leader,
        excluded=True,
        exclusion_justification="无形服务，不涉及废弃商品回收",
    )
    sheet = score(sheet, "1.1", staff.leader, met=False)
    sheet.refresh_from_db()
    assert (sheet.earned, sheet.applicable) == (D(90), D(95))
    assert sheet.score == D("94.74")
    assert sheet.grade == "four_star"
    goods = {p.part: p for p in score_sheets.part_breakdown(sheet)}["goods"]
    assert (goods.earned, goods.applicable, goods.total) == (D(30), D(30), D(35))
    assert goods.excluded_points == D(5)


def test_exclusion_needs_a_justification(staff, sheet):
    with pytest.raises(RuleViolation, match=r"004 §5.6.5.2 e\)"):
        score(sheet, "2.6", staff.leader, excluded=True, exclusion_justification="  ")
    assert not item(sheet, "2.6").excluded


def test_excluding_every_indicator_is_refused(staff, sheet):
    codes = list(sheet.items.values_list("indicator__code", flat=True))
    for code in codes[:-1]:
        score(sheet, code, staff.leader, excluded=True, exclusion_justification="不涉及")
    with pytest.raises(RuleViolation, match="所有指标均已删减"):
        score(sheet, codes[-1], staff.leader, excluded=True, exclusion_justification="不涉及")


def test_part_breakdown_sums_each_part(staff, sheet):
    score(sheet, "3.2", staff.leader, samples=4, nonconforming=2)  # 13 → 6.50
    parts = score_sheets.part_breakdown(sheet)
    assert [p.part for p in parts] == ["system", "goods", "customer"]
    assert [p.name for p in parts] == ["售后服务体系", "商品服务", "顾客服务"]
    assert [(p.earned, p.applicable) for p in parts] == [
        (D(40), D(40)),
        (D(35), D(35)),
        (D("18.50"), D(25)),
    ]
    assert [len(p.items) for p in parts] == [7, 6, 2]


def test_people_off_the_team_cannot_score(staff, sheet):
    outsider = auditor_user("sc-outsider2")
    for actor in (outsider, staff.planner, staff.decider):
        with pytest.raises(RuleViolation, match="无权.*审核组成员"):
            score(sheet, "1.1", actor, met=False)
    assert item(sheet, "1.1").met


# --- special deductions and bonus -----------------------------------------------------------


def test_four_special_deductions_pass_five_fail(staff, sheet):
    deduct(sheet, staff.leader, 4)
    sheet.refresh_from_db()
    assert sheet.score == D("96.00")
    assert sheet.passed and sheet.grade == "five_star"
    deduct(sheet, staff.leader, 1)  # 004 §5.6.5.3 (2): 5 or more fail whatever the score
    sheet.refresh_from_db()
    assert sheet.score == D("95.00")
    assert not sheet.passed
    assert sheet.grade == "fail"
    assert score_sheets.score_sheet_result(sheet).special_deductions == 5


def test_removing_a_deduction_recomputes(staff, sheet):
    deduct(sheet, staff.leader, 5)
    deduction = sheet.deductions.first()
    sheet = score_sheets.special_deduction_remove(deduction=deduction, actor=staff.leader)
    assert sheet.passed and sheet.score == D("96.00")
    assert sheet.deductions.count() == 4


def test_a_special_deduction_needs_what_was_found_and_the_correction(staff, sheet):
    with pytest.raises(RuleViolation, match=r"004 §5.6.5.2 c\)"):
        score_sheets.special_deduction_add(
            sheet=sheet, actor=staff.leader, category="law", description="x", correction_required=""
        )
    with pytest.raises(RuleViolation, match="未知的特别扣分项类别"):
        score_sheets.special_deduction_add(
            sheet=sheet,
            actor=staff.leader,
            category="mood",
            description="x",
            correction_required="y",
        )
    assert not sheet.deductions.exists()


def test_special_bonus_needs_a_justification(staff, sheet):
    with pytest.raises(RuleViolation, match=r"004 §5.6.5.2 d\)"):
        score_sheets.special_bonus_set(sheet=sheet, actor=staff.leader, granted=True)
    sheet.refresh_from_db()
    assert not sheet.special_bonus


def test_only_one_special_bonus_counts(staff, sheet):
    score(sheet, "1.1", staff.leader, met=False)  # 95
    for reason in ("24 小时上门，高于三包规定", "行业内首家提供终身免费检测"):
        sheet = score_sheets.special_bonus_set(
            sheet=sheet, actor=staff.leader, granted=True, justification=reason
        )
    sheet.refresh_from_db()
    assert sheet.score == D("96.00")  # +1, never +2
    assert sheet.bonus_justification == "行业内首家提供终身免费检测"
    assert score_sheets.score_sheet_result(sheet) == evaluate(D(95), D(100), 0, 1)
    sheet = score_sheets.special_bonus_set(sheet=sheet, actor=staff.leader, granted=False)
    sheet.refresh_from_db()
    assert (sheet.score, sheet.special_bonus, sheet.bonus_justification) == (D(95), False, "")


# --- sign-off -------------------------------------------------------------------------------


def test_only_the_team_leader_submits(staff, auditor2, sheet):
    for actor in (auditor2, staff.planner):
        with pytest.raises(RuleViolation, match="无权.*审核组长"):
            score_sheets.score_sheet_submit(
                sheet=sheet, actor=actor, submitted_on=date(2025, 3, 12)
            )
    sheet = score_sheets.score_sheet_submit(
        sheet=sheet, actor=staff.leader, submitted_on=date(2025, 3, 12)
    )
    sheet.refresh_from_db()
    assert sheet.state == ScoreSheet.State.SUBMITTED
    assert (sheet.submitted_by, sheet.submitted_on) == (staff.leader, date(2025, 3, 12))


def test_submit_date_not_in_the_future_nor_before_the_audit(staff, sheet):
    with pytest.raises(RuleViolation, match="不能晚于今天"):
        score_sheets.score_sheet_submit(
            sheet=sheet, actor=staff.leader, submitted_on=date(2099, 1, 1)
        )
    with pytest.raises(RuleViolation, match="不能早于审核开始"):
        score_sheets.score_sheet_submit(
            sheet=sheet, actor=staff.leader, submitted_on=date(2025, 3, 1)
        )


def test_edits_are_refused_after_submit_until_reopened(staff, auditor2, sheet):
    score_sheets.score_sheet_submit(sheet=sheet, actor=staff.leader, submitted_on=date(2025, 3, 12))
    with pytest.raises(RuleViolation, match="须先退回"):
        score(sheet, "1.1", auditor2, met=False)
    with pytest.raises(RuleViolation, match="须先退回"):
        deduct(sheet, staff.leader)
    with pytest.raises(RuleViolation, match="须先退回"):
        score_sheets.special_bonus_set(
            sheet=sheet, actor=staff.leader, granted=True, justification="x"
        )
    with pytest.raises(RuleViolation, match="须填写"):
        score_sheets.score_sheet_reopen(sheet=sheet, actor=staff.leader, reason=" ")
    with pytest.raises(RuleViolation, match="无权.*审核组长"):
        score_sheets.score_sheet_reopen(sheet=sheet, actor=auditor2, reason="更正")
    sheet = score_sheets.score_sheet_reopen(sheet=sheet, actor=staff.leader, reason="更正抽样数")
    assert sheet.state == ScoreSheet.State.DRAFT
    assert sheet.submitted_by is None
    assert sheet.history.first().history_change_reason == "退回修改：更正抽样数"
    sheet = score(sheet, "1.1", auditor2, met=False)
    assert sheet.score == D("95.00")


def test_no_edit_nor_reopen_once_the_audit_is_closed(staff, sheet):
    audit = sheet.audit
    hold_meetings(audit, STARTED, date(2025, 3, 12))
    audit_services.audit_complete(
        audit=audit, actor=staff.leader, ended_on=date(2025, 3, 12), recommendation_positive=True
    )
    score_sheets.score_sheet_submit(sheet=sheet, actor=staff.leader, submitted_on=date(2025, 3, 12))
    audit_services.audit_close(audit=audit, actor=staff.planner)
    with pytest.raises(RuleViolation, match="不能再修改"):
        score_sheets.score_sheet_reopen(sheet=sheet, actor=staff.leader, reason="更正")


def test_no_edit_once_the_audit_is_terminated(staff, sheet):
    audit_services.audit_terminate(audit=sheet.audit, actor=staff.planner, reason="客户不配合")
    with pytest.raises(RuleViolation, match="不能再修改"):
        score(sheet, "1.1", staff.leader, met=False)


def test_submit_refused_with_an_unjustified_exclusion(staff, sheet):
    # Only reachable by editing the table directly; the sign-off still checks it.
    sheet.items.filter(indicator__code="2.6").update(excluded=True, exclusion_justification="")
    with pytest.raises(RuleViolation, match=r"未说明理由.*004 §5.6.5.2 e\)"):
        score_sheets.score_sheet_submit(
            sheet=sheet, actor=staff.leader, submitted_on=date(2025, 3, 12)
        )


def test_trainees_on_the_team_neither_open_nor_score(staff, auditor2):
    # 004 §5.4.4.2: trainees write no audit records alone.
    trainee = auditor_user("sc-trainee", qualification=Auditor.Qualification.TRAINEE)
    audit = stage2_in_progress(staff, auditor=auditor2, trainee=trainee)
    with pytest.raises(RuleViolation, match="无权"):
        score_sheets.score_sheet_open(audit=audit, actor=trainee)
    sheet = score_sheets.score_sheet_open(audit=audit, actor=auditor2)
    with pytest.raises(RuleViolation, match="无权.*审核组成员"):
        score(sheet, "1.1", trainee, met=False)
