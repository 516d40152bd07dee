"""The Chinese wording of verdicts, made from the numbers and codes the engine returns.

The engine (assessments.engine) measures and compares; every page, PDF, export and the
command read their words from here, so a threshold changed in a profile (FJ-B7 raised to
85%) changes every text at once, and a forecast is never worded against its outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Verdict

MET, NOT_MET, NA = "met", "not_met", "n/a"
ON_TRACK, AT_RISK = "on_track", "at_risk"

OUTCOME_LABELS = {MET: "达标", NOT_MET: "未达标", NA: "不适用"}
# During the year a minimum not reached yet but on pace is "not yet", not "failed".
PENDING_LABEL = "尚未达到"
FORECAST_LABELS = {ON_TRACK: "进度正常", AT_RISK: "进度落后"}
CONSEQUENCE_LABELS = {
    "not_met": "仅提示",
    "blocks_five_good": "五好党支部不达标",
    "blocks_advanced_branch": "不得评先进党支部",
    "blocks_excellent": "不得评为优秀",
    "blocks_advanced_member": "不得评先进党员",
}
ELIGIBILITY_UNKNOWN = "无法评定"


def outcome_label(v: Verdict) -> str:
    if v.outcome == NOT_MET and v.forecast == ON_TRACK:
        return PENDING_LABEL
    return OUTCOME_LABELS[v.outcome]


def forecast_label(v: Verdict) -> str:
    return FORECAST_LABELS.get(v.forecast or "", "")


def consequence_labels(v: Verdict) -> list[str]:
    return [CONSEQUENCE_LABELS.get(c, c) for c in v.consequences]


def eligibility_label(value: bool | None, yes: str = "是", no: str = "否") -> str:
    return ELIGIBILITY_UNKNOWN if value is None else yes if value else no


def _percent(x: Any) -> str:
    return f"{float(x) * 100:g}%"


def _number(x: Any) -> str:
    return f"{float(x):g}"


# Per rule kind: the parameter its title quotes and how the title writes it.
TITLE_NUMBERS = {
    "avg_participation": ("min", _percent),
    "session_count": ("min", _number),
    "session_hours": ("min_hours", _number),
    "self_study_weekly": ("min_hours", _number),
    "notes": ("min_count", _number),
    "talks": ("min", _number),
    "unexcused_absences": ("max", lambda x: _number(int(x) + 1)),
}


def title(v: Verdict) -> str:
    """The rule's title with its number as the profile now sets it: the shipped title quotes
    the shipped number ("不低于80%"); an administrator's 0.85 reads "不低于85%"."""
    from .profiles_data import RULES

    text = v.rule_title
    spec = TITLE_NUMBERS.get(v.kind)
    shipped = RULES.get(v.rule_id, {}).get("params", {})
    if spec is None or spec[0] not in shipped or spec[0] not in v.params:
        return text
    key, fmt = spec
    old, new = fmt(shipped[key]), fmt(v.params[key])
    if old == new or old not in text:
        return text
    return text.replace(old, new, 1)
