"""Reading the study ledger workbook (学习台账, ../shared/LEDGER.md) and importing it.

The workbook is read into plain rows first, every sheet is validated against the database,
and only when no sheet reported an error is anything written, in one transaction. Sheets
are handled by registered handlers, so that apps above this one (attendance) add their own
sheets without this module importing them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

# A workbook whose XML inflates beyond this is refused before openpyxl parses it.
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


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


class LedgerRejected(Exception):
    def __init__(self, errors: list[LedgerError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = sorted(errors)


@dataclass
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


@dataclass
class ImportContext:
    """Shared by the handlers of one import: who imports, and what the earlier sheets hold."""

    user: Any
    sheets: dict[str, Sheet]
    errors: list[LedgerError] = field(default_factory=list)
    # Handlers leave parsed data here for later handlers and for their own apply step.
    data: dict[str, Any] = field(default_factory=dict)

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


def read_workbook(source: str | Path | IO[bytes]) -> dict[str, Sheet]:
    """All sheets as rows keyed by header; blank rows skipped. Raises LedgerRejected.

    Read with calamine (Rust): openpyxl's read-only parse was half of the time of a
    100,000-row import (BENCHMARKS.md). The header is the sheet's first row and row numbers
    are the ones Excel shows; an empty cell is None, as openpyxl gave it."""
    from python_calamine import CalamineWorkbook

    _refuse_bombs(source)
    try:
        if isinstance(source, str | Path):
            workbook = CalamineWorkbook.from_path(str(source))
        else:
            workbook = CalamineWorkbook.from_filelike(source)
        grids = [
            (name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in workbook.sheet_names
        ]
    except Exception as exc:  # calamine raises several kinds for a broken file
        raise LedgerRejected(
            [
                LedgerError(
                    _("工作簿"),
                    0,
                    "",
                    _("无法读取该文件，请确认它是 .xlsx 格式的 Excel 工作簿（%(e)s）")
                    % {"e": type(exc).__name__},
                )
            ]
        ) from exc
    sheets: dict[str, Sheet] = {}
    for title, grid in grids:
        header_row = grid[0] if grid else ()
        headers = [str(h).strip() for h in header_row]
        parsed: list[Row] = []
        for number, values in enumerate(grid[1:], start=2):
            cells = {
                h: v
                for h, v in zip(headers, values, strict=False)
                if h and not (isinstance(v, str) and v.strip() == "")
            }
            # A row with text only under a column without a header is not blank: the
            # handlers then report its missing fields instead of skipping it silently.
            if cells or any(not (isinstance(v, str) and v.strip() == "") for v in values):
                parsed.append(Row(number, cells))
        sheets[title.strip()] = Sheet(title.strip(), parsed, headers)
    return sheets


def _refuse_bombs(source: str | Path | IO[bytes]) -> None:
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LedgerRejected(
            [LedgerError(_("工作簿"), 0, "", _("文件不是有效的 .xlsx 工作簿"))]
        ) from exc
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > MAX_UNCOMPRESSED_BYTES or total / packed > MAX_COMPRESSION_RATIO:
        raise LedgerRejected(
            [
                LedgerError(
                    _("工作簿"),
                    0,
                    "",
                    _("工作簿解压后过大（%(mb)d MB），已拒绝导入") % {"mb": total // (1024 * 1024)},
                )
            ]
        )


def import_ledger(source: str | Path | IO[bytes], *, user: Any) -> ImportResult:
    """Validate every sheet, then write all of them in one transaction, or nothing."""
    sheets = read_workbook(source)
    ctx = ImportContext(user=user, sheets=sheets)
    warnings: list[str] = []
    handlers = registered_sheets()
    known = {h.sheet for h in handlers}
    for name in sheets:
        if name in known:
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
            ctx.error(sheet.name, 1, "、".join(missing), _("缺少必填列"))
            continue
        handler.validate(ctx, sheet)
    if ctx.errors:
        raise LedgerRejected(ctx.errors)
    counts: dict[str, dict[str, int]] = {}
    with transaction.atomic():
        for handler in handlers:
            if handler.sheet in sheets:
                counts[handler.sheet] = handler.apply(ctx)
        if ctx.errors:
            # An apply step found a conflict only visible while writing: undo everything.
            raise LedgerRejected(ctx.errors)
    return ImportResult(counts=counts, warnings=warnings)


# Cell parsers shared by the handlers: each returns (value, error message or None).


def parse_date(text: str, raw: Any) -> tuple[dt.date | None, str | None]:
    if raw is None or text == "":
        return None, None
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:
        return None, _("日期「%(v)s」无法识别，应为 Excel 日期或 YYYY-MM-DD") % {"v": text}


def parse_hours(text: str) -> tuple[decimal.Decimal | None, str | None]:
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None, _("学时「%(v)s」不是数字") % {"v": text}
    if not value.is_finite() or value <= 0 or value > 24:
        return None, _("学时应大于 0 且不超过 24")
    return value.quantize(decimal.Decimal("0.1")), None


def choice(text: str, allowed: Iterable[str], label: str) -> tuple[str | None, str | None]:
    allowed = list(allowed)
    if text in allowed:
        return text, None
    return None, _("%(label)s「%(v)s」无效，可选：%(ok)s") % {
        "label": label,
        "v": text,
        "ok": "、".join(a for a in allowed if a),
    }
