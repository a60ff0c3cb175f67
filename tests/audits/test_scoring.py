"""Checklist scoring rules (004 §5.6.5.2–§5.6.5.3; 001 §6.5)."""

from dataclasses import FrozenInstanceError
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audits.scoring import (
    GRADE_ORDER,
    GRADE_THRESHOLDS,
    GRADES,
    PART_NAMES,
    PART_TOTALS,
    Evaluation,
    evaluate,
    grade_for,
    grade_rank,
    indicator_points,
)

D = Decimal


# --- constants ---------------------------------------------------------------------------


def test_part_totals_are_40_35_25_and_sum_to_100():
    assert PART_TOTALS == {"system": 40, "goods": 35, "customer": 25}
    assert all(isinstance(v, Decimal) for v in PART_TOTALS.values())
    assert sum(PART_TOTALS.values()) == 100
    assert PART_NAMES == {"system": "售后服务体系", "goods": "商品服务", "customer": "顾客服务"}


def test_grade_labels_and_thresholds():
    assert GRADES == {
        "fail": "不通过",
        "standard": "达标",
        "three_star": "三星级",
        "four_star": "四星级",
        "five_star": "五星级",
    }
    # 80 is three stars: the seed's "80 分以上，五星级" is a typo (domain.md §20).
    assert GRADE_THRESHOLDS == {"standard": 70, "three_star": 80, "four_star": 90, "five_star": 95}
    assert set(GRADE_ORDER) == set(GRADES)


# --- indicator_points --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_points", "samples", "nonconforming", "met", "expected"),
    [
        (10, 0, 0, True, "10.00"),
        (D("2.5"), 0, 0, True, "2.50"),
        (10, 0, 0, False, "0.00"),
        (10, 5, 0, False, "0.00"),
        (10, 8, 2, True, "7.50"),
        (10, 3, 1, True, "6.67"),  # 6.666… half-up
        (10, 3, 2, True, "3.33"),  # 3.333…
        (1, 8, 1, True, "0.88"),  # 0.875 exactly: the half rounds up
        (1, 8, 3, True, "0.63"),  # 0.625
        (10, 4, 4, True, "0.00"),
        (10, 4, 0, True, "10.00"),
        (0, 0, 0, True, "0.00"),
        (D("3.75"), 2, 1, True, "1.88"),  # 1.875
    ],
)
def test_indicator_points(max_points, samples, nonconforming, met, expected):
    result = indicator_points(max_points, samples, nonconforming, met)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_points": -1}, "negative"),
        ({"max_points": D("-0.01")}, "negative"),
        ({"max_points": 1.5}, "float"),
        ({"max_points": "10"}, "Decimal"),
        ({"max_points": True}, "int or a Decimal"),
        ({"max_points": D("NaN")}, "finite"),
        ({"max_points": D("Infinity")}, "finite"),
        ({"max_points": D("1.125")}, "2 decimal places"),
        ({"max_points": 10, "samples": -1}, "samples must not be negative"),
        ({"max_points": 10, "samples": 3, "nonconforming": -1}, "nonconforming must not be"),
        ({"max_points": 10, "samples": 3, "nonconforming": 4}, "must not exceed"),
        ({"max_points": 10, "samples": 0, "nonconforming": 1}, "without any samples"),
        ({"max_points": 10, "samples": True}, "samples must be an int"),
        ({"max_points": 10, "samples": 2, "nonconforming": True}, "nonconforming must be an int"),
        ({"max_points": 10, "samples": D(3)}, "samples must be an int"),
        ({"max_points": 10, "met": 1}, "met must be a bool"),
        ({"max_points": 10, "met": None}, "met must be a bool"),
    ],
)
def test_indicator_points_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        indicator_points(**kwargs)


# --- evaluate: thresholds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earned", "applicable", "score", "passed", "grade"),
    [
        (D("69.99"), 100, "69.99", False, "fail"),
        (70, 100, "70.00", True, "standard"),
        (D("79.99"), 100, "79.99", True, "standard"),
        (80, 100, "80.00", True, "three_star"),
        (D("89.99"), 100, "89.99", True, "three_star"),
        (90, 100, "90.00", True, "four_star"),
        (D("94.99"), 100, "94.99", True, "four_star"),
        (95, 100, "95.00", True, "five_star"),
        (100, 100, "100.00", True, "five_star"),
        (0, 100, "0.00", False, "fail"),
        # The same edges with exclusions (applicable 80): earned = score × 0.8 exactly.
        (D("55.992"), 80, "69.99", False, "fail"),
        (56, 80, "70.00", True, "standard"),
        (D("63.992"), 80, "79.99", True, "standard"),
        (64, 80, "80.00", True, "three_star"),
        (D("71.992"), 80, "89.99", True, "three_star"),
        (72, 80, "90.00", True, "four_star"),
        (D("75.992"), 80, "94.99", True, "four_star"),
        (76, 80, "95.00", True, "five_star"),
    ],
)
def test_grade_thresholds_are_inclusive(earned, applicable, score, passed, grade):
    result = evaluate(earned, applicable)
    assert result.score == D(score)
    assert str(result.score) == score
    assert result.passed is passed
    assert result.grade == grade


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (D("69.99"), "fail"),
        (70, "standard"),
        (D("79.99"), "standard"),
        (80, "three_star"),
        (D("89.99"), "three_star"),
        (90, "four_star"),
        (D("94.99"), "four_star"),
        (95, "five_star"),
        (D("101.00"), "five_star"),
        (D("-3"), "fail"),
    ],
)
def test_grade_for(score, grade):
    assert grade_for(score) == grade


