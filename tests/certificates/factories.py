"""Build certificates the way production does: through the services, step by step."""

from datetime import date

from applications import services as app_services
from audits import services as audit_services
from audits.models import Audit, Auditor
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


def run_audit(audit, staff, start, end, positive=True):
    if not audit.team.exists():
        audit_services.audit_team_add(
            audit=audit, actor=staff.planner, user=staff.leader, role="leader"
        )
    audit_services.audit_start(audit=audit, actor=staff.planner, started_on=start)
    audit_services.audit_complete(
        audit=audit, actor=staff.leader, ended_on=end, recommendation_positive=positive
    )
    audit.refresh_from_db()
    return audit


def completed_stage2(organization=None, staff=None, *, end=date(2025, 3, 12)):
    staff = staff or Staff()
    application = accepted_application(organization, staff)
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 1))
    audit_services.audit_close(audit=review, actor=staff.planner)
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    return run_audit(stage2, staff, date(2025, 3, 10), end)


def issued_certificate(
    organization=None, staff=None, *, decided_on=date(2025, 3, 20), grade="four_star"
):
    staff = staff or Staff()
    stage2 = completed_stage2(organization, staff)
    decision = cert_services.decision_make(
        audit=stage2, actor=staff.decider, outcome="grant", decided_on=decided_on, star_grade=grade
    )
    return decision.certificates.get(head__isnull=True)
