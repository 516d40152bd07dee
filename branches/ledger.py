"""Reading the study ledger workbook (学习台账, ../shared/LEDGER.md) and importing it.

The workbook is read into plain rows first, every sheet is validated against the database,
and only when no sheet reported an error is anything written, in one transaction. Sheets
are handled by registered handlers, so that apps above this one (attendance) add their own
sheets without this module importing them.

A handler declares its columns as a table (`Column`): the header, how a cell is read
(`code`, `text`, `choice`, `date`, `hours` ...) and whether it is required; lengths and
choices come from the model fields. `parse_rows` applies the table to every row, so a new
column is one line and every column reports its errors the same way.

Workbooks are taken as secretaries keep them (LEDGER.md, "What a secretary's real workbook
looks like"): .xlsx, .xls and .ods; title rows above the header row; merged cells; hidden
and total rows skipped and reported; the value forms people type.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from .ledger_reader import SheetLayout, TooManyRows, scan_ods, scan_xls, scan_xlsx

# A workbook whose XML inflates beyond this is refused before it is parsed.
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# At most this many errors are listed one by one; more are grouped by column and cause.
MAX_LISTED_ERRORS = 200
# Rows of a group shown when errors are grouped.
GROUP_SAMPLE_ROWS = 5
# The header row is looked for among this many rows at the top of a sheet.
HEADER_SEARCH_ROWS = 30
FORMATS_HINT = "只能导入 .xlsx、.xls 或 .ods 工作簿；请在 Excel/WPS 中另存为 .xlsx 后重新上传"
TOTAL_WORDS = ("合计", "总计", "小计")
_TOTAL_INITIALS = frozenset(w[0] for w in TOTAL_WORDS)
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


def max_rows_per_sheet() -> int:
    return int(getattr(settings, "LEDGER_MAX_ROWS_PER_SHEET", 200_000))


@dataclass(frozen=True, order=True)
class LedgerError:
    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = _("第%(row)d行") % {"row": self.row} if self.row else _("整个工作表")
        column = f"，{self.column}" if self.column else ""
        return f"{self.sheet}，{where}{column}：{self.message}"


_QUOTED_RE = re.compile(r"「[^」]*」")
_ROW_REF_RE = re.compile(r"第\d+行")


def error_lines(errors: Sequence[LedgerError], limit: int = MAX_LISTED_ERRORS) -> list[str]:
    """The errors as lines for a person: each one, or past `limit` grouped by column and cause.

    A cause is the message with its quoted values taken out, so that 10,000 rows with the
    same wrong status give one line with the count and the first rows, not a page of 10,000.
    """
    if len(errors) <= limit:
        return [str(e) for e in errors]
    groups: dict[tuple[str, str, str], list[LedgerError]] = {}
    for e in errors:
        cause = _ROW_REF_RE.sub("第…行", _QUOTED_RE.sub("「…」", e.message))
        groups.setdefault((e.sheet, e.column, cause), []).append(e)
    lines = [_("错误超过 %(n)d 处，按列和原因归并：") % {"n": limit}]
    for (sheet, column, _cause), members in list(groups.items())[:limit]:
        rows = "、".join(str(e.row) for e in members[:GROUP_SAMPLE_ROWS] if e.row)
        more = _("等") if len(members) > GROUP_SAMPLE_ROWS else ""
        where = f"，{column}" if column else ""
        lines.append(
            _("%(sheet)s%(where)s：%(example)s（共 %(n)d 行：第%(rows)s行%(more)s）")
            % {
                "sheet": sheet,
                "where": where,
                "example": members[0].message,
                "n": len(members),
                "rows": rows or "—",
                "more": more,
            }
        )
    if len(groups) > limit:
        lines.append(_("另有 %(n)d 类错误未列出") % {"n": len(groups) - limit})
    return lines


class LedgerRejected(Exception):
    def __init__(self, errors: list[LedgerError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = sorted(errors)

    def lines(self) -> list[str]:
        return error_lines(self.errors)


@dataclass(slots=True)
class Row:
    number: int  # the row number Excel shows
    values: dict[str, Any]

    def text(self, column: str) -> str:
        value = self.values.get(column)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value).strip()


@dataclass
class Sheet:
    name: str
    rows: list[Row]
    headers: list[str]
    # The sheet's name in the workbook, when it differs from the ledger name it is read as.
    title: str = ""
    # The Excel row number of the header row (1 when the sheet starts with its headers).
    header_row: int = 1
    # (Excel row number, reason) of the rows skipped: hidden rows and total rows.
    skipped: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class ImportContext:
    """Shared by the handlers of one import: who imports, and what the earlier sheets hold."""

    user: Any
    sheets: dict[str, Sheet]
    errors: list[LedgerError] = field(default_factory=list)
    # Handlers leave parsed data here for later handlers and for their own apply step.
    data: dict[str, Any] = field(default_factory=dict)
    # Sheets refused as a whole (a required header missing): later sheets do not report
    # every reference to them a second time.
    failed_sheets: set[str] = field(default_factory=set)

    def error(self, sheet: str, row: int, column: str, message: str) -> None:
        self.errors.append(LedgerError(sheet, row, column, message))


@dataclass
class SheetHandler:
    sheet: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # validate(ctx, sheet) records errors and stores what apply needs in ctx.data.
    validate: Callable[[ImportContext, Sheet], None]
    # apply(ctx) writes and returns counts such as {"created": 3, "updated": 1}.
    apply: Callable[[ImportContext], dict[str, int]]
    order: int = 100
    # The column table, in the order the template writes it.
    columns: tuple[Column, ...] = ()


_HANDLERS: dict[str, SheetHandler] = {}
# Sheets of the ledger that a later module will import; reported, never silently ignored.
PLANNED_SHEETS: tuple[str, ...] = ()


def register_sheet(handler: SheetHandler) -> None:
    _HANDLERS[handler.sheet] = handler


def registered_sheets() -> list[SheetHandler]:
    return sorted(_HANDLERS.values(), key=lambda h: h.order)


@dataclass
class ImportResult:
    counts: dict[str, dict[str, int]]
    warnings: list[str]
    # What was read but not imported, for the person: "考勤：跳过隐藏行 1 行（第5行）".
    skipped: list[str] = field(default_factory=list)


def _workbook_error(message: str) -> LedgerRejected:
    return LedgerRejected([LedgerError(_("工作簿"), 0, "", message)])


def _sniff(source: str | Path | IO[bytes]) -> bytes:
    if isinstance(source, str | Path):
        with open(source, "rb") as fh:
            return fh.read(8)
    head = source.read(8)
    source.seek(0)
    return head


def _inspect(source: str | Path | IO[bytes]) -> dict[str, SheetLayout]:
    """Refuse what is not a workbook, a zip bomb or a sheet past the row cap, before parsing.

    .xlsx and .ods are zip archives: their inflated size and compression ratio are checked,
    and their sheet XML is scanned for the row count, hidden rows and formulas. .xls is an
    OLE2 file that calamine reads directly."""
    head = _sniff(source)
    if head.startswith(_XLS_MAGIC):
        # An .xls is at most the upload cap in size; calamine reads the values.
        if isinstance(source, str | Path):
            return scan_xls(Path(source).read_bytes())
        layouts = scan_xls(source.read())
        source.seek(0)
        return layouts
    if not head.startswith(_ZIP_MAGIC):
        raise _workbook_error(_("无法识别的文件格式：") + _(FORMATS_HINT))
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            total = sum(i.file_size for i in infos)
            packed = max(1, sum(i.compress_size for i in infos))
            if total > MAX_UNCOMPRESSED_BYTES or total / packed > MAX_COMPRESSION_RATIO:
                raise _workbook_error(
                    _("工作簿解压后过大（%(mb)d MB），已拒绝导入") % {"mb": total // (1024 * 1024)}
                )
            names = set(archive.namelist())
            cap = max_rows_per_sheet()
            try:
                if "xl/workbook.xml" in names:
                    return scan_xlsx(archive, max_rows=cap)
                if "content.xml" in names:
                    return scan_ods(archive, max_rows=cap)
            except TooManyRows as exc:
                raise _workbook_error(
                    _(
                        "工作表「%(s)s」超过 %(cap)d 行，已拒绝导入；"
                        "请按组织或年度拆分为多个工作簿后分别导入"
                    )
                    % {"s": exc.sheet, "cap": cap}
                ) from exc
            raise _workbook_error(_("文件不是有效的工作簿：") + _(FORMATS_HINT))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _workbook_error(_("文件不是有效的工作簿：") + _(FORMATS_HINT)) from exc
    finally:
        if hasattr(source, "seek"):
            source.seek(0)


def normalize_header(text: Any) -> str:
    """`学时（小时）`, ` 学 时 `, `学时(h)`, `*学时` are all `学时`."""
    value = unicodedata.normalize("NFKC", str(text))
    value = re.sub(r"\s+", "", value).lstrip("*")
    return re.sub(r"\([^()]*\)$", "", value)


def normalize_sheet_name(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _find_header(grid: list[list[Any]], required: Iterable[str]) -> int:
    """The index of the header row: the first row holding every required header, else the
    row holding most of them, else the first non-blank row."""
    required = set(required)
    best, best_hits, first_filled = -1, 0, -1
    for index, values in enumerate(grid[:HEADER_SEARCH_ROWS]):
        if first_filled < 0 and any(not _blank(v) for v in values):
            first_filled = index
        if not required:
            if first_filled >= 0:
                return first_filled
            continue
        hits = len(required & {normalize_header(v) for v in values if not _blank(v)})
        if hits == len(required):
            return index
        if hits > best_hits:
            best, best_hits = index, hits
    return best if best >= 0 else max(first_filled, 0)


def _total_row(values: list[Any], formulas: dict[int, bool]) -> bool:
    """A row whose first filled cell is 合计/总计/小计, or that holds only formulas (at least
    one of them a sum or count): a total the sheet computes, not a record."""
    for value in values:
        if not _blank(value):
            if re.sub(r"\s+", "", str(value)).startswith(TOTAL_WORDS):
                return True
            break
    if not any(formulas.values()):
        return False
    return all(col in formulas for col, v in enumerate(values) if not _blank(v))


def _build_sheet(
    title: str, name: str, grid: list[list[Any]], required: Iterable[str], layout: SheetLayout
) -> Sheet:
    header_index = _find_header(grid, required)
    header_cells = grid[header_index] if grid else []
    headers = [normalize_header(h) if not _blank(h) else "" for h in header_cells]
    positions: dict[str, int] = {}
    for col, header in enumerate(headers):
        if header and header not in positions:
            positions[header] = col
    formulas: dict[int, dict[int, bool]] = {}
    for (row, col), is_total in layout.formula_cells.items():
        formulas.setdefault(row, {})[col] = is_total
    # A formula whose value was never computed (a file written by a program) leaves its row
    # out of calamine's range: the rows go on to the last formula.
    end = max(len(grid), max(formulas, default=-1) + 1)
    hidden = layout.hidden_rows
    columns = list(positions.items())
    parsed: list[Row] = []
    skipped: list[tuple[int, str]] = []
    # The loop runs once per row of a 100,000-row sheet: blanks are tested inline.
    for index in range(header_index + 1, end):
        values = grid[index] if index < len(grid) else []
        width = len(values)
        cells: dict[str, Any] = {}
        for header, col in columns:
            if col < width:
                value = values[col]
                if (
                    value is not None
                    and value != ""
                    and not (value.__class__ is str and value.isspace())
                ):
                    cells[header] = value
        row_formulas = formulas.get(index) if formulas else None
        if not cells and not row_formulas and all(_blank(v) for v in values):
            continue
        if index in hidden:
            skipped.append((index + 1, _("隐藏行")))
            continue
        first = next((v for v in values if not _blank(v)), None)
        maybe_total = first.__class__ is str and first.lstrip()[:1] in _TOTAL_INITIALS
        if (maybe_total or row_formulas) and _total_row(values, row_formulas or {}):
            skipped.append((index + 1, _("合计行")))
            continue
        # A row with text only under a column without a header is not blank: the handlers
        # then report its missing fields instead of skipping it silently.
        parsed.append(Row(index + 1, cells))
    return Sheet(
        name,
        parsed,
        [h for h in headers if h],
        title=title,
        header_row=header_index + 1,
        skipped=skipped,
    )


def _fill_merges(
    grid: list[list[Any]], merges: Iterable[tuple[tuple[int, int], tuple[int, int]]]
) -> None:
    """A value merged over several rows applies to each of them (an 活动编号 over its rows)."""
    for (r0, c0), (r1, _c1) in merges:
        if r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        value = grid[r0][c0]
        for r in range(r0 + 1, min(r1, len(grid) - 1) + 1):
            if c0 < len(grid[r]) and _blank(grid[r][c0]):
                grid[r][c0] = value


def _sheet_names(titles: list[str], known: Iterable[str]) -> dict[str, str]:
    """Workbook sheet title -> the ledger sheet it is read as; errors for ambiguous names."""
    known = list(known)
    mapping: dict[str, str] = {}
    errors: list[LedgerError] = []
    for title in titles:
        canon = normalize_sheet_name(title)
        if canon in known:
            mapping[title] = canon
            continue
        # A near miss (考勤表, 考勤记录, 2025年自学): the title holds exactly one sheet name.
        hits = [k for k in known if k in canon]
        if len(hits) == 1:
            mapping[title] = hits[0]
        elif len(hits) > 1:
            errors.append(
                LedgerError(
                    title,
                    0,
                    "",
                    _(
                        "工作表名称「%(t)s」同时含有%(names)s，无法确定是哪一个台账工作表，请改为其中之一"
                    )
                    % {"t": title, "names": "、".join(f"「{h}」" for h in hits)},
                )
            )
    if errors:
        raise LedgerRejected(errors)
    return mapping


def read_workbook(
    source: str | Path | IO[bytes], *, required: dict[str, tuple[str, ...]] | None = None
) -> dict[str, Sheet]:
    """All sheets as rows keyed by header; blank, hidden and total rows skipped. Raises
    LedgerRejected.

    `required` names the ledger sheets and the headers that locate their header row; a
    sheet whose title is close to one of them (考勤表) is read as it. Read with calamine
    (Rust): openpyxl's read-only parse was half of the time of a 100,000-row import
    (BENCHMARKS.md). Row numbers are the ones Excel shows."""
    from python_calamine import CalamineWorkbook

    layouts = _inspect(source)
    required = required or {}
    cap = max_rows_per_sheet()
    try:
        if isinstance(source, str | Path):
            workbook = CalamineWorkbook.from_path(str(source))
        else:
            workbook = CalamineWorkbook.from_filelike(source)
        mapping = _sheet_names(list(workbook.sheet_names), required)
        sheets: dict[str, Sheet] = {}
        by_name: dict[str, list[str]] = {}
        for title in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(title)
            if sheet.height > cap + HEADER_SEARCH_ROWS:
                raise _workbook_error(
                    _(
                        "工作表「%(s)s」超过 %(cap)d 行，已拒绝导入；"
                        "请按组织或年度拆分为多个工作簿后分别导入"
                    )
                    % {"s": title, "cap": cap}
                )
            grid = sheet.to_python(skip_empty_area=False)
            layout = layouts.get(title, SheetLayout())
            merges = list(sheet.merged_cell_ranges or []) + layout.merges
            _fill_merges(grid, merges)
            name = mapping.get(title, title.strip())
            built = _build_sheet(title, name, grid, required.get(name, ()), layout)
            if name != normalize_sheet_name(title) and not set(required[name]) & set(built.headers):
                # A near-miss title without a single column of that sheet (组织生活会记录) is
                # not that sheet: it is reported as an unknown sheet, like 说明.
                name = title.strip()
                built = _build_sheet(title, name, grid, (), layout)
            by_name.setdefault(name, []).append(title)
            sheets[name] = built
    except LedgerRejected:
        raise
    except Exception as exc:  # calamine raises several kinds for a broken file
        raise _workbook_error(
            _("无法读取该文件（%(e)s）：") % {"e": type(exc).__name__} + _(FORMATS_HINT)
        ) from exc
    twice = [
        LedgerError(
            name,
            0,
            "",
            _("工作簿中有 %(n)d 个工作表都会作为「%(s)s」导入（%(t)s），请只保留一个")
            % {"n": len(titles), "s": name, "t": "、".join(f"「{t}」" for t in titles)},
        )
        for name, titles in by_name.items()
        if len(titles) > 1
    ]
    if twice:
        raise LedgerRejected(twice)
    return sheets


def _skipped_summary(sheet: Sheet) -> str | None:
    if not sheet.skipped:
        return None
    by_reason: dict[str, list[int]] = {}
    for row, reason in sheet.skipped:
        by_reason.setdefault(reason, []).append(row)
    parts = []
    for reason, rows in by_reason.items():
        shown = "、".join(str(r) for r in rows[:20])
        more = _("等") if len(rows) > 20 else ""
        parts.append(
            _("%(reason)s %(n)d 行（第%(rows)s行%(more)s）")
            % {"reason": reason, "n": len(rows), "rows": shown, "more": more}
        )
    return _("%(s)s：已跳过%(parts)s") % {"s": sheet.title or sheet.name, "parts": "，".join(parts)}


class _Preview(Exception):
    """Raised inside the import's transaction to roll a preview back."""


