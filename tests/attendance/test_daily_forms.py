"""Issue 16's small ones in the member's and the secretary's forms."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from attendance.models import LeaveRequest
from tests.conftest import refreshed
from tests.factories import make_session

# Shanghai 2025-06-03 19:30: the 19:00–21:00 session is under way, the 21:30 one is not.
DURING = dt.datetime(2025, 6, 3, 11, 30, tzinfo=dt.UTC)


def _sessions(cast):
    branch = refreshed(cast.branch_a)
    running = make_session(branch, "集中学习", dt.date(2025, 6, 3), start="19:00", end="21:00")
    later = make_session(branch, "党课", dt.date(2025, 6, 3), start="21:30", end="22:30", hours="1")
    return running, later


@time_machine.travel(DURING, tick=False)
def test_a_session_under_way_offers_no_leave_on_my_sessions(cast):
    running, later = _sessions(cast)
    response = cast.client("member_a").get(reverse("attendance:my_sessions"))
    html = response.content.decode()
    leave_running = reverse("attendance:leave_request", kwargs={"code": running.code})
    leave_later = reverse("attendance:leave_request", kwargs={"code": later.code})
    assert leave_running not in html
    assert leave_later in html
    assert "进行中" in html


@time_machine.travel(DURING, tick=False)
def test_the_leave_page_of_a_session_under_way_says_why_and_takes_nothing(cast):
    running, _later = _sessions(cast)
    client = cast.client("member_a")
    url = reverse("attendance:leave_request", kwargs={"code": running.code})
    response = client.get(url)
    assert "活动已于 2025-06-03 19:00 开始，不能再请假" in response.content.decode()
    response = client.post(url, {"reason": "临时有事"})
    assert "不能再请假" in response.content.decode()
    assert not LeaveRequest.objects.exists()
    # The session page does not offer it either.
    detail = client.get(reverse("attendance:session_detail", kwargs={"code": running.code}))
    assert url not in detail.content.decode()


def test_a_bad_roster_date_is_named_and_today_s_roll_is_shown(cast):
    client = cast.client("secretary_a")
    url = reverse("branches:org_detail", kwargs={"code": "JG-01-01"})
    for bad in ("2025-13-01", "昨天", "2025-02-30"):
        response = client.get(url, {"date": bad})
        assert response.status_code == 200
        html = response.content.decode()
        assert f"在册日期「{bad}」无法识别" in html
        assert "下面显示的是今天" in html
        assert 'role="alert"' in html
    good = client.get(url, {"date": "2025-03-01"}).content.decode()
    assert "无法识别" not in good and "2025-03-01 在册党员" in good
