"""Forms of the audits app, shared by the staff workspace (``audits.desks``) and the client
portal (``audits.portal``), one module per sub-domain.

They bind and validate input and propose values for the object (``ActionForm`` receives it
as ``obj``); the services decide whether the change is allowed. Nonconformity uploads go
through ``audits.services.attachments_check``, so a bad file is a form error.
"""

from audits.forms.asrp import (
    AsrpActivityChoiceForm,
    AsrpActivityForm,
    AsrpApproveForm,
    AsrpCreateForm,
    AsrpEligibilityForm,
    AsrpEndForm,
    AsrpForm,
    AsrpIndicatorForm,
    AsrpIndicatorResultForm,
    AsrpNotifyForm,
)
from audits.forms.auditors import (
    AuditorRegisterForm,
    CompetenceGrantForm,
    ConflictDeclareForm,
)
from audits.forms.catalogue import (
    CatalogueIndicatorsForm,
    CatalogueNewVersionForm,
)
from audits.forms.nonconformities import (
    NonconformityAnswerForm,
    NonconformityRaiseForm,
    NonconformityRaiseOnAuditForm,
    NonconformityRejectForm,
    NonconformityReviewForm,
    NonconformityVerifyPlanForm,
)
from audits.forms.planning import (
    CompleteForm,
    DetermineTimeForm,
    HeadcountForm,
    MeetingForm,
    PlanConfirmForm,
    PlanCycleForm,
    PlanForm,
    PlanReportForm,
    PlanSendForm,
    ProgrammeCreateForm,
    ReplanForm,
    ReportDeliverForm,
    ReportSignForm,
    SamplingForm,
    ScheduleForm,
    SpecialAuditForm,
    StartForm,
    TeamMemberForm,
    TeamRemoveForm,
    TerminateForm,
    parse_adjustments,
)

__all__ = [
    "AsrpActivityChoiceForm",
    "AsrpActivityForm",
    "AsrpApproveForm",
    "AsrpCreateForm",
    "AsrpEligibilityForm",
    "AsrpEndForm",
    "AsrpForm",
    "AsrpIndicatorForm",
    "AsrpIndicatorResultForm",
    "AsrpNotifyForm",
    "AuditorRegisterForm",
    "CatalogueIndicatorsForm",
    "CatalogueNewVersionForm",
    "CompetenceGrantForm",
    "CompleteForm",
    "ConflictDeclareForm",
    "DetermineTimeForm",
    "HeadcountForm",
    "MeetingForm",
    "NonconformityAnswerForm",
    "NonconformityRaiseForm",
    "NonconformityRaiseOnAuditForm",
    "NonconformityRejectForm",
    "NonconformityReviewForm",
    "NonconformityVerifyPlanForm",
    "PlanConfirmForm",
    "PlanCycleForm",
    "PlanForm",
    "PlanReportForm",
    "PlanSendForm",
    "ProgrammeCreateForm",
    "ReplanForm",
    "ReportDeliverForm",
    "ReportSignForm",
    "SamplingForm",
    "ScheduleForm",
    "SpecialAuditForm",
    "StartForm",
    "TeamMemberForm",
    "TeamRemoveForm",
    "TerminateForm",
    "parse_adjustments",
]
