"""Write path for client organisations, their sites and their contact persons (the market
department's records of an applicant, 004 §5.1.3).

Every function is keyword-only, takes the acting user (``applications.manage_organization`` in
``certbody.policy.MATRIX``: the market department and the technical manager), runs atomically
and raises ``RuleViolation`` (a ValueError) when the change is not allowed. Every change is
recorded in the history with its reason (``certbody.lifecycle.record``).

- The unified social credit code (USCC) identifies the legal entity whose legal status the
  application proves (004 §5.1.3(2)) and is printed on the certificate (004 §6.2.5(1)): it is
  normalised (compact, upper case), checked with python-stdnum and unique; a duplicate names
  the organisation already recorded (``DuplicateOrganization.existing``).
- A site is added, edited and closed (``closed_on``), never deleted: audits and certificates
  that covered it keep pointing at it (``applications.models.site_delete_guard``).
- The primary contact is mirrored in ``Organization.contact_name/phone/email`` (read by the
  portal, the notices and the reports); exactly one contact is primary once there are any.
"""

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from applications.models import ContactPerson, Organization, Site
from applications.validators import normalize_uscc, validate_division_code, validate_uscc
from certbody import policy
from certbody.lifecycle import RuleViolation, lock, record

__all__ = [
    "DuplicateOrganization",
    "contact_add",
    "contact_remove",
    "contact_update",
    "organization_create",
    "organization_update",
    "organization_with_uscc",
    "site_add",
    "site_close",
    "site_update",
]

PERMISSION = "applications.manage_organization"

# The fields ``organization_update`` may change; the contact fields go through the contacts.
ORGANIZATION_FIELDS = (
    "name",
    "name_en",
    "former_name",
    "uscc",
    "registered_address",
    "postcode",
    "division_code",
    "industry",
    "legal_representative",
    "headcount",
)
SITE_FIELDS = (
    "name",
    "address",
    "division_code",
    "headcount",
    "is_head_office",
    "is_temporary",
    "scope_text",
)
CONTACT_FIELDS = ("name", "position", "phone", "email", "is_primary")


class DuplicateOrganization(RuleViolation):
    """The USCC belongs to an organisation already recorded: ``existing``."""

    def __init__(self, existing: Organization):
        super().__init__(
            gettext("The unified social credit code %(uscc)s is already recorded for “%(name)s”.")
            % {"uscc": existing.uscc, "name": existing.name},
            "004 §5.1.3(2)",
        )
        self.existing = existing


def organization_with_uscc(value: str, *, exclude_pk: int | None = None) -> Organization | None:
    """The organisation recorded with the USCC ``value`` (normalised first), or None; a read
    for forms and services. ``exclude_pk``: the organisation being edited."""
    rows = Organization.objects.filter(uscc=normalize_uscc(value))
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.first()


def _checked_uscc(value: str, *, exclude_pk: int | None = None) -> str:
    code = normalize_uscc(value)
    try:
        validate_uscc(code)
    except ValidationError as exc:
        raise RuleViolation("；".join(exc.messages), "004 §5.1.3(2)") from None
    existing = organization_with_uscc(code, exclude_pk=exclude_pk)
    if existing is not None:
        raise DuplicateOrganization(existing)
    return code


def _checked_division(value: str, *, required: bool) -> str:
    value = (value or "").strip()
    if not value and not required:
        return ""
    try:
        validate_division_code(value)
    except ValidationError as exc:
        raise RuleViolation("；".join(exc.messages)) from None
    return value


