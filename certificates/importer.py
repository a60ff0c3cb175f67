"""Import an existing certificate register: organisations, certificates and status history.

The file is an XLSX workbook (read with openpyxl) whose first sheet has the columns of the
monthly 获证组织基本信息月报 (``REGISTER_HEADERS``, matched by name, any order), one
row per certificate event — what ``reporting.reports.register()`` exports. A CB moving onto the
system brings its register this way. The register's format (columns and labels) is defined here;
the reports write the same columns.

``import_register(content, actor=…, dry_run=True)`` first checks every row and lists every
problem with its row number (bad USCC, unknown scope code, malformed or already used certificate
number, dates that do not fit together, a status history the lifecycle does not allow …) before
anything is written. Without problems and with ``dry_run=False`` it writes everything in one
transaction: all or nothing.

Two problems are found by the dry run rather than by the database at commit:

- Head certificates whose year, sequence and cycle are the same as another row's or an existing
  certificate's (only the approval number or accreditation letter differing): the database keeps
  one head certificate per (year, sequence, cycle) (004 Appendix C.1).
- Formula-like text: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return that is not a number (``-12``, ``+8610``), and every formula cell (the workbook is read
  with its formulas, not their cached values). A register holds names, codes and dates, never
  formulas; such a cell is a spreadsheet injection or a copy-and-paste accident, and importing
  it would store text that another program evaluates. It is reported by row and column and the
  file refused. Text our own exports neutralised (a leading apostrophe, ``'-``) was marked as
  text by whoever wrote the file and is read back without the apostrophe.

**This bypasses the services on purpose**, like the demo app's ``generate_data``: historical
certificates had their decisions and audits elsewhere, so rows are written directly with the
states and dates the register gives. Every certificate's history records the importing user
and the reason "导入证书登记册"; every imported event names the importing user as actor.
Organisations already present (same USCC) are reused, not changed. Rows of surveillance audits
(activity 03) carry no status change and are skipped. The yearly certificate sequences are
raised to the highest imported number, so later issues continue after them (004 Appendix C).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError

from applications.models import Organization
from certbody.lifecycle import RuleViolation, record
from certbody.models import BusinessScope, CertificationBody
from certbody.reference import cnca_label
from certbody.regions import province_of
from certbody.spreadsheets import FORMULA_PREFIXES, unneutralise
from certificates import numbering
from certificates.models import Certificate, CertificateEvent, CertificateSequence
from certificates.public_rows import public_rows_refresh

Kind = CertificateEvent.Kind
Status = Certificate.Status

# --- the register's format -------------------------------------------------------------------

# The certificate register's columns, in the monthly 获证组织基本信息月报 (002 §4.3.3.1): what
# ``reporting.register()`` writes and ``import_register`` reads back, by column name.
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
YES, NO = "是", "否"
GRADE_LABELS = {"standard": "达标", "three_star": "三星", "four_star": "四星", "five_star": "五星"}
MARK_LABELS = {"C": "CNAS", "A": "ANAB", "U": "UKAS", "Z": "未认可"}
# report_audit_activity codes: 01 initial, 02 recertification, 03 surveillance, 04 change.
ACTIVITY_INITIAL, ACTIVITY_RECERT, ACTIVITY_SURVEILLANCE, ACTIVITY_CHANGE = "01", "02", "03", "04"


GRADES = {label: code for code, label in GRADE_LABELS.items()}
MARKS = {label: code for code, label in MARK_LABELS.items()}
# Allowed transitions (the Certificate state machine) by event kind: from → to.
TRANSITIONS = {
    Kind.SUSPENDED: ({Status.VALID}, Status.SUSPENDED),
    Kind.RESTORED: ({Status.SUSPENDED}, Status.VALID),
    Kind.WITHDRAWN: ({Status.VALID, Status.SUSPENDED}, Status.WITHDRAWN),
    Kind.CANCELLED: ({Status.VALID, Status.SUSPENDED}, Status.CANCELLED),
    Kind.EXPIRED: ({Status.VALID, Status.SUSPENDED}, Status.EXPIRED),
    Kind.SUPERSEDED: ({Status.VALID, Status.SUSPENDED}, Status.SUPERSEDED),
    Kind.REISSUED: ({Status.VALID}, Status.VALID),
}
EVENT_STATUS_CODE = {
    Kind.ISSUED: "01",
    Kind.SUSPENDED: "02",
    Kind.RESTORED: "01",
    Kind.WITHDRAWN: "03",
    Kind.CANCELLED: "04",
    Kind.EXPIRED: "05",
    Kind.SUPERSEDED: "03",
    Kind.REISSUED: "01",
}
# Change type codes of status changes (cnca_codes.json "change_type").
CHANGE_KINDS = {"97_01": Kind.SUSPENDED, "97_02": Kind.RESTORED, "97_05": Kind.EXPIRED}
SUPERSEDED_REASON = "0120"  # 因换发新证而撤销旧证书
IMPORT_REASON = "导入证书登记册"
HEADERS = dict(REGISTER_COLUMNS)
# Text that starts like a formula but is a plain signed number (a phone "+8610…", "-1").
SIGNED_NUMBER = re.compile(r"[+-]\d+(\.\d+)?")


class ImportRefused(RuleViolation):
    """The file has problems; nothing was written. ``result`` lists them per row."""

    def __init__(self, result: ImportResult):
        super().__init__(f"证书登记册有 {len(result.problems)} 处问题，未导入任何数据")
        self.result = result


@dataclass
class Problem:
    row: int  # spreadsheet row number (the header is row 1); 0 for the whole file
    message: str

    def __str__(self):
        return f"第 {self.row} 行：{self.message}" if self.row else self.message


@dataclass
class ParsedEvent:
    row: int
    kind: str
    on: date
    change_code: str = ""
    reason_code: str = ""
    ends_on: date | None = None


@dataclass
class ParsedCertificate:
    number: str
    parsed: numbering.CertificateNumber
    uscc: str
    row: int
    cells: dict
    events: list[ParsedEvent] = field(default_factory=list)


@dataclass
class ImportResult:
    rows: int = 0
    organisations: int = 0
    organisations_existing: int = 0
    certificates: int = 0
    events: int = 0
    skipped_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def import_register(content: bytes, *, actor, dry_run: bool = True) -> ImportResult:
    """Check (and unless ``dry_run`` import) a certificate register XLSX file.

    Returns an ``ImportResult`` with counts and every problem found (row numbers as shown in a
    spreadsheet program). Raises ``ImportRefused`` (a RuleViolation; nothing written) when
    ``dry_run`` is False and there are problems.
    """
    result = ImportResult()
    rows = _read(content, result)
    organisations, certificates = _check(rows, result) if rows is not None else ({}, {})
    if dry_run:
        return result
    if result.problems:
        raise ImportRefused(result)
    with transaction.atomic():
        _write(organisations, certificates, actor, result)
    result.written = True
    return result


# --- reading ---------------------------------------------------------------------------------


def _read(content: bytes, result: ImportResult) -> list[tuple[int, dict]] | None:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.escape import unescape

    try:
        # data_only=False: a formula cell reads as its formula ("=…"), refused below, instead
        # of its cached value (which a file written by a program may not even have).
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a non-XLSX file
        result.problems.append(Problem(0, f"无法读取 XLSX 文件：{exc}"))
        return None
    sheet = book.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = [_text(v) for v in next(lines, ())]
    by_name = {name: n for n, name in enumerate(header) if name}
    missing = [name for name in REGISTER_HEADERS if name not in by_name]
    if missing:
        result.problems.append(Problem(1, f"缺少列：{'、'.join(missing)}"))
        return None
    rows = []
    for n, values in enumerate(lines, start=2):
        if not values or all(v in (None, "") for v in values):
            continue
        cells = {}
        for key, name in REGISTER_COLUMNS:
            column = by_name[name]
            value = values[column] if column < len(values) else None
            if isinstance(value, str):
                # OOXML writes control characters as _xHHHH_ (a CR is _x000D_); openpyxl's
                # read-only mode leaves them escaped.
                value = unescape(value)
            if _formula_like(value):
                result.problems.append(
                    Problem(
                        n,
                        f"“{name}”列（{get_column_letter(column + 1)} 列）以 =、+、-、@、"
                        "制表符或回车开头，可能是公式，请改为纯文本",
                    )
                )
            cells[key] = _text(value)
        rows.append((n, cells))
    book.close()
    result.rows = len(rows)
    return rows


def _formula_like(value) -> bool:
    """A text cell a spreadsheet program could evaluate (see the module docstring)."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not SIGNED_NUMBER.fullmatch(value)
    )


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unneutralise(str(value).strip())


