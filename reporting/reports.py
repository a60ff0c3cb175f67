"""Report builders: from the database to rows with the platforms' Chinese column names.

Each builder takes its period (local dates) and returns an ``exports.Report``; it runs a
constant number of queries whatever the number of rows (select_related / prefetch_related /
annotate; tested at two sizes). Codes are those of ``certbody/data/cnca_codes.json``.

- ``organisations_monthly(start, end)`` — 获证组织基本信息月报 (002 §4.3.3; 004 §9.3): one row
  per certificate event (issue, reissue, suspension, restoration, withdrawal, cancellation,
  expiry, replacement) and per certificate maintained by a surveillance or special audit decided
  in the period. An empty sheet when nothing happened (002 §4.3.3.2 注).
- ``register()`` — every certificate event ever, in the monthly columns: the certificate register
  that ``reporting.importer`` reads back.
- ``status_change(event)`` — the 2-working-day report of one suspension, restoration, withdrawal
  or cancellation (002 §4.3.8.3; 004 §9.4): the head certificate's row and its sub-certificates'.
- ``failures_monthly(start, end)`` — 初评/再认证审核未通过的组织基本信息月报 (002 §4.3.4):
  initial and recertification audits refused in the period, with the reasons.
- ``cb_changes_monthly(start, end)`` — 认证机构信息（变更）月报 (002 §4.3.2): the CB's changes
  entered by staff, plus appeals and complaints received or decided and major accidents at
  certified clients learned of in the period (items 10 and 9); sent even when empty.
- ``statistics_annual(year)`` — 获证组织信息分类统计年报 (002 §4.3.5): head certificates
  (sub-certificates excluded) by status, valid ones by business scope category (a certificate in
  two categories counts in each), by province and by standard. The province totals must equal
  the number of valid certificates: ``ReportCheckError`` otherwise.
- ``auditors_annual(year)`` — 审核人员基本信息年报 (002 §4.3.6): every auditor and technical
  expert with qualification, competence codes and audit-days in the year.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr

from audits.models import Audit, Auditor, AuditorCompetence, AuditTeamMember
from certbody.masking import mask_all, mask_id_number, mask_phone
from certbody.models import CertificationBody
from certbody.reference import read_json
from certbody.regions import PROVINCES
from certificates.models import (
    Appeal,
    Certificate,
    CertificateEvent,
    Decision,
    RegulatoryEvent,
)
from reporting.exports import Report, Sheet
from reporting.models import REPORT_TITLES, CbChange

Kind = CertificateEvent.Kind

# (key, the platform's column name). The importer reads the same columns by name.
REGISTER_COLUMNS: list[tuple[str, str]] = [
    # organisation (002 §4.3.3.1 1)
    ("org_name", "组织名称"),
    ("org_name_en", "组织英文名称"),
    ("org_former_name", "组织原名称"),
    ("uscc", "统一社会信用代码"),
    ("industry", "所属行业"),
    ("country", "国家/地区代码"),
    ("division", "行政区划代码"),
    ("address", "通讯地址"),
    ("postcode", "邮政编码"),
    ("phone", "联系电话"),
    ("legal_rep", "法定代表人"),
    ("headcount", "组织人数"),
    # audit activity (2)
    ("activity", "认证审核活动类别"),
    ("audit_type", "审核类型"),
    ("change_type", "变更类别"),
    ("change_date", "变更日期"),
    ("audit_days", "审核人日数"),
    ("audit_start", "审核开始日期"),
    ("audit_end", "审核结束日期"),
    ("risk", "风险系数"),
    # team (3)
    ("team_names", "审核组成员姓名"),
    ("team_ids", "身份证件号码"),
    ("team_qualifications", "资格类型"),
    ("team_roles", "审核组成员角色"),
    ("team_full_time", "是否专职"),
    # certificate (4)
    ("mark", "认可标志"),
    ("number", "证书编号"),
    ("is_sub", "是否子证书"),
    ("head_number", "主证书编号"),
    ("multi_site", "是否多现场"),
    ("field", "认证领域"),
    ("scope_codes", "业务范围代码"),
    ("scope_text", "证书覆盖范围"),
    ("standard", "认证依据"),
    ("grade", "星级"),
    ("issued_on", "颁证日期"),
    ("expires_on", "证书到期日期"),
    ("status", "证书状态"),
    ("suspension_reason", "暂停原因"),
    ("suspended_from", "暂停开始日期"),
    ("suspended_until", "暂停截止日期"),
    ("withdrawal_reason", "撤销原因"),
    ("withdrawn_on", "撤销日期"),
    ("cancellation_reason", "注销原因"),
    ("cancelled_on", "注销日期"),
    ("reissued", "是否换证"),
    ("reissue_reason", "换证原因"),
    ("reissued_on", "换证日期"),
]
REGISTER_HEADERS = [header for _, header in REGISTER_COLUMNS]
KEYS = [key for key, _ in REGISTER_COLUMNS]
SEPARATOR = "；"  # between team members in one cell


def _each(mask: Callable[[str | None], str]) -> Callable[[str | None], str]:
    """``mask`` applied to every member's value of a team cell (joined by ``SEPARATOR``)."""

    def masked(value: str | None) -> str:
        return SEPARATOR.join(mask(part) for part in str(value or "").split(SEPARATOR))

    return masked


