"""The plan page's query count does not grow with the number of planned sessions."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studyplans import services
from tests.conftest import refreshed

from .helpers import YEAR, make_plan

NOW = dt.datetime(2025, 12, 10, 2, 0, tzinfo=dt.UTC)
TYPES = ["支委会", "党课", "集中学习", "支部党员大会", "读书会"]
MAX_QUERIES = 16


def _plan_with(cast, n: int):
    sessions = [
        services.SessionInput(type=TYPES[i % len(TYPES)], month=i % 12 + 1, topic=f"活动{i}")
        for i in range(n)
    ]
    themes = [services.ThemeInput(f"主题{q}", quarter=q) for q in range(1, 5)]
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a, sessions=sessions, themes=themes)
    plan = services.plan_submit(plan=plan, by=cast.secretary_a)
    services.plan_schedule(plan=plan, by=cast.secretary_a)
    return plan


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("n", [5, 50])
def test_plan_detail_queries_stay_bounded(cast, n, django_assert_max_num_queries):
    _plan_with(cast, n)
    url = reverse("studyplans:plan_detail", kwargs={"code": "JG-01-01", "year": YEAR})
    client = cast.client("reviewer")
    client.get(url)  # warm the session and the content types
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url)
    assert response.context["planned"].__len__() == n


@time_machine.travel(NOW, tick=False)
def test_plan_detail_queries_are_the_same_for_5_and_50(cast):
    from studyplans.models import AnnualPlan

    url = reverse("studyplans:plan_detail", kwargs={"code": "JG-01-01", "year": YEAR})
    client = cast.client("reviewer")
    _plan_with(cast, 5)
    client.get(url)
    small = _count(client, url)
    AnnualPlan.objects.all().delete()
    from attendance.models import StudySession

    StudySession.objects.all().delete()
    _plan_with(cast, 50)
    assert _count(client, url) == small


@time_machine.travel(NOW, tick=False)
def test_the_inboxes_do_not_grow_with_rows(cast, django_assert_max_num_queries):
    make_plan(refreshed(cast.branch_a), cast.secretary_a)
    services.plan_submit(
        plan=services.plan_save(
            organization=refreshed(cast.branch_b),
            year=YEAR,
            by=None,
            themes=[services.ThemeInput("x", month=1)],
        ),
        by=None,
    )
    client = cast.client("reviewer")
    client.get(reverse("studyplans:plan_inbox"))
    with django_assert_max_num_queries(10):
        assert client.get(reverse("studyplans:plan_inbox")).status_code == 200
