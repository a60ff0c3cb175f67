"""认证信息上报（平台结构）: the national platform's upload structure (issue #17), three sheets
for a period (a calendar month):

- 证书信息 (certificate sheet): one row per certificate event in the period — a first issue
  (report type 01), a reissue (02) or a reissue for changed organisation information (04: name,
  address, other organisation information, organisation code; change types 01, 02, 03, 09), a
  status change (05: suspension, restoration, withdrawal, cancellation, expiry, replacement) —
  sub-certificates with their head certificate's number;
- 审核组信息 (audit-team sheet): one row per team member per audit behind those rows;
- 审核计划信息 (audit-plan sheet): one row per such audit, with the plan's CNCA report date
  (004 §9.2) and the sites it covers.

The audits behind the rows: the audit each issued certificate was granted on, the document
review (stage 1) of a first issue's programme, and every surveillance or special audit whose
maintain decision falls in the period (the certificate sheet has no row for those: the issue
lists no report type for a certificate maintained unchanged). Audit rows carry the head
certificate's number. The field names are the register builders' (``reporting.reports.register``)
wherever they fit; ``reporting.layouts`` gives the columns (``keys=``, one list per sheet).

Built from ``values()`` rows in at most seven queries whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import F, Q

from audits.models import Audit, AuditPlan, AuditTeamMember
from certbody.spreadsheets import Report, Sheet
from certificates.importer import NO, SEPARATOR, YES
from certificates.models import Certificate, CertificateEvent, Decision
from reporting import layouts
from reporting.models import REPORT_TITLES
from reporting.reports.register import (
    QUALIFICATION_LABELS,
    ROLE_LABELS,
    ROLE_ORDER,
    _certificate_cells,
    _event_cells,
    _event_values,
    _ordered,
    _scopes,
    person_name,
)

Kind = CertificateEvent.Kind

# Change types reported as an information change (04) rather than a reissue (02):
# 组织更名, 组织地址变更, 组织其它相关信息变更, 变更获证组织机构代码 (cnca_codes.json change_type).
INFORMATION_CHANGES = {"01", "02", "03", "09"}
STAGE_OF = {
    Audit.Kind.DOCUMENT_REVIEW: layouts.STAGE_1,
    Audit.Kind.STAGE2: layouts.STAGE_2,
    Audit.Kind.RECERTIFICATION: layouts.STAGE_RECERTIFICATION,
    Audit.Kind.SURVEILLANCE: layouts.STAGE_SURVEILLANCE,
    Audit.Kind.SPECIAL: layouts.STAGE_SPECIAL,
}
STAGE_ORDER = {code: n for n, code in enumerate(STAGE_OF.values())}
AUDIT_VALUES = (
    "id",
    "kind",
    "programme_id",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "planned_days",
    "time_determination__total_days",
    "plan__id",
    "plan__cnca_reported_on",
)
MEMBER_VALUES = (
    "audit_id",
    "pk",
    "role",
    "user__display_name",
    "user__first_name",
    "user__last_name",
    "user__username",
    "user__auditor_profile__registration_number",
    "user__auditor_profile__qualification",
    "user__auditor_profile__is_full_time",
)


def report_type(kind: str, change_code: str) -> str:
    """The platform report type of a certificate event (``layouts.REPORT_TYPE_*``): 01 issue,
    02 reissue, 04 information change, 05 status change."""
    if kind == Kind.ISSUED:
        return layouts.REPORT_TYPE_ISSUE
    if kind == Kind.REISSUED:
        if change_code in INFORMATION_CHANGES:
            return layouts.REPORT_TYPE_INFORMATION
        return layouts.REPORT_TYPE_REISSUE
    return layouts.REPORT_TYPE_STATUS


def default_keys() -> list[list[str]]:
    """The field names of the default layout's three sheets."""
    return [[field for field, _ in columns] for _, columns in layouts.PLATFORM_SHEETS]


