"""Certificate numbers (004 Appendix C; domain.md §10)."""

from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates.numbering import (
    ACCREDITATION_LETTERS,
    CertificateNumber,
    approval_suffix,
    format_number,
    parse_number,
)

# --- domain examples -----------------------------------------------------------------------


def test_domain_example_head_and_sub_certificate():
    assert format_number("0123", 2025, 1, 0, "C") == "012325FW0001R0C"
    assert format_number("0123", 2025, 1, 0, "C", sub=1) == "012325FW0001R0C-1"


def test_accreditation_letters():
    assert set(ACCREDITATION_LETTERS) == {"C", "A", "U", "Z"}
    assert "CNAS" in ACCREDITATION_LETTERS["C"]
    assert "ANAB" in ACCREDITATION_LETTERS["A"]
    assert "UKAS" in ACCREDITATION_LETTERS["U"]
    assert "未认可" in ACCREDITATION_LETTERS["Z"]


# --- format / parse tables ---------------------------------------------------------------

CASES = [
    # (approval_no, year, sequence, cycle, accreditation, sub, number)
    ("0123", 2025, 1, 0, "C", None, "012325FW0001R0C"),
    ("0123", 2025, 1, 0, "C", 1, "012325FW0001R0C-1"),
    ("123", 2025, 1, 0, "C", None, "12325FW0001R0C"),
    ("123", 2025, 1, 0, "C", 12, "12325FW0001R0C-12"),
    ("9999", 2099, 9999, 12, "Z", 999, "999999FW9999R12Z-999"),
    ("000", 2000, 1, 0, "A", None, "00000FW0001R0A"),
    ("12F", 2024, 37, 1, "U", None, "12F24FW0037R1U"),
    ("12F", 2024, 37, 1, "U", 3, "12F24FW0037R1U-3"),
    ("2520", 2023, 250, 2, "A", None, "252023FW0250R2A"),
    # A 3-digit approval number whose year looks like a 4th digit: 123 + 25 vs 1232 + 5?
    ("123", 2025, 10, 10, "C", None, "12325FW0010R10C"),
    ("1232", 2005, 10, 0, "C", None, "123205FW0010R0C"),
]


@pytest.mark.parametrize(
    ("approval_no", "year", "sequence", "cycle", "acc", "sub", "number"), CASES
)
def test_format_number(approval_no, year, sequence, cycle, acc, sub, number):
    assert format_number(approval_no, year, sequence, cycle, acc, sub) == number


@pytest.mark.parametrize(
    ("approval_no", "year", "sequence", "cycle", "acc", "sub", "number"), CASES
)
def test_parse_number_round_trips(approval_no, year, sequence, cycle, acc, sub, number):
    parsed = parse_number(number)
    assert parsed == CertificateNumber(approval_no, year, sequence, cycle, acc, sub)
    assert str(parsed) == number
    assert (
        format_number(
            parsed.approval_no,
            parsed.year,
            parsed.sequence,
            parsed.cycle,
            parsed.accreditation,
            parsed.sub,
        )
        == number
    )
    assert parsed.is_sub is (sub is not None)
    assert parsed.head == number.split("-")[0]
    assert parse_number(parsed.head).sub is None


def test_head_of_a_sub_certificate():
    parsed = parse_number("012325FW0001R0C-2")
    assert parsed.sub == 2
    assert parsed.year == 2025
    assert parsed.head == "012325FW0001R0C"


@pytest.mark.parametrize("padding", [" ", "  ", "\t", "\n", " \r\n", "\u3000"])
def test_parse_number_strips_outer_whitespace(padding):
    parsed = parse_number(f"{padding}012325FW0001R0C-1{padding}")
    assert str(parsed) == "012325FW0001R0C-1"


def test_certificate_number_is_frozen_and_validated():
    number = CertificateNumber("0123", 2025, 1, 0, "C")
    with pytest.raises(FrozenInstanceError):
        number.sequence = 2  # type: ignore[misc]
    with pytest.raises(ValueError, match="sequence"):
        CertificateNumber("0123", 2025, 0, 0, "C")


# --- malformed input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "",
        " ",
        "012325FW0001R0c",  # lowercase accreditation
        "012325fw0001R0C",  # lowercase scheme
        "012325FW0001r0C",  # lowercase R
        "012325FW0001R0C-",  # dangling dash
        "012325FW0001R0C-0",  # sub 0
        "012325FW0001R0C-01",  # sub with leading zero
        "012325FW0001R0C--1",
        "012325FW0001R0C-1-2",
        "012325FW00010C",  # missing R
        "012325FW0001RC",  # missing cycle
        "012325FW0001R01C",  # cycle with leading zero
        "012325FW0001R0",  # missing accreditation
        "012325FW0001R0X",  # unknown accreditation
        "012325FW0001R0CC",
        "012325FW0000R0C",  # sequence 0
        "012325FW10000R0C",  # sequence above 9999
        "012325FW001R0C",  # 3-digit sequence
        "012325FX0001R0C",  # wrong scheme code
        "012325QC0001R0C",
        "0123FW0001R0C",  # missing year
        "01232025FW0001R0C",  # 4-digit year
        "1234525FW0001R0C",  # 5-digit approval number
        "1225FW0001R0C",  # 2-digit approval number
        "12f25FW0001R0C",  # lowercase foreign marker
        "1F25FW0001R0C",
        "123F25FW0001R0C",
        "0123 25FW0001R0C",  # inner space
        "012325FW0001R0C x",  # trailing junk
        "012325FW0001R0C\n1",
        "x012325FW0001R0C",  # leading junk
        "０１２３25FW0001R0C",  # full-width digits
        "012325FW0001R0C-1 -2",
        "012325FW0001R0C-1\u0661",  # Arabic-Indic digit
    ],
)
def test_parse_number_refuses_malformed_numbers(number):
    with pytest.raises(ValueError):
        parse_number(number)


