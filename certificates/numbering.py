"""Certificate numbers for after-sales service certification (004 Appendix C).

Pure rules, no ORM. A number is the concatenation, without separators, of (004 Appendix C.1)::

    {approval no}{yy}FW{sequence:04d}R{cycle}{accreditation}[-{sub}]
    0123         25  FW 0001         R0      C               -1

- approval no: the last 3–4 digits of the CB's CNCA approval number (认监委机构批准号); a
  foreign-invested CB has only 2 digits and pads the last position with ``F`` (e.g. ``12F``).
- yy: the last two digits of the year of issue (23 = 2023).
- FW: the after-sales service certification scheme code (售后服务认证体系).
- sequence: the CB's running count of FW certificates issued that year, zero-padded to
  4 digits as in C.1's ``XXXX`` layout (the seed's explanatory "001，002" is read as
  illustrative; domain.md §10 settles on 4 digits). 1–9999; above 9999 is refused because the
  field is fixed-width and a 5th digit would make numbers unparseable.
- cycle: ``R0`` initial certification, ``R1`` first recertification, … (C.1, C.4).
- accreditation: C = CNAS, A = ANAB, U = UKAS, Z = not accredited (C.1).
- sub: ``-1``, ``-2`` … for a multi-site client's sub-certificates, appended to the head
  office's number (C.1, C.2).

Reissue within validity keeps the number (C.3); recertification assigns a new number with the
next cycle (C.4); a withdrawn number is void and never reused (C.5). Those are the callers'
business: this module only formats, parses and validates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ACCREDITATION_LETTERS",
    "SCHEME_CODE",
    "CertificateNumber",
    "approval_suffix",
    "format_number",
    "parse_number",
]

SCHEME_CODE = "FW"

# 004 Appendix C.1: "C-CNAS, A-ANAB, U-UKAS, Z-未认可".
ACCREDITATION_LETTERS: MappingProxyType[str, str] = MappingProxyType(
    {
        "C": "CNAS (China National Accreditation Service for Conformity Assessment)",
        "A": "ANAB (ANSI National Accreditation Board)",
        "U": "UKAS (United Kingdom Accreditation Service)",
        "Z": "not accredited (未认可)",
    }
)

# [0-9] rather than \d: \d also matches full-width and other Unicode digits.
# 004 Appendix C.1: 3–4 digits, or 2 digits + "F" for a foreign-invested CB.
_APPROVAL_RE = re.compile(r"[0-9]{3,4}|[0-9]{2}F")

# The approval number is 3 or 4 characters but the year is always exactly 2 digits followed by
# "FW", so the regex backtracks to the only split that fits: "12325FW…" is 123 + 25.
_NUMBER_RE = re.compile(
    r"(?P<approval>[0-9]{3,4}|[0-9]{2}F)"
    r"(?P<yy>[0-9]{2})"
    r"FW"
    r"(?P<sequence>[0-9]{4})"
    r"R(?P<cycle>0|[1-9][0-9]*)"  # no leading zeros: one spelling per number
    r"(?P<accreditation>[A-Z])"
    r"(?:-(?P<sub>[1-9][0-9]*))?"
)

# CNCA approval numbers look like "CNCA-R-2002-123" (domestic) or "CNCA-RF-2002-12"
# (foreign-invested, "F"); the serial is the last group.
_CNCA_APPROVAL_RE = re.compile(r"CNCA-(?P<kind>RF?)-(?P<year>[0-9]{4})-(?P<serial>[0-9]+)")


def _int(value: object, name: str) -> int:
    """Return ``value`` if it is an ``int`` (bool refused), else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    return value


