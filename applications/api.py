"""Client organisations in the staff read API (issue #17; ``certbody.api``).

A token with the ``organizations`` scope (matrix row ``api.read_organizations``) reads names,
USCC, addresses and contact persons; their phone numbers only with the ``personal_data`` scope
(``certbody.view_personal_data``), otherwise ``null``: a token without it never receives one.
"""

from django.core.paginator import Paginator
from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema

from applications.models import ContactPerson, Organization
from certbody.api import ERRORS, TokenAuth, require_scope, staff_token_key
from certbody.masking import can_see_personal_data
from certbody.security import throttle

PAGE_SIZE = 100

staff = Router(tags=["staff"], auth=TokenAuth())


class ContactOut(Schema):
    name: str
    position: str
    email: str
    phone: str | None
    is_primary: bool


class OrganizationOut(Schema):
    id: int
    name: str
    name_en: str
    uscc: str
    registered_address: str
    postcode: str
    division_code: str
    industry: str
    headcount: int | None
    contacts: list[ContactOut]


class OrganizationPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[OrganizationOut]


class OrganizationSearchIn(Schema):
    uscc: str = Field("", max_length=100)
    page: int = Field(1, ge=1)


@staff.get(
    "/organizations",
    response={200: OrganizationPageOut, **ERRORS},
    summary="Client organisations (staff integrations)",
    operation_id="staff_organizations",
)
@throttle("api_staff", "RATELIMIT_API_STAFF", key=staff_token_key)
def staff_organizations(request, filters: Query[OrganizationSearchIn]):
    """Organisations with their contact persons, ``PAGE_SIZE`` per page, optionally the one
    with a USCC. Phones are ``null`` unless the token holds ``personal_data``."""
    principal = require_scope(request, "api.read_organizations")
    personal = can_see_personal_data(principal)
    qs = Organization.objects.order_by("pk").prefetch_related(
        Prefetch("contacts", queryset=ContactPerson.objects.order_by("-is_primary", "pk"))
    )
    if filters.uscc:
        qs = qs.filter(uscc=filters.uscc.strip().upper())
    paginator = Paginator(qs, PAGE_SIZE)
    page = paginator.page(min(filters.page, paginator.num_pages))
    return {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "results": [
            {
                "id": org.pk,
                "name": org.name,
                "name_en": org.name_en,
                "uscc": org.uscc,
                "registered_address": org.registered_address,
                "postcode": org.postcode,
                "division_code": org.division_code,
                "industry": org.industry,
                "headcount": org.headcount,
                "contacts": [
                    {
                        "name": c.name,
                        "position": c.position,
                        "email": c.email,
                        "phone": c.phone if personal else None,
                        "is_primary": c.is_primary,
                    }
                    for c in org.contacts.all()
                ],
            }
            for org in page.object_list
        ],
    }
