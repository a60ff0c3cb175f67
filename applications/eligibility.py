"""The applicant's eligibility (004 §5.1.2(3)–(7), §5.2.2(1); 001 §6.1.4) and what the CB's own
records say about it.

The application review records each condition with a note (``ApplicationReview.ELIGIBILITY``).
Some conditions are things the CB itself may have on record about the organisation: its
regulatory events (failed spot checks, major accidents), its earlier certificates (suspended
because the client was ordered to suspend business) and their withdrawals (listed as seriously
dishonest, accident caused by a violation). Those records live in the certificates app, which
this app must not import (data flows applications → audits → certificates). So the higher apps
contribute **record sources** here from their ``AppConfig.ready()``
(``register_record_source``), the way desks and jobs are contributed to ``certbody``; a
registry rather than a value passed down by a higher app's selector because the review is
recorded (and pre-filled) in this app's own service, view and form, which no higher app calls.

A record source is ``source(organization, on) -> Iterable[Finding]``: ``on`` is the local date
of the review; a finding names the condition it bears on. A **blocking** finding contradicts
the condition outright (an order to suspend business still in force): the reviewer cannot
record the condition as met. A **rebuttable** finding contradicts it unless the reviewer
records why it does not apply (004 §5.1.2(7): a failed national spot check is no bar once it
was rectified): the condition can be ticked only with a note of the reviewer's own. An
**informative** finding is shown in the note and bars nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

BLOCKING = "blocking"
REBUTTABLE = "rebuttable"
INFORMATIVE = "informative"

# Condition (a field of ApplicationReview) → (label, clause).
CONDITIONS: dict[str, tuple[str, str]] = {
    "system_operating": (
        _("The after-sales service system has operated for at least 3 months"),
        "004 §5.1.2(3)",
    ),
    "not_ordered_to_suspend": (
        _("Not ordered by a regulator to suspend business for rectification"),
        "004 §5.1.2(4); 001 §6.1.4",
    ),
    "not_seriously_dishonest": (
        _("Not on the list of seriously illegal and dishonest entities"),
        "004 §5.1.2(5); 001 §6.1.4",
    ),
    "no_major_accident": (
        _("No major accident with an order to stop production within the past year"),
        "004 §5.1.2(6)",
    ),
    "no_spot_check_failure": (
        _("No failed national spot check within the past year, or rectified"),
        "004 §5.1.2(7)",
    ),
}
# The clause an acceptance without every condition met is refused with.
ACCEPTANCE_RULE = "004 §5.2.2(1); 001 §6.1.4"


@dataclass(frozen=True)
class Finding:
    """A fact from the CB's records bearing on one eligibility condition.

    ``condition``: a key of ``CONDITIONS``; ``text``: the fact in plain words (already in the
    reader's language or lazy); ``strength``: ``BLOCKING``, ``REBUTTABLE`` or ``INFORMATIVE``.
    """

    condition: str
    text: str
    strength: str = BLOCKING

    def __post_init__(self):
        if self.condition not in CONDITIONS:
            raise ValueError(f"unknown eligibility condition {self.condition!r}")
        if self.strength not in (BLOCKING, REBUTTABLE, INFORMATIVE):
            raise ValueError(f"unknown finding strength {self.strength!r}")

    @property
    def contradicts(self) -> bool:
        return self.strength != INFORMATIVE


RecordSource = Callable[[object, date], Iterable[Finding]]
_SOURCES: list[RecordSource] = []


def register_record_source(source: RecordSource) -> RecordSource:
    """Add ``source`` (``source(organization, on) -> Iterable[Finding]``) to the sources the
    review asks; registering the same callable twice changes nothing. Returns ``source``."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def record_sources() -> list[RecordSource]:
    """The registered sources (the list itself; tests may patch it with ``monkeypatch``)."""
    return _SOURCES


def findings(organization, on: date) -> dict[str, list[Finding]]:
    """What the CB's records say about each eligibility condition of ``organization`` at the
    local date ``on``: condition → findings (every condition present, maybe empty)."""
    found: dict[str, list[Finding]] = {name: [] for name in CONDITIONS}
    for source in _SOURCES:
        for finding in source(organization, on):
            found[finding.condition].append(finding)
    return found


def prefill(found: dict[str, list[Finding]]) -> dict[str, tuple[bool, str]]:
    """The review's starting values per condition, ``(met, note)``: not met with the findings
    as the note where a record contradicts it; else not met with an empty note (the records
    cannot show that a condition holds, only that it does not)."""
    values = {}
    for name in CONDITIONS:
        lines = [str(f.text) for f in found.get(name, [])]
        values[name] = (False, "\n".join(lines))
    return values


def contradiction(
    condition: str, met: bool, note: str, found: list[Finding]
) -> tuple[str, str] | None:
    """Why ``condition`` cannot be recorded as ``met`` with ``note`` against the findings
    ``found``, as ``(the findings' text, clause)``; None when it can.

    Blocking findings bar it outright; rebuttable ones unless ``note`` says more than the
    findings themselves (the reviewer's account of the rectification). Pure, no ORM.
    """
    if not met:
        return None
    blocking = [str(f.text) for f in found if f.strength == BLOCKING]
    rebuttable = [str(f.text) for f in found if f.strength == REBUTTABLE]
    if not blocking and rebuttable:
        own = note or ""
        for text in rebuttable:
            own = own.replace(text, "")
        if own.strip():
            return None
    if blocking or rebuttable:
        return "；".join(blocking + rebuttable), CONDITIONS[condition][1]
    return None