def test_grade_is_decided_on_the_rounded_score():
    # 69.995 exactly is reported as 70.00; the report must not say "70.00, fail".
    result = evaluate(D("69.995"), 100)
    assert result.score == D("70.00")
    assert result.passed is True
    assert result.grade == "standard"


# --- evaluate: exclusions, rounding ----------------------------------------------------------


@pytest.mark.parametrize(
    ("earned", "applicable", "score", "grade"),
    [
        (60, 75, "80.00", "three_star"),  # 25 points excluded (删减)
        (60, 100, "60.00", "fail"),  # the same points without exclusions
        (2, 3, "66.67", "fail"),  # 66.666… half-up
        (1, 3, "33.33", "fail"),
        (D("0.00001"), 2, "0.00", "fail"),  # 0.0005: below the half, rounds down
        (1, 200, "0.50", "fail"),
        (D("0.01"), 200, "0.01", "fail"),  # 0.005 exactly: the half rounds up
        (D("84.5"), 90, "93.89", "four_star"),  # 93.888…
        (D("19"), 20, "95.00", "five_star"),
    ],
)
def test_exclusions_and_rounding(earned, applicable, score, grade):
    result = evaluate(earned, applicable)
    assert str(result.score) == score
    assert result.grade == grade


def test_base_score_is_kept_separately():
    result = evaluate(2, 3, special_deductions=1)
    assert result.base_score == D("66.67")
    assert result.score == D("65.67")
    assert result.special_deductions == 1
    assert result.special_bonus == 0


def test_score_is_rounded_once_at_the_end():
    # With whole-point adjustments rounding first or last only differs when the score crosses
    # zero: exact 0.005 − 1 = −0.995 → −1.00 (half away from zero), whereas rounding the base
    # first would give 0.01 − 1 = −0.99.
    result = evaluate(D("0.005"), 100, special_deductions=1)
    assert result.base_score == D("0.01")
    assert result.score == D("-1.00")


# --- evaluate: special deductions and bonus ----------------------------------------------------


@pytest.mark.parametrize(
    ("earned", "deductions", "score", "passed", "grade"),
    [
        (100, 0, "100.00", True, "five_star"),
        (100, 4, "96.00", True, "five_star"),  # 4 allowed (004 §5.6.5.3 (3))
        (100, 5, "95.00", False, "fail"),  # 5 fail even at 100
        (100, 6, "94.00", False, "fail"),
        (99, 4, "95.00", True, "five_star"),
        (98, 4, "94.00", True, "four_star"),  # deductions can cost a star
        (74, 4, "70.00", True, "standard"),
        (73, 4, "69.00", False, "fail"),  # … and the pass
        (71, 1, "70.00", True, "standard"),
        (D("70.5"), 1, "69.50", False, "fail"),
        (2, 4, "-2.00", False, "fail"),  # not floored at 0
    ],
)
def test_special_deductions(earned, deductions, score, passed, grade):
    result = evaluate(earned, 100, special_deductions=deductions)
    assert str(result.score) == score
    assert result.passed is passed
    assert result.grade == grade


@pytest.mark.parametrize(
    ("earned", "deductions", "bonus", "score", "grade"),
    [
        (D("94.5"), 0, 1, "95.50", "five_star"),
        (D("69.5"), 0, 1, "70.50", "standard"),
        (D("89"), 0, 1, "90.00", "four_star"),
        (100, 0, 1, "101.00", "five_star"),  # not capped at 100 (see module docstring)
        (95, 1, 1, "95.00", "five_star"),
        (96, 5, 1, "92.00", "fail"),  # a bonus does not offset the 5th deduction
    ],
)
def test_special_bonus(earned, deductions, bonus, score, grade):
    result = evaluate(earned, 100, special_deductions=deductions, special_bonus=bonus)
    assert str(result.score) == score
    assert result.grade == grade


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((50, 0), {}, "greater than 0"),
        ((0, -10), {}, "greater than 0"),
        ((-1, 100), {}, "must not be negative"),
        ((D("100.01"), 100), {}, "must not exceed"),
        ((60, 50), {}, "must not exceed"),
        ((50.0, 100), {}, "float"),
        ((50, 100.0), {}, "float"),
        (("50", 100), {}, "int or a Decimal"),
        ((True, 1), {}, "int or a Decimal"),
        ((None, 100), {}, "int or a Decimal"),
        ((D("NaN"), 100), {}, "finite"),
        ((50, D("Infinity")), {}, "finite"),
        ((50, 100), {"special_deductions": -1}, "special_deductions must not be negative"),
        ((50, 100), {"special_deductions": True}, "special_deductions must be an int"),
        ((50, 100), {"special_deductions": D(1)}, "special_deductions must be an int"),
        ((50, 100), {"special_bonus": 2}, "at most one special bonus"),
        ((50, 100), {"special_bonus": -1}, "special_bonus must not be negative"),
        ((50, 100), {"special_bonus": True}, "special_bonus must be an int"),
    ],
)
def test_evaluate_refuses_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluate(*args, **kwargs)


