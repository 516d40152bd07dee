"""The reviewer dashboard: figures from the precomputed tables, constant queries, access, exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from assessments.stats import refresh_subtree
from branches.demo import seed_demo
from branches.models import Organization
from reports.dashboard import HEATMAP_ROWS
from tests.assessments.test_definitions import held, monthly_days
from tests.conftest import refreshed

NOW = dt.datetime(2026, 1, 20, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def year_2025(cast):
    for i, day in enumerate(monthly_days(6)):
        held(cast.branch_a, day, {cast.member_a_member: "缺席"} if i < 4 else {})
    for day in monthly_days(12):
        held(cast.branch_b, day, {})
    for month in range(1, 13):
        held(cast.branch_b, dt.date(2025, month, 20), {}, type="支委会")
    for month in (2, 5, 8, 11):
        held(cast.branch_b, dt.date(2025, month, 22), {}, type="党课")
    refresh_subtree(root=refreshed(cast.root), year=2025)


def get(client, **params):
    return client.get(reverse("reports:dashboard"), {"year": 2025, **params})


@time_machine.travel(NOW, tick=False)
def test_reviewer_sees_the_figures_of_the_subtree(cast, year_2025):
    response = get(cast.client("reviewer"), org="JG")
    data = response.context["data"]
    assert data.branch_count == 2 and data.member_count == 4
    assert data.five_good == (1, 2)  # branch A: 4 absences in 6 sessions brings it under 80%
    shares = {rid: (met, n) for rid, met, n in data.rule_shares}
    assert shares["FJ-B1"] == (1, 2)
    b = next(r for r in data.branches if r.organization.code == "JG-01-02")
    # 支委会 every month; 党课 every quarter but no 支部党员大会: quarter ends are partial.
    assert [c.symbol for c in b.cells] == [
        "✓",
        "✓",
        "◐",
        "✓",
        "✓",
        "◐",
        "✓",
        "✓",
        "◐",
        "✓",
        "✓",
        "◐",
    ]
    assert b.cells[2].missing == ["支部党员大会"]
    assert data.participation_by_month[0] is not None
    html = response.content.decode()
    assert "三会一课热力图" in html and "echarts.min.js" in html


@time_machine.travel(NOW, tick=False)
def test_the_heat_map_lists_branches_needing_attention_first(cast, year_2025):
    from reports.dashboard import dashboard_data

    data = dashboard_data(organization=refreshed(cast.root), year=2025, heat_limit=1)
    # Branch B comes first in the tree, but branch A misses 五好 and needs attention.
    assert [b.organization.code for b in data.heat_branches] == ["JG-01-01"]
    assert data.branch_count == 2 and data.at_risk_count == 1
    [(child, figures)] = data.children
    assert child.code == "JG-01"
    assert (figures["branches"], figures["five_good"], figures["at_risk"]) == (2, 1, 1)
    everything = dashboard_data(organization=refreshed(cast.root), year=2025, heat_limit=None)
    assert [b.organization.code for b in everything.branches] == ["JG-01-01", "JG-01-02"]
    assert {b.parent.code for b in everything.branches} == {"JG-01"}


@time_machine.travel(NOW, tick=False)
def test_the_figures_are_cached_until_the_statistics_are_refreshed(
    cast, year_2025, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client = cast.client("reviewer")
    first = get(client, org="JG")
    assert first.context["data"].five_good == (1, 2)
    with django_assert_max_num_queries(8):  # session, user, scope, ancestors; no figures
        again = get(client, org="JG")
    body = first.content.decode()
    body = body[body.index('id="freshness"') : body.index("</main>")]
    assert "data" not in again.context and body in again.content.decode()
    # Branch A holds six more sessions without absences: 80% participation, 12 sessions.
    for month in range(7, 13):
        held(cast.branch_a, dt.date(2025, month, 12), {})
    assert b"1 / 2" in get(client, org="JG").content  # not refreshed yet: same figures
    with django_capture_on_commit_callbacks(execute=True):  # as when the refresh commits
        refresh_subtree(root=refreshed(cast.root), year=2025)
    after = get(client, org="JG")
    assert after.context["data"].five_good == (2, 2)
    # Another reviewer allowed to see the subtree gets the same figures, a secretary nothing.
    assert get(cast.client("admin"), org="JG").content.count(b"2 / 2") >= 1
    assert get(cast.client("secretary_a"), org="JG").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_works_without_redis(
    cast, year_2025, monkeypatch, django_capture_on_commit_callbacks
):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from reports import dashboard

    def broken(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    for name in ("get", "set", "add", "incr"):
        monkeypatch.setattr(dashboard.cache, name, broken)
    response = get(cast.client("reviewer"), org="JG")
    assert response.status_code == 200 and response.context["data"].five_good == (1, 2)
    with django_capture_on_commit_callbacks(execute=True):
        refresh_subtree(root=refreshed(cast.root), year=2025)  # the bump fails quietly


@time_machine.travel(NOW, tick=False)
def test_drill_down_from_the_committee_to_the_general_branch(cast, year_2025):
    top = get(cast.client("reviewer"), org="JG").context["data"]
    assert [c.code for c, _ in top.children] == ["JG-01"]
    below = get(cast.client("reviewer"), org="JG-01").context["data"]
    assert [c.code for c, _ in below.children] == ["JG-01-01", "JG-01-02"]


@time_machine.travel(NOW, tick=False)
def test_only_reviewers_of_the_subtree_open_the_dashboard(cast, year_2025):
    assert get(cast.client("secretary_a"), org="JG").status_code == 404
    assert get(cast.client("secretary_a")).status_code == 404
    assert get(cast.client("member_a")).status_code == 404
    assert get(cast.client("other_reviewer"), org="JG").status_code == 404
    assert get(cast.client("other_reviewer")).context["org"].code == "QT"
    assert get(cast.client("admin"), org="JG").status_code == 200
    response = Client().get(reverse("reports:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@time_machine.travel(NOW, tick=False)
def test_tables_export_to_excel_with_the_same_filters(cast, year_2025):
    client = cast.client("reviewer")
    for table, sheet in (
        ("heatmap", "三会一课"),
        ("branches", "支部"),
        ("at_risk", "预警党员"),
        ("months", "按月参与率"),
    ):
        response = client.get(
            reverse("reports:dashboard_export", kwargs={"table": table}),
            {"org": "JG-01", "year": 2025},
        )
        assert response.status_code == 200
        wb = load_workbook(io.BytesIO(response.content))
        assert sheet in wb.sheetnames
    heat = load_workbook(
        io.BytesIO(
            client.get(
                reverse("reports:dashboard_export", kwargs={"table": "heatmap"}),
                {"org": "JG", "year": 2025},
            ).content
        )
    )
    rows = list(heat["三会一课"].values)[1:]  # under the title row
    assert rows[0][:3] == ("编码", "党支部", "1月")
    assert {r[0] for r in rows[1:]} == {"JG-01-01", "JG-01-02"}
    assert (
        client.get(
            reverse("reports:dashboard_export", kwargs={"table": "nope"}), {"org": "JG"}
        ).status_code
        == 404
    )
    assert (
        cast.client("secretary_b")
        .get(reverse("reports:dashboard_export", kwargs={"table": "heatmap"}), {"org": "JG"})
        .status_code
        == 404
    )


@time_machine.travel(NOW, tick=False)
def test_attendance_register_is_members_by_sessions(cast, year_2025):
    response = cast.client("secretary_a").get(
        reverse("reports:attendance_register", kwargs={"code": "JG-01-01"}), {"year": 2025}
    )
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.values)[1:]  # under the title row
    assert rows[0][:3] == ("编号", "姓名", "组织") and len(rows[0]) == 3 + 6 + 5
    member = next(r for r in rows if r[0] == "A002")
    assert member[3:9].count("缺席") == 4 and member[-2] == 4 and member[-1] == 4.0
    assert (
        cast.client("secretary_b")
        .get(reverse("reports:attendance_register", kwargs={"code": "JG-01-01"}))
        .status_code
        == 404
    )


_QUERIES: dict[int, int] = {}


@pytest.mark.parametrize("branches", [10, 500])
def test_dashboard_queries_do_not_grow_with_the_tree(
    db, monkeypatch, django_assert_max_num_queries, branches
):
    from assessments.apps import _refresh_demo

    monkeypatch.setattr("branches.demo.EXTENSIONS", [_refresh_demo])
    seed_demo(
        branches=branches, members_per_branch=1, groups_per_branch=1, today=dt.date(2026, 11, 21)
    )
    client = Client()
    client.post("/accounts/login/", {"username": "reviewer", "password": "demo12345"})
    root = Organization.objects.get(code="JG")
    with django_assert_max_num_queries(22) as captured:
        response = client.get(reverse("reports:dashboard"), {"org": root.code, "year": 2026})
    data = response.context["data"]
    assert data.branch_count == branches
    assert len(data.heat_branches) == min(branches, HEATMAP_ROWS)
    _QUERIES[branches] = len(captured.captured_queries)
    if len(_QUERIES) == 2:
        assert _QUERIES[10] == _QUERIES[500]


@time_machine.travel(NOW, tick=False)
def test_a_scheduled_session_without_attendance_does_not_pull_participation_down(cast, year_2025):
    from tests.factories import make_session

    make_session(refreshed(cast.branch_b), date=dt.date(2025, 12, 28))
    refresh_subtree(root=refreshed(cast.root), year=2025)
    data = get(cast.client("reviewer"), org="JG").context["data"]
    assert data.participation_by_month[11] == 1.0  # December's rated sessions were all attended


@time_machine.travel(NOW, tick=False)
def test_verdict_pages_export_to_excel(cast, year_2025):
    client = cast.client("reviewer")
    wb = load_workbook(
        io.BytesIO(
            client.get(
                reverse("reports:org_verdicts_xlsx", kwargs={"code": "JG-01-01"}), {"year": 2025}
            ).content
        )
    )
    rules = {r[0]: r for r in wb["规则"].values}
    assert (
        rules["FJ-B1"][2] == "未达标"
        and rules["FJ-B1"][3] == "6 次"
        and "不少于12次" in rules["FJ-B1"][9]
    )
    assert {r[0] for r in list(wb["党员"].values)[2:]} == {"A001", "A002"}
    grid = load_workbook(
        io.BytesIO(
            client.get(
                reverse("reports:overview_xlsx", kwargs={"code": "JG"}),
                {"year": 2025, "sort": "FJ-B1"},
            ).content
        )
    )
    assert [r[0] for r in list(grid["支部"].values)[2:]] == ["JG-01-01", "JG-01-02"]
    member = load_workbook(
        io.BytesIO(
            client.get(
                reverse("reports:member_verdicts_xlsx", kwargs={"member_no": "A002"}),
                {"year": 2025},
            ).content
        )
    )
    assert member["无故缺席"].max_row == 2 + 4  # title, header, the absences
    for name, kwargs in (
        ("reports:org_verdicts_xlsx", {"code": "JG-01-01"}),
        ("reports:member_verdicts_xlsx", {"member_no": "A002"}),
    ):
        assert cast.client("secretary_b").get(reverse(name, kwargs=kwargs)).status_code == 404


def test_annual_progress_without_redis_is_not_a_server_error(monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from reports import selectors

    def broken(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(selectors.cache, "get", broken)
    assert selectors.run_progress("") is None
    assert selectors.run_progress("some-run") is None
