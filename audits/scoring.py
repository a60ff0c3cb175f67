"""Service evaluation checklist scoring (服务测评检查表) under GB/T 27922.

Pure rules, no ORM: plain values in, plain values out. Points are ``Decimal`` (``int`` is
accepted on input); floats are refused everywhere because binary fractions would make a
70.00 threshold undecidable. Intermediate values are kept exact as ``fractions.Fraction``
and rounded once, to 2 decimals with ROUND_HALF_UP (5 rounds away from zero).

Clauses implemented (the seeds' own numbering):

- 004 §5.6.5.2 — 100 points: 售后服务体系 40, 商品服务 35, 顾客服务 25; a) a qualitative indicator
  not met loses all its points; b) sampled indicators lose points in proportion to the
  nonconforming samples; c) each special deduction (特别扣分项) takes 1 point outside the score;
  d) at most one special bonus (特别加分项) of 1 point; e) excluded indicators (删减) leave both
  sides: score = earned / applicable × 100.
- 004 §5.6.5.3 — fail below 70 or with 5 or more special deductions; grades 达标 ≥ 70,
  三星 ≥ 80, 四星 ≥ 90, 五星 ≥ 95. The seed's "80 分以上，五星级" is a typo for 三星级
  (domain.md §6, §20); 001 §6.5 confirms 95 for five stars and "扣分项多于5项（含）" fails.

Choices where the seeds are silent (see the docstrings):

- The special bonus is **not** capped: 100 + 1 gives 101.00. The seeds only say the bonus is
  "at most one" (004 §5.6.5.2 d); "满分为 100 分" describes the checklist's points, and the bonus
  like the deductions sits outside them ("在评分值之外").
- Special deductions may take the score below zero; it is not clamped (the result fails anyway).
- Pass/fail and the grade are decided on the reported, rounded score, so an exact 69.995 is
  reported as 70.00 and graded 达标: the report never shows a score contradicting its grade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

__all__ = [
    "GRADES",
    "GRADE_ORDER",
    "GRADE_THRESHOLDS",
    "MAX_SPECIAL_BONUS",
    "MAX_SPECIAL_DEDUCTIONS",
    "MAX_TOTAL_POINTS",
    "PART_NAMES",
    "PART_TOTALS",
    "PASS_THRESHOLD",
    "SPECIAL_POINTS",
    "Evaluation",
    "evaluate",
    "grade_for",
    "grade_rank",
    "indicator_points",
]

# 004 §5.6.5.2: the three parts of the checklist and their fixed totals.
PART_TOTALS: MappingProxyType[str, Decimal] = MappingProxyType(
    {"system": Decimal(40), "goods": Decimal(35), "customer": Decimal(25)}
)
PART_NAMES: MappingProxyType[str, str] = MappingProxyType(
    {"system": "售后服务体系", "goods": "商品服务", "customer": "顾客服务"}
)
MAX_TOTAL_POINTS = Decimal(100)

# 004 §5.6.5.3 (1), (2): 70 is the minimum; (3): at most 4 special deductions are allowed,
# so the 5th fails the evaluation whatever the score.
PASS_THRESHOLD = Decimal(70)
MAX_SPECIAL_DEDUCTIONS = 4
# 004 §5.6.5.2 c), d): each special deduction or bonus is worth exactly 1 point; one bonus at most.
SPECIAL_POINTS = 1
MAX_SPECIAL_BONUS = 1

# Lowest to highest; grade_rank() is the index in this tuple.
GRADE_ORDER: tuple[str, ...] = ("fail", "standard", "three_star", "four_star", "five_star")

GRADES: MappingProxyType[str, str] = MappingProxyType(
    {
        "fail": "不通过",
        "standard": "达标",
        "three_star": "三星级",
        "four_star": "四星级",
        "five_star": "五星级",
    }
)

# 004 §5.6.5.3 (4) a)–d), each threshold inclusive ("含"), lowest first; 80 is 三星 (domain §20).
GRADE_THRESHOLDS: MappingProxyType[str, Decimal] = MappingProxyType(
    {
        "standard": Decimal(70),
        "three_star": Decimal(80),
        "four_star": Decimal(90),
        "five_star": Decimal(95),
    }
)

_HUNDRED = Fraction(100)
_HALF = Fraction(1, 2)


@dataclass(frozen=True)
class Evaluation:
    """Result of one scored audit (004 §5.6.5.2–§5.6.5.3).

    Attributes:
        score: final score in points as ``Decimal`` with 2 decimals: earned / applicable × 100
            − special_deductions + special_bonus, computed exactly and rounded once (HALF_UP).
        passed: ``False`` when ``score`` < 70 or ``special_deductions`` >= 5.
        grade: one of ``GRADE_ORDER``; ``"fail"`` whenever ``passed`` is ``False``.
        base_score: earned / applicable × 100 before deductions and bonus, rounded to 2
            decimals (HALF_UP) for display only; ``score`` is not computed from it.
        special_deductions: number of special deductions (特别扣分项), >= 0.
        special_bonus: number of special bonuses (特别加分项), 0 or 1.
    """

    score: Decimal
    passed: bool
    grade: str
    base_score: Decimal
    special_deductions: int
    special_bonus: int

    @property
    def grade_label(self) -> str:
        """Chinese label of ``grade`` (e.g. ``"三星级"``), from ``GRADES``."""
        return GRADES[self.grade]


def _exact(value: object, name: str) -> Fraction:
    """Return ``value`` (``int`` or finite ``Decimal``) as an exact ``Fraction``.

    Raises ``ValueError`` for bool, float, str, non-finite ``Decimal`` or anything else.
    """
    # bool is an int subclass; True as "1 point" is always a caller bug.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(
            f"{name} must be an int or a Decimal (floats are not accepted), "
            f"got {type(value).__name__}: {value!r}"
        )
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return Fraction(value)


def _count(value: object, name: str) -> int:
    """Return ``value`` if it is a non-negative ``int`` (not bool), else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def _round2(value: Fraction) -> Decimal:
    """Round an exact value to 2 decimals, halves away from zero (Decimal's ROUND_HALF_UP)."""
    hundredths = math.floor(abs(value) * _HUNDRED + _HALF)
    sign = -1 if value < 0 else 1
    # Built from a string, not scaleb(): exact whatever the Decimal context's precision.
    return Decimal(f"{sign * hundredths}e-2")


