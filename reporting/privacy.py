"""Generated reports as a user may download them: personal data masked for users without
``certbody.view_personal_data`` (certbody.policy).

The stored files are the record of what was sent to the platform and keep the full values; a
user who may not see personal data gets a copy with the report's personal columns
(``reports.PERSONAL_COLUMNS``, by column header) masked, in the same format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from openpyxl import load_workbook

from certbody.masking import can_see_personal_data
from reporting.reports import PERSONAL_COLUMNS, REGISTER_PERSONAL_FIELDS

Masks = dict[str, Callable[[str | None], str]]


def personal_columns(kind: str, layout=None) -> Masks:
    """Header → masking of the report kind's personal-data columns (empty: none). With the
    ``layout`` the file was written with (``reporting.layouts.Layout``), the headers are that
    layout's for the personal fields (a renamed phone column stays masked)."""
    if layout is None:
        return PERSONAL_COLUMNS.get(kind, {})
    masks = {}
    for field, mask in REGISTER_PERSONAL_FIELDS.items():
        header = layout.header_of(field)
        if header:
            masks[header] = mask
    return masks


def must_mask(kind: str, user) -> bool:
    """Whether ``user`` gets the report of ``kind`` with its personal columns masked."""
    return bool(personal_columns(kind)) and not can_see_personal_data(user)


def mask_csv(content: bytes, masks: Masks) -> bytes:
    """A stored report CSV (UTF-8 with BOM, ``certbody.spreadsheets.to_csv``) with the cells
    under the headers of ``masks`` masked. Several sheets are consecutive tables separated by
    an empty line: each table's header row sets the columns masked until the next one."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    columns: dict[int, Callable] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        header = {n: masks[cell] for n, cell in enumerate(row) if cell in masks}
        if not any(row):
            columns = {}  # the next table (sheet) starts
        elif header and not columns:
            columns = header
        else:
            row = [
                columns[n](cell) if n in columns and cell else cell for n, cell in enumerate(row)
            ]
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def mask_xlsx(content: bytes, masks: Masks) -> bytes:
    """A stored report workbook with the cells under the headers (row 1 of every worksheet)
    of ``masks`` masked; masked cells are written as text, never as formulas."""
    book = load_workbook(io.BytesIO(content))
    for ws in book.worksheets:
        header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        columns = {n: masks[cell] for n, cell in enumerate(header) if cell in masks}
        if not columns:
            continue
        for row in ws.iter_rows(min_row=2):
            for n, mask in columns.items():
                if n < len(row) and row[n].value not in (None, ""):
                    cell = row[n]
                    cell.value = mask(str(cell.value))
                    cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


MASKERS = {"csv": mask_csv, "xlsx": mask_xlsx}


def masked_file(kind: str, fmt: str, content: bytes, layout=None) -> bytes:
    """``content`` (the stored ``fmt`` file of a report of ``kind``, written with ``layout``
    when it has one) with its personal columns masked."""
    return MASKERS[fmt](content, personal_columns(kind, layout))