def _required(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolation(message)
    return value


def _headcount(value: int, message: str) -> int:
    if value is None or int(value) < 1:
        raise RuleViolation(message, "004 §5.1.3(1)")
    return int(value)


def _reason(reason: str) -> str:
    return _required(reason, gettext("Give the reason for the change."))


def _mirror_primary(organization: Organization, contact: ContactPerson, *, actor, reason: str):
    """Copy the primary contact into ``Organization.contact_*`` (history with the reason)."""
    organization.contact_name = contact.name
    organization.contact_phone = contact.phone
    organization.contact_email = contact.email
    record(organization, actor=actor, reason=reason)
    organization.save(update_fields=["contact_name", "contact_phone", "contact_email"])


def organization_create(
    *,
    actor,
    name: str,
    uscc: str,
    registered_address: str,
    division_code: str,
    legal_representative: str,
    headcount: int,
    contact_name: str,
    contact_phone: str,
    contact_email: str = "",
    contact_position: str = "",
    name_en: str = "",
    former_name: str = "",
    postcode: str = "",
    industry: str = "",
    business_scope_codes: Iterable[int] = (),
) -> Organization:
    """Record a client organisation with its primary contact person.

    ``uscc``: any spelling (spaces, hyphens, lower case) of a valid code; stored compact and
    upper case. ``division_code``: six digits (GB/T 2260). ``headcount``: effective headcount,
    at least 1. ``business_scope_codes``: codes of ``certbody.BusinessScope``.

    Raises ``DuplicateOrganization`` (a RuleViolation, ``existing`` set) when the USCC is
    already recorded, ``RuleViolation`` for an invalid code or a missing value, ``NotPermitted``
    without ``applications.manage_organization`` (004 §5.1.3).
    """
    from certbody.models import BusinessScope

    policy.require(actor, PERMISSION)
    code = _checked_uscc(uscc)
    organization = Organization(
        name=_required(name, gettext("Enter the organisation's name.")),
        uscc=code,
        registered_address=_required(registered_address, gettext("Enter the registered address.")),
        division_code=_checked_division(division_code, required=True),
        legal_representative=_required(
            legal_representative, gettext("Enter the legal representative.")
        ),
        headcount=_headcount(headcount, gettext("The effective headcount must be at least 1.")),
        contact_name=_required(contact_name, gettext("Enter the contact person's name.")),
        contact_phone=_required(contact_phone, gettext("Enter the contact person's phone.")),
        contact_email=(contact_email or "").strip(),
        name_en=(name_en or "").strip(),
        former_name=(former_name or "").strip(),
        postcode=(postcode or "").strip(),
        industry=(industry or "").strip(),
    )
    try:
        with transaction.atomic():
            record(organization, actor=actor, reason="登记组织")
            organization.save()
            codes = list(business_scope_codes)
            if codes:
                organization.business_scopes.set(BusinessScope.objects.filter(code__in=codes))
            contact = ContactPerson(
                organization=organization,
                name=organization.contact_name,
                position=(contact_position or "").strip(),
                phone=organization.contact_phone,
                email=organization.contact_email,
                is_primary=True,
            )
            record(contact, actor=actor, reason="登记组织")
            contact.save()
    except IntegrityError:  # another person recorded the same code meanwhile
        existing = organization_with_uscc(code)
        if existing is None:
            raise
        raise DuplicateOrganization(existing) from None
    return organization


def organization_update(
    *,
    organization: Organization,
    actor,
    reason: str,
    business_scope_codes: Iterable[int] | None = None,
    **changes,
) -> Organization:
    """Change the organisation's own fields (``ORGANIZATION_FIELDS``), recorded in the history
    with ``reason`` (required). ``business_scope_codes``: the new categories, or None to keep
    them. Contacts change through ``contact_*``, sites through ``site_*``.

    Raises ``RuleViolation`` for an unknown field, a blank reason, an invalid or duplicate USCC
    (``DuplicateOrganization``), an invalid division code or headcount; ``NotPermitted``
    without ``applications.manage_organization``.
    """
    from certbody.models import BusinessScope

    policy.require(actor, PERMISSION, organization)
    reason = _reason(reason)
    unknown = set(changes) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise RuleViolation(
            gettext("Unknown organisation fields: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        organization = lock(Organization, organization.pk)
        if "uscc" in changes:
            changes["uscc"] = _checked_uscc(changes["uscc"], exclude_pk=organization.pk)
        if "division_code" in changes:
            changes["division_code"] = _checked_division(changes["division_code"], required=True)
        if "headcount" in changes:
            changes["headcount"] = _headcount(
                changes["headcount"], gettext("The effective headcount must be at least 1.")
            )
        for required, message in (
            ("name", gettext("Enter the organisation's name.")),
            ("registered_address", gettext("Enter the registered address.")),
            ("legal_representative", gettext("Enter the legal representative.")),
        ):
            if required in changes:
                changes[required] = _required(changes[required], message)
        changed = [f for f, value in changes.items() if getattr(organization, f) != value]
        for field, value in changes.items():
            setattr(organization, field, value)
        if changed:
            record(organization, actor=actor, reason=reason)
            organization.save(update_fields=changed)
        scopes = None
        if business_scope_codes is not None:
            scopes = set(BusinessScope.objects.filter(code__in=list(business_scope_codes)))
            if scopes == set(organization.business_scopes.all()):
                scopes = None
        if scopes is not None:
            organization.business_scopes.set(scopes)
            if not changed:  # a history row carries the reason of a scope-only change
                record(organization, actor=actor, reason=reason)
                organization.save(update_fields=["name"])
    return organization


# --- sites ------------------------------------------------------------------------------------


def _site_values(values: dict, organization: Organization, *, exclude_pk=None) -> dict:
    values = dict(values)
    if "name" in values:
        values["name"] = _required(values["name"], gettext("Enter the site's name."))
    if "address" in values:
        values["address"] = _required(values["address"], gettext("Enter the site's address."))
    if "division_code" in values:
        values["division_code"] = _checked_division(values["division_code"], required=False)
    if "headcount" in values:
        values["headcount"] = _headcount(
            values["headcount"], gettext("The headcount at a site must be at least 1.")
        )
    if values.get("is_head_office"):
        others = Site.objects.filter(
            organization=organization, is_head_office=True, closed_on__isnull=True
        ).exclude(pk=exclude_pk)
        if others.exists():
            raise RuleViolation(
                gettext("The organisation already has an open head-office site: %(site)s.")
                % {"site": others.first().name}
            )
    if values.get("is_head_office") and values.get("is_temporary"):
        raise RuleViolation(gettext("A head-office site cannot be a temporary site."))
    return values


def site_add(
    *,
    organization: Organization,
    actor,
    name: str,
    address: str,
    headcount: int = 1,
    division_code: str = "",
    is_head_office: bool = False,
    is_temporary: bool = False,
    scope_text: str = "",
) -> Site:
    """Add a site (head office, outlet or temporary site) where the organisation provides the
    service (004 §5.1.3(5) outlets; §6.2.5(1) every covered site's address).

    ``headcount``: people at the site, at least 1. At most one open head office. Raises
    ``RuleViolation``; ``NotPermitted`` without ``applications.manage_organization``.
    """
    policy.require(actor, PERMISSION, organization)
    with transaction.atomic():
        organization = lock(Organization, organization.pk)
        values = _site_values(
            {
                "name": name,
                "address": address,
                "headcount": headcount,
                "division_code": division_code,
                "is_head_office": bool(is_head_office),
                "is_temporary": bool(is_temporary),
                "scope_text": (scope_text or "").strip(),
            },
            organization,
        )
        site = Site(organization=organization, **values)
        record(site, actor=actor, reason="新增场所")
        site.save()
    return site


def site_update(*, site: Site, actor, reason: str, **changes) -> Site:
    """Change an open site's fields (``SITE_FIELDS``), recorded with ``reason`` (required).

    Raises ``RuleViolation`` for a closed site, an unknown field, a second open head office or
    a bad value; ``NotPermitted`` without ``applications.manage_organization``.
    """
    policy.require(actor, PERMISSION, site.organization)
    reason = _reason(reason)
    unknown = set(changes) - set(SITE_FIELDS)
    if unknown:
        raise RuleViolation(
            gettext("Unknown site fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        site = lock(Site, site.pk)
        if site.closed_on is not None:
            raise RuleViolation(
                gettext("Site “%(site)s” was closed on %(day)s: it is no longer edited.")
                % {"site": site.name, "day": site.closed_on.isoformat()}
            )
        merged = {f: getattr(site, f) for f in ("is_head_office", "is_temporary")} | changes
        values = _site_values(merged, site.organization, exclude_pk=site.pk)
        changed = [f for f in changes if getattr(site, f) != values[f]]
        for field in changed:
            setattr(site, field, values[field])
        if changed:
            record(site, actor=actor, reason=reason)
            site.save(update_fields=changed)
    return site


def site_close(*, site: Site, actor, closed_on: date, reason: str) -> Site:
    """Close a site that no longer provides the service: ``closed_on`` (a local date, not
    after today) is set and the site stays on the audits and certificates that covered it
    (never deleted). A head-office site is not closed (the head office moves: edit its
    address). Raises ``RuleViolation``; ``NotPermitted`` without
    ``applications.manage_organization``.
    """
    policy.require(actor, PERMISSION, site.organization)
    reason = _reason(reason)
    if closed_on is None:
        raise RuleViolation(gettext("Enter the day the site closed."))
    if closed_on > timezone.localdate():
        raise RuleViolation(gettext("The closing date cannot be later than today."))
    with transaction.atomic():
        site = lock(Site, site.pk)
        if site.closed_on is not None:
            raise RuleViolation(
                gettext("Site “%(site)s” is already closed (%(day)s).")
                % {"site": site.name, "day": site.closed_on.isoformat()}
            )
        if site.is_head_office:
            raise RuleViolation(
                gettext("A head-office site is not closed: edit its address when it moves.")
            )
        site.closed_on = closed_on
        record(site, actor=actor, reason=reason)
        site.save(update_fields=["closed_on"])
    return site


# --- contact persons --------------------------------------------------------------------------


def _contact_values(values: dict) -> dict:
    values = dict(values)
    if "name" in values:
        values["name"] = _required(values["name"], gettext("Enter the contact person's name."))
    if "phone" in values:
        values["phone"] = _required(values["phone"], gettext("Enter the contact person's phone."))
    for field in ("position", "email"):
        if field in values:
            values[field] = (values[field] or "").strip()
    return values


def _demote_others(contact: ContactPerson, *, actor, reason: str) -> None:
    for other in (
        ContactPerson.objects.select_for_update()
        .filter(organization_id=contact.organization_id, is_primary=True)
        .exclude(pk=contact.pk)
    ):
        other.is_primary = False
        record(other, actor=actor, reason=reason)
        other.save(update_fields=["is_primary"])


def contact_add(
    *,
    organization: Organization,
    actor,
    name: str,
    phone: str,
    position: str = "",
    email: str = "",
    is_primary: bool = False,
) -> ContactPerson:
    """Add a contact person; ``is_primary`` makes them the primary contact (the previous one
    stays a contact, and ``Organization.contact_*`` follows). The first contact of an
    organisation is primary whatever ``is_primary`` says. Raises ``RuleViolation``;
    ``NotPermitted`` without ``applications.manage_organization``.
    """
    policy.require(actor, PERMISSION, organization)
    values = _contact_values({"name": name, "phone": phone, "position": position, "email": email})
    with transaction.atomic():
        organization = lock(Organization, organization.pk)
        first = not ContactPerson.objects.filter(organization=organization).exists()
        contact = ContactPerson(
            organization=organization, is_primary=bool(is_primary) or first, **values
        )
        record(contact, actor=actor, reason="新增联系人")
        contact.save()
        if contact.is_primary:
            _demote_others(contact, actor=actor, reason="更换主要联系人")
            _mirror_primary(organization, contact, actor=actor, reason="更换主要联系人")
    return contact


def contact_update(*, contact: ContactPerson, actor, reason: str = "", **changes) -> ContactPerson:
    """Change a contact person (``CONTACT_FIELDS``); ``reason`` optional (default "修改联系人").
    Making a contact primary demotes the previous one; the primary contact cannot be demoted
    directly (make another contact primary). Raises ``RuleViolation``; ``NotPermitted``
    without ``applications.manage_organization``.
    """
    policy.require(actor, PERMISSION, contact.organization)
    reason = (reason or "").strip() or "修改联系人"
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise RuleViolation(
            gettext("Unknown contact fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    values = _contact_values(changes)
    with transaction.atomic():
        organization = lock(Organization, contact.organization_id)
        contact = lock(ContactPerson, contact.pk)
        if contact.is_primary and "is_primary" in values and not values["is_primary"]:
            raise RuleViolation(
                gettext("The primary contact stays primary until another contact is made primary.")
            )
        changed = [f for f, value in values.items() if getattr(contact, f) != value]
        for field in changed:
            setattr(contact, field, values[field])
        if changed:
            record(contact, actor=actor, reason=reason)
            contact.save(update_fields=changed)
        if contact.is_primary and changed:
            _demote_others(contact, actor=actor, reason=reason)
            _mirror_primary(organization, contact, actor=actor, reason=reason)
    return contact


def contact_remove(*, contact: ContactPerson, actor, reason: str = "") -> None:
    """Remove a contact person who no longer deals with the CB; the history keeps them.
    The primary contact is not removed (make another contact primary first). Raises
    ``RuleViolation``; ``NotPermitted`` without ``applications.manage_organization``.
    """
    policy.require(actor, PERMISSION, contact.organization)
    reason = (reason or "").strip() or "删除联系人"
    with transaction.atomic():
        contact = lock(ContactPerson, contact.pk)
        if contact.is_primary:
            raise RuleViolation(
                gettext(
                    "The primary contact cannot be removed: make another contact primary first."
                )
            )
        record(contact, actor=actor, reason=reason)
        contact.delete()
