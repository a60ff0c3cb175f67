"""Audit time, multi-site sampling, surveillance and nonconformity deadlines.

Pure rules, no ORM: plain values in, plain values out. Days are ``Decimal`` auditor-days
(1 day = 8 h; ``int``, ``str`` and ``fractions.Fraction`` are accepted on input), dates are local
``datetime.date`` values (Asia/Shanghai calendar days; ``datetime`` is refused). Floats are refused
everywhere: in floats 10 × 0.7 is 7.000000000000001, which a floor would round up to 7.5, so
callers pass ``Decimal`` or ``str``. Intermediate values are exact ``Fraction`` values and are
rounded once. Bad input raises ``ValueError`` naming the problem; a broken rule raises
``ValueError`` naming the rule and its clause.

Schemes (domain.md §0): ``"ZXRZ-2025"`` (seed 004, the default) and ``"CAS"`` (seed 001).

Clauses implemented (the seeds' own numbering):

- 004 Appendix A — initial audit time by effective headcount; notes c) rounding to the nearest
  half day, e) on-site ≥ 80 %, f) surveillance ≥ 1/3, g) recertification ≥ 2/3, h) ≥ 1 day.
- 004 §5.4.2.3 / 001 §6.2.3 — reductions at most 30 % of the Appendix A time.
- 004 §5.4.3.2 sampling, §5.4.3.3 per-site time, §5.4.5.3 remote time,
  §5.4.1.5 / §5.7.3 surveillance interval, §5.7.5 / §5.8.5 surveillance / recertification time,
  §5.10.3 major nonconformity verification.
- 004 §5.8.1 recertification application 3 months before expiry, §9.2 audit plan reported to
  CNCA 3 days before the audit, §5.9.2(3) audit within 30 days of a regulator's finding.
- 001 Appendix A (three columns), §7.1 surveillance 9–12 months after the previous audit, §7.4
  surveillance ≥ 30 %, §7.5 two months for surveillance findings, §8.2 recertification ≥ 70 %.
- 000 §4.2.1 — ASRP time below 70 % of the basic time only with a justification.

Where the seeds are silent, ambiguous or disagree, domain.md decides (its §20), noted in place:

- "Not less than" rules are floors: rounded **up** to the next half day, then the 1-day minimum
  applies (domain §20). Computed proposals round to the nearest half day, halves upward.
- 001 Appendix A's recertification column is 70 % of the initial column rounded to the *nearest*
  half day (1–20: 2.1 → 2, 81–100: 4.2 → 4, 201–300: 5.6 → 5.5) and so falls below the
  001 §8.2 floor rounded *up* as domain §20 requires (2.5, 4.5, 6.0); above 1,000 people its
  +0.5 per 450 also grows slower than 70 % of +1 per 600. ``table_days`` raises such a column
  value to the floor; ``appendix_a_days`` returns the column as printed.
- 004 Appendix A says only "遵循上述递进规律递进" above 10,700 people; the progression (each band
  500 people wider than the one before) is domain §20's, configurable below.
- 001 Appendix A "1001人及以上 每增加600人 增加1人日": every *started* block counts (domain §20).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from certbody.dates import add_months

SCHEME_ZXRZ = "ZXRZ-2025"
SCHEME_CAS = "CAS"
SCHEMES = (SCHEME_ZXRZ, SCHEME_CAS)

INITIAL = "initial"
SURVEILLANCE = "surveillance"
RECERTIFICATION = "recertification"
AUDIT_TYPES = (INITIAL, SURVEILLANCE, RECERTIFICATION)

MINIMUM_DAYS = Decimal("1.0")  # 004 Appendix A note h; domain §20 applies it to every floor

# 004 Appendix A: (upper bound of effective headcount, initial audit time in days).
ZXRZ_TABLE: tuple[tuple[int, Decimal], ...] = (
    (45, Decimal("2.5")),
    (65, Decimal("3")),
    (85, Decimal("4")),
    (125, Decimal("5")),
    (175, Decimal("6")),
    (275, Decimal("7")),
    (425, Decimal("8")),
    (625, Decimal("9")),
    (875, Decimal("10")),
    (1175, Decimal("11")),
    (1550, Decimal("12")),
    (2025, Decimal("13")),
    (2675, Decimal("14")),
    (3450, Decimal("15")),
    (4350, Decimal("16")),
    (5450, Decimal("17")),
    (6800, Decimal("18")),
    (8500, Decimal("19")),
    (10700, Decimal("20")),
)
# Above the last band (domain §20): each further band is this many people wider than the one
# before (8501–10700 is 2,200 wide → 10701–13400 → 21 days, 13401–16600 → 22, …) and adds
# ZXRZ_PROGRESSION_DAYS.
ZXRZ_PROGRESSION_WIDENING = 500
ZXRZ_PROGRESSION_DAYS = Decimal("1")

# 001 Appendix A: on-site days by service-related headcount, one (upper bound, days) table per
# audit type.
CAS_TABLES: dict[str, tuple[tuple[int, Decimal], ...]] = {
    INITIAL: (
        (20, Decimal("3")),
        (50, Decimal("4")),
        (80, Decimal("5")),
        (100, Decimal("6")),
        (200, Decimal("7")),
        (300, Decimal("8")),
        (500, Decimal("9")),
        (1000, Decimal("10")),
    ),
    SURVEILLANCE: (
        (20, Decimal("1.5")),
        (50, Decimal("1.5")),
        (80, Decimal("2")),
        (100, Decimal("2")),
        (200, Decimal("2.5")),
        (300, Decimal("3")),
        (500, Decimal("3")),
        (1000, Decimal("3.5")),
    ),
    RECERTIFICATION: (
        (20, Decimal("2")),
        (50, Decimal("3")),
        (80, Decimal("3.5")),
        (100, Decimal("4")),
        (200, Decimal("5")),
        (300, Decimal("5.5")),
        (500, Decimal("6.5")),
        (1000, Decimal("7")),
    ),
}
# 001 Appendix A "1001人及以上": (people per started block above the last band, days per block).
CAS_ABOVE_TABLE: dict[str, tuple[int, Decimal]] = {
    INITIAL: (600, Decimal("1")),
    SURVEILLANCE: (900, Decimal("0.5")),
    RECERTIFICATION: (450, Decimal("0.5")),
}

# Least time as a share of the reference time, per scheme and audit type (see floor_days).
FLOOR_SHARES: dict[str, dict[str, Fraction]] = {
    SCHEME_ZXRZ: {
        INITIAL: Fraction(7, 10),  # 004 §5.4.2.3: reductions ≤ 30 % of Appendix A
        SURVEILLANCE: Fraction(1, 3),  # 004 §5.7.5, Appendix A note f
        RECERTIFICATION: Fraction(2, 3),  # 004 §5.8.5, Appendix A note g
    },
    SCHEME_CAS: {
        INITIAL: Fraction(7, 10),  # 001 §6.2.3: reductions ≤ 30 % of Appendix A
        SURVEILLANCE: Fraction(3, 10),  # 001 §7.4
        RECERTIFICATION: Fraction(7, 10),  # 001 §8.2
    },
}
_SHARE_LABELS = {
    Fraction(7, 10): "70 %",
    Fraction(3, 10): "30 %",
    Fraction(1, 3): "1/3",
    Fraction(2, 3): "2/3",
}
_FLOOR_CLAUSES = {
    SCHEME_ZXRZ: {
        INITIAL: "004 §5.4.2.3",
        SURVEILLANCE: "004 §5.7.5",
        RECERTIFICATION: "004 §5.8.5",
    },
    SCHEME_CAS: {
        INITIAL: "001 §6.2.3",
        SURVEILLANCE: "001 §7.4",
        RECERTIFICATION: "001 §8.2",
    },
}

# Calendar months allowed for verifying a major nonconformity from the audit's end.
MAJOR_NC_MONTHS: dict[str, dict[str, int]] = {
    # 004 §5.10.3: initial counted from the end of stage 2.
    SCHEME_ZXRZ: {INITIAL: 6, SURVEILLANCE: 3, RECERTIFICATION: 1},
    # 001 §7.5 gives 2 months for surveillance findings only; 001 says nothing about initial or
    # recertification deadlines (§6.6 and §8 are silent), so those use the ZXRZ values.
    SCHEME_CAS: {INITIAL: 6, SURVEILLANCE: 2, RECERTIFICATION: 1},
}

FIRST_SURVEILLANCE_MONTHS = 12  # 004 §5.7.3
SURVEILLANCE_GAP_MONTHS = 15  # 004 §5.4.1.5
CAS_SURVEILLANCE_WINDOW_MONTHS = (9, 12)  # 001 §7.1
RECERTIFICATION_APPLICATION_MONTHS = 3  # 004 §5.8.1; 001 §8.1
INITIAL_DECISION_MONTHS = 6  # 004 §5.12.3: else stage 2 is repeated
PLAN_REPORT_DAYS = 3  # 004 §9.2: audit plan to CNCA at least 3 days before the audit
REGULATOR_FINDING_AUDIT_DAYS = 30  # 004 §5.9.2(3)

ONSITE_SHARE = Fraction(4, 5)  # 004 §5.4.2.3, Appendix A note e
REMOTE_SHARE = Fraction(3, 10)  # 004 §5.4.5.3
SITE_ONSITE_SHARE = Fraction(1, 2)  # 004 §5.4.3.3
ASRP_SHARE = Fraction(7, 10)  # 000 §4.2.1
REDUCTION_FLOOR_SHARE = Fraction(7, 10)  # 004 §5.4.2.3 and 001 §6.2.3 agree

# Sampling factor c/5 for Y = (c/5)·√X (004 §5.4.3.2): 1, 0.6, 0.8.
_SAMPLE_FIFTHS = {INITIAL: 5, SURVEILLANCE: 3, RECERTIFICATION: 4}

# 250 statutory working days × 8 h: China's annual working time (劳社部发〔2008〕3号).
STANDARD_ANNUAL_HOURS = Decimal("2000")

_ONE_TENTH = Decimal("0.1")


# --- validation helpers -------------------------------------------------------------------


def _check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    return scheme


def _check_audit_type(audit_type: str) -> str:
    if audit_type not in AUDIT_TYPES:
        raise ValueError(
            f"unknown audit type {audit_type!r}; expected one of {', '.join(AUDIT_TYPES)}"
        )
    return audit_type


def _check_count(value: object, name: str) -> int:
    # bool is an int subclass; True must not pass as one person or one site.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _check_date(value: object, name: str) -> date:
    # A datetime would carry a time and maybe a time zone; rules work on local calendar days
    # (domain §19), so the caller converts with timezone.localdate() first.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a datetime.date, got {value!r}")
    return value


def _exact(value: object, name: str) -> Fraction:
    """Validate a day count and return its exact, finite, non-negative value."""
    if isinstance(value, bool | float):
        raise ValueError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, Decimal | int | str):
        try:
            number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{name} is not a number: {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        result = Fraction(number)
    else:
        raise ValueError(f"{name} must be a Decimal, int or str, got {value!r}")
    if result < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return result


def _show(value: Fraction) -> str:
    # Messages only: day counts come from decimals, so this is exact in practice.
    return f"{(Decimal(value.numerator) / Decimal(value.denominator)).normalize():f}"


def _half_days_to_decimal(half_days: int) -> Decimal:
    return (Decimal(half_days) / 2).quantize(_ONE_TENTH)


def _round_half(value: Fraction) -> Decimal:
    # Nearest half day, halves upward: floor(2v + 1/2) half days, all in integers.
    return _half_days_to_decimal(math.floor(2 * value + Fraction(1, 2)))


def _ceil_half(value: Fraction) -> Decimal:
    return _half_days_to_decimal(math.ceil(2 * value))


def _floor_at_least_one_day(value: Fraction) -> Decimal:
    # domain §20: a "not less than" rule rounds up to the half day, then the 1-day minimum.
    return max(_ceil_half(value), MINIMUM_DAYS)


def _lookup(table: Sequence[tuple[int, Decimal]], headcount: int) -> Decimal | None:
    for upper_bound, days in table:
        if headcount <= upper_bound:
            return days
    return None


# --- rounding -----------------------------------------------------------------------------


def round_half_day(days: Decimal | int | str | Fraction) -> Decimal:
    """Round a computed audit time to the nearest half day, halves upward.

    ``days``: auditor-days as ``Decimal``, ``int``, ``str`` or ``Fraction`` (exact); floats are
    refused. Returns a ``Decimal`` with one decimal place: 5.2 → 5.0, 5.25 → 5.5, 5.3 → 5.5,
    5.75 → 6.0. Raises ``ValueError`` for floats, non-numbers, NaN/infinity and negative days.

    Implements 004 Appendix A note c) (5.3 → 5.5, 5.2 → 5) with domain §20's tie rule.
    """
    return _round_half(_exact(days, "days"))


def ceil_half_day(days: Decimal | int | str | Fraction) -> Decimal:
    """Round an audit time **up** to the next half day (5.0 → 5.0, 5.01 → 5.5).

    Used for floors ("not less than …", domain §20). ``days`` as for ``round_half_day``; returns a
    ``Decimal`` with one decimal place. Raises ``ValueError`` for floats, non-numbers,
    NaN/infinity and negative days.
    """
    return _ceil_half(_exact(days, "days"))


# --- audit time ---------------------------------------------------------------------------


def _zxrz_initial_days(headcount: int) -> Decimal:
    days = _lookup(ZXRZ_TABLE, headcount)
    if days is not None:
        return days
    # domain §20 progression; the last printed band's width seeds it (10700 − 8500 = 2200).
    upper, days = ZXRZ_TABLE[-1]
    width = upper - ZXRZ_TABLE[-2][0]
    while headcount > upper:
        width += ZXRZ_PROGRESSION_WIDENING
        upper += width
        days += ZXRZ_PROGRESSION_DAYS
    return days


def _cas_column_days(headcount: int, audit_type: str) -> Decimal:
    table = CAS_TABLES[audit_type]
    days = _lookup(table, headcount)
    if days is not None:
        return days
    top, top_days = table[-1]
    block, block_days = CAS_ABOVE_TABLE[audit_type]
    started_blocks = -((top - headcount) // block)  # ceil((headcount − top) / block)
    return top_days + started_blocks * block_days


def appendix_a_days(
    headcount: int, audit_type: str = INITIAL, scheme: str = SCHEME_ZXRZ
) -> Decimal:
    """The Appendix A time as printed, before any floor is applied.

    ``headcount``: effective headcount, an ``int`` ≥ 1 (``bool`` refused). ``audit_type``: one of
    ``AUDIT_TYPES``. ``scheme``: one of ``SCHEMES``. Returns days as ``Decimal`` with one decimal
    place.

    - ZXRZ (004 Appendix A): the table gives the initial time A (total audit time); surveillance
      is max(1, ⌈A/3⌉½) and recertification max(1, ⌈2A/3⌉½) (notes f, g, h; domain §20). Above
      10,700 people the bands continue, each 500 people wider than the one before (domain §20).
    - CAS (001 Appendix A): the on-site column for the audit type; above 1,000 people each started
      block of 600 / 900 / 450 people adds 1 / 0.5 / 0.5 days (domain §20).

    Most callers want ``table_days``, which also applies the clause floors. Raises
    ``ValueError`` for a bad headcount, unknown audit type or unknown scheme.
    """
    _check_count(headcount, "headcount")
    _check_audit_type(audit_type)
    _check_scheme(scheme)
    if scheme == SCHEME_CAS:
        return _cas_column_days(headcount, audit_type).quantize(_ONE_TENTH)
    initial = _zxrz_initial_days(headcount)
    if audit_type == INITIAL:
        return initial.quantize(_ONE_TENTH)
    # 004 Appendix A notes f, g: the derived times are the floors themselves.
    return _floor_at_least_one_day(Fraction(initial) * FLOOR_SHARES[SCHEME_ZXRZ][audit_type])


def table_days(headcount: int, audit_type: str = INITIAL, scheme: str = SCHEME_ZXRZ) -> Decimal:
    """The Appendix A audit time for an effective headcount, never below the clause floor.

    ``headcount``: effective headcount, an ``int`` ≥ 1 (``bool`` and ``str`` refused); see
    ``full_time_equivalent`` for part-time staff. ``audit_type``: one of ``AUDIT_TYPES``.
    ``scheme``: one of ``SCHEMES``. Returns days as ``Decimal`` (one decimal place), a multiple of
    0.5, ≥ 1. For ZXRZ this is the total audit time, for CAS the on-site time (the two tables
    differ).

    Implements 004 Appendix A (ZXRZ) and 001 Appendix A (CAS) via ``appendix_a_days``, raised to
    ``floor_days`` of the table's initial time: 001's recertification column is 70 % rounded to
    the nearest half day and falls below 001 §8.2's floor rounded up (domain §20 wins), e.g.
    1–20 people: column 2, returned 2.5. Raises ``ValueError`` for a bad headcount, unknown audit
    type or unknown scheme.
    """
    days = appendix_a_days(headcount, audit_type, scheme)
    initial = days if audit_type == INITIAL else appendix_a_days(headcount, INITIAL, scheme)
    return max(days, floor_days(initial, audit_type, scheme))


def floor_days(
    reference_days: Decimal | int | str | Fraction, audit_type: str, scheme: str = SCHEME_ZXRZ
) -> Decimal:
    """The least audit time allowed, rounded up to a half day and never below 1 day.

    ``reference_days``: for ``"initial"`` the Appendix A (table) time; for ``"surveillance"`` and
    ``"recertification"`` the initial audit time of the cycle. Days as ``Decimal``/``int``/``str``
    (> 0). ``audit_type``: one of ``AUDIT_TYPES``; ``scheme``: one of ``SCHEMES``.

    - initial: 70 % of the table time (004 §5.4.2.3; 001 §6.2.3 — reductions ≤ 30 %);
    - surveillance: 1/3 (004 §5.7.5, Appendix A note f) or 30 % (001 §7.4) of the initial time;
    - recertification: 2/3 (004 §5.8.5, note g) or 70 % (001 §8.2) of the initial time;
    - then ⌈·⌉ to the half day and at least 1 day (004 Appendix A note h; domain §20, which also
      applies the 1-day minimum to CAS, whose seed is silent on it).

    Example: initial 5 → surveillance floor ⌈5/3⌉½ = 2.0. Raises ``ValueError`` for a bad or
    non-positive reference, unknown audit type or unknown scheme.
    """
    reference = _exact(reference_days, "reference_days")
    if reference == 0:
        raise ValueError("reference_days must be positive, got 0")
    _check_audit_type(audit_type)
    _check_scheme(scheme)
    return _floor_at_least_one_day(reference * FLOOR_SHARES[scheme][audit_type])


def table_onsite_days(
    headcount: int, audit_type: str = INITIAL, scheme: str = SCHEME_ZXRZ
) -> Decimal:
    """The Appendix A on-site time for an effective headcount (e.g. one site's people).

    ``headcount``: an ``int`` ≥ 1; ``audit_type``: one of ``AUDIT_TYPES``; ``scheme``: one of
    ``SCHEMES``. Returns days as ``Decimal`` (one decimal place):

    - ZXRZ: Appendix A gives the total audit time, of which at least 80 % is on site (004
      §5.4.2.3, Appendix A note e), so the on-site time is ``least_onsite_days(table_days(…))``;
    - CAS: 001 Appendix A already gives on-site days, so ``table_days(…)``.

    Used for the per-site floor of 004 §5.4.3.3 (``check_site_onsite``). Raises ``ValueError``
    for a bad headcount, unknown audit type or unknown scheme.
    """
    days = table_days(headcount, audit_type, scheme)
    if scheme == SCHEME_CAS:
        return days
    return least_onsite_days(days)


def full_time_equivalent(
    full_time: int,
    part_time_hours: Decimal | int | str = 0,
    standard_hours: Decimal | int | str = STANDARD_ANNUAL_HOURS,
) -> int:
    """Effective headcount with part-time and temporary staff converted by hours worked.

    ``full_time``: full-time people in scope (every shift, contractors counted), ``int`` ≥ 0.
    ``part_time_hours``: total hours worked by part-time, seasonal, temporary and subcontracted
    staff in scope over a period. ``standard_hours``: one full-time person's hours over the same
    period (> 0; default 2,000 h = a year of 250 working days × 8 h). Returns
    ``full_time + ⌈part_time_hours / standard_hours⌉`` as an ``int``; rounding up keeps the
    audit time on the safe side. The result may be 0, which ``table_days`` refuses.

    Implements 004 Appendix A notes 1–2 and domain §4.2 (001 Appendix A note 1 counts such staff
    too). Raises ``ValueError`` for a negative or non-integer ``full_time``, negative hours,
    floats, or non-positive standard hours.
    """
    if isinstance(full_time, bool) or not isinstance(full_time, int):
        raise ValueError(f"full_time must be an integer, got {full_time!r}")
    if full_time < 0:
        raise ValueError(f"full_time must not be negative, got {full_time}")
    hours = _exact(part_time_hours, "part_time_hours")
    standard = _exact(standard_hours, "standard_hours")
    if standard == 0:
        raise ValueError("standard_hours must be positive, got 0")
    return full_time + math.ceil(hours / standard)


# --- sampling -----------------------------------------------------------------------------


def sample_size(similar_sites: int, audit_type: str) -> int:
    """Minimum number of similar sites to sample.

    ``similar_sites``: X, the number of sites with the same activities, processes and risk, an
    ``int`` ≥ 1 (``bool`` refused). ``audit_type``: one of ``AUDIT_TYPES``. Returns Y rounded up:
    ⌈√X⌉ (initial), ⌈0.6·√X⌉ (surveillance), ⌈0.8·√X⌉ (recertification), at least 1.

    Implements 004 §5.4.3.2. Exact integer arithmetic: with Y ≥ (c/5)·√X and c = 5, 3, 4, the
    least Y satisfies (5Y)² ≥ c²X. Raises ``ValueError`` for X < 1, a non-integer X or an unknown
    audit type.
    """
    sites = _check_count(similar_sites, "similar_sites")
    fifths = _SAMPLE_FIFTHS[_check_audit_type(audit_type)]
    target = fifths * fifths * sites
    root = math.isqrt(target)
    if root * root < target:
        root += 1  # least integer r with r² ≥ c²X
    # 5Y is an integer, so 5Y ≥ √(c²X) ⇔ 5Y ≥ r.
    return max(1, -(-root // 5))


# --- dates --------------------------------------------------------------------------------


def next_surveillance_due(decision_date: date, last_surveillance_on: date | None = None) -> date:
    """The latest date on which the next surveillance audit may take place.

    ``decision_date``: the certification (or recertification) decision date of the cycle.
    ``last_surveillance_on``: the date of the last surveillance audit in the cycle, or ``None``
    before the first one. Both local ``datetime.date``.

    - First surveillance: within 12 months of the decision date (004 §5.7.3). 004 §5.4.1.5 counts
      from the certificate's issue instead; issue is never before the decision, so the decision
      date is the stricter and is used (domain §11, §20).
    - Later: at least once per calendar year and never more than 15 months apart (004 §5.4.1.5),
      i.e. the earlier of last + 15 months and 31 December of the following calendar year. The
      recertification year needs no surveillance; the caller plans recertification instead.

    CAS's "9–12 months after the previous audit" window (001 §7.1) is
    ``cas_surveillance_window``. Raises
    ``ValueError`` for non-dates or a last surveillance before the decision date.
    """
    _check_date(decision_date, "decision_date")
    if last_surveillance_on is None:
        return add_months(decision_date, FIRST_SURVEILLANCE_MONTHS)
    _check_date(last_surveillance_on, "last_surveillance_on")
    if last_surveillance_on < decision_date:
        raise ValueError(
            f"last_surveillance_on {last_surveillance_on.isoformat()} is before the decision "
            f"date {decision_date.isoformat()}"
        )
    return min(
        add_months(last_surveillance_on, SURVEILLANCE_GAP_MONTHS),
        date(last_surveillance_on.year + 1, 12, 31),
    )


def cas_surveillance_window(previous_audit_end: date) -> tuple[date, date]:
    """The CAS window for the next surveillance: 9 to 12 months after the previous audit.

    ``previous_audit_end``: the local date the previous audit of the cycle ended (the initial
    audit for the first surveillance, the first surveillance for the second). Returns
    ``(earliest, latest)`` calendar-month offsets, clamped to month end (domain §19).

    Implements 001 §7.1 (CAS scheme only; ZXRZ uses ``next_surveillance_due``). Raises
    ``ValueError`` for a non-date.
    """
    _check_date(previous_audit_end, "previous_audit_end")
    earliest, latest = CAS_SURVEILLANCE_WINDOW_MONTHS
    return add_months(previous_audit_end, earliest), add_months(previous_audit_end, latest)


def recertification_application_due(expires_on: date) -> date:
    """The last day for a recertification application: 3 calendar months before expiry.

    ``expires_on``: the local expiry date of the current certificate. A later application is
    handled as a new initial application (004 §5.8.1; 001 §8.1). Calendar months, clamped to
    month end (domain §19): 2028-05-31 → 2028-02-29. Raises ``ValueError`` for a non-date.
    """
    _check_date(expires_on, "expires_on")
    return add_months(expires_on, -RECERTIFICATION_APPLICATION_MONTHS)


def initial_decision_due(stage2_end: date) -> date:
    """The last day for the initial certification decision: 6 calendar months after stage 2.

    ``stage2_end``: the local last day of the stage 2 audit. A decision not made by then means
    stage 2 is carried out again (004 §5.12.3). Calendar months, clamped to month end (domain
    §19): 2025-08-31 → 2026-02-28. Raises ``ValueError`` for a non-date.
    """
    _check_date(stage2_end, "stage2_end")
    return add_months(stage2_end, INITIAL_DECISION_MONTHS)


def plan_report_due(audit_start: date) -> date:
    """The last day to report an audit plan to CNCA: 3 calendar days before the audit starts.

    ``audit_start``: the local date the audit (its first day on site) starts. Calendar days,
    not working days (the clause says 天). Implements 004 §9.2 ("至少在审核实施前 3 天").
    Raises ``ValueError`` for a non-date.
    """
    _check_date(audit_start, "audit_start")
    return audit_start - timedelta(days=PLAN_REPORT_DAYS)


def special_audit_due(notified_on: date) -> date:
    """The last day for the audit a regulator's written finding requires: 30 days after notice.

    ``notified_on``: the local date the market regulator issued its notice of a written
    nonconformity at a certified client. Implements 004 §5.9.2(3) ("30 日内", calendar days).
    Raises ``ValueError`` for a non-date.
    """
    _check_date(notified_on, "notified_on")
    return notified_on + timedelta(days=REGULATOR_FINDING_AUDIT_DAYS)


def major_nc_due(audit_type: str, audit_end: date, scheme: str = SCHEME_ZXRZ) -> date:
    """Deadline for verifying the correction of a major nonconformity.

    ``audit_type``: one of ``AUDIT_TYPES``. ``audit_end``: the local date the audit ended (for an
    initial audit, the end of stage 2). ``scheme``: one of ``SCHEMES``. Returns ``audit_end`` plus
    calendar months, clamped to month end (domain §19):

    - ZXRZ (004 §5.10.3): initial 6, surveillance 3, recertification 1 month(s);
    - CAS: surveillance 2 months (001 §7.5); 001 is silent on initial and recertification, so
      those use the ZXRZ 6 and 1 months.

    Raises ``ValueError`` for an unknown audit type or scheme, or a non-date.
    """
    _check_audit_type(audit_type)
    _check_scheme(scheme)
    _check_date(audit_end, "audit_end")
    return add_months(audit_end, MAJOR_NC_MONTHS[scheme][audit_type])


# --- checks -------------------------------------------------------------------------------


def least_onsite_days(determined_days: Decimal | int | str | Fraction) -> Decimal:
    """The least on-site time for a determined audit time: 80 %, rounded up to the half day.

    ``determined_days``: the audit time determined for the audit, as ``Decimal``/``int``/``str``
    /``Fraction`` ≥ 0. Returns days as ``Decimal`` (one decimal place): 5.5 → 4.5, 3 → 2.5,
    1 → 1.0. A floor, so rounded up (domain §20).

    Implements 004 §5.4.2.3 and Appendix A note e. Raises ``ValueError`` for bad input.
    """
    return _ceil_half(_exact(determined_days, "determined_days") * ONSITE_SHARE)


def check_onsite_share(
    determined_days: Decimal | int | str, onsite_days: Decimal | int | str
) -> None:
    """Refuse on-site time below 80 % of the determined audit time.

    ``determined_days``: the audit time determined for the audit; ``onsite_days``: its on-site
    part (opening to closing meeting, 004 §12.1.5). Days as ``Decimal``/``int``/``str`` ≥ 0. The
    80 % floor is rounded up to the half day (domain §20): determined 5.5 → on-site ≥ 4.5.

    Implements 004 §5.4.2.3 and Appendix A note e. Returns ``None``; raises ``ValueError`` naming
    the rule when on-site time is too short or exceeds the determined time, or for bad input.
    """
    determined = _exact(determined_days, "determined_days")
    onsite = _exact(onsite_days, "onsite_days")
    if onsite > determined:
        raise ValueError(
            f"on-site time {_show(onsite)} days exceeds the determined "
            f"audit time {_show(determined)} days, of which it is "
            "a part (004 §12.1.5)"
        )
    least = least_onsite_days(determined)
    if onsite < least:
        raise ValueError(
            f"on-site share rule (004 §5.4.2.3): on-site time {_show(onsite)} "
            f"days is below 80 % of the determined audit time "
            f"{_show(determined)} days; at least {least} days are needed"
        )


def check_remote_share(onsite_days: Decimal | int | str, remote_days: Decimal | int | str) -> None:
    """Refuse remote-audit time above 30 % of the on-site time.

    ``onsite_days``: on-site audit time; ``remote_days``: time audited with remote methods. Days
    as ``Decimal``/``int``/``str`` ≥ 0. The limit is a maximum, so it is applied exactly (not
    rounded): on-site 4 → remote ≤ 1.2 days.

    Implements 004 §5.4.5.3. Returns ``None``; raises ``ValueError`` naming the rule when remote
    time is too long, or for bad input.
    """
    onsite = _exact(onsite_days, "onsite_days")
    remote = _exact(remote_days, "remote_days")
    if remote > onsite * REMOTE_SHARE:
        raise ValueError(
            f"remote share rule (004 §5.4.5.3): remote time {_show(remote)} days "
            f"exceeds 30 % of the on-site time {_show(onsite)} days"
        )


def least_site_onsite_days(table_onsite_days: Decimal | int | str | Fraction) -> Decimal:
    """The least on-site time at one site: 50 % of its Appendix A on-site time, rounded up.

    ``table_onsite_days``: the site's Appendix A on-site time (``table_onsite_days``), as
    ``Decimal``/``int``/``str``/``Fraction`` ≥ 0. Returns days as ``Decimal`` (one decimal
    place): 2.5 → 1.5, 10 → 5.0. A floor, so rounded up to the half day (domain §20).

    Implements 004 §5.4.3.3. Raises ``ValueError`` for bad input.
    """
    return _ceil_half(_exact(table_onsite_days, "table_onsite_days") * SITE_ONSITE_SHARE)


def check_site_onsite(
    site_onsite_days: Decimal | int | str, table_onsite_days: Decimal | int | str
) -> None:
    """Refuse a site's on-site time below 50 % of the Appendix A on-site time.

    ``site_onsite_days``: on-site time planned at one site of a multi-site client;
    ``table_onsite_days``: the on-site time Appendix A gives for that site. Days as
    ``Decimal``/``int``/``str`` ≥ 0. The floor is rounded up to the half day (domain §20):
    table 2.5 → site ≥ 1.5.

    Implements 004 §5.4.3.3. Returns ``None``; raises ``ValueError`` naming the rule when the
    site's time is too short, or for bad input.
    """
    site = _exact(site_onsite_days, "site_onsite_days")
    table = _exact(table_onsite_days, "table_onsite_days")
    least = least_site_onsite_days(table)
    if site < least:
        raise ValueError(
            f"multi-site rule (004 §5.4.3.3): the site's on-site time "
            f"{_show(site)} days is below 50 % of the Appendix A on-site "
            f"time {_show(table)} days; at least {least} days are needed"
        )


def check_asrp_time(
    proposed_days: Decimal | int | str, basic_days: Decimal | int | str, justification: str = ""
) -> None:
    """Refuse an ASRP auditor time below 70 % of the basic time without a justification.

    ``proposed_days``: auditor time planned for an ASRP surveillance or recertification;
    ``basic_days``: the time determined by the normal procedure. Days as
    ``Decimal``/``int``/``str`` ≥ 0. ``justification``: the recorded evaluation
    ("必须对此进行合理评价"); blank or whitespace counts as none. The 70 % threshold is
    rounded up to the half day (domain §20): basic 5 → 3.5 needs no justification, 3.0 does.

    Implements 000 §4.2.1. Returns ``None``; raises ``ValueError`` naming the rule when the time
    is below 70 % and no justification is given, or for bad input.
    """
    proposed = _exact(proposed_days, "proposed_days")
    basic = _exact(basic_days, "basic_days")
    if not isinstance(justification, str):
        raise ValueError(f"justification must be a string, got {justification!r}")
    least = _ceil_half(basic * ASRP_SHARE)
    if proposed < least and not justification.strip():
        raise ValueError(
            f"ASRP time rule (000 §4.2.1): {_show(proposed)} days is below 70 % "
            f"of the basic auditor time {_show(basic)} days ({least} days) and "
            "needs a recorded justification"
        )


def check_reduction(
    table_days: Decimal | int | str, total_days: Decimal | int | str, reason: str = ""
) -> None:
    """Refuse a reduction of more than 30 % of the Appendix A time, or one without a reason.

    ``table_days``: the Appendix A time for the audit (``table_days()``); ``total_days``: the
    audit time determined. Days as ``Decimal``/``int``/``str`` ≥ 0. ``reason``: the recorded
    reason for a reduction; required (non-blank) whenever ``total_days < table_days``. The least
    time is ``floor_days(table_days, "initial")``: 70 % rounded up to the half day, ≥ 1 day — the
    same in both schemes (004 §5.4.2.3, 001 §6.2.3). Surveillance and recertification must also
    pass ``check_minimum_time`` against the initial audit time.

    Implements 004 §5.4.2.3 (001 §6.2.3). Returns ``None``; raises ``ValueError`` naming the rule
    when the reduction is too large or has no reason, or for bad input.
    """
    table = _exact(table_days, "table_days")
    total = _exact(total_days, "total_days")
    if not isinstance(reason, str):
        raise ValueError(f"reason must be a string, got {reason!r}")
    if table == 0:
        raise ValueError("table_days must be positive, got 0")
    least = _floor_at_least_one_day(table * REDUCTION_FLOOR_SHARE)
    if total < least:
        raise ValueError(
            f"reduction rule (004 §5.4.2.3): {_show(total)} days reduces the "
            f"Appendix A time {_show(table)} days by more than 30 %; at least "
            f"{least} days are needed"
        )
    if total < table and not reason.strip():
        raise ValueError(
            "reduction rule (004 §5.4.2.3): a reduction of the Appendix A time needs its reason "
            "recorded"
        )


def check_minimum_time(
    days: Decimal | int | str,
    audit_type: str,
    reference_days: Decimal | int | str,
    scheme: str = SCHEME_ZXRZ,
) -> None:
    """Refuse an audit time below ``floor_days(reference_days, audit_type, scheme)``.

    ``days``: the audit time determined (ZXRZ: total audit time; CAS: on-site time).
    ``audit_type``: one of ``AUDIT_TYPES``. ``reference_days``: the Appendix A time for an initial
    audit, the cycle's initial audit time for surveillance and recertification. ``scheme``: one
    of ``SCHEMES``. Days as ``Decimal``/``int``/``str``.

    Implements the floors of 004 §5.4.2.3, §5.7.5, §5.8.5 and Appendix A note h, or 001 §6.2.3,
    §7.4, §8.2 (with domain §20's rounding up and 1-day minimum). Returns ``None``; raises
    ``ValueError`` naming the clause when the time is too short, or for bad input.
    """
    actual = _exact(days, "days")
    reference = _exact(reference_days, "reference_days")
    least = floor_days(reference, audit_type, scheme)
    if actual < least:
        share = _SHARE_LABELS[FLOOR_SHARES[scheme][audit_type]]
        raise ValueError(
            f"minimum time rule ({_FLOOR_CLAUSES[scheme][audit_type]}): {audit_type} audit time "
            f"{_show(actual)} days is below {share} of the reference "
            f"{_show(reference)} days, rounded up to the half day and at least 1 day: at least "
            f"{least} days are needed"
        )


def recertification_is_late(received_on: date, expires_on: date) -> bool:
    """Whether a recertification application received on ``received_on`` came later than 3
    calendar months before the certificate's expiry ``expires_on`` (both local dates), so that
    it is handled as a new initial certification: initial audit time, document review and
    stage 2, a new programme (004 §5.8.1; 001 §8.1).

    Received on the last day, ``recertification_application_due(expires_on)``, is on time; a
    day later is late. Month ends clamp (domain §19): for an expiry on 2028-05-31 the last day
    is 2028-02-29. Raises ``ValueError`` for a non-date.
    """
    _check_date(received_on, "received_on")
    return received_on > recertification_application_due(expires_on)
