"""The annual reports: 获证组织信息分类统计年报 and 审核人员基本信息年报 (see
``reporting.reports``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

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
from django.utils.translation import gettext

from audits.models import Audit, Auditor, AuditorCompetence, AuditTeamMember
from certbody.reference import read_json
from certbody.regions import PROVINCES
from certbody.spreadsheets import Report, Sheet
from certificates.models import (
    Certificate,
    CertificateEvent,
)
from reporting.models import REPORT_TITLES
from reporting.reports.register import (
    FIELD_CODE,
    NO,
    QUALIFICATION_LABELS,
    SEPARATOR,
    YES,
    Kind,
    ReportCheckError,
    _related,
)

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
            gettext(
                "The certificates counted by region (%(regions)s) differ from the valid "
                "certificates (%(valid)s); province codes not recognised: %(codes)s "
                "(002 §4.3.5.2 4))"
            )
            % {
                "regions": region_total,
                "valid": valid_total,
                "codes": gettext(", ").join(unknown) or gettext("none"),
            }
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
