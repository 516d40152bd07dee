"""The weekly digest: what a secretary and a reviewer are told, once a week, unless they opt out."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core import mail
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from assessments.models import VerdictSnapshot
from attendance import services
from branches.models import User
from reports.digests import build_digest, send_weekly_digests
from tests.conftest import refreshed
from tests.factories import make_session

MONDAY = dt.date(2025, 3, 3)  # a quarter's last month: 支部党员大会 and 党课 are due


def setup_mail(cast):
    for user, address in (
        (cast.secretary_a, "a@example.cn"),
        (cast.reviewer, "r@example.cn"),
        (cast.secretary_b, "b@example.cn"),
    ):
        user.email = address
        user.save()


@time_machine.travel(dt.datetime(2025, 3, 3, 0, 30, tzinfo=dt.UTC), tick=False)
def test_secretary_is_told_what_is_due_and_waiting(cast):
    setup_mail(cast)
    make_session(
        refreshed(cast.branch_a), "支委会", dt.date(2025, 3, 20)
    )  # scheduled: no longer due
    future = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 25))
    services.leave_request(session=future, member=cast.member_a_member, reason="出差")
    services.note_submit(
        member=cast.member_a_member, kind="学习笔记", title="体会", body="学习党章的体会"
    )
    digest = build_digest(user=cast.secretary_a, today=MONDAY)
    due = {b.organization.code: b.meetings for b in digest.due}
    assert due == {"JG-01-01": ["甲支部第一党小组党小组会", "本季度支部党员大会", "本季度党课"]}
    assert (digest.pending_leave, digest.pending_notes) == (1, 1)
    assert (
        send_weekly_digests(today=MONDAY) == 2
    )  # secretaries A and B; the reviewer has nothing yet
    body = next(m for m in mail.outbox if m.to == ["a@example.cn"]).body
    assert (
        "甲支部第一党小组党小组会" in body
        and "待审批的请假：1 条" in body
        and "待审阅的学习笔记：1 篇" in body
    )
    # Branch A's secretary is not told about branch B.
    assert "乙支部" not in body


@time_machine.travel(dt.datetime(2025, 3, 3, 0, 30, tzinfo=dt.UTC), tick=False)
def test_reviewer_is_told_which_branches_fell_behind(cast):
    setup_mail(cast)
    VerdictSnapshot.objects.create(
        organization=refreshed(cast.branch_b),
        year=2025,
        profile="默认",
        profile_version=1,
        five_good=True,
        advanced_eligible=True,
        study_sessions=1,
        forecasts={"FJ-B1": "at_risk"},
        computed_at=dt.datetime(2025, 3, 2, tzinfo=dt.UTC),
    )
    digest = build_digest(user=cast.reviewer, today=MONDAY)
    assert [s.organization.code for s in digest.behind] == ["JG-01-02"]
    assert build_digest(user=cast.other_reviewer, today=MONDAY).behind == []


@time_machine.travel(dt.datetime(2025, 3, 3, 0, 30, tzinfo=dt.UTC), tick=False)
def test_one_digest_a_week_and_none_after_opting_out(cast):
    setup_mail(cast)
    assert send_weekly_digests(today=MONDAY) == 2
    assert send_weekly_digests(today=MONDAY + dt.timedelta(days=2)) == 0  # same week
    client = cast.client("secretary_a")
    client.post(reverse("preferences"), {"email": "a@example.cn"})  # digest unchecked
    assert User.objects.get(username="sec_a").digest_opt_out
    mail.outbox.clear()
    assert send_weekly_digests(today=MONDAY + dt.timedelta(days=7)) == 1
    assert [m.to for m in mail.outbox] == [["b@example.cn"]]
    form = client.post(reverse("preferences"), {"email": "not-an-address", "digest": "on"}).context[
        "form"
    ]
    assert "email" in form.errors


def test_the_digest_is_scheduled_on_monday_mornings(db):
    task = PeriodicTask.objects.get(task="reports.tasks.send_weekly_digests")
    assert (task.crontab.day_of_week, task.crontab.hour, str(task.crontab.timezone)) == (
        "1",
        "8",
        "Asia/Shanghai",
    )
