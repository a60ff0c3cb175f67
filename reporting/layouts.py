"""Regulator file layouts as data (issue #17): which sheets, columns, headers, code tables and
cell formats a report is written with.

A layout is a JSON value (stored versioned in ``ReportLayout.spec``; the default one is built
here from the register's column constants, 002 §4.3.3.1)::

    {"sheets": [{"name": "获证组织基本信息月报",
                 "columns": [{"header": "组织名称", "field": "org_name", "required": true,
                              "code_table": "", "format": "text", "required_when": null}, …]}],
     "date_order": [["audit_start", "audit_end"], …],
     "synonyms": {"单位名称": "org_name"}}

Builders produce rows of named fields (``reporting.reports``, ``keys=``); ``apply`` writes them
through the layout (sheet names, column order, headers, formats); ``validate`` lists every
problem by row and column (required cells, code tables, dates in order). ``read_template``
reads the platform's own template file (an XLSX whose header rows name the columns) and
``match`` maps its headers to field names, listing every unknown header by name.

Only the kinds in ``CATALOGUES`` have layouts (the certificate register reports and the
platform's three-sheet upload, ``platform_upload``); the others are written as built. Version 1
of every default layout is stored by the data migration ``reporting 0006``; ``active`` reads the
stored row and falls back to the code-built default only when no row exists.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext

from certbody.reference import read_json
from certbody.spreadsheets import Report, Sheet, cell_text
from certificates.importer import GRADE_LABELS, MARK_LABELS, NO, REGISTER_COLUMNS, YES
from reporting.models import REPORT_TITLES

# --- the field catalogue ----------------------------------------------------------------------

# Fields the register builders can produce beyond the default columns (a platform template may
# ask for them): field → default header.
EXTRA_FIELDS = {"contact_name": "联系人"}

REQUIRED_FIELDS = {
    "org_name",
    "uscc",
    "country",
    "division",
    "activity",
    "change_date",
    "number",
    "is_sub",
    "multi_site",
    "field",
    "standard",
    "issued_on",
    "expires_on",
    "status",
}
CODE_TABLE_OF = {
    "activity": "report_audit_activity",
    "audit_type": "audit_type",
    "change_type": "change_type",
    "status": "certificate_status",
    "suspension_reason": "suspension_reason",
    "withdrawal_reason": "withdrawal_reason",
    "cancellation_reason": "cancellation_reason",
    "reissue_reason": "reissue_reason",
    "field": "certification_field",
    "mark": "accreditation_mark_label",
    "grade": "grade_label",
    "is_sub": "yes_no",
    "multi_site": "yes_no",
    "reissued": "yes_no",
    "report_type": "platform_report_type",
    "audit_stage": "platform_audit_stage",
    "team_role": "platform_team_role",
}
DATE_FIELDS = {
    "change_date",
    "audit_start",
    "audit_end",
    "issued_on",
    "expires_on",
    "suspended_from",
    "suspended_until",
    "withdrawn_on",
    "cancelled_on",
    "reissued_on",
}
NUMBER_FIELDS = {"headcount", "audit_days"}
DATE_FIELDS |= {"planned_start", "planned_end", "plan_reported_on"}
AUDITED = ["01", "02", "03"]  # initial, recertification, surveillance rows carry their audit
REQUIRED_WHEN = {
    "head_number": {"field": "is_sub", "in": [YES]},
    "audit_type": {"field": "activity", "in": AUDITED},
    "audit_start": {"field": "activity", "in": AUDITED},
    "audit_end": {"field": "activity", "in": AUDITED},
    "suspension_reason": {"field": "change_type", "in": ["97_01"]},
    "suspended_from": {"field": "change_type", "in": ["97_01"]},
    "withdrawal_reason": {"field": "change_type", "in": ["97_03"]},
    "withdrawn_on": {"field": "change_type", "in": ["97_03"]},
    "reissue_reason": {"field": "reissued", "in": [YES]},
}
DATE_ORDER = [
    ["audit_start", "audit_end"],
    ["issued_on", "expires_on"],
    ["suspended_from", "suspended_until"],
]
# Headers the platform's templates have used for the same fields (normalised text → field);
# the reporting officer adds to it on the confirm page of a template load.
SYNONYMS = {
    "单位名称": "org_name",
    "获证组织名称": "org_name",
    "组织机构代码": "uscc",
    "统一社会信用代码/组织机构代码": "uscc",
    "组织地址": "address",
    "注册地址": "address",
    "证书号": "number",
    "认证证书编号": "number",
    "发证日期": "issued_on",
    "证书有效期至": "expires_on",
    "证书状态代码": "status",
    "联系人姓名": "contact_name",
}

REGISTER_KINDS = ("organisations_monthly", "status_change")
PLATFORM_KIND = "platform_upload"


def _register_catalogue() -> dict[str, str]:
    return {**dict(REGISTER_COLUMNS), **EXTRA_FIELDS}


# --- the platform's upload structure: three sheets ----------------------------------------------

# Report types of the certificate sheet (issue #17). The seeds and cnca_codes.json give no code
# for a first issue: "01" is used for it (the issue lists 02, 04 and 05 only).
REPORT_TYPE_ISSUE = "01"
REPORT_TYPE_REISSUE = "02"
REPORT_TYPE_INFORMATION = "04"
REPORT_TYPE_STATUS = "05"
# Audit stages of the audit-team and audit-plan sheets (issue #17).
STAGE_1, STAGE_2, STAGE_RECERTIFICATION, STAGE_SURVEILLANCE, STAGE_SPECIAL = (
    "0101",
    "0102",
    "0201",
    "03",
    "04",
)
SITE_STAGES = [STAGE_2, STAGE_RECERTIFICATION, STAGE_SURVEILLANCE, STAGE_SPECIAL]
# Team roles: cnca_codes.json has no code table for them, so the register's own labels are
# the codes (reporting.reports.register.ROLE_LABELS).
TEAM_ROLES = ("组长", "组员", "实习审查员", "技术专家")
REGISTERED_ROLES = ["组长", "组员", "实习审查员"]  # experts hold no registration (004 §4.2)

# Headers of the platform's fields that the register does not have; the others keep the
# register's headers (REGISTER_COLUMNS), so one field reads the same on every sheet.
PLATFORM_HEADERS = {
    "report_type": "上报类型",
    "audit_stage": "审核阶段",
    "auditor_name": "审核员姓名",
    "registration_number": "注册证书号",
    "team_role": "组内身份",
    "planned_start": "计划开始日期",
    "planned_end": "计划结束日期",
    "plan_reported_on": "审核计划上报日期",
    "sites": "审核场所",
}


def _sheet(*fields: str) -> list[tuple[str, str]]:
    """``(field, header)`` pairs of a platform sheet: its own header, else the register's."""
    register = dict(REGISTER_COLUMNS)
    return [(field, PLATFORM_HEADERS.get(field) or register[field]) for field in fields]


