"""Leave before the start, make-up that never erases an absence, QR check-in that cannot be replayed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from attendance import services
from attendance.models import AttendanceEntry, LeaveRequest, MakeUp, StudySession
from tests.conftest import refreshed
from tests.factories import make_session

# Session: 2025-03-05 14:30–16:30 Shanghai = 06:30–08:30 UTC.
BEFORE = dt.datetime(2025, 3, 4, 1, 0, tzinfo=dt.UTC)
AFTER_START = dt.datetime(2025, 3, 5, 6, 31, tzinfo=dt.UTC)
EVENING = dt.datetime(2025, 3, 5, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def session(cast):
    return make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5), topic="学习党章")


def leave_url(session):
    return reverse("attendance:leave_request", kwargs={"code": session.code})


def test_member_asks_for_leave_before_the_start_and_the_secretary_approves(cast, session):
    with time_machine.travel(BEFORE, tick=False):
        response = cast.client("member_a").post(leave_url(session), {"reason": "出差"})
        assert response.status_code == 302
        leave = LeaveRequest.objects.get()
        inbox = cast.client("secretary_a").get(reverse("attendance:leave_inbox"))
        assert [lr.pk for lr in inbox.context["pending"]] == [leave.pk]
        cast.client("secretary_a").post(
            reverse("attendance:leave_decide", kwargs={"pk": leave.pk}), {"decision": "approve"}
        )
    leave.refresh_from_db()
    assert leave.status == "已批准" and leave.approved_in_time


def test_leave_after_the_start_is_refused_with_a_clear_message(cast, session):
    with time_machine.travel(AFTER_START, tick=False):
        response = cast.client("member_a").post(leave_url(session), {"reason": "堵车"})
    assert "活动已于 2025-03-05 14:30 开始，不能再请假" in response.content.decode()
    assert not LeaveRequest.objects.exists()


def test_leave_approved_after_the_start_does_not_count(cast, session):
    with time_machine.travel(BEFORE, tick=False):
        leave = services.leave_request(session=session, member=cast.member_a_member, reason="病")
    with time_machine.travel(AFTER_START, tick=False):
        response = cast.client("secretary_a").post(
            reverse("attendance:leave_decide", kwargs={"pk": leave.pk}),
            {"decision": "approve"},
            follow=True,
        )
        assert "会后批准的请假不计为请假" in response.content.decode()
    with time_machine.travel(EVENING, tick=False):
        rows = (
            cast.client("secretary_a")
            .get(reverse("attendance:attendance_take", kwargs={"code": session.code}))
            .context["rows"]
        )
    assert {r["member"].name: r["status"] for r in rows}["甲党员"] == "出席"


def test_refusing_needs_a_note_and_a_second_request_is_refused(cast, session):
    with time_machine.travel(BEFORE, tick=False):
        leave = services.leave_request(session=session, member=cast.member_a_member, reason="私事")
        response = cast.client("member_a").post(leave_url(session), {"reason": "私事"})
        assert "您已为这次活动提交过请假申请" in response.content.decode()
        response = cast.client("secretary_a").post(
            reverse("attendance:leave_decide", kwargs={"pk": leave.pk}),
            {"decision": "refuse"},
            follow=True,
        )
        assert "不批准时请填写意见" in response.content.decode()
        leave.refresh_from_db()
        assert leave.status == "待审批"


def test_someone_not_expected_cannot_ask_for_leave(cast, session):
    with time_machine.travel(BEFORE, tick=False):
        assert (
            cast.client("secretary_b").post(leave_url(session), {"reason": "x"}).status_code == 404
        )
        other = make_session(refreshed(cast.branch_b), date=dt.date(2025, 3, 5))
        response = cast.client("member_a").get(
            reverse("attendance:leave_request", kwargs={"code": other.code})
        )
        assert response.status_code == 404


def test_secretary_of_another_branch_cannot_decide_leave(cast, session):
    with time_machine.travel(BEFORE, tick=False):
        leave = services.leave_request(session=session, member=cast.member_a_member, reason="出差")
        response = cast.client("secretary_b").post(
            reverse("attendance:leave_decide", kwargs={"pk": leave.pk}), {"decision": "approve"}
        )
    assert response.status_code == 404
    leave.refresh_from_db()
    assert leave.status == "待审批"


def _take(session, statuses, by):
    members = (
        {e.member.member_no: e.member.pk for e in services.expected_attendees(session=session)[0]}
        if not session.is_frozen
        else dict(session.entries.values_list("member__member_no", "member_id"))
    )
    entries = [
        services.EntryInput(members[no], st, reason) for no, (st, reason) in statuses.items()
    ]
    services.attendance_record(
        session=session, entries=entries, version=session.attendance_version, by=by, now=EVENING
    )


def test_makeup_is_recorded_but_the_absence_stays(cast, session):
    _take(session, {"A001": ("出席", ""), "A002": ("缺席", "")}, cast.secretary_a)
    entry = AttendanceEntry.objects.get(session=session, member__member_no="A002")
    client = cast.client("member_a")
    url = reverse("attendance:makeup", kwargs={"pk": entry.pk})
    with time_machine.travel(dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.UTC), tick=False):
        response = client.post(url, {"date": "2025-03-04", "note": "自学党章"})
        assert "补课日期不能早于活动日期 2025-03-05" in response.content.decode()
        response = client.post(url, {"date": "2025-03-08", "note": "自学党章第一至三章"})
        assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "缺席" and entry.makeup.date == dt.date(2025, 3, 8)
    assert services.participation(list(session.entries.all())) == 0.5
    assert cast.client("secretary_b").get(url).status_code == 404


def test_makeup_only_for_excused_or_absent(cast, session):
    _take(session, {"A001": ("出席", ""), "A002": ("出席", "")}, cast.secretary_a)
    entry = AttendanceEntry.objects.get(session=session, member__member_no="A002")
    with pytest.raises(Exception, match="只有请假或缺席的活动需要补课"):
        services.makeup_record(entry=entry, date=dt.date(2025, 3, 6), note="x", by=None)
    assert not MakeUp.objects.exists()


# QR check-in


@pytest.fixture
def qr_session(cast):
    return make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5), qr_enabled=True)


def scan_url(client: Client, session) -> str:
    """What a phone reads from the QR code on the secretary's screen."""
    html = client.get(
        reverse("attendance:session_qr", kwargs={"code": session.code})
    ).content.decode()
    assert "<svg" in html
    return re.search(r'data-url="https?://[^/]+(/checkin/[^"]+)"', html).group(1)


