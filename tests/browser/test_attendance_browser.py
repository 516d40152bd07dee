"""Issue 3's story in headless Chromium: a session, a leave request, its approval,
attendance taken in one page, and the member seeing the result."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from attendance.models import AttendanceEntry, LeaveRequest
from tests.browser.conftest import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Shanghai: 2025-06-02 09:00 (before) and 2025-06-03 21:30 (after the 19:00–21:00 session).
BEFORE = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)
AFTER = dt.datetime(2025, 6, 3, 13, 30, tzinfo=dt.UTC)


def test_session_leave_attendance_story(cast, browser, live_server):
    def new_page(width=1280):
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", viewport={"width": width, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    secretary, member = new_page(), new_page(390)
    with time_machine.travel(BEFORE, tick=True):
        log_in(secretary, "sec_a")
        secretary.goto("/orgs/JG-01-01/sessions/")
        secretary.get_by_role("link", name="新建活动").click()
        secretary.get_by_label("类型").select_option("集中学习")
        secretary.get_by_label("日期").fill("2025-06-03")
        secretary.get_by_label("开始时间").fill("19:00")
        secretary.get_by_label("结束时间").fill("21:00")
        secretary.get_by_label("学时").fill("2")
        secretary.get_by_label("主题").fill("学习新修订的纪律处分条例")
        secretary.get_by_role("button", name="保存").click()
        expect(secretary.get_by_text("已创建活动：学习新修订的纪律处分条例")).to_be_visible()

        log_in(member, "mem_a")
        member.goto("/me/sessions/")
        member.locator("#upcoming").get_by_role("link", name="请假").click()
        member.get_by_label("请假事由").fill("到省厅参加业务培训")
        member.get_by_role("button", name="提交请假申请").click()
        expect(member.get_by_text("请假申请已提交，等待书记审批")).to_be_visible()

        secretary.goto("/leave/")
        expect(secretary.locator("#pending-leave")).to_contain_text("到省厅参加业务培训")
        secretary.locator("#pending-leave").get_by_role("button", name="批准", exact=True).click()
        expect(secretary.get_by_text("已处理 甲党员 的请假")).to_be_visible()
    assert LeaveRequest.objects.get().approved_in_time

    with time_machine.travel(AFTER, tick=True):
        secretary.goto("/orgs/JG-01-01/sessions/")
        secretary.get_by_role("link", name="学习新修订的纪律处分条例").click()
        secretary.get_by_role("link", name="登记考勤").click()
        rows = secretary.locator(".attendance-row")
        expect(rows).to_have_count(2)
        # The approved leave is pre-selected; the secretary only clicks the exceptions.
        expect(
            secretary.locator(".attendance-row[data-member='A002'] input[value='请假']")
        ).to_be_checked()
        secretary.locator(".attendance-row[data-member='A001'] label", has_text="迟到").click()
        shot(secretary, "attendance-take")
        secretary.get_by_role("button", name="保存考勤").click()
        expect(secretary.get_by_text("考勤已保存")).to_be_visible()
        expect(secretary.locator("#entries")).to_contain_text("迟到")

        member.goto("/me/sessions/")
        expect(member.locator("#my-entries")).to_contain_text("学习新修订的纪律处分条例")
        expect(member.locator("#my-entries")).to_contain_text("请假")
        shot(member, "member-sessions-phone")
    assert dict(AttendanceEntry.objects.values_list("member__member_no", "status")) == {
        "A001": "迟到",
        "A002": "请假",
    }


def test_after_a_qr_meeting_the_rest_is_marked_in_one_step(cast, page):
    """Issue 16: the roll starts from the scans; "其余未签到的标记为 缺席" changes the other
    rows on the page at once, and nothing is 缺席 until the secretary saves."""
    from attendance import services
    from tests.conftest import refreshed
    from tests.factories import make_member, make_session

    for i in range(3):
        make_member(cast.branch_a, name=f"扫码{i}", member_no=f"Q{i:03d}")
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 6, 3), qr_enabled=True)
    services.checkin(
        session=session,
        member=cast.member_a_member,
        scanned_at=session.starts_at + dt.timedelta(minutes=4),
    )
    with time_machine.travel(AFTER, tick=True):
        log_in(page, "sec_a")
        page.goto(f"/sessions/{session.code}/attendance/")
        expect(page.locator("body")).to_contain_text("已有 1 人扫码签到")
        row = page.locator(".attendance-row[data-member='Q001']")
        expect(row.locator("input[value='出席']")).to_be_checked()
        page.locator("#rest-status").select_option("缺席")
        page.locator("#rest-apply").click()
        expect(row.locator("input[value='缺席']")).to_be_checked()
        scanned = page.locator(".attendance-row[data-member='A002']")
        expect(scanned.locator("input[value='出席']")).to_be_checked()
        assert not AttendanceEntry.objects.filter(session=session, status="缺席").exists()
        page.get_by_role("button", name="保存考勤").click()
        expect(page.locator("body")).to_contain_text("考勤已保存")
    statuses = dict(
        AttendanceEntry.objects.filter(session=session).values_list("member__member_no", "status")
    )
    assert statuses.pop("A002") == "出席" and set(statuses.values()) == {"缺席"}
