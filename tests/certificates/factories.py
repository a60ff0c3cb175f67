"""Build certificates the way production does: through the services, step by step."""

from datetime import date, timedelta
from decimal import Decimal

from applications import services as app_services
from audits import services as audit_services
from audits.models import (
    Audit,
    Auditor,
    AuditPlan,
    IndicatorCatalogue,
    ScoreSheet,
    SpecialDeduction,
)
from certificates import services as cert_services
from tests.applications.factories import OrganizationFactory
from tests.audits.factories import auditor_profile
from tests.conftest import make_staff


class Staff:
    """One staff member per role, created on first use (usernames are unique per test)."""

    def __init__(self):
        from certbody import roles
        from certbody.models import User

        def get(name, role):
            return User.objects.filter(username=name).first() or make_staff(name, role)

        self.market = get("wf-market", roles.MARKET)
        self.planner = get("wf-planner", roles.AUDIT_DEPARTMENT)
        self.leader = get("wf-leader", roles.AUDITOR)
        self.decider = get("wf-decider", roles.DECISION_MAKER)
        if not Auditor.objects.filter(user=self.leader).exists():
            # A full-time auditor competent for scope 24, so the team rules let audits start.
            auditor_profile(self.leader, actor=self.planner, codes=(24,), full_time=True)
        if not Auditor.objects.filter(user=self.decider).exists():
            # Decisions are made by full-time certification staff (004 §5.12.1, §12.1.3).
            auditor_profile(self.decider, actor=self.planner, codes=(), full_time=True)


def accepted_application(organization=None, staff=None, *, kind="initial", sign=True):
    staff = staff or Staff()
    organization = organization or OrganizationFactory()
    application = app_services.application_create(
        organization=organization,
        actor=staff.market,
        scope_text="家用电器的销售及售后服务（配送、安装、维修）",
        headcount=organization.headcount,
        business_scope_codes=[24],
        kind=kind,
    )
    app_services.application_submit(application=application, actor=staff.market)
    app_services.application_start_review(application=application, actor=staff.market)
    app_services.application_review_record(
        application=application,
        actor=staff.market,
        checks=dict.fromkeys(app_services.ApplicationReview.CHECKS, True),
    )
    app_services.application_accept(application=application, actor=staff.market)
    contract = app_services.contract_create(application=application, actor=staff.market, fee=20000)
    if sign:
        app_services.contract_sign(
            contract=contract,
            actor=staff.market,
            signed_on=date(2025, 1, 5),
            signed_by_client="王五",
        )
    application.refresh_from_db()
    return application


# A score in the middle of each grade's band (004 §5.6.5.3 (4)); "fail" is below 70.
GRADE_SCORES = {
    "fail": Decimal("60.00"),
    "standard": Decimal("75.00"),
    "three_star": Decimal("85.00"),
    "four_star": Decimal("92.00"),
    "five_star": Decimal("97.00"),
}
# The grade a granted audit gets when a test does not say: the journeys of the suite grant
# four stars initially and five stars at recertification. Surveillance audits get no sheet
# by default (a decision maker's maintain needs none; pass ``grade`` to score one).
DEFAULT_GRADES = {
    Audit.Kind.STAGE2: "four_star",
    Audit.Kind.RECERTIFICATION: "five_star",
}
DEFAULT = object()


def assess_all_met(sheet, actor, *, samples=10):
    """Assess every unassessed indicator of ``sheet`` through the service: qualitative ones
    met, sampled ones with ``samples`` samples all conforming (100 points when nothing else
    was scored). Returns the sheet."""
    from audits import services as score_sheets
    from audits.models import Indicator

    for item in sheet.items.select_related("indicator").filter(assessed=False):
        sampled = item.indicator.method == Indicator.Method.SAMPLED
        sheet = score_sheets.score_item_update(
            item=item, actor=actor, met=True, samples=samples if sampled else 0
        )
    sheet.refresh_from_db()
    return sheet


def score_sheet(audit, grade="four_star", *, leader=None, score=None, deductions=0, state=None):
    """A score sheet for ``audit`` written directly (the scoring service is not under test).

    Submitted by ``leader`` (the audit's team leader by default) on the audit's end, with the
    stored result of ``grade`` (score ``GRADE_SCORES[grade]`` unless ``score`` is given) and
    ``deductions`` special deduction rows.
    """
    score = GRADE_SCORES[grade] if score is None else Decimal(score)
    if leader is None:
        member = audit.team.filter(role="leader").first()
        leader = member.user if member else None
    sheet = ScoreSheet.objects.create(
        audit=audit,
        catalogue=IndicatorCatalogue.objects.get(is_current=True),
        state=state or ScoreSheet.State.SUBMITTED,
        earned=score,
        applicable=Decimal(100),
        score=score,
        passed=grade != "fail",
        grade=grade,
        submitted_by=leader,
        submitted_on=audit.actual_end,
    )
    for k in range(deductions):
        SpecialDeduction.objects.create(
            sheet=sheet,
            category=SpecialDeduction.Category.LAW,
            description=f"特别扣分项 {k + 1}",
            correction_required="限期整改",
        )
    return sheet


