"""The annual summary as an Excel workbook: the same SummaryData as the PDF, one table a sheet
(概况, 活动, 考评, 党员, and 支部 for a superior), with real dates and numbers so that the
superior can filter, sort and add up."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from assessments.presenters import eligibility_label

from .summary import SummaryData

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F3E3E3")
WRAP = Alignment(wrap_text=True, vertical="top")
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.00%"


def _number(value: Any) -> Any:
    # openpyxl writes Decimal as a number already; keep floats and ints as they are.
    return float(value) if isinstance(value, Decimal) else value


def _table(
    ws: Worksheet,
    headers: Sequence[tuple[str, float]],
    rows: Iterable[Sequence[Any]],
    *,
    start_row: int = 1,
    formats: dict[int, str] | None = None,
    wrap: Iterable[int] = (),
) -> int:
    """Headers with their column widths, then the rows; returns the next free row."""
    formats, wrap = formats or {}, set(wrap)
    for col, (title, width) in enumerate(headers, start=1):
        cell = ws.cell(row=start_row, column=col, value=title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, width)
    row_no = start_row
    for row_no, row in enumerate(rows, start=start_row + 1):
        for col, value in enumerate(row, start=1):
            cell = ws.cell(row=row_no, column=col, value=_number(value))
            if col in formats:
                cell.number_format = formats[col]
            if col in wrap:
                cell.alignment = WRAP
    return row_no + 1


def _overview(ws: Worksheet, data: SummaryData) -> None:
    org = data.organization
    yes, no = _("是"), _("否")
    rate = (_("平均参与率"), data.avg_participation)
    rows: list[tuple[str, Any]] = [
        (_("组织"), org.name),
        (_("编码"), org.code),
        (_("类型"), org.type),
        (_("年度"), data.year),
        (_("规则方案"), f"{data.profile}（v{data.profile_version}）"),
        (_("计入考评的集体学习（次）"), data.study_sessions),
        (_("全部活动（次，含下级组织）"), data.sessions_total),
        (_("全部活动学时"), data.hours_total),
        rate,
        *(
            []
            if data.rollup
            else [
                (_("五好党支部达标"), yes if data.five_good else no),
                (_("可参加先进党支部评选"), yes if data.advanced_eligible else no),
            ]
        ),
        (_("党员（人）"), len(data.members)),
        (_("不得评为优秀（人）"), len(data.members_not_excellent)),
        (_("请假申请（次）"), data.leave_total),
        (_("补课（人次）"), data.makeups_total),
        (_("年度学习情况自评"), _("（尚未填写）") if data.text_missing else data.text),
        (
            _("%(y)s 年度学习计划") % {"y": data.plan_year},
            data.plan.status if data.plan else (data.plan_status or _("尚未制定")),
        ),
    ]
    next_row = _table(ws, [(_("项目"), 28), (_("内容"), 70)], rows, wrap=[2])
    ws.cell(row=2 + rows.index(rate), column=2).number_format = PERCENT_FORMAT
    # The type × month table under the key figures.
    start = next_row + 1
    headers = [(_("活动类型"), 28)] + [(_("%(m)s月") % {"m": m}, 8) for m in range(1, 13)]
    headers.append((_("合计"), 8))
    body = [[row.type, *row.by_month, row.total] for row in data.type_month]
    body.append([_("合计"), *data.month_totals, data.sessions_total])
    _table(ws, headers, body, start_row=start)


def _sessions(ws: Worksheet, data: SummaryData) -> None:
    headers = [
        (_("日期"), 12),
        (_("组织"), 22),
        (_("类型"), 14),
        (_("主题"), 40),
        (_("学时"), 8),
        (_("应到"), 8),
        (_("实到"), 8),
        (_("请假"), 8),
        (_("缺席"), 8),
        (_("参与率"), 10),
        (_("计入学习"), 10),
    ]
    rows = [
        [
            s.date,
            s.organizer,
            s.type,
            s.topic,
            s.hours,
            s.expected,
            s.attended,
            s.excused,
            s.absent,
            s.rate,
            _("是") if s.counts_as_study else _("否"),
        ]
        for s in data.all_sessions
    ]
    _table(ws, headers, rows, formats={1: DATE_FORMAT, 10: PERCENT_FORMAT}, wrap=[4])


def _verdicts(ws: Worksheet, data: SummaryData) -> None:
    headers = [
        (_("编号"), 9),
        (_("要求"), 30),
        (_("结果"), 8),
        (_("实际"), 24),
        (_("标准"), 22),
        (_("说明"), 24),
        (_("后果"), 20),
        (_("原文"), 50),
        (_("出处"), 26),
    ]
    rows = [
        [
            v.rule_id,
            v.title,
            v.outcome_label,
            v.value,
            v.threshold,
            v.detail,
            "、".join(v.consequence_labels),
            v.quote,
            v.source,
        ]
        for v in data.verdicts
    ]
    _table(ws, headers, rows, wrap=[2, 4, 5, 6, 8])


def _members(ws: Worksheet, data: SummaryData) -> None:
    headers = [
        (_("编号"), 10),
        (_("姓名"), 10),
        (_("所在组织"), 22),
        (_("应到"), 8),
        (_("实到"), 8),
        (_("无故缺席"), 10),
        (_("请假"), 8),
        (_("补课"), 8),
        (_("自学学时"), 10),
        (_("培训学时"), 10),
        (_("笔记篇数"), 10),
        (_("笔记字数"), 10),
        (_("考试平均分"), 11),
        (_("可评优秀"), 10),
        (_("未达标规则"), 24),
    ]
    rows = [
        [
            m.member_no,
            m.name,
            m.organization,
            m.expected,
            m.attended,
            m.unexcused_absences,
            m.excused,
            m.makeups,
            m.self_study_hours,
            m.training_hours,
            m.notes,
            m.note_words,
            m.exam_average,
            eligibility_label(m.excellent_eligible, _("是"), _("否")),
            "、".join(m.not_met),
        ]
        for m in data.members
    ]
    _table(ws, headers, rows, formats={13: "0.0"})


def _branches(ws: Worksheet, data: SummaryData) -> None:
    headers = [
        (_("编码"), 14),
        (_("党支部"), 24),
        (_("所属"), 20),
        (_("党员"), 8),
        (_("集体学习"), 10),
        (_("平均参与率"), 12),
        (_("五好达标"), 10),
        (_("可参加先进评选"), 14),
        (_("不得评优人数"), 12),
        (_("未达标规则"), 30),
    ]
    yes, no = _("是"), _("否")
    rows: list[list[Any]] = [
        [
            b.code,
            b.name,
            b.parent,
            b.members,
            b.study_sessions,
            b.avg_participation,
            yes if b.five_good else no,
            yes if b.advanced_eligible else no,
            b.not_excellent,
            "、".join(b.not_met),
        ]
        for b in data.branches
    ]
    t = data.branch_totals
    if t is not None:
        rows.append(
            [
                _("合计"),
                _("%(n)s 个支部") % {"n": t.branches},
                "",
                t.members,
                t.study_sessions,
                t.avg_participation,
                t.five_good,
                t.advanced_eligible,
                t.not_excellent,
                "",
            ]
        )
    _table(ws, headers, rows, formats={6: PERCENT_FORMAT})


def summary_workbook(data: SummaryData) -> bytes:
    """The workbook of one summary, as the bytes of an .xlsx file."""
    wb = Workbook()
    sheets = [
        (_("概况"), _overview),
        (_("活动"), _sessions),
        (_("考评"), _verdicts),
        (_("党员"), _members),
    ]
    if data.rollup:
        sheets.append((_("支部"), _branches))
    wb.remove(wb.active)
    for title, fill in sheets:
        ws = wb.create_sheet(title)
        fill(ws, data)
        # Keep the header row in view; the 概况 sheet is a list of key figures, not a table.
        if fill is not _overview:
            ws.freeze_panes = "A2"
            if ws.max_row > 1:
                ws.auto_filter.ref = ws.dimensions
    wb.properties.title = f"{data.organization.name} {data.title}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
