"""Masking of personal data (ID numbers, phones) for users who do not need it.

Only the roles of ``certbody.view_personal_data`` (certbody.policy) see full values; pages use
the ``mask_id``/``mask_phone`` template filters, which call these. Public pages and logs never
carry these values at all.

``PERSONAL_FIELDS`` declares which model fields hold personal data and how each is masked, so
generic pages (the object page's history card) mask them without knowing the models; regulator
reports declare their personal columns on the report definition (``reporting.reports``).
"""

from collections.abc import Callable


def mask_id_number(value: str | None) -> str:
    """A resident ID number with only its first 3 and last 2 characters shown:
    ``110105199001011234`` → ``110*************34``. Empty for empty input."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def mask_phone(value: str | None) -> str:
    """A phone number with the middle digits hidden: ``13812345678`` → ``138****5678``;
    short numbers keep only their last 2 characters."""
    if not value:
        return ""
    value = str(value)
    if len(value) >= 11:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if len(value) <= 2:
        return "*" * len(value)
    return "*" * (len(value) - 2) + value[-2:]


def can_see_personal_data(user) -> bool:
    """True for users whose role needs full ID numbers and phones (policy matrix)."""
    return bool(user and user.is_authenticated and user.has_perm("certbody.view_personal_data"))


def mask_all(value: str | None) -> str:
    """Personal data with no useful visible part (a birth month, a region of residence): every
    character hidden, so only its presence shows. Empty for empty input."""
    if value is None or value == "":
        return ""
    return "*" * len(str(value))


# "<app_label>.<model_name>.<field>" → how a user without ``certbody.view_personal_data`` sees it.
# Model names as strings: certbody imports no app (style.md, "Registries instead of upward
# imports"); a test checks every entry names a real field.
PERSONAL_FIELDS: dict[str, Callable[[str | None], str]] = {
    "applications.organization.contact_phone": mask_phone,
    "applications.contactperson.phone": mask_phone,
    "certbody.user.phone": mask_phone,
    "certificates.appeal.contact": mask_phone,
    "reporting.personnelrecord.id_number": mask_id_number,
    "reporting.personnelrecord.birth_date": mask_all,
    "reporting.personnelrecord.residence": mask_all,
}


def field_mask(model, field_name: str) -> Callable[[str | None], str] | None:
    """The masking function of ``model``'s field ``field_name`` when it holds personal data
    (``PERSONAL_FIELDS``), else None. ``model``: a model class or instance."""
    return PERSONAL_FIELDS.get(f"{model._meta.label_lower}.{field_name}")
