"""Auditor forms: registration, competences, training, witnessed audits, declarations of interest
(004 §3.5, §4)."""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Organization
from audits.forms._common import _textarea
from audits.models import (
    Audit,
    Auditor,
    AuditorWitnessedAudit,
)
from certbody.models import BusinessScope
from certbody.widgets import DateInput
from certbody.workspace import ActionForm


def _scope_choices():
    return [(s.code, str(s)) for s in BusinessScope.objects.order_by("code")]


class AuditorRegisterForm(forms.Form):
    """Register a staff member as an auditor or technical expert (004 §4.2)."""

    user = forms.ModelChoiceField(label=_("user"), queryset=None)
    qualification = forms.ChoiceField(
        label=_("qualification"), choices=Auditor.Qualification.choices
    )
    registration_number = forms.CharField(
        label=_("registration number"), required=False, max_length=40
    )
    registration_type = forms.ChoiceField(
        label=_("registration type"),
        choices=[("", "—"), *Auditor.RegistrationType.choices],
        required=False,
        help_text=_("Left empty: the kind named like the qualification."),
    )
    registration_issued_on = forms.DateField(
        label=_("registration issued on"), required=False, widget=DateInput
    )
    registration_valid_until = forms.DateField(
        label=_("registration valid until"), required=False, widget=DateInput
    )
    is_full_time = forms.BooleanField(label=_("full-time"), required=False)
    notes = forms.CharField(label=_("notes"), required=False, widget=_textarea(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(
                is_staff=True,
                is_active=True,
                organization__isnull=True,
                auditor_profile__isnull=True,
            )
            .order_by("username")
        )

    def clean_registration_type(self):
        return self.cleaned_data["registration_type"] or None


class RegistrationUpdateForm(ActionForm):
    """The auditor's current registration: type, number, issue and expiry dates (004 §4.2)."""

    registration_type = forms.ChoiceField(
        label=_("registration type"),
        choices=[("", "—"), *Auditor.RegistrationType.choices],
        required=False,
    )
    registration_number = forms.CharField(
        label=_("registration number"), required=False, max_length=40
    )
    registration_issued_on = forms.DateField(
        label=_("registration issued on"), required=False, widget=DateInput
    )
    registration_valid_until = forms.DateField(
        label=_("registration valid until"), required=False, widget=DateInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.fields:
            self.fields[name].initial = getattr(self.obj, name, None)


class TrainingRecordForm(forms.Form):
    """Training or continuing professional development attended (004 §4.4)."""

    attended_on = forms.DateField(label=_("date"), widget=DateInput, initial=timezone.localdate)
    title = forms.CharField(label=_("title"), max_length=200)
    hours = forms.DecimalField(
        label=_("hours"), max_digits=5, decimal_places=1, min_value=Decimal("0.5")
    )
    provider = forms.CharField(label=_("provider"), max_length=200)
    evidence = forms.CharField(label=_("evidence"), widget=_textarea(2))


class WitnessedAuditForm(ActionForm):
    """An audit at which the auditor was witnessed and assessed (004 §3.5)."""

    witnessed_on = forms.DateField(label=_("date"), widget=DateInput, initial=timezone.localdate)
    audit = forms.ModelChoiceField(label=_("audit"), queryset=None, required=False)
    witness = forms.CharField(
        label=_("witness"),
        max_length=100,
        help_text=_("Who witnessed and assessed the auditor."),
    )
    outcome = forms.ChoiceField(label=_("outcome"), choices=AuditorWitnessedAudit.Outcome.choices)
    notes = forms.CharField(label=_("notes"), required=False, widget=_textarea(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        audits = Audit.objects.select_related("programme__organization").order_by(
            "-planned_start", "-pk"
        )
        if self.obj is not None:
            audits = audits.filter(team__user_id=self.obj.user_id).distinct()
        self.fields["audit"].queryset = audits


class CompetenceGrantForm(forms.Form):
    """Competence for one business scope category with its evidence (004 §3.5, §3.6)."""

    scope_code = forms.TypedChoiceField(
        label=_("business scope category"), choices=_scope_choices, coerce=int
    )
    evidence = forms.CharField(label=_("evidence"), widget=_textarea(3))
    granted_on = forms.DateField(
        label=_("granted on"), widget=DateInput, initial=timezone.localdate
    )
    valid_until = forms.DateField(label=_("valid until"), required=False, widget=DateInput)


class ConflictDeclareForm(forms.Form):
    """A declaration of interest (or of none) in one client (004 §4.3)."""

    organization = forms.ModelChoiceField(
        label=_("organisation"), queryset=Organization.objects.order_by("name")
    )
    has_interest = forms.BooleanField(
        label=_("has an interest in the client"),
        required=False,
        help_text=_("Checked: a conflict of interest; the auditor may not audit this client."),
    )
    description = forms.CharField(label=_("description"), required=False, widget=_textarea(3))
    declared_on = forms.DateField(
        label=_("declared on"), widget=DateInput, initial=timezone.localdate
    )