CERTIFICATE_SHEET = _sheet(
    "report_type",
    "number",
    "is_sub",
    "head_number",
    "org_name",
    "uscc",
    "division",
    "address",
    "mark",
    "field",
    "standard",
    "scope_text",
    "grade",
    "issued_on",
    "expires_on",
    "change_type",
    "change_date",
    "status",
    "reissue_reason",
    "suspension_reason",
    "suspended_from",
    "suspended_until",
    "withdrawal_reason",
    "withdrawn_on",
    "cancellation_reason",
    "cancelled_on",
)
TEAM_SHEET = _sheet(
    "number",
    "audit_stage",
    "auditor_name",
    "registration_number",
    "team_role",
    "audit_start",
    "audit_end",
)
PLAN_SHEET = _sheet(
    "number",
    "audit_stage",
    "planned_start",
    "planned_end",
    "audit_days",
    "plan_reported_on",
    "sites",
)
PLATFORM_SHEETS = [
    ("证书信息", CERTIFICATE_SHEET),
    ("审核组信息", TEAM_SHEET),
    ("审核计划信息", PLAN_SHEET),
]
# Fields a template's sheet may ask for beyond the default columns (the builder produces them).
_NOT_ON_CERTIFICATE_SHEET = {
    "activity",
    "audit_type",
    "audit_days",
    "audit_start",
    "audit_end",
    "team_names",
    "team_ids",
    "team_qualifications",
    "team_roles",
    "team_full_time",
}
PLATFORM_CATALOGUES = [
    {
        **dict(CERTIFICATE_SHEET),
        **{
            f: h
            for f, h in _register_catalogue().items()
            if f not in _NOT_ON_CERTIFICATE_SHEET and f not in dict(CERTIFICATE_SHEET)
        },
    },
    {**dict(TEAM_SHEET), "qualification": "资格类型", "full_time": "是否专职"},
    {**dict(PLAN_SHEET), "audit_start": "审核开始日期", "audit_end": "审核结束日期"},
]
PLATFORM_REQUIRED = [
    {"report_type", "number", "is_sub", "org_name", "uscc", "issued_on", "expires_on"}
    | {"change_date", "status"},
    {"number", "audit_stage", "auditor_name", "team_role", "audit_start", "audit_end"},
    {"number", "audit_stage", "audit_days"},
]
PLATFORM_REQUIRED_WHEN = {
    **{f: REQUIRED_WHEN[f] for f in REQUIRED_WHEN if f not in ("reissue_reason",)},
    "reissue_reason": {
        "field": "report_type",
        "in": [REPORT_TYPE_REISSUE, REPORT_TYPE_INFORMATION],
    },
    "registration_number": {"field": "team_role", "in": REGISTERED_ROLES},
    "planned_start": {"field": "audit_stage", "in": SITE_STAGES},
    "planned_end": {"field": "audit_stage", "in": SITE_STAGES},
    # The plan of an audit on site is reported to CNCA before it starts (004 §9.2).
    "plan_reported_on": {"field": "audit_stage", "in": SITE_STAGES},
}
PLATFORM_DATE_ORDER = [*DATE_ORDER, ["planned_start", "planned_end"]]

