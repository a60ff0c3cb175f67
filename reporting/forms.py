"""Staff forms for reports, the CB's own changes and auditors' personnel records, used by the
workspace. Each form's cleaned data are the keyword arguments of the service it
confirms (``GenerateForm``: see ``reporting.desks.generate``; the personnel record forms:
``reporting.desks.personnel_record_edit``)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.models import Auditor
from certbody.masking import can_see_personal_data
from certbody.widgets import DateInput
from certbody.workspace import ActionForm
from reporting import services
from reporting.models import AccreditationObligation, CbChange, PersonnelRecord, ReportRun


class SubmitForm(forms.Form):
    receipt_number = forms.CharField(label=_("platform receipt number"), max_length=60)
    submitted_on = forms.DateField(
        label=_("submitted on"), widget=DateInput, initial=timezone.localdate
    )


class GenerateForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("report"),
        choices=[(k, ReportRun.Kind(k).label) for k in services.GENERATE_KINDS],
    )
    period = forms.DateField(
        label=_("any day of the period"),
        widget=DateInput,
        help_text=_("A day of the month (monthly reports) or of the year (annual reports)."),
    )


class CbChangeForm(ActionForm):
    """A change of the CB (002 §4.3.2.1); with an object, its correction (``reason`` required)."""

    category = forms.TypedChoiceField(
        label=_("category"), choices=CbChange.Category.choices, coerce=int
    )
    occurred_on = forms.DateField(label=_("date of the change"), widget=DateInput)
    description = forms.CharField(label=_("description"), widget=forms.Textarea)
    evidence = forms.CharField(
        label=_("supporting material"),
        widget=forms.Textarea,
        required=False,
        help_text=CbChange._meta.get_field("evidence").help_text,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.obj is not None:
            for name in ("category", "occurred_on", "description", "evidence"):
                self.fields[name].initial = getattr(self.obj, name)
            self.fields["reason"] = forms.CharField(label=_("reason for the correction"))


DATE_FIELDS = ("birth_date", "employed_on", "left_on")


class PersonnelRecordForm(ActionForm):
    """The fields of an auditor's personnel record (002 §4.3.6.1), as the model defines them;
    with an object, filled with its values. The ID number is left out for a user who may not
    see it (``certbody.view_personal_data``): they can neither read nor overwrite it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(
            forms.fields_for_model(
                PersonnelRecord,
                fields=services.PERSONNEL_FIELDS,
                widgets=dict.fromkeys(DATE_FIELDS, DateInput),
            )
        )
        if not can_see_personal_data(self.user):
            del self.fields["id_number"]
        if self.obj is not None:
            for name in self.fields:
                self.fields[name].initial = getattr(self.obj, name)


class PersonnelRecordCreateForm(PersonnelRecordForm):
    """A new record: first the auditor or expert, among those without one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {
            "auditor": forms.ModelChoiceField(
                label=_("auditor"),
                queryset=Auditor.objects.filter(personnel_record__isnull=True)
                .select_related("user")
                .order_by("user__display_name", "user__username"),
            ),
            **self.fields,
        }


class AccreditationObligationForm(forms.Form):
    """A report owed to CNAS (``reporting.obligation_desks.accreditation_obligation_create``):
    a major change of the CB with its subject and decision date (002 §4.3.8.1), or the annual
    accreditation plan of a year (002 §4.3.7.2)."""

    kind = forms.ChoiceField(label=_("kind"), choices=AccreditationObligation.Kind.choices)
    subject = forms.CharField(
        label=_("subject"),
        max_length=300,
        required=False,
        help_text=_("What changed: committee, address, head of the CB, ownership …"),
    )
    occurred_on = forms.DateField(
        label=_("decided on"),
        widget=DateInput,
        required=False,
        help_text=_("Reported to CNAS within 10 days of the decision (002 §4.3.8.1)."),
    )
    year = forms.IntegerField(
        label=_("plan year"),
        required=False,
        min_value=2000,
        max_value=2999,
        help_text=_("Default: next year. Due before August of the year before (002 §4.3.7.2)."),
    )
    note = forms.CharField(label=_("note"), widget=forms.Textarea, required=False)

    def clean(self):
        data = super().clean()
        if data.get("kind") == AccreditationObligation.Kind.CB_CHANGE:
            if not (data.get("subject") or "").strip():
                self.add_error("subject", _("Describe the change of the CB."))
            if not data.get("occurred_on"):
                self.add_error("occurred_on", _("Enter the date the change was decided."))
        return data


class AccreditationSubmitForm(forms.Form):
    submitted_on = forms.DateField(
        label=_("submitted on"), widget=DateInput, initial=timezone.localdate
    )
    reference = forms.CharField(
        label=_("reference"),
        max_length=60,
        help_text=_("The letter's document number or the CNAS system's receipt."),
    )
    note = forms.CharField(label=_("note"), widget=forms.Textarea, required=False)