# --- checking --------------------------------------------------------------------------------


def _date(cells: dict, key: str, label: str, errors: list[str], required=True) -> date | None:
    value = cells.get(key, "")
    if not value:
        if required:
            errors.append(f"缺少{label}")
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        errors.append(f"{label}“{value}”不是 YYYY-MM-DD 格式的日期")
        return None


def _event_kind(cells: dict) -> str | None:
    """The event a row records, '' for a row without a status change, None when unknown."""
    change = cells["change_type"]
    activity = cells["activity"]
    if activity == ACTIVITY_SURVEILLANCE:
        return ""
    if not change:
        return Kind.ISSUED if activity in (ACTIVITY_INITIAL, ACTIVITY_RECERT) else None
    if change in CHANGE_KINDS:
        return CHANGE_KINDS[change]
    if change == "97_03":
        reason = cells["withdrawal_reason"]
        return Kind.SUPERSEDED if reason == SUPERSEDED_REASON else Kind.WITHDRAWN
    if cells["status"] == "04":
        return Kind.CANCELLED
    if cells["reissued"] == YES and cnca_label("change_type", change):
        return Kind.REISSUED
    return None


def _check(rows, result: ImportResult):
    scopes = set(BusinessScope.objects.values_list("code", flat=True))
    organisations: dict[str, dict] = {}
    certificates: dict[str, ParsedCertificate] = {}
    for n, cells in rows:
        errors: list[str] = []
        kind = _event_kind(cells)
        if kind is None:
            errors.append(
                f"无法识别的记录：审核活动类别“{cells['activity']}”，变更类别“{cells['change_type']}”"
            )
        if kind == "":
            result.skipped_rows += 1
            continue
        code = cells["uscc"]
        try:
            stdnum_uscc.validate(code)
            if stdnum_uscc.compact(code) != code:
                raise StdnumError("not compact")
        except StdnumError:
            errors.append(f"统一社会信用代码“{code}”无效")
        try:
            province_of(cells["division"])
        except ValueError:
            errors.append(f"行政区划代码“{cells['division']}”无效")
        for required, label in (
            ("org_name", "组织名称"),
            ("address", "通讯地址"),
            ("legal_rep", "法定代表人"),
            ("scope_text", "证书覆盖范围"),
        ):
            if not cells[required]:
                errors.append(f"缺少{label}")
        headcount = cells["headcount"]
        if not headcount.isdigit() or int(headcount) < 1:
            errors.append(f"组织人数“{headcount}”不是正整数")
        codes = []
        for part in filter(None, (p.strip() for p in cells["scope_codes"].split(SEPARATOR))):
            if not part.isdigit() or int(part) not in scopes:
                errors.append(f"未知的业务范围代码“{part}”")
            else:
                codes.append(int(part))
        if not codes:
            errors.append("缺少业务范围代码")
        if cells["grade"] not in GRADES:
            errors.append(f"未知的星级“{cells['grade']}”")
        if cells["mark"] and cells["mark"] not in MARKS:
            errors.append(f"未知的认可标志“{cells['mark']}”")
        number = cells["number"]
        try:
            parsed = numbering.parse_number(number)
        except ValueError:
            parsed = None
            errors.append(f"证书编号“{number}”格式不正确（004 附录C）")
        if parsed and MARKS.get(cells["mark"], parsed.accreditation) != parsed.accreditation:
            errors.append("认可标志与证书编号不一致")
        if parsed and parsed.is_sub != (cells["is_sub"] == YES):
            errors.append("“是否子证书”与证书编号不一致")
        if parsed and parsed.is_sub and cells["head_number"] != parsed.head:
            errors.append(f"主证书编号应为“{parsed.head}”")
        issued = _date(cells, "issued_on", "颁证日期", errors)
        expires = _date(cells, "expires_on", "证书到期日期", errors)
        on = _date(cells, "change_date", "变更日期", errors)
        if issued and expires and expires <= issued:
            errors.append("证书到期日期须晚于颁证日期")
        if parsed and issued and parsed.year != issued.year:
            errors.append("证书编号中的年份与颁证日期不一致（004 附录C.1）")
        if kind == Kind.ISSUED and on and issued and on != issued:
            errors.append("发证记录的变更日期应为颁证日期")
        if on and issued and on < issued:
            errors.append("变更日期早于颁证日期")
        event = ParsedEvent(n, kind or "", on or date.min, cells["change_type"])
        if kind == Kind.SUSPENDED:
            event.reason_code = cells["suspension_reason"]
            event.ends_on = _date(cells, "suspended_until", "暂停截止日期", errors)
            start = _date(cells, "suspended_from", "暂停开始日期", errors)
            if start and on and start != on:
                errors.append("暂停开始日期应与变更日期一致")
            if event.ends_on and on and event.ends_on <= on:
                errors.append("暂停截止日期须晚于暂停开始日期")
            if not cnca_label("suspension_reason", event.reason_code):
                errors.append(f"未知的暂停原因代码“{event.reason_code}”")
        elif kind in (Kind.WITHDRAWN, Kind.SUPERSEDED):
            event.reason_code = cells["withdrawal_reason"]
            if not cnca_label("withdrawal_reason", event.reason_code):
                errors.append(f"未知的撤销原因代码“{event.reason_code}”")
        elif kind in (Kind.CANCELLED, Kind.EXPIRED):
            event.reason_code = cells["cancellation_reason"]
            if event.reason_code and not cnca_label("cancellation_reason", event.reason_code):
                errors.append(f"未知的注销原因代码“{event.reason_code}”")
        elif kind == Kind.REISSUED:
            event.reason_code = cells["reissue_reason"]
        if kind and cells["status"] != EVENT_STATUS_CODE.get(kind):
            errors.append(f"证书状态“{cells['status']}”与变更类别不一致")
        if errors:
            result.problems.extend(Problem(n, message) for message in errors)
            continue
        organisations.setdefault(code, {"row": n, "cells": cells, "latest": on})
        if on >= organisations[code]["latest"]:
            organisations[code].update(cells=cells, latest=on)
        certificate = certificates.get(number)
        if certificate is None:
            certificate = certificates[number] = ParsedCertificate(
                number, parsed, code, n, {**cells, "scope_list": codes}
            )
        else:
            for key in ("uscc", "issued_on", "expires_on", "head_number"):
                if certificate.cells[key] != cells[key]:
                    result.problems.append(
                        Problem(
                            n,
                            f"同一证书 {number} 的“{HEADERS[key]}”前后不一致",
                        )
                    )
            certificate.cells.update({**cells, "scope_list": codes})
        certificate.events.append(event)
    _check_certificates(certificates, result)
    return organisations, certificates


