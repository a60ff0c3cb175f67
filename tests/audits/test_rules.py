"""Tests for audits.rules: audit time, sampling, surveillance and NC deadlines, checks.

Pure-Python module: these tests need no database and no Django settings. Expected values are
written out by hand from the seeds (004 / 001 Appendix A) and domain.md §20, not recomputed
with the module's own formulas.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audits import rules
from audits.rules import (
    AUDIT_TYPES,
    SCHEME_CAS,
    SCHEME_ZXRZ,
    SCHEMES,
    appendix_a_days,
    ceil_half_day,
    check_asrp_time,
    check_minimum_time,
    check_onsite_share,
    check_reduction,
    check_remote_share,
    check_site_onsite,
    floor_days,
    full_time_equivalent,
    major_nc_due,
    next_surveillance_due,
    round_half_day,
    sample_size,
    table_days,
)
from certbody.dates import add_months

D = Decimal


def test_constants():
    assert SCHEME_ZXRZ == "ZXRZ-2025"
    assert SCHEME_CAS == "CAS"
    assert SCHEMES == ("ZXRZ-2025", "CAS")
    assert AUDIT_TYPES == ("initial", "surveillance", "recertification")


# --- rounding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (D("5.2"), D("5.0")),
        (D("5.25"), D("5.5")),  # halves upward (domain §20)
        (D("5.3"), D("5.5")),
        (D("5.75"), D("6.0")),
        (D("5.74"), D("5.5")),
        (D("5.24"), D("5.0")),
        (D("5"), D("5.0")),
        (D("5.5"), D("5.5")),
        (D("5.0"), D("5.0")),
        (D("0"), D("0.0")),
        (D("0.25"), D("0.5")),
        (D("0.2"), D("0.0")),
        (5, D("5.0")),
        ("5.3", D("5.5")),
        (" 5.25 ", D("5.5")),
        (Fraction(16, 3), D("5.5")),  # 5.333…
        (Fraction(21, 4), D("5.5")),  # exactly 5.25
        (D("5.2499999999999999999999999999999999"), D("5.0")),  # beyond 28 digits, still exact
        (D("1E+3"), D("1000.0")),
    ],
)
def test_round_half_day(days, expected):
    result = round_half_day(days)
    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (D("5.0"), D("5.0")),
        (D("5.01"), D("5.5")),
        (D("5.2"), D("5.5")),
        (D("5.25"), D("5.5")),
        (D("5.5"), D("5.5")),
        (D("5.51"), D("6.0")),
        (D("5.75"), D("6.0")),
        (D("0"), D("0.0")),
        (D("0.0001"), D("0.5")),
        (Fraction(5, 3), D("2.0")),  # domain §20: ⌈5/3⌉½ = 2.0, not 1.5
        (Fraction(4, 3), D("1.5")),
        (3, D("3.0")),
        ("2.1", D("2.5")),
    ],
)
def test_ceil_half_day(days, expected):
    result = ceil_half_day(days)
    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize("function", [round_half_day, ceil_half_day])
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (5.25, "float"),
        (True, "bool"),
        (D("-0.5"), "negative"),
        (-1, "negative"),
        ("abc", "not a number"),
        ("", "not a number"),
        (D("NaN"), "finite"),
        (D("Infinity"), "finite"),
        ("inf", "finite"),
        (None, "must be a Decimal"),
        ([5], "must be a Decimal"),
    ],
)
def test_rounding_refuses_bad_input(function, bad, message):
    with pytest.raises(ValueError, match=message):
        function(bad)


@given(st.decimals(min_value=0, max_value=100_000, places=4))
def test_round_half_day_is_nearest_half_with_halves_up(days):
    result = round_half_day(days)
    assert (result * 2) % 1 == 0
    assert abs(result - days) <= D("0.25")
    if abs(result - days) == D("0.25"):
        assert result > days  # a tie goes up


@given(st.decimals(min_value=0, max_value=100_000, places=4))
def test_ceil_half_day_is_least_half_at_or_above(days):
    result = ceil_half_day(days)
    assert (result * 2) % 1 == 0
    assert days <= result < days + D("0.5")


# --- Appendix A tables --------------------------------------------------------------------

# (lowest headcount, highest headcount, initial A, surveillance ⌈A/3⌉½ ≥ 1, recert ⌈2A/3⌉½ ≥ 1),
# worked out by hand from 004 Appendix A and notes f, g, h with domain §20's rounding up.
ZXRZ_BANDS = [
    (1, 45, "2.5", "1.0", "2.0"),
    (46, 65, "3", "1.0", "2.0"),
    (66, 85, "4", "1.5", "3.0"),
    (86, 125, "5", "2.0", "3.5"),
    (126, 175, "6", "2.0", "4.0"),
    (176, 275, "7", "2.5", "5.0"),
    (276, 425, "8", "3.0", "5.5"),
    (426, 625, "9", "3.0", "6.0"),
    (626, 875, "10", "3.5", "7.0"),
    (876, 1175, "11", "4.0", "7.5"),
    (1176, 1550, "12", "4.0", "8.0"),
    (1551, 2025, "13", "4.5", "9.0"),
    (2026, 2675, "14", "5.0", "9.5"),
    (2676, 3450, "15", "5.0", "10.0"),
    (3451, 4350, "16", "5.5", "11.0"),
    (4351, 5450, "17", "6.0", "11.5"),
    (5451, 6800, "18", "6.0", "12.0"),
    (6801, 8500, "19", "6.5", "13.0"),
    (8501, 10700, "20", "7.0", "13.5"),
    # domain §20 progression: each band 500 people wider than the one before (2200 → 2700 →
    # 3200 → 3700 → 4200).
    (10701, 13400, "21", "7.0", "14.0"),
    (13401, 16600, "22", "7.5", "15.0"),
    (16601, 20300, "23", "8.0", "15.5"),
    (20301, 24500, "24", "8.0", "16.0"),
]


def _edges(bands):
    return [
        pytest.param(headcount, *values, id=f"{headcount}")
        for low, high, *values in bands
        for headcount in (low, high)
    ]


@pytest.mark.parametrize(("headcount", "initial", "surveillance", "recert"), _edges(ZXRZ_BANDS))
def test_zxrz_table_band_edges(headcount, initial, surveillance, recert):
    assert table_days(headcount) == D(initial)
    assert table_days(headcount, "initial", SCHEME_ZXRZ) == D(initial)
    assert table_days(headcount, "surveillance") == D(surveillance)
    assert table_days(headcount, "recertification") == D(recert)
    # For ZXRZ the derived columns are the floors themselves, so nothing is raised.
    for audit_type in AUDIT_TYPES:
        assert appendix_a_days(headcount, audit_type) == table_days(headcount, audit_type)


def test_zxrz_progression_above_the_last_printed_band():
    assert [table_days(n) for n in (10700, 10701, 13400, 13401, 16600, 16601)] == [
        D(20),
        D(21),
        D(21),
        D(22),
        D(22),
        D(23),
    ]


def test_zxrz_progression_far_above_the_table():
    # Band k above 10,700 (k = 1, 2, …) is 2200 + 500k wide; days = 20 + k.
    upper, width = 10700, 2200
    for extra_days in range(1, 40):
        width += 500
        lower, upper = upper + 1, upper + width
        assert table_days(lower) == table_days(upper) == D(20 + extra_days)
    assert table_days(upper + 1) == D(60)


# CAS Appendix A as printed (001), and after raising to 001 §7.4 / §8.2 floors (domain §20):
# (lowest, highest, initial, surveillance column, recert column, surveillance, recert).
CAS_BANDS = [
    (1, 20, "3", "1.5", "2", "1.5", "2.5"),  # recert floor ⌈0.7·3 = 2.1⌉½ = 2.5 > 2
    (21, 50, "4", "1.5", "3", "1.5", "3"),
    (51, 80, "5", "2", "3.5", "2", "3.5"),
    (81, 100, "6", "2", "4", "2", "4.5"),  # ⌈4.2⌉½ = 4.5 > 4
    (101, 200, "7", "2.5", "5", "2.5", "5"),
    (201, 300, "8", "3", "5.5", "3", "6"),  # ⌈5.6⌉½ = 6.0 > 5.5
    (301, 500, "9", "3", "6.5", "3", "6.5"),
    (501, 1000, "10", "3.5", "7", "3.5", "7"),
]


@pytest.mark.parametrize(
    ("headcount", "initial", "surv_col", "recert_col", "surveillance", "recert"),
    _edges(CAS_BANDS),
)
def test_cas_table_band_edges(headcount, initial, surv_col, recert_col, surveillance, recert):
    assert appendix_a_days(headcount, "initial", SCHEME_CAS) == D(initial)
    assert appendix_a_days(headcount, "surveillance", SCHEME_CAS) == D(surv_col)
    assert appendix_a_days(headcount, "recertification", SCHEME_CAS) == D(recert_col)
    assert table_days(headcount, "initial", SCHEME_CAS) == D(initial)
    assert table_days(headcount, "surveillance", SCHEME_CAS) == D(surveillance)
    assert table_days(headcount, "recertification", SCHEME_CAS) == D(recert)


# Above 1,000: each started block of 600 / 900 / 450 people adds 1 / 0.5 / 0.5 days.
@pytest.mark.parametrize(
    ("headcount", "audit_type", "column"),
    [
        (1000, "initial", "10"),
        (1001, "initial", "11"),
        (1600, "initial", "11"),
        (1601, "initial", "12"),
        (2200, "initial", "12"),
        (2201, "initial", "13"),
        (1000, "surveillance", "3.5"),
        (1001, "surveillance", "4"),
        (1900, "surveillance", "4"),
        (1901, "surveillance", "4.5"),
        (2800, "surveillance", "4.5"),
        (2801, "surveillance", "5"),
        (1000, "recertification", "7"),
        (1001, "recertification", "7.5"),
        (1450, "recertification", "7.5"),
        (1451, "recertification", "8"),
        (1900, "recertification", "8"),
        (1901, "recertification", "8.5"),
        (10000, "initial", "25"),  # 9000 / 600 = 15 blocks
        (10000, "surveillance", "8.5"),  # 9000 / 900 = 10 blocks
        (10000, "recertification", "17"),  # 9000 / 450 = 20 blocks
    ],
)
def test_cas_column_above_1000(headcount, audit_type, column):
    assert appendix_a_days(headcount, audit_type, SCHEME_CAS) == D(column)


@pytest.mark.parametrize(
    ("headcount", "audit_type", "expected"),
    [
        (1001, "initial", "11"),
        (1001, "surveillance", "4.0"),  # floor ⌈3.3⌉½ = 3.5 < 4
        (1001, "recertification", "8.0"),  # column 7.5 < floor ⌈0.7·11 = 7.7⌉½ = 8.0
        (1450, "recertification", "8.0"),
        (1451, "recertification", "8.0"),
        (1600, "recertification", "8.0"),
        (1601, "recertification", "8.5"),  # initial 12 → ⌈8.4⌉½ = 8.5 > column 8
        (1900, "recertification", "8.5"),
        (1901, "recertification", "8.5"),
        (10000, "recertification", "17.5"),  # initial 25 → ⌈17.5⌉½ = 17.5 > column 17
    ],
)
def test_cas_table_days_are_raised_to_the_floor_above_1000(headcount, audit_type, expected):
    assert table_days(headcount, audit_type, SCHEME_CAS) == D(expected)


@given(
    headcount=st.integers(min_value=1, max_value=50_000),
    audit_type=st.sampled_from(AUDIT_TYPES),
    scheme=st.sampled_from(SCHEMES),
)
def test_table_days_never_below_the_floor(headcount, audit_type, scheme):
    days = table_days(headcount, audit_type, scheme)
    reference = table_days(headcount, "initial", scheme)
    assert days >= floor_days(reference, audit_type, scheme)
    assert (days * 2) % 1 == 0
    assert days >= 1
    assert days >= appendix_a_days(headcount, audit_type, scheme)


@given(
    headcount=st.integers(min_value=1, max_value=50_000),
    audit_type=st.sampled_from(AUDIT_TYPES),
    scheme=st.sampled_from(SCHEMES),
)
def test_table_days_grow_with_headcount(headcount, audit_type, scheme):
    assert table_days(headcount, audit_type, scheme) <= table_days(
        headcount + 1, audit_type, scheme
    )


@pytest.mark.parametrize("function", [table_days, appendix_a_days])
@pytest.mark.parametrize("headcount", [0, -1, True, False, "12", 12.0, None, D(12)])
def test_table_refuses_bad_headcount(function, headcount):
    with pytest.raises(ValueError, match="headcount"):
        function(headcount)


@pytest.mark.parametrize("function", [table_days, appendix_a_days])
def test_table_refuses_unknown_scheme_and_audit_type(function):
    with pytest.raises(ValueError, match="unknown scheme 'ISO'"):
        function(10, "initial", "ISO")
    with pytest.raises(ValueError, match="unknown audit type 'special'"):
        function(10, "special")
    with pytest.raises(ValueError, match="unknown audit type"):
        function(10, "Initial")


# --- floors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "audit_type", "scheme", "expected"),
    [
        # initial: 70 % of the table time, rounded up
        ("10", "initial", SCHEME_ZXRZ, "7.0"),
        ("5", "initial", SCHEME_ZXRZ, "3.5"),
        ("6", "initial", SCHEME_ZXRZ, "4.5"),  # 4.2 → 4.5
        ("2.5", "initial", SCHEME_ZXRZ, "2.0"),  # 1.75 → 2.0
        ("1", "initial", SCHEME_ZXRZ, "1.0"),  # 0.7 → 1.0 (1-day minimum)
        ("3", "initial", SCHEME_CAS, "2.5"),  # 2.1 → 2.5
        # ZXRZ surveillance 1/3, recertification 2/3
        ("5", "surveillance", SCHEME_ZXRZ, "2.0"),  # domain §20 example
        ("6", "surveillance", SCHEME_ZXRZ, "2.0"),  # exact
        ("4.5", "surveillance", SCHEME_ZXRZ, "1.5"),  # exact
        ("2.5", "surveillance", SCHEME_ZXRZ, "1.0"),  # 0.83 → 1.0
        ("1", "surveillance", SCHEME_ZXRZ, "1.0"),  # 0.33 → 0.5 → 1-day minimum
        ("5", "recertification", SCHEME_ZXRZ, "3.5"),  # 3.33 → 3.5
        ("6", "recertification", SCHEME_ZXRZ, "4.0"),  # exact
        ("1", "recertification", SCHEME_ZXRZ, "1.0"),  # 0.67 → 1.0
        ("1.5", "recertification", SCHEME_ZXRZ, "1.0"),  # exactly 1
        # CAS surveillance 30 %, recertification 70 %
        ("10", "surveillance", SCHEME_CAS, "3.0"),
        ("6", "surveillance", SCHEME_CAS, "2.0"),  # 1.8 → 2.0
        ("3", "surveillance", SCHEME_CAS, "1.0"),  # 0.9 → 1.0
        ("1", "surveillance", SCHEME_CAS, "1.0"),  # 0.3 → 0.5 → 1-day minimum
        ("10", "recertification", SCHEME_CAS, "7.0"),
        ("3", "recertification", SCHEME_CAS, "2.5"),  # 2.1 → 2.5
        ("5", "recertification", SCHEME_CAS, "3.5"),
        (D("0.5"), "initial", SCHEME_ZXRZ, "1.0"),
        (7, "surveillance", SCHEME_ZXRZ, "2.5"),  # int accepted; 2.33 → 2.5
    ],
)
def test_floor_days(reference, audit_type, scheme, expected):
    result = floor_days(reference, audit_type, scheme)
    assert result == D(expected)
    assert str(result) == expected


def test_floor_days_default_scheme_is_zxrz():
    assert floor_days(D(5), "surveillance") == D("2.0")


@pytest.mark.parametrize(
    ("reference", "audit_type", "scheme", "message"),
    [
        (D(0), "initial", SCHEME_ZXRZ, "positive"),
        (D(-1), "initial", SCHEME_ZXRZ, "negative"),
        (5.0, "initial", SCHEME_ZXRZ, "float"),
        (D(5), "special", SCHEME_ZXRZ, "unknown audit type"),
        (D(5), "initial", "ZXRZ", "unknown scheme"),
    ],
)
def test_floor_days_refuses_bad_input(reference, audit_type, scheme, message):
    with pytest.raises(ValueError, match=message):
        floor_days(reference, audit_type, scheme)


@given(
    reference=st.decimals(min_value=D("0.5"), max_value=1000, places=1),
    audit_type=st.sampled_from(AUDIT_TYPES),
    scheme=st.sampled_from(SCHEMES),
)
def test_floor_days_are_half_days_of_at_least_one_day(reference, audit_type, scheme):
    result = floor_days(reference, audit_type, scheme)
    assert (result * 2) % 1 == 0
    assert result >= 1
    assert result <= max(reference, D(1))


# --- full-time equivalents ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("full_time", "hours", "standard", "expected"),
    [
        (10, 0, None, 10),
        (10, D("1"), None, 11),  # any started FTE counts (rounded up)
        (10, D("2000"), None, 11),
        (10, D("2000.5"), None, 12),
        (10, "4000", None, 12),
        (0, D("0"), None, 0),
        (0, D("1"), None, 1),
        (5, D("333.28"), D("166.64"), 7),  # two months' standard hours, exact
        (5, D("333.29"), D("166.64"), 8),
        (45, 0, D(2000), 45),
    ],
)
def test_full_time_equivalent(full_time, hours, standard, expected):
    if standard is None:
        assert full_time_equivalent(full_time, hours) == expected
    else:
        assert full_time_equivalent(full_time, hours, standard) == expected


def test_full_time_equivalent_feeds_table_days():
    assert table_days(full_time_equivalent(40, D("12000"))) == D(3)  # 46 people


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 0), "full_time must not be negative"),
        ((True, 0), "full_time must be an integer"),
        (("10", 0), "full_time must be an integer"),
        ((10, -1), "part_time_hours must not be negative"),
        ((10, 1.5), "part_time_hours must be a Decimal"),
        ((10, 1, 0), "standard_hours must be positive"),
        ((10, 1, 2000.0), "standard_hours must be a Decimal"),
    ],
)
def test_full_time_equivalent_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        full_time_equivalent(*args)


# --- sampling -----------------------------------------------------------------------------


def _least_sample(sites: int, factor: Fraction) -> int:
    """Independent oracle: the least n with n ≥ factor·√sites, searched with Fractions."""
    bound = factor * factor * sites  # n² ≥ factor²·X
    n = max(0, math.isqrt(math.floor(bound)) - 1)
    while Fraction(n * n) < bound:
        n += 1
    assert n == 0 or Fraction((n - 1) ** 2) < bound
    return max(n, 1)


@pytest.mark.parametrize(
    ("audit_type", "factor"),
    [
        ("initial", Fraction(1)),
        ("surveillance", Fraction(6, 10)),
        ("recertification", Fraction(8, 10)),
    ],
)
def test_sample_size_matches_exact_oracle_up_to_10000(audit_type, factor):
    mismatches = [
        sites
        for sites in range(1, 10_001)
        if sample_size(sites, audit_type) != _least_sample(sites, factor)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("sites", "initial", "surveillance", "recertification"),
    [
        (1, 1, 1, 1),
        (2, 2, 1, 2),  # 1.41 / 0.85 / 1.13
        (4, 2, 2, 2),  # 2 / 1.2 / 1.6
        (9, 3, 2, 3),  # 3 / 1.8 / 2.4
        (10, 4, 2, 3),  # 3.16 / 1.90 / 2.53
        (25, 5, 3, 4),  # exact: 5 / 3 / 4
        (26, 6, 4, 5),  # just above: 5.10 / 3.06 / 4.08
        (100, 10, 6, 8),
        (101, 11, 7, 9),
        (10_000, 100, 60, 80),
    ],
)
def test_sample_size_hand_values(sites, initial, surveillance, recertification):
    assert sample_size(sites, "initial") == initial
    assert sample_size(sites, "surveillance") == surveillance
    assert sample_size(sites, "recertification") == recertification


@given(st.integers(min_value=1, max_value=10**12))
def test_sample_size_orders_and_bounds(sites):
    initial = sample_size(sites, "initial")
    surveillance = sample_size(sites, "surveillance")
    recertification = sample_size(sites, "recertification")
    assert 1 <= surveillance <= recertification <= initial <= sites
    assert (initial - 1) ** 2 < sites <= initial**2


@pytest.mark.parametrize("sites", [0, -1, True, "10", 10.0, None])
def test_sample_size_refuses_bad_site_count(sites):
    with pytest.raises(ValueError, match="similar_sites"):
        sample_size(sites, "initial")


def test_sample_size_refuses_unknown_audit_type():
    with pytest.raises(ValueError, match="unknown audit type"):
        sample_size(10, "special")


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 8, 31), 3, date(2025, 11, 30)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 12, 31), 1, date(2026, 1, 31)),
        (date(2025, 12, 31), 15, date(2027, 3, 31)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 5, 15), 0, date(2025, 5, 15)),
        (date(2025, 1, 15), -13, date(2023, 12, 15)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("day", "months", "message"),
    [
        (datetime(2025, 1, 1, 12, 0), 1, "datetime.date"),
        ("2025-01-01", 1, "datetime.date"),
        (date(2025, 1, 1), True, "months must be an integer"),
        (date(2025, 1, 1), 1.0, "months must be an integer"),
        (date(9999, 12, 1), 1, "outside the supported years"),
        (date(1, 1, 1), -1, "outside the supported years"),
    ],
)
def test_add_months_refuses_bad_input(day, months, message):
    with pytest.raises(ValueError, match=message):
        add_months(day, months)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    st.integers(min_value=-120, max_value=120),
)
def test_add_months_lands_in_the_right_month_clamped(day, months):
    result = add_months(day, months)
    assert result.year * 12 + result.month == day.year * 12 + day.month + months
    assert result.day == day.day or (result.day < day.day and (result + timedelta(1)).day == 1)


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (date(2025, 1, 31), date(2026, 1, 31)),
        (date(2025, 8, 31), date(2026, 8, 31)),
        (date(2024, 2, 29), date(2025, 2, 28)),  # leap day clamps
        (date(2023, 2, 28), date(2024, 2, 28)),
        (date(2024, 12, 31), date(2025, 12, 31)),
        (date(2025, 6, 15), date(2026, 6, 15)),
    ],
)
def test_first_surveillance_due_12_months_after_decision(decision, expected):
    assert next_surveillance_due(decision) == expected
    assert next_surveillance_due(decision, None) == expected


@pytest.mark.parametrize(
    ("decision", "last", "expected"),
    [
        # min(last + 15 months, 31 Dec of the following year)
        (date(2024, 12, 31), date(2025, 12, 31), date(2026, 12, 31)),  # vs 2027-03-31
        (date(2024, 6, 1), date(2025, 1, 15), date(2026, 4, 15)),  # vs 2026-12-31
        (date(2024, 3, 1), date(2025, 1, 31), date(2026, 4, 30)),  # month-end clamp
        (date(2024, 12, 1), date(2025, 8, 31), date(2026, 11, 30)),  # Aug 31 + 15 → Nov 30
        (date(2024, 1, 1), date(2024, 2, 29), date(2025, 5, 29)),  # leap day
        (date(2023, 1, 1), date(2023, 11, 29), date(2024, 12, 31)),  # 2025-02-28 is later
        (date(2024, 1, 1), date(2024, 9, 30), date(2025, 12, 30)),  # vs 2025-12-31
        (date(2024, 1, 1), date(2024, 10, 1), date(2025, 12, 31)),  # vs 2026-01-01
        (date(2025, 3, 3), date(2025, 3, 3), date(2026, 6, 3)),  # same day as decision
    ],
)
def test_later_surveillance_due(decision, last, expected):
    assert next_surveillance_due(decision, last) == expected


def test_surveillance_before_decision_is_refused():
    with pytest.raises(ValueError, match="before the decision date"):
        next_surveillance_due(date(2025, 3, 3), date(2025, 3, 2))


@pytest.mark.parametrize(
    ("decision", "last"),
    [
        (datetime(2025, 3, 3, 9, 0), None),
        ("2025-03-03", None),
        (date(2025, 3, 3), "2025-04-01"),
        (date(2025, 3, 3), datetime(2025, 4, 1, 9, 0)),
    ],
)
def test_surveillance_due_refuses_non_dates(decision, last):
    with pytest.raises(ValueError, match="datetime.date"):
        next_surveillance_due(decision, last)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(min_value=0, max_value=800),
)
def test_later_surveillance_respects_gap_and_calendar_year(decision, offset):
    last = decision + timedelta(days=offset)
    due = next_surveillance_due(decision, last)
    assert last < due <= add_months(last, 15)
    assert due.year == last.year + 1  # a surveillance falls in the next calendar year


@pytest.mark.parametrize(
    ("audit_type", "scheme", "end", "expected"),
    [
        # ZXRZ 004 §5.10.3: 6 / 3 / 1 months
        ("initial", SCHEME_ZXRZ, date(2025, 8, 31), date(2026, 2, 28)),
        ("initial", SCHEME_ZXRZ, date(2023, 8, 31), date(2024, 2, 29)),
        ("initial", SCHEME_ZXRZ, date(2025, 3, 15), date(2025, 9, 15)),
        ("surveillance", SCHEME_ZXRZ, date(2025, 11, 30), date(2026, 2, 28)),
        ("surveillance", SCHEME_ZXRZ, date(2025, 1, 31), date(2025, 4, 30)),
        ("surveillance", SCHEME_ZXRZ, date(2025, 12, 31), date(2026, 3, 31)),
        ("recertification", SCHEME_ZXRZ, date(2025, 1, 31), date(2025, 2, 28)),
        ("recertification", SCHEME_ZXRZ, date(2024, 1, 31), date(2024, 2, 29)),
        ("recertification", SCHEME_ZXRZ, date(2025, 12, 31), date(2026, 1, 31)),
        # CAS 001 §7.5: surveillance 2 months; initial / recertification fall back to ZXRZ
        ("surveillance", SCHEME_CAS, date(2025, 12, 31), date(2026, 2, 28)),
        ("surveillance", SCHEME_CAS, date(2023, 12, 31), date(2024, 2, 29)),
        ("surveillance", SCHEME_CAS, date(2025, 8, 31), date(2025, 10, 31)),
        ("initial", SCHEME_CAS, date(2025, 8, 31), date(2026, 2, 28)),
        ("recertification", SCHEME_CAS, date(2025, 1, 31), date(2025, 2, 28)),
    ],
)
def test_major_nc_due(audit_type, scheme, end, expected):
    assert major_nc_due(audit_type, end, scheme) == expected


def test_major_nc_due_default_scheme_is_zxrz():
    assert major_nc_due("surveillance", date(2025, 1, 31)) == date(2025, 4, 30)


@pytest.mark.parametrize(
    ("audit_type", "end", "scheme", "message"),
    [
        ("special", date(2025, 1, 1), SCHEME_ZXRZ, "unknown audit type"),
        ("initial", date(2025, 1, 1), "cas", "unknown scheme"),
        ("initial", datetime(2025, 1, 1, 8, 0), SCHEME_ZXRZ, "datetime.date"),
    ],
)
def test_major_nc_due_refuses_bad_input(audit_type, end, scheme, message):
    with pytest.raises(ValueError, match=message):
        major_nc_due(audit_type, end, scheme)


# --- checks -------------------------------------------------------------------------------


def _refused(rule: str):
    return pytest.raises(ValueError, match=re.escape(rule))


@pytest.mark.parametrize(
    ("determined", "onsite"),
    [
        (D("5"), D("4")),  # exactly 80 %
        (D("5"), D("5")),
        (D("10"), D("8")),
        (D("5.5"), D("4.5")),  # 4.4 rounded up to 4.5
        (D("2.5"), D("2")),
        ("0", "0"),
    ],
)
def test_onsite_share_accepted(determined, onsite):
    assert check_onsite_share(determined, onsite) is None


@pytest.mark.parametrize(
    ("determined", "onsite"),
    [(D("5"), D("3.5")), (D("10"), D("7.5")), (D("5.5"), D("4.4")), (D("5.5"), D("4"))],
)
def test_onsite_share_refused(determined, onsite):
    with _refused("on-site share rule (004 §5.4.2.3)"):
        check_onsite_share(determined, onsite)


def test_onsite_share_refuses_onsite_above_determined():
    with _refused("004 §12.1.5"):
        check_onsite_share(D("4"), D("4.5"))


@pytest.mark.parametrize(
    ("onsite", "remote"),
    [(D("10"), D("3")), (D("5"), D("1.5")), (D("4"), D("1.2")), (D("5"), D("0")), ("1", "0.3")],
)
def test_remote_share_accepted(onsite, remote):
    assert check_remote_share(onsite, remote) is None


@pytest.mark.parametrize(
    ("onsite", "remote"),
    [(D("10"), D("3.5")), (D("5"), D("1.51")), (D("4"), D("1.5")), (D("0"), D("0.5"))],
)
def test_remote_share_refused(onsite, remote):
    with _refused("remote share rule (004 §5.4.5.3)"):
        check_remote_share(onsite, remote)


@pytest.mark.parametrize(
    ("site", "table"),
    [(D("2.5"), D("5")), (D("1.5"), D("2.5")), (D("3"), D("6")), (D("2"), D("3.5"))],
)
def test_site_onsite_accepted(site, table):
    assert check_site_onsite(site, table) is None


@pytest.mark.parametrize(
    ("site", "table"),
    [(D("2"), D("5")), (D("1.25"), D("2.5")), (D("1"), D("2.5")), (D("1.5"), D("3.5"))],
)
def test_site_onsite_refused(site, table):
    with _refused("multi-site rule (004 §5.4.3.3)"):
        check_site_onsite(site, table)


@pytest.mark.parametrize(
    ("proposed", "basic", "justification"),
    [
        (D("3.5"), D("5"), ""),  # exactly 70 %
        (D("5"), D("5"), ""),
        (D("2.5"), D("3"), ""),  # 2.1 rounded up to 2.5
        (D("2"), D("5"), "Proven record: 3 cycles, internal audits witnessed"),
        (D("1"), D("10"), "理由"),
    ],
)
def test_asrp_time_accepted(proposed, basic, justification):
    assert check_asrp_time(proposed, basic, justification) is None


@pytest.mark.parametrize(
    ("proposed", "basic", "justification"),
    [(D("3"), D("5"), ""), (D("3"), D("5"), "   \n\t"), (D("2"), D("3"), "")],
)
def test_asrp_time_refused(proposed, basic, justification):
    with _refused("ASRP time rule (000 §4.2.1)"):
        check_asrp_time(proposed, basic, justification)


def test_asrp_time_refuses_non_string_justification():
    with pytest.raises(ValueError, match="justification must be a string"):
        check_asrp_time(D("2"), D("5"), None)


@pytest.mark.parametrize(
    ("table", "total", "reason"),
    [
        (D("10"), D("7"), "low-risk scope, single shift"),  # exactly −30 %
        (D("5"), D("3.5"), "simple processes"),
        (D("6"), D("4.5"), "r"),  # 4.2 rounded up to 4.5
        (D("10"), D("10"), ""),  # no reduction, no reason needed
        (D("10"), D("12"), ""),  # an increase is not a reduction
        (D("1"), D("1"), ""),
        (D("2.5"), D("2"), "few staff"),
    ],
)
def test_reduction_accepted(table, total, reason):
    assert check_reduction(table, total, reason) is None


@pytest.mark.parametrize(
    ("table", "total", "reason"),
    [
        (D("10"), D("6.5"), "reason"),
        (D("6"), D("4"), "reason"),
        (D("2.5"), D("1.5"), "reason"),
        (D("1.5"), D("0.5"), "reason"),  # 1-day minimum
        (D("10"), D("9"), ""),  # reduction without a reason
        (D("10"), D("9"), "  "),
    ],
)
def test_reduction_refused(table, total, reason):
    with _refused("reduction rule (004 §5.4.2.3)"):
        check_reduction(table, total, reason)


@pytest.mark.parametrize(
    ("days", "audit_type", "reference", "scheme"),
    [
        (D("2"), "surveillance", D("5"), SCHEME_ZXRZ),
        (D("3.5"), "recertification", D("5"), SCHEME_ZXRZ),
        (D("7"), "initial", D("10"), SCHEME_ZXRZ),
        (D("1"), "surveillance", D("2.5"), SCHEME_ZXRZ),
        (D("3"), "surveillance", D("10"), SCHEME_CAS),
        (D("2.5"), "recertification", D("3"), SCHEME_CAS),
        (D("1"), "surveillance", D("1"), SCHEME_CAS),
    ],
)
def test_minimum_time_accepted(days, audit_type, reference, scheme):
    assert check_minimum_time(days, audit_type, reference, scheme) is None


@pytest.mark.parametrize(
    ("days", "audit_type", "reference", "scheme", "clause"),
    [
        (D("1.5"), "surveillance", D("5"), SCHEME_ZXRZ, "004 §5.7.5"),
        (D("3"), "recertification", D("5"), SCHEME_ZXRZ, "004 §5.8.5"),
        (D("6.5"), "initial", D("10"), SCHEME_ZXRZ, "004 §5.4.2.3"),
        (D("0.5"), "surveillance", D("1"), SCHEME_ZXRZ, "004 §5.7.5"),  # 1-day minimum
        (D("2.5"), "surveillance", D("10"), SCHEME_CAS, "001 §7.4"),
        (D("2"), "recertification", D("3"), SCHEME_CAS, "001 §8.2"),
        (D("6.5"), "initial", D("10"), SCHEME_CAS, "001 §6.2.3"),
    ],
)
def test_minimum_time_refused(days, audit_type, reference, scheme, clause):
    with _refused(f"minimum time rule ({clause})"):
        check_minimum_time(days, audit_type, reference, scheme)


def test_minimum_time_default_scheme_is_zxrz():
    check_minimum_time(D("2"), "surveillance", D("5"))
    with _refused("004 §5.7.5"):
        check_minimum_time(D("1.5"), "surveillance", D("5"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_onsite_share(5.0, D(4)), "determined_days"),
        (lambda: check_onsite_share(D(5), D(-1)), "onsite_days must not be negative"),
        (lambda: check_remote_share(D(5), "x"), "remote_days is not a number"),
        (lambda: check_site_onsite(None, D(5)), "site_onsite_days"),
        (lambda: check_asrp_time(D(3), True), "basic_days"),
        (lambda: check_reduction(D(0), D(0), ""), "table_days must be positive"),
        (lambda: check_reduction(D(10), D(9), None), "reason must be a string"),
        (lambda: check_minimum_time(D(2), "special", D(5)), "unknown audit type"),
        (lambda: check_minimum_time(D(2), "initial", D(5), "X"), "unknown scheme"),
        (lambda: check_minimum_time(D(-2), "initial", D(5)), "days must not be negative"),
    ],
)
def test_checks_refuse_bad_input(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# --- helpers for programmes, plans and sites (issue 3) ---------------------------------------


@pytest.mark.parametrize(
    ("determined", "least"),
    [
        (D("5.5"), D("4.5")),  # 4.4 → 4.5
        (D("3"), D("2.5")),  # 2.4 → 2.5
        (D("2.5"), D("2.0")),
        (D("1"), D("1.0")),  # 0.8 → 1.0
        (D("10"), D("8.0")),
        (D("0"), D("0.0")),
    ],
)
def test_least_onsite_days(determined, least):
    assert rules.least_onsite_days(determined) == least
    check_onsite_share(determined, least)  # the least value passes the check itself


@pytest.mark.parametrize(
    ("headcount", "audit_type", "scheme", "expected"),
    [
        (45, "initial", SCHEME_ZXRZ, D("2.0")),  # 2.5 × 80 % = 2.0
        (46, "initial", SCHEME_ZXRZ, D("2.5")),  # 3 × 80 % = 2.4 → 2.5
        (60, "surveillance", SCHEME_ZXRZ, D("1.0")),  # ⌈3/3⌉ = 1.0 → 0.8 → 1.0
        (1500, "initial", SCHEME_ZXRZ, D("10.0")),  # 12 × 80 % = 9.6 → 10
        (20, "initial", SCHEME_CAS, D("3.0")),  # CAS column is on-site time already
        (21, "surveillance", SCHEME_CAS, D("1.5")),
    ],
)
def test_table_onsite_days(headcount, audit_type, scheme, expected):
    assert rules.table_onsite_days(headcount, audit_type, scheme) == expected


@pytest.mark.parametrize(
    ("table", "least"),
    [(D("2.5"), D("1.5")), (D("2"), D("1.0")), (D("10"), D("5.0")), (D("1"), D("0.5"))],
)
def test_least_site_onsite_days(table, least):
    assert rules.least_site_onsite_days(table) == least
    check_site_onsite(least, table)  # the least value passes the check itself


def test_table_onsite_days_refuses_bad_input():
    with pytest.raises(ValueError, match="headcount"):
        rules.table_onsite_days(0)


@pytest.mark.parametrize(
    ("end", "window"),
    [
        (date(2025, 3, 12), (date(2025, 12, 12), date(2026, 3, 12))),
        (date(2025, 5, 31), (date(2026, 2, 28), date(2026, 5, 31))),  # clamped to month end
        (date(2023, 6, 30), (date(2024, 3, 30), date(2024, 6, 30))),
    ],
)
def test_cas_surveillance_window(end, window):
    assert rules.cas_surveillance_window(end) == window


@pytest.mark.parametrize(
    ("expires_on", "due"),
    [
        (date(2028, 3, 19), date(2027, 12, 19)),
        (date(2028, 5, 31), date(2028, 2, 29)),  # leap year, clamped
        (date(2027, 5, 31), date(2027, 2, 28)),
        (date(2028, 1, 15), date(2027, 10, 15)),  # across the year
    ],
)
def test_recertification_application_due(expires_on, due):
    assert rules.recertification_application_due(expires_on) == due


@pytest.mark.parametrize(
    ("stage2_end", "due"),
    [
        (date(2025, 3, 12), date(2025, 9, 12)),
        (date(2025, 8, 31), date(2026, 2, 28)),  # clamped to the month's end
        (date(2023, 8, 31), date(2024, 2, 29)),  # a leap year
        (date(2025, 12, 1), date(2026, 6, 1)),  # across the year
    ],
)
def test_initial_decision_due_is_six_calendar_months_after_stage_2(stage2_end, due):
    assert rules.initial_decision_due(stage2_end) == due


def test_initial_decision_due_refuses_a_non_date():
    with pytest.raises(ValueError):
        rules.initial_decision_due("2025-03-12")


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (date(2026, 3, 10), date(2026, 3, 7)),
        (date(2026, 3, 1), date(2026, 2, 26)),  # across the month
        (date(2026, 1, 2), date(2025, 12, 30)),  # across the year
    ],
)
def test_plan_report_due(start, due):
    assert rules.plan_report_due(start) == due


@pytest.mark.parametrize(
    ("notified", "due"),
    [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 2, 1), date(2026, 3, 3)),
        (date(2026, 12, 15), date(2027, 1, 14)),
    ],
)
def test_special_audit_due(notified, due):
    assert rules.special_audit_due(notified) == due


@pytest.mark.parametrize(
    "call",
    [
        lambda: rules.cas_surveillance_window(datetime(2025, 1, 1)),
        lambda: rules.recertification_application_due("2028-01-01"),
        lambda: rules.plan_report_due(None),
        lambda: rules.special_audit_due(datetime(2026, 1, 1)),
    ],
)
def test_date_helpers_refuse_non_dates(call):
    with pytest.raises(ValueError, match="datetime.date"):
        call()


# --- house rules ----------------------------------------------------------------------------


def test_module_has_no_django_and_public_functions_have_docstrings():
    with open(rules.__file__, encoding="utf-8") as module_file:
        source = module_file.read()
    assert "django" not in source.lower()
    assert "float(" not in source
    public = [
        getattr(rules, name)
        for name in dir(rules)
        if not name.startswith("_") and callable(getattr(rules, name))
    ]
    functions = [f for f in public if getattr(f, "__module__", None) == rules.__name__]
    assert len(functions) == 24  # add_months lives in certbody.dates
    for function in functions:
        doc = function.__doc__ or ""
        assert "ValueError" in doc or function is rules.full_time_equivalent, function
        assert re.search(r"\b00[014] |domain §", doc), function
