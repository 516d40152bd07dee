"""The cadence check of a plan before the year starts (assessments.plan_checks)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from assessments.plan_checks import plan_gaps
from branches.models import Organization
from studyplans.checks import PLAN_CHECKS, plan_problems
from tests.conftest import refreshed

from .helpers import FULL_YEAR, YEAR, make_plan, sessions_of

NOW = dt.datetime(2025, 12, 1, 2, 0, tzinfo=dt.UTC)


def _without(specs, session_type: str, months: set[int]):
    return [(t, [m for m in ms if not (t == session_type and m in months)]) for t, ms in specs]


@time_machine.travel(NOW, tick=False)
def test_a_plan_meeting_the_default_profile_has_no_gaps(cast):
    plan = make_plan(refreshed(cast.branch_a))
    assert plan_gaps(plan) == []


@time_machine.travel(NOW, tick=False)
def test_missing_quarter_lecture_and_monthly_committee_meetings_are_named(cast):
    specs = _without(_without(FULL_YEAR, "党课", {8}), "支委会", {3, 7})
    # Keep 12 study sessions, so that only the cadences are short.
    specs.append(("集中学习", [12]))
    plan = make_plan(refreshed(cast.branch_a), sessions=sessions_of(*specs))
    assert plan_gaps(plan) == [
        "FJ-B5：计划中第三季度没有党课",
        "LC-B1：计划中3月、7月没有支委会",
    ]
    # The registry runs the same check for studyplans, which cannot import assessments.
    assert plan_gaps in PLAN_CHECKS
    assert plan_problems(plan) == plan_gaps(plan)


@time_machine.travel(NOW, tick=False)
def test_too_few_study_sessions_in_the_year(cast):
    # 支委会 is not a study session (profile option study_types): 8 + 4 + 4 = 12 minus 4.
    specs = [(t, ms) for t, ms in FULL_YEAR if t != "集中学习"]
    plan = make_plan(refreshed(cast.branch_a), sessions=sessions_of(*specs))
    assert plan_gaps(plan) == ["FJ-B1：计划全年8次集体学习，少于12次"]


@time_machine.travel(NOW, tick=False)
def test_an_empty_plan_lists_every_period(cast):
    plan = make_plan(refreshed(cast.branch_a), sessions=[])
    assert plan_gaps(plan) == [
        "FJ-B1：计划全年0次集体学习，少于12次",
        "FJ-B2：计划中第一季度、第二季度、第三季度、第四季度没有支部党员大会",
        "FJ-B5：计划中第一季度、第二季度、第三季度、第四季度没有党课",
        "LC-B1：计划中1月、2月、3月、4月、5月、6月、7月、8月、9月、10月、11月、12月没有支委会",
    ]


@time_machine.travel(NOW, tick=False)
def test_the_organizations_own_profile_is_used(cast):
    branch = refreshed(cast.branch_a)
    branch.profile_name = "福建省住建厅机关"
    branch.save(update_fields=["profile_name"])
    plan = make_plan(branch)
    # 福建: 支委会 quarterly (met), and FJ-B6 wants 15 study sessions; 历城's LC-B1 is gone.
    assert plan_gaps(plan) == ["FJ-B6：计划全年12次集体学习，少于15次"]


@time_machine.travel(NOW, tick=False)
def test_the_profile_is_inherited_and_unknown_names_fall_back_to_the_default(cast):
    root = refreshed(cast.root)
    root.profile_name = "历城区"
    root.save(update_fields=["profile_name"])
    plan = make_plan(refreshed(cast.branch_a))
    gaps = plan_gaps(plan)
    # 历城区: LC-B5 wants 40 学时 of collective study; 12 study sessions × 2 = 24.
    assert "LC-B5：计划中集体学习共24学时，少于40学时" in gaps
    Organization.objects.filter(pk=root.pk).update(profile_name="没有这个方案")
    assert plan_gaps(make_plan(refreshed(cast.branch_b), year=YEAR)) == []


@time_machine.travel(NOW, tick=False)
def test_a_branch_founded_mid_year_is_checked_from_then_on(cast):
    branch = refreshed(cast.branch_b)
    branch.active_from = dt.date(YEAR, 7, 1)
    branch.save(update_fields=["active_from"])
    specs = [("支委会", list(range(7, 13))), ("支部党员大会", [9, 12]), ("党课", [8, 11])]
    specs.append(("集中学习", [7, 8, 9, 10, 10, 11, 11, 12]))
    plan = make_plan(branch, sessions=sessions_of(*specs))
    assert plan_gaps(plan) == []


@time_machine.travel(NOW, tick=False)
def test_the_plan_page_shows_the_gaps(cast):
    specs = _without(FULL_YEAR, "党课", {8})
    make_plan(refreshed(cast.branch_a), sessions=sessions_of(*specs))
    url = reverse("studyplans:plan_detail", kwargs={"code": "JG-01-01", "year": YEAR})
    page = cast.client("reviewer").get(url).content.decode()
    assert "FJ-B5：计划中第三季度没有党课" in page
    assert "FJ-B1：计划全年11次集体学习，少于12次" in page
