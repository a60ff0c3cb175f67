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
    Prefetch,
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
STATUS_EVENTS = (Kind.SUSPENDED, Kind.RESTORED, Kind.WITHDRAWN, Kind.CANCELLED)


class ReportCheckError(ValueError):
    """A built report fails one of the platform's consistency rules (e.g. 002 §4.3.5.2 4)."""


# --- shared helpers -------------------------------------------------------------------------


def _team_queryset():
    return AuditTeamMember.objects.select_related(
        "user__auditor_profile__personnel_record"
    ).order_by("pk")


def _related(obj, name):
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def audit_type_code(audit: Audit) -> str:
    """The CNCA audit type code of an audit (cnca_codes.json "audit_type")."""
    if audit.kind == Audit.Kind.SURVEILLANCE:
        return f"1004-{min(max(audit.sequence, 1), 3)}"
    return {
        Audit.Kind.DOCUMENT_REVIEW: "1002",
        Audit.Kind.STAGE2: "1003",
        Audit.Kind.RECERTIFICATION: "1007",
        Audit.Kind.SPECIAL: "1009",
    }[audit.kind]


def audit_days(audit: Audit) -> Decimal | None:
    """The determined audit time (auditor-days), or the planned one without a determination."""
    determination = _related(audit, "time_determination")
    return determination.total_days if determination is not None else audit.planned_days


def _team_cells(audit: Audit | None, problems: set[str]) -> dict[str, str]:
    if audit is None:
        return {}
    members = sorted(audit.team.all(), key=lambda m: (ROLE_ORDER.get(m.role, 9), m.pk))
    names, ids, qualifications, roles, full_time = [], [], [], [], []
    for member in members:
        user = member.user
        profile = _related(user, "auditor_profile")
        record = _related(profile, "personnel_record") if profile else None
        names.append(str(user))
        ids.append(record.id_number if record and record.id_number else "")
        if not (record and record.id_number):
            problems.add(f"审核人员“{user}”未登记身份证件号码")
        qualifications.append(
            QUALIFICATION_LABELS.get(profile.qualification, "") if profile else ""
        )
        roles.append(ROLE_LABELS.get(member.role, member.role))
        full_time.append(YES if profile and profile.is_full_time else NO)
    return {
        "team_names": SEPARATOR.join(names),
        "team_ids": SEPARATOR.join(ids),
        "team_qualifications": SEPARATOR.join(qualifications),
        "team_roles": SEPARATOR.join(roles),
        "team_full_time": SEPARATOR.join(full_time),
    }


def _scope_cells(certificate: Certificate) -> dict:
    scopes = sorted(certificate.business_scopes.all(), key=lambda s: s.code)
    risk = max((s.risk for s in scopes), key=lambda r: RISK_ORDER.get(r, 0), default="")
    return {
        "scope_codes": SEPARATOR.join(f"{s.code:02d}" for s in scopes),
        "risk": RISK_LABELS.get(risk, risk),
    }


def _certificate_cells(certificate: Certificate, multi_site: bool) -> dict:
    organization = certificate.organization
    return {
        "org_name": certificate.organization_name,
        "org_name_en": organization.name_en,
        "org_former_name": organization.former_name,
        "uscc": organization.uscc,
        "industry": organization.industry,
        "country": COUNTRY_CODE_CHINA,
        "division": organization.division_code,
        "address": certificate.registered_address,
        "postcode": organization.postcode,
        "phone": organization.contact_phone,
        "contact_name": organization.contact_name,
        "legal_rep": organization.legal_representative,
        "headcount": organization.headcount,
        "mark": MARK_LABELS.get(certificate.accreditation, certificate.accreditation),
        "number": certificate.number,
        "is_sub": YES if certificate.head_id else NO,
        "head_number": certificate.head.number if certificate.head_id else "",
        "multi_site": YES if multi_site else NO,
        "field": FIELD_CODE,
        "scope_text": certificate.scope_text,
        "standard": certificate.standard,
        "grade": GRADE_LABELS.get(certificate.star_grade, certificate.star_grade),
        "issued_on": certificate.issued_on,
        "expires_on": certificate.expires_on,
        **_scope_cells(certificate),
    }


def _audit_cells(audit: Audit | None) -> dict:
    if audit is None:
        return {}
    return {
        "audit_type": audit_type_code(audit),
        "audit_days": audit_days(audit),
        "audit_start": audit.actual_start,
        "audit_end": audit.actual_end,
    }


