"""Auditor forms: registration, competences, declarations of interest (004 §4)."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Organization
from audits.forms._common import _textarea
from audits.models import (
    Auditor,
)
from certbody.models import BusinessScope
from certbody.widgets import DateInput


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
