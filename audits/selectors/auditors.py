"""Read-only queries about auditors' registrations (004 §4.2): the registrations to complete,
expiring or expired, for the auditors desk and the reminder job's readers."""

from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from audits.models import Auditor

# The registration states the auditors desk filters on; "expiring": within the 60 days the
# reminder job (``audits.jobs``) warns about.
REGISTRATION_STATES = (
    ("to_complete", _("registrations to complete")),
    ("expiring", _("expiring within 60 days")),
    ("expired", _("expired")),
)
EXPIRING_DAYS = 60


def registration_q(state: str, today: date) -> Q:
    """The auditors whose registration is in ``state`` (``REGISTRATION_STATES``) on ``today``.

    "to_complete": anyone but a technical expert recorded without a registration type, issue
    or expiry date (usable on teams, but the dates cannot be checked).
    """
    if state == "to_complete":
        return ~Q(qualification=Auditor.Qualification.TECHNICAL_EXPERT) & (
            Q(registration_type="")
            | Q(registration_issued_on__isnull=True)
            | Q(registration_valid_until__isnull=True)
        )
    if state == "expiring":
        return Q(
            registration_valid_until__gte=today,
            registration_valid_until__lte=today + timedelta(days=EXPIRING_DAYS),
        )
    if state == "expired":
        return Q(registration_valid_until__lt=today)
    raise ValueError(f"unknown registration state {state!r}")


def registrations_to_complete() -> QuerySet:
    """Active auditors whose registration lacks its type, issue or expiry date (004 §4.2).

    They stay usable on teams (``audit_team_check`` cannot hold an unknown date against
    them); the audit department completes them (``auditor_registration_update``).
    """
    return (
        Auditor.objects.filter(registration_q("to_complete", date.min), active=True)
        .select_related("user")
        .order_by("user__username")
    )
