"""The dashboard tables follow attendance: saved attendance refreshes them on commit."""

from __future__ import annotations

import datetime as dt

from assessments.models import MemberSnapshot, MonthStat, VerdictSnapshot
from assessments.stats import refresh_subtree
from attendance import services
from branches.demo import seed_demo
from tests.conftest import refreshed
from tests.factories import make_session

NOW = dt.datetime(2025, 3, 5, 13, 0, tzinfo=dt.UTC)


def take(session, statuses, by=None, now=NOW):
    entries = [
        services.EntryInput(e.member.pk, statuses.get(e.member.pk, "出席"))
        for e in services.expected_attendees(session=session)[0]
    ]
    services.attendance_record(
        session=session, entries=entries, version=session.attendance_version, by=by, now=now
    )


def test_saving_attendance_refreshes_month_stats_and_snapshots_on_commit(
    cast, django_capture_on_commit_callbacks
):
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5))
    with django_capture_on_commit_callbacks(execute=True):
        take(session, {cast.member_a_member.pk: "缺席"})
    stat = MonthStat.objects.get(organization=cast.branch_a, year=2025, month=3)
    assert (stat.study_sessions, stat.expected, stat.attended, stat.absent) == (1, 2, 1, 1)
    assert stat.rate_sum == 0.5 and stat.sessions_by_type == {"集中学习": 1}
    snapshot = VerdictSnapshot.objects.get(organization=cast.branch_a, year=2025)
    assert snapshot.study_sessions == 1 and snapshot.avg_participation == 0.5
    assert snapshot.outcomes["FJ-B1"] == "not_met"
    assert (
        MemberSnapshot.objects.get(member=cast.member_a_member, year=2025).unexcused_absences == 1
    )


def test_a_group_session_refreshes_its_branch(cast, django_capture_on_commit_callbacks):
    session = make_session(refreshed(cast.group_a1), "党小组会", dt.date(2025, 3, 5))
    with django_capture_on_commit_callbacks(execute=True):
        take(session, {})
    assert MonthStat.objects.get(organization=cast.group_a1, month=3).sessions_by_type == {
        "党小组会": 1
    }
    assert VerdictSnapshot.objects.filter(organization=cast.branch_a, year=2025).exists()


def test_refresh_replaces_stale_months(cast):
    session = make_session(refreshed(cast.branch_b), date=dt.date(2025, 3, 5))
    take(session, {})
    refresh_subtree(root=refreshed(cast.root), year=2025)
    assert MonthStat.objects.filter(organization=cast.branch_b).count() == 1
    session.entries.all().delete()
    session.delete()
    refresh_subtree(root=refreshed(cast.root), year=2025)
    assert not MonthStat.objects.filter(organization=cast.branch_b).exists()


def test_a_transferred_member_keeps_one_snapshot_in_the_new_subtree(cast):
    from branches import services as branch_services

    branch_services.member_transfer(
        member=cast.member_a_member, to=cast.branch_b, on=dt.date(2025, 6, 1)
    )
    refresh_subtree(root=refreshed(cast.branch_a), year=2025)
    assert not MemberSnapshot.objects.filter(member=cast.member_a_member).exists()
    refresh_subtree(root=refreshed(cast.branch_b), year=2025)
    assert MemberSnapshot.objects.get(member=cast.member_a_member).organization == cast.branch_b


def test_seed_demo_fills_the_dashboard_tables(db):
    result = seed_demo(branches=4, members_per_branch=8, today=dt.date(2026, 11, 21))
    assert VerdictSnapshot.objects.filter(year=2026).count() == len(list(result.root.subtree()))
    assert MonthStat.objects.filter(year=2026).exists()
    assert MemberSnapshot.objects.filter(year=2026).count() > 20


def test_the_refresh_retries_when_the_database_is_unavailable():
    from django.db import OperationalError

    from assessments.tasks import refresh_after_attendance, refresh_all

    for task in (refresh_after_attendance, refresh_all):
        assert OperationalError in task.autoretry_for and task.max_retries >= 10


def test_the_nightly_refresh_is_scheduled(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="assessments.tasks.refresh_all")
    assert (task.crontab.hour, task.crontab.minute) == ("1", "30")


def test_attendance_is_saved_even_when_the_refresh_cannot_be_queued(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    """Redis down: the save succeeds and its refresh is kept in the outbox; when Redis is
    back the drain (a worker starting, or beat every 5 minutes) refreshes the dashboard
    (found by make drills)."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from assessments import tasks
    from assessments.models import PendingRefresh

    real_delay = tasks.refresh_after_attendance.delay

    def broken(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(tasks.refresh_after_attendance, "delay", broken)
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5))
    with django_capture_on_commit_callbacks(execute=True):
        take(session, {cast.member_a_member.pk: "缺席"})
    assert session.entries.count() == 2
    assert not MonthStat.objects.filter(organization=cast.branch_a, year=2025).exists()
    assert list(PendingRefresh.objects.values_list("session_id", flat=True)) == [session.pk]

    monkeypatch.setattr(tasks.refresh_after_attendance, "delay", real_delay)  # Redis is back
    assert tasks.drain_pending_refreshes(min_age_seconds=0) == 1
    stat = MonthStat.objects.get(organization=cast.branch_a, year=2025, month=3)
    assert (stat.expected, stat.absent) == (2, 1)
    assert not PendingRefresh.objects.exists()


def test_a_refresh_that_was_queued_leaves_nothing_pending(cast, django_capture_on_commit_callbacks):
    from assessments.models import PendingRefresh

    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5))
    with django_capture_on_commit_callbacks(execute=True):
        take(session, {})
    assert MonthStat.objects.filter(organization=cast.branch_a, year=2025).exists()
    assert not PendingRefresh.objects.exists()


def test_the_pending_refreshes_are_drained_every_five_minutes(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="assessments.tasks.drain_pending_refreshes")
    assert (task.interval.every, task.interval.period) == (5, "minutes")


def test_the_server_error_page_speaks_chinese():
    from django.template.loader import render_to_string

    assert "服务暂时不可用" in render_to_string("500.html")
