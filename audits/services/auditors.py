"""Auditors, their competences and declarations of interest (004 §4.2–4.3, §12.1.3)."""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from applications.models import Organization
from audits.models import (
    Auditor,
    AuditorCompetence,
    ConflictDeclaration,
)
from audits.services._guards import _not_future, _validate
from certbody import policy
from certbody.lifecycle import RuleViolation, record
from certbody.models import BusinessScope


def auditor_register(
    *,
    user,
    actor,
    qualification: str,
    is_full_time: bool,
    registration_number: str = "",
    registration_valid_until: date | None = None,
    notes: str = "",
) -> Auditor:
    """Create or update the auditor profile of ``user`` (004 §4.2, §12.1.3).

    ``qualification``: one of ``Auditor.Qualification``; auditors, senior auditors and trainees
    need a registration number (004 §4.2), technical experts need none. ``is_full_time``: the
    person is 专职 as defined in 004 §12.1.3. Refused for client users, unknown
    qualifications, a missing or duplicate registration number.
    """
    policy.require(actor, "audits.manage_auditors")
    if qualification not in Auditor.Qualification.values:
        raise RuleViolation(
            _("Unknown auditor qualification: %(qualification)s.")
            % {"qualification": qualification}
        )
    with transaction.atomic():
        auditor = Auditor.objects.select_for_update().filter(user=user).first()
        created = auditor is None
        auditor = auditor or Auditor(user=user)
        auditor.qualification = qualification
        auditor.is_full_time = bool(is_full_time)
        auditor.registration_number = registration_number
        auditor.registration_valid_until = registration_valid_until
        auditor.notes = notes
        auditor.active = True
        _validate(auditor)
        record(auditor, actor=actor, reason="登记审核人员" if created else "更新审核人员信息")
        auditor.save()
    return auditor


def auditor_competence_grant(
    *,
    auditor: Auditor,
    actor,
    scope_code: int,
    evidence: str,
    granted_on: date,
    valid_until: date | None = None,
) -> AuditorCompetence:
    """Record (or renew) the auditor's competence for a business scope category.

    ``scope_code``: an 004 Appendix B code. ``evidence``: what the competence evaluation rests
    on (004 §3.5, §3.6). Refused for an unknown code, blank evidence or a validity that ends
    before it starts.
    """
    policy.require(actor, "audits.manage_auditors", auditor)
    scope = BusinessScope.objects.filter(code=scope_code).first()
    if scope is None:
        raise RuleViolation(
            _("Unknown business scope category: %(scope_code)s.") % {"scope_code": scope_code},
            "004 附录B",
        )
    with transaction.atomic():
        competence = (
            AuditorCompetence.objects.select_for_update()
            .filter(auditor=auditor, business_scope=scope)
            .first()
        ) or AuditorCompetence(auditor=auditor, business_scope=scope)
        competence.evidence = evidence
        competence.granted_on = granted_on
        competence.valid_until = valid_until
        _validate(competence)
        record(competence, actor=actor, reason="评定专业能力")
        competence.save()
    return competence


def conflict_declare(
    *,
    auditor: Auditor,
    actor,
    organization: Organization,
    has_interest: bool,
    declared_on: date,
    description: str = "",
) -> ConflictDeclaration:
    """Record the auditor's declaration of interest (or of none) in a client (004 §4.3).

    The auditor declares for themself, or the audit department records it. A declared interest
    needs a description and keeps the auditor off that client's teams (004 §5.4.4.3).
    """
    if actor.pk != auditor.user_id:
        policy.require(actor, "audits.declare_conflict", auditor)
    _not_future(declared_on, _("the declaration date"))
    with transaction.atomic():
        declaration = (
            ConflictDeclaration.objects.select_for_update()
            .filter(auditor=auditor, organization=organization)
            .first()
        ) or ConflictDeclaration(auditor=auditor, organization=organization)
        declaration.has_interest = bool(has_interest)
        declaration.description = description
        declaration.declared_on = declared_on
        _validate(declaration)
        record(declaration, actor=actor, reason="利益冲突声明")
        declaration.save()
    return declaration
