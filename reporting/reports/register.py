"""The certificate register reports: 获证组织基本信息月报, the whole register, a status change;
and the monthly 初评/再认证审核未通过 and 认证机构信息（变更） reports (see
``reporting.reports``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
)

from audits.models import Audit, Auditor, AuditTeamMember
from certbody.models import CertificationBody
from certbody.reference import read_json
from certbody.spreadsheets import Report, Sheet
from certificates.importer import (  # the register's format
    ACTIVITY_CHANGE,
    ACTIVITY_INITIAL,
    ACTIVITY_RECERT,
    ACTIVITY_SURVEILLANCE,
    GRADE_LABELS,
    KEYS,
    MARK_LABELS,
    NO,
    REGISTER_HEADERS,
    SEPARATOR,
    YES,
)
from certificates.models import (
    Appeal,
    Certificate,
    CertificateEvent,
    Decision,
    RegulatoryEvent,
)
from reporting.models import REPORT_TITLES, CbChange

Kind = CertificateEvent.Kind


def _each(mask: Callable[[str | None], str]) -> Callable[[str | None], str]:
    """``mask`` applied to every member's value of a team cell (joined by ``SEPARATOR``)."""

    def masked(value: str | None) -> str:
        return SEPARATOR.join(mask(part) for part in str(value or "").split(SEPARATOR))

    return masked


COUNTRY_CODE_CHINA = read_json("cnca_codes.json")["country_code_china"]  # 156
FIELD_CODE = "SC03"  # certification field: 批发业和零售业服务认证
RISK_LABELS = {"low": "低", "medium": "中", "high": "高"}
RISK_ORDER = {"low": 0, "medium": 1, "high": 2}
QUALIFICATION_LABELS = {
    Auditor.Qualification.SENIOR_AUDITOR: "高级审查员",
    Auditor.Qualification.AUDITOR: "审查员",
    Auditor.Qualification.TRAINEE: "实习审查员",
    Auditor.Qualification.TECHNICAL_EXPERT: "技术专家",
}
ROLE_LABELS = {
    AuditTeamMember.Role.LEADER: "组长",
    AuditTeamMember.Role.AUDITOR: "组员",
    AuditTeamMember.Role.TRAINEE: "实习审查员",
    AuditTeamMember.Role.EXPERT: "技术专家",
}
ROLE_ORDER = {role: n for n, role in enumerate(ROLE_LABELS)}


def person_name(display: str, first: str, last: str, username: str) -> str:
    """The name a report prints for a person from their user columns: the display name, else
    first and last name, else the user name."""
    return display or f"{first} {last}".strip() or username


STATUS_EVENTS = (Kind.SUSPENDED, Kind.RESTORED, Kind.WITHDRAWN, Kind.CANCELLED)


class ReportCheckError(ValueError):
    """A built report fails one of the platform's consistency rules (e.g. 002 §4.3.5.2 4)."""


# --- shared helpers -------------------------------------------------------------------------


# Rows are built from ``values()`` dictionaries, never model instances: a month of 100,000
# certificates is a few thousand rows whose cells come from 7 queries (issue #16).
# Certificate (and its organisation) columns read, alias → path from the certificate.
CERTIFICATE_VALUES = {
    "c_id": "id",
    "c_org_name": "organization_name",
    "c_address": "registered_address",
    "c_accreditation": "accreditation",
    "c_number": "number",
    "c_head_id": "head_id",
    "c_head_number": "head__number",
    "c_scope_text": "scope_text",
    "c_standard": "standard",
    "c_grade": "star_grade",
    "c_issued_on": "issued_on",
    "c_expires_on": "expires_on",
    "c_cycle": "cycle",
    "c_status": "status",
    "c_programme_id": "programme_id",
    "o_name_en": "organization__name_en",
    "o_former_name": "organization__former_name",
    "o_uscc": "organization__uscc",
    "o_industry": "organization__industry",
    "o_division": "organization__division_code",
    "o_postcode": "organization__postcode",
    "o_phone": "organization__contact_phone",
    "o_contact": "organization__contact_name",
    "o_legal_rep": "organization__legal_representative",
    "o_headcount": "organization__headcount",
}
# Audit columns read, alias → path from the audit.
AUDIT_VALUES = {
    "a_id": "id",
    "a_kind": "kind",
    "a_sequence": "sequence",
    "a_start": "actual_start",
    "a_end": "actual_end",
    "a_planned_days": "planned_days",
    "a_days": "time_determination__total_days",
}
TEAM_VALUES = (
    "audit_id",
    "pk",
    "role",
    "user__display_name",
    "user__first_name",
    "user__last_name",
    "user__username",
    "user__auditor_profile__id",
    "user__auditor_profile__qualification",
    "user__auditor_profile__is_full_time",
    "user__auditor_profile__personnel_record__id_number",
)


