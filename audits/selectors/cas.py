"""The CAS scheme's own surveillance window (001 §7.1): read-only, below the services.

Under CAS the surveillance audits of a cycle take place 9 to 12 months after the previous
audit — the initial (or recertification) audit opening the cycle for the first surveillance,
the first surveillance for the second ("在初次审查后或第一次监督审查结束后的 9-12 个月内").
The latest day is the surveillance's stored ``due_on`` (``programmes._surveillance_dues``);
the earliest is checked here when an audit is scheduled or started. An audit needed sooner
(001 §7.2: accidents, complaints, major changes) is recorded as a special audit
(``audit_add_special``), which the window does not bind. ZXRZ sets no earliest day.
"""

from datetime import date

from django.utils.translation import gettext as _

from audits import rules
from audits.models import Audit
from audits.selectors.planning import _opening_audit
from certbody.lifecycle import RuleViolation

CAS_WINDOW_RULE = "001 §7.1"


def cas_previous_audit(audit: Audit) -> Audit | None:
    """The audit the CAS window of surveillance ``audit`` counts from: the cycle's opening
    audit (stage 2, or the recertification audit) for surveillance 1, surveillance 1 for
    surveillance 2. None for any other audit, another scheme, or no such audit."""
    programme = audit.programme
    if programme.scheme != rules.SCHEME_CAS or audit.kind != Audit.Kind.SURVEILLANCE:
        return None
    if audit.sequence <= 1:
        return _opening_audit(programme)
    return (
        programme.audits.filter(kind=Audit.Kind.SURVEILLANCE, sequence=audit.sequence - 1)
        .exclude(state=Audit.State.TERMINATED)
        .order_by("pk")
        .first()
    )


def cas_surveillance_earliest(audit: Audit) -> date | None:
    """The first local date surveillance ``audit`` may start under CAS: 9 calendar months after
    the previous audit's end (its actual end, else its planned end), clamped to month end
    (``rules.cas_surveillance_window``; domain §19). None when the window does not apply
    (not a CAS surveillance audit) or the previous audit has no end date yet. 001 §7.1."""
    previous = cas_previous_audit(audit)
    if previous is None:
        return None
    end = previous.actual_end or previous.planned_end
    if end is None:
        return None
    return rules.cas_surveillance_window(end)[0]


def require_cas_surveillance_window(audit: Audit, first_day: date) -> None:
    """Refuse a CAS surveillance ``audit`` whose first day (``first_day``, a local date) falls
    before ``cas_surveillance_earliest``: ``RuleViolation`` with rule 001 §7.1, telling the
    earliest day and that an earlier audit is added as a special audit (001 §7.2). The
    earliest day itself is allowed. Nothing for other audits or schemes."""
    earliest = cas_surveillance_earliest(audit)
    if earliest is None or first_day >= earliest:
        return
    raise RuleViolation(
        _(
            "Under the CAS rules a surveillance audit takes place 9 to 12 months after the "
            "previous audit: not before %(earliest)s. An audit needed earlier is added as a "
            "special audit."
        )
        % {"earliest": format(earliest, "%Y-%m-%d")},
        CAS_WINDOW_RULE,
    )
