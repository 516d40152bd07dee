"""Checks of a plan's content against the rules, registered from above.

The rules live in assessments/, which sits above this app (reports → assessments →
attendance, studyplans → branches), so studyplans must not import them. Instead the
assessments app appends its checks to PLAN_CHECKS at start-up (assessments.plan_checks.
register(), called from AssessmentsConfig.ready()), and the plan pages call plan_problems().
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import AnnualPlan

PlanCheck = Callable[["AnnualPlan"], list[str]]
PLAN_CHECKS: list[PlanCheck] = []


def plan_problems(plan: AnnualPlan) -> list[str]:
    """Every registered check's messages, in registration order; empty when none is registered."""
    problems: list[str] = []
    for check in PLAN_CHECKS:
        problems.extend(check(plan))
    return problems
