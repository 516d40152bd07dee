"""Planned sessions → scheduled sessions in one step (services.plan_schedule)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from attendance.models import Holiday, StudySession
from attendance.schedule import holidays_between, is_working_day
from studyplans import services
from studyplans.models import PlanEvent, PlannedSession
from tests.conftest import refreshed
from tests.factories import make_session

from .helpers import YEAR, make_plan, sessions_of

# 2025-12-10 10:00 in Asia/Shanghai: every month of the 2026 plan lies ahead.
NOW = dt.datetime(2025, 12, 10, 2, 0, tzinfo=dt.UTC)


def _submitted(cast, sessions):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a, sessions=sessions)
    return services.plan_submit(plan=plan, by=cast.secretary_a)


def _url() -> str:
    return reverse("studyplans:plan_schedule", kwargs={"code": "JG-01-01", "year": YEAR})


@time_machine.travel(NOW, tick=False)
def test_scheduling_creates_exactly_the_planned_sessions_once(cast):
    plan = _submitted(cast, sessions_of(("支委会", list(range(1, 13))), ("党课", [3, 6, 9, 12])))
    client = cast.client("secretary_a")
    response = client.post(_url(), follow=True)
    assert "已按计划创建 16 次活动" in response.content.decode()
    sessions = list(StudySession.objects.filter(organization=cast.branch_a).order_by("date"))
    assert len(sessions) == 16
    for planned in PlannedSession.objects.filter(plan=plan).select_related("session"):
        s = planned.session
        assert s is not None
        assert (s.type, s.date.year, s.date.month) == (planned.type, YEAR, planned.month)
        assert (s.topic, s.hours) == (planned.topic, planned.hours)
        assert (s.start_time, s.end_time) == (dt.time(14, 30), dt.time(16, 30))
        # A working day of China's official arrangement: 4 January 2026 is a Sunday worked
        # in lieu of 元旦 (调休上班), so January's 支委会 falls on it.
        assert is_working_day(s.date, holidays_between(s.date, s.date))
        assert s.created_by == cast.secretary_a
    # March: the first working day (2 March 2026 is a Monday) for both types.
    march = [s for s in sessions if s.date.month == 3]
    assert {(s.type, s.date) for s in march} == {
        ("支委会", dt.date(2026, 3, 2)),
        ("党课", dt.date(2026, 3, 2)),
    }

    again = client.post(_url(), follow=True)
    assert "计划中的活动都已排入日程" in again.content.decode()
    assert StudySession.objects.filter(organization=cast.branch_a).count() == 16
    (event,) = PlanEvent.objects.filter(plan=plan, action="排期")
    assert (event.by, event.comment) == (cast.secretary_a, "新建 16 次活动")


@time_machine.travel(NOW, tick=False)
def test_holidays_and_same_type_sessions_move_the_date_on(cast):
    Holiday.objects.create(date=dt.date(2026, 1, 1), name="元旦")
    Holiday.objects.create(date=dt.date(2026, 1, 2), name="元旦")
    plan = _submitted(cast, sessions_of(("集中学习", [1, 1])))
    result = services.plan_schedule(plan=plan, by=cast.secretary_a)
    # 1–3 January are days off; Sunday the 4th is worked in lieu (官方调休), then Monday.
    assert sorted(s.date for s in result.created) == [dt.date(2026, 1, 4), dt.date(2026, 1, 5)]


@time_machine.travel(NOW, tick=False)
def test_a_session_already_held_in_that_month_is_linked_not_duplicated(cast):
    existing = make_session(refreshed(cast.branch_a), "支委会", dt.date(2026, 2, 10))
    plan = _submitted(cast, sessions_of(("支委会", [2, 3])))
    result = services.plan_schedule(plan=plan, by=cast.secretary_a)
    assert [s.pk for s in result.linked] == [existing.pk]
    assert [s.date for s in result.created] == [dt.date(2026, 3, 2)]
    assert StudySession.objects.filter(organization=cast.branch_a, type="支委会").count() == 2
    assert PlannedSession.objects.get(plan=plan, month=2).session_id == existing.pk


@time_machine.travel(dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC), tick=False)
def test_months_already_over_are_not_scheduled_and_today_is_not_used(cast):
    plan = _submitted(cast, sessions_of(("支委会", [3, 4, 5])))
    result = services.plan_schedule(plan=plan, by=cast.secretary_a)
    # 1–5 May 2026 are 劳动节 days off in the official arrangement.
    assert [s.date for s in result.created] == [dt.date(2026, 4, 16), dt.date(2026, 5, 6)]
    assert [(p.month, why) for p, why in result.skipped] == [(3, "3月已无可安排的工作日")]
    assert PlannedSession.objects.get(plan=plan, month=3).session is None


@time_machine.travel(NOW, tick=False)
def test_longer_sessions_start_in_the_morning(cast):
    assert services.session_times(Decimal("2")) == (dt.time(14, 30), dt.time(16, 30))
    assert services.session_times(Decimal("1.5")) == (dt.time(14, 30), dt.time(16, 0))
    assert services.session_times(Decimal("3.5")) == (dt.time(14, 30), dt.time(18, 0))
    assert services.session_times(Decimal("4")) == (dt.time(8, 30), dt.time(12, 30))
    assert services.session_times(Decimal("16")) == (dt.time(8, 30), dt.time(17, 30))
    plan = _submitted(cast, sessions_of(("党员教育培训", [6]), hours="8"))
    (session,) = services.plan_schedule(plan=plan, by=cast.secretary_a).created
    assert (session.start_time, session.end_time, session.hours) == (
        dt.time(8, 30),
        dt.time(16, 30),
        Decimal("8"),
    )


@time_machine.travel(NOW, tick=False)
def test_a_draft_plan_is_not_scheduled(cast):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
    response = cast.client("secretary_a").post(_url(), follow=True)
    assert "计划当前状态为「草稿」，不能排入日程" in response.content.decode()
    assert not StudySession.objects.exists()
    assert not PlannedSession.objects.filter(plan=plan, session__isnull=False).exists()


@time_machine.travel(NOW, tick=False)
def test_one_refusal_rolls_the_whole_batch_back(cast):
    plan = _submitted(cast, sessions_of(("支委会", [1, 2, 3])))
    # A row the form would refuse, written behind its back: attendance refuses it.
    PlannedSession.objects.create(plan=plan, type="党小组会", month=4, topic="小组会")
    with pytest.raises(ValidationError) as exc:
        services.plan_schedule(plan=plan, by=cast.secretary_a)
    assert "4月党小组会「小组会」无法排期：党小组会只能由党小组组织" in exc.value.messages[0]
    assert not StudySession.objects.exists()
    assert not PlannedSession.objects.filter(plan=plan, session__isnull=False).exists()
    assert not PlanEvent.objects.filter(plan=plan, action="排期").exists()


@time_machine.travel(NOW, tick=False)
def test_a_returned_plan_keeps_its_scheduled_sessions(cast):
    plan = _submitted(cast, sessions_of(("支委会", [1, 2])))
    services.plan_schedule(plan=plan, by=cast.secretary_a)
    services.plan_return(plan=plan, by=cast.reviewer, comment="补充党课")
    services.plan_save(
        organization=refreshed(cast.branch_a),
        year=YEAR,
        by=cast.secretary_a,
        themes=[services.ThemeInput("学习党章", quarter=1)],
        sessions=sessions_of(("党课", [3])),
    )
    kept = PlannedSession.objects.filter(plan=plan).order_by("month")
    assert [(p.type, p.month, p.session_id is not None) for p in kept] == [
        ("支委会", 1, True),
        ("支委会", 2, True),
        ("党课", 3, False),
    ]
    edit = cast.client("secretary_a").get(
        reverse("studyplans:plan_edit", kwargs={"code": "JG-01-01", "year": YEAR})
    )
    assert edit.context["sessions"].initial_form_count() == 1
    assert len(edit.context["scheduled"]) == 2