# Report kind → one {field: default header} per sheet: the fields each sheet may use.
SHEET_CATALOGUES: dict[str, list[dict[str, str]]] = {
    **{kind: [_register_catalogue()] for kind in REGISTER_KINDS},
    PLATFORM_KIND: PLATFORM_CATALOGUES,
}
# Report kind → {field: default header}: every field a layout of that kind may use.
CATALOGUES: dict[str, dict[str, str]] = {
    kind: {f: h for catalogue in sheets for f, h in catalogue.items()}
    for kind, sheets in SHEET_CATALOGUES.items()
}

_CNCA = read_json("cnca_codes.json")


def _code_tables() -> dict[str, frozenset[str]]:
    tables = {name: frozenset(values) for name, values in _CNCA.items() if isinstance(values, dict)}
    tables.update(
        yes_no=frozenset([YES, NO]),
        accreditation_mark_label=frozenset(MARK_LABELS.values()),
        grade_label=frozenset(GRADE_LABELS.values()),
        # The platform's upload structure (certificate, audit-team and audit-plan sheets):
        # audit stage codes and report types, for layouts that carry them.
        platform_audit_stage=frozenset(["0101", "0102", "0201", "03", "04"]),
        # 01 (first issue) is not in the issue's list; see REPORT_TYPE_ISSUE.
        platform_report_type=frozenset(["01", "02", "04", "05"]),
        platform_team_role=frozenset(TEAM_ROLES),
    )
    return tables


CODE_TABLES = _code_tables()