def plan_ready(audit, staff, start, end=None, *, reported_on=None):
    """Make ``audit`` ready to start on ``start`` through the services (004 §5.4.6, §9.2).

    Schedules it on ``start``–``end`` (when its dates differ), writes the plan covering all
    the client's sites, sends it a week before, has it confirmed the next day and reported
    to CNCA ``reported_on`` (5 days before the start by default). The team must be set.
    Nothing is done for a document review, which needs no plan.
    """
    audit.refresh_from_db()
    if not audit.needs_site_visit:
        return None
    end = end or start
    if (audit.planned_start, audit.planned_end) != (start, end):
        audit_services.audit_schedule(
            audit=audit, actor=staff.planner, planned_start=start, planned_end=end
        )
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is None or plan.state == AuditPlan.State.DRAFT:
        plan = audit_services.audit_plan_prepare(
            audit=audit,
            actor=staff.planner,
            objectives="评价售后服务体系与 GB/T 27922 的符合性和有效性，确定星级",
            criteria="GB/T 27922-2011；ZXRZ 售后服务认证规则",
            scope_text="家用电器的销售及售后服务",
            shifts_covered="白班（9:00–18:00）",
            sites=list(audit.organization.sites.all()),
        )
        plan = audit_services.audit_plan_send(
            plan=plan, actor=staff.planner, sent_on=start - timedelta(days=7)
        )
    if plan.state == AuditPlan.State.SENT:
        plan = audit_services.audit_plan_confirm(
            plan=plan,
            actor=staff.planner,
            confirmed_on=start - timedelta(days=6),
            confirmed_by="王五",
        )
    if plan.cnca_reported_on is None:
        plan = audit_services.audit_plan_report_cnca(
            plan=plan, actor=staff.planner, reported_on=reported_on or start - timedelta(days=5)
        )
    return plan


ATTENDEES = [
    {"name": "王五", "role": "最高管理者", "position": "总经理"},
    {"name": "赵六", "role": "售后服务部门负责人", "position": "售后服务部经理"},
]


def hold_meetings(audit, start, end=None, *, leader=None):
    """Record ``audit``'s opening meeting on ``start`` and closing meeting on ``end`` through
    the service, by its team leader, the top manager present (004 §5.5.2)."""
    audit.refresh_from_db()
    if not audit.needs_site_visit:
        return
    leader = leader or audit.team.get(role="leader").user
    for kind, held_on in (("opening", start), ("closing", end or start)):
        audit_services.audit_meeting_record(
            audit=audit,
            actor=leader,
            kind=kind,
            held_on=held_on,
            attendees=ATTENDEES,
            top_manager_present=True,
            check_in_confirmed=True,
        )


def sign_report(audit, on=None):
    """The team leader signs ``audit``'s report on ``on`` (its end by default) through the
    service: a decision rests on it (004 §5.12.1)."""
    from audits import services as audit_reports

    audit.refresh_from_db()
    leader = audit.team.get(role="leader").user
    return audit_reports.audit_report_generate(
        audit=audit, actor=leader, signed_on=on or audit.actual_end
    )


def run_audit(audit, staff, start, end, positive=True, grade=DEFAULT, report=True):
    """Start and complete ``audit`` with ``staff.leader`` leading it, through the gates: its
    plan confirmed and reported (``plan_ready``), both meetings held (``hold_meetings``).

    A stage 2 or recertification audit also gets a submitted score sheet at ``grade``
    (``DEFAULT_GRADES`` by kind; ``None`` for no sheet); any audit does when ``grade`` is
    given, e.g. a surveillance. Every audit but the document review then gets its report
    signed by the team leader on ``end`` (``report=False``: none), so it can be decided.
    """
    if not audit.team.exists():
        audit_services.audit_team_add(
            audit=audit, actor=staff.planner, user=staff.leader, role="leader"
        )
    plan_ready(audit, staff, start, end)
    audit_services.audit_start(audit=audit, actor=staff.planner, started_on=start)
    hold_meetings(audit, start, end)
    audit_services.audit_complete(
        audit=audit, actor=staff.leader, ended_on=end, recommendation_positive=positive
    )
    audit.refresh_from_db()
    if grade is DEFAULT:
        grade = DEFAULT_GRADES.get(audit.kind)
    if grade is not None:
        score_sheet(audit, grade)
    if report and audit.kind != Audit.Kind.DOCUMENT_REVIEW:
        sign_report(audit, end)
    return audit


def completed_stage2(
    organization=None, staff=None, *, end=date(2025, 3, 12), grade=DEFAULT, report=True
):
    """A completed stage 2 audit, scored at ``grade`` (four stars; ``None`` for no sheet),
    its report signed on ``end`` unless ``report`` is False."""
    staff = staff or Staff()
    application = accepted_application(organization, staff)
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 1))
    audit_services.audit_close(audit=review, actor=staff.planner)
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    return run_audit(stage2, staff, date(2025, 3, 10), end, grade=grade, report=report)


def issued_certificate(
    organization=None, staff=None, *, decided_on=date(2025, 3, 20), grade="four_star"
):
    """A head certificate granted at ``grade``, the grade of the stage 2 score sheet."""
    staff = staff or Staff()
    stage2 = completed_stage2(organization, staff, grade=grade)
    decision = cert_services.decision_make(
        audit=stage2, actor=staff.decider, outcome="grant", decided_on=decided_on, star_grade=grade
    )
    return decision.certificates.get(head__isnull=True)


def scheduled_stage2(staff, start, end):
    """Stage 2 of a new client: its document review completed (1 February 2025), a leader on
    the team and the dates ``start``–``end`` (local dates) scheduled."""
    programme = audit_services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 1))
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    audit_services.audit_team_add(
        audit=stage2, actor=staff.planner, user=staff.leader, role="leader"
    )
    audit_services.audit_schedule(
        audit=stage2, actor=staff.planner, planned_start=start, planned_end=end
    )
    return stage2
