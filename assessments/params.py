"""What each rule parameter means: a Chinese label, a unit, its kind of value and its bounds.

Rule profiles are data (profiles_data.py): a rule's params are a small dict such as
``{"types": ["党课"], "period": "quarter", "min_per_period": 1}``. This catalog turns each
key into something an administrator can read ("周期：每季度") and edit with a proper field
(assessments.forms.RuleEditForm), so nobody edits or reads raw JSON. A key the catalog does
not know falls back to a field derived from its current value (a number stays a number).

The catalog knows no HTML; the forms and templates render it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from attendance.models import AttendanceStatus, NoteKind, SessionType, TalkKind

PERIODS = {"month": "每月", "quarter": "每季度", "half_year": "每半年"}
ORGANIZERS = {"subtree": "本组织及下级组织举办的均计入"}
TARGETS = {"groups": "由各党小组分别执行"}

SESSION_TYPES = list(SessionType.choices)
NOTE_KINDS = list(NoteKind.choices)
TALK_KINDS = list(TalkKind.choices)
STATUSES = [(s, s) for s in (AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT)]

# Kinds of value: how a parameter is shown and edited.
COUNT = "count"  # a whole number with a unit (次, 篇, 天 …)
HOURS = "hours"  # 学时, to one decimal
RATIO = "ratio"  # stored 0–1, shown and typed as a percentage
CHOICE = "choice"  # one of `choices`
MULTI = "multi"  # several of `choices`
MONTH_DAY = "month_day"  # a yearly deadline, MM-DD
FLAG = "flag"  # yes / no
YEAR = "year"  # an optional calendar year
FIXED = "fixed"  # how the rule is wired (organizer, target …): shown, not edited
TIERS = "tiers"  # training thresholds by cadre level (LC-T1)
RATIOS = "ratios"  # a list of percentages (share_five_good)


@dataclass(frozen=True)
class ParamSpec:
    label: str
    kind: str
    unit: str = ""
    min: Decimal | int | None = 0
    max: Decimal | int | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""


def _count(label: str, unit: str, maximum: int = 1000, minimum: int = 0) -> ParamSpec:
    return ParamSpec(label, COUNT, unit, minimum, maximum)


def _hours(label: str, maximum: int = 2000) -> ParamSpec:
    return ParamSpec(label, HOURS, "学时", Decimal(0), Decimal(maximum))


# By key; a (kind, key) entry below overrides where a key means something else in that kind.
SPECS: dict[str, ParamSpec] = {
    "min": _count("不少于", "次", 400),
    "max": _count("最多允许", "次", 400),
    "types": ParamSpec("计入的活动类型", MULTI, choices=SESSION_TYPES),
    "lecture_types": ParamSpec("计为听课的活动类型", MULTI, choices=SESSION_TYPES),
    "period": ParamSpec("周期", CHOICE, choices=list(PERIODS.items())),
    "period_choices": ParamSpec("可选周期", FIXED),
    "min_per_period": _count("每个周期不少于", "次", 31),
    "organizer": ParamSpec("计入范围", FIXED),
    "target": ParamSpec("执行对象", FIXED),
    "min_hours": _hours("不少于"),
    "min_total_hours": _hours("全年合计不少于"),
    "min_hours_each": _hours("每次不少于", 24),
    "hours_per_day": _hours("每天折合", 24),
    "min_total": _count("全年合计不少于", "次", 400),
    "talk_kinds": ParamSpec("计入的讲课类型", MULTI, choices=TALK_KINDS),
    "min_talks": _count("讲课不少于", "次", 100),
    "note_kinds": ParamSpec("计入的文章类型", MULTI, choices=NOTE_KINDS),
    "min_notes": _count("文章不少于", "篇", 100),
    "min_days": _count("调研不少于", "天", 366),
    "min_reports": _count("调研报告不少于", "篇", 100),
    "deadline": ParamSpec("截止日期（每年）", MONTH_DAY, help="月-日，如 03-31"),
    "needs_books": ParamSpec("须列出推荐书目", FLAG),
    "kinds": ParamSpec("计入的类型", MULTI, choices=NOTE_KINDS),
    "min_count": _count("不少于", "篇", 100),
    "tiers": ParamSpec("各类人员的培训要求", TIERS),
    "records_only": ParamSpec("只计入登记的培训记录（不含党员教育培训活动）", FLAG),
    "statuses": ParamSpec("须补课的考勤状态", MULTI, choices=STATUSES),
    "per_month": _count("每月抽查不少于", "个支部", 10000),
    "report_every_months": _count("汇报间隔", "个月", 12, 1),
    "organizations": _count("评选优秀学习型党组织", "个", 10000),
    "members": _count("评选优秀学习型党员", "名", 100000),
    "reading_notes_per_month": _count("每月读书笔记不少于", "篇", 31),
    "publications": _count("全年发表文章不少于", "篇", 100),
    "exam_min": _count("理论考试成绩不低于", "分", 100),
    "exam_min_average": _count("理论考试平均成绩不低于", "分", 100),
    "weekly_hours": _hours("每周自学不少于", 168),
    "lectures_per_month": _count("每月听课不少于", "次", 31),
    "reading_notes_per_quarter": _count("每季度读书笔记不少于", "篇", 90),
    "reflections_per_half_year": _count("每半年心得体会不少于", "篇", 180),
    "reflections_per_quarter": _count("每季度心得体会不少于", "篇", 90),
    "trainings": _count("全年参加培训不少于", "次", 100),
    "min_words": _count("全年学习笔记不少于", "字", 10_000_000),
    "talks_per_year": _count("全年讲话/发言不少于", "次", 100),
    "lectures_attended_per_quarter": _count("每季度听党课不少于", "次", 90),
    "lectures_given_per_month": _count("每月讲党课不少于", "次", 31),
    "targets": ParamSpec("各阶段达标比例", RATIOS),
    "start_year": ParamSpec("起始年份（留空为方案启用当年）", YEAR, min=2000, max=2100),
}
KIND_SPECS: dict[tuple[str, str], ParamSpec] = {
    ("session_count", "min"): _count("全年不少于", "次", 400),
    ("session_count", "min_hours"): _hours("全年合计学时不少于"),
    ("avg_participation", "min"): ParamSpec(
        "平均参与率不低于", RATIO, "%", Decimal(0), Decimal(100)
    ),
    ("unexcused_absences", "max"): _count("全年无故缺席最多允许", "次", 400),
    ("self_study_weekly", "min_hours"): _hours("每周自学不少于", 168),
    ("session_hours", "min_hours"): _hours("全年集中学习不少于"),
    ("talks", "kinds"): ParamSpec("计入的讲课类型", MULTI, choices=TALK_KINDS),
    ("talks", "min"): _count("全年不少于", "次", 100),
    ("attended", "min_per_period"): _count("每个周期参加不少于", "次", 31),
}
TIER_FIELDS = {
    "min_days": _count("不少于", "天", 366),
    "min_hours": _hours("不少于"),
}


def spec_for(kind: str, key: str, value: Any) -> ParamSpec:
    """The catalog entry of a rule parameter, or one derived from its current value."""
    spec = KIND_SPECS.get((kind, key)) or SPECS.get(key)
    if spec is not None:
        return spec
    if isinstance(value, bool):
        return ParamSpec(key, FLAG)
    if isinstance(value, int):
        return _count(key, "", 1_000_000)
    if isinstance(value, float):
        return ParamSpec(key, HOURS, "", Decimal(0), Decimal(1_000_000))
    return ParamSpec(key, FIXED)


def _number(value: Any) -> str:
    if isinstance(value, float | Decimal):
        return f"{Decimal(str(value)).normalize():f}"
    return str(value)


def _choice_labels(spec: ParamSpec, values: list[str]) -> str:
    labels = dict(spec.choices)
    return "、".join(str(labels.get(v, v)) for v in values)


def tier_condition(when: dict) -> str:
    """'处级' or '其他人员' for a training tier's condition."""
    parts = [*when.get("cadre_levels", []), *when.get("roles", [])]
    return "、".join(parts) if parts else "其他党员"


