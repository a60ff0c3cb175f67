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

Only the kinds in ``CATALOGUES`` have layouts (the certificate register reports); the others
are written as built.
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


def _register_catalogue() -> dict[str, str]:
    return {**dict(REGISTER_COLUMNS), **EXTRA_FIELDS}


# Report kind → {field: default header}: the fields a layout of that kind may use.
CATALOGUES: dict[str, dict[str, str]] = {kind: _register_catalogue() for kind in REGISTER_KINDS}

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
        platform_report_type=frozenset(["02", "04", "05"]),
    )
    return tables


CODE_TABLES = _code_tables()


def column_spec(field: str, header: str) -> dict:
    """The default column of ``field`` under ``header`` (required flag, code table, format)."""
    fmt = "date" if field in DATE_FIELDS else "number" if field in NUMBER_FIELDS else "text"
    return {
        "header": header,
        "field": field,
        "required": field in REQUIRED_FIELDS,
        "code_table": CODE_TABLE_OF.get(field, ""),
        "format": fmt,
        "required_when": REQUIRED_WHEN.get(field),
    }


def default_spec(kind: str) -> dict:
    """The built-in layout of ``kind``: today's register columns (002 §4.3.3.1), one sheet named
    after the report."""
    columns = [column_spec(field, header) for field, header in REGISTER_COLUMNS]
    return {
        "sheets": [{"name": REPORT_TITLES[kind], "columns": columns}],
        "date_order": DATE_ORDER,
        "synonyms": {},
    }


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

    def header_of(self, field: str) -> str | None:
        """The header ``field`` is written under (first sheet that has it), or None."""
        for sheet in self.spec["sheets"]:
            for column in sheet["columns"]:
                if column["field"] == field:
                    return column["header"]
        return None


def active(kind: str) -> Layout | None:
    """The layout reports of ``kind`` are written with: the active ``ReportLayout``, else the
    built-in default; None for kinds without layouts (written as built)."""
    if kind not in CATALOGUES:
        return None
    from reporting.models import ReportLayout

    row = ReportLayout.objects.filter(kind=kind, active=True).first()
    if row is None:
        return Layout(kind, 0, default_spec(kind))
    return Layout(kind, row.version, row.spec, row.pk)


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


def match(kind: str, sheets: list[dict], mapping: dict[str, str] | None = None):
    """Map a template's headers (``read_template``) to fields of ``kind``.

    ``mapping``: header → field chosen on the confirm page (overrides the synonyms). Returns
    ``(spec, unknown)``: the layout spec (columns with the catalogue's code tables and formats,
    the template's required marks added) and the headers no field matched, by name, in order.
    """
    catalogue = CATALOGUES[kind]
    synonyms = known_synonyms(kind)
    chosen = {normalise(h): f for h, f in (mapping or {}).items() if f in catalogue}
    unknown: list[str] = []
    used_synonyms = {}
    out = []
    for sheet in sheets:
        columns = []
        for header, marked in zip(sheet["headers"], sheet["required"], strict=True):
            field = chosen.get(header) or synonyms.get(header)
            if field is None or field not in catalogue:
                unknown.append(header or gettext("(empty header)"))
                continue
            if normalise(catalogue[field]) != header:
                used_synonyms[header] = field
            column = column_spec(field, header)
            column["required"] = column["required"] or marked
            columns.append(column)
        out.append({"name": sheet["name"], "columns": columns})
    spec = {"sheets": out, "date_order": DATE_ORDER, "synonyms": used_synonyms}
    return spec, unknown


def missing_required(spec: dict) -> list[str]:
    """The required fields (``REQUIRED_FIELDS``) no column of ``spec`` holds, as
    ``header (field)`` with the field's default header, in catalogue order."""
    present = {c["field"] for sheet in spec["sheets"] for c in sheet["columns"]}
    catalogue = _register_catalogue()
    return [
        f"{catalogue[field]} ({field})"
        for field in catalogue
        if field in REQUIRED_FIELDS and field not in present
    ]
