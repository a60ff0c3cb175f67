"""Write path of the certificates app, one module per sub-domain (004 §5.9.2, §5.12, §6, §7, §8,
§9.5; 001 §9, §10; 003 §4.6):

- ``decisions``: certification decisions and the team leader's surveillance conclusion;
- ``issue``: issuing the certificate and its number;
- ``status``: suspend, restore, withdraw, cancel, expire (and the shared event writers);
- ``reissue``: reissue within validity, scope reduction;
- ``regulatory``: regulators' findings, spot checks, accidents and the reports owed;
- ``proposals``: proposals to suspend, withdraw or reissue, and the suspension-ended rule;
- ``appeals``: appeals and complaints;
- ``notices``: the written notices the transitions produce;
- ``client_requests``: clients' requests from the portal.

Keyword-only functions taking the acting user; each runs atomically, writes a
``CertificateEvent`` with the CNCA codes for every status change, renders and stores the notice
the client receives in the same transaction, and raises ``RuleViolation`` with the rule named
when the change is not allowed (``policy.NotPermitted`` when the actor's role does not allow
it). Dates are local ``date`` values; none may lie in the future. Read-only checks and queries
live below in ``certificates.selectors``, shared guards in ``certificates.guards``; both are
re-exported here where they were public before, so callers keep
``from certificates.services import <name>``.
"""

from certificates.selectors import (
    appeal_involved_user_ids,
    evaluation_failure,
    nonconformities_blocking_decision,
    surveillance_conclusion_failures,
    suspension_ended_due,
    working_day_deadline,
)
from certificates.services.appeals import (
    appeal_acknowledge,
    appeal_assign,
    appeal_decide,
    appeal_receive,
)
from certificates.services.client_requests import client_request_handle, client_request_submit
from certificates.services.decisions import decision_make, surveillance_conclude
from certificates.services.issue import allocate_sequence, certificate_issue
from certificates.services.notices import notice_issue
from certificates.services.proposals import (
    proposal_accept,
    proposal_dismiss,
    proposal_open,
    suspension_ended_propose,
    suspension_ended_step,
)
from certificates.services.regulatory import regulatory_event_record, reporting_obligation_done
from certificates.services.reissue import certificate_reduce_scope, certificate_reissue
from certificates.services.status import (
    certificate_cancel,
    certificate_expire,
    certificate_restore,
    certificate_suspend,
    certificate_withdraw,
)

__all__ = [
    "allocate_sequence",
    "appeal_acknowledge",
    "appeal_assign",
    "appeal_decide",
    "appeal_involved_user_ids",
    "appeal_receive",
    "certificate_cancel",
    "certificate_expire",
    "certificate_issue",
    "certificate_reduce_scope",
    "certificate_reissue",
    "certificate_restore",
    "certificate_suspend",
    "certificate_withdraw",
    "client_request_handle",
    "client_request_submit",
    "decision_make",
    "evaluation_failure",
    "notice_issue",
    "proposal_accept",
    "proposal_dismiss",
    "proposal_open",
    "regulatory_event_record",
    "reporting_obligation_done",
    "surveillance_conclude",
    "surveillance_conclusion_failures",
    "suspension_ended_due",
    "suspension_ended_propose",
    "suspension_ended_step",
    "nonconformities_blocking_decision",
    "working_day_deadline",
]
