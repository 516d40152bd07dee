"""The draft of the annual report, written from the data (一、基本情况 / 二、主要做法和成效 /
三、存在的问题 / 四、下一步打算), for the secretary to edit before it is sent.

Every sentence comes from a template over the summary's figures and verdicts (no external
service). The figures are taken once, as `facts`, and both the prose and the comparison
"what changed in the data since the text was written" read them, so a number in the prose
is always the number in the attached tables. The rules engine returns numbers and codes;
this module is the presenter that turns them into Chinese sentences.

The same text format serves the generated draft and the secretary's edits: a line that
starts with 一、 / （一） / 1. is a heading of that level, any other line a paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from assessments.engine import MET, NOT_MET, Verdict
from attendance.models import SessionType, StudySession

from .summary import SELF_REFERENCING_KINDS, SummaryData, filed_plan

CN_NUMBERS = "一二三四五六七八九十"
QUARTER_NAMES = {"1": "第一季度", "2": "第二季度", "3": "第三季度", "4": "第四季度"}
# A missing period as the engine names it: "2025-Q3" / "2025-03" (RULES.md 2a) or "第三季度" /
# "3月", optionally after a unit's name ("甲小组：3月").
PERIOD_RE = re.compile(
    r"(?:(?P<prefix>.+?)：)?(?:(?:\d{4})-(?:Q(?P<q>[1-4])|(?P<m>\d{2}))|(?P<cnq>第[一二三四]季度)|(?P<cnm>\d{1,2})月)$"
)
# Headings of the text format; the PDF renders each level in the sans face.
HEADING_RES = (
    (1, re.compile(rf"^[{CN_NUMBERS}]+、")),
    (2, re.compile(rf"^（[{CN_NUMBERS}]+）")),
    (3, re.compile(r"^\d+[.．]")),
)
# How many topics or names a sentence lists before "等".
LISTED = 3


def number(value: Decimal | float | int) -> str:
    """A figure as the attached tables print it (the templates' floatformat:"-1")."""
    return str(floatformat(value, -1))


def cn(n: int) -> str:
    return CN_NUMBERS[n - 1] if 1 <= n <= len(CN_NUMBERS) else str(n)


def period_label(code: str) -> str:
    """A verdict's missing period in prose: "2025-Q3" → 第三季度, "2025-03" → 3月; a group's
    "甲小组：2025-03" keeps its name."""
    return periods_label([code])


def periods_label(codes: list[str]) -> str:
    """Missing periods in prose, grouped by unit, runs of months joined: "甲小组1月至6月、
    8月；乙小组3月", "第一季度、第三季度"."""
    by_prefix: dict[str, list[str]] = {}
    months: dict[str, list[int]] = {}
    for code in codes:
        match = PERIOD_RE.match(code)
        if match is None:
            by_prefix.setdefault("", []).append(code)
        elif match["q"] or match["cnq"]:
            label = QUARTER_NAMES[match["q"]] if match["q"] else match["cnq"]
            by_prefix.setdefault(match["prefix"] or "", []).append(label)
        else:
            prefix = match["prefix"] or ""
            by_prefix.setdefault(prefix, [])
            months.setdefault(prefix, []).append(int(match["m"] or match["cnm"]))
    parts = []
    for prefix, labels in by_prefix.items():
        labels = labels + _month_runs(months.get(prefix, []))
        parts.append(prefix + "、".join(labels))
    return "；".join(parts)


def _month_runs(months: list[int]) -> list[str]:
    runs: list[list[int]] = []
    for m in sorted(set(months)):
        if runs and m == runs[-1][-1] + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    out = []
    for run in runs:
        if len(run) == 12:
            out.append("全年各月")
        elif len(run) >= 3:
            out.append(f"{run[0]}月至{run[-1]}月")
        else:
            out.extend(f"{m}月" for m in run)
    return out


_SYMBOLS = (("≥", "不少于"), ("≤", "不超过"), ("<", "少于"), (">", "多于"))
_LOOSE_SPACE = re.compile(
    r"(?<=[\u3000-\u9fff\uff00-\uffef\d%])\s+|\s+(?=[\u3000-\u9fff\uff00-\uffef\d])"
)


def plain(text: str) -> str:
    """A verdict's value or threshold as prose: "≥ 12 次" → 不少于12次."""
    for symbol, word in _SYMBOLS:
        text = text.replace(symbol, word)
    return _LOOSE_SPACE.sub("", text)


def _quoted(items: Iterable[str]) -> str:
    items = [i for i in dict.fromkeys(items) if i]
    head = "".join(f"“{i}”" for i in items[:LISTED])
    return head + ("等" if len(items) > LISTED else "")


def _names(items: Iterable[str]) -> str:
    items = [i for i in dict.fromkeys(items) if i]
    return "、".join(items[:LISTED]) + ("等" if len(items) > LISTED else "")


# The facts


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    value: str


def facts(data: SummaryData) -> list[Fact]:
    """The figures the draft states, in the order of the text, each as printed."""
    members = data.members
    rows = [
        Fact("members", _("党员人数"), str(len(members))),
        Fact("sessions_total", _("各类活动次数"), str(data.sessions_total)),
        Fact("hours_total", _("活动学时"), number(data.hours_total)),
        *(
            Fact(f"type:{r.type}", _("%(t)s次数") % {"t": r.type}, str(r.total))
            for r in data.type_month
        ),
        Fact("study_sessions", _("计入考评的集体学习次数"), str(data.study_sessions)),
        Fact("avg_participation", _("平均参与率"), data.avg_participation_label),
        Fact("excused", _("请假人次"), str(sum(m.excused for m in members))),
        Fact("absent", _("无故缺席人次"), str(sum(m.unexcused_absences for m in members))),
        Fact("makeups", _("补课人次"), str(data.makeups_total)),
        Fact(
            "self_study",
            _("自学学时"),
            number(sum((m.self_study_hours for m in members), Decimal(0))),
        ),
        Fact("notes", _("学习笔记篇数"), str(sum(m.notes for m in members))),
        Fact("note_words", _("学习笔记字数"), str(sum(m.note_words for m in members))),
        Fact("exams", _("理论考试场次"), str(len(data.exams))),
        Fact("exam_takers", _("参考人次"), str(sum(e.takers for e in data.exams))),
        Fact("not_excellent", _("不得评为优秀的党员"), str(len(data.members_not_excellent))),
    ]
    for v in data.verdicts:
        rows.append(Fact(f"rule:{v.rule_id}", f"{v.rule_id} {v.title}", v.outcome_label))
    if data.branch_totals is not None:
        t = data.branch_totals
        rows += [
            Fact("branches", _("下级党支部"), str(t.branches)),
            Fact("branches_five_good", _("五好党支部达标"), str(t.five_good)),
        ]
    return rows


def facts_dict(data: SummaryData) -> dict[str, list[str]]:
    """The facts as stored with a text (key → [label, value])."""
    return {f.key: [f.label, f.value] for f in facts(data)}


@dataclass(frozen=True)
class FactChange:
    label: str
    before: str
    now: str


def facts_changed(before: dict, now: dict) -> list[FactChange]:
    """What changed in the data since a text was written against `before`."""
    changes = []
    for key in dict.fromkeys([*before, *now]):
        old = before.get(key, ["", "—"])
        new = now.get(key, ["", "—"])
        if old[1] != new[1]:
            changes.append(FactChange(new[0] or old[0], old[1], new[1]))
    return changes


# The prose


def _sessions_by_type(data: SummaryData) -> dict[str, list[tuple[str, str]]]:
    """(topic, speaker) of the organization's own and its 党小组s' sessions, by type (the
    sessions of the attached list)."""
    speakers = {
        (day, kind, topic): speaker
        for day, kind, topic, speaker in StudySession.objects.filter(
            organization__path__startswith=data.organization.path, date__year=data.year
        )
        .exclude(speaker="")
        .values_list("date", "type", "topic", "speaker")
    }
    by_type: dict[str, list[tuple[str, str]]] = {}
    for s in data.sessions:
        speaker = speakers.get((s.date, s.type, s.topic), "")
        by_type.setdefault(s.type, []).append((s.topic, speaker))
    return by_type


def _basic(data: SummaryData, f: dict[str, str]) -> list[str]:
    org = data.organization.name
    by_type = "、".join(f"{r.type}{r.total}次" for r in data.type_month)
    lines = []
    if data.rollup and data.branch_totals is not None:
        lines.append(
            _("%(org)s下设党支部%(b)s个，现有党员%(n)s名。")
            % {"org": org, "b": f["branches"], "n": f["members"]}
        )
    else:
        lines.append(_("%(org)s现有党员%(n)s名。") % {"org": org, "n": f["members"]})
    if data.sessions_total:
        sentence = _("%(year)s年共开展各类学习活动%(n)s次、%(h)s学时") % {
            "year": data.year,
            "n": f["sessions_total"],
            "h": f["hours_total"],
        }
        if data.rollup:
            sentence += _("（含下级组织）")
        sentence += _("，其中%(types)s。") % {"types": by_type}
        lines.append(sentence)
    else:
        lines.append(_("%(year)s年没有登记考勤的学习活动。") % {"year": data.year})
    if data.avg_participation is None:
        lines.append(_("本级未组织计入考评的集体学习。"))
    else:
        lines.append(
            _("本级计入考评的集体学习%(n)s次，党员平均参与率%(rate)s。")
            % {"n": f["study_sessions"], "rate": f["avg_participation"]}
        )
    lines.append(
        _(
            "全年党员请假%(e)s人次、无故缺席%(a)s人次，补课%(m)s人次；个人自学%(s)s学时，提交学习笔记%(k)s篇、%(w)s字。"
        )
        % {
            "e": f["excused"],
            "a": f["absent"],
            "m": f["makeups"],
            "s": f["self_study"],
            "k": f["notes"],
            "w": f["note_words"],
        }
    )
    if data.exams:
        lines.append(
            _("组织理论考试%(n)s场，参考%(t)s人次。") % {"n": f["exams"], "t": f["exam_takers"]}
        )
    if data.rollup and data.branch_totals is not None:
        lines.append(
            _("下级党支部中，五好党支部年度考评达标%(g)s个。") % {"g": f["branches_five_good"]}
        )
    return ["".join(lines)]


def _practice(data: SummaryData, f: dict[str, str]) -> list[str]:
    by_type = _sessions_by_type(data)
    items: list[tuple[str, str]] = []
    three = [t for t in ("支部党员大会", "支委会", "党小组会", "党课") if t in by_type]
    if three:
        counts = "、".join(f"{t}{len(by_type[t])}次" for t in three)
        items.append((_("坚持“三会一课”制度"), _("全年召开%(c)s。") % {"c": counts}))
    lectures = by_type.get(SessionType.PARTY_LECTURE, [])
    speakers = _names(s for _t, s in lectures)
    if lectures and speakers:
        items[-1] = (
            items[-1][0],
            items[-1][1]
            + _("%(s)s讲授党课，主题有%(t)s。")
            % {"s": speakers, "t": _quoted(t for t, _s in lectures)},
        )
    study = [
        t
        for kind in ("集中学习", "专题讲座", "读书会", "党员教育培训")
        for t, _s in by_type.get(kind, [])
    ]
    if study:
        items.append(
            (
                _("抓好集中学习"),
                _("围绕%(t)s等主题开展集中学习、专题讲座和培训%(n)s次。")
                % {"t": _quoted(study), "n": len(study)},
            )
        )
    central = by_type.get(SessionType.CENTRAL_GROUP_STUDY, [])
    if central:
        items.append(
            (
                _("发挥中心组示范带动作用"),
                _("中心组集体学习%(n)s次%(s)s，学习主题有%(t)s。")
                % {
                    "n": len(central),
                    "s": ("，" + _names(s for _t, s in central) + "作中心发言或辅导")
                    if _names(s for _t, s in central)
                    else "",
                    "t": _quoted(t for t, _s in central),
                },
            )
        )
    themed = by_type.get(SessionType.THEME_DAY, [])
    if themed:
        items.append(
            (
                _("开展主题学习教育"),
                _("组织主题党日、主题教育%(n)s次，主题有%(t)s。")
                % {"n": len(themed), "t": _quoted(t for t, _s in themed)},
            )
        )
    plan, _status = filed_plan(data.organization, data.year)
    if plan is not None and (plan.books or plan.readings):
        books = [f"《{title}》" for title, _a in plan.books] + plan.readings
        items.append(
            (
                _("落实年度学习计划"),
                _("按照已备案的%(y)s年度学习计划，组织学习%(b)s。")
                % {"y": data.year, "b": _names(books)},
            )
        )
    met = [v for v in data.verdicts if v.outcome == MET]
    if met:
        items.append(
            (
                _("对照制度抓落实"),
                _("对照学习制度的%(n)s项要求，%(k)s项达标：%(list)s。")
                % {
                    "n": len([v for v in data.verdicts if v.outcome in (MET, NOT_MET)]),
                    "k": len(met),
                    "list": "；".join(
                        f"{v.title}（{v.rule_id}，{plain(v.value)}）"
                        if v.value
                        else f"{v.title}（{v.rule_id}）"
                        for v in met
                    ),
                },
            )
        )
    if data.rollup and data.branches:
        items.append((_("加强对下级党支部的督促指导"), _rollup_practice(data, f)))
    if not items:
        return [_("本年度尚无可总结的学习活动。")]
    return [f"（{cn(i)}）{head}。{body}" for i, (head, body) in enumerate(items, 1)]


def _branch_failures(data: SummaryData) -> list[tuple[str, str, list[str]]]:
    """(rule id, title, names of the branches that do not meet it), per rule that some branch
    misses; the rule on sending this very report is left out, as in the summary."""
    from assessments.models import Rule

    not_met: dict[str, list[str]] = {}
    for b in data.branches:
        for rule in b.not_met:
            not_met.setdefault(rule, []).append(b.name)
    rules = {
        rule_id: (title, kind)
        for rule_id, title, kind in Rule.objects.filter(rule_id__in=list(not_met))
        .order_by("rule_id", "-pk")
        .values_list("rule_id", "title", "kind")
    }
    return [
        (rule_id, rules.get(rule_id, (rule_id, ""))[0], names)
        for rule_id, names in sorted(not_met.items())
        if rules.get(rule_id, ("", ""))[1] not in SELF_REFERENCING_KINDS
    ]


def _rollup_practice(data: SummaryData, f: dict[str, str]) -> str:
    total = len(data.branches)
    failing = _branch_failures(data)
    sentence = _("%(n)s个党支部中，五好党支部年度考评达标%(g)s个") % {
        "n": total,
        "g": f["branches_five_good"],
    }
    if failing:
        sentence += _("；%(k)s项要求有支部未达标，见存在的问题") % {"k": len(failing)}
    else:
        sentence += _("；各项要求均已达标")
    return sentence + _("。各支部逐项明细见随报告报送的工作簿。")


def _rollup_problems(data: SummaryData) -> list[str]:
    # Only the failures are counted: a branch not failing a rule may meet it or have it n/a.
    total = len(data.branches)
    return [
        _("%(title)s：%(n)s个党支部中%(bad)s个未达标（%(names)s）（%(id)s）")
        % {"title": title, "n": total, "bad": len(names), "names": _names(names), "id": rule_id}
        for rule_id, title, names in _branch_failures(data)
    ]


def problem_sentence(v: Verdict) -> str:
    """存在的问题 for one rule not met, with its clause."""
    basis = _("（%(id)s，依据：“%(quote)s”）") % {"id": v.rule_id, "quote": v.quote}
    if v.missing:
        return (
            _("%(title)s落实不够经常，%(periods)s未达到“%(threshold)s”的要求")
            % {
                "title": v.title,
                "periods": periods_label(v.missing),
                "threshold": plain(v.threshold),
            }
            + basis
        )
    measured = _("，实际%(value)s") % {"value": plain(v.value)} if v.value else ""
    required = _("，要求%(t)s") % {"t": plain(v.threshold)} if v.threshold else ""
    detail = f"（{v.detail}）" if v.detail else ""
    return (
        _("%(title)s未达标%(m)s%(r)s%(d)s")
        % {"title": v.title, "m": measured, "r": required, "d": detail}
        + basis
    )


def _problems(data: SummaryData, f: dict[str, str]) -> list[str]:
    items = [problem_sentence(v) for v in data.verdicts if v.outcome == NOT_MET]
    if data.rollup:
        items += _rollup_problems(data)
    blocked = data.members_not_excellent
    if blocked and not data.rollup:
        rules = _names(r for m in blocked for r in m.blocking)
        items.append(
            _("%(n)s名党员因%(rules)s未达到要求，年度考核不得评为优秀等次")
            % {"n": f["not_excellent"], "rules": rules}
        )
    if not items:
        return [_("对照学习制度各项要求，本年度未发现未达标事项。")]
    return [f"{i}．{text}。" for i, text in enumerate(items, 1)]


def _next_steps(data: SummaryData) -> list[str]:
    items = []
    not_met = [v for v in data.verdicts if v.outcome == NOT_MET]
    cadence = [v for v in not_met if v.missing]
    if cadence:
        items.append(
            _("严格落实%(titles)s的要求，逐月逐季度提前安排，确保不再出现缺项（%(ids)s）")
            % {
                "titles": "、".join(f"“{v.title}”" for v in cadence),
                "ids": "、".join(v.rule_id for v in cadence),
            }
        )
    for v in not_met:
        if v.missing:
            continue
        target = _("，达到“%(t)s”的标准") % {"t": plain(v.threshold)} if v.threshold else ""
        items.append(
            _("对照“%(quote)s”的要求，补齐%(title)s方面的不足%(target)s（%(id)s）")
            % {"quote": v.quote, "title": v.title, "target": target, "id": v.rule_id}
        )
    plan = data.plan
    if plan is not None:
        parts = []
        if plan.themes:
            parts.append(_("围绕%(t)s等主题") % {"t": _quoted(t for _l, t in plan.themes)})
        if plan.sessions:
            hours = number(sum((h for *_x, h in plan.sessions), Decimal(0)))
            parts.append(
                _("计划开展集体学习%(n)s次、%(h)s学时") % {"n": len(plan.sessions), "h": hours}
            )
        if plan.books:
            parts.append(
                _("组织学习%(b)s等推荐书目") % {"b": _names(f"《{t}》" for t, _a in plan.books)}
            )
        items.append(
            _("按照已备案的%(y)s年度学习计划") % {"y": data.plan_year}
            + ("，" + "，".join(parts) if parts else "")
            + _("，认真组织实施")
        )
    else:
        items.append(
            _("尽快制定%(y)s年度学习计划，列出推荐书目，按要求报上级党组织备案")
            % {"y": data.plan_year}
        )
    return [f"{i}．{text}。" for i, text in enumerate(items, 1)]


SECTION_TITLES = ("一、基本情况", "二、主要做法和成效", "三、存在的问题", "四、下一步打算")


def draft_text(data: SummaryData) -> str:
    """The whole draft in the text format (headings on their own lines)."""
    f = {x.key: x.value for x in facts(data)}
    sections = (
        _basic(data, f),
        _practice(data, f),
        _problems(data, f),
        _next_steps(data),
    )
    out = []
    for title, paragraphs in zip(SECTION_TITLES, sections, strict=True):
        out.append(_(title))
        out.extend(paragraphs)
    return "\n".join(out)


# The text format, for the PDF


@dataclass(frozen=True)
class Block:
    level: int  # 0: paragraph; 1: 一、; 2: （一）; 3: 1.
    text: str


def blocks(text: str) -> list[Block]:
    """A text split into headings and paragraphs. A level-2 or level-3 heading followed by
    its sentence on the same line (（一）坚持……。全年……) keeps them together, as 公文 do."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        level = next((lvl for lvl, pattern in HEADING_RES if pattern.match(line)), 0)
        out.append(Block(level, line))
    return out
