"""Issue 6's story: a reviewer with the demo data reads the dashboard, drills down to a
member, draws a supervision sample, records a check and exports the heat map."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from assessments.models import SupervisionCheck
from branches.demo import DEMO_PASSWORD, seed_demo
from tests.browser.conftest import ARTIFACTS, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_dashboard_story(page):
    seed_demo(branches=6, members_per_branch=10)
    log_in(page, "reviewer", DEMO_PASSWORD)
    page.get_by_role("button", name="审阅").click()
    page.get_by_role("link", name="看板").click()
    expect(page.locator("#kpis")).to_contain_text("党支部")
    expect(page.locator("#heatmap tbody tr")).to_have_count(6)
    page.wait_for_selector("#chart-participation svg")
    shot(page, "dashboard")
    page.locator("#heatmap").screenshot(path=str(ARTIFACTS / "heatmap.png"))

    # Drill down: 党总支 → 支部 → member.
    page.locator("#children a").first.click()
    expect(page.locator("h1")).to_contain_text("党总支")
    page.locator("#children a").first.click()
    expect(page.locator("#org-summary")).to_be_visible()
    page.locator("#member-eligibility a").first.click()
    expect(page.locator("#excellent")).to_be_visible()

    # Export the heat map to Excel.
    page.goto("/dashboard/")
    with page.expect_download() as info:
        page.locator("#export-heatmap").click()
    # The download has no file extension; openpyxl wants one, a stream it accepts.
    wb = load_workbook(io.BytesIO(info.value.path().read_bytes()))
    assert wb["三会一课"].max_row == 2 + 6  # title, header, the six branches

    # Draw a sample and record a check.
    page.goto("/orgs/JG/supervision/")
    page.get_by_label("抽查数量").fill("3")
    page.get_by_role("button", name="随机抽取").click()
    expect(page.locator("#checks tbody tr")).to_have_count(3)
    page.locator("#checks a").first.click()
    page.get_by_label("检查日期").fill("2026-11-20")
    page.get_by_label("考勤台账").check()
    page.get_by_label("发现的问题（没有则留空）").fill("党小组会记录不完整")
    page.get_by_label("整改期限").fill("2026-12-15")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#findings")).to_have_text("党小组会记录不完整")
    assert SupervisionCheck.objects.filter(status="已检查").count() == 1