@pytest.mark.parametrize("value", [None, 12325, b"012325FW0001R0C", ["012325FW0001R0C"]])
def test_parse_number_refuses_non_strings(value):
    with pytest.raises(ValueError, match="must be a str"):
        parse_number(value)


def test_parse_number_message_names_the_expected_form():
    with pytest.raises(ValueError, match="012325FW0001R0C"):
        parse_number("nonsense")
    with pytest.raises(ValueError, match="accreditation must be one of"):
        parse_number("012325FW0001R0X")
    with pytest.raises(ValueError, match="sequence must be between 1 and 9999"):
        parse_number("012325FW0000R0C")


VALID = {
    "approval_no": "0123",
    "year": 2025,
    "sequence": 1,
    "cycle": 0,
    "accreditation": "C",
    "sub": None,
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("approval_no", "12345", "approval_no"),
        ("approval_no", "12", "approval_no"),
        ("approval_no", "", "approval_no"),
        ("approval_no", "12f", "approval_no"),
        ("approval_no", "1F", "approval_no"),
        ("approval_no", "123F", "approval_no"),
        ("approval_no", "12 3", "approval_no"),
        ("approval_no", " 123", "approval_no"),
        ("approval_no", "１２３", "approval_no"),  # full-width digits
        ("approval_no", 123, "approval_no"),
        ("approval_no", None, "approval_no"),
        ("year", 1999, "year"),
        ("year", 2100, "year"),
        ("year", 25, "year"),
        ("year", "2025", "year must be an int"),
        ("year", True, "year must be an int"),
        ("sequence", 0, "sequence"),
        ("sequence", 10000, "sequence"),
        ("sequence", -1, "sequence"),
        ("sequence", True, "sequence must be an int"),
        ("sequence", 1.0, "sequence must be an int"),
        ("cycle", -1, "cycle"),
        ("cycle", False, "cycle must be an int"),
        ("cycle", "0", "cycle must be an int"),
        ("accreditation", "X", "accreditation"),
        ("accreditation", "c", "accreditation"),
        ("accreditation", "", "accreditation"),
        ("accreditation", "CNAS", "accreditation"),
        ("accreditation", None, "accreditation"),
        ("sub", 0, "sub-certificate"),
        ("sub", -1, "sub-certificate"),
        ("sub", True, "sub must be an int"),
        ("sub", "1", "sub must be an int"),
    ],
)
def test_format_number_refuses_bad_parts(field, value, message):
    kwargs = {**VALID, field: value}
    with pytest.raises(ValueError, match=message):
        format_number(**kwargs)
    with pytest.raises(ValueError, match=message):
        CertificateNumber(**kwargs)


# --- approval_suffix ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cnca", "suffix"),
    [
        ("CNCA-R-2002-123", "123"),
        ("CNCA-R-2002-001", "001"),
        ("CNCA-R-2016-0123", "0123"),
        ("CNCA-R-2021-1234", "1234"),
        ("CNCA-R-2021-01234", "1234"),
        ("CNCA-RF-2002-12", "12F"),
        ("CNCA-RF-2002-04", "04F"),
        ("  CNCA-R-2002-123\n", "123"),
    ],
)
def test_approval_suffix(cnca, suffix):
    assert approval_suffix(cnca) == suffix
    # The suffix is always usable in a number.
    assert parse_number(format_number(suffix, 2025, 1, 0, "C")).approval_no == suffix


@pytest.mark.parametrize(
    "cnca",
    [
        "",
        "123",
        "CNCA-R-2002-12",  # domestic serial too short
        "CNCA-R-2002-",
        "CNCA-RF-2002-123",  # foreign serials have 2 digits
        "CNCA-RF-2002-1",
        "cnca-r-2002-123",
        "CNCA-X-2002-123",
        "CNCA-R-02-123",
        "CNCA-R-2002-12a",
        "CNCA R 2002 123",
        "CNCA-R-2002-１２３",
    ],
)
def test_approval_suffix_refuses_malformed(cnca):
    with pytest.raises(ValueError):
        approval_suffix(cnca)


@pytest.mark.parametrize("value", [None, 123])
def test_approval_suffix_refuses_non_strings(value):
    with pytest.raises(ValueError, match="must be a str"):
        approval_suffix(value)


# --- properties --------------------------------------------------------------------------

approval_numbers = st.one_of(
    st.from_regex(r"[0-9]{3}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.from_regex(r"[0-9]{2}F", fullmatch=True),
)
numbers = st.builds(
    CertificateNumber,
    approval_no=approval_numbers,
    year=st.integers(min_value=2000, max_value=2099),
    sequence=st.integers(min_value=1, max_value=9999),
    cycle=st.integers(min_value=0, max_value=1000),
    accreditation=st.sampled_from(sorted(ACCREDITATION_LETTERS)),
    sub=st.none() | st.integers(min_value=1, max_value=10_000),
)


@given(numbers)
def test_format_parse_format_round_trips(number):
    text = str(number)
    parsed = parse_number(text)
    assert parsed == number
    assert str(parsed) == text
    assert parse_number(parsed.head) == CertificateNumber(
        number.approval_no, number.year, number.sequence, number.cycle, number.accreditation
    )


@given(numbers, numbers)
def test_distinct_numbers_format_differently(a, b):
    # Parsing is unambiguous, so formatting is injective.
    assert (str(a) == str(b)) == (a == b)