def _event_cells(event: CertificateEvent) -> dict:
    kind = event.kind
    cells = {
        "change_type": event.change_code,
        "change_date": event.occurred_on,
        "status": event.status_code,
        "reissued": NO,
    }
    if kind == Kind.ISSUED:
        cycle = event.certificate.cycle
        cells["activity"] = ACTIVITY_RECERT if cycle else ACTIVITY_INITIAL
    else:
        cells["activity"] = ACTIVITY_CHANGE
    if kind == Kind.SUSPENDED:
        cells.update(
            suspension_reason=event.reason_code,
            suspended_from=event.occurred_on,
            suspended_until=event.ends_on,
        )
    elif kind in (Kind.WITHDRAWN, Kind.SUPERSEDED):
        cells.update(withdrawal_reason=event.reason_code, withdrawn_on=event.occurred_on)
    elif kind == Kind.CANCELLED:
        cells.update(cancellation_reason=event.reason_code, cancelled_on=event.occurred_on)
    elif kind == Kind.EXPIRED:
        cells["cancellation_reason"] = event.reason_code
    elif kind == Kind.REISSUED:
        cells.update(reissued=YES, reissue_reason=event.reason_code, reissued_on=event.occurred_on)
    return cells


def _ordered(cells: dict, keys: list[str]) -> list:
    return [cells.get(key) for key in keys]


def _has_subs():
    return Exists(Certificate.objects.filter(head_id=OuterRef("pk")))


def _event_queryset():
    """Events with everything a register row needs, in a constant number of queries."""
    return (
        CertificateEvent.objects.select_related(
            "certificate__organization",
            "certificate__head",
            "certificate__decision__audit__time_determination",
        )
        .prefetch_related(
            "certificate__business_scopes",
            Prefetch("certificate__decision__audit__team", queryset=_team_queryset()),
        )
        .annotate(
            certificate_has_subs=Exists(
                Certificate.objects.filter(head_id=OuterRef("certificate_id"))
            )
        )
    )


def _event_rows(events, problems: set[str], keys: list[str]) -> list[list]:
    """Rows of ``keys`` (field names, in order) for ``events``."""
    rows = []
    for event in events:
        certificate = event.certificate
        multi_site = bool(certificate.head_id) or event.certificate_has_subs
        cells = _certificate_cells(certificate, multi_site)
        cells.update(_event_cells(event))
        if event.kind == Kind.ISSUED and certificate.decision_id:
            audit = certificate.decision.audit
            cells.update(_audit_cells(audit))
            cells.update(_team_cells(audit, problems))
        rows.append(_ordered(cells, keys))
    return rows


def _maintained_rows(start: date, end: date, problems: set[str], keys: list[str]) -> list[list]:
    """Certificates maintained by a surveillance or special audit decided in the period."""
    decisions = Decision.objects.filter(
        outcome=Decision.Outcome.MAINTAIN, decided_on__gte=start, decided_on__lte=end
    )
    by_programme: dict[int, list[Decision]] = defaultdict(list)
    for decision in decisions.select_related("audit__time_determination").prefetch_related(
        Prefetch("audit__team", queryset=_team_queryset())
    ):
        by_programme[decision.audit.programme_id].append(decision)
    if not by_programme:
        return []
    certificates = (
        Certificate.objects.filter(programme__in=Subquery(decisions.values("audit__programme")))
        .exclude(status=Certificate.Status.SUPERSEDED)
        .select_related("organization", "head")
        .prefetch_related("business_scopes")
        .annotate(has_subs=_has_subs())
        .order_by(F("head_id").asc(nulls_first=True), "number")
    )
    rows = []
    for certificate in certificates:
        for decision in by_programme.get(certificate.programme_id, []):
            audit = decision.audit
            cells = _certificate_cells(
                certificate, bool(certificate.head_id) or certificate.has_subs
            )
            cells.update(_audit_cells(audit))
            cells.update(_team_cells(audit, problems))
            cells.update(
                activity=ACTIVITY_SURVEILLANCE,
                change_date=decision.decided_on,
                status=certificate.status_code,
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
    events = _event_queryset().filter(occurred_on__gte=start, occurred_on__lte=end)
    wide = ["change_date", "number", *keys]  # the sort keys first, taken off after sorting
    event_rows = _event_rows(
        events.order_by("occurred_on", "certificate__number", "pk"), problems, wide
    )
    rows = [*event_rows, *_maintained_rows(start, end, problems, wide)]
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
    events = _event_queryset().order_by(
        "certificate__organization_id",
        "certificate__cycle",
        "certificate__number",
        "occurred_on",
        "pk",
    )
    title = "认证证书登记册"
    return Report(
        title,
        [Sheet(title, REGISTER_HEADERS, _event_rows(events, problems, KEYS))],
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
    events = _event_queryset().filter(
        Q(pk=event.pk)
        | Q(
            certificate__head_id=event.certificate_id,
            kind=event.kind,
            occurred_on=event.occurred_on,
        )
    )
    rows = _event_rows(
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
