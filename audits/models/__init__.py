"""Models of the audits app, one module per aggregate (pretix ``base/models/``).

Auditors, audit programmes (one per 3-year cycle), audits, teams, time, sampling, plans, ASRP,
score sheets and the catalogue, nonconformities, reports. Every foreign key here is ``PROTECT``:
an audit, its plan, team, time, sampling, score sheet, nonconformities and an auditor's
competences are what a certification decision and the regulator reports rest on, so deleting a
parent with any of them is refused; services remove only a leaf row they replace (a team member,
a time adjustment, a sampling row). Import from here: ``from audits.models import Audit``.
"""

from audits.models.asrp import (
    AsrpAuditActivity,
    AsrpEligibilityCheck,
    AsrpIndicator,
    AsrpIndicatorResult,
    AsrpProgramme,
)
from audits.models.audit_time import (
    AuditTimeAdjustment,
    AuditTimeDetermination,
)
from audits.models.auditors import (
    Auditor,
    AuditorCompetence,
    AuditorTraining,
    AuditorWitnessedAudit,
    ConflictDeclaration,
)
from audits.models.calendar import (
    AuditorUnavailability,
)
from audits.models.nonconformities import (
    Nonconformity,
    NonconformityAttachment,
    NonconformityResponse,
    nc_attachment_path,
)
from audits.models.plans import (
    AuditPlan,
    AuditPlanAgendaRow,
)
from audits.models.programmes import (
    Audit,
    AuditMeeting,
    AuditProgramme,
    AuditTeamMember,
    meeting_sheet_path,
)
from audits.models.reports import (
    REPORT_DELIVERY_FIELDS,
    AuditReport,
    audit_report_path,
)
from audits.models.sampling import (
    SamplingPlan,
    SamplingPlanSite,
)
from audits.models.score_sheets import (
    Indicator,
    IndicatorCatalogue,
    ScoreItem,
    ScoreSheet,
    SpecialDeduction,
)

__all__ = [
    "AsrpAuditActivity",
    "AsrpEligibilityCheck",
    "AsrpIndicator",
    "AsrpIndicatorResult",
    "AsrpProgramme",
    "Audit",
    "AuditMeeting",
    "AuditPlan",
    "AuditPlanAgendaRow",
    "AuditProgramme",
    "AuditReport",
    "AuditTeamMember",
    "AuditTimeAdjustment",
    "AuditTimeDetermination",
    "Auditor",
    "AuditorCompetence",
    "AuditorTraining",
    "AuditorUnavailability",
    "AuditorWitnessedAudit",
    "ConflictDeclaration",
    "Indicator",
    "IndicatorCatalogue",
    "Nonconformity",
    "NonconformityAttachment",
    "NonconformityResponse",
    "REPORT_DELIVERY_FIELDS",
    "SamplingPlan",
    "SamplingPlanSite",
    "ScoreItem",
    "ScoreSheet",
    "SpecialDeduction",
    "audit_report_path",
    "meeting_sheet_path",
    "nc_attachment_path",
]
