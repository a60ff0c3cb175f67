"""XLSX and CSV rendering: UTF-8 with BOM, codes as text, formula injection neutralised."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from certbody.spreadsheets import Report, Sheet, neutralise, to_csv, to_xlsx, unneutralise

DANGEROUS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_cells_starting_with_formula_characters_are_neutralised(value):
    assert neutralise(value) == "'" + value
    assert unneutralise(neutralise(value)) == value


@pytest.mark.parametrize("value", ["", "北京市朝阳区", "010-65880123", "0116", "'quoted"])
def test_ordinary_text_is_left_alone(value):
    assert neutralise(value) == value
    assert unneutralise(value) == value


def _report():
    rows = [
        ["=cmd|' /C calc'!A0", "0116", date(2026, 10, 5), 12, Decimal("2.5"), None],
        ["普通公司", "01", None, 0, Decimal("3"), "-"],
    ]
    return Report("测试", [Sheet("测试表", ["名称", "代码", "日期", "人数", "人日", "备注"], rows)])


def test_csv_is_utf8_with_bom_and_neutralised():
    content = to_csv(_report())
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["名称", "代码", "日期", "人数", "人日", "备注"]
    assert rows[1] == ["'=cmd|' /C calc'!A0", "0116", "2026-10-05", "12", "2.5", ""]
    assert rows[2] == ["普通公司", "01", "", "0", "3", "'-"]


def test_xlsx_has_no_formula_and_keeps_codes_as_text():
    book = load_workbook(io.BytesIO(to_xlsx(_report())))
    sheet = book.active
    assert sheet.title == "测试表"
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["名称", "代码", "日期", "人数", "人日", "备注"]
    assert values[1][:5] == ["'=cmd|' /C calc'!A0", "0116", "2026-10-05", 12, 2.5]
    assert values[2][1] == "01"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_several_sheets_become_worksheets_and_consecutive_csv_tables():
    report = Report(
        "年报",
        [
            Sheet("按状态", ["代码", "数量"], [["01", 3]]),
            Sheet("按地域", ["省", "数量"], [["11", 3]], total_row=["合计", 3]),
        ],
    )
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    assert book.sheetnames == ["按状态", "按地域"]
    assert [c.value for c in book["按地域"][3]] == ["合计", 3]
    text = to_csv(report).decode("utf-8-sig")
    assert text.splitlines() == [
        "按状态",
        "代码,数量",
        "01,3",
        "",
        "按地域",
        "省,数量",
        "11,3",
        "合计,3",
    ]


def test_streamed_xlsx_keeps_xml_characters_spaces_and_the_total_row():
    sheet = Sheet(
        "表<1>",
        ["名称 & 代码", "人数"],
        [[" A&B <c> ", 3], ["x" * 40_000, None]],
        total_row=["合计", 3],
    )
    book = load_workbook(io.BytesIO(to_xlsx(Report("t", [sheet]))))
    ws = book.active
    assert ws.title == "表<1>" and ws.freeze_panes == "A2"
    values = [list(row) for row in ws.values]
    assert values[0] == ["名称 & 代码", "人数"]
    assert values[1] == [" A&B <c> ", 3]
    assert values[2] == ["x" * 32767, None]
    assert values[3] == ["合计", 3]
    assert ws["A1"].font.b and ws["A4"].font.b and not ws["A2"].font.b
