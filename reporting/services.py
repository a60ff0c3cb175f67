"""Write path for regulator reports, the CB's own changes and auditors' personnel records.

Keyword-only functions taking the acting user, atomic, recording the actor and reason in the
history; refusals raise ``RuleViolation``. Dates are local ``date`` values.

- ``report_generate`` builds a report (``reporting.reports``), renders it to XLSX and CSV
  (``certbody.spreadsheets``) and stores both on its ``ReportRun`` with the due date: 002 §4.3.2–
  4.3.6 for periodic reports (``reporting.periods``), 2 working days after the change for a
  status change (002 §4.3.8.3; 004 §9.4). Called by the periodic job (system user) at the start
  of each period's due window and by the reporting officer to regenerate.
- ``report_submit`` records the upload to the platform with its receipt number.
- ``layout_load`` / ``layout_activate``: the file layouts reports are written with, loaded from
  the platform's own template (``reporting.layouts``, issue #17).
- ``accreditation_change_record``, ``accreditation_plan_open``,
  ``accreditation_obligation_submit`` (``reporting.obligations``): reports owed to CNAS.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from audits.models import Auditor
from certbody import policy, roles, spreadsheets, workdays
from certbody.lifecycle import RuleViolation, fire, lock, record
from certificates.models import CertificateEvent
from reporting import layouts, periods, reports
from reporting.models import REPORT_TITLES, CbChange, PersonnelRecord, ReportLayout, ReportRun
from reporting.obligations import (  # noqa: F401  re-exported: reports owed to CNAS
    accreditation_change_record,
    accreditation_obligation_submit,
    accreditation_plan_open,
)

Kind = ReportRun.Kind
PERIODIC_KINDS = (
    Kind.ORGANISATIONS_MONTHLY,
    Kind.FAILURES_MONTHLY,
    Kind.CB_CHANGES_MONTHLY,
    Kind.STATISTICS_ANNUAL,
    Kind.AUDITORS_ANNUAL,
)
BUILDERS = {
    Kind.ORGANISATIONS_MONTHLY: reports.organisations_monthly,
    Kind.FAILURES_MONTHLY: reports.failures_monthly,
    Kind.CB_CHANGES_MONTHLY: reports.cb_changes_monthly,
    Kind.STATISTICS_ANNUAL: lambda start, end: reports.statistics_annual(start.year),
    Kind.AUDITORS_ANNUAL: lambda start, end: reports.auditors_annual(start.year),
}
STATUS_CHANGE_EVENTS = reports.STATUS_EVENTS


def build(kind: str, *, period_start: date | None = None, event: CertificateEvent | None = None):
    """The built report (``spreadsheets.Report``) of ``kind`` for a period or a status change,
    in the built-in columns."""
    if kind == Kind.STATUS_CHANGE:
        return reports.status_change(event)
    start, end = periods.period_of(kind, period_start)
    return BUILDERS[kind](start, end)


def build_with_layout(
    kind: str, *, period_start: date | None = None, event: CertificateEvent | None = None
):
    """``(report, layout, findings)``: the report of ``kind`` written through its active layout
    (``reporting.layouts``; ``layout`` None for kinds written as built) and the problems
    validation found by row and column (``layouts.validate``)."""
    layout = layouts.active(kind)
    if layout is None:
        return build(kind, period_start=period_start, event=event), None, []
    keys = layout.fields(0)
    if kind == Kind.STATUS_CHANGE:
        built = reports.status_change(event, keys=keys)
    else:
        start, end = periods.period_of(kind, period_start)
        built = reports.organisations_monthly(start, end, keys=keys)
    report = layouts.apply(built, layout)
    return report, layout, layouts.validate(report, layout)


def status_change_due(occurred_on: date) -> tuple[date, bool]:
    """``(due date, provisional)`` of a status-change report: 2 working days after the change
    (002 §4.3.8.3; 004 §9.4); provisional when a year of the span has no published calendar."""
    due = workdays.add_working_days(occurred_on, periods.STATUS_CHANGE_WORKING_DAYS)
    return due, bool(workdays.provisional_years(occurred_on, due))


def report_generate(
    *,
    kind: str,
    actor,
    period_start: date | None = None,
    event: CertificateEvent | None = None,
) -> ReportRun:
    """Build, render and store the report of ``kind``; create its run or regenerate it.

    Periodic kinds take ``period_start`` (any day of the month or year: normalised to the
    period's first day); a status change takes ``event``, a head certificate's suspension,
    restoration, withdrawal or cancellation. The run gets the period, the deadline and the
    clause; files ``<title>_<period>.xlsx`` / ``.csv`` (UTF-8 with BOM). Refused for a period
    not yet ended, a run already submitted (its files are the record of what was sent), an
    unknown kind, and users other than the reporting officer, the technical manager or the
    system user. ``reports.ReportCheckError`` from a builder is raised as a RuleViolation.
    """
    # The periodic job generates reports as the system user, which holds no role: the matrix
    # row is for people (a path the system also takes, certbody.policy.require).
    if actor.username != roles.SYSTEM_USERNAME:
        policy.require(actor, "reporting.generate_report")
    if kind not in Kind.values:
        raise RuleViolation(gettext("Unknown report kind: %(kind)s") % {"kind": kind})
    today = timezone.localdate()
    if kind == Kind.STATUS_CHANGE:
        if event is None:
            raise RuleViolation(gettext("A status change report must name the status change."))
        if event.kind not in STATUS_CHANGE_EVENTS or event.certificate.head_id is not None:
            raise RuleViolation(
                gettext(
                    "Only a head certificate's suspension, restoration, withdrawal and "
                    "cancellation are reported on their own."
                ),
                periods.STATUS_CHANGE_RULE,
            )
        start = end = event.occurred_on
        due, provisional = status_change_due(event.occurred_on)
        lookup = {"event": event}
    else:
        if period_start is None:
            raise RuleViolation(gettext("Give the report's period."))
        start, end = periods.period_of(kind, period_start)
        if end >= today:
            raise RuleViolation(
                gettext("The report period %(start)s to %(end)s has not ended yet.")
                % {"start": start, "end": end}
            )
        due, provisional = periods.due_on(kind, start), False
        lookup = {"kind": kind, "period_start": start, "event": None}
    try:
        report, layout, findings = build_with_layout(kind, period_start=start, event=event)
    except reports.ReportCheckError as exc:
        raise RuleViolation(str(exc), periods.rule_of(kind)) from None
    xlsx, csv = spreadsheets.to_xlsx(report), spreadsheets.to_csv(report)
    label = _period_label(kind, start)
    name = f"{REPORT_TITLES[kind]}_{label}"
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().filter(**lookup).first()
        if run is not None and run.is_submitted:
            raise RuleViolation(
                gettext("“%(run)s” was submitted on %(date)s: it cannot be generated again.")
                % {"run": run, "date": f"{run.submitted_at:%Y-%m-%d}"}
            )
        created = run is None
        old_files = [] if created else [run.file.name, run.csv_file.name]
        run = run or ReportRun(kind=kind, period_start=start, event=event)
        run.period_end = end
        run.rule = periods.rule_of(kind)
        run.due_on = due
        run.provisional = provisional
        run.row_count = report.row_count
        run.layout_id = layout.pk if layout else None
        run.findings = findings
        run.generated_by = actor
        run.generated_at = timezone.now()
        run.file.save(f"{name}.xlsx", ContentFile(xlsx), save=False)
        run.csv_file.save(f"{name}.csv", ContentFile(csv), save=False)
        record(run, actor=actor, reason="生成报表" if created else "重新生成报表")
        run.save()
        transaction.on_commit(lambda: _delete_files(run, old_files))
    run.problems = report.problems
    return run


def report_regenerate(*, run: ReportRun, actor) -> ReportRun:
    """Build ``run``'s report again from the current data (same rules as ``report_generate``)."""
    return report_generate(
        kind=run.kind, actor=actor, period_start=run.period_start, event=run.event
    )


def _period_label(kind: str, start: date) -> str:
    if kind == Kind.STATUS_CHANGE:
        return start.strftime("%Y%m%d")
    if kind in (Kind.STATISTICS_ANNUAL, Kind.AUDITORS_ANNUAL):
        return f"{start.year}"
    return start.strftime("%Y%m")


def download_name(run: ReportRun, fmt: str) -> str:
    """The file name a download of ``run`` gets: ``<title>_<period>.<fmt>``."""
    return f"{REPORT_TITLES[run.kind]}_{_period_label(run.kind, run.period_start)}.{fmt}"


def _delete_files(run: ReportRun, names: list[str]) -> None:
    for name in names:
        if name and name not in (run.file.name, run.csv_file.name):
            run.file.storage.delete(name)


def report_submit(
    *, run: ReportRun, actor, receipt_number: str, submitted_on: date | None = None
) -> ReportRun:
    """Mark ``run`` submitted to the platform with its receipt number (the reporting officer).

    ``submitted_on``: the upload date (default today; not in the future, not before the run was
    generated). A submission after ``due_on`` is recorded as late (``submitted_late``), not
    refused.
    """
    policy.require(actor, "reporting.submit_report", run)
    receipt_number = receipt_number.strip()
    if not receipt_number:
        raise RuleViolation(gettext("Enter the platform's receipt number."))
    today = timezone.localdate()
    submitted_on = submitted_on or today
    if submitted_on > today:
        raise RuleViolation(gettext("The submission date cannot be later than today."))
    with transaction.atomic():
        run = lock(ReportRun, run.pk)
        if submitted_on < timezone.localdate(run.generated_at):
            raise RuleViolation(
                gettext("The submission date cannot be earlier than the report's generation date.")
            )
        run.submitted_by = actor
        run.submitted_at = (
            timezone.now()
            if submitted_on == today
            else timezone.make_aware(datetime.combine(submitted_on, time(12, 0)))
        )
        run.receipt_number = receipt_number[:60]
        fire(
            run,
            "submit",
            actor=actor,
            reason=f"已报送，回执 {receipt_number}",
            fields=["submitted_by", "submitted_at", "receipt_number"],
            label="报表",
        )
    return run


# --- the CB's own changes (002 §4.3.2) --------------------------------------------------------


def cb_change_record(
    *, actor, category: int, occurred_on: date, description: str, evidence: str = ""
) -> CbChange:
    """Record a change of the CB for the monthly 认证机构信息（变更）月报 (002 §4.3.2).

    ``category``: 1–11 of 002 §4.3.2.1 (``CbChange.Category``). Every category but 7–9 needs
    ``evidence`` (002 §4.3.2.2). Refused for dates in the future.
    """
    policy.require(actor, "reporting.record_cb_change")
    if category not in CbChange.Category.values:
        raise RuleViolation(
            gettext("Unknown change category: %(category)s") % {"category": category},
            "002 §4.3.2.1",
        )
    change = CbChange(
        category=category,
        occurred_on=occurred_on,
        description=description.strip(),
        evidence=evidence.strip(),
        recorded_by=actor,
    )
    from django.core.exceptions import ValidationError

    try:
        change.full_clean()
    except ValidationError as exc:
        raise RuleViolation(gettext("; ").join(exc.messages), "002 §4.3.2.2") from None
    record(change, actor=actor, reason="登记机构变更")
    change.save()
    return change


def cb_change_correct(
    *,
    change: CbChange,
    actor,
    category: int,
    occurred_on: date,
    description: str,
    evidence: str = "",
    reason: str,
) -> CbChange:
    """Correct a recorded change of the CB (``cb_change_record``'s rules, 002 §4.3.2), with
    ``reason`` kept in its history; the monthly report generated or regenerated afterwards
    shows the corrected row. Same roles as recording it."""
    policy.require(actor, "reporting.record_cb_change", change)
    if category not in CbChange.Category.values:
        raise RuleViolation(
            gettext("Unknown change category: %(category)s") % {"category": category},
            "002 §4.3.2.1",
        )
    if not reason.strip():
        raise RuleViolation(gettext("Give the reason for the correction."))
    from django.core.exceptions import ValidationError

    with transaction.atomic():
        change = lock(CbChange, change.pk)
        change.category = category
        change.occurred_on = occurred_on
        change.description = description.strip()
        change.evidence = evidence.strip()
        try:
            change.full_clean()
        except ValidationError as exc:
            raise RuleViolation(gettext("; ").join(exc.messages), "002 §4.3.2.2") from None
        record(change, actor=actor, reason=f"更正：{reason.strip()}")
        change.save(update_fields=["category", "occurred_on", "description", "evidence"])
    return change


PERSONNEL_FIELDS = (
    "id_number",
    "gender",
    "birth_date",
    "education",
    "school",
    "major",
    "title",
    "residence",
    "duties",
    "employed_on",
    "left_on",
)


def personnel_record_save(*, auditor: Auditor, actor, **values) -> PersonnelRecord:
    """Create or update the personnel record of ``auditor`` (002 §4.3.6.1) with ``values``
    (keys among ``PERSONNEL_FIELDS``); the audit department or the reporting officer."""
    policy.require(actor, "reporting.manage_personnel", auditor)
    unknown = set(values) - set(PERSONNEL_FIELDS)
    if unknown:
        raise RuleViolation(
            gettext("Unknown personnel fields: %(fields)s")
            % {"fields": gettext(", ").join(sorted(unknown))}
        )
    from django.core.exceptions import ValidationError

    with transaction.atomic():
        row = PersonnelRecord.objects.select_for_update().filter(auditor=auditor).first()
        created = row is None
        row = row or PersonnelRecord(auditor=auditor)
        for key, value in values.items():
            if value is None and key not in ("birth_date", "employed_on", "left_on"):
                value = ""
            setattr(row, key, value)
        try:
            row.full_clean()
        except ValidationError as exc:
            raise RuleViolation(gettext("; ").join(exc.messages)) from None
        if row.left_on and row.employed_on and row.left_on < row.employed_on:
            raise RuleViolation(
                gettext("The date of leaving cannot be earlier than the date of employment.")
            )
        record(row, actor=actor, reason="登记人员信息" if created else "更新人员信息")
        row.save()
    return row


# --- report layouts (issue #17) ----------------------------------------------------------------

LAYOUT_RULE = "002 §4.3.3"


class UnknownColumns(RuleViolation):
    """A loaded template has headers no field matches: ``headers`` lists them by name."""

    def __init__(self, headers: list[str], sheets: list[dict]):
        super().__init__(
            gettext("Unknown columns in the template: %(names)s. Map each to a field.")
            % {"names": gettext(", ").join(headers)},
            LAYOUT_RULE,
        )
        self.headers = headers
        self.sheets = sheets


def layout_load(
    *,
    kind: str,
    content: bytes,
    actor,
    source_name: str = "",
    mapping: dict[str, str] | None = None,
) -> ReportLayout:
    """Load the platform's template XLSX (``content``) as the new active layout of ``kind``.

    Header cells (the header row of each sheet, ``layouts.read_template``) are matched to the
    fields of the report by header text and the synonyms (``layouts.match``); ``mapping``
    (header → field name, from the confirm page) names the fields of headers not matched, and
    becomes part of the synonyms. Refused: kinds without layouts, files that are no XLSX, a
    template with another number of sheets than the report, any header still unknown
    (``UnknownColumns``, every one by name; nothing saved) and a layout missing a required
    field (named). The new layout gets the next version and replaces the active one; the
    reporting officer only (``reporting.manage_layouts``).
    """
    policy.require(actor, "reporting.manage_layouts")
    if kind not in layouts.CATALOGUES:
        raise RuleViolation(
            gettext("Reports of this kind have no file layout: %(kind)s") % {"kind": kind}
        )
    try:
        sheets = layouts.read_template(content)
    except ValueError as exc:
        raise RuleViolation(str(exc), LAYOUT_RULE) from None
    if len(sheets) != 1:
        raise RuleViolation(
            gettext("The report has one sheet; the template has %(count)s: %(names)s.")
            % {"count": len(sheets), "names": gettext(", ").join(s["name"] for s in sheets)},
            LAYOUT_RULE,
        )
    spec, unknown = layouts.match(kind, sheets, mapping)
    if unknown:
        raise UnknownColumns(unknown, sheets)
    missing = layouts.missing_required(spec)
    if missing:
        raise RuleViolation(
            gettext("The layout lacks required fields: %(fields)s")
            % {"fields": gettext(", ").join(missing)},
            LAYOUT_RULE,
        )
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        current = list(ReportLayout.objects.select_for_update().filter(kind=kind))
        version = max((row.version for row in current), default=0) + 1
        ReportLayout.objects.filter(kind=kind, active=True).update(active=False)
        return ReportLayout.objects.create(
            kind=kind,
            version=version,
            active=True,
            spec=spec,
            source_name=source_name[:200],
            source_sha256=digest,
            loaded_by=actor,
            loaded_at=timezone.now(),
        )


def layout_activate(*, layout: ReportLayout, actor) -> ReportLayout:
    """Make ``layout`` (an earlier version) the active layout of its kind again."""
    policy.require(actor, "reporting.manage_layouts")
    with transaction.atomic():
        layout = lock(ReportLayout, layout.pk)
        ReportLayout.objects.filter(kind=layout.kind, active=True).update(active=False)
        layout.active = True
        layout.save(update_fields=["active"])
    return layout