def _related(obj, name):
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def _audit_type(kind: str, sequence: int) -> str:
    if kind == Audit.Kind.SURVEILLANCE:
        return f"1004-{min(max(sequence, 1), 3)}"
    return {
        Audit.Kind.DOCUMENT_REVIEW: "1002",
        Audit.Kind.STAGE2: "1003",
        Audit.Kind.RECERTIFICATION: "1007",
        Audit.Kind.SPECIAL: "1009",
    }[kind]


def audit_type_code(audit: Audit) -> str:
    """The CNCA audit type code of an audit (cnca_codes.json "audit_type")."""
    return _audit_type(audit.kind, audit.sequence)


def audit_days(audit: Audit) -> Decimal | None:
    """The determined audit time (auditor-days), or the planned one without a determination."""
    determination = _related(audit, "time_determination")
    return determination.total_days if determination is not None else audit.planned_days


def _paths(prefix: str, columns: dict[str, str]) -> dict:
    return {alias: F(f"{prefix}{path}") for alias, path in columns.items()}


def _teams(audit_ids) -> dict[int, list[tuple]]:
    """Audit id → its team members' ``TEAM_VALUES`` tuples, leader first (role order, then
    pk); ``audit_ids`` a subquery or a set of ids."""
    teams: dict[int, list[tuple]] = defaultdict(list)
    members = AuditTeamMember.objects.filter(audit_id__in=audit_ids).order_by("pk")
    for member in members.values_list(*TEAM_VALUES):
        teams[member[0]].append(member)
    for team in teams.values():
        team.sort(key=lambda m: (ROLE_ORDER.get(m[2], 9), m[1]))
    return teams


def _scopes(certificate_ids) -> dict[int, list[tuple[int, str]]]:
    """Certificate id → its business scopes ``(code, risk)`` by code; ids a subquery or a
    set of ids."""
    scopes: dict[int, list[tuple[int, str]]] = defaultdict(list)
    through = Certificate.business_scopes.through.objects.filter(certificate_id__in=certificate_ids)
    for certificate_id, code, risk in through.values_list(
        "certificate_id", "businessscope__code", "businessscope__risk"
    ):
        scopes[certificate_id].append((code, risk))
    for found in scopes.values():
        found.sort()
    return scopes


def _team_cells(members: list[tuple], problems: set[str]) -> dict[str, str]:
    names, ids, qualifications, roles, full_time = [], [], [], [], []
    for (
        _a,
        _pk,
        role,
        display,
        first,
        last,
        username,
        profile,
        qualification,
        is_full_time,
        id_number,
    ) in members:
        name = person_name(display, first, last, username)
        names.append(name)
        ids.append(id_number or "")
        if not id_number:
            problems.add(f"审核人员“{name}”未登记身份证件号码")
        qualifications.append(QUALIFICATION_LABELS.get(qualification, "") if profile else "")
        roles.append(ROLE_LABELS.get(role, role))
        full_time.append(YES if profile and is_full_time else NO)
    return {
        "team_names": SEPARATOR.join(names),
        "team_ids": SEPARATOR.join(ids),
        "team_qualifications": SEPARATOR.join(qualifications),
        "team_roles": SEPARATOR.join(roles),
        "team_full_time": SEPARATOR.join(full_time),
    }


