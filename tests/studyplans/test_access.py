"""Every study plan URL against the fixed cast (see tests/branches/test_access.py).

Who files (备案) a plan: a user who writes or reviews the subtree of the plan's parent
organization — here the reviewer of 机关党委 JG, whose subtree holds JG-01, the parent of
branch A — or an administrator; never the branch's own secretary.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from attendance.models import StudySession
from studyplans import services
from studyplans.models import AnnualPlan, PersonalPlan, PlanEvent, PlanStatus
from tests.branches.test_access import READ, STAFF_LIST, WRITE, WRITERS_ANYWHERE
from tests.conftest import refreshed

from .helpers import GOOD_SESSION, GOOD_THEME, YEAR, form_data, make_plan

NOW = dt.datetime(2025, 12, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Asia/Shanghai

# Pages of one's own member record: anyone with a member record, nobody else.
MEMBERS_ONLY = {
    "member_a": 200,
    "secretary_a": 200,
    "secretary_b": 200,
    "reviewer": 404,
    "other_reviewer": 404,
    "admin": 404,
}

ROUTES: dict[str, tuple[dict, dict[str, int]]] = {
    "studyplans:plan_detail": ({"code": "JG-01-01", "year": YEAR}, READ),
    "studyplans:plan_edit": ({"code": "JG-01-01", "year": YEAR}, WRITE),
    "studyplans:plan_inbox": ({}, STAFF_LIST),
    "studyplans:personal_plan": ({"year": YEAR}, MEMBERS_ONLY),
    "studyplans:personal_inbox": ({}, WRITERS_ANYWHERE),
}
GET_ROUTES = list(ROUTES)
POST_ONLY = {
    "studyplans:plan_submit",
    "studyplans:plan_file",
    "studyplans:plan_return",
    "studyplans:plan_schedule",
    "studyplans:personal_acknowledge",
}


@pytest.fixture
def world(cast):
    with time_machine.travel(NOW, tick=False):
        plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
        personal = services.personal_plan_save(
            member=cast.member_a_member,
            year=YEAR,
            goals="通读党章",
            hours_target=Decimal("156"),
            submit=True,
        )
    return {"plan": plan, "personal": personal}


def _post_kwargs(world) -> dict[str, dict]:
    plan_kwargs = {"code": "JG-01-01", "year": YEAR}
    return {
        "studyplans:plan_submit": plan_kwargs,
        "studyplans:plan_file": plan_kwargs,
        "studyplans:plan_return": plan_kwargs,
        "studyplans:plan_schedule": plan_kwargs,
        "studyplans:personal_acknowledge": {"pk": world["personal"].pk},
    }


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("name", [*GET_ROUTES, *sorted(POST_ONLY)])
def test_anonymous_visitors_are_sent_to_log_in(cast, world, name):
    kwargs = ROUTES[name][0] if name in ROUTES else _post_kwargs(world)[name]
    client = cast.client(None)
    for response in (
        client.get(reverse(name, kwargs=kwargs)),
        client.post(reverse(name, kwargs=kwargs)),
    ):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("name", GET_ROUTES)
@pytest.mark.parametrize("who", sorted(READ))
def test_get_access_matrix(cast, world, name, who):
    kwargs, expected = ROUTES[name]
    response = cast.client(who).get(reverse(name, kwargs=kwargs))
    assert response.status_code == expected[who], f"{who} GET {name}"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_post_only_actions_refuse_get(cast, world, name):
    response = cast.client("admin").get(reverse(name, kwargs=_post_kwargs(world)[name]))
    assert response.status_code == 405


def _snapshot(plan: AnnualPlan) -> tuple:
    plan.refresh_from_db()
    return (
        plan.status,
        plan.submitted_at,
        plan.filed_at,
        plan.return_comment,
        PlanEvent.objects.filter(plan=plan).count(),
        list(plan.planned_sessions.values_list("type", "month", "topic")),
        StudySession.objects.count(),
    )


def _all_posts(world) -> list[tuple[str, dict, dict]]:
    kw = _post_kwargs(world)
    return [
        (
            "studyplans:plan_edit",
            {"code": "JG-01-01", "year": YEAR},
            form_data(themes=[GOOD_THEME], sessions=[GOOD_SESSION]),
        ),
        ("studyplans:plan_submit", kw["studyplans:plan_submit"], {}),
        ("studyplans:plan_file", kw["studyplans:plan_file"], {}),
        ("studyplans:plan_return", kw["studyplans:plan_return"], {"comment": "重写"}),
        ("studyplans:plan_schedule", kw["studyplans:plan_schedule"], {}),
    ]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("who", ["secretary_b", "other_reviewer", "member_a"])
def test_outsiders_get_404_and_change_nothing(cast, world, who):
    plan = world["plan"]
    # Submitted, so that 备案, 退回 and 排期 would all be possible for someone entitled.
    services.plan_submit(plan=plan, by=cast.secretary_a)
    before = _snapshot(plan)
    client = cast.client(who)
    for name, kwargs, data in _all_posts(world):
        response = client.post(reverse(name, kwargs=kwargs), data)
        assert response.status_code == 404, f"{who} POST {name}"
    assert _snapshot(plan) == before


@time_machine.travel(NOW, tick=False)
def test_secretary_of_branch_b_cannot_create_a_plan_for_branch_a(cast):
    client = cast.client("secretary_b")
    url = reverse("studyplans:plan_edit", kwargs={"code": "JG-01-01", "year": YEAR})
    response = client.post(url, form_data(themes=[GOOD_THEME]))
    assert response.status_code == 404
    assert not AnnualPlan.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_reviewer_reads_and_files_but_does_not_edit_submit_or_schedule(cast, world):
    plan = world["plan"]
    client = cast.client("reviewer")
    kwargs = {"code": "JG-01-01", "year": YEAR}
    assert client.get(reverse("studyplans:plan_detail", kwargs=kwargs)).status_code == 200
    for name, data in (
        ("studyplans:plan_edit", form_data(themes=[GOOD_THEME])),
        ("studyplans:plan_submit", {}),
        ("studyplans:plan_schedule", {}),
    ):
        assert client.post(reverse(name, kwargs=kwargs), data).status_code == 404, name
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT

    services.plan_submit(plan=plan, by=cast.secretary_a)
    page = client.get(reverse("studyplans:plan_detail", kwargs=kwargs))
    assert 'id="superior-actions"' in page.content.decode()
    response = client.post(reverse("studyplans:plan_file", kwargs=kwargs))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.FILED and plan.filed_by == cast.reviewer


@time_machine.travel(NOW, tick=False)
def test_the_branch_secretary_cannot_file_or_return_its_own_plan(cast, world):
    plan = world["plan"]
    services.plan_submit(plan=plan, by=cast.secretary_a)
    client = cast.client("secretary_a")
    kwargs = {"code": "JG-01-01", "year": YEAR}
    page = client.get(reverse("studyplans:plan_detail", kwargs=kwargs)).content.decode()
    assert 'id="superior-actions"' not in page
    assert client.post(reverse("studyplans:plan_file", kwargs=kwargs)).status_code == 404
    response = client.post(
        reverse("studyplans:plan_return", kwargs=kwargs), {"comment": "自己退回"}
    )
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED


@time_machine.travel(NOW, tick=False)
def test_member_cannot_edit_the_branch_plan(cast, world):
    client = cast.client("member_a")
    kwargs = {"code": "JG-01-01", "year": YEAR}
    assert client.get(reverse("studyplans:plan_edit", kwargs=kwargs)).status_code == 404
    assert (
        client.post(reverse("studyplans:plan_edit", kwargs=kwargs), form_data()).status_code == 404
    )


@time_machine.travel(NOW, tick=False)
def test_admin_files_a_root_plan_nobody_else_does(cast):
    plan = make_plan(refreshed(cast.root), cast.admin, sessions=[])
    services.plan_submit(plan=plan, by=cast.admin)
    kwargs = {"code": "JG", "year": YEAR}
    assert (
        cast.client("reviewer").post(reverse("studyplans:plan_file", kwargs=kwargs)).status_code
        == 404
    )
    assert (
        cast.client("admin").post(reverse("studyplans:plan_file", kwargs=kwargs)).status_code == 302
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.FILED


@time_machine.travel(NOW, tick=False)
def test_personal_acknowledgement_is_for_the_members_secretary_only(cast, world):
    personal = world["personal"]
    url = reverse("studyplans:personal_acknowledge", kwargs={"pk": personal.pk})
    for who in ("secretary_b", "reviewer", "other_reviewer", "member_a"):
        assert cast.client(who).post(url).status_code == 404, who
    personal.refresh_from_db()
    assert personal.status == "已提交"
    assert cast.client("secretary_a").post(url).status_code == 302
    personal.refresh_from_db()
    assert personal.status == "已确认"


@time_machine.travel(NOW, tick=False)
def test_out_of_range_years_are_404(cast):
    client = cast.client("secretary_a")
    assert client.get("/orgs/JG-01-01/plans/1999/").status_code == 404
    assert client.get("/orgs/JG-01-01/plans/2101/edit/").status_code == 404
    assert cast.client("member_a").get("/me/plan/3000/").status_code == 404
    assert not PersonalPlan.objects.filter(year=3000).exists()
