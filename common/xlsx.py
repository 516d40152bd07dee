"""The one spreadsheet writer: every .xlsx the portal produces goes through `workbook_bytes`.

What every export gets from it:
- user text stays text: a string is never written as a formula, and one that a spreadsheet
  would read as a formula when it is edited or re-saved (a leading = + - @, tab or CR,
  full-width forms included) gets an ideographic space in front (see `safe_text`);
- Chinese headers in bold, frozen under the header row and repeated on every printed page;
- column widths from the content (a CJK character counts double), capped, with long text
  wrapped;
- dates as real dates, hours as numbers, rates as percentages (0.0%), booleans as 是/否;
- print setup: A4 landscape, fit to one page wide, the title and 第 N 页，共 M 页 in the
  header and footer;
- an optional title row above the header (organization and year); an interchange sheet
  that must re-import (the ledger) has none, its title goes to the page header only;
- write-only (streaming) mode: rows are written as they come, so a 100,000-row sheet
  takes constant memory. Widths come from the first WIDTH_SAMPLE_ROWS rows, which are the
  only ones held back.

This package is the bottom layer: it imports no app of the portal.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import itertools
import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Column kinds: how the values of a column are written and shown.
TEXT = "text"
INTEGER = "integer"
NUMBER = "number"  # hours, scores: a number as it is (1.25 stays 1.25)
DATE = "date"
DATETIME = "datetime"
PERCENT = "percent"  # a share from 0 to 1, shown as 84.2%

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
_FORMATS = {DATE: DATE_FORMAT, DATETIME: DATETIME_FORMAT, PERCENT: PERCENT_FORMAT}
# Wide enough that a date never prints as ### (yyyy-mm-dd is ten digits).
_MIN_WIDTH = {DATE: 12, DATETIME: 17, PERCENT: 8, INTEGER: 6, NUMBER: 7}
MAX_WIDTH = 50
WIDTH_SAMPLE_ROWS = 500

# A leading character that makes Excel, WPS or LibreOffice read the text as a formula
# once the cell is edited or the sheet is saved as CSV (OWASP "CSV injection"), with the
# full-width forms an IME types.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")
# Why an ideographic space and not the apostrophe OWASP suggests: the ledger workbook must
# re-import unchanged, and every reader of the portal (the ledger importer, Django form
# fields) strips surrounding whitespace, U+3000 included, so the prefix disappears on the way
# back in; a spreadsheet never reads a cell that starts with a space as a formula, and tools
# that trim ASCII spaces leave this one alone.
NEUTRALISER = "\u3000"

YES, NO = "是", "否"

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F3E3E3")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TITLE_FONT = Font(bold=True, size=14)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
# A spanned cell holds figures and text alike: all start at the left, as in a list.
_SPAN = Alignment(wrap_text=True, vertical="top", horizontal="left")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    # A fixed width (in Excel's character units); None: from the content.
    width: float | None = None
    wrap: bool = False
    # The last column of a short table may span the columns of a wider table below it (the
    # 概况 sheet's 内容 over the twelve months): merged per row, its width theirs.
    span: int = 1


@dataclass(frozen=True)
class Styled:
    """One cell whose kind differs from its column's (a percentage in a key-figures list)."""

    value: Any
    kind: str


@dataclass
class Table:
    columns: Sequence[Column | str]
    rows: Iterable[Sequence[Any]]


@dataclass
class Sheet:
    name: str
    columns: Sequence[Column | str]
    rows: Iterable[Sequence[Any]]
    # The title row above the header, e.g. "甲党支部（JG-01-01） 2026年 考勤登记簿"; empty for
    # a sheet that must re-import with its header in the first row.
    title: str = ""
    # More tables under the first one, after a blank row (the 概况 sheet's month table).
    more: Sequence[Table] = field(default_factory=tuple)


def export_title(*, organization: str, code: str, period: str, what: str) -> str:
    """The title of an export: "甲党支部（JG-01-01） 2026年 考勤登记簿"."""
    return f"{organization}（{code}） {period} {what}"