def _certificate_cells(v: dict, scopes: list[tuple[int, str]]) -> dict:
    head_id = v["c_head_id"]
    risk = max((r for _, r in scopes), key=lambda r: RISK_ORDER.get(r, 0), default="")
    return {
        "org_name": v["c_org_name"],
        "org_name_en": v["o_name_en"],
        "org_former_name": v["o_former_name"],
        "uscc": v["o_uscc"],
        "industry": v["o_industry"],
        "country": COUNTRY_CODE_CHINA,
        "division": v["o_division"],
        "address": v["c_address"],
        "postcode": v["o_postcode"],
        "phone": v["o_phone"],
        "contact_name": v["o_contact"],
        "legal_rep": v["o_legal_rep"],
        "headcount": v["o_headcount"],
        "mark": MARK_LABELS.get(v["c_accreditation"], v["c_accreditation"]),
        "number": v["c_number"],
        "is_sub": YES if head_id else NO,
        "head_number": v["c_head_number"] if head_id else "",
        "multi_site": YES if head_id or v["c_has_subs"] else NO,
        "field": FIELD_CODE,
        "scope_text": v["c_scope_text"],
        "standard": v["c_standard"],
        "grade": GRADE_LABELS.get(v["c_grade"], v["c_grade"]),
        "issued_on": v["c_issued_on"],
        "expires_on": v["c_expires_on"],
        "scope_codes": SEPARATOR.join(f"{code:02d}" for code, _ in scopes),
        "risk": RISK_LABELS.get(risk, risk),
    }


def _audit_cells(v: dict) -> dict:
    days = v["a_days"]
    return {
        "audit_type": _audit_type(v["a_kind"], v["a_sequence"]),
        "audit_days": days if days is not None else v["a_planned_days"],
        "audit_start": v["a_start"],
        "audit_end": v["a_end"],
    }


def _event_cells(v: dict) -> dict:
    kind = v["kind"]
    cells = {
        "change_type": v["change_code"],
        "change_date": v["occurred_on"],
        "status": v["status_code"],
        "reissued": NO,
    }
    if kind == Kind.ISSUED:
        cells["activity"] = ACTIVITY_RECERT if v["c_cycle"] else ACTIVITY_INITIAL
    else:
        cells["activity"] = ACTIVITY_CHANGE
    if kind == Kind.SUSPENDED:
        cells.update(
            suspension_reason=v["reason_code"],
            suspended_from=v["occurred_on"],
            suspended_until=v["ends_on"],
        )
    elif kind in (Kind.WITHDRAWN, Kind.SUPERSEDED):
        cells.update(withdrawal_reason=v["reason_code"], withdrawn_on=v["occurred_on"])
    elif kind == Kind.CANCELLED:
        cells.update(cancellation_reason=v["reason_code"], cancelled_on=v["occurred_on"])
    elif kind == Kind.EXPIRED:
        cells["cancellation_reason"] = v["reason_code"]
    elif kind == Kind.REISSUED:
        cells.update(reissued=YES, reissue_reason=v["reason_code"], reissued_on=v["occurred_on"])
    return cells


def _ordered(cells: dict, keys: list[str]) -> list:
    return [cells.get(key) for key in keys]


def _has_subs(outer: str = "pk"):
    return Exists(Certificate.objects.filter(head_id=OuterRef(outer)))


def _event_values(events) -> list[dict]:
    """The ``events`` queryset (ordered) as dictionaries with their certificate, organisation
    and issuing audit (``CERTIFICATE_VALUES``, ``AUDIT_VALUES``): one query."""
    return list(
        events.values(
            "kind",
            "occurred_on",
            "status_code",
            "change_code",
            "reason_code",
            "ends_on",
            **_paths("certificate__", CERTIFICATE_VALUES),
            **_paths("certificate__decision__audit__", AUDIT_VALUES),
            c_has_subs=_has_subs("certificate_id"),
        )
    )