YES, NO = "是", "否"

COUNTRY_CODE_CHINA = read_json("cnca_codes.json")["country_code_china"]  # 156
FIELD_CODE = "SC03"  # certification field: 批发业和零售业服务认证
GRADE_LABELS = {"standard": "达标", "three_star": "三星", "four_star": "四星", "five_star": "五星"}
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
MARK_LABELS = {"C": "CNAS", "A": "ANAB", "U": "UKAS", "Z": "未认可"}
# report_audit_activity codes: 01 initial, 02 recertification, 03 surveillance, 04 change.
ACTIVITY_INITIAL, ACTIVITY_RECERT, ACTIVITY_SURVEILLANCE, ACTIVITY_CHANGE = "01", "02", "03", "04"
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


def _ordered(cells: dict) -> list:
    return [cells.get(key) for key in KEYS]


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


def _event_rows(events, problems: set[str]) -> list[list]:
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
        rows.append(_ordered(cells))
    return rows


def _maintained_rows(start: date, end: date, problems: set[str]) -> list[list]:
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
            rows.append((decision.decided_on, certificate.number, _ordered(cells)))
    return [row for *_, row in sorted(rows, key=lambda r: (r[0], r[1]))]


# --- 获证组织基本信息月报, register, status change ------------------------------------------


def organisations_monthly(start: date, end: date) -> Report:
    """获证组织基本信息月报 for the local dates ``start``…``end`` (a calendar month).

    Rows: every certificate event in the period (sub-certificates included, each with its head
    certificate's number) and every certificate maintained by a surveillance or special audit
    decided in it, ordered by date. Issue and surveillance rows carry the audit (type code,
    days, dates) and its team; status rows the reason codes and dates. An empty sheet when
    nothing happened (002 §4.3.3.2 注). Problems (e.g. an auditor without ID number) are listed
    in ``Report.problems``, never silently dropped.
    """
    problems: set[str] = set()
    events = _event_queryset().filter(occurred_on__gte=start, occurred_on__lte=end)
    event_rows = _event_rows(events.order_by("occurred_on", "certificate__number", "pk"), problems)
    rows = sorted(
        [*event_rows, *_maintained_rows(start, end, problems)],
        key=lambda row: (row[KEYS.index("change_date")], row[KEYS.index("number")]),
    )
    title = REPORT_TITLES["organisations_monthly"]
    return Report(title, [Sheet(title, REGISTER_HEADERS, rows)], sorted(problems))


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
        title, [Sheet(title, REGISTER_HEADERS, _event_rows(events, problems))], sorted(problems)
    )


