"""CAS clients (scheme "CAS", seed 001) built through the services, as production does."""

from datetime import date

from applications import services as app_services
from applications.models import ApplicationReview
from audits import services as audit_services
from audits.models import Audit
from certificates import services as cert_services
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import Staff, run_audit

STAGE2_END = date(2025, 3, 12)
DECIDED_ON = date(2025, 3, 20)


def cas_application(organization=None, staff: Staff | None = None):
    """An accepted CAS application with its contract signed."""
    staff = staff or Staff()
    application = app_services.application_create(
        organization=organization or OrganizationFactory(),
        actor=staff.market,
        scope_text="家用电器的批发零售及售后服务（配送、安装、维修）",
        headcount=60,
        business_scope_codes=[24],
        scheme="CAS",
    )
    app_services.application_submit(application=application, actor=staff.market)
    app_services.application_start_review(application=application, actor=staff.market)
    app_services.application_review_record(
        application=application,
        actor=staff.market,
        checks=dict.fromkeys(ApplicationReview.CHECKS, True),
    )
    app_services.application_accept(application=application, actor=staff.market)
    contract = app_services.contract_create(application=application, actor=staff.market)
    app_services.contract_sign(
        contract=contract, actor=staff.market, signed_on=date(2025, 1, 5), signed_by_client="王五"
    )
    application.refresh_from_db()
    return application


def cas_certificate(
    organization=None,
    staff: Staff | None = None,
    *,
    stage2_end: date = STAGE2_END,
    decided_on: date = DECIDED_ON,
):
    """A valid four-star CAS head certificate: document review, stage 2 from 2025-03-10 to
    ``stage2_end``, granted on ``decided_on``."""
    staff = staff or Staff()
    application = cas_application(organization, staff)
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 1))
    audit_services.audit_close(audit=review, actor=staff.planner)
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    run_audit(stage2, staff, date(2025, 3, 10), stage2_end)
    decision = cert_services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="grant",
        decided_on=decided_on,
        star_grade="four_star",
    )
    return decision.certificates.get(head__isnull=True)