def _check_certificates(certificates: dict[str, ParsedCertificate], result: ImportResult) -> None:
    existing = set(
        Certificate.objects.filter(number__in=list(certificates)).values_list("number", flat=True)
    )
    heads_in_db = set(
        Certificate.objects.filter(
            number__in=[c.parsed.head for c in certificates.values() if c.parsed.is_sub]
        ).values_list("number", flat=True)
    )
    # One head certificate per (year, sequence, cycle) (004 Appendix C.1; the database's
    # uniq_head_certificate_sequence).
    heads = [c for c in certificates.values() if not c.parsed.is_sub]
    taken = {
        (year, sequence, cycle): number
        for year, sequence, cycle, number in Certificate.objects.filter(
            head__isnull=True,
            year__in={c.parsed.year for c in heads},
            sequence__in={c.parsed.sequence for c in heads},
        ).values_list("year", "sequence", "cycle", "number")
    }
    in_file: dict[tuple[int, int, int], ParsedCertificate] = {}
    for number, certificate in certificates.items():
        if number in existing:
            result.problems.append(Problem(certificate.row, f"证书编号 {number} 已存在"))
            continue
        parsed = certificate.parsed
        if not parsed.is_sub:
            slot = (parsed.year, parsed.sequence, parsed.cycle)
            if slot in taken:
                result.problems.append(
                    Problem(
                        certificate.row,
                        f"证书编号 {number} 与已有证书 {taken[slot]} 年份、流水号和再认证次数相同",
                    )
                )
                continue
            if slot in in_file:
                first = in_file[slot]
                result.problems.append(
                    Problem(
                        certificate.row,
                        f"证书编号 {number} 与第 {first.row} 行的证书 {first.number} "
                        "年份、流水号和再认证次数相同",
                    )
                )
                continue
            in_file[slot] = certificate
        if parsed.is_sub and parsed.head not in certificates and parsed.head not in heads_in_db:
            result.problems.append(
                Problem(certificate.row, f"子证书 {number} 的主证书 {parsed.head} 不在文件或系统中")
            )
        certificate.events.sort(key=lambda e: (e.on, e.kind != Kind.ISSUED, e.row))
        events = certificate.events
        if not events or events[0].kind != Kind.ISSUED:
            result.problems.append(Problem(certificate.row, f"证书 {number} 缺少发证记录"))
            continue
        status = Status.VALID
        for event in events[1:]:
            if event.kind == Kind.ISSUED:
                result.problems.append(Problem(event.row, f"证书 {number} 有重复的发证记录"))
                continue
            sources, target = TRANSITIONS[event.kind]
            if status not in sources:
                result.problems.append(
                    Problem(
                        event.row,
                        f"证书 {number} 的状态变更顺序不合理：当前状态为"
                        f"“{Status(status).label}”，不能“{event.kind}”",
                    )
                )
                break
            status = target
        certificate.cells["final_status"] = status


