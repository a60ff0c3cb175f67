"""Staff roles as Django groups, in one place; what each role may do is ``certbody.policy``."""

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy as _

MARKET = "market"
AUDIT_DEPARTMENT = "audit_department"
AUDITOR = "auditor"
DECISION_MAKER = "decision_maker"
REPORTING_OFFICER = "reporting_officer"
TECHNICAL_MANAGER = "technical_manager"

STAFF_ROLES = {
    MARKET: _("Market (applications, contracts)"),
    AUDIT_DEPARTMENT: _("Audit department (programmes, plans, teams)"),
    AUDITOR: _("Auditor"),
    DECISION_MAKER: _("Certification decision maker"),
    REPORTING_OFFICER: _("Reporting officer"),
    TECHNICAL_MANAGER: _("Technical manager"),
}

SYSTEM_USERNAME = "system"


def has_role(user, role: str) -> bool:
    """True when ``user`` is an active staff member in the group ``role`` (superusers: all).

    The user's groups are read once and kept on the user object (Django's prefetch cache, as
    ``certbody.language``'s middleware does for a request): a service asking the matrix
    several times (a grant asks four times) reads them once. ``user.groups.add``/``set``/
    ``remove``/``clear`` on that object drop the kept list."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not user.is_staff:
        return False
    if "groups" not in getattr(user, "_prefetched_objects_cache", {}):
        prefetch_related_objects([user], "groups")
    return any(g.name == role for g in user.groups.all())
