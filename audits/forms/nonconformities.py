"""Nonconformity forms: raise, answer (client portal and staff), review, verify a plan
(004 §5.10)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits import selectors, services
from audits.forms._common import _textarea
from audits.models import (
    Audit,
    Nonconformity,
)
from certbody import uploads
from certbody.bounds import BoundedForm
from certbody.lifecycle import RuleViolation
from certbody.widgets import DateInput
from certbody.workspace import ActionForm


class NonconformityAnswerForm(BoundedForm):
    """The client's answer: cause analysis, correction, corrective action, evidence files
    (004 §5.10.1); for a minor NC, optionally a plan verified at the next audit (§5.10.2)."""

    bounds_model = "audits.NonconformityResponse"

    cause_analysis = forms.CharField(label=_("Cause analysis"), widget=_textarea())
    correction = forms.CharField(label=_("Correction"), widget=_textarea())
    corrective_action = forms.CharField(label=_("Corrective action"), widget=_textarea())
    is_plan = forms.BooleanField(
        label=_("This is a corrective action plan, to be verified at the next audit"),
        required=False,
    )
    attachments = uploads.MultipleFileField(
        label=_("Evidence files"),
        required=False,
        help_text=_("PDF, JPEG, PNG, DOCX or XLSX; at most 10 files of 10 MB each."),
    )

    def __init__(self, *args, nonconformity: Nonconformity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if nonconformity is not None and nonconformity.severity != Nonconformity.Severity.MINOR:
            del self.fields["is_plan"]  # 004 §5.10.2: plans for minor NCs only

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        try:
            services.attachments_check(files)
        except RuleViolation as exc:
            raise forms.ValidationError(str(exc)) from None
        return files


class NonconformityRaiseForm(forms.Form):
    """Staff raise an NC on an audit in progress or completed (004 §5.10.1)."""

    audit = forms.ModelChoiceField(
        label=_("audit"),
        queryset=Audit.objects.filter(
            state__in=[Audit.State.IN_PROGRESS, Audit.State.COMPLETED]
        ).select_related("programme__organization"),
    )
    severity = forms.ChoiceField(label=_("severity"), choices=Nonconformity.Severity.choices)
    clause = forms.CharField(label=_("clause of the criteria"), max_length=60)
    description = forms.CharField(label=_("nonconformity"), widget=_textarea(4))
    evidence = forms.CharField(label=_("objective evidence"), widget=_textarea(4))
    raised_on = forms.DateField(label=_("raised on"), widget=DateInput, initial=timezone.localdate)


class NonconformityReviewForm(forms.Form):
    """The team's verification record when accepting an answer."""

    note = forms.CharField(label=_("verification / reasons"), widget=_textarea(3), required=False)
    reviewed_on = forms.DateField(
        label=_("reviewed on"), widget=DateInput, initial=timezone.localdate
    )


class NonconformityRejectForm(NonconformityReviewForm):
    """Rejecting needs the reasons the client must address (004 §5.10.2)."""

    note = forms.CharField(label=_("reasons"), widget=_textarea(3))


class NonconformityVerifyPlanForm(ActionForm):
    """Verification of a minor NC's accepted plan at a later audit (004 §5.10.2).

    Given the NC (``obj``) and the user, the audits offered are the organisation's later audits
    in progress or completed on whose team the user audits (the service checks it again).
    """

    audit = forms.ModelChoiceField(
        label=_("verified at audit"),
        queryset=Audit.objects.filter(
            state__in=[Audit.State.IN_PROGRESS, Audit.State.COMPLETED]
        ).select_related("programme__organization"),
    )
    effective = forms.BooleanField(
        label=_("corrective action effective"),
        required=False,
        help_text=_("If not effective, raise a new nonconformity on that audit first."),
    )
    note = forms.CharField(label=_("what was verified"), widget=_textarea(3))
    verified_on = forms.DateField(
        label=_("verified on"), widget=DateInput, initial=timezone.localdate
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        nc = self.obj
        if nc is None:
            return
        audits = (
            self.fields["audit"]
            .queryset.filter(programme__organization_id=nc.audit.programme.organization_id)
            .exclude(pk=nc.audit_id)
        )
        if self.user is not None and not self.user.is_superuser:
            audits = audits.filter(
                team__user=self.user, team__role__in=selectors.AUDITING_ROLES
            ).distinct()
        self.fields["audit"].queryset = audits


class NonconformityRaiseOnAuditForm(NonconformityRaiseForm):
    """Raise an NC from the audit's page: the audit is the page's (no choice)."""

    def __init__(self, *args, obj=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["audit"]