# --- writing ---------------------------------------------------------------------------------


def _write(organisations, certificates: dict[str, ParsedCertificate], actor, result) -> None:
    cb = CertificationBody.objects.order_by("pk").first()
    standard_default = cb.standard if cb else "GB/T 27922"
    scope_ids = dict(BusinessScope.objects.values_list("code", "pk"))
    present = {o.uscc: o for o in Organization.objects.filter(uscc__in=list(organisations))}
    orgs: dict[str, Organization] = {}
    for code, data in organisations.items():
        if code in present:
            orgs[code] = present[code]
            result.organisations_existing += 1
            continue
        cells = data["cells"]
        organization = Organization(
            name=cells["org_name"],
            name_en=cells["org_name_en"],
            former_name=cells["org_former_name"],
            uscc=code,
            registered_address=cells["address"],
            postcode=cells["postcode"][:6],
            division_code=cells["division"],
            industry=cells["industry"],
            legal_representative=cells["legal_rep"],
            contact_name=cells["legal_rep"],
            contact_phone=cells["phone"] or "-",
            headcount=int(cells["headcount"]),
        )
        record(organization, actor=actor, reason=IMPORT_REASON)
        organization.save()
        organization.business_scopes.set(
            {
                scope_ids[c]
                for cert in certificates.values()
                if cert.uscc == code
                for c in cert.cells["scope_list"]
            }
        )
        orgs[code] = organization
        result.organisations += 1
    created: dict[str, Certificate] = {
        c.number: c
        for c in Certificate.objects.filter(
            number__in=[p.parsed.head for p in certificates.values() if p.parsed.is_sub]
        )
    }
    # Heads before their sub-certificates, earlier cycles before later ones.
    order = sorted(certificates.values(), key=lambda c: (c.parsed.is_sub, c.parsed.cycle, c.number))
    highest: dict[int, int] = defaultdict(int)
    for parsed_certificate in order:
        certificate = _certificate(parsed_certificate, orgs, created, standard_default)
        record(certificate, actor=actor, reason=IMPORT_REASON)
        certificate.save()
        certificate.business_scopes.set(
            [scope_ids[c] for c in parsed_certificate.cells["scope_list"]]
        )
        created[certificate.number] = certificate
        CertificateEvent.objects.bulk_create(
            CertificateEvent(
                certificate=certificate,
                kind=event.kind,
                occurred_on=event.on,
                status_code=EVENT_STATUS_CODE[event.kind],
                change_code=event.change_code,
                reason_code=event.reason_code,
                ends_on=event.ends_on,
                reason=_reason(event) or IMPORT_REASON,
                evidence=f"{IMPORT_REASON}（第 {event.row} 行）",
                actor=actor,
            )
            for event in parsed_certificate.events
        )
        result.certificates += 1
        result.events += len(parsed_certificate.events)
        p = parsed_certificate.parsed
        highest[p.year] = max(highest[p.year], p.sequence)
    _link_superseded(created, certificates, actor)
    # The events went in by bulk_create (no signals): rebuild the public rows once at the end.
    public_rows_refresh(certificate.pk for certificate in created.values())
    for year, last in highest.items():
        CertificateSequence.objects.bulk_create(
            [CertificateSequence(year=year, last=0)], ignore_conflicts=True
        )
        CertificateSequence.objects.filter(year=year, last__lt=last).update(last=last)


