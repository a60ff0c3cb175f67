"""The audit time proposed for an application, for its quotation (``applications.quotations``;
004 §5.4.2, Appendix A; 001 §6.2.3, Appendix A): registered from ``AuditsConfig.ready`` because
applications cannot import this app.

The application's effective headcount gives the Appendix A time of the audit applied for
(``rules.table_days``: initial for an initial, change or transfer application, 004 §5.2.3 —
a client new to the CB is audited as initial; recertification for a recertification); each
surveillance audit is proposed at its floor of the initial time (``rules.floor_days``: 1/3 for
ZXRZ, 004 §5.7.5; 30 % for CAS, 001 §7.4). The determination recorded for each audit later
(``audit_time_determine``) may differ, with its reasons (004 §5.4.2.3).
"""

from django.utils.translation import gettext

from applications.quotations import ProposedTime
from audits import rules


def proposed_time(application) -> ProposedTime | None:
    """``ProposedTime`` for ``application`` (its ``headcount``, ``kind`` and ``scheme``); None
    when the scheme or headcount is not one the rules know."""
    audit_type = rules.RECERTIFICATION if application.kind == "recertification" else rules.INITIAL
    try:
        initial = rules.table_days(application.headcount, rules.INITIAL, application.scheme)
        days = rules.table_days(application.headcount, audit_type, application.scheme)
        surveillance = rules.floor_days(initial, rules.SURVEILLANCE, application.scheme)
    except (ValueError, TypeError):
        return None
    basis = gettext(
        "Appendix A of %(scheme)s for an effective headcount of %(headcount)s; each "
        "surveillance audit at least its share of the initial audit time (%(initial)s days)."
    ) % {
        "scheme": application.get_scheme_display(),
        "headcount": application.headcount,
        "initial": initial,
    }
    return ProposedTime(audit_days=days, surveillance_days=surveillance, basis=basis)
