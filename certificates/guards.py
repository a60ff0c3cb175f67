"""Shared guards of the certificate services: small checks that raise ``RuleViolation`` with
the clause (dates not in the future, head certificates only, the 5-working-day window, known
CNCA reason codes). They change nothing; the services call them before writing.
"""

from datetime import date

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certbody import dates
from certbody.lifecycle import RuleViolation
from certbody.reference import cnca_label
from certificates import causes, selectors
from certificates.models import Certificate


def not_future(day: date, what: str) -> None:
    if day > dates.today():
        raise RuleViolation(gettext("%(what)s cannot be later than today.") % {"what": what})


def head_only(certificate: Certificate) -> None:
    if certificate.head_id is not None:
        raise RuleViolation(
            gettext("A sub-certificate follows its head certificate: act on the head certificate."),
            "004 附录C.2",
        )


def reason_label(table: str, reason_code: str, rule: str) -> str:
    label = cnca_label(table, reason_code)
    if not label:
        raise RuleViolation(gettext("Unknown reason code: %(code)s") % {"code": reason_code}, rule)
    return label


def within_working_days(verified_on: date, acted_on: date, *, what: str, rule: str) -> str:
    """Refuse ``acted_on`` outside [verified_on, verified_on + 5 working days] (004 §7.2.1,
    §7.3.1); returns the provisional-calendar note (may be empty)."""
    not_future(verified_on, _("The verification date"))
    if acted_on < verified_on:
        raise RuleViolation(
            gettext(
                "The %(what)s date cannot be earlier than the verification date (%(verified)s)."
            )
            % {"what": what, "verified": verified_on},
            rule,
        )
    deadline, note = selectors.working_day_deadline(verified_on)
    if acted_on > deadline:
        extra = gettext("; ") + note if note else ""
        raise RuleViolation(
            gettext(
                "The %(what)s must be within 5 working days of the verification: verified on "
                "%(verified)s, at the latest %(deadline)s, not %(day)s%(extra)s"
            )
            % {
                "what": what,
                "verified": verified_on,
                "deadline": deadline,
                "day": acted_on,
                "extra": extra,
            },
            rule,
        )
    return note


def suspension_cause(table: causes.SchemeCauses, number) -> causes.Cause:
    """The suspension cause ``number`` of the certificate's scheme (``table``); a number not in
    the table is refused with the scheme's clause (004 §7.2.1; 001 §9.3.2.1)."""
    try:
        return table.suspension_cause(number)
    except ValueError:
        raise RuleViolation(
            gettext("Unknown suspension cause: %(cause)s") % {"cause": number},
            table.suspension_rule,
        ) from None


def withdrawal_cause(table: causes.SchemeCauses, number) -> causes.Cause:
    """The withdrawal cause ``number`` of the certificate's scheme (``table``); a number not in
    the table is refused with the scheme's clause (004 §7.3.1; 001 §9.3.3.1)."""
    try:
        return table.withdrawal_cause(number)
    except ValueError:
        raise RuleViolation(
            gettext("Unknown withdrawal cause: %(cause)s") % {"cause": number},
            table.withdrawal_rule,
        ) from None
