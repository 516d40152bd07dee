"""The annual plan's workflow: 草稿 → 已报送 → 已退回 (with comment) → 修改 → 已报送 → 已备案."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from studyplans import services
from studyplans.models import AnnualPlan, PlanEvent, PlanStatus
from tests.conftest import refreshed

from .helpers import GOOD_BOOK, GOOD_SESSION, GOOD_THEME, YEAR, form_data, make_plan

T0 = dt.datetime(2025, 12, 1, 1, 0, tzinfo=dt.UTC)


def at(days: int) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def _detail(year: int = YEAR) -> str:
    return reverse("studyplans:plan_detail", kwargs={"code": "JG-01-01", "year": year})


def _url(name: str, year: int = YEAR) -> str:
    return reverse(f"studyplans:{name}", kwargs={"code": "JG-01-01", "year": year})


def test_the_whole_workflow_keeps_timestamps_and_the_trail(cast):
    secretary, reviewer = cast.client("secretary_a"), cast.client("reviewer")

    with time_machine.travel(at(0), tick=False):
        response = secretary.post(
            _url("plan_edit"),
            form_data(
                themes=[GOOD_THEME, {"period": "m3", "theme": "学习新党章"}],
                sessions=[
                    GOOD_SESSION,
                    {"type": "支委会", "month": "1", "topic": "研究全年计划", "hours": "1.5"},
                ],
                books=[GOOD_BOOK],
                required_readings="《中国共产党章程》",
            ),
        )
        assert response.status_code == 302 and response["Location"] == _detail()
        plan = AnnualPlan.objects.get(organization=cast.branch_a, year=YEAR)
        assert plan.status == PlanStatus.DRAFT
        assert (plan.themes.count(), plan.planned_sessions.count(), plan.books.count()) == (2, 2, 1)

    with time_machine.travel(at(1), tick=False):
        assert secretary.post(_url("plan_submit")).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    assert plan.first_submitted_at == plan.submitted_at == at(1)
    # Submitted: the edit page sends the secretary back, and a POST changes nothing.
    assert secretary.get(_url("plan_edit"))["Location"] == _detail()
    secretary.post(_url("plan_edit"), form_data(themes=[GOOD_THEME]))
    assert plan.themes.count() == 2

    with time_machine.travel(at(2), tick=False):
        response = reviewer.post(_url("plan_return"), {"comment": "请补充第三季度党课安排"})
        assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RETURNED
    assert plan.return_comment == "请补充第三季度党课安排"
    page = secretary.get(_detail()).content.decode()
    assert "请补充第三季度党课安排" in page and "已退回" in page

    with time_machine.travel(at(3), tick=False):
        page = secretary.get(_url("plan_edit"))
        assert page.status_code == 200 and "请补充第三季度党课安排" in page.content.decode()
        response = secretary.post(
            _url("plan_edit"),
            form_data(
                themes=[GOOD_THEME],
                sessions=[
                    GOOD_SESSION,
                    {"type": "党课", "month": "8", "topic": "第三季度党课", "hours": "2"},
                ],
                books=[GOOD_BOOK],
            ),
        )
        assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RETURNED
    assert sorted(plan.planned_sessions.values_list("month", flat=True)) == [3, 8]

    with time_machine.travel(at(4), tick=False):
        assert secretary.post(_url("plan_submit")).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    assert plan.first_submitted_at == at(1), "the first submission is kept"
    assert plan.submitted_at == at(4)
    assert plan.return_comment == ""

    with time_machine.travel(at(5), tick=False):
        assert reviewer.post(_url("plan_file")).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.FILED
    assert plan.filed_at == at(5) and plan.filed_by == cast.reviewer
    assert plan.first_submitted_at == at(1) and plan.submitted_at == at(4)

    events = list(PlanEvent.objects.filter(plan=plan).order_by("at", "pk"))
    assert [(e.action, e.by, e.at) for e in events] == [
        ("创建", cast.secretary_a, at(0)),
        ("报送", cast.secretary_a, at(1)),
        ("退回", cast.reviewer, at(2)),
        ("修改", cast.secretary_a, at(3)),
        ("报送", cast.secretary_a, at(4)),
        ("备案", cast.reviewer, at(5)),
    ]
    assert events[2].comment == "请补充第三季度党课安排"
    # Filed: no more edits, no second 备案, no 退回.
    assert secretary.get(_url("plan_edit"))["Location"] == _detail()
    with pytest.raises(ValidationError):
        services.plan_file(plan=plan, by=cast.reviewer)
    with pytest.raises(ValidationError):
        services.plan_return(plan=plan, by=cast.reviewer, comment="再改")
    page = secretary.get(_detail()).content.decode()
    for action in ("创建", "报送", "退回", "修改", "备案"):
        assert action in page


def test_the_detail_page_of_a_year_without_a_plan_offers_to_make_one(cast):
    page = cast.client("secretary_a").get(_detail(2027))
    assert page.status_code == 200
    assert "本年度尚未制定学习计划" in page.content.decode()
    assert _url("plan_edit", 2027) in page.content.decode()
    # Opening the edit page writes nothing; the plan is created on the first save.
    assert cast.client("secretary_a").get(_url("plan_edit", 2027)).status_code == 200
    assert not AnnualPlan.objects.exists()


@time_machine.travel(T0, tick=False)
def test_a_double_submit_records_one_event(cast):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
    client = cast.client("secretary_a")
    client.post(_url("plan_submit"))
    response = client.post(_url("plan_submit"), follow=True)
    assert "计划当前状态为「已报送」，不能报送" in response.content.decode()
    assert PlanEvent.objects.filter(plan=plan, action="报送").count() == 1
    with pytest.raises(ValidationError):
        services.plan_submit(plan=plan, by=cast.secretary_a)
    assert PlanEvent.objects.filter(plan=plan, action="报送").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_submits_at_once_record_one_event(cast):
    """Both requests read 草稿 unless the status is checked under the row lock."""
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            services.plan_submit(plan=AnnualPlan.objects.get(pk=plan.pk), by=cast.secretary_a)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert PlanEvent.objects.filter(plan=plan, action="报送").count() == 1


@time_machine.travel(T0, tick=False)
def test_an_empty_plan_cannot_be_submitted(cast):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a, sessions=[], themes=[])
    response = cast.client("secretary_a").post(_url("plan_submit"), follow=True)
    assert "计划中还没有学习主题或计划活动，不能报送" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.first_submitted_at is None


@time_machine.travel(T0, tick=False)
@pytest.mark.parametrize(
    "data, message",
    [
        (form_data(themes=[{"period": "m3", "theme": ""}]), "请填写学习主题"),
        (form_data(themes=[{"period": "m3", "theme": "   "}]), "请填写学习主题"),
        (form_data(themes=[{"period": "", "theme": "学习党章"}]), "请选择月份或季度"),
        (form_data(themes=[{"period": "m13", "theme": "学习党章"}]), "请选择有效的月份或季度"),
        (form_data(sessions=[{**GOOD_SESSION, "month": "13"}]), "月份应在1至12之间"),
        (form_data(sessions=[{**GOOD_SESSION, "month": "0"}]), "月份应在1至12之间"),
        (form_data(sessions=[{**GOOD_SESSION, "hours": "0"}]), "学时应在0.1至24之间"),
        (form_data(sessions=[{**GOOD_SESSION, "hours": "25"}]), "学时应在0.1至24之间"),
        (form_data(sessions=[{**GOOD_SESSION, "topic": ""}]), "请填写活动主题"),
        (form_data(sessions=[{**GOOD_SESSION, "type": ""}]), "请选择活动类型"),
        # A branch holds no 党小组会: that is its groups' business.
        (
            form_data(sessions=[{**GOOD_SESSION, "type": "党小组会"}]),
            "该组织不能安排这种类型的活动",
        ),
        (form_data(books=[{"title": "", "author": "某作者"}]), "请填写书名"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_written(cast, data, message):
    client = cast.client("secretary_a")
    # A good row next to the bad one: nothing of it is saved either.
    data = {**data}
    response = client.post(_url("plan_edit"), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert "计划尚未保存" in content
    assert not AnnualPlan.objects.exists()
    assert not PlanEvent.objects.exists()


@time_machine.travel(T0, tick=False)
def test_bad_input_leaves_a_saved_plan_as_it_was(cast):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
    before = list(plan.planned_sessions.values_list("type", "month", "topic", "hours"))
    response = cast.client("secretary_a").post(
        _url("plan_edit"),
        form_data(themes=[GOOD_THEME], sessions=[GOOD_SESSION, {**GOOD_SESSION, "hours": "0"}]),
    )
    assert response.status_code == 200 and "学时应在0.1至24之间" in response.content.decode()
    assert list(plan.planned_sessions.values_list("type", "month", "topic", "hours")) == before
    assert list(plan.themes.values_list("theme", flat=True)) == ["学习党章党规"]
    assert PlanEvent.objects.filter(plan=plan).count() == 1


@time_machine.travel(T0, tick=False)
def test_the_service_refuses_bad_rows_itself(cast):
    with pytest.raises(ValidationError) as exc:
        services.plan_save(
            organization=refreshed(cast.branch_a),
            year=YEAR,
            by=cast.secretary_a,
            themes=[
                services.ThemeInput("", month=3),
                services.ThemeInput("两者皆有", month=3, quarter=1),
            ],
            sessions=[
                services.SessionInput("党课", 13, "x"),
                services.SessionInput("党课", 3, "x", hours=0),
            ],
            books=[services.BookInput("")],
        )
    messages = exc.value.messages
    assert "学习主题第1行：请填写学习主题" in messages
    assert "学习主题第2行：学习主题须指定月份或季度（只选其一）" in messages
    assert "计划活动第1行：月份应在1至12之间" in messages
    assert "计划活动第2行：学时应在0.1至24之间" in messages
    assert "推荐书目第1行：请填写书名" in messages
    assert not AnnualPlan.objects.exists()


@time_machine.travel(T0, tick=False)
@pytest.mark.parametrize("comment", ["", "   "])
def test_return_without_a_comment_is_refused(cast, comment):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
    services.plan_submit(plan=plan, by=cast.secretary_a)
    response = cast.client("reviewer").post(_url("plan_return"), {"comment": comment})
    assert response.status_code == 200
    assert "退回时请填写退回意见" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED and plan.return_comment == ""
    assert not PlanEvent.objects.filter(plan=plan, action="退回").exists()
    with pytest.raises(ValidationError):
        services.plan_return(plan=plan, by=cast.reviewer, comment="  ")


@time_machine.travel(T0, tick=False)
def test_deleting_rows_and_keeping_the_rest(cast):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a, sessions=[])
    client = cast.client("secretary_a")
    page = client.get(_url("plan_edit"))
    themes = page.context["themes"]
    assert themes.initial_form_count() == 1
    data = form_data(themes=[GOOD_THEME, {"period": "q2", "theme": "删掉我", "DELETE": "on"}])
    assert client.post(_url("plan_edit"), data).status_code == 302
    assert list(plan.themes.values_list("theme", flat=True)) == ["学习党的二十大精神"]
    assert plan.books.count() == 0


@time_machine.travel(T0, tick=False)
def test_the_inbox_lists_submitted_plans_of_child_organizations(cast):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
    inbox = reverse("studyplans:plan_inbox")
    assert "甲支部" not in cast.client("reviewer").get(inbox).content.decode()
    services.plan_submit(plan=plan, by=cast.secretary_a)
    for who, sees in (
        ("reviewer", True),
        ("admin", True),
        ("secretary_a", False),  # its own plan: not its to file
        ("secretary_b", False),
        ("other_reviewer", False),
    ):
        assert ("甲支部" in cast.client(who).get(inbox).content.decode()) is sees, who
    response = cast.client("reviewer").post(_url("plan_file"), {"next": "inbox"})
    assert response["Location"] == inbox
    assert "甲支部" not in cast.client("reviewer").get(inbox).content.decode()
