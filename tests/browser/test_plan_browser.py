"""The plan's story in headless Chromium: rows added with the button, saved, submitted,
returned with a comment, revised, submitted again, filed, and scheduled."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from attendance.models import StudySession
from studyplans.models import AnnualPlan, PlanStatus
from tests.browser.conftest import log_in, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NOW = dt.datetime(2025, 12, 10, 2, 0, tzinfo=dt.UTC)


def test_plan_story(cast, browser, live_server):
    def new_page():
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 1600}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    secretary, reviewer = new_page(), new_page()
    with time_machine.travel(NOW, tick=True):
        log_in(secretary, "sec_a")
        secretary.goto("/orgs/JG-01-01/plans/2026/")
        secretary.get_by_role("link", name="制定计划").click()
        themes = secretary.locator("[data-formset=themes]")
        themes.locator("select").first.select_option("q1")
        themes.locator("input[type=text]").first.fill("学习党的二十大精神")
        sessions = secretary.locator("[data-formset=sessions]")
        for _ in range(4):
            sessions.get_by_role("button", name="添加一行").click()
        rows = sessions.locator("tbody tr")
        expect(rows).to_have_count(7)
        for i, (kind, month) in enumerate(
            [
                ("支委会", "1"),
                ("党课", "3"),
                ("支部党员大会", "3"),
                ("集中学习", "4"),
                ("党课", "6"),
            ]
        ):
            row = rows.nth(i)
            row.get_by_label("类型").select_option(kind)
            row.get_by_label("月份").fill(month)
            row.get_by_label("主题").fill(f"{month}月{kind}")
        books = secretary.locator("[data-formset=books]")
        books.get_by_label("书名").first.fill("中国共产党简史")
        shot(secretary, "plan_edit")
        secretary.get_by_role("button", name="保存", exact=True).click()
        expect(secretary.get_by_text("已保存 2026 年学习计划")).to_be_visible()
        expect(secretary.locator("#plan-checks")).to_contain_text("LC-B1：计划中2月")
        secretary.get_by_role("button", name="报送上级备案").click()
        expect(secretary.locator("#plan-status")).to_have_text("已报送")

        log_in(reviewer, "reviewer")
        reviewer.goto("/plans/inbox/")
        reviewer.get_by_role("link", name="查看").click()
        reviewer.get_by_label("退回意见").fill("请按每月一次补齐支委会")
        reviewer.get_by_role("button", name="退回修改").click()
        expect(reviewer.locator("#plan-status")).to_have_text("已退回")

        secretary.reload()
        expect(secretary.locator("#return-comment")).to_contain_text("请按每月一次补齐支委会")
        secretary.get_by_role("link", name="修改计划").click()
        sessions = secretary.locator("[data-formset=sessions]")
        sessions.get_by_role("button", name="添加一行").click()
        row = sessions.locator("tbody tr").last
        row.get_by_label("类型").select_option("支委会")
        row.get_by_label("月份").fill("2")
        row.get_by_label("主题").fill("2月支委会")
        secretary.get_by_role("button", name="保存", exact=True).click()
        secretary.get_by_role("button", name="报送上级备案").click()

        reviewer.goto("/plans/inbox/")
        reviewer.locator("#plan-inbox").get_by_role("button", name="备案").click()
        expect(reviewer.get_by_text("没有待备案的学习计划")).to_be_visible()

        secretary.reload()
        expect(secretary.locator("#plan-status")).to_have_text("已备案")
        secretary.get_by_role("button", name="排入日程").click()
        expect(secretary.get_by_text("已按计划创建 6 次活动")).to_be_visible()
        shot(secretary, "plan_detail")

    plan = AnnualPlan.objects.get()
    assert plan.status == PlanStatus.FILED
    assert list(plan.events.order_by("at", "pk").values_list("action", flat=True)) == [
        "创建",
        "报送",
        "退回",
        "修改",
        "报送",
        "备案",
        "排期",
    ]
    assert StudySession.objects.count() == 6
