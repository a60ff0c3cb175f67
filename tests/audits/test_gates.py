"""The CB's rules as gates on the audit's write path (issue 13).

Plan gate: an on-site audit starts only with its written plan confirmed by the client
(004 §5.4.6.3) and reported to CNCA at least 3 days before its first day (004 §9.2); a
short-notice audit (004 §5.9.2) needs the report before the start, its lateness recorded.
"""

from datetime import date, timedelta

import pytest

from audits import services
from audits.models import Audit
from certbody.lifecycle import RuleViolation
from tests.certificates.factories import (
    Staff,
    accepted_application,
    issued_certificate,
    plan_ready,
    scheduled_stage2,
)
from tests.certificates.helpers import skip_pdf_rendering
from tests.shared import shared_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

START, END = date(2025, 3, 10), date(2025, 3, 11)


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def staff(cb, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return Staff()


@shared_fixture
def stage2(staff, module_monkeypatch):
    """Stage 2 of a new client, its document review completed, team set, dates scheduled."""
    skip_pdf_rendering(module_monkeypatch)
    return scheduled_stage2(staff, START, END)


def prepare(audit, staff):
    return services.audit_plan_prepare(
        audit=audit,
        actor=staff.planner,
        objectives="评价售后服务体系的符合性",
        criteria="GB/T 27922-2011",
        scope_text="家用电器的销售及售后服务",
        shifts_covered="白班",
        sites=list(audit.organization.sites.all()),
    )


def start(audit, staff, on=START):
    return services.audit_start(audit=audit, actor=staff.planner, started_on=on)


def test_the_document_review_starts_without_a_plan(staff):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    services.audit_team_add(audit=review, actor=staff.planner, user=staff.leader, role="leader")
    assert start(review, staff, date(2025, 2, 1)).state == Audit.State.IN_PROGRESS


def test_an_on_site_audit_without_a_plan_is_refused(staff, stage2):
    with pytest.raises(RuleViolation, match="written audit plan.*004 §5.4.6.1"):
        start(stage2, staff)
    stage2.refresh_from_db()
    assert stage2.state == Audit.State.PLANNED


def test_a_plan_not_confirmed_by_the_client_is_refused(staff, stage2):
    plan = prepare(stage2, staff)
    with pytest.raises(RuleViolation, match="not confirmed.*004 §5.4.6.3"):
        start(stage2, staff)
    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    with pytest.raises(RuleViolation, match="not confirmed.*004 §5.4.6.3"):
        start(stage2, staff)


def test_a_confirmed_plan_not_reported_to_cnca_is_refused(staff, stage2):
    plan = prepare(stage2, staff)
    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=date(2025, 3, 1))
    services.audit_plan_confirm(
        plan=plan, actor=staff.planner, confirmed_on=date(2025, 3, 2), confirmed_by="王五"
    )
    with pytest.raises(RuleViolation, match="not been reported to CNCA.*004 §9.2"):
        start(stage2, staff)


@pytest.mark.parametrize(
    ("reported_on", "allowed", "days_late"),
    [
        (date(2025, 3, 7), True, 0),  # exactly 3 days before the first day: the last day
        (date(2025, 3, 8), False, 1),  # 2 days before: late
    ],
)
def test_the_plan_is_reported_at_least_three_days_before_the_start(
    staff, stage2, reported_on, allowed, days_late
):
    plan = plan_ready(stage2, staff, START, END, reported_on=reported_on)
    assert plan.report_days_late == days_late
    if allowed:
        assert start(stage2, staff).state == Audit.State.IN_PROGRESS
    else:
        with pytest.raises(RuleViolation, match="less than 3 days.*004 §9.2"):
            start(stage2, staff)


def test_the_three_days_count_from_the_actual_first_day(staff, stage2):
    plan_ready(stage2, staff, START, END, reported_on=date(2025, 3, 7))
    with pytest.raises(RuleViolation, match="004 §9.2"):
        start(stage2, staff, on=date(2025, 3, 9))


def test_a_revised_plan_must_be_confirmed_and_reported_again(staff, stage2):
    plan_ready(stage2, staff, START, END)
    services.audit_plan_prepare(
        audit=stage2,
        actor=staff.planner,
        objectives="评价售后服务体系的符合性（变更）",
        criteria="GB/T 27922-2011",
        scope_text="家用电器的销售及售后服务",
        shifts_covered="白班",
        sites=list(stage2.organization.sites.all()),
    )
    with pytest.raises(RuleViolation, match="version 2.*004 §5.4.6.3"):
        start(stage2, staff)