def _validate(
    approval_no: object,
    year: object,
    sequence: object,
    cycle: object,
    accreditation: object,
    sub: object,
) -> None:
    """Check every part of a certificate number (004 Appendix C.1, C.2); raise ``ValueError``."""
    if not isinstance(approval_no, str) or not _APPROVAL_RE.fullmatch(approval_no):
        raise ValueError(
            "approval_no must be 3-4 digits, or 2 digits followed by 'F' for a foreign-invested "
            f"certification body (004 Appendix C.1), got {approval_no!r}"
        )
    year = _int(year, "year")
    if not 2000 <= year <= 2099:
        # Only two digits of the year are printed (C.1), so the century is fixed.
        raise ValueError(f"year must be between 2000 and 2099, got {year}")
    sequence = _int(sequence, "sequence")
    if not 1 <= sequence <= 9999:
        raise ValueError(f"sequence must be between 1 and 9999 (4 digits), got {sequence}")
    cycle = _int(cycle, "cycle")
    if cycle < 0:
        raise ValueError(f"cycle must be 0 (initial) or more (recertifications), got {cycle}")
    if not isinstance(accreditation, str) or accreditation not in ACCREDITATION_LETTERS:
        raise ValueError(
            f"accreditation must be one of {', '.join(ACCREDITATION_LETTERS)} "
            f"(004 Appendix C.1), got {accreditation!r}"
        )
    if sub is not None:
        sub = _int(sub, "sub")
        if sub < 1:
            raise ValueError(f"sub-certificate number must be 1 or more (C.2), got {sub}")


@dataclass(frozen=True)
class CertificateNumber:
    """A parsed certificate number (004 Appendix C.1, C.2); ``str()`` gives the number.

    Attributes:
        approval_no: ``"123"``, ``"0123"`` or ``"12F"`` (foreign-invested CB).
        year: year of issue, 4 digits (2000–2099).
        sequence: the year's running count of FW certificates, 1–9999.
        cycle: 0 for initial certification, n for the n-th recertification.
        accreditation: ``"C"``, ``"A"``, ``"U"`` or ``"Z"``.
        sub: sub-certificate number (>= 1), or ``None`` for the head certificate.

    Raises:
        ValueError: on construction with any invalid part (same rules as ``format_number``).
    """

    approval_no: str
    year: int
    sequence: int
    cycle: int
    accreditation: str
    sub: int | None = None

    def __post_init__(self) -> None:
        _validate(
            self.approval_no, self.year, self.sequence, self.cycle, self.accreditation, self.sub
        )

    def __str__(self) -> str:
        return format_number(
            self.approval_no, self.year, self.sequence, self.cycle, self.accreditation, self.sub
        )

    @property
    def head(self) -> str:
        """The head office certificate's number: this number without ``-{sub}`` (C.2)."""
        return format_number(
            self.approval_no, self.year, self.sequence, self.cycle, self.accreditation
        )

    @property
    def is_sub(self) -> bool:
        """Whether this is a sub-certificate of a multi-site client (C.2)."""
        return self.sub is not None


def format_number(
    approval_no: str,
    year: int,
    sequence: int,
    cycle: int,
    accreditation: str,
    sub: int | None = None,
) -> str:
    """Build a certificate number (004 Appendix C.1, C.2).

    Args:
        approval_no: 3–4 ASCII digits, or 2 digits + ``"F"`` (foreign-invested CB); see
            ``approval_suffix`` to derive it from the CNCA approval number.
        year: year of issue, 2000–2099; printed as 2 digits.
        sequence: the CB's running count of FW certificates that year, 1–9999; printed with
            4 digits, zero-padded.
        cycle: 0 initial (``R0``), 1 first recertification (``R1``), … (C.4).
        accreditation: ``"C"`` CNAS, ``"A"`` ANAB, ``"U"`` UKAS, ``"Z"`` not accredited;
            uppercase only.
        sub: sub-certificate number >= 1, or ``None`` for the head certificate.

    Returns:
        e.g. ``format_number("0123", 2025, 1, 0, "C") == "012325FW0001R0C"`` and with
        ``sub=1`` ``"012325FW0001R0C-1"``.

    Raises:
        ValueError: any part out of range or of the wrong type (bool refused for ints).
    """
    _validate(approval_no, year, sequence, cycle, accreditation, sub)
    number = f"{approval_no}{year % 100:02d}{SCHEME_CODE}{sequence:04d}R{cycle}{accreditation}"
    return number if sub is None else f"{number}-{sub}"


