"""Staff forms for reports, shared by the workspace and the admin. Each form's cleaned data
are the keyword arguments of the service it confirms (``GenerateForm``: see
``reporting.desks.generate``)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody.admin_actions import DateInput
from reporting import services
from reporting.models import ReportRun


class SubmitForm(forms.Form):
    receipt_number = forms.CharField(label=_("platform receipt number"), max_length=60)
    submitted_on = forms.DateField(
        label=_("submitted on"), widget=DateInput, initial=timezone.localdate
    )


class GenerateForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("report"),
        choices=[(k, ReportRun.Kind(k).label) for k in services.PERIODIC_KINDS],
    )
    period = forms.DateField(
        label=_("any day of the period"),
        widget=DateInput,
        help_text=_("A day of the month (monthly reports) or of the year (annual reports)."),
    )