def import_ledger(
    source: str | Path | IO[bytes], *, user: Any, dry_run: bool = False
) -> ImportResult:
    """Validate every sheet, then write all of them in one transaction, or nothing.

    With dry_run the writes run and are rolled back: the counts say what a real import
    would create, update and delete (the import page's preview), and nothing is kept."""
    handlers = registered_sheets()
    sheets = read_workbook(source, required={h.sheet: h.required for h in handlers})
    ctx = ImportContext(user=user, sheets=sheets)
    warnings: list[str] = []
    known = {h.sheet for h in handlers}
    for name, sheet in sheets.items():
        if name in known:
            if sheet.title and normalize_sheet_name(sheet.title) != name:
                warnings.append(
                    _("工作表「%(t)s」按台账的「%(s)s」工作表导入") % {"t": sheet.title, "s": name}
                )
            continue
        if name in PLANNED_SHEETS:
            warnings.append(
                _("工作表「%(s)s」暂不支持导入（将随活动与考勤功能提供），本次未导入") % {"s": name}
            )
        else:
            warnings.append(_("工作表「%(s)s」不是台账的工作表，已忽略") % {"s": name})
    if not any(h.sheet in sheets for h in handlers):
        ctx.error(
            _("工作簿"),
            0,
            "",
            _("没有可导入的工作表（应包含：%(s)s）") % {"s": "、".join(h.sheet for h in handlers)},
        )
    for handler in handlers:
        sheet = sheets.get(handler.sheet)
        if sheet is None:
            continue
        missing = [c for c in handler.required if c not in sheet.headers]
        if missing:
            ctx.failed_sheets.add(sheet.name)
            ctx.error(
                sheet.name,
                sheet.header_row,
                "、".join(missing),
                _(
                    "缺少必填列。表头行应含有：%(cols)s（标题行可在表头行上方；在前 %(n)d 行中"
                    "含有最多必填列名的是第%(row)d行）"
                )
                % {
                    "cols": "、".join(handler.required),
                    "n": HEADER_SEARCH_ROWS,
                    "row": sheet.header_row,
                },
            )
            continue
        handler.validate(ctx, sheet)
    if ctx.errors:
        raise LedgerRejected(ctx.errors)
    counts: dict[str, dict[str, int]] = {}
    try:
        with transaction.atomic():
            for handler in handlers:
                if handler.sheet in sheets:
                    counts[handler.sheet] = handler.apply(ctx)
            if ctx.errors:
                # An apply step found a conflict only visible while writing: undo everything.
                raise LedgerRejected(ctx.errors)
            if dry_run:
                raise _Preview
    except _Preview:
        pass
    skipped = [
        s for s in (_skipped_summary(sheets[h.sheet]) for h in handlers if h.sheet in sheets) if s
    ]
    return ImportResult(counts=counts, warnings=warnings, skipped=skipped)