def status_change(event: CertificateEvent) -> Report:
    """The status-change report of one head certificate's suspension, restoration, withdrawal
    or cancellation, with its sub-certificates' rows (002 §4.3.8.3; 004 §9.4)."""
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
    )
    title = REPORT_TITLES["status_change"]
    return Report(title, [Sheet(title, REGISTER_HEADERS, rows)], sorted(problems))


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


# --- 获证组织信息分类统计年报 -------------------------------------------------------------------

STATUS_CODE_LABELS = read_json("cnca_codes.json")["certificate_status"]
VALID, SUSPENDED = "01", "02"


def status_on_queryset(on: date):
    """Head certificates issued by ``on`` annotated with ``code_on`` (their CNCA status code on
    that date, from the latest event up to it; a valid or suspended certificate whose expiry
    has passed counts as 05 expired) and ``changed_on`` (the date of that status)."""
    latest = CertificateEvent.objects.filter(
        certificate_id=OuterRef("pk"), occurred_on__lte=on
    ).order_by("-occurred_on", "-pk")
    code = Coalesce(Subquery(latest.values("status_code")[:1]), Value(VALID))
    changed = Coalesce(Subquery(latest.values("occurred_on")[:1]), F("issued_on"))
    return (
        Certificate.objects.filter(head__isnull=True, issued_on__lte=on)
        .annotate(raw_code=code, raw_changed=changed)
        .annotate(
            code_on=Case(
                When(Q(expires_on__lt=on, raw_code__in=[VALID, SUSPENDED]), then=Value("05")),
                default=F("raw_code"),
                output_field=CharField(),
            ),
            changed_on=Case(
                When(Q(expires_on__lt=on, raw_code__in=[VALID, SUSPENDED]), then=F("expires_on")),
                default=F("raw_changed"),
                output_field=DateField(),
            ),
        )
    )


STATISTICS_STATUS_COLUMNS = ["证书状态代码", "证书状态", "统计口径", "证书数量"]
STATISTICS_SCOPE_COLUMNS = ["业务范围代码", "业务范围名称", "有效证书数量"]
STATISTICS_REGION_COLUMNS = ["行政区划代码（省级）", "省（自治区、直辖市）", "有效证书数量"]
STATISTICS_STANDARD_COLUMNS = ["认证依据标准", "有效证书数量"]


