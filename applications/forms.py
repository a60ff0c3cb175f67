"""Staff forms for applications and contracts, shared by the workspace and the admin.

Each form's cleaned data are the keyword arguments of the service it confirms.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from applications import services
from applications.models import GRADE_CHOICES
from certbody.admin_actions import DateInput
from certbody.models import BusinessScope


class NewApplicationForm(forms.Form):
    scope_text = forms.CharField(
        label=_("requested scope"), widget=forms.Textarea(attrs={"rows": 2})
    )
    headcount = forms.IntegerField(label=_("effective headcount in scope"), min_value=1)
    business_scope_codes = forms.TypedMultipleChoiceField(
        label=_("business scope categories"), coerce=int, choices=()
    )
    requested_grade = forms.ChoiceField(label=_("requested star grade"), choices=GRADE_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_scope_codes"].choices = [
            (s.code, str(s)) for s in BusinessScope.objects.all()
        ]


class ReviewForm(forms.Form):
    information_sufficient = forms.BooleanField(label=_("information sufficient"), required=False)
    legal_status_verified = forms.BooleanField(label=_("legal status verified"), required=False)
    differences_resolved = forms.BooleanField(
        label=_("differences of understanding resolved"), required=False
    )
    scope_defined = forms.BooleanField(label=_("scope defined"), required=False)
    competence_available = forms.BooleanField(label=_("CB competent for the scope"), required=False)
    sites_considered = forms.BooleanField(
        label=_("sites, headcount and audit time considered"), required=False
    )
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("reasons for rejection"), widget=forms.Textarea(attrs={"rows": 3})
    )


class ContractForm(forms.Form):
    fee = forms.DecimalField(label=_("fee (CNY)"), min_value=0, decimal_places=2)
    terms = forms.CharField(
        label=_("terms"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("signed on"), widget=DateInput)
    signed_by_client = forms.CharField(label=_("signed for the client by"), max_length=50)


def review_record(*, application, actor, notes="", **checks):
    """``ReviewForm``'s flat check fields → ``services.application_review_record``."""
    return services.application_review_record(
        application=application, actor=actor, checks=checks, notes=notes
    )
