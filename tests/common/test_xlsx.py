"""The one spreadsheet writer and the one download helper, without the portal around them."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from common.downloads import ascii_filename, content_disposition, file_response
from common.xlsx import (
    DATE,
    NEUTRALISER,
    NUMBER,
    PERCENT,
    Column,
    Sheet,
    Styled,
    restore_text,
    safe_text,
    text_width,
    workbook_bytes,
)


def book(sheet: Sheet):
    return load_workbook(io.BytesIO(workbook_bytes([sheet], title="标题")))[sheet.name]


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+86 138", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", "＝HYPERLINK()", "=A1&B1"],
)
def test_text_a_spreadsheet_would_evaluate_is_written_as_inert_text(text):
    ws = book(Sheet("表", ["姓名"], [[text]]))
    cell = ws["A2"]
    assert cell.data_type == "s"
    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r", "＝"))
    # Every reader of the portal strips whitespace: the prefix goes away on re-import.
    assert cell.value.strip() == text.strip() and restore_text(cell.value).strip() == text.strip()


def test_ordinary_text_numbers_and_negative_numbers_are_left_alone():
    ws = book(Sheet("表", ["a", "b", "c", "d"], [["甲党员", "13800001111", -2, "a-b"]]))
    assert [c.value for c in ws[2]] == ["甲党员", "13800001111", -2, "a-b"]
    assert ws["B2"].data_type == "s" and ws["C2"].data_type == "n"
    assert safe_text("x=1") == "x=1" and NEUTRALISER not in safe_text("党员")


def test_characters_a_workbook_cannot_hold_are_dropped_not_a_server_error():
    ws = book(Sheet("表", ["姓名"], [["甲\x01党\x1f员"]]))
    assert ws["A2"].value == "甲党员"


def test_kinds_become_real_dates_numbers_percentages_and_chinese_booleans():
    aware = dt.datetime(2025, 3, 5, 1, 30, tzinfo=dt.UTC)  # 09:30 in Asia/Shanghai
    columns = [
        Column("日期", DATE),
        Column("时间"),
        Column("学时", NUMBER),
        Column("参与率", PERCENT),
        Column("可评优秀"),
    ]
    ws = book(Sheet("表", columns, [[dt.date(2025, 3, 5), aware, Decimal("1.25"), 0.8415674603174604, True]]))  # fmt: skip
    date, when, hours, rate, flag = ws[2]
    assert date.is_date and date.number_format == "yyyy-mm-dd"
    assert when.value == dt.datetime(2025, 3, 5, 9, 30)
    assert hours.value == 1.25 and hours.data_type == "n"
    assert rate.number_format == "0.0%" and rate.value == 0.8416
    assert flag.value == "是"
    assert ws.column_dimensions["A"].width >= 11  # never ### for a date


def test_a_styled_cell_overrides_its_column():
    ws = book(Sheet("表", ["项目", "内容"], [["平均参与率", Styled(0.5, PERCENT)], ["年度", 2025]]))
    assert ws["B2"].number_format == "0.0%" and ws["B3"].number_format == "General"


def test_widths_come_from_the_content_with_cjk_counting_double():
    assert text_width("党员") == 4 and text_width("ab") == 2 and text_width("甲\nabcdef") == 6
    ws = book(Sheet("表", ["编号", "姓名"], [["A1", "欧阳党员同志"]]))
    assert ws.column_dimensions["B"].width == 12 + 2
    ws = book(Sheet("表", ["内容"], [["长" * 200]]))
    assert ws.column_dimensions["A"].width == 50  # capped


def test_a_title_row_puts_the_header_in_row_two_frozen_below_it():
    ws = book(
        Sheet("表", ["编号", "姓名"], [["A1", "甲"]], title="甲支部（JG-01-01） 2025年 考勤登记簿")
    )
    assert ws["A1"].value.startswith("甲支部") and ws["A1"].font.b
    assert [c.value for c in ws[2]] == ["编号", "姓名"] and all(c.font.b for c in ws[2])
    assert ws.freeze_panes == "A3" and ws.print_title_rows.replace("$", "") == "2:2"
    assert "A1:B1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.oddHeader.center.text == "甲支部（JG-01-01） 2025年 考勤登记簿"


def test_an_ampersand_in_the_page_header_is_not_a_header_code():
    ws = book(Sheet("表", ["a"], [], title="R&D 党支部"))
    assert ws.oddHeader.center.text == "R&&D 党支部"


def test_large_sheets_stream_in_bounded_memory():
    def rows(n):
        return ([f"M{i:06d}", "出席", dt.date(2025, 1, 1) + dt.timedelta(days=i % 365)] for i in range(n))  # fmt: skip

    def peak(n):
        tracemalloc.start()
        content = workbook_bytes(
            [Sheet("考勤", ["党员编号", "状态", Column("日期", DATE)], rows(n))]
        )
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak - len(content) * 2, content

    small, _ = peak(1_000)
    large, content = peak(8_000)
    assert large < small * 2.5  # eight times the rows, not eight times the memory
    sheet = load_workbook(io.BytesIO(content), read_only=True)["考勤"]
    assert sum(1 for _ in sheet.iter_rows()) == 8_001


def test_the_download_names_say_what_the_file_is_in_both_forms():
    header = content_disposition("考勤登记簿-JG-01-01-2026.xlsx", "register-JG-01-01-2026.xlsx")
    assert header == (
        'attachment; filename="register-JG-01-01-2026.xlsx"; '
        "filename*=UTF-8''%E8%80%83%E5%8B%A4%E7%99%BB%E8%AE%B0%E7%B0%BF-JG-01-01-2026.xlsx"
    )
    assert ascii_filename('members-"甲";\\x.xlsx') == "members-_x.xlsx"
    response = file_response(b"%PDF", filename="督导报告-JG-2025-03.pdf", ascii_name="supervision-JG-2025-03.pdf")  # fmt: skip
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert 'filename="supervision-JG-2025-03.pdf"' in response["Content-Disposition"]
