"""Shared guards of the reporting services: checks that raise ``RuleViolation`` and change
nothing. ``report_submit`` calls them on the locked run; the run's page and preview call the
same ones through the submit action's ``precheck`` (``certbody.lifecycle.refusal``), so the
button is shown disabled with the reason (issue #14 pattern).
"""

from __future__ import annotations

from django.utils.translation import gettext, ngettext

from certbody.lifecycle import RuleViolation
from reporting import layouts
from reporting.models import ReportRun

VALIDATION_RULE = "002 §4.3.3"
SHOWN_PROBLEMS = 3


def problem_count(findings: list[dict]) -> int:
    """How many problems ``findings`` (``ReportRun.findings``, ``layouts.validate``) stand for,
    the ones beyond the stored limit (the last "more" entry) included."""
    return sum(f.get("count", 0) if f.get("code") == "more" else 1 for f in findings or [])


def describe_at(finding: dict) -> str:
    """One finding as "sheet row N, column: message"."""
    return gettext("%(sheet)s row %(row)s, %(column)s: %(message)s") % {
        "sheet": finding.get("sheet", ""),
        "row": finding.get("row", ""),
        "column": finding.get("column", ""),
        "message": layouts.describe(finding),
    }


def report_validated(run: ReportRun) -> None:
    """Refuse submitting ``run`` while the validation before download found problems
    (``ReportRun.findings``: required cells, code tables, dates in order; issue #17). The
    message gives their number and the first ones by sheet, row and column; the run can still
    be previewed and downloaded. Fix the data and regenerate (or load a layout that fits)."""
    count = problem_count(run.findings)
    if not count:
        return
    first = [describe_at(f) for f in run.findings if f.get("code") != "more"][:SHOWN_PROBLEMS]
    raise RuleViolation(
        ngettext(
            "The report has %(count)s problem; fix it and regenerate before submitting: %(first)s",
            "The report has %(count)s problems; fix them and regenerate before submitting: "
            "%(first)s",
            count,
        )
        % {"count": count, "first": gettext("; ").join(first)},
        VALIDATION_RULE,
    )


def report_submittable(run: ReportRun) -> None:
    """Refuse marking ``run`` submitted: already submitted, or validation problems
    (``report_validated``)."""
    if run.is_submitted:
        raise RuleViolation(
            gettext("“%(run)s” is already submitted.") % {"run": run}, VALIDATION_RULE
        )
    report_validated(run)
