"""Property-based tests (hypothesis) of the ledger reader and its cell parsers: whatever a
secretary types into a cell, the reader gives back what Excel shows, at the row Excel
shows, and the parsers either accept it with the right value or refuse it with a message."""

from __future__ import annotations

import datetime as dt
import re
import string
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from attendance.ledger_sheets import _parse_time
from branches.ledger import Row, parse_date, parse_hours, read_workbook
from tests.factories import workbook

HEADERS = ["编号", "姓名", "日期", "学时"]
# Text a person types: Chinese, letters, digits, punctuation; no control characters
# (Excel's file format cannot hold most of them).
typed = st.text(
    alphabet=st.sampled_from(
        "党支部学习张王李赵" + string.ascii_letters + string.digits + "-_ ·，。"
    ),
    max_size=12,
)
cell = st.one_of(
    st.none(),
    typed,
    st.integers(-(10**9), 10**9),
    st.dates(dt.date(1950, 1, 1), dt.date(2060, 12, 31)),
)


def shown(value) -> str:
    """What the cell shows, as the importer compares it."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cell, min_size=4, max_size=4), max_size=25))
def test_the_reader_gives_back_every_non_blank_row_at_its_excel_row_number(rows):
    sheet = read_workbook(workbook(考勤=[HEADERS, *rows]))["考勤"]
    assert sheet.headers == HEADERS
    expected = [
        (number, [shown(v) for v in values])
        for number, values in enumerate(rows, start=2)
        if any(shown(v) for v in values)
    ]
    assert [(r.number, [r.text(h) for h in HEADERS]) for r in sheet.rows] == expected


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
def test_a_date_typed_as_text_or_as_an_excel_date_reads_the_same(day):
    assert parse_date(day.isoformat(), day.isoformat()) == (day, None)
    as_cell = dt.datetime.combine(day, dt.time())
    assert parse_date(Row(2, {"日期": as_cell}).text("日期"), as_cell) == (day, None)


def _reference_date(text: str) -> dt.date | None:
    """The forms LEDGER.md lists, read by strptime instead of the importer's patterns."""
    formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y年%m月%d"]
    if re.fullmatch(r"\d{8}", text):
        formats = ["%Y%m%d"]
    elif not re.fullmatch(r"\d{4}\D\d{1,2}\D\d{1,2}\D?", text):
        return None
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


@given(typed.filter(lambda t: t.strip() != ""))
def test_text_that_is_not_a_date_is_refused_with_a_message(text):
    expected = _reference_date(text.strip())
    value, error = parse_date(text.strip(), text)
    if expected is None:
        assert value is None and "日期" in error and text.strip() in error
    else:
        assert (value, error) == (expected, None)


@given(st.decimals(min_value=Decimal("-100"), max_value=Decimal("100"), places=2))
def test_hours_are_accepted_only_above_zero_and_up_to_twenty_four(hours):
    value, error = parse_hours(str(hours))
    if Decimal(0) < hours <= 24:
        # Kept to two decimals (LEDGER.md): 1.25 stays 1.25.
        assert error is None and value == hours
    else:
        assert value is None and "学时" in error


@given(typed)
def test_hours_that_are_not_a_number_are_refused(text):
    try:
        number = Decimal(text)
    except ArithmeticError:
        number = None
    value, error = parse_hours(text)
    if number is None or not number.is_finite():
        assert value is None and "学时" in error


@given(st.integers(0, 29), st.integers(0, 99))
def test_times_typed_as_text(hour, minute):
    text = f"{hour}:{minute:02d}"
    value, error = _parse_time(text, text)
    if hour <= 23 and minute <= 59:
        assert (value, error) == (dt.time(hour, minute), None)
    else:
        assert value is None and text in error


@given(st.times())
def test_times_from_excel_cells_lose_only_seconds(t):
    value, error = _parse_time(t, t.isoformat())
    assert error is None and value == t.replace(second=0, microsecond=0)
