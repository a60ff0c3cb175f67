"""ASRP forms (seed 000)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application
from audits.forms._common import _textarea
from audits.models import (
    AsrpAuditActivity,
    AsrpEligibilityCheck,
    AsrpIndicator,
    Audit,
    AuditProgramme,
)
from certbody.widgets import DateInput
from certbody.workspace import ActionForm


class AsrpForm(forms.Form):
    reliance = forms.CharField(
        label=_("reliance on internal audit and management review"), widget=forms.Textarea
    )
    witnessing_criteria = forms.CharField(
        label=_("internal audit witnessing criteria"), widget=forms.Textarea
    )
    internal_auditor_criteria = forms.CharField(
        label=_("acceptance of internal auditors and their reports"), widget=forms.Textarea
    )
    adjustment_criteria = forms.CharField(
        label=_("criteria for adjusting the programme"), widget=forms.Textarea
    )
    audit_components = forms.CharField(
        label=_("components each audit must cover"), widget=forms.Textarea
    )
    special_competences = forms.CharField(
        label=_("special auditor competences"), widget=forms.Textarea
    )


class AsrpActivityForm(ActionForm):
    activity = forms.ChoiceField(label=_("activity"), choices=())
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.obj
        self.fields["activity"].choices = [
            (a.activity, a.get_activity_display()) for a in obj.asrp_activities.all()
        ]


class AsrpCreateForm(AsrpForm):
    """Design an ASRP for a programme of a recertification cycle (000 §4.1.1) with the six
    contents of 000 §4.3.1–4.3.6; the service checks the full normal cycle."""

    programme = forms.ModelChoiceField(label=_("programme"), queryset=AuditProgramme.objects.none())

    field_order = ["programme"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = (
            AuditProgramme.objects.filter(
                state=AuditProgramme.State.ACTIVE,
                cycle__gte=1,
                application__kind=Application.Kind.RECERTIFICATION,
                asrp__isnull=True,
            )
            .select_related("organization")
            .order_by("organization__name", "cycle")
        )


class AsrpEligibilityForm(forms.Form):
    """One precondition of 000 §4.1.2–4.1.6 / §4.4.1 with its evidence; the full cycle
    (000 §4.1.1) is checked by the system, so it is not offered."""

    criterion = forms.ChoiceField(
        label=_("criterion"),
        choices=[
            c
            for c in AsrpEligibilityCheck.Criterion.choices
            if c[0] != AsrpEligibilityCheck.Criterion.FULL_CYCLE
        ],
    )
    met = forms.BooleanField(label=_("met"), required=False)
    evidence = forms.CharField(label=_("evidence"), widget=_textarea(2))
    checked_on = forms.DateField(
        label=_("checked on"), widget=DateInput, initial=timezone.localdate
    )


class AsrpIndicatorForm(forms.Form):
    name = forms.CharField(label=_("indicator"), max_length=200)
    target = forms.CharField(label=_("target"), max_length=200)
    method = forms.CharField(label=_("how and how often it is measured"), required=False)
    agreed_on = forms.DateField(label=_("agreed on"), widget=DateInput)


class AsrpIndicatorResultForm(ActionForm):
    """A result of one of the ASRP's (``obj``) indicators for a period (000 §4.1.3)."""

    indicator = forms.ModelChoiceField(label=_("indicator"), queryset=AsrpIndicator.objects.none())
    period = forms.CharField(label=_("period"), max_length=40)
    period_end = forms.DateField(label=_("period ends on"), widget=DateInput)
    value = forms.CharField(label=_("result"), max_length=200)
    met = forms.BooleanField(label=_("target met"), required=False)
    evidence = forms.CharField(label=_("evidence"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = self.obj.indicators.all()


class AsrpApproveForm(forms.Form):
    approved_on = forms.DateField(
        label=_("approved on"), widget=DateInput, initial=timezone.localdate
    )


class AsrpNotifyForm(forms.Form):
    notified_on = forms.DateField(
        label=_("accreditation body notified on"), widget=DateInput, initial=timezone.localdate
    )


class AsrpEndForm(forms.Form):
    ended_on = forms.DateField(label=_("ended on"), widget=DateInput, initial=timezone.localdate)
    reason = forms.CharField(label=_("why ended"), widget=_textarea(2))


class AsrpActivityChoiceForm(ActionForm):
    """A mandatory activity (000 §4.2.2 b) still open on one of the ASRP's (``obj``) audits."""

    activity = forms.ModelChoiceField(
        label=_("activity"), queryset=AsrpAuditActivity.objects.none()
    )
    notes = forms.CharField(label=_("notes"), required=False, widget=_textarea(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["activity"]
        field.queryset = AsrpAuditActivity.objects.filter(
            audit__programme_id=self.obj.programme_id,
            audit__state__in=[Audit.State.PLANNED, Audit.State.IN_PROGRESS],
            covered=False,
        ).select_related("audit")
        field.label_from_instance = lambda row: f"{row.audit} · {row.get_activity_display()}"