def _reason(event: ParsedEvent) -> str:
    table = {
        Kind.SUSPENDED: "suspension_reason",
        Kind.WITHDRAWN: "withdrawal_reason",
        Kind.SUPERSEDED: "withdrawal_reason",
        Kind.CANCELLED: "cancellation_reason",
        Kind.EXPIRED: "cancellation_reason",
        Kind.REISSUED: "reissue_reason",
    }.get(event.kind)
    return cnca_label(table, event.reason_code) if table and event.reason_code else ""


def _certificate(
    parsed_certificate: ParsedCertificate, orgs, created, standard_default
) -> Certificate:
    cells = parsed_certificate.cells
    p = parsed_certificate.parsed
    events = parsed_certificate.events
    # A reissue keeps the status and its date (004 Appendix C.3).
    last = next(e for e in reversed(events) if e.kind != Kind.REISSUED)
    status = cells["final_status"]
    suspension = next((e for e in reversed(events) if e.kind == Kind.SUSPENDED), None)
    reissue = next((e for e in reversed(events) if e.kind == Kind.REISSUED), None)
    certificate = Certificate(
        number=parsed_certificate.number,
        organization=orgs[parsed_certificate.uscc],
        organization_name=cells["org_name"],
        registered_address=cells["address"],
        head=created.get(p.head) if p.is_sub else None,
        year=p.year,
        sequence=p.sequence,
        cycle=p.cycle,
        accreditation=p.accreditation,
        scope_text=cells["scope_text"],
        star_grade=GRADES[cells["grade"]],
        standard=cells["standard"] or standard_default,
        issued_on=date.fromisoformat(cells["issued_on"]),
        expires_on=date.fromisoformat(cells["expires_on"]),
        status=status,
        status_changed_on=last.on,
        status_reason=_reason(last) if last.kind != Kind.ISSUED else "",
    )
    if status == Status.SUSPENDED and suspension:
        certificate.suspended_from = suspension.on
        certificate.suspended_until = suspension.ends_on
    if reissue is not None:
        certificate.reissued_on = reissue.on
        certificate.reissue_reason = _reason(reissue)
    return certificate


