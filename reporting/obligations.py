"""Write path for the reports the CB owes CNAS, its accreditation body (002 §4.3.7, §4.3.8.1).

- ``accreditation_change_record``: a major change of the CB (committee, address, head of the
  CB, ownership …) decided on a date, to be reported to CNAS within 10 days of the decision
  (002 §4.3.8.1);
- ``accreditation_plan_open``: next year's annual accreditation plan, due before August
  (002 §4.3.7.2); idempotent, opened by the yearly job step (``reporting.jobs``) or on request;
- ``accreditation_obligation_submit``: the report was sent, with its reference.

Keyword-only, taking the acting user, atomic, the actor and reason kept in the history;
refusals raise ``RuleViolation`` with the clause. Dates are local ``date`` values; the due
dates come from ``reporting.periods`` (pure).
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from certbody import dates, policy
from certbody.lifecycle import RuleViolation, lock, record
from reporting import periods
from reporting.models import AccreditationObligation

__all__ = [
    "accreditation_change_record",
    "accreditation_plan_open",
    "accreditation_obligation_submit",
]

Kind = AccreditationObligation.Kind


def accreditation_change_record(
    *, actor, subject: str, occurred_on: date, note: str = ""
) -> AccreditationObligation:
    """Record a major change of the CB that CNAS must be told of (002 §4.3.8.1).

    ``subject``: what changed (committee, address, head of the CB, ownership …);
    ``occurred_on``: the date the change was decided (not in the future). The obligation is due
    10 calendar days later (``periods.cnas_change_due``): a red-header letter stating the change,
    its effect on certification and the measures taken, sent by the technical department. A
    change recorded after its deadline is recorded overdue, not refused. The reporting officer
    or the technical manager (``reporting.record_accreditation_obligation``).
    """
    policy.require(actor, "reporting.record_accreditation_obligation")
    subject = subject.strip()
    if not subject:
        raise RuleViolation(gettext("Describe the change of the CB."), periods.CNAS_CHANGE_RULE)
    if occurred_on > dates.today():
        raise RuleViolation(gettext("The date of the decision cannot be later than today."))
    obligation = AccreditationObligation(
        kind=Kind.CB_CHANGE,
        subject=subject[:300],
        occurred_on=occurred_on,
        rule=periods.CNAS_CHANGE_RULE,
        due_on=periods.cnas_change_due(occurred_on),
        note=note.strip(),
        recorded_by=actor,
    )
    record(obligation, actor=actor, reason="登记机构重大变化（报 CNAS）")
    obligation.save()
    return obligation


def accreditation_plan_open(
    *, actor, year: int | None = None, today: date | None = None
) -> AccreditationObligation:
    """The obligation to submit the annual accreditation plan (年度认可申请计划) for ``year``
    to CNAS before August of the year before (002 §4.3.7.2), created if missing.

    ``year``: the plan year, default the next year (``periods.annual_plan_year``); this year's
    or next year's only. Idempotent: asking again returns the existing row unchanged (one per
    year, a unique constraint). The reporting officer, the technical manager, or the system
    user (the yearly job step).
    """
    policy.require(actor, "reporting.record_accreditation_obligation")
    today = dates.today(today)
    year = periods.annual_plan_year(today) if year is None else year
    if not isinstance(year, int) or not today.year <= year <= today.year + 1:
        raise RuleViolation(
            gettext("The annual accreditation plan is opened for this year or the next one."),
            periods.ANNUAL_PLAN_RULE,
        )
    existing = AccreditationObligation.objects.filter(kind=Kind.ANNUAL_PLAN, year=year).first()
    if existing is not None:
        return existing
    obligation = AccreditationObligation(
        kind=Kind.ANNUAL_PLAN,
        subject=f"{year}年度认可申请计划",
        year=year,
        rule=periods.ANNUAL_PLAN_RULE,
        due_on=periods.annual_plan_due(year),
        recorded_by=actor,
    )
    record(obligation, actor=actor, reason="建立年度认可申请计划报送事项")
    try:
        with transaction.atomic():
            obligation.save()
    except IntegrityError:
        # another worker or person opened it between the look-up and the insert
        return AccreditationObligation.objects.get(kind=Kind.ANNUAL_PLAN, year=year)
    return obligation


def accreditation_obligation_submit(
    *,
    obligation: AccreditationObligation,
    actor,
    submitted_on: date,
    reference: str,
    note: str = "",
) -> AccreditationObligation:
    """Record that ``obligation`` was sent to CNAS on ``submitted_on`` with ``reference`` (the
    letter's document number or the CNAS system's receipt).

    ``submitted_on`` is not in the future and not before the change was decided; a submission
    after ``due_on`` is recorded (late), not refused. Refused when submitted already. The
    reporting officer or the technical manager
    (``reporting.submit_accreditation_obligation``; 002 §4.3.7.2, §4.3.8.1).
    """
    policy.require(actor, "reporting.submit_accreditation_obligation", obligation)
    reference = reference.strip()
    if not reference:
        raise RuleViolation(
            gettext("Enter the letter's document number or the CNAS system's receipt.")
        )
    if submitted_on > dates.today():
        raise RuleViolation(gettext("The submission date cannot be later than today."))
    with transaction.atomic():
        obligation = lock(AccreditationObligation, obligation.pk)
        if obligation.submitted_on is not None:
            raise RuleViolation(
                gettext("Submitted on %(day)s already.") % {"day": obligation.submitted_on}
            )
        if obligation.occurred_on and submitted_on < obligation.occurred_on:
            raise RuleViolation(
                gettext("A change cannot be reported before it was decided (%(day)s).")
                % {"day": obligation.occurred_on},
                obligation.rule,
            )
        obligation.submitted_on = submitted_on
        obligation.submitted_by = actor
        obligation.reference = reference[:60]
        if note.strip():
            obligation.note = "\n".join(n for n in (obligation.note, note.strip()) if n)
        record(obligation, actor=actor, reason=f"已报送 CNAS，{reference}")
        obligation.save(update_fields=["submitted_on", "submitted_by", "reference", "note"])
    return obligation