def test_evaluation_is_frozen_and_labelled():
    result = evaluate(85, 100)
    assert isinstance(result, Evaluation)
    assert result.grade_label == "三星级"
    assert evaluate(10, 100).grade_label == "不通过"
    with pytest.raises(FrozenInstanceError):
        result.score = D(100)  # type: ignore[misc]


# --- grade_rank --------------------------------------------------------------------------


def test_grade_rank_orders_grades():
    ranks = [grade_rank(g) for g in ("fail", "standard", "three_star", "four_star", "five_star")]
    assert ranks == [0, 1, 2, 3, 4]
    # A surveillance result below the certificate's grade (001 §7.5).
    assert grade_rank(evaluate(92, 100).grade) < grade_rank("five_star")


@pytest.mark.parametrize("grade", ["", "FIVE_STAR", "six_star", "达标", None, 3])
def test_grade_rank_refuses_unknown_grades(grade):
    with pytest.raises(ValueError, match="unknown grade"):
        grade_rank(grade)


@pytest.mark.parametrize("score", [70.0, "70", True, None, D("NaN")])
def test_grade_for_refuses_bad_input(score):
    with pytest.raises(ValueError):
        grade_for(score)


# --- properties --------------------------------------------------------------------------

points = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)


def _quantized(value: Fraction) -> Decimal:
    """Independent oracle: Decimal's own ROUND_HALF_UP at 100 significant digits.

    The inputs have at most 3 decimals, so denominators are small: a value is either exactly on
    a half (a terminating decimal, represented exactly) or far from it at 100 digits.
    """
    with localcontext() as ctx:
        ctx.prec = 100
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@st.composite
def checklists(draw):
    applicable = draw(points.filter(lambda p: p > 0))
    earned = draw(st.decimals(min_value=0, max_value=applicable, places=3, allow_nan=False))
    deductions = draw(st.integers(min_value=0, max_value=8))
    bonus = draw(st.integers(min_value=0, max_value=1))
    return earned, applicable, deductions, bonus


@given(checklists())
def test_score_equals_the_quantized_exact_formula(checklist):
    earned, applicable, deductions, bonus = checklist
    result = evaluate(earned, applicable, special_deductions=deductions, special_bonus=bonus)
    exact = Fraction(earned) / Fraction(applicable) * 100 - deductions + bonus
    assert result.score == _quantized(exact)
    assert result.score.as_tuple().exponent == -2
    assert result.passed == (result.score >= 70 and deductions < 5)
    assert result.grade == (grade_for(result.score) if result.passed else "fail")


@given(
    st.decimals(min_value=-10, max_value=110, places=2, allow_nan=False),
    st.decimals(min_value=-10, max_value=110, places=2, allow_nan=False),
)
def test_grade_is_monotonic_in_score(a, b):
    low, high = min(a, b), max(a, b)
    assert grade_rank(grade_for(low)) <= grade_rank(grade_for(high))


@given(checklists(), st.decimals(min_value=0, max_value=10, places=3, allow_nan=False))
def test_more_points_never_lower_the_grade(checklist, extra):
    earned, applicable, deductions, bonus = checklist
    more = min(earned + extra, applicable)
    before = evaluate(earned, applicable, deductions, bonus)
    after = evaluate(more, applicable, deductions, bonus)
    assert after.score >= before.score
    assert grade_rank(after.grade) >= grade_rank(before.grade)


@given(
    st.decimals(min_value=0, max_value=40, places=2, allow_nan=False),
    st.integers(min_value=1, max_value=50),
    st.data(),
)
def test_proportional_points_stay_within_bounds(max_points, samples, data):
    nonconforming = data.draw(st.integers(min_value=0, max_value=samples))
    result = indicator_points(max_points, samples, nonconforming)
    exact = Fraction(max_points) * (samples - nonconforming) / samples
    assert result == _quantized(exact)
    assert D(0) <= result <= max_points