def _rules(kind: str, sheet: int) -> tuple[set[str], dict]:
    """``(required fields, required_when)`` of sheet ``sheet`` of a layout of ``kind``."""
    if kind == PLATFORM_KIND:
        return PLATFORM_REQUIRED[sheet], PLATFORM_REQUIRED_WHEN
    return REQUIRED_FIELDS, REQUIRED_WHEN


def column_spec(field: str, header: str, kind: str = REGISTER_KINDS[0], sheet: int = 0) -> dict:
    """The default column of ``field`` under ``header`` on sheet ``sheet`` (0-based) of a layout
    of ``kind``: required flag, code table, format, condition that makes it required."""
    required, required_when = _rules(kind, sheet)
    fmt = "date" if field in DATE_FIELDS else "number" if field in NUMBER_FIELDS else "text"
    return {
        "header": header,
        "field": field,
        "required": field in required,
        "code_table": CODE_TABLE_OF.get(field, ""),
        "format": fmt,
        "required_when": required_when.get(field),
    }


def date_order(kind: str) -> list[list[str]]:
    """The ``[earlier, later]`` field pairs whose dates must be in order in ``kind``'s rows."""
    return PLATFORM_DATE_ORDER if kind == PLATFORM_KIND else DATE_ORDER


def default_spec(kind: str) -> dict:
    """The built-in layout of ``kind``: for the register kinds today's register columns (002
    §4.3.3.1), one sheet named after the report; for ``platform_upload`` the platform's
    certificate, audit-team and audit-plan sheets (issue #17). The source of version 1 stored
    by the data migration, and the fallback when no layout row exists."""
    if kind == PLATFORM_KIND:
        sheets = [
            {
                "name": name,
                "columns": [column_spec(f, h, kind, n) for f, h in columns],
            }
            for n, (name, columns) in enumerate(PLATFORM_SHEETS)
        ]
    else:
        columns = [column_spec(field, header) for field, header in REGISTER_COLUMNS]
        sheets = [{"name": REPORT_TITLES[kind], "columns": columns}]
    return {"sheets": sheets, "date_order": date_order(kind), "synonyms": {}}


@dataclass(frozen=True)
class Layout:
    """A layout in use: its kind, version (0: the built-in default) and JSON spec."""

    kind: str
    version: int
    spec: dict
    pk: int | None = None

    def fields(self, sheet: int = 0) -> list[str]:
        """The field names of ``sheet``'s columns, in order."""
        return [c["field"] for c in self.spec["sheets"][sheet]["columns"]]

    def headers(self, sheet: int = 0) -> list[str]:
        return [c["header"] for c in self.spec["sheets"][sheet]["columns"]]

    def sheet_fields(self) -> list[list[str]]:
        """The field names of every sheet's columns, sheet by sheet."""
        return [self.fields(n) for n in range(len(self.spec["sheets"]))]

    def header_of(self, field: str) -> str | None:
        """The header ``field`` is written under (first sheet that has it), or None."""
        for sheet in self.spec["sheets"]:
            for column in sheet["columns"]:
                if column["field"] == field:
                    return column["header"]
        return None


def active(kind: str) -> Layout | None:
    """The layout reports of ``kind`` are written with: the active stored ``ReportLayout``
    (version 1 is the default, stored by the data migration), else — no row, e.g. tables
    emptied — the code-built default as version 0; None for kinds without layouts (written
    as built)."""
    if kind not in CATALOGUES:
        return None
    from reporting.models import ReportLayout

    row = ReportLayout.objects.filter(kind=kind, active=True).first()
    if row is None:
        return Layout(kind, 0, default_spec(kind))
    return Layout(kind, row.version, row.spec, row.pk)


DEFAULT_SOURCE = "默认格式（系统内置）"


