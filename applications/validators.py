"""Field validators for client organisations."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from certbody.regions import province_of


def normalize_uscc(value: str) -> str:
    """The compact upper-case form of a USCC as people type it (spaces, hyphens, lower case
    removed: ``stdnum.cn.uscc.compact``); not validated. ``""`` for None."""
    return uscc.compact(value or "")


def validate_uscc(value: str) -> None:
    """Unified social credit code (GB 32100-2015) with its check character (stdnum.cn.uscc)."""
    try:
        uscc.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("%(value)s is not a valid unified social credit code: %(reason)s"),
            params={"value": value, "reason": exc.message},
            code="invalid_uscc",
        ) from exc
    if uscc.compact(value) != value:
        raise ValidationError(_("Enter the code in compact upper-case form."), code="uscc_form")


def validate_division_code(value: str) -> None:
    """Six-digit administrative division code with a known province prefix (GB/T 2260)."""
    try:
        province_of(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_division") from exc


def build_uscc(division_code: str, serial: int, category: str = "91") -> str:
    """A well-formed USCC for ``division_code`` and a serial (demo and test data only).

    ``category`` is the registration authority + type (91 = enterprise registered with market
    regulation). The nine-character body is the zero-padded serial; the check character is
    computed by stdnum. Raises ValueError for a serial outside 0…999,999,999.
    """
    if not 0 <= serial <= 999_999_999:
        raise ValueError(gettext("The serial must be between 0 and 999,999,999."))
    body = f"{category}{division_code}{serial:09d}"
    return body + uscc.calc_check_digit(body)