def test_the_audit_page_says_why_the_audit_cannot_start(staff, stage2):
    assert "004 §5.4.6.1" in services.audit_start_blocker(stage2, on=START)
    plan_ready(stage2, staff, START, END, reported_on=date(2025, 3, 8))
    assert "004 §9.2" in services.audit_start_blocker(stage2, on=START)
    assert services.audit_start_blocker(stage2, on=date(2025, 3, 11)) == ""


# --- short-notice audits (004 §5.9.2) ------------------------------------------------------


@shared_fixture
def short_notice(staff, module_monkeypatch):
    """A short-notice special audit of a certified client, its leader declared, on 06-10."""
    skip_pdf_rendering(module_monkeypatch)
    certificate = issued_certificate(staff=staff)
    audit = services.audit_add_special(
        programme=certificate.programme,
        actor=staff.planner,
        special_kind=Audit.SpecialKind.COMPLAINT,
        reason="媒体曝光维修乱收费，经查属实",
        short_notice=True,
    )
    services.audit_team_add(audit=audit, actor=staff.planner, user=staff.leader, role="leader")
    services.conflict_declare(
        auditor=staff.leader.auditor_profile,
        actor=staff.leader,
        organization=audit.organization,
        has_interest=False,
        declared_on=date(2025, 6, 1),
    )
    return audit


def test_a_short_notice_audit_records_why_the_notice_is_short(staff, short_notice):
    assert short_notice.short_notice_reason == "媒体曝光维修乱收费，经查属实"
    other = services.audit_add_special(
        programme=short_notice.programme,
        actor=staff.planner,
        special_kind=Audit.SpecialKind.ACCIDENT,
        reason="重大质量事故",
        short_notice=True,
        short_notice_reason="须在事故调查期间不通知地到现场核实",
    )
    assert other.short_notice_reason == "须在事故调查期间不通知地到现场核实"


def test_a_short_notice_audit_reported_the_day_before_starts_and_keeps_its_lateness(
    staff, short_notice
):
    on = date(2025, 6, 10)
    plan = plan_ready(short_notice, staff, on, on, reported_on=on - timedelta(days=1))
    assert (plan.report_days_late, plan.reported_late) == (2, True)
    assert start(short_notice, staff, on).state == Audit.State.IN_PROGRESS
    plan.refresh_from_db()
    assert plan.report_days_late == 2  # not hidden once started


def test_a_short_notice_audit_reported_on_its_first_day_starts(staff, short_notice):
    on = date(2025, 6, 10)
    plan_ready(short_notice, staff, on, on, reported_on=on)
    assert start(short_notice, staff, on).state == Audit.State.IN_PROGRESS


def test_a_short_notice_audit_without_a_report_is_refused(staff, short_notice):
    on = date(2025, 6, 10)
    services.audit_schedule(
        audit=short_notice, actor=staff.planner, planned_start=on, planned_end=on
    )
    plan = prepare(short_notice, staff)
    services.audit_plan_send(plan=plan, actor=staff.planner, sent_on=on - timedelta(days=1))
    services.audit_plan_confirm(
        plan=plan, actor=staff.planner, confirmed_on=on, confirmed_by="王五"
    )
    with pytest.raises(RuleViolation, match="not been reported to CNCA.*004 §9.2"):
        start(short_notice, staff, on)
    # A report dated after the first day does not count either.
    services.audit_plan_report_cnca(
        plan=plan, actor=staff.planner, reported_on=on + timedelta(days=1)
    )
    with pytest.raises(RuleViolation, match="004 §9.2"):
        start(short_notice, staff, on)


def test_a_short_notice_audit_without_its_reason_is_refused(staff, short_notice):
    on = date(2025, 6, 10)
    plan_ready(short_notice, staff, on, on)
    Audit.objects.filter(pk=short_notice.pk).update(short_notice_reason="")
    with pytest.raises(RuleViolation, match="why the notice was short.*004 §5.9.2"):
        start(short_notice, staff, on)


# --- opening and closing meetings (004 §5.5.2) ---------------------------------------------

ATTENDEES = [
    {"name": "王五", "role": "最高管理者", "position": "总经理"},
    {"name": "赵六", "role": "售后服务部门负责人", "position": "售后服务部经理"},
]


@pytest.fixture
def started(staff, stage2):
    plan_ready(stage2, staff, START, END)
    return start(stage2, staff)


def meeting(audit, actor, kind="opening", held_on=START, **changes):
    values = {
        "attendees": ATTENDEES,
        "top_manager_present": True,
        "check_in_confirmed": True,
    }
    values.update(changes)
    return services.audit_meeting_record(
        audit=audit, actor=actor, kind=kind, held_on=held_on, **values
    )