def store_defaults(layout_model=None, user_model=None) -> list[str]:
    """Store version 1 of the default layout (``default_spec``) of every kind that has no
    stored layout yet, active, loaded by the system user (created as in ``certbody`` 0002 when
    missing). Idempotent: kinds with any stored version are left alone. The models default to
    the real ones; the data migration passes its historical models. Returns the kinds stored.

    The layouts keep ``loaded_by`` required: every version names who loaded it, and the
    defaults were loaded by the named system actor of migrations and jobs.
    """
    from django.utils import timezone

    from certbody.roles import SYSTEM_USERNAME

    if layout_model is None:
        from django.contrib.auth import get_user_model

        from reporting.models import ReportLayout as layout_model

        user_model = get_user_model()
    system, _ = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"display_name": "系统", "is_active": False, "password": "!"},
    )
    stored = []
    for kind in CATALOGUES:
        if layout_model.objects.filter(kind=kind).exists():
            continue
        layout_model.objects.create(
            kind=kind,
            version=1,
            active=True,
            spec=default_spec(kind),
            source_name=DEFAULT_SOURCE,
            loaded_by=system,
            loaded_at=timezone.now(),
        )
        stored.append(kind)
    return stored


def of_run(run) -> Layout | None:
    """The layout ``run``'s files were written with (the default for runs before layouts)."""
    if run.kind not in CATALOGUES:
        return None
    if run.layout_id:
        return Layout(run.kind, run.layout.version, run.layout.spec, run.layout_id)
    return Layout(run.kind, 0, default_spec(run.kind))


# --- writing through a layout ----------------------------------------------------------------


def _text(value):
    return None if value is None else cell_text(value)


def apply(report: Report, layout: Layout) -> Report:
    """``report`` (built with ``keys=layout.fields(i)`` for its sheet i) as the layout writes
    it: the layout's sheet names and headers; cells of a "text" column that hold numbers become
    text. The rows are the builder's (no copy when no conversion is needed)."""
    sheets = []
    for n, sheet in enumerate(report.sheets):
        spec = layout.spec["sheets"][n]
        columns = spec["columns"]
        rows = sheet.rows
        texts = [
            i
            for i, c in enumerate(columns)
            if c.get("format") == "text" and c["field"] in NUMBER_FIELDS
        ]
        if texts:
            rows = [list(row) for row in rows]
            for row in rows:
                for i in texts:
                    row[i] = _text(row[i])
        sheets.append(Sheet(spec.get("name") or sheet.title, [c["header"] for c in columns], rows))
    return Report(report.title, sheets, report.problems, report.dates_as_text)


# --- validation before download --------------------------------------------------------------


def validate(report: Report, layout: Layout, limit: int = 1000) -> list[dict]:
    """Every problem of ``report`` (written through ``layout``) by sheet, row and column:
    required cells left empty (always, or when another cell has given values), codes outside
    their code table, dates in the wrong format or order. Rows count from 2 (row 1 holds the
    headers), as the spreadsheet shows them. At most ``limit`` problems (the rest counted in a
    last entry). Each finding: ``{sheet, row, column (header), col (0-based), code, …}``;
    ``describe`` gives its message."""
    problems: list[dict] = []
    total = 0
    for s, sheet in enumerate(report.sheets):
        columns = layout.spec["sheets"][s]["columns"]
        for r, i, code, params in _sheet_problems(sheet.rows, columns, layout.spec):
            total += 1
            if len(problems) < limit:
                header = columns[i]["header"]
                problems.append(
                    {"sheet": sheet.title, "row": r, "column": header, "col": i, "code": code}
                    | params
                )
    if total > len(problems):
        problems.append(
            {"sheet": "", "row": 0, "column": "", "col": -1, "code": "more"}
            | {"count": total - len(problems)}
        )
    return problems


