"""The home page is each role's to-do list (issue 16), with the counts in the navigation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from assessments.models import CheckStatus, SupervisionCheck, SupervisionSample, VerdictSnapshot
from attendance import services
from attendance.models import LeaveRequest, LeaveStatus, NoteStatus, StudyNote
from tests.conftest import refreshed
from tests.factories import make_member, make_session

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 10 December 2025, 20:00 in Beijing.
NOW = dt.datetime(2025, 12, 10, 20, 0, tzinfo=SHANGHAI)
D = dt.date


@pytest.fixture(autouse=True)
def evening():
    with time_machine.travel(NOW, tick=False):
        yield


def _take(session, member_ids, by):
    services.attendance_record(
        session=session,
        entries=[services.EntryInput(pk, "出席") for pk in member_ids],
        version=session.attendance_version,
        by=by,
    )


def _section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"', 1)[1].split("</ul>", 1)[0]


def _home(cast, who):
    response = cast.client(who).get(reverse("home"))
    assert response.status_code == 200
    return response


def test_the_secretary_sees_past_sessions_with_no_roll_and_one_click_to_take_it(cast):
    branch = refreshed(cast.branch_a)
    past = make_session(branch, date=D(2025, 12, 8), topic="上周一的集中学习")
    today_started = make_session(branch, date=D(2025, 12, 10), start="19:00", end="21:00")
    make_session(branch, date=D(2025, 12, 20), topic="下周的党课", type="党课")
    taken = make_session(branch, date=D(2025, 12, 5), topic="已登记的学习")
    _take(taken, [cast.secretary_a_member.pk, cast.member_a_member.pk], cast.secretary_a)
    make_session(refreshed(cast.branch_b), date=D(2025, 12, 8), topic="乙支部的学习")

    response = _home(cast, "secretary_a")
    assert [s.code for s in response.context["todo"].awaiting_roll] == [
        today_started.code,
        past.code,
    ]
    html = response.content.decode()
    assert reverse("attendance:attendance_take", args=[past.code]) in html
    rolls = _section(html, "todo-roll")
    for absent in ("下周的党课", "已登记的学习", "乙支部的学习"):
        assert absent not in rolls
    # The secretary is a member too: next week's 党课 is on their own list.
    assert "下周的党课" in _section(html, "todo-upcoming")
    # The navigation counts what waits: two rolls to take.
    assert response.context["nav_todo"]["total"] == 2


def test_leave_is_decided_from_the_home_page(cast):
    session = make_session(refreshed(cast.branch_a), date=D(2025, 12, 15), topic="党课")
    leave = services.leave_request(
        session=session, member=cast.member_a_member, reason="出差到省厅"
    )
    client = cast.client("secretary_a")
    html = client.get(reverse("home")).content.decode()
    assert "出差到省厅" in html
    response = client.post(
        reverse("attendance:leave_decide", args=[leave.pk]),
        {"decision": "approve", "next": reverse("home")},
    )
    assert response["Location"] == reverse("home")
    assert LeaveRequest.objects.get(pk=leave.pk).status == LeaveStatus.APPROVED
    assert "出差到省厅" not in client.get(reverse("home")).content.decode()


def test_notes_to_review_and_findings_to_answer_are_counted(cast):
    services.note_submit(
        member=cast.member_a_member, kind="学习笔记", title="学习体会", body="认真学习" * 20
    )
    sample = SupervisionSample.objects.create(
        organization=cast.root, month=D(2025, 12, 1), size=1, seed=1, drawn_by=cast.reviewer
    )
    SupervisionCheck.objects.create(
        sample=sample,
        branch=cast.branch_a,
        status=CheckStatus.CHECKED,
        findings="会议记录不完整",
        rectify_by=D(2025, 12, 31),
    )
    SupervisionCheck.objects.create(
        sample=sample, branch=cast.branch_b, status=CheckStatus.CHECKED, findings="乙支部的问题"
    )
    response = _home(cast, "secretary_a")
    counts = response.context["todo"].counts
    assert (counts["notes"], counts["findings"]) == (1, 1)
    html = response.content.decode()
    assert "会议记录不完整" in html and "乙支部的问题" not in html
    assert reverse("attendance:review_inbox") in html


def test_the_month_s_missing_committee_meeting_is_listed_until_one_took_place(cast):
    branch = refreshed(cast.branch_a)
    html = _home(cast, "secretary_a").content.decode()
    # 默认: 支委会 every month (LC-B1), 党员大会 and 党课 every quarter.
    assert "甲支部：12月尚未召开支委会" in html
    assert "甲支部：第四季度尚未召开党课" in html

    # Scheduled but not held yet: still due, with the date it is planned for.
    planned = make_session(branch, "支委会", D(2025, 12, 18))
    html = _home(cast, "secretary_a").content.decode()
    assert "12月尚未召开支委会" in html and "已安排在 12-18" in html

    # Held today-or-earlier with the roll recorded: no longer due.
    held = make_session(branch, "支委会", D(2025, 12, 9))
    _take(held, [cast.secretary_a_member.pk], cast.secretary_a)
    html = _home(cast, "secretary_a").content.decode()
    assert "12月尚未召开支委会" not in html
    assert planned.code  # the planned one alone would not have cleared it (asserted above)


def test_a_past_session_whose_roll_was_never_taken_does_not_clear_the_month(cast):
    make_session(refreshed(cast.branch_a), "支委会", D(2025, 12, 2))
    html = _home(cast, "secretary_a").content.decode()
    assert "12月尚未召开支委会" in html


def test_the_member_sees_next_sessions_with_leave_in_one_tap_week_hours_and_returned_notes(cast):
    branch = refreshed(cast.branch_a)
    soon = make_session(branch, date=D(2025, 12, 12), topic="周五集中学习")
    make_session(branch, date=D(2025, 12, 5), topic="上周的学习")
    services.self_study_log(
        member=cast.member_a_member, date=D(2025, 12, 8), hours=Decimal("1.5"), material="原著"
    )
    services.self_study_log(
        member=cast.member_a_member, date=D(2025, 12, 6), hours=Decimal("4"), material="上周"
    )
    note = services.note_submit(
        member=cast.member_a_member, kind="学习笔记", title="第一篇体会", body="学习" * 30
    )
    services.note_review(note=note, approve=False, comment="请结合工作实际", by=cast.secretary_a)

    response = _home(cast, "member_a")
    todo = response.context["todo"]
    assert [s.code for s in todo.upcoming] == [soon.code]
    assert (todo.week_hours, todo.week_target) == (Decimal("1.5"), Decimal("3"))
    html = response.content.decode()
    assert reverse("attendance:leave_request", args=[soon.code]) in html
    assert "上周的学习" not in html
    assert "1.5 / 3 小时" in html
    assert "第一篇体会" in html and "请结合工作实际" in html
    assert response.context["nav_todo"]["returned"] == 1
    # A member has no secretary's list.
    assert 'id="todo-secretary"' not in html


def test_a_member_with_leave_asked_sees_its_status_instead_of_the_button(cast):
    soon = make_session(refreshed(cast.branch_a), date=D(2025, 12, 12))
    services.leave_request(session=soon, member=cast.member_a_member, reason="培训")
    html = _home(cast, "member_a").content.decode()
    assert reverse("attendance:leave_request", args=[soon.code]) not in html
    assert "请假：待审批" in html


def test_the_reviewer_sees_the_branches_behind(cast):
    common = dict(
        year=2025, profile="默认", profile_version=1, study_sessions=3, computed_at=timezone.now()
    )
    VerdictSnapshot.objects.create(
        organization=cast.branch_a, five_good=False, advanced_eligible=False, at_risk=True, **common
    )
    VerdictSnapshot.objects.create(
        organization=cast.branch_b, five_good=True, advanced_eligible=True, at_risk=False, **common
    )
    VerdictSnapshot.objects.create(
        organization=cast.branch_c, five_good=False, advanced_eligible=False, at_risk=True, **common
    )
    response = _home(cast, "reviewer")
    assert [s.organization.code for s in response.context["todo"].behind] == ["JG-01-01"]
    assert reverse("assessments:org_verdicts", args=["JG-01-01"]) in response.content.decode()


def _fill(cast, n: int) -> None:
    """n of everything on both lists: rolls to take, leave, notes, upcoming, returned notes."""
    branch = refreshed(cast.branch_a)
    for i in range(n):
        make_session(branch, date=D(2025, 11, 1) + dt.timedelta(days=i % 28), start=f"{8 + i % 10:02d}:00", end=f"{8 + i % 10:02d}:45", hours="0.5")  # fmt: skip
        ahead = make_session(branch, date=D(2025, 12, 11) + dt.timedelta(days=i))
        other = make_member(branch, name=f"党员{n}-{i}", member_no=f"X{n:02d}{i:03d}")
        services.leave_request(session=ahead, member=other, reason=f"事由{i}")
        services.leave_request(session=ahead, member=cast.member_a_member, reason=f"我的事由{i}")
        StudyNote.objects.create(
            member=other,
            kind="学习笔记",
            title=f"笔记{i}",
            body="学习",
            status=NoteStatus.SUBMITTED,
        )
        StudyNote.objects.create(
            member=cast.member_a_member,
            kind="学习笔记",
            title=f"退回{i}",
            body="学习",
            status=NoteStatus.RETURNED,
        )


@pytest.mark.parametrize("who", ["secretary_a", "member_a", "reviewer"])
def test_the_home_page_costs_the_same_queries_at_2_and_20_items(
    cast, who, django_assert_max_num_queries
):
    client = cast.client(who)
    _fill(cast, 2)
    client.get(reverse("home"))  # warm the session
    with django_assert_max_num_queries(40) as small:
        client.get(reverse("home"))
    _fill(cast, 20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("home"))
    if who != "reviewer":
        assert response.context["nav_todo"]["total"] >= 20


def test_the_weekly_target_follows_the_member_s_profile(cast):
    from branches.models import Organization

    Organization.objects.filter(pk=cast.branch_a.pk).update(profile_name="金佛寺镇")
    todo = _home(cast, "member_a").context["todo"]
    assert todo.week_target == Decimal("5")  # JF-M1 一周学五小时
