"""Workspace forms for organisations, their sites and contact persons
(``applications.organizations``): each form's cleaned data are the keyword arguments of the
service it confirms (the object and the actor added by the workspace).

The USCC is normalised and checked in the form already; a code already recorded is a field
error linking the organisation that holds it.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications import organizations
from applications.models import Organization
from applications.validators import normalize_uscc, validate_uscc
from certbody.models import BusinessScope
from certbody.widgets import DateInput
from certbody.workspace import ActionForm

_REASON_HELP = _("Recorded in the history with the change.")


def _scope_choices():
    return [(s.code, str(s)) for s in BusinessScope.objects.all()]


def duplicate_error(existing: Organization) -> ValidationError:
    """The field error for a USCC already recorded: names and links the organisation."""
    return ValidationError(
        format_html(
            '{} <a href="{}" data-testid="existing-organization">{}</a>',
            gettext("This unified social credit code is already recorded:"),
            reverse("workspace:object", args=["organizations", existing.pk]),
            existing.name,
        ),
        code="duplicate_uscc",
    )


class UsccField(forms.CharField):
    """A USCC as typed (spaces, hyphens, lower case): compacted before the length and code
    checks, so the column's 18 characters bound the code, not the typing."""

    def to_python(self, value):
        return normalize_uscc(super().to_python(value))


class _OrganizationFields(ActionForm):
    bounds_model = "applications.Organization"

    name = forms.CharField(label=_("name"))
    uscc = UsccField(
        label=_("unified social credit code"),
        help_text=_("18 characters; spaces and hyphens are removed."),
    )
    registered_address = forms.CharField(label=_("registered address"))
    postcode = forms.CharField(label=_("postcode"), required=False)
    division_code = forms.CharField(label=_("administrative division code"))
    industry = forms.CharField(label=_("industry"), required=False)
    legal_representative = forms.CharField(label=_("legal representative"))
    headcount = forms.IntegerField(label=_("effective headcount"), min_value=1)
    name_en = forms.CharField(label=_("English name"), required=False)
    former_name = forms.CharField(label=_("former name"), required=False)
    business_scope_codes = forms.TypedMultipleChoiceField(
        label=_("business scope categories"), coerce=int, choices=(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_scope_codes"].choices = _scope_choices()
        self.fields["uscc"].widget.attrs.pop("maxlength", None)  # typed with spaces: longer

    def clean_uscc(self):
        code = self.cleaned_data["uscc"]
        validate_uscc(code)
        existing = organizations.organization_with_uscc(
            code, exclude_pk=self.obj.pk if self.obj is not None else None
        )
        if existing is not None:
            raise duplicate_error(existing)
        return code


class OrganizationCreateForm(_OrganizationFields):
    """A new organisation with its primary contact (``organizations.organization_create``)."""

    bounds_fields = {"contact_position": "applications.ContactPerson.position"}

    contact_name = forms.CharField(label=_("contact person"), max_length=50)
    contact_position = forms.CharField(label=_("role or position"), required=False)
    contact_phone = forms.CharField(label=_("contact phone"), max_length=30)
    contact_email = forms.EmailField(label=_("contact e-mail"), required=False)

    field_order = [
        "name",
        "uscc",
        "registered_address",
        "postcode",
        "division_code",
        "legal_representative",
        "headcount",
        "industry",
        "business_scope_codes",
        "contact_name",
        "contact_position",
        "contact_phone",
        "contact_email",
        "name_en",
        "former_name",
    ]


class OrganizationEditForm(_OrganizationFields):
    """The organisation's own fields with the reason (``organizations.organization_update``)."""

    reason = forms.CharField(
        label=_("reason for the change"),
        help_text=_REASON_HELP,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.obj is not None and not self.is_bound:
            for name in organizations.ORGANIZATION_FIELDS:
                self.fields[name].initial = getattr(self.obj, name)
            self.fields["business_scope_codes"].initial = [
                s.code for s in self.obj.business_scopes.all()
            ]


class SiteForm(ActionForm):
    """A site's fields (``organizations.site_add``); prefilled from the site when editing."""

    bounds_model = "applications.Site"
    editing = False

    name = forms.CharField(label=_("name"))
    address = forms.CharField(label=_("address"))
    division_code = forms.CharField(label=_("administrative division code"), required=False)
    headcount = forms.IntegerField(label=_("headcount"), min_value=1, initial=1)
    is_head_office = forms.BooleanField(label=_("head office"), required=False)
    is_temporary = forms.BooleanField(label=_("temporary site"), required=False)
    scope_text = forms.CharField(label=_("scope at this site"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.editing and self.obj is not None and not self.is_bound:
            for name in organizations.SITE_FIELDS:
                self.fields[name].initial = getattr(self.obj, name)


class SiteEditForm(SiteForm):
    """``organizations.site_update``: the site's fields and the reason."""

    editing = True
    reason = forms.CharField(label=_("reason for the change"), help_text=_REASON_HELP)


class SiteCloseForm(ActionForm):
    """``organizations.site_close``."""

    closed_on = forms.DateField(label=_("closed on"), widget=DateInput)
    reason = forms.CharField(label=_("reason for closing"), help_text=_REASON_HELP)


class ContactForm(ActionForm):
    """A contact person (``organizations.contact_add``); prefilled when editing."""

    bounds_model = "applications.ContactPerson"
    editing = False

    name = forms.CharField(label=_("name"))
    position = forms.CharField(label=_("role or position"), required=False)
    phone = forms.CharField(label=_("phone"))
    email = forms.EmailField(label=_("e-mail"), required=False)
    is_primary = forms.BooleanField(
        label=_("primary contact"),
        required=False,
        help_text=_("The primary contact is the organisation's contact on its record."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.editing and self.obj is not None and not self.is_bound:
            for name in organizations.CONTACT_FIELDS:
                self.fields[name].initial = getattr(self.obj, name)


class ContactEditForm(ContactForm):
    """``organizations.contact_update``."""

    editing = True
    reason = forms.CharField(label=_("reason for the change"), required=False)


class ContactRemoveForm(ActionForm):
    """``organizations.contact_remove``."""

    reason = forms.CharField(label=_("reason for removing"), required=False)
