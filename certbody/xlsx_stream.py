"""A streaming XLSX writer for the regulator files (``certbody.spreadsheets.to_xlsx`` of a
report with dates as text): each row becomes one string of cell XML, written straight into the
zip entry, so 100,000 rows cost no per-cell objects (issue #16).

What it writes is what the general (XlsxWriter) path wrote for these reports: one worksheet per
sheet, the header row bold on a light-blue fill with borders and frozen, column widths from the
header lengths, numbers (``int``, ``Decimal``) as numbers, empty cells left out, everything
else as inline text through ``cell_text`` and ``neutralise`` (never a formula), the total row
bold. Text longer than Excel's 32,767 characters is cut; characters XML cannot hold (control
characters other than tab, line feed and carriage return) are dropped.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from xml.sax.saxutils import escape

MAX_TEXT = 32767
_HEADER_STYLE, _BOLD_STYLE = 1, 2

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    "<sheets>{sheets}</sheets></workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{sheets}"
    '<Relationship Id="rIdStyles" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
_SHEET_REL = (
    '<Relationship Id="rId{n}" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet{n}.xml"/>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/>'
    '</right><top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/>'
    "</bottom><diagonal/></border></borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" '
    'applyFill="1" applyBorder="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheetViews><sheetView workbookViewId="0"{selected}>'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def column_letters(n: int) -> str:
    """``A`` for 0, ``Z`` for 25, ``AA`` for 26 …"""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# One C-speed pass escapes XML's special characters and drops the ones XML cannot hold.
_XML = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    | dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
)
_FORMULA_START = frozenset("=+-@\t\r")


def _inline(text: str) -> str:
    """The ``<is>`` content of a text cell (text already neutralised)."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    text = text.translate(_XML)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


def _row_xml(r: int, row: list, letters: list[str], style: int, cell_text, neutralise, cache):
    s = f' s="{style}"' if style else ""
    cells = []
    append = cells.append
    for col, value in enumerate(row):
        if value is None or value == "":
            continue
        kind = type(value)
        if kind is str:
            inline = cache.get(value)
            if inline is None:
                text = "'" + value if value[0] in _FORMULA_START else value
                inline = _inline(text)
                if len(value) <= 16:
                    cache[value] = inline
            append(f'<c r="{letters[col]}{r}"{s} t="inlineStr">{inline}</c>')
        elif (
            kind is int
            or kind is Decimal
            or (isinstance(value, int | Decimal) and not isinstance(value, bool))
        ):
            append(f'<c r="{letters[col]}{r}"{s}><v>{value}</v></c>')
        else:
            inline = _inline(neutralise(cell_text(value)))
            append(f'<c r="{letters[col]}{r}"{s} t="inlineStr">{inline}</c>')
    return f'<row r="{r}">{"".join(cells)}</row>'


def write(sheets: list, names: list[str], *, cell_text, neutralise) -> bytes:
    """The workbook of ``sheets`` (``spreadsheets.Sheet``) named ``names`` (already valid and
    unique). ``cell_text`` and ``neutralise``: ``certbody.spreadsheets``'s."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        types = "".join(_SHEET_TYPE.format(n=n) for n in range(1, len(sheets) + 1))
        book.writestr("[Content_Types].xml", _CONTENT_TYPES.format(sheets=types))
        book.writestr("_rels/.rels", _ROOT_RELS)
        entries = "".join(
            f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{n}" r:id="rId{n}"/>'
            for n, name in enumerate(names, start=1)
        )
        book.writestr("xl/workbook.xml", _WORKBOOK.format(sheets=entries))
        rels = "".join(_SHEET_REL.format(n=n) for n in range(1, len(sheets) + 1))
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(sheets=rels))
        book.writestr("xl/styles.xml", _STYLES)
        for n, sheet in enumerate(sheets, start=1):
            with book.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as out:
                _write_sheet(out, sheet, n == 1, cell_text, neutralise)
    return buffer.getvalue()


def _write_sheet(out, sheet, selected: bool, cell_text, neutralise) -> None:
    width = max(
        [len(sheet.columns)]
        + [len(row) for row in sheet.rows[:1]]
        + ([len(sheet.total_row)] if sheet.total_row else [])
    )
    letters = [column_letters(n) for n in range(max(width, 256))]
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{max(8, min(40, 2 * len(title) + 2)) + 0.7:.2f}" '
        'customWidth="1"/>'
        for n, title in enumerate(sheet.columns, start=1)
    )
    head = _SHEET_HEAD.format(
        selected=' tabSelected="1"' if selected else "", cols=f"<cols>{cols}</cols>" if cols else ""
    )
    out.write(head.encode())
    header = _row_xml(1, sheet.columns, letters, _HEADER_STYLE, str, neutralise, {})
    out.write(header.encode("utf-8"))
    chunk: list[str] = []
    cache: dict[str, str] = {}
    r = 1
    for r, row in enumerate(sheet.rows, start=2):
        chunk.append(_row_xml(r, row, letters, 0, cell_text, neutralise, cache))
        if len(chunk) == 1000:
            out.write("".join(chunk).encode("utf-8"))
            chunk = []
    if sheet.total_row:
        total = _row_xml(r + 1, sheet.total_row, letters, _BOLD_STYLE, cell_text, neutralise, {})
        chunk.append(total)
    out.write("".join(chunk).encode("utf-8"))
    out.write(_SHEET_TAIL.encode())