# Cell parsers shared by the handlers: each takes the cell's text and raw value and returns
# (value, error message or None). Codes, numbers, dates and times are read after folding
# full-width characters to ASCII (NFKC), as typed with a Chinese input method.


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


# Middle dots people type in names (阿依古丽·买买提): all stored as U+00B7.
_MIDDLE_DOTS_RE = re.compile("[\u2022\u2027\u2219\u22c5\u30fb\uff65\u16eb\u2e31\u0387\u00b7]")


def normalize_name(text: str) -> str:
    return _MIDDLE_DOTS_RE.sub("\u00b7", text.replace("\u3000", " ").strip())


_DATE_RE = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_CHINESE_DATE_RE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
DATE_EXPECTED = "应为 Excel 日期或如 2025-03-05、2025/3/5、2025.3.5、2025年3月5日、20250305 的文字"


def parse_date(text: str, raw: Any) -> tuple[dt.date | None, str | None]:
    if raw is None or text == "":
        return None, None
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    folded = fold(text)
    parts: tuple[str, str, str] | None = None
    if match := _DATE_RE.match(folded):
        parts = (match[1], match[3], match[4])
    elif match := _CHINESE_DATE_RE.match(folded) or _COMPACT_DATE_RE.match(folded):
        parts = (match[1], match[2], match[3])
    if parts is not None:
        try:
            return dt.date(int(parts[0]), int(parts[1]), int(parts[2])), None
        except ValueError:
            pass
    return None, _("日期「%(v)s」无法识别，") % {"v": text} + _(DATE_EXPECTED)