def test_member_checks_in_by_qr_and_late_after_the_grace_period(cast, qr_session):
    with time_machine.travel(dt.datetime(2025, 3, 5, 6, 25, tzinfo=dt.UTC), tick=False):
        path = scan_url(cast.client("secretary_a"), qr_session)
        client = cast.client("member_a")
        assert client.get(path).status_code == 200
        response = client.post(path)
        assert "签到成功：出席" in response.content.decode()
    statuses = dict(
        AttendanceEntry.objects.filter(session=qr_session).values_list(
            "member__member_no", "status"
        )
    )
    # Live check-in marks the scanner only (RULES.md 2a): the others stay unrecorded.
    assert statuses == {"A002": "出席"}
    qr_session.refresh_from_db()
    assert not qr_session.is_frozen
    with time_machine.travel(dt.datetime(2025, 3, 5, 6, 50, tzinfo=dt.UTC), tick=False):
        path = scan_url(cast.client("secretary_a"), qr_session)
        client = cast.client("secretary_a")
        client.get(path)
        assert "签到成功：迟到" in client.post(path).content.decode()


def test_a_screenshot_an_hour_later_is_refused(cast, qr_session):
    with time_machine.travel(dt.datetime(2025, 3, 5, 6, 25, tzinfo=dt.UTC), tick=False):
        path = scan_url(cast.client("secretary_a"), qr_session)
    with time_machine.travel(dt.datetime(2025, 3, 5, 7, 25, tzinfo=dt.UTC), tick=False):
        response = cast.client("member_a").get(path)
        assert response.status_code == 400
        assert "签到码已过期" in response.content.decode()
        response = cast.client("member_a").post(path)
        assert response.status_code == 400
    assert not AttendanceEntry.objects.exists()


def test_a_forged_token_a_future_session_and_a_stranger_are_refused(cast, qr_session):
    with time_machine.travel(dt.datetime(2025, 3, 5, 6, 25, tzinfo=dt.UTC), tick=False):
        window = services.checkin_window()
        forged = reverse("attendance:checkin", args=[qr_session.code, window, "0" * 20])
        assert "签到码无效" in cast.client("member_a").get(forged).content.decode()
        future = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 9), qr_enabled=True)
        path = reverse(
            "attendance:checkin", args=[future.code, window, services.checkin_token(future, window)]
        )
        client = cast.client("member_a")
        client.get(path)
        assert "签到尚未开始" in client.post(path).content.decode()
        path = scan_url(cast.client("secretary_a"), qr_session)
        stranger = cast.client("secretary_b")
        stranger.get(path)
        assert "您不在这次活动的应到名单中" in stranger.post(path).content.decode()
    assert not AttendanceEntry.objects.filter(session=future).exists()


