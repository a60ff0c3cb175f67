"""Workspace desks for an organisation's sites and contact persons (``applications.organizations``):
not in the navigation, reached from the organisation's page, each with its page, its history
and its actions (edit, close a site; edit, remove a contact). Registered on import, from
``ApplicationsConfig.ready``.
"""

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from applications import organization_forms, services
from applications.desks import MaskedPhoneColumn
from applications.models import ContactPerson, Site
from certbody import masking
from certbody.workspace import Action, Desk, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn

PERMISSION = "applications.manage_organization"


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _to_organization(result, obj) -> str:
    return reverse("workspace:object", args=["organizations", obj.organization_id])


# --- sites ------------------------------------------------------------------------------------


class SiteTable(BaseTable):
    name = ObjectLinkColumn("sites", verbose_name=_("name"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    address = tables.Column(verbose_name=_("address"))
    headcount = tables.Column(verbose_name=_("headcount"))
    is_head_office = tables.BooleanColumn(verbose_name=_("head office"))
    closed_on = tables.DateColumn(format="Y-m-d", verbose_name=_("closed on"))

    class Meta:
        model = Site
        fields = ("name", "organization", "address", "headcount", "is_head_office", "closed_on")
        attrs = BaseTable.Meta.attrs
        order_by = ("organization", "name")


class SiteFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    closed = django_filters.BooleanFilter(
        field_name="closed_on", lookup_expr="isnull", exclude=True, label=_("closed")
    )

    class Meta:
        model = Site
        fields = ["q", "closed"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(address__icontains=value)
            | Q(organization__name__icontains=value)
        )


def _site_summary(site: Site, user):
    return [
        (_("organisation"), site.organization.name),
        (_("address"), site.address),
        (_("administrative division code"), site.division_code),
        (_("headcount"), site.headcount),
        (_("head office"), _yes_no(site.is_head_office)),
        (_("temporary site"), _yes_no(site.is_temporary)),
        (_("scope at this site"), site.scope_text),
        (_("closed on"), site.closed_on),
    ]


register(
    Desk(
        key="sites",
        model=Site,
        title=_("Sites"),
        permission="applications.view_desk",
        queryset=lambda request: Site.objects.select_related("organization"),
        table_class=SiteTable,
        filterset_class=SiteFilter,
        summary=_site_summary,
        nav=False,
        order=6,
        actions=[
            Action(
                "edit-site",
                _("Edit the site"),
                services.site_update,
                PERMISSION,
                "site",
                form_class=organization_forms.SiteEditForm,
                available=lambda site: site.closed_on is None,
            ),
            Action(
                "close-site",
                _("Close the site"),
                services.site_close,
                PERMISSION,
                "site",
                form_class=organization_forms.SiteCloseForm,
                available=lambda site: site.closed_on is None and not site.is_head_office,
                confirm=_(
                    "A closed site stays on the audits and certificates that covered it; it is "
                    "never deleted."
                ),
                danger=True,
            ),
        ],
    )
)


# --- contact persons --------------------------------------------------------------------------


class ContactTable(BaseTable):
    name = ObjectLinkColumn("contacts", verbose_name=_("name"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    position = tables.Column(verbose_name=_("role or position"))
    phone = MaskedPhoneColumn(verbose_name=_("phone"))
    email = tables.Column(verbose_name=_("e-mail"))
    is_primary = tables.BooleanColumn(verbose_name=_("primary contact"))

    class Meta:
        model = ContactPerson
        fields = ("name", "organization", "position", "phone", "email", "is_primary")
        attrs = BaseTable.Meta.attrs
        order_by = ("organization", "name")


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = ContactPerson
        fields = ["q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(organization__name__icontains=value))


def _contact_summary(contact: ContactPerson, user):
    see = masking.can_see_personal_data(user)
    return [
        (_("organisation"), contact.organization.name),
        (_("role or position"), contact.position),
        (_("phone"), contact.phone if see else masking.mask_phone(contact.phone)),
        (_("e-mail"), contact.email),
        (_("primary contact"), _yes_no(contact.is_primary)),
    ]


register(
    Desk(
        key="contacts",
        model=ContactPerson,
        title=_("Contact persons"),
        permission="applications.view_desk",
        queryset=lambda request: ContactPerson.objects.select_related("organization"),
        table_class=ContactTable,
        filterset_class=ContactFilter,
        summary=_contact_summary,
        nav=False,
        order=7,
        actions=[
            Action(
                "edit-contact",
                _("Edit the contact person"),
                services.contact_update,
                PERMISSION,
                "contact",
                form_class=organization_forms.ContactEditForm,
            ),
            Action(
                "remove-contact",
                _("Remove the contact person"),
                services.contact_remove,
                PERMISSION,
                "contact",
                form_class=organization_forms.ContactRemoveForm,
                available=lambda contact: not contact.is_primary,
                next_url=_to_organization,
                danger=True,
            ),
        ],
    )
)
