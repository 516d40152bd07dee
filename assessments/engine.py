"""The rules: one small evaluator per rule kind, reading Metrics and returning Verdicts.

A verdict names the rule, what was measured, the threshold, the outcome (met, not_met,
n/a), the missing months or quarters of a cadence rule, a forecast during the current
year, and the quoted clause. Ratings follow from consequences: 五好党支部 达标 is false
exactly when a rule that blocks it is not met.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from attendance.selectors import average_rate, session_rate
from branches.models import DEFAULT_PROFILE_NAME, Organization, OrgType

from . import presenters
from .metrics import MemberInfo, Metrics, quarter_of
from .models import Rule, RuleProfile
from .presenters import AT_RISK, MET, NA, NOT_MET, ON_TRACK

HOURS_PER_DAY = Decimal(8)


@dataclass
class Verdict:
    rule_id: str
    rule_title: str
    outcome: str
    value: str = ""
    threshold: str = ""
    detail: str = ""
    missing: list[str] = field(default_factory=list)
    forecast: str | None = None
    quote: str = ""
    source: str = ""
    consequences: list[str] = field(default_factory=list)
    # Numbers for sorting, scoring and the JSON document.
    number: float | None = None
    # The numbers and codes the presenter and `assess --json` read (RULES.md 2a): the
    # measured value, the threshold it is compared with, the missing periods as YYYY-MM /
    # YYYY-Qn / YYYY-Hn.
    value_number: float | None = None
    threshold_number: float | None = None
    missing_periods: list[str] = field(default_factory=list)
    sessions: int | None = None
    kind: str = ""
    params: dict = field(default_factory=dict)
    # Secondary numbers of a rule with two conditions (held sessions and their 学时).
    extra: dict = field(default_factory=dict)

    # The words come from the presenter (assessments.presenters), never from here.
    @property
    def title(self) -> str:
        return presenters.title(self)

    @property
    def outcome_label(self) -> str:
        return presenters.outcome_label(self)

    @property
    def forecast_label(self) -> str:
        return presenters.forecast_label(self)

    @property
    def consequence_labels(self) -> list[str]:
        return presenters.consequence_labels(self)

    @property
    def blocking(self) -> bool:
        return self.outcome == NOT_MET and any(c != "not_met" for c in self.consequences)


@dataclass
class Context:
    metrics: Metrics
    options: dict[str, Any]

    @cached_property
    def study_types(self) -> frozenset[str]:
        return frozenset(self.options.get("study_types") or [])


Evaluator = Callable[[Rule, Any, Context], Verdict]
EVALUATORS: dict[str, Evaluator] = {}


def evaluator(kind: str) -> Callable[[Evaluator], Evaluator]:
    def register(fn: Evaluator) -> Evaluator:
        EVALUATORS[kind] = fn
        return fn

    return register


def _verdict(rule: Rule, outcome: str, **kwargs: Any) -> Verdict:
    return Verdict(
        rule_id=rule.rule_id,
        rule_title=rule.title,
        outcome=outcome,
        quote=rule.quote,
        source=rule.source,
        consequences=list(rule.consequences),
        kind=rule.kind,
        params=rule.params,
        **kwargs,
    )


NO_SESSION = "本年度没有已举行并登记考勤的集体学习活动，无从计算，按未达标处理"


def _na(rule: Rule, reason: str) -> Verdict:
    return _verdict(rule, NA, detail=reason)


def _pace(rule: Rule, amount: float, minimum: float, ctx: Context, **kwargs: Any) -> Verdict:
    """A count that must reach a yearly minimum: met, or not yet with a forecast from the pace."""
    m = ctx.metrics
    kwargs.setdefault("value_number", float(amount))
    kwargs.setdefault("threshold_number", float(minimum))
    if amount >= minimum:
        return _verdict(rule, MET, number=amount, **kwargs)
    forecast = None
    if m.current_year and m.elapsed_fraction > 0:
        forecast = ON_TRACK if amount >= minimum * m.elapsed_fraction else AT_RISK
    return _verdict(rule, NOT_MET, number=amount, forecast=forecast, **kwargs)


def _fmt(value: float | Decimal) -> str:
    value = float(value)
    return f"{value:g}"


# Periods

PERIOD_LABELS = {
    "month": [(f"{i}月", {i}) for i in range(1, 13)],
    "quarter": [
        ("第一季度", {1, 2, 3}),
        ("第二季度", {4, 5, 6}),
        ("第三季度", {7, 8, 9}),
        ("第四季度", {10, 11, 12}),
    ],
    "half_year": [("上半年", set(range(1, 7))), ("下半年", set(range(7, 13)))],
}
PERIOD_NAMES = {"month": "每月", "quarter": "每季度", "half_year": "每半年", "year": "每年"}


def period_code(year: int, months: set[int]) -> str:
    """YYYY-MM for a month, YYYY-Qn for a quarter, YYYY-Hn for a half-year."""
    first = min(months)
    if len(months) == 1:
        return f"{year}-{first:02d}"
    if len(months) == 3:
        return f"{year}-Q{quarter_of(first)}"
    return f"{year}-H{1 if first <= 6 else 2}"


def _period_bounds(year: int, months: set[int]) -> tuple[dt.date, dt.date]:
    first, last = min(months), max(months)
    end = dt.date(year + (last == 12), last % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(year, first, 1), end


def periods_to_check(
    m: Metrics, period: str, org: Organization | None = None
) -> tuple[list[tuple[str, set[int]]], tuple[str, set[int]] | None]:
    """Completed periods (in which the organization existed), and the one in progress."""
    done, current = [], None
    for label, months in PERIOD_LABELS[period]:
        start, end = _period_bounds(m.year, months)
        if org is not None and not m.org_existed_in(org, start, end):
            continue
        # A period ending today is still in progress: a session may yet be held today.
        if end < m.as_of or (end == m.as_of and not m.current_year):
            done.append((label, months))
        elif start <= m.as_of:
            current = (label, months)
    return done, current


def _counts_by_month(sessions, types: set[str], min_hours: float | None = None) -> dict[int, int]:
    counts: dict[int, int] = {}
    for s in sessions:
        if s.type in types and (min_hours is None or s.hours >= Decimal(str(min_hours))):
            counts[s.date.month] = counts.get(s.date.month, 0) + 1
    return counts


def _cadence_missing(counts: dict[int, int], periods, minimum: int) -> list[str]:
    return [label for label, months in periods if sum(counts.get(mo, 0) for mo in months) < minimum]


# Organization rules


@evaluator("session_count")
def session_count(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    m, p = ctx.metrics, rule.params
    types = set(p.get("types") or ctx.study_types)
    sessions = (
        m.subtree_sessions(org)
        if p.get("organizer") == "subtree"
        else m.sessions_by_org.get(org.pk, [])
    )
    chosen = [s for s in sessions if counts_as_held_study(s, types)]
    value, minimum = len(chosen), p["min"]
    threshold = f"≥ {minimum} 次"
    if p.get("min_hours"):
        hours = sum((s.hours for s in chosen), Decimal(0))
        threshold += f"，≥ {p['min_hours']} 学时"
        verdict = _pace(
            rule, value, minimum, ctx, value=f"{value} 次，{_fmt(hours)} 学时", threshold=threshold
        )
        verdict.extra = {"hours": hours}
        if verdict.outcome == MET and hours < Decimal(str(p["min_hours"])):
            verdict.outcome = NOT_MET
            verdict.detail = f"学时不足 {p['min_hours']}"
        return verdict
    return _pace(rule, value, minimum, ctx, value=f"{value} 次", threshold=threshold)


@evaluator("session_hours")
def session_hours(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    types = set(rule.params.get("types") or ctx.study_types)
    hours = sum(
        (
            s.hours
            for s in ctx.metrics.sessions_by_org.get(org.pk, [])
            if counts_as_held_study(s, types)
        ),
        Decimal(0),
    )
    minimum = rule.params["min_hours"]
    return _pace(
        rule, float(hours), minimum, ctx, value=f"{_fmt(hours)} 学时", threshold=f"≥ {minimum} 学时"
    )


@evaluator("cadence")
def cadence(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    m, p = ctx.metrics, rule.params
    types, period, minimum = set(p["types"]), p.get("period", "month"), p.get("min_per_period", 1)
    threshold = f"{PERIOD_NAMES[period]} ≥ {minimum} 次{''.join(p['types'])}"
    if p.get("target") == "groups":
        groups = [g for g in m.children.get(org.pk, []) if g.type == OrgType.GROUP]
        groups = [g for g in groups if m.org_existed_in(g, m.first_day, m.as_of)]
        if not groups:
            return _na(rule, "未设立党小组")
        missing, at_risk, per_group, checked = [], False, [], 0
        for g in groups:
            done, current = periods_to_check(m, period, g)
            checked += len(done)
            counts = _counts_by_month(m.sessions_by_org.get(g.pk, []), types)
            labels = _cadence_missing(counts, done, minimum)
            missing += [f"{g.name}：{label}" for label in labels]
            if labels:
                per_group.append(f"{g.name} {'、'.join(labels)}")
            if current and _cadence_missing(counts, [current], minimum):
                at_risk = True
        verdict = _cadence_verdict(
            rule, m, missing, at_risk, threshold, f"{len(groups)} 个党小组", checked=checked
        )
        if per_group:
            verdict.detail = "缺少：" + "；".join(per_group)
        return verdict
    done, current = periods_to_check(m, period, org)
    counts = _counts_by_month(m.sessions_by_org.get(org.pk, []), types, p.get("min_hours_each"))
    missing = _cadence_missing(counts, done, minimum)
    at_risk = bool(current and _cadence_missing(counts, [current], minimum))
    held = sum(counts.values())
    verdict = _cadence_verdict(
        rule, m, missing, at_risk, threshold, f"共 {held} 次", checked=len(done)
    )
    verdict.extra = {
        "held": held,
        "hours": sum(
            (s.hours for s in m.sessions_by_org.get(org.pk, []) if s.type in types), Decimal(0)
        ),
    }
    extra = []
    if p.get("min_total") and held < p["min_total"]:
        extra.append(f"全年 {held} 次，少于 {p['min_total']} 次")
    if p.get("min_total_hours"):
        hours = sum(
            (s.hours for s in m.sessions_by_org.get(org.pk, []) if s.type in types), Decimal(0)
        )
        days = hours / Decimal(str(p.get("hours_per_day", 8)))
        verdict.value += f"，{_fmt(days)} 天"
        if hours < p["min_total_hours"]:
            extra.append(
                f"全年 {_fmt(days)} 天，少于 {_fmt(Decimal(p['min_total_hours']) / Decimal(str(p.get('hours_per_day', 8))))} 天（每天按 {p.get('hours_per_day', 8)} 学时折算）"
            )
    if extra and not (m.current_year and verdict.outcome == MET):
        verdict.outcome = NOT_MET
        verdict.detail = "；".join(extra)
    elif extra:
        verdict.forecast = AT_RISK
        verdict.detail = "；".join(extra)
    return verdict


LABEL_MONTHS = {label: months for labels in PERIOD_LABELS.values() for label, months in labels}


def _missing_codes(year: int, missing: list[str]) -> list[str]:
    """The period codes of missing labels ("3月", "党小组一：第二季度"), once each."""
    codes: list[str] = []
    for label in missing:
        months = LABEL_MONTHS.get(label.rsplit("：", 1)[-1])
        code = period_code(year, months) if months else None
        if code and code not in codes:
            codes.append(code)
    return sorted(codes)


def _cadence_verdict(
    rule: Rule,
    m: Metrics,
    missing: list[str],
    at_risk: bool,
    threshold: str,
    value: str,
    *,
    checked: int | None = None,
) -> Verdict:
    """`checked`: the periods judged (completed ones in which the organization existed); the
    JSON's value is the periods met and its threshold the periods judged (LEDGER.md:
    FJ-B5 with 党课 in three quarters of four is value 3, threshold 4)."""
    numbers = {
        "value_number": None if checked is None else checked - len(missing),
        "threshold_number": checked,
        "missing_periods": _missing_codes(m.year, missing),
    }
    if missing:
        return _verdict(
            rule,
            NOT_MET,
            value=value,
            threshold=threshold,
            missing=missing,
            detail="缺少：" + "、".join(missing),
            number=-len(missing),
            **numbers,
        )
    forecast = (AT_RISK if at_risk else ON_TRACK) if m.current_year else None
    return _verdict(
        rule, MET, value=value, threshold=threshold, forecast=forecast, number=0, **numbers
    )


def session_participation(s, options: dict) -> float | None:
    """The participation of one held session under a profile's options (RULES.md section 2)."""
    return session_rate(
        expected=s.expected,
        attended=s.attended,
        excused=s.excused,
        exclude_excused=options.get("exclude_excused", False),
    )