def indicator_points(
    max_points: int | Decimal,
    samples: int = 0,
    nonconforming: int = 0,
    met: bool = True,
) -> Decimal:
    """Points earned on one checklist indicator (004 §5.6.5.2 a, b).

    Args:
        max_points: the indicator's points in the catalogue, ``int`` or ``Decimal`` >= 0 with at
            most 2 decimals.
        samples: number of same-type samples checked (staff, records, complaints …); 0 when the
            indicator is judged qualitatively.
        nonconforming: how many of those samples did not conform; 0 <= nonconforming <= samples.
        met: for a qualitative indicator, whether it is met; ``False`` loses all points
            (004 §5.6.5.2 a), whatever the samples say.

    Returns:
        ``Decimal`` points with 2 decimals: ``max_points`` when met and no samples;
        ``0.00`` when not met; otherwise max_points × (samples − nonconforming) / samples,
        computed exactly and rounded once to 2 decimals, ROUND_HALF_UP (10 points with 1 of 3
        samples nonconforming → 6.67).

    Raises:
        ValueError: ``max_points`` negative, a float/bool/str, or with more than 2 decimals;
            ``samples`` or ``nonconforming`` negative or not an int (bool refused);
            ``nonconforming`` > ``samples`` (including nonconforming > 0 with no samples);
            ``met`` not a bool.
    """
    points = _exact(max_points, "max_points")
    if points < 0:
        raise ValueError(f"max_points must not be negative, got {max_points}")
    # Checklist points are stored with 2 decimals; more precision would be rounded away silently
    # and break the fixed 40/35/25 part totals (004 §5.6.5.2).
    if (points * _HUNDRED).denominator != 1:
        raise ValueError(f"max_points must have at most 2 decimal places, got {max_points}")
    samples = _count(samples, "samples")
    nonconforming = _count(nonconforming, "nonconforming")
    if samples == 0 and nonconforming > 0:
        raise ValueError(
            f"nonconforming samples ({nonconforming}) given without any samples checked"
        )
    if nonconforming > samples:
        raise ValueError(f"nonconforming ({nonconforming}) must not exceed samples ({samples})")
    if not isinstance(met, bool):
        raise ValueError(f"met must be a bool, got {type(met).__name__}: {met!r}")

    if not met:
        # 004 §5.6.5.2 a): qualitative indicators lose all their points.
        return _round2(Fraction(0))
    if samples == 0:
        return _round2(points)
    # 004 §5.6.5.2 b): deduct in proportion to the nonconforming share of the samples.
    return _round2(points * (samples - nonconforming) / samples)