def value_text(spec: ParamSpec, value: Any, *, key: str = "") -> str:
    """A parameter's value in Chinese, with its unit."""
    if spec.kind == RATIO:
        return f"{_number(Decimal(str(value)) * 100)}%"
    if spec.kind in (COUNT, HOURS):
        return f"{_number(value)} {spec.unit}".strip()
    if spec.kind == CHOICE:
        return str(dict(spec.choices).get(value, value))
    if spec.kind == MULTI:
        return _choice_labels(spec, list(value or []))
    if spec.kind == MONTH_DAY:
        month, day = str(value).split("-")
        return f"{int(month)}月{int(day)}日前"
    if spec.kind == FLAG:
        return "是" if value else "否"
    if spec.kind == YEAR:
        return f"{value} 年" if value else "方案启用当年"
    if spec.kind == TIERS:
        return "；".join(
            f"{tier_condition(t.get('when', {}))} "
            + "、".join(
                value_text(TIER_FIELDS[k], t[k]) for k in ("min_days", "min_hours") if k in t
            )
            for t in value
        )
    if spec.kind == RATIOS:
        return " → ".join(f"{_number(Decimal(str(v)) * 100)}%" for v in value)
    # FIXED: how the rule is wired.
    if key == "organizer":
        return ORGANIZERS.get(value, str(value))
    if key == "target":
        return TARGETS.get(value, str(value))
    if key == "period_choices":
        return "、".join(PERIODS.get(v, v) for v in value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class ParamLine:
    key: str
    label: str
    text: str


def describe(kind: str, params: dict[str, Any]) -> list[ParamLine]:
    """Every parameter of a rule as a Chinese label and value, in the rule's own order."""
    return [
        ParamLine(key, spec.label, value_text(spec, value, key=key))
        for key, value in params.items()
        for spec in [spec_for(kind, key, value)]
    ]


def month_day_error(text: str) -> str | None:
    """Why `text` is not a yearly deadline MM-DD (a leap day is allowed), or None."""
    try:
        dt.date.fromisoformat(f"2024-{text}")
    except ValueError:
        return "应为「月-日」格式，如 03-31"
    return None