_HOURS_RE = re.compile(
    r"^([+-]?\d+(?:\.\d+)?)(?:个?小时|学时|课时|h|hr|hrs|hours?)?$", re.IGNORECASE
)
HOURS_EXAMPLE = "例如 2、1.5 或 1.5小时"


def parse_hours(
    text: str, raw: Any = None, places: int = 2
) -> tuple[decimal.Decimal | None, str | None]:
    """Hours as a number or with a unit, kept to `places` decimals (1.25 stays 1.25)."""
    try:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = decimal.Decimal(repr(raw))
        else:
            match = _HOURS_RE.match(re.sub(r"\s+", "", fold(text)))
            if match is None:
                raise decimal.InvalidOperation
            value = decimal.Decimal(match[1])
    except decimal.InvalidOperation:
        return None, _("学时「%(v)s」不是数字，应为大于 0 的学时数，") % {"v": text} + _(
            HOURS_EXAMPLE
        )
    if not value.is_finite():
        return None, _("学时「%(v)s」不是数字，应为大于 0 的学时数，") % {"v": text} + _(
            HOURS_EXAMPLE
        )
    rounded = value.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    if rounded <= 0 or rounded > 24:
        return None, _("学时「%(v)s」应大于 0 且不超过 24（保留 %(p)d 位小数），") % {
            "v": text,
            "p": places,
        } + _(HOURS_EXAMPLE)
    return rounded, None