def test_the_leader_records_both_meetings_and_the_audit_completes(staff, started):
    opening = meeting(started, staff.leader)
    assert (opening.kind, opening.held_on, opening.recorded_by) == ("opening", START, staff.leader)
    assert opening.attendees[0] == {"name": "王五", "role": "最高管理者", "position": "总经理"}
    assert opening.history.first().history_user == staff.leader
    meeting(started, staff.leader, "closing", END)
    audit = services.audit_complete(
        audit=started, actor=staff.leader, ended_on=END, recommendation_positive=True
    )
    assert audit.state == Audit.State.COMPLETED


@pytest.mark.parametrize("recorded", [(), ("opening",)])
def test_an_on_site_audit_without_both_meetings_does_not_complete(staff, started, recorded):
    for kind in recorded:
        meeting(started, staff.leader, kind)
    with pytest.raises(RuleViolation, match="meetings are recorded.*004 §5.5.2"):
        services.audit_complete(
            audit=started, actor=staff.leader, ended_on=END, recommendation_positive=True
        )


def test_the_audit_does_not_end_before_its_closing_meeting(staff, started):
    meeting(started, staff.leader)
    meeting(started, staff.leader, "closing", END)
    with pytest.raises(RuleViolation, match="closing meeting.*004 §5.5.2"):
        services.audit_complete(
            audit=started, actor=staff.leader, ended_on=START, recommendation_positive=True
        )


def test_a_meeting_outside_the_audits_days_is_refused(staff, started):
    with pytest.raises(RuleViolation, match="within the audit's days.*004 §5.5.2"):
        meeting(started, staff.leader, held_on=START - timedelta(days=1))
    with pytest.raises(RuleViolation, match="within the audit's days"):
        meeting(started, staff.leader, held_on=END + timedelta(days=1))
    assert meeting(started, staff.leader, held_on=END).held_on == END  # the last day


def test_a_meeting_in_the_future_is_refused(staff, started):
    import time_machine

    with time_machine.travel(date(2025, 3, 10), tick=False):
        with pytest.raises(RuleViolation, match="future.*004 §5.5.2"):
            meeting(started, staff.leader, "opening", END)
        assert meeting(started, staff.leader, "opening", START).held_on == START


def test_a_meeting_of_an_audit_not_in_progress_is_refused(staff, stage2):
    plan_ready(stage2, staff, START, END)
    with pytest.raises(RuleViolation, match="in progress.*004 §5.5.2"):
        meeting(stage2, staff.leader)


@pytest.mark.parametrize(
    "attendees",
    [[], [{"name": "王五", "role": ""}], [{"name": " ", "role": "总经理"}], ["王五"]],
)
def test_attendees_need_a_name_and_a_role(staff, started, attendees):
    with pytest.raises(RuleViolation, match="004 §5.5.2"):
        meeting(started, staff.leader, attendees=attendees)
    assert not started.meetings.exists()


@pytest.mark.parametrize(
    ("reason", "delegate", "allowed"),
    [("", "", False), ("出差", "", False), ("", "李副总", False), ("出差在外", "李副总", True)],
)
def test_an_absent_top_manager_needs_a_reason_and_a_delegate(
    staff, started, reason, delegate, allowed
):
    kwargs = {"top_manager_present": False, "absence_reason": reason, "delegate": delegate}
    if allowed:
        recorded = meeting(started, staff.leader, **kwargs)
        assert (recorded.absence_reason, recorded.delegate) == ("出差在外", "李副总")
    else:
        with pytest.raises(RuleViolation, match="absence.*004 §5.5.2"):
            meeting(started, staff.leader, **kwargs)


def test_only_the_team_leader_records_a_meeting(staff, started):
    with pytest.raises(RuleViolation, match="this audit's team leader"):
        meeting(started, staff.planner)


def test_the_closing_meeting_follows_the_opening_one(staff, started):
    with pytest.raises(RuleViolation, match="follows the opening"):
        meeting(started, staff.leader, "closing", END)
    meeting(started, staff.leader, "opening", END)
    with pytest.raises(RuleViolation, match="follows the opening"):
        meeting(started, staff.leader, "closing", START)


# --- score sheet completeness (004 §5.6.5.2–§5.6.5.3) -------------------------------------


@shared_fixture
def open_sheet(staff):
    from audits import services as score_sheets
    from tests.audits.test_score_sheets import stage2_in_progress

    return score_sheets.score_sheet_open(audit=stage2_in_progress(staff), actor=staff.leader)


