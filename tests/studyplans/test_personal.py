"""The member's own plan: 草稿 → 已提交, acknowledged (已确认) by the branch secretary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from studyplans import services
from studyplans.models import PersonalPlan

from .helpers import YEAR

NOW = dt.datetime(2026, 1, 8, 2, 0, tzinfo=dt.UTC)
URL = reverse("studyplans:personal_plan", kwargs={"year": YEAR})
INBOX = reverse("studyplans:personal_inbox")
GOOD = {
    "goals": "通读党章，每月一本推荐书",
    "books": "中国共产党简史\n习近平谈治国理政",
    "hours_target": "156",
}


@time_machine.travel(NOW, tick=False)
def test_save_submit_and_acknowledge(cast):
    member = cast.client("member_a")
    assert member.post(URL, {**GOOD, "action": "save"}).status_code == 302
    plan = PersonalPlan.objects.get(member=cast.member_a_member, year=YEAR)
    assert (plan.status, plan.submitted_at) == ("草稿", None)
    assert "草稿" in member.get(URL).content.decode()

    # Not yet submitted: nothing for the secretary.
    assert "甲党员" not in cast.client("secretary_a").get(INBOX).content.decode()

    assert member.post(URL, {**GOOD, "hours_target": "200", "action": "submit"}).status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.submitted_at, plan.hours_target) == ("已提交", NOW, Decimal("200"))

    # Submitted: read-only for the member.
    response = member.post(URL, {**GOOD, "goals": "改了", "action": "save"}, follow=True)
    assert "个人学习计划已提交，不能再修改" in response.content.decode()
    plan.refresh_from_db()
    assert plan.goals == GOOD["goals"]

    secretary = cast.client("secretary_a")
    inbox = secretary.get(INBOX).content.decode()
    assert "甲党员" in inbox and "通读党章" in inbox
    response = secretary.post(reverse("studyplans:personal_acknowledge", kwargs={"pk": plan.pk}))
    assert response["Location"] == INBOX
    plan.refresh_from_db()
    assert (plan.status, plan.acknowledged_by, plan.acknowledged_at) == (
        "已确认",
        cast.secretary_a,
        NOW,
    )
    assert "已确认" in member.get(URL).content.decode()
    # A second acknowledgement is refused, and changes nothing.
    with pytest.raises(ValidationError):
        services.personal_plan_acknowledge(plan=plan, by=cast.secretary_a)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "data, message",
    [
        ({**GOOD, "goals": ""}, "请填写学习目标"),
        ({**GOOD, "goals": "   "}, "请填写学习目标"),
        ({**GOOD, "hours_target": "2001"}, "计划自学学时应在0至2000之间"),
        ({**GOOD, "hours_target": "-1"}, "计划自学学时应在0至2000之间"),
        ({**GOOD, "hours_target": "abc"}, "计划自学学时应为数字"),
        ({**GOOD, "hours_target": ""}, "请填写计划自学学时"),
    ],
)
def test_bad_input_is_refused_in_chinese(cast, data, message):
    response = cast.client("member_a").post(URL, {**data, "action": "submit"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PersonalPlan.objects.exists()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("hours", ["0", "2000"])
def test_the_bounds_are_allowed(cast, hours):
    response = cast.client("member_a").post(URL, {**GOOD, "hours_target": hours, "action": "save"})
    assert response.status_code == 302
    assert PersonalPlan.objects.get().hours_target == Decimal(hours)


@time_machine.travel(NOW, tick=False)
def test_the_service_checks_the_bounds_too(cast):
    with pytest.raises(ValidationError) as exc:
        services.personal_plan_save(
            member=cast.member_a_member, year=YEAR, goals="x", hours_target=Decimal("2000.1")
        )
    assert exc.value.message_dict["hours_target"] == ["计划自学学时应在0至2000之间"]


@time_machine.travel(NOW, tick=False)
def test_a_secretary_does_not_acknowledge_their_own_plan(cast):
    own = services.personal_plan_save(
        member=cast.secretary_a_member,
        year=YEAR,
        goals="学习",
        hours_target=Decimal(100),
        submit=True,
    )
    client = cast.client("secretary_a")
    assert own not in client.get(INBOX).context["pending"]
    assert (
        client.post(reverse("studyplans:personal_acknowledge", kwargs={"pk": own.pk})).status_code
        == 404
    )
    with pytest.raises(ValidationError):
        services.personal_plan_acknowledge(plan=own, by=cast.secretary_a)
    # The administrator (the level above, here) may.
    assert (
        cast.client("admin")
        .post(reverse("studyplans:personal_acknowledge", kwargs={"pk": own.pk}))
        .status_code
        == 302
    )
    own.refresh_from_db()
    assert own.status == "已确认"


@time_machine.travel(NOW, tick=False)
def test_secretary_of_branch_b_sees_nothing_of_branch_a(cast):
    services.personal_plan_save(
        member=cast.member_a_member, year=YEAR, goals="学习", hours_target=Decimal(100), submit=True
    )
    assert "甲党员" not in cast.client("secretary_b").get(INBOX).content.decode()