def _sheet_problems(rows, columns: list[dict], spec: dict):
    """``(row number, column index, code, params)`` of every problem of one sheet's rows."""
    index = {c["field"]: i for i, c in enumerate(columns)}
    checks = []
    for i, c in enumerate(columns):
        when = c.get("required_when")
        condition = None
        if when and when["field"] in index:
            condition = (index[when["field"]], set(when["in"]))
        table = CODE_TABLES.get(c.get("code_table") or "")
        checks.append((i, c.get("required"), condition, table, c.get("format")))
    order = [
        (index[a], index[b], columns[index[a]]["header"])
        for a, b in spec.get("date_order", [])
        if a in index and b in index
    ]
    for r, row in enumerate(rows, start=2):
        for i, required, condition, table, fmt in checks:
            value = row[i]
            if value is None or value == "":
                if required or (condition and row[condition[0]] in condition[1]):
                    yield r, i, "required", {}
            elif table is not None and str(value) not in table:
                yield r, i, "code_table", {"value": str(value), "table": columns[i]["code_table"]}
            elif fmt == "date" and not isinstance(value, date):
                yield r, i, "not_date", {"value": str(value)}
            elif fmt == "number" and not isinstance(value, int | Decimal | float):
                yield r, i, "not_number", {"value": str(value)}
        for a, b, earlier in order:
            first, second = row[a], row[b]
            if isinstance(first, date) and isinstance(second, date) and first > second:
                yield r, b, "order", {"earlier": earlier}


def describe(finding: dict) -> str:
    """The message of one ``validate`` finding in the active language."""
    code = finding.get("code")
    if code == "required":
        return gettext("Required cell is empty.")
    if code == "code_table":
        return gettext("“%(value)s” is not in the code table %(table)s.") % finding
    if code == "not_date":
        return gettext("“%(value)s” is not a date.") % finding
    if code == "not_number":
        return gettext("“%(value)s” is not a number.") % finding
    if code == "order":
        return gettext("Earlier than “%(earlier)s”.") % finding
    if code == "more":
        return gettext("… and %(count)s more problems.") % finding
    return str(finding.get("message", ""))


# --- loading the platform's template ---------------------------------------------------------

_SPACE = re.compile(r"[\s\u3000]+")


def normalise(header) -> str:
    """Header text as matched: spaces and required-markers (*) removed, full-width brackets
    and slashes as ASCII."""
    text = _SPACE.sub("", str(header or ""))
    text = text.replace("（", "(").replace("）", ")").replace("／", "/")
    return text.strip("*＊")


def read_template(content: bytes) -> list[dict]:
    """The sheets of a platform template XLSX: ``[{"name", "headers": [text…],
    "required": [bool…]}]``. A sheet's header row is the row among its first five with the most
    non-empty cells (a title row above it is skipped); a header marked with ``*`` is a required
    column. Raises ``ValueError`` for a file that is no XLSX or has no header row."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise ValueError(gettext("The file is not an XLSX workbook.")) from exc
    sheets = []
    for ws in book.worksheets:
        best: list = []
        for row in ws.iter_rows(min_row=1, max_row=5, values_only=True):
            cells = [c for c in row if c not in (None, "")]
            if len(cells) > len([c for c in best if c not in (None, "")]):
                best = list(row)
        while best and best[-1] in (None, ""):
            best.pop()
        if not best:
            continue
        headers = [str(c).strip() if c is not None else "" for c in best]
        sheets.append(
            {
                "name": ws.title,
                "headers": [normalise(h) for h in headers],
                "required": [h.strip().startswith(("*", "＊")) or h.endswith("*") for h in headers],
            }
        )
    book.close()
    if not sheets:
        raise ValueError(gettext("The file has no header row."))
    return sheets


def known_synonyms(kind: str) -> dict[str, str]:
    """Normalised header → field: the built-in synonyms, every earlier layout's of ``kind``
    and the catalogue's own headers."""
    from reporting.models import ReportLayout

    found = {normalise(header): field for field, header in CATALOGUES[kind].items()}
    found.update({normalise(h): f for h, f in SYNONYMS.items()})
    for spec in (
        ReportLayout.objects.filter(kind=kind).order_by("version").values_list("spec", flat=True)
    ):
        found.update({normalise(h): f for h, f in (spec.get("synonyms") or {}).items()})
    return found