def _event_rows(values, scopes, teams, problems: set[str], keys: list[str]) -> list[list]:
    """Rows of ``keys`` (field names, in order) for event ``values`` (``_event_values``)."""
    rows = []
    for v in values:
        cells = _certificate_cells(v, scopes.get(v["c_id"], []))
        cells.update(_event_cells(v))
        if v["kind"] == Kind.ISSUED and v["a_id"] is not None:
            cells.update(_audit_cells(v))
            cells.update(_team_cells(teams.get(v["a_id"], []), problems))
        rows.append(_ordered(cells, keys))
    return rows


def _events_report_rows(events, problems: set[str], keys: list[str]) -> list[list]:
    """Rows of ``keys`` for the ``events`` queryset (ordered), in three queries whatever their
    number: the events, their certificates' business scopes, their audits' teams."""
    plain = events.order_by()
    values = _event_values(events)
    scopes = _scopes(plain.values("certificate_id"))
    teams = _teams(plain.filter(kind=Kind.ISSUED).values("certificate__decision__audit_id"))
    return _event_rows(values, scopes, teams, problems, keys)


def _maintained_values(start: date, end: date) -> list[tuple[dict, dict]]:
    """``(certificate, decision)`` values of the certificates maintained by a surveillance or
    special audit decided in the period: two queries (none for the certificates when no
    audit was decided)."""
    decisions = Decision.objects.filter(
        outcome=Decision.Outcome.MAINTAIN, decided_on__gte=start, decided_on__lte=end
    )
    by_programme: dict[int, list[dict]] = defaultdict(list)
    for decision in decisions.values(
        "decided_on", programme_id=F("audit__programme_id"), **_paths("audit__", AUDIT_VALUES)
    ):
        by_programme[decision["programme_id"]].append(decision)
    if not by_programme:
        return []
    certificates = (
        Certificate.objects.filter(programme__in=Subquery(decisions.values("audit__programme")))
        .exclude(status=Certificate.Status.SUPERSEDED)
        .values(**_paths("", CERTIFICATE_VALUES), c_has_subs=_has_subs())
        .order_by(F("head_id").asc(nulls_first=True), "number")
    )
    return [
        (v, decision)
        for v in certificates
        for decision in by_programme.get(v["c_programme_id"], [])
    ]


def _maintained_rows(pairs, scopes, teams, problems: set[str], keys: list[str]) -> list[list]:
    """Rows of ``keys`` for ``_maintained_values``."""
    rows = []
    for v, decision in pairs:
        cells = _certificate_cells(v, scopes.get(v["c_id"], []))
        cells.update(_audit_cells(decision))
        cells.update(_team_cells(teams.get(decision["a_id"], []), problems))
        cells.update(
            activity=ACTIVITY_SURVEILLANCE,
            change_date=decision["decided_on"],
            status=Certificate.CNCA_STATUS[v["c_status"]],
            reissued=NO,
        )
        rows.append(_ordered(cells, keys))
    return rows


# --- 获证组织基本信息月报, register, status change ------------------------------------------


