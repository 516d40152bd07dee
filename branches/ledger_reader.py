"""What calamine does not tell about a workbook: hidden rows, formula cells, .ods merges.

calamine (python-calamine) gives the values of every sheet, and the merged ranges of .xlsx
and .xls, fast. A secretary's workbook also hides rows (a struck-out entry kept for the
record) and sums columns with formulas; those rows must be skipped and reported, so the
sheet XML of .xlsx and .ods is scanned once for them. The scan also counts the rows of each
sheet, so that a workbook with too many rows is refused before calamine loads it.

.xls (BIFF) is not scanned: its hidden-row flags need a BIFF parser; its rows are at most
65,536 per sheet, so the row cap holds by the format itself.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field

# A formula that sums or counts a column marks a total row.
TOTAL_FORMULA_RE = re.compile(r"\b(SUM|SUBTOTAL|COUNT|COUNTA|AVERAGE)\s*\(", re.IGNORECASE)
_ROW_RE = re.compile(rb"<row\b([^>]*)>(.*?)</row>|<row\b([^>]*)/>", re.DOTALL)
_ROW_NUMBER_RE = re.compile(rb'\br="(\d+)"')
_HIDDEN_RE = re.compile(rb'\bhidden="(1|true)"')
_CELL_RE = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.DOTALL)
_FORMULA_RE = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.DOTALL)
_NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_CHUNK = 1 << 20


class TooManyRows(Exception):
    def __init__(self, sheet: str, rows: int) -> None:
        super().__init__(sheet)
        self.sheet = sheet
        self.rows = rows


@dataclass
class SheetLayout:
    """0-based row indexes and (row, column) cells, as calamine's grid counts them."""

    hidden_rows: set[int] = field(default_factory=set)
    # Cells holding a formula, and whether that formula sums or counts (a total).
    formula_cells: dict[tuple[int, int], bool] = field(default_factory=dict)
    # (first row, column) -> last row of a vertical merge (only .ods; calamine gives the rest).
    merges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


def column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def scan_xlsx(archive: zipfile.ZipFile, *, max_rows: int) -> dict[str, SheetLayout]:
    """Sheet name -> layout; raises TooManyRows before reading a sheet past max_rows rows."""
    try:
        book = ET.fromstring(archive.read("xl/workbook.xml"))
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", _NS)}
    names = set(archive.namelist())
    layouts: dict[str, SheetLayout] = {}
    for sheet in book.findall("main:sheets/main:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if path not in names:
            continue
        name = sheet.get("name", "")
        _count_or_refuse(archive, path, b"<row", name, max_rows)
        layouts[name] = _xlsx_layout(archive.read(path))
    return layouts


def _count_or_refuse(
    archive: zipfile.ZipFile, path: str, tag: bytes, name: str, max_rows: int
) -> None:
    """Count the row tags while inflating, and stop as soon as there are too many."""
    count, tail = 0, b""
    with archive.open(path) as stream:
        while chunk := stream.read(_CHUNK):
            data = tail + chunk
            count += data.count(tag) - tail.count(tag)
            tail = data[-len(tag) :]
            if count > max_rows + 1:  # the header row is allowed on top of the cap
                raise TooManyRows(name, count)


def _xlsx_layout(xml: bytes) -> SheetLayout:
    layout = SheetLayout()
    has_hidden = _HIDDEN_RE.search(xml) is not None
    has_formula = b"<f>" in xml or b"<f " in xml
    if not (has_hidden or has_formula):
        return layout
    for match in _ROW_RE.finditer(xml):
        attrs = match.group(1) or match.group(3) or b""
        number = _ROW_NUMBER_RE.search(attrs)
        if number is None:
            continue
        row = int(number.group(1)) - 1
        if has_hidden and _HIDDEN_RE.search(attrs):
            layout.hidden_rows.add(row)
        body = match.group(2)
        if has_formula and body and b"<f" in body:
            for cell in _CELL_RE.finditer(body):
                formula = _FORMULA_RE.search(cell.group(3) or b"")
                if formula is not None:
                    text = (formula.group(1) or b"").decode("utf-8", "replace")
                    key = (row, column_index(cell.group(1)))
                    layout.formula_cells[key] = bool(TOTAL_FORMULA_RE.search(text))
    return layout


def scan_ods(archive: zipfile.ZipFile, *, max_rows: int) -> dict[str, SheetLayout]:
    """The same for .ods: one pass over content.xml, counting repeated rows and columns."""
    try:
        stream = archive.open("content.xml")
    except KeyError:
        return {}
    layouts: dict[str, SheetLayout] = {}
    layout: SheetLayout | None = None
    name = ""
    row = col = 0
    filled_rows = 0
    row_filled = False
    with stream:
        for event, elem in ET.iterparse(stream, events=("start", "end")):
            tag = elem.tag
            if event == "start":
                if tag == f"{_ODS_TABLE}table":
                    name = elem.get(f"{_ODS_TABLE}name", "")
                    layout = layouts.setdefault(name, SheetLayout())
                    row = 0
                    filled_rows = 0
                elif tag == f"{_ODS_TABLE}table-row":
                    col = 0
                    row_filled = False
                continue
            if layout is None:
                continue
            if tag in (f"{_ODS_TABLE}table-cell", f"{_ODS_TABLE}covered-table-cell"):
                repeat = int(elem.get(f"{_ODS_TABLE}number-columns-repeated", "1"))
                formula = elem.get(f"{_ODS_TABLE}formula")
                if len(elem) or formula is not None:
                    row_filled = True
                if formula is not None:
                    layout.formula_cells[(row, col)] = bool(TOTAL_FORMULA_RE.search(formula))
                spanned = int(elem.get(f"{_ODS_TABLE}number-rows-spanned", "1"))
                if spanned > 1:
                    layout.merges.append(((row, col), (row + spanned - 1, col)))
                col += min(repeat, 16384)
                elem.clear()
            elif tag == f"{_ODS_TABLE}table-row":
                repeat = int(elem.get(f"{_ODS_TABLE}number-rows-repeated", "1"))
                empty = not row_filled
                if not empty:
                    filled_rows += repeat
                    if filled_rows > max_rows + 1:
                        raise TooManyRows(name, filled_rows)
                if elem.get(f"{_ODS_TABLE}visibility", "visible") != "visible" and not empty:
                    layout.hidden_rows.update(range(row, row + min(repeat, max_rows)))
                row += repeat
                elem.clear()
    return layouts