def test_scanning_before_log_in_grants_a_few_minutes(cast, qr_session):
    with time_machine.travel(dt.datetime(2025, 3, 5, 6, 25, tzinfo=dt.UTC), tick=False):
        path = scan_url(cast.client("secretary_a"), qr_session)
        client = Client()
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        client.post("/accounts/login/", {"username": "mem_a", "password": "pw-Secret-123"})
    with time_machine.travel(dt.datetime(2025, 3, 5, 6, 27, tzinfo=dt.UTC), tick=False):
        assert "签到成功：出席" in client.post(path).content.decode()


def test_qr_code_is_shown_only_to_the_secretary(cast, qr_session):
    url = reverse("attendance:session_qr", kwargs={"code": qr_session.code})
    assert "<svg" in cast.client("secretary_a").get(url).content.decode()
    assert cast.client("member_a").get(url).status_code == 404
    assert cast.client("secretary_b").get(url).status_code == 404


@time_machine.travel(dt.datetime(2025, 3, 10, 2, tzinfo=dt.UTC), tick=False)  # dates near "today"
def test_session_form_validates_times_and_types(cast):
    client = cast.client("secretary_a")
    data = {
        "organization": "JG-01-01",
        "type": "党小组会",
        "date": "2025-04-01",
        "start_time": "15:00",
        "end_time": "14:00",
        "hours": "0",
        "topic": "学习",
    }
    form = client.post(reverse("attendance:session_create"), data).context["form"]
    assert "结束时间必须晚于开始时间" in form.errors["end_time"]
    assert "hours" in form.errors
    data.update(end_time="16:30", hours="1.5")
    form = client.post(reverse("attendance:session_create"), data).context["form"]
    assert "党小组会只能由党小组组织" in form.errors["type"]
    assert not StudySession.objects.exists()
    data.update(organization="JG-01-02", type="集中学习")
    assert (
        "organization"
        in client.post(reverse("attendance:session_create"), data).context["form"].errors
    )
    data.update(organization="JG-01-01")
    assert client.post(reverse("attendance:session_create"), data).status_code == 302
    assert StudySession.objects.get().code == "JG-01-01-20250401-1"


@time_machine.travel(dt.datetime(2025, 3, 10, 2, tzinfo=dt.UTC), tick=False)  # dates near "today"
def test_date_of_a_session_with_attendance_cannot_change(cast, session):
    _take(session, {"A001": ("出席", ""), "A002": ("出席", "")}, cast.secretary_a)
    session.refresh_from_db()
    data = {
        "type": "集中学习",
        "date": "2025-03-06",
        "start_time": "14:30",
        "end_time": "16:30",
        "hours": "2",
        "topic": "改期",
    }
    response = cast.client("secretary_a").post(
        reverse("attendance:session_edit", kwargs={"code": session.code}), data
    )
    assert "已登记考勤，应到名单已固定" in response.context["form"].errors["date"][0]
    session.refresh_from_db()
    assert session.date == dt.date(2025, 3, 5)
    response = cast.client("secretary_a").post(
        reverse("attendance:session_delete", kwargs={"code": session.code}), follow=True
    )
    assert "已登记考勤的活动不能删除" in response.content.decode()


def test_central_group_session_names_its_speakers_from_the_central_group(cast):
    from branches.models import RoleKind
    from tests.factories import make_role

    make_role(cast.secretary_a_member, cast.root, RoleKind.CENTRAL_GROUP_LEADER)
    make_role(cast.member_b_member, cast.root, RoleKind.CENTRAL_GROUP_MEMBER)
    session = make_session(refreshed(cast.root), "中心组学习", dt.date(2025, 3, 3))
    admin = cast.client("admin")
    url = reverse("attendance:session_edit", kwargs={"code": session.code})
    data = {
        "type": "中心组学习",
        "date": "2025-03-03",
        "start_time": "14:30",
        "end_time": "16:30",
        "hours": "2",
        "topic": "中心组学习",
        "central_speakers": [cast.member_a_member.pk],
    }
    form = admin.post(url, data).context["form"]
    assert "central_speakers" in form.errors  # not in the 中心组
    data["central_speakers"] = [cast.secretary_a_member.pk, cast.member_b_member.pk]
    assert admin.post(url, data).status_code == 302
    assert set(session.central_speakers.values_list("name", flat=True)) == {"甲书记", "乙党员"}
    assert "乙党员" in admin.get(session.get_absolute_url()).content.decode()
