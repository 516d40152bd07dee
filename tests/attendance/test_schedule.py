"""Working days, repeat rules (JF-C1: first Monday, 顺延 for holidays) and the repeat page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from attendance import services
from attendance.models import Holiday, StudySession
from attendance.schedule import (
    RepeatRule,
    RuleKind,
    first_weekday_of_month,
    holidays_between,
    is_working_day,
    monthly_dates,
    next_working_day,
    nth_weekday_of_month,
)

D = dt.date


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _notice(off: dict[str, tuple[dt.date, dt.date]], worked: dict[dt.date, str]) -> list[Holiday]:
    rows = [Holiday(date=day, name=name) for name, (a, b) in off.items() for day in _days(a, b)]
    rows += [Holiday(date=day, name=name, is_workday=True) for day, name in worked.items()]
    return rows


# The State Council's notices for 2025 and 2026 (国办发明电〔2024〕12号, 〔2025〕7号).
HOLIDAYS_2025 = _notice(
    {
        "元旦": (D(2025, 1, 1), D(2025, 1, 1)),
        "春节": (D(2025, 1, 28), D(2025, 2, 4)),
        "清明节": (D(2025, 4, 4), D(2025, 4, 6)),
        "劳动节": (D(2025, 5, 1), D(2025, 5, 5)),
        "端午节": (D(2025, 5, 31), D(2025, 6, 2)),
        "国庆节、中秋节": (D(2025, 10, 1), D(2025, 10, 8)),
    },
    {
        D(2025, 1, 26): "春节调休",
        D(2025, 2, 8): "春节调休",
        D(2025, 4, 27): "劳动节调休",
        D(2025, 9, 28): "国庆节调休",
        D(2025, 10, 11): "国庆节调休",
    },
)
HOLIDAYS_2026 = _notice(
    {"元旦": (D(2026, 1, 1), D(2026, 1, 3)), "春节": (D(2026, 2, 15), D(2026, 2, 23))},
    {D(2026, 1, 4): "元旦调休", D(2026, 2, 14): "春节调休", D(2026, 2, 28): "春节调休"},
)
TABLE = {h.date: h for h in [*HOLIDAYS_2025, *HOLIDAYS_2026]}
FIRST_MONDAY = RepeatRule.first_monday()


# --- pure functions ------------------------------------------------------------------


def test_first_monday_of_a_month():
    assert first_weekday_of_month(2025, 9, 0) == D(2025, 9, 1)  # the 1st itself is a Monday
    assert first_weekday_of_month(2025, 3, 0) == D(2025, 3, 3)
    assert first_weekday_of_month(2025, 6, 6) == D(2025, 6, 1)  # a Sunday
    assert nth_weekday_of_month(2025, 3, 4, 3) == D(2025, 3, 21)  # third Friday
    assert nth_weekday_of_month(2025, 3, 0, -1) == D(2025, 3, 31)  # last Monday


def test_weekdays_work_and_weekends_do_not_without_a_holiday_table():
    assert is_working_day(D(2025, 3, 3), {})
    assert not is_working_day(D(2025, 3, 8), {})
    assert next_working_day(D(2025, 3, 8), {}) == D(2025, 3, 10)
    assert next_working_day(D(2025, 3, 3), {}) == D(2025, 3, 3)


def test_a_holiday_on_the_first_monday_moves_the_session_to_tuesday():
    # 劳动节 ends on Monday 5 May 2025, 端午节 on Monday 2 June.
    dates = monthly_dates(D(2025, 5, 1), D(2025, 6, 1), FIRST_MONDAY, TABLE)
    assert [(p.planned, p.date) for p in dates] == [
        (D(2025, 5, 5), D(2025, 5, 6)),
        (D(2025, 6, 2), D(2025, 6, 3)),
    ]
    assert dates[0].moved and dates[0].reasons == ("劳动节",)
    assert dates[1].reasons == ("端午节",)


def test_a_run_of_holidays_moves_the_date_past_the_whole_run():
    assert next_working_day(D(2025, 10, 1), TABLE) == D(2025, 10, 9)
    [october] = monthly_dates(D(2025, 10, 1), D(2025, 10, 1), FIRST_MONDAY, TABLE)
    assert (october.planned, october.date) == (D(2025, 10, 6), D(2025, 10, 9))
    assert october.reasons == ("国庆节、中秋节",)
    # 春节 2025 covers the first Monday of February (3 Feb) up to Tuesday 4 Feb.
    [february] = monthly_dates(D(2025, 2, 1), D(2025, 2, 1), FIRST_MONDAY, TABLE)
    assert february.date == D(2025, 2, 5)


def test_a_weekend_day_worked_in_lieu_counts_as_a_working_day():
    assert is_working_day(D(2025, 10, 11), TABLE)  # Saturday, 国庆节调休
    assert is_working_day(D(2025, 9, 28), TABLE)  # Sunday
    assert not is_working_day(D(2025, 10, 12), TABLE)  # the Sunday after stays off
    # 元旦 2026: 1–3 January off, Sunday 4 January worked.
    assert next_working_day(D(2026, 1, 1), TABLE) == D(2026, 1, 4)
    # A plain flag works as well as a row: True = worked, False = off.
    assert is_working_day(D(2025, 3, 8), {D(2025, 3, 8): True})
    assert not is_working_day(D(2025, 3, 10), {D(2025, 3, 10): False})


def test_year_boundary():
    # 元旦 2023 was Saturday 31 December to Monday 2 January.
    new_year = {D(2022, 12, 31): False, D(2023, 1, 1): False, D(2023, 1, 2): False}
    assert next_working_day(D(2022, 12, 31), new_year) == D(2023, 1, 3)
    [moved] = monthly_dates(
        D(2022, 12, 1), D(2022, 12, 1), RepeatRule(RuleKind.MONTH_DAY, day=31), new_year
    )
    assert (moved.planned, moved.date) == (D(2022, 12, 31), D(2023, 1, 3))
    # A plan running from November into the next year counts months across the boundary.
    dates = monthly_dates(D(2025, 11, 1), D(2026, 2, 1), FIRST_MONDAY, TABLE)
    assert [p.date for p in dates] == [D(2025, 11, 3), D(2025, 12, 1), D(2026, 1, 5), D(2026, 2, 2)]


def test_the_first_mondays_of_2025():
    dates = monthly_dates(D(2025, 1, 1), D(2025, 12, 1), FIRST_MONDAY, TABLE)
    assert [p.date for p in dates] == [
        D(2025, 1, 6), D(2025, 2, 5), D(2025, 3, 3), D(2025, 4, 7), D(2025, 5, 6), D(2025, 6, 3),
        D(2025, 7, 7), D(2025, 8, 4), D(2025, 9, 1), D(2025, 10, 9), D(2025, 11, 3), D(2025, 12, 1),
    ]  # fmt: skip
    assert [p.date.month for p in dates if p.moved] == [2, 5, 6, 10]


def test_other_rules_a_secretary_uses():
    third_friday = RepeatRule(RuleKind.NTH_WEEKDAY, n=3, weekday=4)
    assert [p.date for p in monthly_dates(D(2025, 1, 1), D(2025, 3, 1), third_friday, TABLE)] == [
        D(2025, 1, 17), D(2025, 2, 21), D(2025, 3, 21),
    ]  # fmt: skip
    # 每月31日: the month's last day when shorter; 31 May 2025 is 端午节 (and a Saturday).
    end_of_month = RepeatRule(RuleKind.MONTH_DAY, day=31)
    dates = monthly_dates(D(2025, 2, 1), D(2025, 5, 1), end_of_month, TABLE)
    assert [p.date for p in dates] == [
        D(2025, 2, 28),
        D(2025, 3, 31),
        D(2025, 4, 30),
        D(2025, 6, 3),
    ]
    assert dates[-1].reasons == ("端午节",)
    # A date moved off a plain weekend says so.
    [fifteenth] = monthly_dates(
        D(2025, 3, 1), D(2025, 3, 1), RepeatRule(RuleKind.MONTH_DAY, day=15), {}
    )
    assert fifteenth.date == D(2025, 3, 17) and fifteenth.reasons == ("周末",)
    quarterly = RepeatRule(RuleKind.QUARTER_NTH_WEEKDAY, n=1, weekday=0)
    assert [p.date for p in monthly_dates(D(2025, 1, 1), D(2025, 12, 1), quarterly, TABLE)] == [
        D(2025, 1, 6), D(2025, 4, 7), D(2025, 7, 7), D(2025, 10, 9),
    ]  # fmt: skip


def test_rules_describe_themselves_in_chinese():
    assert FIRST_MONDAY.describe() == "每月第一个周一（遇节假日顺延）"
    assert (
        RepeatRule(RuleKind.NTH_WEEKDAY, n=-1, weekday=4).describe()
        == "每月最后一个周五（遇节假日顺延）"
    )
    assert RepeatRule(RuleKind.QUARTER_NTH_WEEKDAY, n=2, weekday=2).describe() == (
        "每季度第一个月的第2个周三（遇节假日顺延）"
    )


def test_holidays_for_a_range_load_in_one_query(db, django_assert_num_queries):
    Holiday.objects.bulk_create(HOLIDAYS_2025)
    with django_assert_num_queries(1):
        table = holidays_between(D(2025, 9, 1), D(2025, 10, 31))
    assert sorted(table) == [
        D(2025, 9, 28),
        *_days(D(2025, 10, 1), D(2025, 10, 8)),
        D(2025, 10, 11),
    ]
    assert next_working_day(D(2025, 10, 1), table) == D(2025, 10, 9)


# --- the repeat page -------------------------------------------------------------------

# Before the first planned month, so no date is in the past.
BEFORE_2025 = dt.datetime(2024, 12, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def holidays_2025(db) -> None:
    Holiday.objects.bulk_create([*HOLIDAYS_2025, *HOLIDAYS_2026])


def _url(code: str = "JG-01-01") -> str:
    return reverse("attendance:session_repeat", kwargs={"code": code})


def _data(**changes: str) -> dict[str, str]:
    data = {
        "type": "集中学习",
        "topic": "学习贯彻党的创新理论",
        "start_time": "09:00",
        "end_time": "11:00",
        "hours": "2",
        "speaker": "甲书记",
        "location": "三楼会议室",
        "rule": "first_monday",
        "n": "1",
        "weekday": "0",
        "day": "1",
        "start_month": "2025-01",
        "end_month": "2025-12",
        "action": "preview",
    }
    data.update(changes)
    return data


def _session(org, day: dt.date, type: str = "集中学习") -> StudySession:
    return services.session_create(
        organization=org, by=None, type=type, date=day, start_time=dt.time(9),
        end_time=dt.time(11), hours=Decimal("2"), topic="已安排的活动",
    )  # fmt: skip


@time_machine.travel(BEFORE_2025, tick=False)
def test_preview_lists_the_dates_and_creates_nothing(cast, holidays_2025):
    response = cast.client("secretary_a").post(_url(), _data())
    assert response.status_code == 200
    plan = response.context["plan"]
    assert [row.item.date for row in plan][:3] == [D(2025, 1, 6), D(2025, 2, 5), D(2025, 3, 3)]
    html = response.content.decode()
    assert "由 2025-02-03（周一）顺延：春节" in html
    assert "国庆节、中秋节" in html
    assert "确认创建 12 次活动" in html
    assert not StudySession.objects.exists()


@time_machine.travel(BEFORE_2025, tick=False)
def test_confirm_creates_exactly_the_planned_sessions(cast, holidays_2025):
    client = cast.client("secretary_a")
    response = client.post(_url(), _data(action="confirm"))
    assert response.status_code == 302
    assert (
        response["Location"]
        == reverse("attendance:org_calendar", kwargs={"code": "JG-01-01"}) + "?month=2025-01"
    )
    sessions = list(StudySession.objects.order_by("date"))
    assert len(sessions) == 12
    assert {s.organization_id for s in sessions} == {cast.branch_a.pk}
    assert sessions[1].date == D(2025, 2, 5)  # 春节 moved it from Monday 3 February
    assert sessions[9].date == D(2025, 10, 9)  # 国庆节 moved it from Monday 6 October
    first = sessions[0]
    assert (first.type, first.topic, first.start_time, first.end_time, first.hours) == (
        "集中学习", "学习贯彻党的创新理论", dt.time(9), dt.time(11), Decimal("2.0"),
    )  # fmt: skip
    assert (first.speaker, first.location, first.created_by) == (
        "甲书记",
        "三楼会议室",
        cast.secretary_a,
    )
    page = client.get(response["Location"]).content.decode()
    assert "已创建 12 次集中学习" in page


@time_machine.travel(BEFORE_2025, tick=False)
def test_a_blank_topic_names_the_month_the_rule_meant(cast, holidays_2025):
    cast.client("secretary_a").post(_url(), _data(topic="", end_month="2025-02", action="confirm"))
    assert list(StudySession.objects.order_by("date").values_list("topic", flat=True)) == [
        "2025年1月集中学习",
        "2025年2月集中学习",
    ]


@time_machine.travel(BEFORE_2025, tick=False)
def test_a_second_confirm_creates_no_duplicates(cast, holidays_2025):
    client = cast.client("secretary_a")
    client.post(_url(), _data(action="confirm"))
    response = client.post(_url(), _data(action="confirm"), follow=True)
    assert StudySession.objects.count() == 12
    html = response.content.decode()
    assert "甲支部在以下日期已有集中学习，未重复创建" in html
    assert "2025-01-06" in html


@time_machine.travel(BEFORE_2025, tick=False)
def test_dates_already_taken_are_marked_and_skipped(cast, holidays_2025):
    _session(cast.branch_a, D(2025, 3, 3))
    # Another type on the same day, or another branch, does not count as taken.
    _session(cast.branch_a, D(2025, 4, 7), type="党课")
    client = cast.client("secretary_a")
    preview = client.post(_url(), _data())
    assert [row.item.date for row in preview.context["plan"] if row.exists] == [D(2025, 3, 3)]
    assert "已有同类活动，将跳过" in preview.content.decode()
    assert "确认创建 11 次活动" in preview.content.decode()
    response = client.post(_url(), _data(action="confirm"), follow=True)
    assert StudySession.objects.filter(type="集中学习").count() == 12
    assert StudySession.objects.filter(date=D(2025, 3, 3)).count() == 1
    assert "已创建 11 次集中学习" in response.content.decode()
    assert "未重复创建：2025-03-03" in response.content.decode()


@time_machine.travel(BEFORE_2025, tick=False)
def test_a_failure_half_way_creates_none(cast, holidays_2025, monkeypatch):
    real = services.session_create
    calls = []

    def refuse_the_third(**kwargs):
        calls.append(kwargs["date"])
        if len(calls) == 3:
            raise ValidationError({"topic": "主题不合适"})
        return real(**kwargs)

    monkeypatch.setattr(services, "session_create", refuse_the_third)
    response = cast.client("secretary_a").post(_url(), _data(action="confirm"))
    assert response.status_code == 200
    assert not StudySession.objects.exists()
    assert "2025-03-03 的活动无法创建：主题不合适。整批活动均未创建" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"start_month": "2025-05", "end_month": "2025-03"},
            "end_month",
            "结束月份 2025-03 早于起始月份 2025-05",
        ),
        (
            {"start_month": "2025-01", "end_month": "2027-01"},
            "end_month",
            "一次最多安排 24 个月，2025-01 至 2027-01 共 25 个月",
        ),
        (
            {"start_time": "10:00", "end_time": "09:30"},
            "end_time",
            "结束时间 09:30 必须晚于开始时间 10:00",
        ),
        ({"hours": "0"}, "hours", "学时须在 0.1 到 24 之间，当前填写的是 0"),
        ({"start_month": "2025-13"}, "start_month", "“2025-13”不是有效的月份"),
        ({"rule": "month_day", "day": "32"}, "day", "每月几日须在 1 到 31 之间"),
        ({"type": "中心组学习"}, "type", "选择一个有效的选项"),
    ],
)
@pytest.mark.parametrize("action", ["preview", "confirm"])
@time_machine.travel(BEFORE_2025, tick=False)
def test_invalid_input_shows_chinese_errors_and_creates_nothing(
    cast, holidays_2025, changes, field, message, action
):
    response = cast.client("secretary_a").post(_url(), _data(action=action, **changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert message in response.content.decode()
    assert response.context["plan"] is None
    assert not StudySession.objects.exists()


def test_the_form_offers_only_the_types_the_organization_may_hold(cast):
    branch = cast.client("secretary_a").get(_url()).context["form"].fields["type"].choices
    assert "中心组学习" not in dict(branch) and "集中学习" in dict(branch)
    top = cast.client("admin").get(_url("JG")).context["form"].fields["type"].choices
    assert "中心组学习" in dict(top) and "支部党员大会" not in dict(top)


@time_machine.travel(BEFORE_2025, tick=False)
def test_a_central_group_plans_jf_c1_on_the_top_organization(cast, holidays_2025):
    response = cast.client("admin").post(
        _url("JG"), _data(type="中心组学习", topic="", action="confirm")
    )
    assert response.status_code == 302
    assert StudySession.objects.filter(organization=cast.root, type="中心组学习").count() == 12


@pytest.mark.parametrize("who", ["secretary_b", "reviewer", "member_a", "other_reviewer"])
def test_only_the_secretary_of_the_branch_may_plan(cast, who):
    client = cast.client(who)
    assert client.get(_url()).status_code == 404
    assert client.post(_url(), _data(action="confirm")).status_code == 404
    assert not StudySession.objects.exists()


def test_anonymous_is_sent_to_log_in(cast):
    response = cast.client(None).get(_url())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_secretary_sees_the_form_with_a_first_monday_default(cast):
    response = cast.client("secretary_a").get(_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "每月第一个周一（遇节假日顺延）" in html and "预览日期" in html


# --- the holiday list in the admin -------------------------------------------------------


def test_the_administrator_keeps_the_holiday_list_in_the_admin(cast):
    client = cast.client("admin")
    assert client.get(reverse("admin:attendance_holiday_changelist")).status_code == 200
    response = client.post(
        reverse("admin:attendance_holiday_add"),
        {"date": "2025-10-11", "name": "国庆节调休", "is_workday": "on"},
    )
    assert response.status_code == 302
    table = holidays_between(D(2025, 10, 1), D(2025, 10, 31))
    assert is_working_day(D(2025, 10, 11), table)
    # Secretaries have no admin access.
    assert (
        cast.client("secretary_a").get(reverse("admin:attendance_holiday_changelist")).status_code
        == 302
    )


def test_the_admin_pages_of_the_records_open(cast):
    from attendance.models import AttendanceEntry, AttendanceStatus

    session = _session(cast.branch_a, D(2025, 3, 3))
    entry = AttendanceEntry.objects.create(
        session=session, member=cast.member_a_member, status=AttendanceStatus.PRESENT
    )
    client = cast.client("admin")
    page = client.get(reverse("admin:attendance_studysession_change", args=[session.pk]))
    assert page.status_code == 200
    assert "甲党员" in page.content.decode()
    # The attendance list is read-only in the session's page: no input for the status.
    assert 'name="entries-0-status"' not in page.content.decode()
    assert (
        client.get(reverse("admin:attendance_attendanceentry_history", args=[entry.pk])).status_code
        == 200
    )
    for model in (
        "studysession", "attendanceentry", "leaverequest", "studynote", "selfstudy",
        "trainingrecord", "publication", "fieldresearch", "talk",
    ):  # fmt: skip
        assert client.get(reverse(f"admin:attendance_{model}_changelist")).status_code == 200, model


# --- China's official arrangement (chinese-calendar), with no admin rows at all ----------


@time_machine.travel(dt.datetime(2026, 12, 10, 2, 0, tzinfo=dt.UTC), tick=False)
def test_qingming_2027_moves_a_first_monday_committee_meeting_and_warns(cast):
    response = cast.client("secretary_a").post(
        _url(), _data(type="支委会", start_month="2027-03", end_month="2027-05")
    )
    plan = {row.item.planned: row.item for row in response.context["plan"]}
    assert plan[D(2027, 4, 5)].date == D(2027, 4, 6)
    assert plan[D(2027, 4, 5)].reasons == ("清明节",)
    html = response.content.decode()
    assert "由 2027-04-05（周一）顺延：清明节" in html
    # 2027's notice is not out yet: the secretary is told which days were assumed.
    assert "2027年的国务院放假安排尚未公布" in html


def test_official_days_off_and_worked_weekends_come_without_admin_rows(db):
    table = holidays_between(D(2026, 9, 1), D(2026, 10, 31))
    assert not is_working_day(D(2026, 10, 5), table)  # Monday in 国庆节
    assert next_working_day(D(2026, 10, 5), table) == D(2026, 10, 8)
    assert is_working_day(D(2026, 9, 20), table)  # Sunday worked in lieu (调休)
    assert is_working_day(D(2026, 10, 12), table)


def test_a_local_day_off_from_the_admin_list_still_applies(db):
    Holiday.objects.create(date=D(2026, 11, 2), name="本单位运动会")
    table = holidays_between(D(2026, 11, 1), D(2026, 11, 30))
    assert next_working_day(D(2026, 11, 2), table) == D(2026, 11, 3)
    assert table[D(2026, 11, 2)].name == "本单位运动会"


@time_machine.travel(dt.datetime(2026, 9, 10, 2, 0, tzinfo=dt.UTC), tick=False)
def test_an_announced_year_gives_no_warning(cast):
    response = cast.client("secretary_a").post(
        _url(), _data(start_month="2026-10", end_month="2026-11")
    )
    html = response.content.decode()
    assert "由 2026-10-05（周一）顺延：国庆节" in html
    assert "放假安排尚未公布" not in html


@time_machine.travel(dt.datetime(2026, 12, 10, 2, 0, tzinfo=dt.UTC), tick=False)
def test_a_single_session_on_qingming_2027_is_created_with_a_warning(cast):
    response = cast.client("secretary_a").post(
        reverse("attendance:session_create"),
        {
            "organization": "JG-01-01",
            "type": "支委会",
            "date": "2027-04-05",
            "start_time": "09:00",
            "end_time": "11:00",
            "hours": "2",
            "topic": "四月支委会",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "2027-04-05 是清明节，不是工作日" in html
    assert StudySession.objects.filter(date=D(2027, 4, 5)).exists()
