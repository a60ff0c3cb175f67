"""Read-only score sheet checks: who is on the scoring team, the sheet's result, its gaps and
per-part breakdown (004 §5.6.5.2–§5.6.5.3; ``audits.scoring`` holds the pure arithmetic).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from audits import scoring
from audits.catalogue import check_part_totals, part_totals
from audits.models import (
    Audit,
    Indicator,
    ScoreSheet,
)
from certbody import policy
from certbody.lifecycle import RuleViolation

_RULE_SCORING = "004 §5.6.5.2"
_RULE_RESULT = "004 §5.6.5.3"


# Audits evaluated against the checklist: the on-site audits of 004 §5.6.5 (initial stage 2),
# §5.7 (surveillance) and §5.8 (recertification). The document review scores nothing.
SCORED_KINDS = (Audit.Kind.STAGE2, Audit.Kind.SURVEILLANCE, Audit.Kind.RECERTIFICATION)


# A sheet is filled while the audit runs or before its decision closes it.
EDITABLE_AUDIT_STATES = (Audit.State.IN_PROGRESS, Audit.State.COMPLETED)


# The evaluation result on screens, in the reader's language; printed documents render inside
# ``certbody.pdf.document_language()`` and so read the Chinese of the same catalogue entries
# (``scoring.GRADES`` holds those Chinese words for the pure rules and the register).
GRADE_LABELS = {
    "fail": pgettext_lazy("evaluation result", "Fail"),
    "standard": pgettext_lazy("star grade", "Standard"),
    "three_star": gettext_lazy("Three star"),
    "four_star": gettext_lazy("Four star"),
    "five_star": gettext_lazy("Five star"),
}


def grade_label(code: str) -> str:
    """The label of an evaluation result or star grade (a key of ``scoring.GRADES``) in the
    active language, e.g. "Three star" / "三星级"; an unknown code is returned as given, ""
    for none (004 §5.6.5.3)."""
    label = GRADE_LABELS.get(code)
    return str(label) if label is not None else (code or "")


def is_team_scorer(user, audit: Audit) -> bool:
    """True when ``user`` may score ``audit``: its team leader or an auditor on its team
    (``audits.score`` in ``certbody.policy.MATRIX``).

    Trainees and technical experts are on the team but write no scoring records
    (004 §5.4.4.2; 001 §6.2.4).
    """
    return policy.allowed(user, "audits.score", audit)


def is_team_leader(user, audit: Audit) -> bool:
    """True when ``user`` leads the team of ``audit`` and so signs off its sheet
    (``audits.sign_score_sheet``, 004 §5.6.5.3)."""
    return policy.allowed(user, "audits.sign_score_sheet", audit)


def can_open(user, audit: Audit) -> bool:
    """True when ``user`` may open the sheet of ``audit``: a team scorer or the audit department."""
    return policy.allowed(user, "audits.open_score_sheet", audit)


def can_edit(user, sheet: ScoreSheet) -> bool:
    """True when ``user`` may change ``sheet`` now: a team scorer, sheet draft, audit not over."""
    return (
        sheet.state == ScoreSheet.State.DRAFT
        and sheet.audit.state in EDITABLE_AUDIT_STATES
        and is_team_scorer(user, sheet.audit)
    )


def part_total_problems(rows) -> list[str]:
    """Chinese messages for the parts whose points miss 40 / 35 / 25 (004 §5.6.5.2)."""
    rows = list(rows)
    if not check_part_totals(rows):
        return []
    totals = part_totals(rows)
    return [
        f"{scoring.PART_NAMES[part]}合计 {totals[part].normalize():f} 分，应为 {total} 分"
        for part, total in scoring.PART_TOTALS.items()
        if totals[part] != total
    ]


def _evaluate(
    items, deductions: int, bonus: bool
) -> tuple[Decimal, Decimal, scoring.Evaluation | None]:
    """(earned, applicable, evaluation) of the given items (004 §5.6.5.2 e: excluded leave both).

    The evaluation is ``None`` while an indicator is unassessed: every indicator is scored
    before there is a score (004 §5.6.5.2); earned and applicable then cover the assessed ones.
    """
    assessed = [item for item in items if item.assessed]
    applicable_items = [item for item in assessed if not item.excluded]
    earned = sum((item.points for item in applicable_items), Decimal(0))
    applicable = sum((item.indicator.max_points for item in applicable_items), Decimal(0))
    if len(assessed) < len(items):
        return earned, applicable, None
    if applicable <= 0:
        raise RuleViolation(
            _("Every indicator is excluded: no score can be computed."), f"{_RULE_SCORING} e)"
        )
    try:
        result = scoring.evaluate(earned, applicable, deductions, int(bool(bonus)))
    except ValueError as exc:
        raise RuleViolation(
            _("The score cannot be computed: %(exc)s") % {"exc": exc}, _RULE_SCORING
        ) from exc
    return earned, applicable, result


def score_sheet_result(sheet: ScoreSheet) -> scoring.Evaluation | None:
    """Recompute the result of ``sheet`` from its items, deductions and bonus without saving.

    Returns ``scoring.Evaluation`` (score as ``Decimal`` with 2 decimals, passed, grade …), or
    ``None`` while an indicator is unassessed (the sheet is incomplete, 004 §5.6.5.2).
    Raises ``RuleViolation`` when every indicator is excluded (004 §5.6.5.2 e).
    """
    items = list(sheet.items.select_related("indicator"))
    _earned, _applicable, result = _evaluate(items, sheet.deductions.count(), sheet.special_bonus)
    return result


def score_sheet_gaps(sheet: ScoreSheet) -> list[str]:
    """What keeps ``sheet`` from being signed off, in plain words (empty when nothing).

    Every indicator assessed (004 §5.6.5.2); an indicator not met, any nonconforming sample,
    each special deduction and the bonus backed by written evidence; a sampled indicator
    with at least one sample; an exclusion justified (e).
    """
    gaps = []
    items = list(sheet.items.select_related("indicator"))
    unassessed = [str(i.indicator) for i in items if not i.assessed]
    if unassessed:
        gaps.append(str(_("not assessed: %(items)s") % {"items": ", ".join(unassessed)}))
    for item in items:
        if not item.assessed:
            continue
        if item.excluded:
            if not item.exclusion_justification.strip():
                gaps.append(str(_("%(item)s: exclusion not justified") % {"item": item.indicator}))
            continue
        if item.indicator.method == Indicator.Method.SAMPLED and item.samples < 1:
            gaps.append(str(_("%(item)s: no sample checked") % {"item": item.indicator}))
        if (not item.met or item.nonconforming) and not item.evidence.strip():
            gaps.append(str(_("%(item)s: no written evidence") % {"item": item.indicator}))
    for deduction in sheet.deductions.all():
        if not deduction.description.strip():
            gaps.append(str(_("a special deduction has no written evidence")))
    if sheet.special_bonus and not sheet.bonus_justification.strip():
        gaps.append(str(_("the special bonus has no written evidence")))
    return gaps


@dataclass(frozen=True)
class PartResult:
    """One part of the checklist on a sheet, for display (004 §5.6.5.2).

    ``total``: the part's fixed points (40 / 35 / 25); ``earned`` and ``applicable``: ``Decimal``
    sums over its indicators that are not excluded; ``items``: its ``ScoreItem`` rows in order.
    """

    part: str
    name: str
    total: Decimal
    earned: Decimal
    applicable: Decimal
    items: tuple

    @property
    def excluded_points(self) -> Decimal:
        return self.total - self.applicable


def part_breakdown(sheet: ScoreSheet) -> list[PartResult]:
    """Per part of the checklist (system, goods, customer), the points earned and applicable."""
    items = list(sheet.items.select_related("indicator"))
    parts = []
    for part, total in scoring.PART_TOTALS.items():
        rows = tuple(item for item in items if item.indicator.part == part)
        applicable = [item for item in rows if not item.excluded]
        parts.append(
            PartResult(
                part=part,
                name=scoring.PART_NAMES[part],
                total=total,
                earned=sum((item.points for item in applicable), Decimal(0)),
                applicable=sum((item.indicator.max_points for item in applicable), Decimal(0)),
                items=rows,
            )
        )
    return parts
