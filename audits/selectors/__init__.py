"""Read-only checks and queries of the audits app (HackSoft's selectors), below the services.

Nothing here writes: the services call these before a write, the desks show their answer next
to the record. ``planning`` (programmes, audit time, sampling, teams, the plan gate, ASRP
preconditions), ``nonconformities`` (deadlines, unsettled and overdue NCs), ``score_sheets``
(results and gaps of a sheet), ``auditors`` (registrations to complete, expiring, expired),
``calendar`` (the planning calendar and schedule conflicts; import it from its module).
"""

from audits.selectors.auditors import (
    registration_q,
    registrations_to_complete,
)
from audits.selectors.cas import (
    cas_previous_audit,
    cas_surveillance_earliest,
    require_cas_surveillance_window,
)
from audits.selectors.gates import (
    audit_completable,
    audit_startable,
    require_meetings,
)
from audits.selectors.nonconformities import (
    AUDITING_ROLES,
    RAISE_STATES,
    VERIFY_STATES,
    Review,
    Severity,
    State,
    cycle_unsettled_nonconformities,
    late_nonconformities,
    next_step,
    nonconformity_due,
    overdue_nonconformities,
    unsettled_nonconformities,
    unsettled_q,
    verified_late,
)
from audits.selectors.planning import (
    SamplingProposal,
    SiteProposal,
    TimeProposal,
    asrp_approval_failures,
    asrp_full_cycle_failures,
    asrp_unresolved_failures,
    audit_start_blocker,
    audit_team_check,
    audit_team_user_ids,
    audit_time_propose,
    decision_maker_check,
    sampling_plan_propose,
)
from audits.selectors.score_sheets import (
    EDITABLE_AUDIT_STATES,
    SCORED_KINDS,
    PartResult,
    can_edit,
    can_open,
    grade_label,
    is_team_leader,
    is_team_scorer,
    part_breakdown,
    part_total_problems,
    score_sheet_gaps,
    score_sheet_result,
)

__all__ = [
    "audit_completable",
    "audit_startable",
    "require_meetings",
    "cas_previous_audit",
    "cas_surveillance_earliest",
    "require_cas_surveillance_window",
    "AUDITING_ROLES",
    "EDITABLE_AUDIT_STATES",
    "PartResult",
    "RAISE_STATES",
    "Review",
    "SCORED_KINDS",
    "SamplingProposal",
    "Severity",
    "SiteProposal",
    "State",
    "TimeProposal",
    "VERIFY_STATES",
    "asrp_approval_failures",
    "asrp_full_cycle_failures",
    "asrp_unresolved_failures",
    "audit_start_blocker",
    "audit_team_check",
    "audit_team_user_ids",
    "audit_time_propose",
    "can_edit",
    "can_open",
    "cycle_unsettled_nonconformities",
    "decision_maker_check",
    "grade_label",
    "is_team_leader",
    "is_team_scorer",
    "late_nonconformities",
    "next_step",
    "nonconformity_due",
    "overdue_nonconformities",
    "part_breakdown",
    "part_total_problems",
    "sampling_plan_propose",
    "score_sheet_gaps",
    "score_sheet_result",
    "unsettled_nonconformities",
    "unsettled_q",
    "verified_late",
    "registration_q",
    "registrations_to_complete",
]