def participation(sessions, study_types: frozenset[str], options: dict) -> tuple[float | None, int]:
    """The one profile-aware definition of an organization's average participation and its
    study-session count: the engine, the summary, the dashboard statistics, the session
    list, the archive and the exports all read it. `sessions` are held sessions
    (Metrics.sessions); the count is of study sessions with somebody expected."""
    exclude_excused = options.get("exclude_excused", False)
    rows, n = [], 0
    for s in sessions:
        if not counts_as_held_study(s, study_types):
            continue
        n += 1
        expected = s.expected - (s.excused if exclude_excused else 0)
        if expected > 0:
            rows.append((s.attended, expected))
    return average_rate(rows, pooled=bool(options.get("pooled_average"))), n


def counts_as_held_study(s, types) -> bool:
    """A held session (Metrics.sessions) counts for a count or an average when its type is
    one of `types` and somebody was expected: a roll saved with nobody on it is no session."""
    return s.type in types and s.expected > 0


# The name used before participation() was the one definition.
session_rates = participation


@evaluator("avg_participation")
def avg_participation(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    rate, n = participation(
        ctx.metrics.sessions_by_org.get(org.pk, []), ctx.study_types, ctx.options
    )
    minimum = rule.params["min"]
    if rate is None:
        # No evidence is no pass (RULES.md 2a): a blocking rule without sessions is not met.
        return _verdict(
            rule,
            NOT_MET,
            detail=NO_SESSION,
            threshold_number=minimum,
            value_number=None,
            forecast=AT_RISK if ctx.metrics.current_year else None,
        )
    # Compare on rounded values so that 80.00% reads as met on the page and in the JSON.
    outcome = MET if round(rate, 4) >= minimum else NOT_MET
    forecast = (ON_TRACK if outcome == MET else AT_RISK) if ctx.metrics.current_year else None
    return _verdict(
        rule,
        outcome,
        number=rate,
        forecast=forecast,
        value_number=round(rate, 4),
        threshold_number=minimum,
        sessions=n,
    )


@evaluator("makeup_coverage")
def makeup_coverage(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    statuses = set(rule.params.get("statuses", ["请假"]))
    types = set(rule.params.get("types") or ctx.study_types)
    total = made = missed = 0
    for (org_id, session_type, status), (n, k) in ctx.metrics.makeup_counts.items():
        if org_id == org.pk and session_type in types:
            missed += n
            if status in statuses:
                total, made = total + n, made + k
    if missed == 0:
        # No 请假 and no 缺席: nothing to make up (RULES.md 2a).
        return _na(rule, "本年度没有请假或缺席，无需补课")
    if total == 0:
        return _verdict(
            rule, MET, value="已补课 0/0", threshold="全部补课", value_number=0, threshold_number=0
        )
    outcome = MET if made == total else NOT_MET
    return _verdict(
        rule,
        outcome,
        value=f"已补课 {made}/{total}",
        threshold="全部补课",
        number=made / total,
        value_number=made,
        threshold_number=total,
        detail="" if outcome == MET else f"{total - made} 人次未补课",
    )


@evaluator("notes_reviewed")
def notes_reviewed(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    members = ctx.metrics.members_of(org)
    if not members:
        return _na(rule, "没有党员")
    waiting = sum(ctx.metrics.notes_waiting.get(mm.id, 0) for mm in members)
    written = sum(len(ctx.metrics.notes.get(mm.id, [])) for mm in members)
    if written == 0 and waiting == 0:
        return _verdict(rule, NOT_MET, value="本年度无学习笔记", threshold="笔记按时审阅", number=0)
    outcome = MET if waiting == 0 else NOT_MET
    return _verdict(
        rule,
        outcome,
        value=f"{waiting} 篇超过14天未审阅",
        threshold="笔记在14天内审阅",
        number=-waiting,
    )


@evaluator("attendance_notices")
def attendance_notices(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    """JF-K1: a 学习考勤通报 issued for every finished quarter (by the organization or one above
    it), and the notes checked as notes_reviewed reads them."""
    notes = notes_reviewed(rule, org, ctx)
    if notes.outcome == NA:
        return notes
    m = ctx.metrics
    done, _current = periods_to_check(m, "quarter", org)
    issued = _notice_quarters(m).get(org.pk, set())
    missing = [label for label, months in done if (min(months) - 1) // 3 + 1 not in issued]
    value = f"已通报 {len(issued)} 个季度；{notes.value}"
    threshold = f"每季度通报考勤；{notes.threshold}"
    problems = [f"未通报考勤：{'、'.join(missing)}"] if missing else []
    if notes.outcome == NOT_MET:
        problems.append(notes.value)
    if problems:
        return _verdict(
            rule,
            NOT_MET,
            value=value,
            threshold=threshold,
            missing=missing,
            detail="；".join(problems),
            number=-len(missing),
        )
    return _verdict(rule, MET, value=value, threshold=threshold, number=0)


def _notice_quarters(m: Metrics) -> dict[int, set[int]]:
    """Quarters with an issued 通报, per organization of the assessed subtree: one query per
    assessment, kept on the Metrics object."""
    if "_notice_quarters" not in m.__dict__:
        from .models import AttendanceNotice

        found: dict[int, set[int]] = {}
        for org_id, quarter in AttendanceNotice.objects.filter(
            organization__path__startswith=m.root.path, year=m.year
        ).values_list("organization_id", "quarter"):
            found.setdefault(org_id, set()).add(quarter)
        m.__dict__["_notice_quarters"] = found
    return m.__dict__["_notice_quarters"]


@evaluator("exam_results")
@evaluator("excellent_org")
def excellent_org(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    scores = [
        float(s)
        for mm in ctx.metrics.members_of(org)
        for _, s in ctx.metrics.exam_scores.get(mm.id, [])
    ]
    if not scores:
        return _na(rule, "本年度没有理论考试成绩")
    average = sum(scores) / len(scores)
    minimum = rule.params.get("exam_min_average", 80)
    return _verdict(
        rule,
        MET if average >= minimum else NOT_MET,
        value=f"平均 {average:.1f} 分",
        threshold=f"≥ {minimum} 分",
        number=average,
    )


def _deadline(year: int, month_day: str) -> dt.datetime:
    """The end of the deadline day in Asia/Shanghai."""
    from django.utils import timezone

    month, day = (int(x) for x in month_day.split("-"))
    return timezone.make_aware(dt.datetime.combine(dt.date(year, month, day), dt.time.max))


def _by_deadline(ctx: Context, when: dt.datetime | None, deadline: dt.datetime) -> bool | None:
    """True if done in time, False if late or not done after the deadline, None if it may still be."""
    if when is not None and when <= deadline:
        return True
    return None if ctx.metrics.today <= deadline.date() and when is None else False


@evaluator("plan_filed")
def plan_filed(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    """The year's plan reported (报送) by the deadline and filed (备案) by the superior;
    FJ-P1 also wants the recommended book list."""
    m = ctx.metrics
    deadline = _deadline(m.year, rule.params.get("deadline", "03-31"))
    plan = m.plans.get(org.pk)
    threshold = f"{deadline:%m月%d日}前报送并备案" + (
        "，列出推荐书目" if rule.params.get("needs_books") else ""
    )
    if plan is None:
        in_time = _by_deadline(ctx, None, deadline)
        return _verdict(
            rule,
            NOT_MET,
            value="未制定学习计划",
            threshold=threshold,
            forecast=AT_RISK if in_time is None else None,
        )
    submitted = plan["first_submitted_at"]
    in_time = _by_deadline(ctx, submitted, deadline)
    problems = []
    if in_time is False:
        problems.append(
            "未按时报送"
            if submitted is None
            else f"{submitted.astimezone(deadline.tzinfo):%m月%d日}才报送"
        )
    if plan["status"] != "已备案":
        problems.append(f"计划状态：{plan['status']}")
    if rule.params.get("needs_books") and not plan["n_books"]:
        problems.append("没有推荐书目")
    value = f"{plan['status']}" + (
        f"，{submitted.astimezone(deadline.tzinfo):%Y-%m-%d}报送" if submitted else ""
    )
    if not problems:
        return _verdict(rule, MET, value=value, threshold=threshold)
    forecast = AT_RISK if in_time is None else None
    return _verdict(
        rule,
        NOT_MET,
        value=value,
        threshold=threshold,
        detail="；".join(problems),
        forecast=forecast,
    )


@evaluator("summary_sent")
def summary_sent(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    """In January: last year's summary and this year's plan sent to the superior."""
    m = ctx.metrics
    deadline = _deadline(m.year, rule.params.get("deadline", "01-31"))
    sent = m.summaries_sent.get(org.pk)
    plan = m.plans.get(org.pk)
    plan_sent = plan["first_submitted_at"] if plan else None
    summary_ok, plan_ok = _by_deadline(ctx, sent, deadline), _by_deadline(ctx, plan_sent, deadline)
    threshold = f"{deadline:%m月%d日}前报送{m.year - 1}年总结和{m.year}年计划"
    value = (
        "总结"
        + (f"{sent.astimezone(deadline.tzinfo):%Y-%m-%d}报送" if sent else "未报送")
        + "，计划"
        + (f"{plan_sent.astimezone(deadline.tzinfo):%Y-%m-%d}报送" if plan_sent else "未报送")
    )
    if summary_ok and plan_ok:
        return _verdict(rule, MET, value=value, threshold=threshold)
    if summary_ok is False or plan_ok is False:
        missing = [
            name for name, ok in (("年度总结", summary_ok), ("学习计划", plan_ok)) if ok is False
        ]
        return _verdict(
            rule, NOT_MET, value=value, threshold=threshold, detail="逾期：" + "、".join(missing)
        )
    return _verdict(rule, NOT_MET, value=value, threshold=threshold, forecast=AT_RISK)


@evaluator("spot_checks")
def spot_checks(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    """At least N branches checked every month (all of them where there are fewer), and a
    supervision report issued every two months."""
    m = ctx.metrics
    branches = m.branch_count(org)
    if branches == 0:
        return _na(rule, "没有下属党支部")
    per_month = min(rule.params["per_month"], branches)
    checks, reports = m.supervision
    done, _current = periods_to_check(m, "month", org)
    short = [
        label
        for label, months in done
        if sum(checks.get(org.pk, {}).get(mo, 0) for mo in months) < per_month
    ]
    periods = [(f"{a}-{a + 1}月", {a, a + 1}) for a in range(1, 12, 2)]
    finished = [
        (label, months)
        for label, months in periods
        if max(months) < (m.as_of.month if m.current_year else 13)
    ]
    unreported = [
        label for label, months in finished if min(months) not in reports.get(org.pk, set())
    ]
    missing = [f"{x}抽查不足" for x in short] + [f"{x}未报送督导报告" for x in unreported]
    total = sum(checks.get(org.pk, {}).values())
    value = f"已检查 {total} 个支部次，报告 {len(reports.get(org.pk, set()))} 期"
    threshold = f"每月 ≥ {per_month} 个支部，每两个月一期报告"
    return _cadence_verdict(rule, m, missing, False, threshold, value)


@evaluator("selection_made")
def selection_made(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    from .models import Selection

    selection = (
        Selection.objects.filter(organization=org, year=ctx.metrics.year)
        .prefetch_related("entries")
        .first()
    )
    want_orgs, want_members = rule.params["organizations"], rule.params["members"]
    threshold = f"{want_orgs} 个组织、{want_members} 名党员"
    if selection is None:
        if ctx.metrics.current_year or ctx.metrics.future_year:
            return _verdict(rule, NOT_MET, value="尚未评选", threshold=threshold, forecast=AT_RISK)
        return _verdict(rule, NOT_MET, value="未评选", threshold=threshold)
    entries = list(selection.entries.all())
    n_orgs = sum(1 for e in entries if e.organization_id)
    n_members = len(entries) - n_orgs
    return _verdict(
        rule, MET, value=f"已评选 {n_orgs} 个组织、{n_members} 名党员", threshold=threshold
    )


@evaluator("share_five_good")
def share_five_good(rule: Rule, org: Organization, ctx: Context) -> Verdict:
    start = rule.params.get("start_year")
    if not start:
        return _na(rule, "方案未设定三年目标的起始年份")
    index = ctx.metrics.year - int(start)
    targets = rule.params["targets"]
    if index < 0 or index >= len(targets):
        return _na(rule, "不在三年目标期内")
    return _na(rule, "需在全部支部考评后汇总（见考评总览）")


# Member rules


def _member_matches(member: MemberInfo, when: dict) -> bool:
    if not when:
        return True
    roles, org_types, levels = (
        set(when.get("roles", [])),
        when.get("role_org_types"),
        set(when.get("cadre_levels", [])),
    )
    if member.cadre_level in levels:
        return True
    return any(
        kind in roles and (not org_types or org_type in org_types)
        for kind, org_type in member.roles
    )


@evaluator("unexcused_absences")
def unexcused_absences(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    counts = ctx.metrics.entry_counts(ctx.study_types).get(member.id, {})
    if not counts.get("expected"):
        # Expected at no held study session: nothing to judge (RULES.md 2a, 无法评定).
        return _na(rule, "本年度未被列入任何已举行集体学习的应到名单，无法评定")
    absent, maximum = counts.get("absent", 0), rule.params["max"]
    outcome = MET if absent <= maximum else NOT_MET
    forecast = None
    if ctx.metrics.current_year and outcome == MET:
        forecast = AT_RISK if absent >= maximum else ON_TRACK
    return _verdict(
        rule,
        outcome,
        value=f"{absent} 次",
        threshold=f"少于 {maximum + 1} 次（{maximum + 1} 次以上含 {maximum + 1} 次）",
        number=absent,
        forecast=forecast,
        value_number=absent,
        # The count that blocks: "5 次以上" includes 5.
        threshold_number=maximum + 1,
    )


def one_absence_from_losing(verdict: Verdict) -> bool:
    """A met absence rule whose next 缺席 would block: keyed on the rule kind, so every
    profile's own id for the rule works (stats.py, selectors.py)."""
    return (
        verdict.kind == "unexcused_absences"
        and verdict.outcome == MET
        and verdict.value_number is not None
        and verdict.value_number >= verdict.params.get("max", 4)
    )


def whole_weeks(intervals: list[tuple[dt.date, dt.date]], year: int) -> int:
    """Whole ISO weeks (Monday to Sunday) that lie entirely inside the calendar year and
    inside the half-open intervals, merged when they touch (RULES.md 2a): a week that
    starts in December and ends in January belongs to neither year."""
    iso_start = dt.date(year, 1, 1)
    iso_end = dt.date(year + 1, 1, 1)  # exclusive
    merged: list[list[dt.date]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    weeks = 0
    for lo, hi in merged:
        lo, hi = max(lo, iso_start), min(hi, iso_end)
        first_monday = lo + dt.timedelta(days=(7 - lo.weekday()) % 7)
        if first_monday < hi:
            weeks += (hi - first_monday).days // 7
    return weeks


@evaluator("self_study_weekly")
def self_study_weekly(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    weeks = whole_weeks(member.intervals, ctx.metrics.year)
    minimum = rule.params["min_hours"]
    if weeks == 0:
        return _na(rule, "本年度在册尚不足一整周")
    total = ctx.metrics.self_study_hours.get(member.id, Decimal(0))
    average = float(total) / weeks
    outcome = MET if average >= minimum else NOT_MET
    forecast = (ON_TRACK if outcome == MET else AT_RISK) if ctx.metrics.current_year else None
    return _verdict(
        rule,
        outcome,
        value=f"平均每周 {average:.1f} 小时（{_fmt(total)} 小时 / {weeks} 周）",
        threshold=f"每周 ≥ {minimum} 小时",
        number=average,
        forecast=forecast,
    )


TRAINING_TYPES = frozenset({"党员教育培训"})


def training_totals(
    member: MemberInfo, ctx: Context, records_only: bool = False
) -> tuple[Decimal, Decimal, int]:
    """(学时, days, trainings): 党员教育培训 sessions attended plus confirmed outside training.
    A day of training counts as 8 学时 where a threshold is in days."""
    rec_hours, rec_days, courses = ctx.metrics.training_records.get(member.id, (Decimal(0), 0, 0))
    if records_only:
        return rec_hours, Decimal(rec_days), courses
    counts, hours = ctx.metrics.attended_for(TRAINING_TYPES)
    sessions = hours.get(member.id, Decimal(0))
    trainings = courses + sum(counts.get(member.id, {}).values())
    return rec_hours + sessions, Decimal(rec_days) + sessions / HOURS_PER_DAY, trainings


def prorated_hours(minimum: float, share: float) -> Decimal:
    """An annual minimum for a member on a roll for `share` of the year, rounded up to the
    next 0.5 学时 (RULES.md 2a)."""
    if share >= 1:
        return Decimal(str(minimum))
    halves = math.ceil(round(Decimal(str(minimum)) * Decimal(str(share)) * 2, 6))
    return Decimal(halves) / 2


@evaluator("training")
def training(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    tier = next(
        (t for t in rule.params["tiers"] if _member_matches(member, t.get("when", {}))), None
    )
    if tier is None:
        return _na(rule, "不适用于该党员")
    hours, _days, _ = training_totals(member, ctx, rule.params.get("records_only", False))
    per_day = Decimal(str(rule.params.get("hours_per_day", HOURS_PER_DAY)))
    # Thresholds in days count `hours_per_day` 学时 a day; all are compared in 学时.
    full = (
        Decimal(str(tier["min_days"])) * per_day
        if "min_days" in tier
        else Decimal(str(tier["min_hours"]))
    )
    minimum = prorated_hours(float(full), member.year_share)
    threshold = f"≥ {_fmt(minimum)} 学时"
    if "min_days" in tier:
        threshold += f"（{tier['min_days']} 天 × {_fmt(per_day)} 学时）"
    if minimum != full:
        threshold += f"，按在册 {member.year_share:.0%} 的时间折算"
    return _pace(
        rule,
        float(hours),
        float(minimum),
        ctx,
        value=f"{_fmt(hours)} 学时",
        threshold=threshold,
    )


def _notes_of(member: MemberInfo, ctx: Context, kinds) -> list[tuple[str, int, int]]:
    kinds = set(kinds) if kinds else None
    return [n for n in ctx.metrics.notes.get(member.id, []) if kinds is None or n[0] in kinds]


@evaluator("notes")
def notes(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    chosen = _notes_of(member, ctx, rule.params.get("kinds"))
    minimum = rule.params["min_count"]
    return _pace(
        rule,
        len(chosen),
        minimum,
        ctx,
        value=f"{len(chosen)} 篇",
        threshold=f"≥ {minimum} 篇（{'、'.join(rule.params.get('kinds', []))}）",
    )


def _talks_of(member: MemberInfo, ctx: Context, kinds) -> list[tuple[str, int]]:
    return [t for t in ctx.metrics.talks.get(member.id, []) if t[0] in set(kinds)]


@evaluator("talks")
def talks(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    chosen = _talks_of(member, ctx, rule.params["kinds"])
    minimum = rule.params["min"]
    return _pace(
        rule,
        len(chosen),
        minimum,
        ctx,
        value=f"{len(chosen)} 次",
        threshold=f"≥ {minimum} 次（{'、'.join(rule.params['kinds'])}）",
    )


@evaluator("leader_output")
def leader_output(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    p = rule.params
    n_talks = len(_talks_of(member, ctx, p["talk_kinds"]))
    n_notes = len(_notes_of(member, ctx, p["note_kinds"]))
    short = []
    if n_talks < p["min_talks"]:
        short.append(f"党课 {n_talks}/{p['min_talks']}")
    if n_notes < p["min_notes"]:
        short.append(f"心得或调研报告 {n_notes}/{p['min_notes']}")
    value = f"党课 {n_talks} 次，心得/调研报告 {n_notes} 篇"
    if not short:
        return _verdict(
            rule, MET, value=value, threshold=f"党课 ≥ {p['min_talks']}，文章 ≥ {p['min_notes']}"
        )
    forecast = AT_RISK if ctx.metrics.current_year else None
    return _verdict(
        rule,
        NOT_MET,
        value=value,
        threshold=f"党课 ≥ {p['min_talks']}，文章 ≥ {p['min_notes']}",
        detail="不足：" + "、".join(short),
        forecast=forecast,
    )


@evaluator("field_research")
def field_research(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    days, reports = ctx.metrics.research.get(member.id, (0, 0))
    reports += len(_notes_of(member, ctx, ["调研报告"]))
    p = rule.params
    value = f"调研 {days} 天，调研报告 {reports} 篇"
    threshold = f"≥ {p['min_days']} 天，报告 ≥ {p['min_reports']} 篇"
    if days >= p["min_days"] and reports >= p["min_reports"]:
        return _verdict(rule, MET, value=value, threshold=threshold, number=days)
    return _pace(
        rule,
        min(days / p["min_days"], reports / p["min_reports"]),
        1,
        ctx,
        value=value,
        threshold=threshold,
    )


def member_periods(
    ctx: Context, period: str, member: MemberInfo
) -> tuple[list[tuple[str, set[int]]], tuple[str, set[int]] | None]:
    """The periods of a member-scope cadence: those in which the member was on a roll."""
    m = ctx.metrics
    done, current = periods_to_check(m, period)

    def on_roll(months: set[int]) -> bool:
        start, end = _period_bounds(m.year, months)
        return any(lo <= end and hi > start for lo, hi in member.intervals)

    return [p for p in done if on_roll(p[1])], current if current and on_roll(current[1]) else None


def _missing_periods(
    ctx: Context,
    counts_by_month: dict[int, int],
    period: str,
    minimum: int,
    member: MemberInfo | None = None,
) -> tuple[list[str], bool]:
    done, current = (
        member_periods(ctx, period, member) if member else periods_to_check(ctx.metrics, period)
    )
    missing = _cadence_missing(counts_by_month, done, minimum)
    at_risk = bool(current and _cadence_missing(counts_by_month, [current], minimum))
    return missing, at_risk


def _attended_months(member: MemberInfo, ctx: Context, types) -> dict[int, int]:
    return ctx.metrics.attended_for(frozenset(types))[0].get(member.id, {})


@evaluator("attended")
def attended(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    p = rule.params
    counts = _attended_months(member, ctx, p["types"])
    missing, at_risk = _missing_periods(
        ctx, counts, p["period"], p.get("min_per_period", 1), member
    )
    threshold = (
        f"{PERIOD_NAMES[p['period']]}听 ≥ {p.get('min_per_period', 1)} 次{'或'.join(p['types'])}"
    )
    return _cadence_verdict(
        rule,
        ctx.metrics,
        missing,
        at_risk,
        threshold,
        f"共 {sum(counts.values())} 次",
        checked=len(member_periods(ctx, p["period"], member)[0]),
    )


@evaluator("exams_taken")
def exams_taken(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    """一季一考: every completed quarter without an exam taken is named, also when no exam
    was organized at all (no evidence is no pass, RULES.md 2a)."""
    months: dict[int, int] = {}
    for quarter, _ in ctx.metrics.exam_scores.get(member.id, []):
        months[quarter * 3] = months.get(quarter * 3, 0) + 1
    missing, at_risk = _missing_periods(
        ctx, months, rule.params.get("period", "quarter"), 1, member
    )
    verdict = _cadence_verdict(
        rule,
        ctx.metrics,
        missing,
        at_risk,
        "每季度参加一次理论考试",
        f"共 {sum(months.values())} 次",
        checked=len(member_periods(ctx, rule.params.get("period", "quarter"), member)[0]),
    )
    if missing:
        verdict.detail = "没有参加理论考试的季度：" + "、".join(missing)
        if not ctx.metrics.exams_held:
            verdict.detail += "（本年度未组织理论考试）"
    return verdict


def _parts_verdict(
    rule: Rule, ctx: Context, parts: list[tuple[str, bool | None]], value: str
) -> Verdict:
    """A rule made of several requirements: not met when one fails, n/a when one lacks data."""
    failed = [name for name, ok in parts if ok is False]
    unknown = [name for name, ok in parts if ok is None]
    threshold = "、".join(name for name, _ in parts)
    if failed:
        forecast = AT_RISK if ctx.metrics.current_year else None
        return _verdict(
            rule,
            NOT_MET,
            value=value,
            threshold=threshold,
            detail="未达到：" + "、".join(failed),
            forecast=forecast,
        )
    if unknown:
        return _verdict(
            rule, NA, value=value, threshold=threshold, detail="暂无数据：" + "、".join(unknown)
        )
    return _verdict(rule, MET, value=value, threshold=threshold)


def _kind_months(notes_rows, kinds) -> dict[int, int]:
    counts: dict[int, int] = {}
    for kind, month, _ in notes_rows:
        if kind in kinds:
            counts[month] = counts.get(month, 0) + 1
    return counts


@evaluator("excellent_member")
def excellent_member(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    p = rule.params
    rows = ctx.metrics.notes.get(member.id, [])
    reading_missing, _ = _missing_periods(
        ctx, _kind_months(rows, {"读书笔记"}), "month", p["reading_notes_per_month"], member=member
    )
    pubs = ctx.metrics.publications.get(member.id, 0)
    scores = [float(s) for _, s in ctx.metrics.exam_scores.get(member.id, [])]
    exam_ok = (sum(scores) / len(scores) >= p["exam_min"]) if scores else None
    parts = [
        ("个人学习计划", None),
        ("每月读书笔记", not reading_missing),
        (f"发表文章 ≥ {p['publications']} 篇", pubs >= p["publications"]),
        (f"理论考试 ≥ {p['exam_min']} 分", exam_ok),
    ]
    return _parts_verdict(
        rule, ctx, parts, f"读书笔记缺 {len(reading_missing)} 个月，发表 {pubs} 篇"
    )


@evaluator("five_ones")
def five_ones(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    p = rule.params
    weeks = whole_weeks(member.intervals, ctx.metrics.year)
    hours = ctx.metrics.self_study_hours.get(member.id, Decimal(0))
    weekly = float(hours) / weeks if weeks else None
    rows = ctx.metrics.notes.get(member.id, [])
    lectures_missing, _ = _missing_periods(
        ctx,
        _attended_months(member, ctx, p["lecture_types"]),
        "month",
        p["lectures_per_month"],
        member=member,
    )
    reading_missing, _ = _missing_periods(
        ctx,
        _kind_months(rows, {"读书笔记"}),
        "quarter",
        p["reading_notes_per_quarter"],
        member=member,
    )
    reflection_missing, _ = _missing_periods(
        ctx,
        _kind_months(rows, {"心得体会", "理论文章"}),
        "half_year",
        p["reflections_per_half_year"],
        member=member,
    )
    _, _, trainings = training_totals(member, ctx)
    words = sum(w for _, _, w in rows)
    year_done = not ctx.metrics.current_year
    parts = [
        (
            f"每周学习 {p['weekly_hours']} 小时",
            None if weekly is None else weekly >= p["weekly_hours"],
        ),
        ("每月听一堂课", not lectures_missing),
        ("每季度读一本书（读书笔记）", not reading_missing),
        ("每半年一篇心得体会或理论文章", not reflection_missing),
        (
            f"每年至少 {p['trainings']} 次培训",
            trainings >= p["trainings"] or (None if not year_done else False),
        ),
        (
            f"笔记 {p['min_words']} 字以上",
            words >= p["min_words"] or (None if not year_done else False),
        ),
    ]
    return _parts_verdict(rule, ctx, parts, f"笔记 {words} 字，培训 {trainings} 次")


@evaluator("leader_five")
def leader_five(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    p = rule.params
    rows = ctx.metrics.notes.get(member.id, [])
    words = sum(w for _, _, w in rows)
    reflection_missing, _ = _missing_periods(
        ctx,
        _kind_months(rows, {"心得体会", "理论文章"}),
        "quarter",
        p["reflections_per_quarter"],
        member=member,
    )
    attended_missing, _ = _missing_periods(
        ctx,
        _attended_months(member, ctx, ["党课", "专题讲座"]),
        "quarter",
        p["lectures_attended_per_quarter"],
        member=member,
    )
    given: dict[int, int] = {}
    for kind, month in ctx.metrics.talks.get(member.id, []):
        if kind == "党课":
            given[month] = given.get(month, 0) + 1
    given_missing, _ = _missing_periods(
        ctx, given, "month", p["lectures_given_per_month"], member=member
    )
    talks_total = len(ctx.metrics.talks.get(member.id, []))
    year_done = not ctx.metrics.current_year
    parts = [
        (
            f"笔记不少于 {p['min_words']} 字",
            words >= p["min_words"] or (None if not year_done else False),
        ),
        ("每季度一篇心得体会", not reflection_missing),
        (
            f"每年至少 {p['talks_per_year']} 次讲话或报告",
            talks_total >= p["talks_per_year"] or (None if not year_done else False),
        ),
        ("每季度听一次党课", not attended_missing),
        ("每月讲一堂党课", not given_missing),
    ]
    return _parts_verdict(rule, ctx, parts, f"笔记 {words} 字，讲课 {talks_total} 次")


@evaluator("publications")
def publications(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    n = ctx.metrics.publications.get(member.id, 0)
    return _pace(
        rule, n, rule.params["min"], ctx, value=f"{n} 篇", threshold=f"≥ {rule.params['min']} 篇"
    )


@evaluator("personal_plan")
def personal_plan(rule: Rule, member: MemberInfo, ctx: Context) -> Verdict:
    return _na(rule, "个人学习计划功能尚未启用，暂无数据")


# Putting it together


@dataclass
class OrgResult:
    organization: Organization
    profile: str
    profile_version: int
    verdicts: list[Verdict]
    study_sessions: int
    avg_participation: float | None

    def blocked(self, consequence: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.outcome == NOT_MET and consequence in v.consequences]

    @property
    def five_good(self) -> bool:
        return not self.blocked("blocks_five_good")

    @property
    def advanced_eligible(self) -> bool:
        return not self.blocked("blocks_advanced_branch")

    @property
    def counts(self) -> dict[str, int]:
        return {o: sum(1 for v in self.verdicts if v.outcome == o) for o in (MET, NOT_MET, NA)}


@dataclass
class MemberResult:
    member: MemberInfo
    organization: Organization
    profile: str
    profile_version: int
    verdicts: list[Verdict]
    unexcused_absences: int
    attendance: dict[str, int]

    def blocked(self, consequence: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.outcome == NOT_MET and consequence in v.consequences]

    def _eligible(self, consequence: str) -> bool | None:
        """False when a rule with the consequence is not met; None (无法评定) when the member
        was expected at no held study session of the year (RULES.md 2a); else True."""
        if self.blocked(consequence):
            return False
        return None if not self.attendance.get("expected") else True

    @property
    def excellent_eligible(self) -> bool | None:
        return self._eligible("blocks_excellent")

    @property
    def advanced_eligible(self) -> bool | None:
        return self._eligible("blocks_advanced_member")

    @property
    def one_absence_from_losing_excellent(self) -> bool:
        return bool(self.excellent_eligible) and any(
            one_absence_from_losing(v) for v in self.verdicts
        )

    @property
    def counts(self) -> dict[str, int]:
        return {o: sum(1 for v in self.verdicts if v.outcome == o) for o in (MET, NOT_MET, NA)}


@dataclass
class Assessment:
    root: Organization
    year: int
    metrics: Metrics
    organizations: list[OrgResult]
    members: list[MemberResult]
    profiles: dict[str, RuleProfile]
    unknown_profiles: set[str]

    def org(self, code: str) -> OrgResult | None:
        return next((r for r in self.organizations if r.organization.code == code), None)

    def member(self, member_no: str) -> MemberResult | None:
        return next((r for r in self.members if r.member.member_no == member_no), None)


def _load_profiles(names: set[str]) -> tuple[dict[str, RuleProfile], set[str]]:
    def fetch() -> dict[str, RuleProfile]:
        wanted = names | {DEFAULT_PROFILE_NAME}
        return {
            p.name: p for p in RuleProfile.objects.filter(name__in=wanted).prefetch_related("rules")
        }

    profiles = fetch()
    if DEFAULT_PROFILE_NAME not in profiles:
        # The shipped profiles are data from a migration; a flushed table gets them back.
        from .models import ProfileVersion
        from .profiles_loader import load_builtin_profiles

        load_builtin_profiles(RuleProfile, Rule, ProfileVersion)
        profiles = fetch()
    return profiles, {n for n in names if n not in profiles}


def assess(
    *, root: Organization, year: int, today: dt.date | None = None, members: bool = True
) -> Assessment:
    """Every organization of the subtree and every member on its rolls, for the year."""
    with gc_paused():
        return _assess(root=root, year=year, today=today, members=members)


@contextmanager
def gc_paused():
    """Run with the cyclic garbage collector paused. assess allocates millions of short-lived
    rows and verdicts and no reference cycles of note; every full collection would walk the
    whole heap again, which made the time grow faster than the data (5.3× for 4× the tree,
    BENCHMARKS.md). Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _assess(*, root: Organization, year: int, today: dt.date | None, members: bool) -> Assessment:
    m = Metrics(root=root, year=year, today=today)
    names = set(m.profile_names.values())
    profiles, unknown = _load_profiles(names)

    def profile_for(name: str) -> RuleProfile:
        return profiles.get(name) or profiles[DEFAULT_PROFILE_NAME]

    # Per profile, once: its context and enabled rules (not a related manager per member).
    prepared: dict[str, tuple[RuleProfile, Context, list[Rule], list[Rule]]] = {}

    def prepare(name: str) -> tuple[RuleProfile, Context, list[Rule], list[Rule]]:
        if name not in prepared:
            profile = profile_for(name)
            rules = [r for r in profile.rules.all() if r.enabled]
            prepared[name] = (
                profile,
                Context(m, profile.options),
                [r for r in rules if r.scope == "org"],
                [r for r in rules if r.scope == "member"],
            )
        return prepared[name]

    org_results = []
    for org in m.organizations:
        profile, ctx, org_rules, _ = prepare(m.profile_names[org.pk])
        verdicts = [
            EVALUATORS[r.kind](r, org, ctx)
            for r in org_rules
            if org.type in r.applies_to.get("org_types", [])
        ]
        rate, n = participation(m.sessions_by_org.get(org.pk, []), ctx.study_types, profile.options)
        org_results.append(OrgResult(org, profile.name, profile.version, verdicts, n, rate))

    member_results = []
    if members:
        for info in m.members.values():
            profile, ctx, _, member_rules = prepare(m.member_profile(info))
            verdicts = [
                EVALUATORS[r.kind](r, info, ctx)
                for r in member_rules
                if _member_matches(info, r.applies_to)
            ]
            counts = m.entry_counts(ctx.study_types).get(info.id, {})
            member_results.append(
                MemberResult(
                    info,
                    m.org_by_id[info.organization_id],
                    profile.name,
                    profile.version,
                    verdicts,
                    counts.get("absent", 0),
                    counts,
                )
            )
        member_results.sort(key=lambda r: r.member.member_no)
    return Assessment(root, year, m, org_results, member_results, profiles, unknown)


def as_json(assessment: Assessment) -> dict:
    """The document of ../shared/LEDGER.md ("Verdicts as JSON")."""
    with gc_paused():  # the assessment is still on the heap: see gc_paused
        return _as_json(assessment)


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    value = round(float(value), 4)
    return int(value) if value.is_integer() else value


def rule_json(v: Verdict) -> dict:
    """One rule of the JSON document: outcome and, where they apply, value, threshold and
    the missing periods (RULES.md 2a)."""
    doc: dict[str, Any] = {"outcome": v.outcome}
    if v.outcome != NA or v.value_number is not None:
        if v.value_number is not None:
            doc["value"] = _number(v.value_number)
        if v.threshold_number is not None:
            doc["threshold"] = _number(v.threshold_number)
    if v.missing_periods:
        doc["missing"] = list(v.missing_periods)
    return doc


def _as_json(assessment: Assessment) -> dict:
    unrecorded: dict[int, list[str]] = {}
    for _pk, code, org_id, _type, _day in assessment.metrics.unrecorded:
        unrecorded.setdefault(org_id, []).append(code)
    return {
        "year": assessment.year,
        "organizations": [
            {
                "code": r.organization.code,
                "name": r.organization.name,
                "type": r.organization.type,
                "profile": r.profile,
                "profile_version": r.profile_version,
                "study_sessions": r.study_sessions,
                "avg_participation": None
                if r.avg_participation is None
                else round(r.avg_participation, 4),
                "five_good": r.five_good,
                "advanced_eligible": r.advanced_eligible,
                "rules": {v.rule_id: rule_json(v) for v in r.verdicts},
                "forecast": {v.rule_id: v.forecast for v in r.verdicts if v.forecast},
                "unrecorded_sessions": unrecorded.get(r.organization.pk, []),
            }
            for r in assessment.organizations
        ],
        "members": [
            {
                "id": r.member.member_no,
                "name": r.member.name,
                "organization": r.organization.code,
                "profile": r.profile,
                "unexcused_absences": r.unexcused_absences,
                "excellent_eligible": r.excellent_eligible,
                "advanced_eligible": r.advanced_eligible,
                "rules": {v.rule_id: rule_json(v) for v in r.verdicts},
                "forecast": {v.rule_id: v.forecast for v in r.verdicts if v.forecast},
            }
            for r in assessment.members
        ],
    }


def quarter_label(month: int) -> str:
    return PERIOD_LABELS["quarter"][quarter_of(month) - 1][0]