def parse_number(number: str) -> CertificateNumber:
    """Parse a certificate number strictly (004 Appendix C.1, C.2).

    Outer whitespace is stripped (numbers are often pasted from documents); anything else must
    be exactly the canonical form: uppercase, no inner spaces, 4-digit sequence, no leading zeros
    in the cycle or sub-certificate number. ``str(parse_number(n)) == n.strip()`` for every
    accepted ``n``.

    The approval number is 3 or 4 characters, but the year before ``FW`` is always 2 digits, so
    the approval number is the part before ``FW`` minus its last 2 characters.

    Args:
        number: e.g. ``"012325FW0001R0C"``, ``"12325FW0001R1A-2"``, ``"12F25FW0001R0Z"``.

    Returns:
        ``CertificateNumber`` with a 4-digit year (2000 + yy).

    Raises:
        ValueError: not a ``str`` (``None``, ints …), or not a well-formed number, or a part out
            of range (sequence 0000, unknown accreditation letter, sub ``-0``).
    """
    if not isinstance(number, str):
        raise ValueError(
            f"certificate number must be a str, got {type(number).__name__}: {number!r}"
        )
    text = number.strip()
    match = _NUMBER_RE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"malformed certificate number {number!r}; expected "
            "{approval no}{yy}FW{sequence:4 digits}R{cycle}{accreditation}[-{sub}], "
            "e.g. '012325FW0001R0C' (004 Appendix C.1)"
        )
    sub = match["sub"]
    # CertificateNumber validates the ranges (sequence 0000, accreditation letter).
    return CertificateNumber(
        approval_no=match["approval"],
        year=2000 + int(match["yy"]),
        sequence=int(match["sequence"]),
        cycle=int(match["cycle"]),
        accreditation=match["accreditation"],
        sub=None if sub is None else int(sub),
    )


def approval_suffix(cnca_approval_number: str) -> str:
    """The approval part of certificate numbers, from the CB's CNCA approval number (004 C.1).

    Appendix C.1 asks for "the last three/four digits of the serial of the CNCA approval number
    (a foreign-invested CB has only two and pads the last position with the letter F)". Rule:

    - ``CNCA-R-yyyy-NNN``: serial of 3 digits → as is (``CNCA-R-2002-123`` → ``"123"``);
      4 or more digits → the last 4 (``CNCA-R-2016-01234`` → ``"1234"``); fewer than 3 → error.
    - ``CNCA-RF-yyyy-NN`` (foreign-invested): exactly 2 digits → digits + ``"F"``
      (``CNCA-RF-2002-12`` → ``"12F"``); any other length → error.

    Outer whitespace is stripped; the prefix is case-sensitive (``CNCA-R`` / ``CNCA-RF``).

    Args:
        cnca_approval_number: e.g. ``"CNCA-R-2002-123"``.

    Returns:
        A valid ``approval_no`` for ``format_number``.

    Raises:
        ValueError: not a str, not of the form ``CNCA-R[F]-yyyy-serial``, or a serial length
            the rule above does not allow.
    """
    if not isinstance(cnca_approval_number, str):
        raise ValueError(
            "CNCA approval number must be a str, got "
            f"{type(cnca_approval_number).__name__}: {cnca_approval_number!r}"
        )
    match = _CNCA_APPROVAL_RE.fullmatch(cnca_approval_number.strip())
    if match is None:
        raise ValueError(
            f"malformed CNCA approval number {cnca_approval_number!r}; expected "
            "'CNCA-R-yyyy-NNN' or, for a foreign-invested body, 'CNCA-RF-yyyy-NN'"
        )
    serial = match["serial"]
    if match["kind"] == "RF":
        # 004 Appendix C.1: "外资机构只有两位，末位以字母F补位".
        if len(serial) != 2:
            raise ValueError(
                f"a foreign-invested body's approval serial must have 2 digits, got {serial!r}"
            )
        return f"{serial}F"
    # 004 Appendix C.1: "后三/四位数字流水号".
    if len(serial) < 3:
        raise ValueError(f"approval serial must have at least 3 digits, got {serial!r}")
    return serial[-4:]
