"""Members correct their own self-study until the secretary has reviewed the week, and see
the weekly target of their rule profile next to the weekly total (issue 11)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Rule
from attendance import services
from attendance.models import SelfStudy, SelfStudyWeekReview
from branches.models import Organization

TODAY = dt.datetime(2025, 6, 18, 4, 0, tzinfo=dt.UTC)  # Wednesday 2025-06-18 in Shanghai
LAST_WEEK = dt.date(2025, 6, 10)  # week 24: 06-09 … 06-15, over
THIS_WEEK = dt.date(2025, 6, 16)  # week 25, still running


def _log(cast, day: dt.date, hours: str = "2", material: str = "读党章") -> SelfStudy:
    return services.self_study_log(
        member=cast.member_a_member, date=day, hours=Decimal(hours), material=material
    )


def _edit_url(entry: SelfStudy) -> str:
    return reverse("attendance:self_study_edit", kwargs={"pk": entry.pk})


def _delete_url(entry: SelfStudy) -> str:
    return reverse("attendance:self_study_delete", kwargs={"pk": entry.pk})


def _review_url(day: dt.date, member_no: str = "A002") -> str:
    return reverse(
        "attendance:self_study_week_review", kwargs={"member_no": member_no, "day": day.isoformat()}
    )


@time_machine.travel(TODAY, tick=False)
def test_a_member_corrects_and_deletes_an_own_entry(cast):
    entry = _log(cast, LAST_WEEK, "2")
    other = _log(cast, LAST_WEEK, "1", "读条例")
    client = cast.client("member_a")
    page = client.get(reverse("attendance:self_study")).content.decode()
    assert _edit_url(entry) in page and _delete_url(entry) in page

    response = client.post(
        _edit_url(entry), {"date": "2025-06-11", "hours": "1.5", "material": "读党章第二章"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.date, entry.hours, entry.material) == (
        dt.date(2025, 6, 11),
        Decimal("1.5"),
        "读党章第二章",
    )
    weeks = client.get(reverse("attendance:self_study")).context["weeks"]
    assert [(w.label, w.hours) for w in weeks] == [("2025年第24周", Decimal("2.5"))]

    response = client.post(_delete_url(other), follow=True)
    assert "已删除 2025-06-10 的 1 学时自学" in response.content.decode()
    # A second click on the same button: no error page, nothing else removed.
    again = client.post(_delete_url(other), follow=True)
    assert again.status_code == 200 and "这条自学记录已删除" in again.content.decode()
    assert list(SelfStudy.objects.values_list("pk", flat=True)) == [entry.pk]


@time_machine.travel(TODAY, tick=False)
def test_a_correction_keeps_the_rules_of_a_new_entry(cast):
    entry = _log(cast, LAST_WEEK, "2")
    _log(cast, dt.date(2025, 6, 11), "23")
    client = cast.client("member_a")
    response = client.post(_edit_url(entry), {"date": "2025-06-11", "hours": "2", "material": "x"})
    assert "一天合计不能超过 24 学时" in response.context["form"].errors["hours"][0]
    response = client.post(_edit_url(entry), {"date": "2025-06-19", "hours": "2", "material": "x"})
    assert "日期不能晚于今天" in response.context["form"].errors["date"][0]
    entry.refresh_from_db()
    assert entry.date == LAST_WEEK


@time_machine.travel(TODAY, tick=False)
def test_nobody_else_touches_a_member_s_entries(cast):
    entry = _log(cast, LAST_WEEK, "2")
    for who in ("secretary_a", "secretary_b", "reviewer", "admin"):
        client = cast.client(who)
        assert client.get(_edit_url(entry)).status_code == 404, who
        data = {"date": "2025-06-10", "hours": "9", "material": "篡改"}
        assert client.post(_edit_url(entry), data).status_code == 404, who
        assert client.post(_delete_url(entry)).status_code == 404, who
    entry.refresh_from_db()
    assert entry.hours == 2 and entry.material == "读党章"


@time_machine.travel(TODAY, tick=False)
def test_after_the_secretary_reviews_the_week_the_member_can_no_longer_change_it(cast):
    reviewed = _log(cast, LAST_WEEK, "2")
    open_entry = _log(cast, THIS_WEEK, "1")
    secretary = cast.client("secretary_a")
    archive = reverse("attendance:member_archive", kwargs={"member_no": "A002"})
    html = secretary.get(archive).content.decode()
    assert _review_url(dt.date(2025, 6, 9)) in html  # the finished week offers 审阅
    assert _review_url(dt.date(2025, 6, 16)) not in html  # the running week does not

    response = secretary.post(_review_url(LAST_WEEK), follow=True)
    assert "已审阅 甲党员 2025-06-09～2025-06-15 的自学" in response.content.decode()
    # A double submit records one review.
    secretary.post(_review_url(LAST_WEEK))
    assert SelfStudyWeekReview.objects.count() == 1
    assert "甲书记 已审阅" in secretary.get(archive).content.decode()

    member = cast.client("member_a")
    page = member.get(reverse("attendance:self_study")).content.decode()
    assert _edit_url(reviewed) not in page and _delete_url(reviewed) not in page
    assert _edit_url(open_entry) in page
    response = member.post(
        _edit_url(reviewed), {"date": "2025-06-10", "hours": "5", "material": "改"}, follow=True
    )
    assert "所在的这一周已由书记审阅，不能再修改或删除" in response.content.decode()
    member.post(_delete_url(reviewed))
    reviewed.refresh_from_db()
    assert reviewed.hours == 2
    # Nor can hours be moved into the reviewed week, or added to it.
    response = member.post(
        _edit_url(open_entry), {"date": "2025-06-12", "hours": "1", "material": "挪"}
    )
    assert (
        "2025年第24周（06-09～06-15）的自学已由书记审阅"
        in response.context["form"].errors["date"][0]
    )
    response = member.post(
        reverse("attendance:self_study"), {"date": "2025-06-13", "hours": "1", "material": "补"}
    )
    assert "已由书记审阅" in response.context["form"].errors["date"][0]
    assert SelfStudy.objects.count() == 2


@time_machine.travel(TODAY, tick=False)
def test_a_week_is_reviewed_only_when_over_by_another_member_s_secretary(cast):
    _log(cast, THIS_WEEK)
    secretary = cast.client("secretary_a")
    response = secretary.post(_review_url(THIS_WEEK), follow=True)
    assert "2025-06-16 起的这一周尚未结束" in response.content.decode()
    assert cast.client("secretary_b").post(_review_url(LAST_WEEK)).status_code == 404
    services.self_study_log(
        member=cast.secretary_a_member, date=LAST_WEEK, hours=Decimal(1), material="自学"
    )
    assert secretary.post(_review_url(LAST_WEEK, "A001")).status_code == 404  # own week
    assert (
        secretary.post(
            reverse("attendance:self_study_week_review", kwargs={"member_no": "A002", "day": "坏"})
        ).status_code
        == 404
    )
    assert not SelfStudyWeekReview.objects.exists()


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("profile", "hours", "rule_id"), [("默认", "3", "FJ-M2"), ("金佛寺镇", "5", "JF-M1")]
)
def test_the_weekly_target_of_the_member_s_profile_stands_next_to_the_total(
    cast, profile, hours, rule_id
):
    Organization.objects.filter(pk=cast.root.pk).update(profile_name=profile)
    _log(cast, THIS_WEEK, "2")
    page = cast.client("member_a").get(reverse("attendance:self_study"))
    html = page.content.decode()
    assert f"本周已学 <strong>2</strong> 学时 / 目标 <strong>{hours}</strong> 学时" in html
    assert f"{profile}方案 {rule_id}" in html
    gap = Decimal(hours) - 2
    assert f"还差 {gap:f} 学时" in html


@time_machine.travel(TODAY, tick=False)
def test_no_target_is_shown_when_the_profile_sets_none(cast):
    Rule.objects.filter(profile__name="默认", rule_id="FJ-M2").update(enabled=False)
    _log(cast, THIS_WEEK, "2")
    page = cast.client("member_a").get(reverse("attendance:self_study"))
    assert page.context["target"] is None
    assert "本周已学 <strong>2</strong> 学时</p>" in page.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_the_page_s_queries_do_not_grow_with_the_entries(cast):
    client = cast.client("member_a")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("attendance:self_study")).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        _log(cast, dt.date(2025, 1, 6) + dt.timedelta(days=i))
    few = count()
    for i in range(60):
        _log(cast, dt.date(2025, 1, 10) + dt.timedelta(days=i), "1")
    SelfStudyWeekReview.objects.create(member=cast.member_a_member, week_start=dt.date(2025, 1, 6))
    assert count() == few


@time_machine.travel(TODAY, tick=False)
def test_the_secretary_s_to_do_list_holds_the_finished_weeks_not_yet_reviewed(cast):
    _log(cast, dt.date(2025, 6, 2), "1")  # week 23
    _log(cast, LAST_WEEK, "2")  # week 24
    _log(cast, dt.date(2025, 6, 11), "0.5")  # week 24
    _log(cast, THIS_WEEK, "3")  # running: not listed
    services.self_study_log(
        member=cast.member_b_member, date=LAST_WEEK, hours=Decimal(1), material="乙支部"
    )
    services.self_study_log(
        member=cast.secretary_a_member, date=LAST_WEEK, hours=Decimal(1), material="自己的"
    )
    client = cast.client("secretary_a")
    inbox = reverse("attendance:review_inbox")
    weeks = client.get(inbox).context["weeks"]
    assert [(w.member.member_no, w.start, w.hours) for w in weeks] == [
        ("A002", dt.date(2025, 6, 2), Decimal("1")),
        ("A002", dt.date(2025, 6, 9), Decimal("2.5")),
    ]
    response = client.post(_review_url(LAST_WEEK), {"next": inbox})
    assert response["Location"] == inbox
    weeks = client.get(inbox).context["weeks"]
    assert [w.start for w in weeks] == [dt.date(2025, 6, 2)]