def statistics_annual(year: int) -> Report:
    """获证组织信息分类统计年报 as of 31 December of ``year`` (002 §4.3.5).

    Head certificates only (sub-certificates are not counted, 002 §4.3.5.2 1). By status: valid
    (01) and suspended (02) on 31 December; withdrawn (03, replacements by a recertified
    certificate listed apart), cancelled (04) and expired (05) during the year. Valid
    certificates by business scope category (a certificate in two categories counts in each,
    §4.3.5.2 3), by province and by standard. Raises ``ReportCheckError`` when the province
    totals differ from the number of valid certificates (§4.3.5.2 4).
    """
    end = date(year, 12, 31)
    certificates = status_on_queryset(end)
    start = date(year, 1, 1)
    by_status = dict(
        certificates.filter(Q(code_on__in=[VALID, SUSPENDED]) | Q(changed_on__gte=start))
        .values_list("code_on")
        .annotate(n=Count("pk"))
        .values_list("code_on", "n")
    )
    replaced = (
        certificates.filter(code_on="03", changed_on__gte=start)
        .filter(
            Exists(
                CertificateEvent.objects.filter(
                    certificate_id=OuterRef("pk"), kind=Kind.SUPERSEDED, occurred_on__lte=end
                )
            )
        )
        .count()
    )
    valid = certificates.filter(code_on=VALID)
    valid_total = by_status.get(VALID, 0)
    status_rows = [
        [VALID, STATUS_CODE_LABELS[VALID], f"截至{year}年12月31日", valid_total],
        [
            SUSPENDED,
            STATUS_CODE_LABELS[SUSPENDED],
            f"截至{year}年12月31日",
            by_status.get(SUSPENDED, 0),
        ],
        [
            "03",
            STATUS_CODE_LABELS["03"],
            f"{year}年内（不含换发新证）",
            by_status.get("03", 0) - replaced,
        ],
        ["03", "撤销（因换发新证而撤销旧证书，0120）", f"{year}年内", replaced],
        ["04", STATUS_CODE_LABELS["04"], f"{year}年内", by_status.get("04", 0)],
        ["05", STATUS_CODE_LABELS["05"], f"{year}年内", by_status.get("05", 0)],
    ]
    through = Certificate.business_scopes.through
    scope_rows = [
        [f"{code:02d}", name, n]
        for code, name, n in through.objects.filter(certificate_id__in=valid.values("pk"))
        .values_list("businessscope__code", "businessscope__name")
        .annotate(n=Count("certificate_id", distinct=True))
        .order_by("businessscope__code")
    ]
    region_counts = dict(
        valid.annotate(province=Substr("organization__division_code", 1, 2))
        .values_list("province")
        .annotate(n=Count("pk"))
        .values_list("province", "n")
    )
    # Only real provinces are counted: an organisation with an unknown division code makes the
    # totals differ, and the report is refused rather than sent with a hole in it.
    region_rows = [
        [code, PROVINCES[code], n] for code, n in sorted(region_counts.items()) if code in PROVINCES
    ]
    region_total = sum(n for _, _, n in region_rows)
    if region_total != valid_total:
        unknown = sorted(code or "（空）" for code in region_counts if code not in PROVINCES)
        raise ReportCheckError(
            f"按地域统计的证书数（{region_total}）与有效证书总数（{valid_total}）不一致，"
            f"无法识别的省级行政区划代码：{'、'.join(unknown) or '无'}（002 §4.3.5.2 4)）"
        )
    standard_rows = [
        [standard, n]
        for standard, n in valid.values_list("standard")
        .annotate(n=Count("pk"))
        .order_by("standard")
        .values_list("standard", "n")
    ]
    title = REPORT_TITLES["statistics_annual"]
    return Report(
        title,
        [
            Sheet("按证书状态", STATISTICS_STATUS_COLUMNS, status_rows),
            Sheet("按认证业务范围", STATISTICS_SCOPE_COLUMNS, scope_rows),
            Sheet(
                "按地域",
                STATISTICS_REGION_COLUMNS,
                region_rows,
                total_row=["合计", "", region_total],
            ),
            Sheet(
                "按认证标准",
                STATISTICS_STANDARD_COLUMNS,
                standard_rows,
                total_row=["合计", sum(n for _, n in standard_rows)],
            ),
        ],
    )


# --- 审核人员基本信息年报 ------------------------------------------------------------------------

AUDITOR_COLUMNS = [
    "序号",
    "姓名",
    "性别",
    "出生年月",
    "学历",
    "毕业院校",
    "所学专业",
    "职称",
    "身份证件号码",
    "居住地区",
    "在职状况",
    "是否专职",
    "人员类别",
    "注册号",
    "注册有效期至",
    "认证领域代码",
    "专业能力代码（业务范围）",
    "本年度总审核人日数",
    "该领域参加审核人日数",
    "在机构内所负责的工作",
    "聘用日期",
    "解聘日期",
]
GENDER_LABELS = {"M": "男", "F": "女"}


# --- personal data in the reports ----------------------------------------------------------------

# Each report's columns that hold personal data (header → masking, certbody.masking): only users
# with ``certbody.view_personal_data`` download them in full; everyone else gets the same file
# with these columns masked (reporting.privacy). A report missing here holds no personal data.
# The client's contact phone and the team's ID numbers (002 §4.3.3.1); the auditors' ID numbers,
# birth months and regions of residence (002 §4.3.6.1).
REGISTER_PERSONAL_COLUMNS = {"联系电话": mask_phone, "身份证件号码": _each(mask_id_number)}
PERSONAL_COLUMNS: dict[str, dict[str, Callable[[str | None], str]]] = {
    "organisations_monthly": REGISTER_PERSONAL_COLUMNS,
    "status_change": REGISTER_PERSONAL_COLUMNS,
    "failures_monthly": {"联系电话": mask_phone},
    "auditors_annual": {"出生年月": mask_all, "身份证件号码": mask_id_number, "居住地区": mask_all},
}
HALF = Decimal("0.1")


