"""What calamine does not tell about a workbook: hidden rows, formula cells, .ods merges.

calamine (python-calamine) gives the values of every sheet, and the merged ranges of .xlsx
and .xls, fast. A secretary's workbook also hides rows (a struck-out entry kept for the
record) and sums columns with formulas; those rows must be skipped and reported, so the
sheet XML of .xlsx and .ods is scanned once for them. The scan also counts the rows of each
sheet, so that a workbook with too many rows is refused before calamine loads it.

.xls (BIFF8) is scanned from its ROW and FORMULA records; its rows are at most 65,536 per
sheet, so the row cap holds by the format itself.
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
        layouts[name] = _xlsx_layout(_count_or_refuse(archive, path, b"<row", name, max_rows))
    return layouts


def _count_or_refuse(
    archive: zipfile.ZipFile, path: str, tag: bytes, name: str, max_rows: int
) -> bytes:
    """The member's bytes, counting the row tags while inflating: reading stops as soon as
    there are too many, before a million-row sheet is held in memory."""
    count, tail = 0, b""
    chunks: list[bytes] = []
    with archive.open(path) as stream:
        while chunk := stream.read(_CHUNK):
            data = tail + chunk
            count += data.count(tag) - tail.count(tag)
            tail = data[-len(tag) :]
            if count > max_rows + 1:  # the header row is allowed on top of the cap
                raise TooManyRows(name, count)
            chunks.append(chunk)
    return b"".join(chunks)


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


# .xls: an OLE2 compound file holding a BIFF8 "Workbook" stream.

_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
# BIFF8 record types read here.
_BOUNDSHEET, _BOF, _EOF, _ROW, _FORMULA = 0x0085, 0x0809, 0x000A, 0x0208, 0x0006
# Worksheet function numbers of sums and counts: COUNT, SUM, AVERAGE, COUNTA, SUBTOTAL.
_TOTAL_FUNCTIONS = frozenset({0, 4, 5, 169, 344})


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes | None:
    """The first stream of an OLE2 compound file with one of `names`, or None."""
    if len(data) < 512:
        return None
    size = 1 << _u16(data, 0x1E)
    mini_size = 1 << _u16(data, 0x20)
    cutoff = _u32(data, 0x38)

    def sector(n: int) -> bytes:
        return data[(n + 1) * size : (n + 2) * size]

    difat = [_u32(data, 0x4C + 4 * i) for i in range(109)]
    dif, guard = _u32(data, 0x44), 0
    while dif not in (_FREE, _END_OF_CHAIN) and guard < 10_000:
        block = sector(dif)
        difat += [_u32(block, 4 * i) for i in range(size // 4 - 1)]
        dif, guard = _u32(block, size - 4), guard + 1
    fat: list[int] = []
    for n in difat[: _u32(data, 0x2C)]:
        block = sector(n)
        fat += [_u32(block, 4 * i) for i in range(size // 4)]

    def chain(start: int, table: list[int]) -> list[int]:
        out: list[int] = []
        while start < len(table) and start not in (_FREE, _END_OF_CHAIN) and len(out) <= len(table):
            out.append(start)
            start = table[start]
        return out

    directory = b"".join(sector(n) for n in chain(_u32(data, 0x30), fat))
    entries = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
    if not entries:
        return None
    root = entries[0]
    mini_stream = b"".join(sector(n) for n in chain(_u32(root, 116), fat))
    mini_fat_bytes = b"".join(sector(n) for n in chain(_u32(data, 0x3C), fat))
    mini_fat = [_u32(mini_fat_bytes, 4 * i) for i in range(len(mini_fat_bytes) // 4)]
    for entry in entries[1:]:
        length = _u16(entry, 64)
        name = entry[: max(0, length - 2)].decode("utf-16-le", "replace")
        if entry[66] != 2 or name not in names:
            continue
        start, stream_size = _u32(entry, 116), _u32(entry, 120)
        if stream_size < cutoff:
            blocks = [
                mini_stream[n * mini_size : (n + 1) * mini_size] for n in chain(start, mini_fat)
            ]
        else:
            blocks = [sector(n) for n in chain(start, fat)]
        return b"".join(blocks)[:stream_size]
    return None


def _biff_records(stream: bytes, at: int):
    while at + 4 <= len(stream):
        kind, length = _u16(stream, at), _u16(stream, at + 2)
        yield kind, stream[at + 4 : at + 4 + length]
        at += 4 + length
        if kind == _EOF:
            return


def _sums(rgce: bytes) -> bool:
    """Whether parsed formula tokens call a sum or count (a byte scan, enough for totals)."""
    for i, token in enumerate(rgce):
        if token in (0x22, 0x42, 0x62) and i + 3 < len(rgce):  # ptgFuncVar cargs iftab
            if (_u16(rgce, i + 2) & 0x7FFF) in _TOTAL_FUNCTIONS:
                return True
        elif token in (0x21, 0x41, 0x61) and i + 2 < len(rgce):  # ptgFunc iftab
            if _u16(rgce, i + 1) in _TOTAL_FUNCTIONS:
                return True
        elif token == 0x19 and i + 1 < len(rgce) and rgce[i + 1] & 0x10:  # ptgAttr SUM
            return True
    return False


def scan_xls(data: bytes) -> dict[str, SheetLayout]:
    """Hidden rows and formula cells of each sheet of a BIFF8 .xls; {} when unreadable."""
    try:
        stream = _ole_stream(data, ("Workbook", "Book"))
        if stream is None:
            return {}
        sheets: list[tuple[str, int]] = []
        for kind, body in _biff_records(stream, 0):
            if kind == _BOUNDSHEET and len(body) >= 8:
                cch, high = body[6], body[7] & 1
                raw = body[8 : 8 + cch * (2 if high else 1)]
                name = raw.decode("utf-16-le" if high else "latin-1", "replace")
                sheets.append((name, _u32(body, 0)))
        layouts: dict[str, SheetLayout] = {}
        for name, offset in sheets:
            layout = layouts.setdefault(name, SheetLayout())
            for kind, body in _biff_records(stream, offset):
                if kind == _ROW and len(body) >= 14 and _u16(body, 12) & 0x20:
                    layout.hidden_rows.add(_u16(body, 0))
                elif kind == _FORMULA and len(body) >= 22:
                    rgce = body[22 : 22 + _u16(body, 20)]
                    layout.formula_cells[(_u16(body, 0), _u16(body, 2))] = _sums(rgce)
        return layouts
    except (IndexError, ValueError):
        return {}