def choice(
    text: str, allowed: Iterable[str], label: str, synonyms: dict[str, str] | None = None
) -> tuple[str | None, str | None]:
    allowed = list(allowed)
    if text in allowed:
        return text, None
    folded = re.sub(r"\s+", "", fold(text))
    if folded in allowed:
        return folded, None
    if synonyms and folded in synonyms:
        return synonyms[folded], None
    return None, _("%(label)s「%(v)s」无法识别，可填：%(ok)s") % {
        "label": label,
        "v": text,
        "ok": "、".join(a for a in allowed if a),
    }


# The declarative row schema.

Parser = Callable[[str, Any], tuple[Any, str | None]]


@dataclass(frozen=True)
class Column:
    """One column of a ledger sheet: how its cells are read, and what an empty cell means."""

    header: str
    parse: Parser
    required: bool = False
    # The value of an empty optional cell.
    default: Any = None
    # What the downloadable template offers: a validation list, and the example row's cell.
    choices: tuple[str, ...] = ()
    example: Any = None


@dataclass(slots=True)
class ParsedRow:
    row: Row
    values: dict[str, Any]
    # Columns whose cell was wrong (already reported).
    bad: set[str]
    # The row repeats the key of an earlier row (reported).
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return not self.bad

    def __getitem__(self, header: str) -> Any:
        return self.values.get(header)


