"""Concurrent writes on real PostgreSQL: two secretaries saving one session's attendance at
once, and double-submitted forms (a double click sends the same POST twice).

Transactional tests: each request runs in its own thread with its own database connection,
so the row locks and unique constraints are exercised for real, not inside one test
transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from attendance.models import AttendanceEntry, LeaveRequest, SelfStudy, StudySession
from branches.models import Member, Membership, RoleKind
from tests.conftest import refreshed
from tests.factories import UserFactory, make_member, make_role, make_session

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls: Callable[[], object], timeout: float = 30) -> list[object]:
    """Run each call in its own thread, released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[i] = call()
        except BaseException as exc:  # re-raised in the test's thread below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a request did not finish"
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction the statistics views are a snapshot: take a fresh one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def two_secretaries(cast):
    """The branch's 书记 and a 副书记 of the same branch (write scope both)."""
    deputy = UserFactory(username="deputy_a")
    member = make_member(
        cast.branch_a, name="甲副书记", member_no="A003", start=dt.date(2020, 1, 1), user=deputy
    )
    make_role(member, cast.branch_a, RoleKind.DEPUTY_SECRETARY)
    first, second = Client(), Client()
    first.force_login(cast.secretary_a)
    second.force_login(deputy)
    return first, second


@pytest.fixture
def session(cast):
    """Yesterday's session: started, not locked."""
    return make_session(refreshed(cast.branch_a), date=timezone.localdate() - dt.timedelta(days=1))


def form(session: StudySession, version: int, **statuses: str) -> dict:
    ids = dict(Member.objects.values_list("member_no", "pk"))
    data = {"version": version}
    for member_no in ("A001", "A002", "A003"):
        data[f"status-{ids[member_no]}"] = statuses.get(member_no, "出席")
    return data


def saved(session: StudySession) -> dict[str, str]:
    return dict(
        AttendanceEntry.objects.filter(session=session).values_list("member__member_no", "status")
    )


@pytest.mark.parametrize("correction", [False, True], ids=["first save", "correction"])
def test_two_secretaries_saving_at_once_one_wins_and_the_other_is_told(
    cast, two_secretaries, session, correction
):
    first, second = two_secretaries
    url = reverse("attendance:attendance_take", args=[session.code])
    if correction:
        assert first.post(url, form(session, 0)).status_code == 302
    version = 1 if correction else 0
    # Both secretaries opened the page at the same version and click different statuses.
    mine = form(session, version, A002="缺席")
    theirs = form(session, version, A002="迟到", A003="缺席")

    # Hold the session's row lock so that both saves are inside attendance_record, past
    # reading their version, before either can go on: a real race, every time.
    results: list[object] = []
    with transaction.atomic():
        StudySession.objects.select_for_update().get(pk=session.pk)
        racing = threading.Thread(
            target=lambda: results.extend(
                at_once(lambda: first.post(url, mine), lambda: second.post(url, theirs))
            )
        )
        racing.start()
        deadline = time.monotonic() + 15
        while waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting_on_locks() == 2, "both saves should wait on the session's row lock"
    racing.join(timeout=30)

    assert sorted(r.status_code for r in results) == [200, 302]
    loser = next(r for r in results if r.status_code == 200)
    assert (
        "其他人刚刚保存了这次活动的考勤，请刷新页面查看最新结果后再修改" in loser.content.decode()
    )
    winner = mine if results[0].status_code == 302 else theirs
    # One consistent result: exactly the winner's list, one entry per member, one version up.
    ids = dict(Member.objects.values_list("member_no", "pk"))
    assert saved(session) == {no: winner[f"status-{ids[no]}"] for no in ("A001", "A002", "A003")}
    assert AttendanceEntry.objects.filter(session=session).count() == 3
    session.refresh_from_db()
    assert session.attendance_version == version + 1
    assert session.attendance_taken_at is not None


def test_a_double_clicked_attendance_save_saves_once(cast, two_secretaries, session):
    first, _ = two_secretaries
    url = reverse("attendance:attendance_take", args=[session.code])
    data = form(session, 0, A002="缺席")
    responses = at_once(lambda: first.post(url, data), lambda: first.post(url, data))
    assert sorted(r.status_code for r in responses) == [200, 302]
    assert saved(session) == {"A001": "出席", "A002": "缺席", "A003": "出席"}
    session.refresh_from_db()
    assert session.attendance_version == 1
    # One history record per entry: the second click wrote nothing.
    assert AttendanceEntry.history.filter(session_id=session.pk).count() == 3


def test_a_double_submitted_new_member_creates_one_member(cast):
    client = cast.client("secretary_a")
    data = {
        "organization": "JG-01-01",
        "member_no": "A100",
        "name": "新人",
        "category": "正式党员",
        "start": "2025-09-01",
    }
    url = reverse("branches:member_create")
    responses = at_once(lambda: client.post(url, data), lambda: client.post(url, data))
    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert "编号 A100 已被使用" in refused.content.decode()
    assert Member.objects.filter(member_no="A100").count() == 1
    assert Membership.objects.filter(member__member_no="A100").count() == 1


def test_a_double_submitted_leave_request_creates_one_request(cast):
    tomorrow = make_session(
        refreshed(cast.branch_a), date=timezone.localdate() + dt.timedelta(days=1)
    )
    client = cast.client("member_a")
    url = reverse("attendance:leave_request", args=[tomorrow.code])
    data = {"reason": "出差"}
    responses = at_once(lambda: client.post(url, data), lambda: client.post(url, data))
    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert "您已为这次活动提交过请假申请" in refused.content.decode()
    assert LeaveRequest.objects.filter(session=tomorrow).count() == 1


def test_a_double_submitted_self_study_entry_creates_one_row(cast):
    client = cast.client("member_a")
    url = reverse("attendance:self_study")
    # The form as the browser sends it, with whatever hidden fields the page carries (an
    # idempotency token, once there is one), submitted twice at once.
    page = client.get(url).content.decode()
    data = {
        name: value
        for tag in re.findall(r"<input[^>]*>", page)
        if 'type="hidden"' in tag
        for name, value in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', tag)
        if name != "csrfmiddlewaretoken"
    }
    data.update(date=timezone.localdate().isoformat(), hours="1.5", material="党章第一章")
    at_once(lambda: client.post(url, data), lambda: client.post(url, data))
    assert SelfStudy.objects.filter(member=cast.member_a_member).count() == 1