def platform_upload(start: date, end: date, *, keys: list[list[str]] | None = None) -> Report:
    """The platform upload for the local dates ``start``…``end`` (a calendar month).

    ``keys``: the fields of each sheet's columns, in order (default: the default layout's,
    ``layouts.PLATFORM_SHEETS``). Sheets are empty when nothing happened. Rows are ordered by
    date and certificate number (certificate sheet) and by certificate number and stage (audit
    sheets).
    """
    keys = keys or default_keys()
    certificate_keys, team_keys, plan_keys = keys

    # 1: the period's events with their certificate, organisation and issuing audit.
    events = CertificateEvent.objects.filter(occurred_on__gte=start, occurred_on__lte=end)
    values = _event_values(
        events.order_by(
            "occurred_on", F("certificate__head_id").asc(nulls_first=True), "certificate__number"
        )
    )
    # 2: scope codes only when a column asks for them.
    scopes = {}
    if {"scope_codes", "risk"} & set(certificate_keys) and values:
        scopes = _scopes({v["c_id"] for v in values})
    certificate_rows = []
    number_of_audit: dict[int, str] = {}
    initial_programmes: dict[int, str] = {}
    for v in values:
        cells = _certificate_cells(v, scopes.get(v["c_id"], []))
        cells.update(_event_cells(v))
        cells["report_type"] = report_type(v["kind"], v["change_code"])
        certificate_rows.append(_ordered(cells, certificate_keys))
        if v["kind"] == Kind.ISSUED and v["a_id"] is not None:
            head_number = v["c_head_number"] if v["c_head_id"] else v["c_number"]
            number_of_audit.setdefault(v["a_id"], head_number)
            if v["a_kind"] == Audit.Kind.STAGE2:
                initial_programmes.setdefault(v["c_programme_id"], head_number)

    # 3–4: surveillance and special audits maintained in the period, and their programmes'
    # head certificates.
    maintained = dict(
        Decision.objects.filter(
            outcome=Decision.Outcome.MAINTAIN, decided_on__gte=start, decided_on__lte=end
        ).values_list("audit_id", "audit__programme_id")
    )
    if maintained:
        heads = dict(
            Certificate.objects.filter(programme_id__in=set(maintained.values()), head__isnull=True)
            .exclude(status=Certificate.Status.SUPERSEDED)
            .values_list("programme_id", "number")
        )
        for audit_id, programme_id in maintained.items():
            if programme_id in heads:
                number_of_audit.setdefault(audit_id, heads[programme_id])

    # 5: the audits, with the stage 1 of first issues' programmes.
    audits = []
    if number_of_audit or initial_programmes:
        found = Audit.objects.filter(
            Q(id__in=set(number_of_audit))
            | Q(programme_id__in=set(initial_programmes), kind=Audit.Kind.DOCUMENT_REVIEW)
        ).exclude(state=Audit.State.TERMINATED)
        for a in found.values(*AUDIT_VALUES):
            number = number_of_audit.get(a["id"]) or initial_programmes.get(a["programme_id"])
            audits.append((number, STAGE_OF[a["kind"]], a))
    audits.sort(key=lambda t: (t[0] or "", STAGE_ORDER[t[1]], t[2]["actual_start"] or date.min))

    # 6–7: their teams and their plans' sites.
    teams = _members({a["id"] for _, _, a in audits}) if audits else {}
    plan_ids = {a["plan__id"] for _, _, a in audits if a["plan__id"]}
    sites = _plan_sites(plan_ids) if plan_ids else {}

    team_rows, plan_rows = [], []
    for number, stage, a in audits:
        audit_start = a["actual_start"] or a["planned_start"]
        audit_end = a["actual_end"] or a["planned_end"]
        for member in teams.get(a["id"], []):
            cells = _member_cells(member)
            cells.update(
                number=number, audit_stage=stage, audit_start=audit_start, audit_end=audit_end
            )
            team_rows.append(_ordered(cells, team_keys))
        days = a["time_determination__total_days"]
        cells = {
            "number": number,
            "audit_stage": stage,
            "planned_start": a["planned_start"],
            "planned_end": a["planned_end"],
            "audit_days": days if days is not None else a["planned_days"],
            "plan_reported_on": a["plan__cnca_reported_on"],
            "sites": SEPARATOR.join(sites.get(a["plan__id"], [])),
            "audit_start": a["actual_start"],
            "audit_end": a["actual_end"],
        }
        plan_rows.append(_ordered(cells, plan_keys))

    names = [name for name, _ in layouts.PLATFORM_SHEETS]
    catalogues = layouts.PLATFORM_CATALOGUES
    return Report(
        REPORT_TITLES["platform_upload"],
        [
            Sheet(names[n], [catalogues[n].get(k, k) for k in sheet_keys], rows)
            for n, (sheet_keys, rows) in enumerate(
                zip(keys, (certificate_rows, team_rows, plan_rows), strict=True)
            )
        ],
    )


def _members(audit_ids: set[int]) -> dict[int, list[dict]]:
    """Audit id → its team members (``MEMBER_VALUES``), leader first: one query."""
    teams: dict[int, list[dict]] = defaultdict(list)
    for member in AuditTeamMember.objects.filter(audit_id__in=audit_ids).values(*MEMBER_VALUES):
        teams[member["audit_id"]].append(member)
    for team in teams.values():
        team.sort(key=lambda m: (ROLE_ORDER.get(m["role"], 9), m["pk"]))
    return teams


def _member_cells(m: dict) -> dict:
    name = person_name(
        m["user__display_name"],
        m["user__first_name"],
        m["user__last_name"],
        m["user__username"],
    )
    qualification = m["user__auditor_profile__qualification"]
    return {
        "auditor_name": name,
        "registration_number": m["user__auditor_profile__registration_number"] or "",
        "team_role": ROLE_LABELS.get(m["role"], m["role"]),
        "qualification": QUALIFICATION_LABELS.get(qualification, "") if qualification else "",
        "full_time": YES if m["user__auditor_profile__is_full_time"] else NO,
    }


def _plan_sites(plan_ids: set[int]) -> dict[int, list[str]]:
    """Plan id → the names of the sites it covers, by name: one query."""
    sites: dict[int, list[str]] = defaultdict(list)
    through = AuditPlan.sites.through.objects.filter(auditplan_id__in=plan_ids)
    for plan_id, name in through.values_list("auditplan_id", "site__name").order_by("site__name"):
        sites[plan_id].append(name)
    return sites
