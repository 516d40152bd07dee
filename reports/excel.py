"""The annual summary as an Excel workbook: the same SummaryData as the PDF, one table a sheet
(概况, 活动, 考评, 党员, and 支部 for a superior), with real dates and numbers so that the
superior can filter, sort and add up."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from assessments.presenters import eligibility_label
from common.xlsx import DATE, INTEGER, NUMBER, PERCENT, Column, Sheet, Styled, Table, workbook_bytes

from .summary import SummaryData


def _overview(data: SummaryData) -> tuple[list[Column], list[Any], list[Table]]:
    org = data.organization
    yes, no = _("是"), _("否")
    rate = (_("平均参与率"), Styled(data.avg_participation, PERCENT))
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
    # The type × month table under the key figures.
    headers = [Column(_("活动类型"), width=28)]
    headers += [Column(_("%(m)s月") % {"m": m}, INTEGER, width=8) for m in range(1, 13)]
    headers.append(Column(_("合计"), INTEGER, width=8))
    body = [[row.type, *row.by_month, row.total] for row in data.type_month]
    body.append([_("合计"), *data.month_totals, data.sessions_total])
    columns = [Column(_("项目"), width=28), Column(_("内容"), wrap=True, span=len(headers) - 1)]
    return columns, rows, [Table(headers, body)]


def _sessions(data: SummaryData) -> tuple[list[Column], list[Any]]:
    headers = [
        Column(_("日期"), DATE),
        Column(_("组织")),
        Column(_("类型")),
        Column(_("主题"), width=40, wrap=True),
        Column(_("学时"), NUMBER),
        Column(_("应到"), INTEGER),
        Column(_("实到"), INTEGER),
        Column(_("请假"), INTEGER),
        Column(_("缺席"), INTEGER),
        Column(_("参与率"), PERCENT),
        Column(_("计入学习")),
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
    return headers, rows


def _verdicts(data: SummaryData) -> tuple[list[Column], list[Any]]:
    headers = [
        Column(_("编号")),
        Column(_("要求"), width=30, wrap=True),
        Column(_("结果")),
        Column(_("实际"), width=24, wrap=True),
        Column(_("标准"), width=22, wrap=True),
        Column(_("说明"), width=24, wrap=True),
        Column(_("后果"), width=20, wrap=True),
        Column(_("原文"), width=50, wrap=True),
        Column(_("出处"), width=26, wrap=True),
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
    return headers, rows


def _members(data: SummaryData) -> tuple[list[Column], list[Any]]:
    headers = [
        Column(_("编号")),
        Column(_("姓名")),
        Column(_("所在组织")),
        Column(_("应到"), INTEGER),
        Column(_("实到"), INTEGER),
        Column(_("无故缺席"), INTEGER),
        Column(_("请假"), INTEGER),
        Column(_("补课"), INTEGER),
        Column(_("自学学时"), NUMBER),
        Column(_("培训学时"), NUMBER),
        Column(_("笔记篇数"), INTEGER),
        Column(_("笔记字数"), INTEGER),
        Column(_("考试平均分"), NUMBER),
        Column(_("可评优秀")),
        Column(_("未达标规则"), width=24, wrap=True),
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
            None if m.exam_average is None else round(m.exam_average, 1),
            eligibility_label(m.excellent_eligible, _("是"), _("否")),
            "、".join(m.not_met),
        ]
        for m in data.members
    ]
    return headers, rows


def _branches(data: SummaryData) -> tuple[list[Column], list[Any]]:
    headers = [
        Column(_("编码")),
        Column(_("党支部")),
        Column(_("所属")),
        Column(_("党员"), INTEGER),
        Column(_("集体学习"), INTEGER),
        Column(_("平均参与率"), PERCENT),
        Column(_("五好达标")),
        Column(_("可参加先进评选")),
        Column(_("不得评优人数"), INTEGER),
        Column(_("未达标规则"), width=30, wrap=True),
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
    return headers, rows


def summary_workbook(data: SummaryData) -> bytes:
    """The workbook of one summary, as the bytes of an .xlsx file."""
    org = data.organization
    title = f"{org.name}（{org.code}） {data.title}"
    overview_columns, overview_rows, more = _overview(data)
    sheets = [Sheet(_("概况"), overview_columns, overview_rows, title=title, more=more)]
    for name, fill in (
        (_("活动"), _sessions),
        (_("考评"), _verdicts),
        (_("党员"), _members),
        *([(_("支部"), _branches)] if data.rollup else []),
    ):
        columns, rows = fill(data)
        sheets.append(Sheet(name, columns, rows, title=title))
    return workbook_bytes(sheets, title=title)
