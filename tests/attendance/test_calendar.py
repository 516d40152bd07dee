"""The organization's month calendar: who may see it, what it shows, and its query count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from attendance import services
from attendance.models import Holiday, StudySession

D = dt.date
# Mid-October 2025 in Beijing: the calendar's default month is October.
OCTOBER = dt.datetime(2025, 10, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def october():
    with time_machine.travel(OCTOBER, tick=False):
        yield


@pytest.fixture
def national_day(db) -> None:
    rows = [Holiday(date=D(2025, 10, d), name="国庆节") for d in range(1, 9)]
    rows.append(Holiday(date=D(2025, 10, 11), name="国庆节调休", is_workday=True))
    Holiday.objects.bulk_create(rows)


def _session(org, day: dt.date, topic: str, type: str = "集中学习") -> StudySession:
    return services.session_create(
        organization=org, by=None, type=type, date=day, start_time=dt.time(14, 30),
        end_time=dt.time(16, 30), hours=Decimal("2"), topic=topic,
    )  # fmt: skip


def _url(code: str = "JG-01-01", **params: str) -> str:
    url = reverse("attendance:org_calendar", kwargs={"code": code})
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


@pytest.fixture
def sessions(cast, national_day) -> dict[str, StudySession]:
    return {
        "after_holiday": _session(cast.branch_a, D(2025, 10, 9), "国庆后集中学习"),
        "lecture": _session(cast.branch_a, D(2025, 10, 28), "专题党课", type="党课"),
        "group": _session(cast.group_a1, D(2025, 10, 20), "第一党小组会", type="党小组会"),
        "branch_b": _session(cast.branch_b, D(2025, 10, 10), "乙支部学习"),
        "november": _session(cast.branch_a, D(2025, 11, 3), "十一月集中学习"),
    }


@pytest.mark.parametrize("who", ["secretary_a", "reviewer", "admin"])
def test_shows_the_month_of_the_organization(cast, sessions, who):
    response = cast.client(who).get(_url())
    assert response.status_code == 200
    assert response.context["month"] == D(2025, 10, 1)
    html = response.content.decode()
    assert "国庆后集中学习" in html and "专题党课" in html
    assert sessions["after_holiday"].get_absolute_url() in html
    assert "十一月集中学习" not in html  # 3 November is outside October's grid
    assert "第一党小组会" not in html and "乙支部学习" not in html
    assert response.context["month_session_count"] == 2


def test_the_grid_starts_on_monday_and_shades_holidays(cast, sessions):
    weeks = cast.client("secretary_a").get(_url()).context["weeks"]
    assert weeks[0][0].date == D(2025, 9, 29) and weeks[-1][-1].date == D(2025, 11, 2)
    assert all(len(week) == 7 and week[0].date.weekday() == 0 for week in weeks)
    cells = {cell.date: cell for week in weeks for cell in week}
    assert cells[D(2025, 10, 1)].holiday == "国庆节" and cells[D(2025, 10, 1)].shaded
    assert cells[D(2025, 10, 11)].swapped_workday and cells[D(2025, 10, 11)].working
    assert not cells[D(2025, 10, 11)].shaded
    assert not cells[D(2025, 10, 12)].working and not cells[D(2025, 10, 12)].holiday
    assert cells[D(2025, 10, 15)].is_today
    assert [s.topic for s in cells[D(2025, 10, 9)].sessions] == ["国庆后集中学习"]
    assert not cells[D(2025, 9, 29)].in_month


def test_subtree_adds_the_sessions_of_the_organizations_below(cast, sessions):
    html = cast.client("secretary_a").get(_url(subtree="1")).content.decode()
    assert "第一党小组会" in html and "甲支部第一党小组" in html
    assert "乙支部学习" not in html
    general = cast.client("reviewer").get(_url("JG-01", subtree="1")).content.decode()
    assert "乙支部学习" in general and "国庆后集中学习" in general
    assert 'href="?month=2025-11&amp;subtree=1"' in general  # the links keep the choice


def test_previous_and_next_months(cast, sessions):
    response = cast.client("secretary_a").get(_url(month="2025-11"))
    assert response.context["month"] == D(2025, 11, 1)
    assert "十一月集中学习" in response.content.decode()
    assert response.context["previous_query"] == "?month=2025-10"
    assert response.context["next_query"] == "?month=2025-12"
    january = cast.client("secretary_a").get(_url(month="2026-01")).context
    assert (january["previous_query"], january["next_query"]) == (
        "?month=2025-12",
        "?month=2026-02",
    )


@pytest.mark.parametrize("bad", ["2025-13", "abc", "2025-1-1", "0000-01"])
def test_an_invalid_month_falls_back_to_the_current_one_with_a_message(cast, sessions, bad):
    response = cast.client("secretary_a").get(_url(month=bad))
    assert response.status_code == 200
    assert response.context["month"] == D(2025, 10, 1)
    assert f"月份“{bad}”无效" in response.content.decode()


def test_the_phone_list_holds_only_busy_days(cast, sessions):
    busy = cast.client("secretary_a").get(_url()).context["busy_days"]
    assert [cell.date.day for cell in busy] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 28]


def test_the_secretary_gets_a_link_to_plan_and_the_reviewer_does_not(cast, sessions):
    repeat = reverse("attendance:session_repeat", kwargs={"code": "JG-01-01"})
    assert repeat in cast.client("secretary_a").get(_url()).content.decode()
    assert repeat not in cast.client("reviewer").get(_url()).content.decode()


@pytest.mark.parametrize("who", ["secretary_b", "other_reviewer", "member_a"])
def test_others_get_404(cast, sessions, who):
    assert cast.client(who).get(_url()).status_code == 404


def test_an_unknown_organization_is_404(cast):
    assert cast.client("admin").get(_url("NOPE")).status_code == 404


def test_anonymous_is_sent_to_log_in(cast):
    response = cast.client(None).get(_url())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("subtree", ["0", "1"])
def test_query_count_does_not_grow_with_sessions(
    cast, national_day, django_assert_max_num_queries, subtree
):
    client = cast.client("secretary_a")
    for day in (6, 9, 10):
        _session(cast.branch_a, D(2025, 10, day), f"学习{day}")
    # 8 for the page, 1 for the navigation's to-do counts (all kinds in one query).
    with django_assert_max_num_queries(9) as few:
        response = client.get(_url(subtree=subtree))
    assert response.context["month_session_count"] == 3
    for n in range(27):
        org = cast.group_a1 if n % 3 == 0 else cast.branch_a
        kind = "党小组会" if org == cast.group_a1 else "集中学习"
        _session(org, D(2025, 10, 13 + n % 15), f"更多{n}", type=kind)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_url(subtree=subtree))
    assert response.context["month_session_count"] == (30 if subtree == "1" else 21)


def test_the_calendar_shades_official_holidays_with_no_admin_rows(cast):
    weeks = cast.client("secretary_a").get(_url()).context["weeks"]
    cells = {cell.date: cell for week in weeks for cell in week}
    assert cells[D(2025, 10, 2)].holiday == "国庆节"
    assert cells[D(2025, 10, 6)].holiday == "中秋节"
    assert cells[D(2025, 10, 11)].swapped_workday


def test_a_month_of_a_year_not_announced_yet_shows_qingming_and_says_so(cast):
    response = cast.client("secretary_a").get(_url(month="2027-04"))
    cells = {cell.date: cell for week in response.context["weeks"] for cell in week}
    assert cells[D(2027, 4, 5)].holiday == "清明节"
    assert "2027年的国务院放假安排尚未公布" in response.content.decode()
    assert "放假安排尚未公布" not in cast.client("secretary_a").get(_url()).content.decode()