def _item(sheet, code):
    return sheet.items.select_related("indicator").get(indicator__code=code)


def _sign(sheet, staff):
    from audits import services as score_sheets

    return score_sheets.score_sheet_submit(
        sheet=sheet, actor=staff.leader, submitted_on=date(2025, 3, 12)
    )


def test_a_sheet_with_an_unassessed_indicator_is_not_signed(staff, open_sheet):
    from audits import services as score_sheets
    from audits.models import ScoreSheet
    from tests.certificates.factories import assess_all_met

    last = open_sheet.items.order_by("-pk").first()
    for item in open_sheet.items.exclude(pk=last.pk).select_related("indicator"):
        sampled = item.indicator.method == "sampled"
        score_sheets.score_item_update(
            item=item, actor=staff.leader, met=True, samples=5 if sampled else 0
        )
    open_sheet.refresh_from_db()
    assert (open_sheet.grade, open_sheet.score, open_sheet.passed) == ("incomplete", 0, False)
    with pytest.raises(RuleViolation, match=rf"not assessed: {last.indicator}.*004 §5.6.5.3"):
        _sign(open_sheet, staff)
    sheet = assess_all_met(open_sheet, staff.leader)
    assert sheet.grade == "five_star"
    assert _sign(sheet, staff).state == ScoreSheet.State.SUBMITTED


def test_an_indicator_not_met_needs_written_evidence(staff, open_sheet):
    from audits import services as score_sheets

    qualitative = open_sheet.items.filter(indicator__method="qualitative").first()
    with pytest.raises(RuleViolation, match="written evidence.*004 §5.6.5.2"):
        score_sheets.score_item_update(item=qualitative, actor=staff.leader, met=False)
    qualitative.refresh_from_db()
    assert not qualitative.assessed
    score_sheets.score_item_update(
        item=qualitative, actor=staff.leader, met=False, evidence="未见职责文件"
    )
    qualitative.refresh_from_db()
    assert qualitative.assessed and not qualitative.met


def test_a_nonconforming_sample_needs_written_evidence(staff, open_sheet):
    from audits import services as score_sheets

    sampled = open_sheet.items.filter(indicator__method="sampled").first()
    with pytest.raises(RuleViolation, match="written evidence.*004 §5.6.5.2"):
        score_sheets.score_item_update(item=sampled, actor=staff.leader, samples=5, nonconforming=1)
    score_sheets.score_item_update(
        item=sampled, actor=staff.leader, samples=5, nonconforming=1, evidence="1 份超时"
    )
    # All conforming samples need no written finding.
    score_sheets.score_item_update(item=sampled, actor=staff.leader, samples=5)


@pytest.mark.parametrize(("samples", "allowed"), [(0, False), (1, True)])
def test_a_sampled_indicator_needs_at_least_one_sample(staff, open_sheet, samples, allowed):
    from audits import services as score_sheets

    sampled = open_sheet.items.filter(indicator__method="sampled").first()
    if allowed:
        score_sheets.score_item_update(item=sampled, actor=staff.leader, samples=samples)
        sampled.refresh_from_db()
        assert sampled.assessed and sampled.points == sampled.indicator.max_points
    else:
        with pytest.raises(RuleViolation, match="at least one sample.*004 §5.6.5.2 b"):
            score_sheets.score_item_update(item=sampled, actor=staff.leader, samples=samples)


def test_an_excluded_indicator_with_its_justification_counts_as_assessed(staff, open_sheet):
    from audits import services as score_sheets
    from tests.certificates.factories import assess_all_met

    sampled = open_sheet.items.filter(indicator__method="sampled").first()
    score_sheets.score_item_update(
        item=sampled,
        actor=staff.leader,
        excluded=True,
        exclusion_justification="该企业不提供安装服务",
    )
    sheet = assess_all_met(open_sheet, staff.leader)
    assert sheet.applicable == 100 - sampled.indicator.max_points
    assert sheet.grade == "five_star"


def test_special_deduction_and_bonus_need_written_evidence(staff, open_sheet):
    from audits import services as score_sheets

    with pytest.raises(RuleViolation, match="004 §5.6.5.2 c"):
        score_sheets.special_deduction_add(
            sheet=open_sheet,
            actor=staff.leader,
            category="law",
            description=" ",
            correction_required="整改",
        )
    with pytest.raises(RuleViolation, match="004 §5.6.5.2 d"):
        score_sheets.special_bonus_set(sheet=open_sheet, actor=staff.leader, granted=True)