def required_headers(columns: Sequence[Column]) -> tuple[str, ...]:
    return tuple(c.header for c in columns if c.required)


def optional_headers(columns: Sequence[Column]) -> tuple[str, ...]:
    return tuple(c.header for c in columns if not c.required)


def parse_rows(
    ctx: ImportContext, sheet: Sheet, columns: Sequence[Column], *, unique: str | None = None
) -> list[ParsedRow]:
    """Every row read through the column table; each wrong cell is reported once. A value
    of the `unique` column seen in an earlier row is reported, and that row marked.

    A cell is parsed once per distinct value and column: a 100,000-row 考勤 sheet holds a
    few thousand session codes, a thousand member numbers and four statuses."""
    parsed: list[ParsedRow] = []
    first: dict[Any, int] = {}
    plan = [(c, c.header, {}) for c in columns]
    empty = _("必填项为空，应填写%(c)s")
    for r in sheet.rows:
        cells = r.values
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for column, header, memo in plan:
            raw = cells.get(header)
            if raw is None:
                if column.required:
                    ctx.error(sheet.name, r.number, header, empty % {"c": header})
                    bad.add(header)
                values[header] = column.default
                continue
            try:
                value, err = memo[raw]
            except KeyError:
                value, err = memo[raw] = column.parse(r.text(header), raw)
            except TypeError:  # an unhashable cell value: parse it every time
                value, err = column.parse(r.text(header), raw)
            if err:
                ctx.error(sheet.name, r.number, header, err)
                bad.add(header)
            values[header] = value
        key = values.get(unique) if unique else None
        duplicate = False
        if key:
            if key in first:
                ctx.error(
                    sheet.name,
                    r.number,
                    unique,
                    _("%(c)s「%(v)s」与第%(n)d行重复") % {"c": unique, "v": key, "n": first[key]},
                )
                bad.add(unique)
                duplicate = True
            else:
                first[key] = r.number
        parsed.append(ParsedRow(r, values, bad, duplicate))
    return parsed