def _link_superseded(created: dict[str, Certificate], certificates, actor) -> None:
    """Point each replaced head certificate at the organisation's next-cycle head issued on the
    day it was replaced (004 Appendix C.4)."""
    heads = [c for c in created.values() if c.head_id is None]
    by_org = defaultdict(list)
    for certificate in heads:
        by_org[certificate.organization_id].append(certificate)
    for certificate in heads:
        if certificate.number not in certificates or certificate.status != Status.SUPERSEDED:
            continue
        successor = next(
            (
                c
                for c in by_org[certificate.organization_id]
                if c.cycle == certificate.cycle + 1 and c.issued_on == certificate.status_changed_on
            ),
            None,
        )
        if successor is not None:
            certificate.superseded_by = successor
            record(certificate, actor=actor, reason=IMPORT_REASON)
            certificate.save(update_fields=["superseded_by"])


def analyze() -> None:
    """Refresh the database's statistics after a bulk load (an import, ``generate_data``): the
    planner's estimates (and SQLite's index choice) are otherwise those of the empty tables until
    autovacuum gets there, and with them a periodic job's first pass over the new rows can take
    minutes. On PostgreSQL outside a transaction it runs ``VACUUM (ANALYZE)``: as autovacuum
    would after a bulk insert, the new rows are also marked visible to all, so a list's
    ``COUNT(*)`` reads an index instead of every row of the table. Inside a transaction, where
    VACUUM cannot run, and on SQLite: ``ANALYZE``."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM (ANALYZE)")
        else:
            cursor.execute("ANALYZE")
