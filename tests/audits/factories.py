"""Auditor profiles, competences and declarations, built through the audits services."""

from datetime import date

from audits import services
from audits.models import Auditor
from certbody import roles
from tests.conftest import make_staff

COMPETENT_SINCE = date(2020, 1, 1)


def planner_user():
    """The audit-department user the factories act as (created on first use)."""
    from certbody.models import User

    return User.objects.filter(username="fx-planner").first() or make_staff(
        "fx-planner", roles.AUDIT_DEPARTMENT
    )


def auditor_profile(
    user,
    *,
    actor=None,
    codes=(24,),
    full_time: bool = True,
    qualification: str = Auditor.Qualification.AUDITOR,
    registration_number: str | None = None,
    granted_on: date = COMPETENT_SINCE,
) -> Auditor:
    """Register ``user`` as an auditor competent for the business scope ``codes``."""
    actor = actor or planner_user()
    if registration_number is None:
        registration_number = (
            ""
            if qualification == Auditor.Qualification.TECHNICAL_EXPERT
            else f"2024-FW-{user.pk:06d}"
        )
    auditor = services.auditor_register(
        user=user,
        actor=actor,
        qualification=qualification,
        is_full_time=full_time,
        registration_number=registration_number,
    )
    for code in codes:
        services.auditor_competence_grant(
            auditor=auditor,
            actor=actor,
            scope_code=code,
            evidence="售后服务认证审查员专业能力评价记录",
            granted_on=granted_on,
        )
    return auditor


def auditor_user(username: str, **kwargs):
    """A staff user in the auditor role with an auditor profile (see ``auditor_profile``)."""
    user = make_staff(username, roles.AUDITOR)
    auditor_profile(user, **kwargs)
    return user


def surveillance_maintained(certificate, staff, *, start, end, decided_on):
    """Run surveillance 1 of the certificate's programme and maintain the certificate."""
    from certificates import services as cert_services
    from tests.certificates.factories import run_audit

    audit = certificate.programme.audits.get(kind="surveillance", sequence=1)
    run_audit(audit, staff, start, end)
    cert_services.decision_make(
        audit=audit, actor=staff.decider, outcome="maintain", decided_on=decided_on
    )
    audit.refresh_from_db()
    return audit


def recertified_programme(organization=None, staff=None):
    """A client through a full normal cycle: initial, surveillance 1, recertification granted.

    Returns the new cycle's programme (cycle 1), ready for an ASRP (000 §4.1.1).
    """
    from certificates import services as cert_services
    from tests.certificates.factories import (
        Staff,
        accepted_application,
        issued_certificate,
        run_audit,
    )

    staff = staff or Staff()
    certificate = issued_certificate(organization, staff)
    surveillance_maintained(
        certificate,
        staff,
        start=date(2025, 8, 1),
        end=date(2025, 8, 2),
        decided_on=date(2025, 8, 8),
    )
    application = accepted_application(certificate.organization, staff, kind="recertification")
    programme = services.programme_create(application=application, actor=staff.planner)
    audit = programme.audits.get(kind="recertification")
    run_audit(audit, staff, date(2025, 9, 1), date(2025, 9, 2))
    cert_services.decision_make(
        audit=audit,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 9, 10),
        star_grade="five_star",
    )
    programme.refresh_from_db()
    return programme
