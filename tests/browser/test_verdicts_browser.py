"""A reviewer reads the overview grid, drills down to a branch and to a member's verdicts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from tests.assessments.test_definitions import held, monthly_days
from tests.browser.conftest import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_drills_down_from_the_grid_to_a_member(cast, page):
    for i, day in enumerate(monthly_days(8)):
        held(cast.branch_a, day, {cast.member_a_member: "缺席"} if i < 5 else {})
    for day in monthly_days(12):
        held(cast.branch_b, day, {})
    with time_machine.travel(dt.datetime(2026, 1, 15, 2, 0, tzinfo=dt.UTC), tick=True):
        log_in(page, "reviewer")
        page.goto("/orgs/JG/overview/?year=2025")
        grid = page.locator("#grid")
        expect(grid).to_contain_text("甲支部")
        expect(grid.locator("tr", has_text="乙支部").locator("td").nth(3)).to_have_text("✓")
        expect(grid.locator("tr", has_text="甲支部").locator("td").nth(3)).to_have_text("✗")
        shot(page, "overview-grid")
        page.get_by_role("link", name="甲支部").click()
        expect(page.locator("#rule-FJ-B1")).to_contain_text("8 次")
        expect(page.locator("#rule-FJ-B1")).to_contain_text("党支部集体学习每年不少于12次")
        shot(page, "branch-verdicts")
        page.locator("#member-eligibility").get_by_role("link", name="甲党员").click()
        expect(page.locator("#excellent")).to_contain_text("不得评为优秀等次")
        expect(page.locator("#absence-dates li")).to_have_count(5)
        shot(page, "member-verdicts")