def organisations_monthly(start: date, end: date, *, keys: list[str] | None = None) -> Report:
    """获证组织基本信息月报 for the local dates ``start``…``end`` (a calendar month).

    Rows: every certificate event in the period (sub-certificates included, each with its head
    certificate's number) and every certificate maintained by a surveillance or special audit
    decided in it, ordered by date. Issue and surveillance rows carry the audit (type code,
    days, dates) and its team; status rows the reason codes and dates. An empty sheet when
    nothing happened (002 §4.3.3.2 注). Problems (e.g. an auditor without ID number) are listed
    in ``Report.problems``, never silently dropped. ``keys``: the fields of the columns, in
    order (default ``KEYS``, the register's; a layout's, ``reporting.layouts``).
    """
    keys = list(keys or KEYS)
    problems: set[str] = set()
    events = CertificateEvent.objects.filter(occurred_on__gte=start, occurred_on__lte=end)
    wide = ["change_date", "number", *keys]  # the sort keys first, taken off after sorting
    # At most five queries: events, maintain decisions, maintained certificates, then the
    # business scopes and teams of both at once (a month's ids, a few thousand at most).
    values = _event_values(events.order_by("occurred_on", "certificate__number", "pk"))
    maintained = _maintained_values(start, end)
    certificate_ids = {v["c_id"] for v in values} | {v["c_id"] for v, _ in maintained}
    audit_ids = {v["a_id"] for v in values if v["kind"] == Kind.ISSUED and v["a_id"]}
    audit_ids |= {decision["a_id"] for _, decision in maintained}
    scopes = _scopes(certificate_ids) if certificate_ids else {}
    teams = _teams(audit_ids) if audit_ids else {}
    rows = [
        *_event_rows(values, scopes, teams, problems, wide),
        *_maintained_rows(maintained, scopes, teams, problems, wide),
    ]
    rows.sort(key=lambda row: (row[0], row[1]))
    title = REPORT_TITLES["organisations_monthly"]
    columns = _headers(keys)
    return Report(title, [Sheet(title, columns, [row[2:] for row in rows])], sorted(problems))


def _headers(keys: list[str]) -> list[str]:
    names = dict(zip(KEYS, REGISTER_HEADERS, strict=True))
    return [names.get(key, key) for key in keys]


def register() -> Report:
    """Every certificate event ever, in the monthly columns: the register for export/import."""
    problems: set[str] = set()
    events = CertificateEvent.objects.order_by(
        "certificate__organization_id",
        "certificate__cycle",
        "certificate__number",
        "occurred_on",
        "pk",
    )
    title = "认证证书登记册"
    return Report(
        title,
        [Sheet(title, REGISTER_HEADERS, _events_report_rows(events, problems, KEYS))],
        sorted(problems),
    )


def status_change(event: CertificateEvent, *, keys: list[str] | None = None) -> Report:
    """The status-change report of one head certificate's suspension, restoration, withdrawal
    or cancellation, with its sub-certificates' rows (002 §4.3.8.3; 004 §9.4). ``keys``: as
    for ``organisations_monthly``."""
    keys = list(keys or KEYS)
    if event.kind not in STATUS_EVENTS:
        raise ValueError(f"{event.kind} is not a status change reported within 2 working days")
    problems: set[str] = set()
    events = CertificateEvent.objects.filter(
        Q(pk=event.pk)
        | Q(
            certificate__head_id=event.certificate_id,
            kind=event.kind,
            occurred_on=event.occurred_on,
        )
    )
    rows = _events_report_rows(
        events.order_by(F("certificate__head_id").asc(nulls_first=True), "certificate__number"),
        problems,
        keys,
    )
    title = REPORT_TITLES["status_change"]
    return Report(title, [Sheet(title, _headers(keys), rows)], sorted(problems))


# --- 初评/再认证审核未通过的组织基本信息月报 ------------------------------------------------

FAILURE_COLUMNS = [
    "组织名称",
    "统一社会信用代码",
    "组织地址",
    "法定代表人",
    "联系人",
    "联系电话",
    "认证标准代码",
    "业务范围代码",
    "认证审核活动类别",
    "审核类型",
    "审核开始日期",
    "审核结束日期",
    "认证决定日期",
    "未通过原因",
]


