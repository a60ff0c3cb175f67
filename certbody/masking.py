"""Masking of personal data (ID numbers, phones) for users who do not need it.

Only the roles of ``certbody.view_personal_data`` (certbody.policy) see full values; pages use
the ``mask_id``/``mask_phone`` template filters, which call these. Public pages and logs never
carry these values at all.
"""


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
