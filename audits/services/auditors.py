"""Auditors, their registrations, competences, training, witnessed audits and declarations of
interest (004 §3.5, §4.2–4.4, §12.1.3)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from applications.models import Organization
from audits.models import (
    Audit,
    Auditor,
    AuditorCompetence,
    AuditorTraining,
    AuditorWitnessedAudit,
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
    registration_type: str | None = None,
    registration_issued_on: date | None = None,
    registration_valid_until: date | None = None,
    notes: str = "",
) -> Auditor:
    """Create or update the auditor profile of ``user`` (004 §4.2, §12.1.3).

    ``qualification``: one of ``Auditor.Qualification``; auditors, senior auditors and trainees
    need a registration number (004 §4.2), technical experts need none. ``registration_type``:
    one of ``Auditor.RegistrationType`` (002 §4.3.6.2), by default the one of the same name as
    the qualification (none for a technical expert); it must support the qualification.
    ``registration_issued_on`` / ``registration_valid_until``: the registration's local dates;
    a registration without them stays usable and is listed for completion. ``is_full_time``:
    the person is 专职 as defined in 004 §12.1.3. Refused for client users, unknown
    qualifications, a missing or duplicate registration number, a registration type that does
    not fit, or an expiry before the issue date.
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
        auditor.registration_type = _registration_type(qualification, registration_type)
        auditor.registration_issued_on = registration_issued_on
        auditor.registration_valid_until = registration_valid_until
        auditor.notes = notes
        auditor.active = True
        _validate(auditor)
        record(auditor, actor=actor, reason="登记审核人员" if created else "更新审核人员信息")
        auditor.save()
    return auditor


def _registration_type(qualification: str, registration_type: str | None) -> str:
    if registration_type is None:
        if qualification == Auditor.Qualification.TECHNICAL_EXPERT:
            return ""
        return qualification  # the same names (and the migration filled them so)
    if registration_type and registration_type not in Auditor.RegistrationType.values:
        raise RuleViolation(
            _("Unknown registration type: %(registration_type)s.")
            % {"registration_type": registration_type},
            "004 §4.2",
        )
    return registration_type


def auditor_registration_update(
    *,
    auditor: Auditor,
    actor,
    registration_type: str,
    registration_number: str,
    registration_issued_on: date | None = None,
    registration_valid_until: date | None = None,
) -> Auditor:
    """Record the auditor's current registration: type, number, issue and expiry dates.

    Used to complete a registration recorded without dates and to record a renewal (a new
    expiry starts the 60/30-day reminders again). Dates are local ``date``s; the issue date
    cannot be in the future. Refused as ``auditor_register`` (004 §4.2): a missing or duplicate
    number (except for technical experts), a type that does not support the qualification, an
    expiry before the issue date.
    """
    policy.require(actor, "audits.manage_auditors", auditor)
    if registration_issued_on is not None:
        _not_future(registration_issued_on, _("the registration's issue date"))
    with transaction.atomic():
        auditor = Auditor.objects.select_for_update().get(pk=auditor.pk)
        auditor.registration_type = _registration_type(
            auditor.qualification, registration_type or ""
        )
        auditor.registration_number = registration_number
        auditor.registration_issued_on = registration_issued_on
        auditor.registration_valid_until = registration_valid_until
        _validate(auditor)
        record(auditor, actor=actor, reason="更新注册信息")
        auditor.save()
    return auditor


def auditor_training_record(
    *,
    auditor: Auditor,
    actor,
    attended_on: date,
    title: str,
    hours,
    provider: str,
    evidence: str,
) -> AuditorTraining:
    """Record training or continuing professional development the auditor attended.

    ``hours``: ``Decimal`` (or a string or int; never a float), more than 0. ``attended_on``:
    the local date, not in the future. ``evidence``: the certificate or attendance record it
    rests on. Refused for blank title, provider or evidence (004 §4.4: the continuing education
    the registration requires, and the CB's competence development, 004 §3.5).
    """
    policy.require(actor, "audits.manage_auditors", auditor)
    _not_future(attended_on, _("the training date"))
    training = AuditorTraining(
        auditor=auditor,
        attended_on=attended_on,
        title=title,
        hours=_hours(hours),
        provider=provider,
        evidence=evidence,
    )
    with transaction.atomic():
        _validate(training)
        record(training, actor=actor, reason="登记培训/继续教育")
        training.save()
    return training


def _hours(value) -> Decimal:
    """Training hours from a form or a caller: Decimal, int or str; never a float."""
    try:
        if isinstance(value, bool | float):
            raise TypeError
        hours = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
        if not hours.is_finite():
            raise ValueError
    except (InvalidOperation, TypeError, ValueError):
        raise RuleViolation(_("Training hours must be a number.")) from None
    return hours


def auditor_witnessed_audit_record(
    *,
    auditor: Auditor,
    actor,
    witnessed_on: date,
    witness: str,
    outcome: str,
    audit: Audit | None = None,
    notes: str = "",
) -> AuditorWitnessedAudit:
    """Record that ``witness`` witnessed and assessed the auditor at an audit.

    ``audit``: the audit witnessed when it is one of the CB's (optional); ``outcome``: one of
    ``AuditorWitnessedAudit.Outcome``; anything but satisfactory needs ``notes``.
    ``witnessed_on``: local date, not in the future. Part of the CB's evaluation of its
    auditors (004 §3.5).
    """
    policy.require(actor, "audits.manage_auditors", auditor)
    _not_future(witnessed_on, _("the date witnessed"))
    if outcome not in AuditorWitnessedAudit.Outcome.values:
        raise RuleViolation(_("Unknown outcome: %(outcome)s.") % {"outcome": outcome}, "004 §3.5")
    witnessed = AuditorWitnessedAudit(
        auditor=auditor,
        witnessed_on=witnessed_on,
        audit=audit,
        witness=witness,
        outcome=outcome,
        notes=notes,
    )
    with transaction.atomic():
        _validate(witnessed)
        record(witnessed, actor=actor, reason="登记见证审核")
        witnessed.save()
    return witnessed


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
