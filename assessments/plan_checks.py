"""What a year's study plan leaves out, measured against the organization's rule profile.

The plan is checked by the engine's own evaluators (cadence, session_count, session_hours)
run over the planned sessions as if the whole year had passed: every period counts, and a
planned session counts as held. A threshold changed in a profile therefore changes the
plan check and the verdict alike; only the wording of the messages lives here.

studyplans may not import this app (dependencies point down: assessments → studyplans), so
`register()` hands `plan_gaps` to studyplans.checks.PLAN_CHECKS; AssessmentsConfig.ready()
calls it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from branches.models import DEFAULT_PROFILE_NAME, Organization
from studyplans.checks import PLAN_CHECKS
from studyplans.models import AnnualPlan, PlannedSession

from .engine import EVALUATORS, NOT_MET, Context, Verdict
from .metrics import Metrics, SessionRow
from .models import Rule, RuleProfile

# Group cadences (FJ-B4, LC-B2) are judged on each 党小组's own plan, never on the branch's.
GROUP_TARGET = "groups"
PLANNED_KINDS = ("cadence", "session_count", "session_hours")


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


class PlannedMetrics:
    """What the evaluators read from Metrics, made from a plan: its planned sessions as held
    sessions on the first of their month, the year as completed."""

    def __init__(self, *, org: Organization, year: int, own: list, subtree: list) -> None:
        self.root, self.year = org, year
        self.first_day, self.last_day = dt.date(year, 1, 1), dt.date(year, 12, 31)
        self.today = self.as_of = self.last_day
        self.current_year = self.future_year = False
        self.elapsed_fraction = 1.0
        self._own, self._subtree = own, subtree
        self.sessions_by_org: dict[int, list[SessionRow]] = defaultdict(list)
        self.sessions_by_org[org.pk] = self._rows(own)
        self.children: dict[int, list[Organization]] = {}

    def _rows(self, planned: list[PlannedSession]) -> list[SessionRow]:
        # A planned session counts as a held one with its members expected.
        return [
            SessionRow(
                id=s.pk or 0,
                code="",
                organization_id=self.root.pk,
                type=s.type,
                date=dt.date(self.year, s.month, 1),
                hours=s.hours,
                expected=1,
                attended=1,
                excused=0,
            )
            for s in planned
        ]

    def subtree_sessions(self, org: Organization) -> list[SessionRow]:
        return self._rows(self._subtree())

    # The same bounds as the verdicts (the organization's active period).
    org_existed_in = Metrics.org_existed_in


def plan_gaps(plan: AnnualPlan) -> list[str]:
    """One message per rule the plan does not satisfy, e.g. "FJ-B5：计划中第三季度没有党课"."""
    org = plan.organization
    profile = profile_for(org)
    if profile is None:
        return []
    # The view prefetches planned_sessions; .all() then costs no query.
    planned = list(plan.planned_sessions.all())
    subtree_cache: list[PlannedSession] = []

    def subtree() -> list[PlannedSession]:
        # Sessions planned anywhere below count too (JL-T1: training by any level).
        if not subtree_cache:
            subtree_cache.extend(planned + list(_descendant_plans(plan)))
        return subtree_cache

    ctx = Context(
        PlannedMetrics(org=org, year=plan.year, own=planned, subtree=subtree),  # type: ignore[arg-type]
        profile.options,
    )
    gaps: list[str] = []
    for rule in profile.rules.all():
        if not (
            rule.enabled
            and rule.scope == "org"
            and rule.kind in PLANNED_KINDS
            and org.type in (rule.applies_to or {}).get("org_types", [])
            and (rule.params or {}).get("target") != GROUP_TARGET
        ):
            continue
        verdict = EVALUATORS[rule.kind](rule, org, ctx)
        if verdict.outcome == NOT_MET:
            gaps += _messages(rule, verdict, ctx)
    return gaps


def _descendant_plans(plan: AnnualPlan) -> list[PlannedSession]:
    return list(
        PlannedSession.objects.filter(
            plan__year=plan.year,
            plan__organization__path__startswith=plan.organization.path,
        ).exclude(plan=plan)
    )


# The wording of a plan gap, from the verdict's numbers and periods.


def _types_text(types: list[str]) -> str:
    if len(types) <= 1:
        return "".join(types)
    return "、".join(types[:-1]) + "或" + types[-1]


def _fmt(value: Decimal | float | int) -> str:
    return f"{float(value):g}"


def _messages(rule: Rule, v: Verdict, ctx: Context) -> list[str]:
    params = rule.params or {}
    rid = rule.rule_id
    explicit = list(params.get("types") or [])
    what = _types_text(explicit) if explicit else "集体学习"
    gaps = []
    if rule.kind == "cadence":
        minimum = int(params.get("min_per_period", 1))
        if v.missing:
            lack = f"没有{what}" if minimum == 1 else f"不足{minimum}次{what}"
            if params.get("min_hours_each"):
                lack += f"（每次不少于{_fmt(params['min_hours_each'])}学时）"
            gaps.append(f"{rid}：计划中{'、'.join(v.missing)}{lack}")
        held, hours = v.extra.get("held", 0), v.extra.get("hours")
        if params.get("min_total") and held < params["min_total"]:
            gaps.append(f"{rid}：计划全年{held}次{what}，少于{params['min_total']}次")
        floor = params.get("min_total_hours")
        if floor and hours is not None and hours < Decimal(str(floor)):
            gaps.append(f"{rid}：计划中{what}共{_fmt(hours)}学时，少于{_fmt(floor)}学时")
        return gaps
    if rule.kind == "session_count":
        count = int(v.value_number or 0)
        if count < params.get("min", 0):
            gaps.append(f"{rid}：计划全年{count}次{what}，少于{params['min']}次")
        hours = v.extra.get("hours")
        if (
            params.get("min_hours")
            and hours is not None
            and hours < Decimal(str(params["min_hours"]))
        ):
            gaps.append(
                f"{rid}：计划中{what}共{_fmt(hours)}学时，少于{_fmt(params['min_hours'])}学时"
            )
        return gaps
    hours = Decimal(str(v.value_number or 0))
    return [f"{rid}：计划中{what}共{_fmt(hours)}学时，少于{_fmt(params.get('min_hours', 0))}学时"]