def member_days(year: int) -> dict[int, Decimal]:
    """Audit-days of each user in audits that ended in ``year`` (one query).

    A leader's or auditor's share is the audit's time (auditor-days, 004 §5.4.2) divided among
    the members counted in audit time; trainees and technical experts, who are not counted
    (004 §5.4.4.2), get the calendar days they were on the audit.
    """
    rows = AuditTeamMember.objects.filter(
        audit__actual_end__year=year,
        audit__state__in=[Audit.State.COMPLETED, Audit.State.CLOSED],
    ).values_list(
        "user_id",
        "role",
        "audit_id",
        "audit__planned_days",
        "audit__time_determination__total_days",
        "audit__actual_start",
        "audit__actual_end",
    )
    rows = list(rows)
    counted = Counter(
        audit_id for _, role, audit_id, *_ in rows if role in AuditTeamMember.COUNTED_ROLES
    )
    days: dict[int, Decimal] = defaultdict(Decimal)
    for user_id, role, audit_id, planned, determined, started, ended in rows:
        if role in AuditTeamMember.COUNTED_ROLES:
            total = determined if determined is not None else planned or Decimal(0)
            days[user_id] += Decimal(total) / counted[audit_id]
        else:
            days[user_id] += Decimal((ended - (started or ended)).days + 1)
    return {user: value.quantize(HALF, ROUND_HALF_UP) for user, value in days.items()}


def auditors_annual(year: int) -> Report:
    """审核人员基本信息年报 for ``year`` (002 §4.3.6): every auditor, senior auditor, trainee and
    technical expert who was active in the year or audited in it, with the personal data of
    their ``PersonnelRecord``, qualification, competence codes valid in the year and audit-days
    (``member_days``)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    days = member_days(year)
    competences = (
        AuditorCompetence.objects.select_related("business_scope")
        .filter(granted_on__lte=end)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start))
    )
    auditors = (
        Auditor.objects.select_related("user", "personnel_record")
        .prefetch_related(Prefetch("competences", queryset=competences), "user__groups")
        .filter(Q(active=True) | Q(user_id__in=list(days)))
        .order_by("user__username")
    )
    from certbody.roles import STAFF_ROLES

    problems: set[str] = set()
    rows = []
    for n, auditor in enumerate(auditors, start=1):
        user = auditor.user
        record = _related(auditor, "personnel_record")
        if record is None or not record.id_number:
            problems.add(f"审核人员“{user}”未登记身份证件号码等人员信息")
        employed = record and record.left_on and record.left_on <= end
        codes = sorted({c.business_scope.code for c in auditor.competences.all()})
        duties = (record.duties if record else "") or "、".join(
            str(STAFF_ROLES[g.name]) for g in user.groups.all() if g.name in STAFF_ROLES
        )
        total = days.get(user.pk, Decimal(0))
        rows.append(
            [
                n,
                str(user),
                GENDER_LABELS.get(record.gender, "") if record else "",
                record.birth_date.strftime("%Y-%m") if record and record.birth_date else "",
                record.education if record else "",
                record.school if record else "",
                record.major if record else "",
                record.title if record else "",
                record.id_number if record else "",
                record.residence if record else "",
                "离职" if employed or not auditor.active else "在职",
                YES if auditor.is_full_time else NO,
                QUALIFICATION_LABELS.get(auditor.qualification, auditor.qualification),
                auditor.registration_number,
                auditor.registration_valid_until,
                FIELD_CODE,
                SEPARATOR.join(f"{code:02d}" for code in codes),
                total,
                total,
                duties,
                record.employed_on if record else None,
                record.left_on if record else None,
            ]
        )
    title = REPORT_TITLES["auditors_annual"]
    return Report(title, [Sheet(title, AUDITOR_COLUMNS, rows)], sorted(problems))
