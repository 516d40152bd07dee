"""What a year's study plan leaves out, measured against the organization's rule profile.

The plan is checked before the year starts, so every period of the year counts (not only
the completed ones, as in engine.py), and the numbers are planned sessions, not held ones.
The rules are the same data the engine reads: a cadence rule ("每月", "每季度" …) must find
`min_per_period` planned sessions of its types in every month/quarter/half-year in which
the organization exists, and a count rule (FJ-B1 ≥ 12 …) must be reached by the year's
planned total.

studyplans may not import this app (dependencies point down: assessments → studyplans), so
`register()` hands `plan_gaps` to studyplans.checks.PLAN_CHECKS; AssessmentsConfig.ready()
calls it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from branches.models import DEFAULT_PROFILE_NAME, Organization
from studyplans.checks import PLAN_CHECKS
from studyplans.models import AnnualPlan, PlannedSession

from .engine import PERIOD_LABELS
from .models import Rule, RuleProfile

# Group cadences (FJ-B4, LC-B2) are judged on each 党小组's own plan, never on the branch's.
GROUP_TARGET = "groups"


def register() -> None:
    """Add plan_gaps to the plan checks once (ready() may run more than once in tests)."""
    if plan_gaps not in PLAN_CHECKS:
        PLAN_CHECKS.append(plan_gaps)


def profile_for(org: Organization) -> RuleProfile | None:
    """The organization's effective profile with its rules, else 默认 (two queries)."""
    name = org.effective_profile_name()
    profiles = {
        p.name: p
        for p in RuleProfile.objects.filter(name__in={name, DEFAULT_PROFILE_NAME}).prefetch_related(
            "rules"
        )
    }
    return profiles.get(name) or profiles.get(DEFAULT_PROFILE_NAME)


def plan_gaps(plan: AnnualPlan) -> list[str]:
    """One message per rule the plan does not satisfy, e.g. "FJ-B5：计划中第三季度没有党课"."""
    org = plan.organization
    profile = profile_for(org)
    if profile is None:
        return []
    # The view prefetches planned_sessions; .all() then costs no query.
    planned = list(plan.planned_sessions.all())
    study_types = list(profile.options.get("study_types") or [])
    subtree: list[PlannedSession] | None = None
    gaps: list[str] = []
    for rule in profile.rules.all():
        if not (
            rule.enabled
            and rule.scope == "org"
            and org.type in (rule.applies_to or {}).get("org_types", [])
        ):
            continue
        params = rule.params or {}
        if rule.kind == "cadence" and params.get("target") != GROUP_TARGET:
            gaps += _cadence_gaps(rule, org, plan.year, planned)
        elif rule.kind == "session_count":
            sessions = planned
            if params.get("organizer") == "subtree":
                # Sessions planned anywhere below count too (JL-T1: training by any level).
                if subtree is None:
                    subtree = planned + list(_descendant_plans(plan))
                sessions = subtree
            gaps += _count_gaps(rule, sessions, study_types)
        elif rule.kind == "session_hours":
            gaps += _hours_gaps(rule, planned, study_types)
    return gaps


def _descendant_plans(plan: AnnualPlan) -> Iterable[PlannedSession]:
    return PlannedSession.objects.filter(
        plan__year=plan.year,
        plan__organization__path__startswith=plan.organization.path,
    ).exclude(plan=plan)


def _types_text(types: list[str]) -> str:
    if len(types) <= 1:
        return "".join(types)
    return "、".join(types[:-1]) + "或" + types[-1]


def _fmt(value: Decimal | float | int) -> str:
    return f"{float(value):g}"


def _existed_in(org: Organization, start: dt.date, end: dt.date) -> bool:
    return (org.active_from is None or org.active_from <= end) and (
        org.active_until is None or org.active_until > start
    )


def _bounds(year: int, months: set[int]) -> tuple[dt.date, dt.date]:
    last = max(months)
    end = dt.date(year + (last == 12), last % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(year, min(months), 1), end


def _cadence_gaps(
    rule: Rule, org: Organization, year: int, planned: list[PlannedSession]
) -> list[str]:
    params = rule.params
    types = list(params.get("types") or [])
    period = params.get("period", "month")
    if not types or period not in PERIOD_LABELS:
        return []
    minimum = int(params.get("min_per_period", 1))
    min_hours_each = params.get("min_hours_each")
    floor = Decimal(str(min_hours_each)) if min_hours_each else None
    chosen = [s for s in planned if s.type in types and (floor is None or s.hours >= floor)]
    per_month: dict[int, int] = {}
    for s in chosen:
        per_month[s.month] = per_month.get(s.month, 0) + 1
    missing = [
        label
        for label, months in PERIOD_LABELS[period]
        if _existed_in(org, *_bounds(year, months))
        and sum(per_month.get(m, 0) for m in months) < minimum
    ]
    gaps = []
    what = _types_text(types)
    if missing:
        lack = f"没有{what}" if minimum == 1 else f"不足{minimum}次{what}"
        if floor is not None:
            lack += f"（每次不少于{_fmt(floor)}学时）"
        gaps.append(f"{rule.rule_id}：计划中{'、'.join(missing)}{lack}")
    if params.get("min_total") and len(chosen) < params["min_total"]:
        gaps.append(f"{rule.rule_id}：计划全年{len(chosen)}次{what}，少于{params['min_total']}次")
    if params.get("min_total_hours"):
        hours = sum((s.hours for s in chosen), Decimal(0))
        if hours < Decimal(str(params["min_total_hours"])):
            gaps.append(
                f"{rule.rule_id}：计划中{what}共{_fmt(hours)}学时，"
                f"少于{_fmt(params['min_total_hours'])}学时"
            )
    return gaps


def _count_gaps(rule: Rule, sessions: list[PlannedSession], study_types: list[str]) -> list[str]:
    params = rule.params
    types = list(params.get("types") or study_types)
    what = _types_text(types) if params.get("types") else "集体学习"
    chosen = [s for s in sessions if s.type in types]
    gaps = []
    if len(chosen) < params.get("min", 0):
        gaps.append(f"{rule.rule_id}：计划全年{len(chosen)}次{what}，少于{params['min']}次")
    if params.get("min_hours"):
        hours = sum((s.hours for s in chosen), Decimal(0))
        if hours < Decimal(str(params["min_hours"])):
            gaps.append(
                f"{rule.rule_id}：计划中{what}共{_fmt(hours)}学时，"
                f"少于{_fmt(params['min_hours'])}学时"
            )
    return gaps


def _hours_gaps(rule: Rule, sessions: list[PlannedSession], study_types: list[str]) -> list[str]:
    params = rule.params
    types = list(params.get("types") or study_types)
    what = _types_text(types) if params.get("types") else "集体学习"
    hours = sum((s.hours for s in sessions if s.type in types), Decimal(0))
    minimum = Decimal(str(params.get("min_hours", 0)))
    if hours < minimum:
        return [f"{rule.rule_id}：计划中{what}共{_fmt(hours)}学时，少于{_fmt(minimum)}学时"]
    return []