def qualified(sheet_name: str, header: str) -> str:
    """How an unknown header of a several-sheet template is named: ``sheet：header``."""
    return f"{sheet_name}：{header}"


def order_sheets(kind: str, sheets: list[dict]) -> list[dict]:
    """The template's ``sheets`` (``read_template``) in the order of ``kind``'s sheets: by sheet
    name when every default sheet name is found (spaces and brackets normalised), else in the
    template's order. Raises ``ValueError`` naming the sheets when their number differs."""
    expected = [s["name"] for s in default_spec(kind)["sheets"]]
    if len(sheets) != len(expected):
        raise ValueError(
            gettext(
                "The report has %(expected)s sheet(s) (%(names)s); the template has %(count)s: "
                "%(found)s."
            )
            % {
                "expected": len(expected),
                "names": gettext(", ").join(expected),
                "count": len(sheets),
                "found": gettext(", ").join(s["name"] for s in sheets),
            }
        )
    by_name = {normalise(s["name"]): s for s in sheets}
    if len(expected) > 1 and all(normalise(name) in by_name for name in expected):
        return [by_name[normalise(name)] for name in expected]
    return list(sheets)


def match(kind: str, sheets: list[dict], mapping: dict[str, str] | None = None):
    """Map a template's headers (``read_template``) to fields of ``kind``, sheet by sheet.

    The template's sheets are taken in the report's order (``order_sheets``: by name, else by
    order; ``ValueError`` for another number of sheets). ``mapping``: header → field chosen on
    the confirm page (overrides the synonyms); for a several-sheet kind the header may be
    qualified by its sheet (``qualified``). Returns ``(spec, unknown)``: the layout spec
    (columns with the catalogue's code tables and formats, the template's required marks
    added; the template's sheet names) and the headers no field of their sheet matched, by
    name, in order — qualified by sheet for a several-sheet kind.
    """
    catalogues = SHEET_CATALOGUES[kind]
    multi = len(catalogues) > 1
    synonyms = known_synonyms(kind)
    chosen = {normalise(h): f for h, f in (mapping or {}).items() if f in CATALOGUES[kind]}
    unknown: list[str] = []
    used_synonyms = {}
    out = []
    for n, sheet in enumerate(order_sheets(kind, sheets)):
        catalogue = catalogues[n]
        columns = []
        for header, marked in zip(sheet["headers"], sheet["required"], strict=True):
            name = qualified(sheet["name"], header) if multi else header
            field = chosen.get(normalise(name)) or chosen.get(header) or synonyms.get(header)
            if field is None or field not in catalogue:
                unknown.append(name if header else gettext("(empty header)"))
                continue
            if normalise(catalogue[field]) != header:
                used_synonyms[header] = field
            column = column_spec(field, header, kind, n)
            column["required"] = column["required"] or marked
            columns.append(column)
        out.append({"name": sheet["name"], "columns": columns})
    spec = {"sheets": out, "date_order": date_order(kind), "synonyms": used_synonyms}
    return spec, unknown


def missing_required(spec: dict, kind: str = REGISTER_KINDS[0]) -> list[str]:
    """The required fields no column of ``spec``'s sheet holds, as ``header (field)`` with the
    field's default header (prefixed ``sheet：`` for a several-sheet kind), sheet by sheet in
    catalogue order."""
    catalogues = SHEET_CATALOGUES[kind]
    missing = []
    for n, sheet in enumerate(spec["sheets"]):
        present = {c["field"] for c in sheet["columns"]}
        required, _ = _rules(kind, n)
        for field, header in catalogues[n].items():
            if field in required and field not in present:
                name = f"{header} ({field})"
                missing.append(qualified(sheet["name"], name) if len(catalogues) > 1 else name)
    return missing