def safe_text(value: str) -> str:
    """`value` as a spreadsheet shows it and never evaluates: characters a workbook cannot
    hold are dropped, and a leading formula trigger gets NEUTRALISER in front."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value and value[0] in FORMULA_TRIGGERS:
        return NEUTRALISER + value
    return value


def restore_text(value: str) -> str:
    """The inverse of safe_text for a reader that does not strip whitespace."""
    if value.startswith(NEUTRALISER) and value[1:2] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def text_width(value: Any) -> float:
    """The width of `value` in Excel's character units: East Asian wide characters count
    two, the longest line of a multi-line text counts."""
    text = _display(value)
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
            for line in text.split("\n")
        ),
        default=0,
    )


def _lines(value: Any, width: float) -> int:
    """How many lines `value` takes in a wrapped column `width` wide."""
    room = max(width - 1, 1)
    return sum(max(1, math.ceil(text_width(line) / room)) for line in _display(value).split("\n"))


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Styled):
        return _display(value.value)
    if isinstance(value, dt.datetime):
        return "0000-00-00 00:00"
    if isinstance(value, dt.date):
        return "0000-00-00"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _column(c: Column | str) -> Column:
    return c if isinstance(c, Column) else Column(c)


def _plain(value: Any, kind: str) -> Any:
    """The value as openpyxl should store it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, decimal.Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            # Excel has no time zones: the wall-clock time of the portal's zone.
            from django.utils import timezone

            value = timezone.localtime(value).replace(tzinfo=None)
        return value if kind != DATE else value.date()
    if isinstance(value, dt.date | int | float):
        if kind == PERCENT and isinstance(value, float):
            return round(value, 4)
        return value
    return safe_text(str(value))


