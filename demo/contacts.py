"""Demo contact persons: each demo organisation's contact (``Organization.contact_*``) as its
primary ``ContactPerson``, so the organisation pages list their contacts with links, as an
organisation recorded through the workspace has (``applications.organizations``)."""

from applications.models import ContactPerson, Organization


def create_primary_contacts() -> int:
    """Give every organisation without contact persons its primary contact; returns how many
    were created (none on a second run)."""
    bare = Organization.objects.filter(contacts__isnull=True).exclude(contact_name="")
    rows = ContactPerson.objects.bulk_create(
        ContactPerson(
            organization=organization,
            name=organization.contact_name,
            position="认证联络人",
            phone=organization.contact_phone,
            email=organization.contact_email,
            is_primary=True,
        )
        for organization in bare
    )
    return len(rows)