def _max_length(model_field: Any) -> int | None:
    return getattr(model_field, "max_length", None)


def text_column(
    header: str,
    model_field: Any,
    *,
    required: bool = False,
    name: bool = False,
    example: Any = None,
) -> Column:
    """Free text up to the model field's length; a name's middle dots normalised."""
    limit = _max_length(model_field)

    def parse(text: str, raw: Any) -> tuple[Any, str | None]:
        value = normalize_name(text) if name else text
        if limit and len(value) > limit:
            return None, _("%(c)s「%(v)s…」共 %(n)d 个字，不能超过 %(m)d 个字") % {
                "c": header,
                "v": value[:20],
                "n": len(value),
                "m": limit,
            }
        return value, None

    return Column(header, parse, required=required, default="", example=example)


def code_column(
    header: str, model_field: Any, *, required: bool = False, example: Any = None
) -> Column:
    """A code or number: full-width characters read as ASCII; letters, digits, - _ ."""
    from .models import is_valid_code

    limit = _max_length(model_field)

    def parse(text: str, raw: Any) -> tuple[Any, str | None]:
        value = fold(text)
        if not is_valid_code(value) or (limit and len(value) > limit):
            return None, _("%(c)s「%(v)s」只能包含字母、数字、-、_ 和 .，且不超过 %(m)d 个字符") % {
                "c": header,
                "v": text,
                "m": limit or 64,
            }
        return value, None

    return Column(header, parse, required=required, default="", example=example)


def choice_column(
    header: str,
    allowed: Iterable[str],
    *,
    required: bool = False,
    default: str = "",
    synonyms: dict[str, str] | None = None,
    example: Any = None,
) -> Column:
    allowed = tuple(allowed)

    def parse(text: str, raw: Any) -> tuple[Any, str | None]:
        return choice(text, allowed, header, synonyms)

    return Column(
        header, parse, required=required, default=default, choices=allowed, example=example
    )


def date_column(header: str, *, required: bool = False, example: Any = None) -> Column:
    def parse(text: str, raw: Any) -> tuple[Any, str | None]:
        return parse_date(text, raw)

    return Column(header, parse, required=required, example=example)


def hours_column(
    header: str, model_field: Any, *, required: bool = False, example: Any = None
) -> Column:
    places = getattr(model_field, "decimal_places", 2)

    def parse(text: str, raw: Any) -> tuple[Any, str | None]:
        return parse_hours(text, raw, places)

    return Column(header, parse, required=required, example=example)
