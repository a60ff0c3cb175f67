"""Spreadsheets for every export (reports, register, staff lists): XLSX and CSV (UTF-8, BOM).

A report is one or more ``Sheet`` values: a title, the column headers (the platform's Chinese
names) and rows of cells. Cells are ``str``, ``int``, ``Decimal``, ``date`` or ``None``; dates
are written as ``YYYY-MM-DD`` text (the platforms' import format), codes as text (leading zeros
matter: "0116", "01").

Spreadsheet formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or
carriage return, which some programs strip first) is neutralised by ``neutralise`` — the one
function both formats use — with a leading apostrophe, so ``=HYPERLINK(…)`` in an organisation's
name is shown as text and never evaluated. ``unneutralise`` reverses it on import.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Sheet:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    total_row: list | None = None


@dataclass
class Report:
    """A built report: its title, sheets and any data problems found while building it."""

    title: str
    sheets: list[Sheet]
    problems: list[str] = field(default_factory=list)
    # Regulator files want dates as YYYY-MM-DD text (their import format); staff exports want
    # real date cells that sort and filter as dates in a spreadsheet (to_xlsx only).
    dates_as_text: bool = True

    @property
    def row_count(self) -> int:
        return sum(len(sheet.rows) for sheet in self.sheets)


def neutralise(value: str) -> str:
    """``value`` made safe for a spreadsheet cell: text starting with = + - @ (or a tab or CR)
    gets a leading apostrophe, so spreadsheet programs show it as text, never as a formula."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """The inverse of ``neutralise`` for text read back from an exported file."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def cell_text(value) -> str:
    """The text of a cell as both formats show it (before neutralising)."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # a staff list's timestamp: local time to the minute
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


def to_csv(report: Report) -> bytes:
    """The report as CSV, UTF-8 with BOM (Excel in China opens it correctly).

    A report with several sheets becomes consecutive tables, each introduced by its title on a
    line of its own and separated by an empty line.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    many = len(report.sheets) > 1
    for n, sheet in enumerate(report.sheets):
        if many:
            if n:
                writer.writerow([])
            writer.writerow([neutralise(sheet.title)])
        writer.writerow([neutralise(c) for c in sheet.columns])
        for row in [*sheet.rows, *([sheet.total_row] if sheet.total_row else [])]:
            writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value) -> str:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return cell_text(value)
    return neutralise(cell_text(value))


def to_xlsx(report: Report) -> bytes:
    """The report as an XLSX workbook, one worksheet per sheet, headers bold and frozen
    (XlsxWriter in constant-memory mode: rows are streamed to the file in order).

    Each row is turned into plain values once (``_plain_row``: text neutralised, dates as text
    or, for staff exports, local dates) and handed to XlsxWriter's ``write_row``, whose own type
    dispatch writes numbers as numbers and skips empty cells; the date formats are applied by
    write handlers made once per sheet. No per-cell formatting logic runs here (issue #16: the
    monthly report over 100,000 certificates is a few thousand rows of ~50 cells).
    """
    buffer = io.BytesIO()
    # Constant memory keeps 100,000 rows cheap; rows must then be written in order. Strings are
    # never read as formulas, numbers or links: text stays text (see neutralise).
    book = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            # No "in_memory": XlsxWriter ignores constant_memory when it is set; the rows go to
            # its temporary files and the workbook is assembled in ``buffer`` at close.
        },
    )
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    bold = book.add_format({"bold": True})
    as_dates = not report.dates_as_text
    if as_dates:
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    used = set()
    for sheet in report.sheets:
        ws = book.add_worksheet(_sheet_name(sheet.title, used))
        for col, title in enumerate(sheet.columns):
            ws.set_column(col, col, max(8, min(40, 2 * len(title) + 2)))
        ws.write_row(0, 0, [neutralise(title) for title in sheet.columns], header)
        ws.freeze_panes(1, 0)
        if as_dates:
            ws.add_write_handler(date, lambda w, r, c, v, _f=None: w.write_datetime(r, c, v, day))
            ws.add_write_handler(
                datetime, lambda w, r, c, v, _f=None: w.write_datetime(r, c, v, moment)
            )
        write_row = ws.write_row
        r = 0
        for r, row in enumerate(sheet.rows, start=1):
            write_row(r, 0, _plain_row(row, as_dates))
        if sheet.total_row:
            # cell by cell: an empty cell of the total row stays unformatted
            for col, value in enumerate(_plain_row(sheet.total_row, as_dates)):
                if value is not None:
                    ws.write(r + 1, col, value, bold)
    book.close()
    return buffer.getvalue()


def _plain_row(row: list, as_dates: bool) -> list:
    """``row`` as values XlsxWriter's ``write`` writes as meant: ``int`` and ``Decimal`` as
    numbers, None and "" as nothing, text neutralised; with ``as_dates`` dates kept and
    date-times made local (and naive) for the date formats, otherwise both as text
    (``cell_text``); anything else (bool, lazy text) as its neutralised text."""
    plain = []
    append = plain.append
    for value in row:
        kind = value.__class__
        if kind is str:
            append("'" + value if value.startswith(FORMULA_PREFIXES) else value)
        elif value is None or kind is int or kind is Decimal or as_dates and kind is date:
            append(value)
        elif as_dates and kind is datetime:
            local = timezone.localtime(value) if timezone.is_aware(value) else value
            append(local.replace(tzinfo=None))
        elif kind is not bool and isinstance(value, int | Decimal):
            append(value)
        else:
            append(neutralise(cell_text(value)))
    return plain


def _sheet_name(title: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ and unique in the workbook.
    name = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Sheet"
    base, n = name, 2
    while name in used:
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name