class _Writer:
    def __init__(self, workbook: Workbook, sheet: Sheet, document_title: str) -> None:
        self.ws: WriteOnlyWorksheet = workbook.create_sheet(sheet.name)
        self.sheet = sheet
        self.columns = [_column(c) for c in sheet.columns]
        self.tables = [Table(self.columns, sheet.rows)] + [
            Table([_column(c) for c in t.columns], t.rows) for t in sheet.more
        ]
        self.print_title = sheet.title or document_title
        self.header_row = 2 if sheet.title else 1

    def write(self) -> None:
        # Widths must be known before the first row is written; hold back a sample only.
        rows = iter(self.tables[0].rows)
        sample = list(itertools.islice(rows, WIDTH_SAMPLE_ROWS))
        later = [(t.columns, list(t.rows)) for t in self.tables[1:]]
        self._set_up([(self.columns, sample), *later])
        if self.sheet.title:
            self._append_title()
        self._append_header(self.columns, self.header_row)
        row_no = self.header_row
        for columns, body in [(self.columns, itertools.chain(sample, rows)), *later]:
            if row_no != self.header_row:  # a later table: a blank row, then its header
                self.ws.append([])
                row_no += 2
                self._append_header(columns, row_no)
            styler = self._styler(columns)
            wrapped = [i for i, c in enumerate(columns) if c.wrap]
            spans = any(c.span > 1 for c in columns)
            for row in body:
                row_no += 1
                if spans:
                    self._merge(columns, row_no)
                if wrapped:
                    # Spreadsheets do not grow a row for wrapped text on opening: say how tall.
                    lines = max(
                        (_lines(row[i], self._room(columns, i)) for i in wrapped if i < len(row)),
                        default=1,
                    )
                    if lines > 1:
                        self.ws.row_dimensions[row_no].height = 15 * lines
                self.ws.append(styler(row))

    def _set_up(self, tables: list[tuple[list[Column], list[Sequence[Any]]]]) -> None:
        ws = self.ws
        widths: dict[int, float] = {}
        fixed: dict[int, float] = {}
        for columns, body in tables:
            for i, col in enumerate(columns):
                if col.span > 1:
                    continue  # as wide as the columns it spans
                if col.width is not None:
                    fixed[i] = max(fixed.get(i, 0), col.width)
                    continue
                longest = max(
                    [text_width(h) for h in col.header.split("\n")]
                    + [text_width(r[i]) for r in body if i < len(r)]
                )
                widths[i] = max(widths.get(i, 0), longest + 2, _MIN_WIDTH.get(col.kind, 4))
        self.widths: dict[int, float] = {}
        for i in set(widths) | set(fixed):
            width = fixed.get(i, min(widths.get(i, 0), MAX_WIDTH))
            self.widths[i] = width
            ws.column_dimensions[get_column_letter(i + 1)].width = width
        ws.freeze_panes = f"A{self.header_row + 1}"
        ws.print_title_rows = f"{self.header_row}:{self.header_row}"
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.print_options.horizontalCentered = True
        # & starts a code in a header or footer; a literal one is doubled.
        ws.oddHeader.center.text = safe_text(self.print_title).replace("&", "&&")
        ws.oddHeader.center.size = 12
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        ws.evenHeader.center.text = ws.oddHeader.center.text
        ws.evenFooter.center.text = ws.oddFooter.center.text
        if self.sheet.title:
            ws.row_dimensions[1].height = 24
            # Over the widest table of the sheet.
            last = get_column_letter(max(sum(c.span for c in t.columns) or 1 for t in self.tables))
            if last != "A":
                ws.merged_cells.add(f"A1:{last}1")

    def _append_title(self) -> None:
        cell = WriteOnlyCell(self.ws, value=safe_text(self.sheet.title))
        cell.font = _TITLE_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center")
        self.ws.append([cell])

    def _room(self, columns: list[Column], i: int) -> float:
        """The width column i of this table has, merged columns included."""
        return sum(self.widths.get(j, 10) for j in range(i, i + columns[i].span))

    def _merge(self, columns: list[Column], row_no: int) -> None:
        for i, col in enumerate(columns):
            if col.span > 1:
                first, last = get_column_letter(i + 1), get_column_letter(i + col.span)
                self.ws.merged_cells.add(f"{first}{row_no}:{last}{row_no}")

    def _append_header(self, columns: list[Column], row_no: int) -> None:
        self._merge(columns, row_no)
        cells = []
        for col in columns:
            cell = WriteOnlyCell(self.ws, value=safe_text(col.header))
            cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
            cells.append(cell)
        # Headers wrap inside their column: the row is as tall as the tallest one.
        lines = max(
            (_lines(col.header, self._room(columns, i)) for i in range(len(columns))),
            default=1,
        )
        if lines > 1:
            self.ws.row_dimensions[row_no].height = 15 * lines
        self.ws.append(cells)

    def _styler(self, columns: list[Column]) -> Callable[[Sequence[Any]], list[Any]]:
        ws = self.ws
        kinds = [c.kind for c in columns]
        wraps = [c.wrap for c in columns]
        spans = [c.span > 1 for c in columns]
        # A table with wrapped text has tall rows: every cell then starts at the top.
        top = any(wraps)

        def style(row: Sequence[Any]) -> list[Any]:
            out: list[Any] = []
            for i, raw in enumerate(row):
                kind, wrap = (kinds[i], wraps[i]) if i < len(kinds) else (TEXT, False)
                if isinstance(raw, Styled):
                    kind, raw = raw.kind, raw.value
                value = _plain(raw, kind)
                number_format = None
                if not isinstance(value, str | None):
                    number_format = _FORMATS.get(kind)
                    if number_format is None and isinstance(value, dt.date):
                        number_format = (
                            DATETIME_FORMAT if isinstance(value, dt.datetime) else DATE_FORMAT
                        )
                if number_format is None and (value is None or not top):
                    out.append(value)  # a plain cell: no object per cell on large sheets
                    continue
                cell = WriteOnlyCell(ws, value=value)
                if number_format:
                    cell.number_format = number_format
                if top:
                    cell.alignment = (_SPAN if spans[i] else _WRAP) if wrap else _TOP
                out.append(cell)
            return out

        return style


def workbook_bytes(sheets: Iterable[Sheet], *, title: str = "") -> bytes:
    """The .xlsx bytes of `sheets`, in order; `title` names the document (its properties,
    and the page header of sheets without a title row)."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = safe_text(title) if title else None
    for sheet in sheets:
        _Writer(workbook, sheet, title).write()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