def grade_for(score: int | Decimal) -> str:
    """Grade reached by a score alone, ignoring special deductions (004 §5.6.5.3 (4)).

    Args:
        score: points as ``int`` or ``Decimal`` (normally the 2-decimal ``Evaluation.score``).

    Returns:
        ``"five_star"`` (>= 95), ``"four_star"`` (>= 90), ``"three_star"`` (>= 80),
        ``"standard"`` (>= 70) or ``"fail"`` (< 70). Thresholds are inclusive ("含").
        ``evaluate`` also fails 5 or more special deductions; this helper does not know them.

    Raises:
        ValueError: ``score`` is a float, bool, str or non-finite ``Decimal``.
    """
    value = _exact(score, "score")
    result = "fail"
    for grade, threshold in GRADE_THRESHOLDS.items():  # lowest threshold first
        if value >= threshold:
            result = grade
    return result


def grade_rank(grade: str) -> int:
    """Order of a grade: fail 0 < standard 1 < three_star 2 < four_star 3 < five_star 4.

    Used to see whether a surveillance result falls below the certificate's grade, which
    removes that star grade (001 §7.5; domain.md §6).

    Args:
        grade: one of ``GRADE_ORDER`` (the keys of ``GRADES``).

    Raises:
        ValueError: unknown grade.
    """
    if not isinstance(grade, str) or grade not in GRADE_ORDER:
        raise ValueError(f"unknown grade {grade!r}; expected one of {', '.join(GRADE_ORDER)}")
    return GRADE_ORDER.index(grade)


def evaluate(
    earned: int | Decimal,
    applicable: int | Decimal,
    special_deductions: int = 0,
    special_bonus: int = 0,
) -> Evaluation:
    """Score a checklist and decide pass/fail and grade (004 §5.6.5.2 c–e, §5.6.5.3).

    Args:
        earned: points earned over the applicable indicators (``int``/``Decimal``, >= 0).
        applicable: points of the applicable indicators, i.e. 100 minus excluded (删减)
            indicators (``int``/``Decimal``, > 0); 004 §5.6.5.2 e).
        special_deductions: count of special deductions, 1 point each, >= 0 (c).
        special_bonus: count of special bonuses, 0 or 1, 1 point (d).

    Returns:
        ``Evaluation``. score = earned / applicable × 100 − special_deductions + special_bonus,
        computed exactly and rounded once at the end to 2 decimals ROUND_HALF_UP (the base is
        not rounded first). The score is neither capped at 100 nor floored at 0. ``passed`` is
        ``False`` when the rounded score < 70 or special_deductions >= 5; the grade is
        ``grade_for(score)`` when passed, else ``"fail"``.

    Raises:
        ValueError: ``applicable`` <= 0; ``earned`` < 0 or > ``applicable``; either is a float,
            bool, str or non-finite ``Decimal``; ``special_deductions`` negative or not an int;
            ``special_bonus`` negative, not an int, or > 1 ("at most one special bonus").
    """
    earned_exact = _exact(earned, "earned")
    applicable_exact = _exact(applicable, "applicable")
    if applicable_exact <= 0:
        raise ValueError(f"applicable points must be greater than 0, got {applicable}")
    if earned_exact < 0:
        raise ValueError(f"earned points must not be negative, got {earned}")
    if earned_exact > applicable_exact:
        raise ValueError(
            f"earned points ({earned}) must not exceed applicable points ({applicable})"
        )
    special_deductions = _count(special_deductions, "special_deductions")
    special_bonus = _count(special_bonus, "special_bonus")
    if special_bonus > MAX_SPECIAL_BONUS:
        # 004 §5.6.5.2 d): "但该项不超过1个".
        raise ValueError(f"at most one special bonus is allowed, got {special_bonus}")

    # 004 §5.6.5.2 e): exclusions leave both numerator and denominator.
    base = earned_exact / applicable_exact * _HUNDRED
    # 004 §5.6.5.2 c), d): deductions and the bonus are applied outside the ratio.
    exact_score = base - special_deductions * SPECIAL_POINTS + special_bonus * SPECIAL_POINTS
    score = _round2(exact_score)

    # 004 §5.6.5.3 (2), (3); decided on the reported score so report and grade agree.
    passed = score >= PASS_THRESHOLD and special_deductions <= MAX_SPECIAL_DEDUCTIONS
    return Evaluation(
        score=score,
        passed=passed,
        grade=grade_for(score) if passed else "fail",
        base_score=_round2(base),
        special_deductions=special_deductions,
        special_bonus=special_bonus,
    )