def failures_monthly(start: date, end: date) -> Report:
    """初评/再认证审核未通过的组织基本信息月报: refusals of initial (stage 2) and recertification
    audits decided in ``start``…``end``, with the written reasons (004 §5.12.5; 002 §4.3.4)."""
    decisions = (
        Decision.objects.filter(
            outcome=Decision.Outcome.REFUSE,
            decided_on__gte=start,
            decided_on__lte=end,
            audit__kind__in=[Audit.Kind.STAGE2, Audit.Kind.RECERTIFICATION],
        )
        .select_related("audit__programme__organization", "audit__programme__application")
        .prefetch_related("audit__programme__application__business_scopes")
        .order_by("decided_on", "pk")
    )
    standard = _standard()
    rows = []
    for decision in decisions:
        audit = decision.audit
        organization = audit.programme.organization
        scopes = sorted(audit.programme.application.business_scopes.all(), key=lambda s: s.code)
        rows.append(
            [
                organization.name,
                organization.uscc,
                organization.registered_address,
                organization.legal_representative,
                organization.contact_name,
                organization.contact_phone,
                standard,
                SEPARATOR.join(f"{s.code:02d}" for s in scopes),
                ACTIVITY_RECERT if audit.kind == Audit.Kind.RECERTIFICATION else ACTIVITY_INITIAL,
                audit_type_code(audit),
                audit.actual_start,
                audit.actual_end,
                decision.decided_on,
                decision.reasons,
            ]
        )
    title = REPORT_TITLES["failures_monthly"]
    return Report(title, [Sheet(title, FAILURE_COLUMNS, rows)])


def _standard() -> str:
    try:
        return CertificationBody.get().standard
    except CertificationBody.DoesNotExist:
        return "GB/T 27922"


# --- 认证机构信息（变更）月报 ----------------------------------------------------------------

CB_CHANGE_COLUMNS = ["序号", "变更类别", "类别名称", "变更日期", "变更情况简述", "证实性材料"]
CB_CHANGE_CATEGORY_LABELS = {
    1: "委员会章程和人员的变更",
    2: "认证机构管理层和技术管理部门负责人的变更",
    3: "认证机构服务文件的变更",
    4: "影响认可的认证业务范围能力的变更",
    5: "分场所的变更",
    6: "相关机构的变更",
    7: "认证资格的变更",
    8: "授予认证资格的组织中有无曾（已）获得其它认证机构的同类认证",
    9: "获得认证的组织或产品发生重大事故",
    10: "对认证机构的申诉、投诉及处理情况",
    11: "其他方面的变更",
}


def cb_changes_monthly(start: date, end: date) -> Report:
    """认证机构信息（变更）月报 for ``start``…``end``: staff-entered changes of the CB, plus
    appeals and complaints received or decided (item 10) and major accidents at certified
    clients learned of (item 9) in the period. Sent even when empty (002 §4.3.2.2)."""
    items = []
    for change in CbChange.objects.filter(occurred_on__gte=start, occurred_on__lte=end):
        items.append((change.category, change.occurred_on, change.description, change.evidence))
    appeals = Appeal.objects.filter(
        Q(received_on__gte=start, received_on__lte=end)
        | Q(decided_on__gte=start, decided_on__lte=end)
    )
    for appeal in appeals:
        what = "申诉" if appeal.kind == Appeal.Kind.APPEAL else "投诉"
        if start <= appeal.received_on <= end:
            items.append(
                (10, appeal.received_on, f"收到{what} {appeal.reference}：{appeal.subject}", "")
            )
        if appeal.decided_on and start <= appeal.decided_on <= end:
            outcome = appeal.get_outcome_display() if appeal.outcome else ""
            items.append(
                (
                    10,
                    appeal.decided_on,
                    f"{what} {appeal.reference} 已书面处理（{outcome}）：{appeal.decision_text}",
                    f"书面处理决定 {appeal.reference}",
                )
            )
    accidents = RegulatoryEvent.objects.filter(
        kind=RegulatoryEvent.Kind.ACCIDENT, major=True, notified_on__gte=start, notified_on__lte=end
    ).select_related("organization")
    for event in accidents:
        items.append(
            (
                9,
                event.notified_on,
                f"{event.organization}：{event.description}（来源：{event.source}）",
                "",
            )
        )
    items.sort(key=lambda item: (item[1], item[0]))
    rows = [
        [n, category, CB_CHANGE_CATEGORY_LABELS[category], on, description, evidence]
        for n, (category, on, description, evidence) in enumerate(items, start=1)
    ]
    title = REPORT_TITLES["cb_changes_monthly"]
    return Report(title, [Sheet(title, CB_CHANGE_COLUMNS, rows)])
