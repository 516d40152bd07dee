"""The reviewer dashboard with drill-down, and its tables as Excel."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from attendance.models import AttendanceEntry, StudySession
from attendance.selectors import held_q
from attendance.views import _year
from branches.models import Organization
from branches.selectors import organizations_visible_to, scope_for
from portal.db_router import use_replica

from .dashboard import (
    DASHBOARD_CACHE_SECONDS,
    MONTHS,
    cache_get,
    cache_set,
    dashboard_cache_key,
    dashboard_data,
)

MAX_REGISTER_SESSIONS = 400


def _reviewed_org(request: HttpRequest) -> Organization:
    """The organization asked for (?org=CODE), or the user's first reviewed one; reviewers
    and administrators only."""
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.review_paths):
        raise Http404
    code = request.GET.get("org")
    if code:
        org = get_object_or_404(organizations_visible_to(request.user), code=code)
    elif scope.is_admin:
        org = Organization.objects.get_root_nodes().first()
        if org is None:
            raise Http404
    else:
        org = Organization.objects.filter(path=scope.review_paths[0]).first()
    if org is None or not scope.can_review_path(org.path):
        raise Http404
    return org


@use_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    org = _reviewed_org(request)
    year = _year(request)
    ancestors = [
        a
        for a in Organization.objects.get_ancestors(org)
        if scope_for(request.user).can_review_path(a.path)
    ]
    key = dashboard_cache_key(org, year)
    body = cache_get(key) if key else None
    if body is None:
        body = _dashboard_body(org, year)
        if key:
            cache_set(key, body, DASHBOARD_CACHE_SECONDS)
    return render(
        request,
        "reports/dashboard.html",
        {"org": org, "year": year, "ancestors": ancestors, "body": body},
    )


def _dashboard_body(org: Organization, year: int) -> str:
    data = dashboard_data(organization=org, year=year)
    chart = {
        "months": [f"{m}月" for m in MONTHS],
        "participation": [
            None if v is None else round(v * 100, 1) for v in data.participation_by_month
        ],
        "participation_last": [
            None if v is None else round(v * 100, 1) for v in data.participation_last_year
        ],
        "types": list(data.sessions_by_type.keys()),
        "type_counts": list(data.sessions_by_type.values()),
        "rules": [rid for rid, _, _ in data.rule_shares],
        "rule_shares": [round(100 * met / n, 1) if n else None for _, met, n in data.rule_shares],
        "year": year,
    }
    return render_to_string(
        "reports/_dashboard_body.html",
        {
            "data": data,
            "org": org,
            "year": year,
            "chart": chart,
            "months": MONTHS,
            # At most the heat map's rows (those at risk come first there); the count says
            # how many there are in all.
            "at_risk_branches": [b for b in data.heat_branches if b.at_risk],
        },
    )


def _xlsx(filename: str, sheets: dict[str, tuple[list[str], list[list]]]) -> HttpResponse:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, (headers, rows) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(headers)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@use_replica
def dashboard_export(request: HttpRequest, table: str) -> HttpResponse:
    """Every table of the dashboard as Excel, with the same organization and year."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    org = _reviewed_org(request)
    year = _year(request)
    data = dashboard_data(organization=org, year=year, heat_limit=None)
    name = f"{org.code}-{year}"
    if table == "heatmap":
        headers = ["编码", "党支部", *[f"{m}月" for m in MONTHS]]
        rows = [
            [
                b.organization.code,
                b.organization.name,
                *[
                    (
                        c.symbol
                        + (" 缺：" + "、".join(c.missing) if c.missing and not c.future else "")
                    )
                    for c in b.cells
                ],
            ]
            for b in data.heat_branches
        ]
        return _xlsx(f"三会一课热力图-{name}.xlsx", {"三会一课": (headers, rows)})
    if table == "branches":
        rule_ids = [rid for rid, _, _ in data.rule_shares]
        headers = [
            "编码",
            "党支部",
            "上级组织",
            "集体学习次数",
            "平均参与率",
            "五好党支部",
            *rule_ids,
        ]
        rows = []
        for b in data.branches:
            s = b.snapshot
            outcomes = s.outcomes if s else {}
            rows.append(
                [
                    b.organization.code,
                    b.organization.name,
                    b.parent.name if b.parent else "",
                    s.study_sessions if s else None,
                    round(s.avg_participation, 4)
                    if s and s.avg_participation is not None
                    else None,
                    ("达标" if s.five_good else "不达标") if s else "",
                    *[outcomes.get(rid, "") for rid in rule_ids],
                ]
            )
        return _xlsx(f"支部考评-{name}.xlsx", {"支部": (headers, rows)})
    if table == "at_risk":
        headers = ["编号", "姓名", "组织", "无故缺席次数"]
        rows = [
            [m.member.member_no, m.member.name, m.organization.name, m.unexcused_absences]
            for m in data.members_at_risk
        ]
        return _xlsx(f"优秀资格预警-{name}.xlsx", {"预警党员": (headers, rows)})
    if table == "months":
        headers = ["月份", "平均参与率", "上年同期"]
        rows = [
            [f"{m}月", data.participation_by_month[m - 1], data.participation_last_year[m - 1]]
            for m in MONTHS
        ]
        types = [[t, n] for t, n in data.sessions_by_type.items()]
        return _xlsx(
            f"参与率与活动-{name}.xlsx",
            {"按月参与率": (headers, rows), "活动类型": (["类型", "次数"], types)},
        )
    raise Http404


@use_replica
def attendance_register(request: HttpRequest, code: str) -> HttpResponse:
    """Members × sessions of an organization's subtree for a year, with 学时."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    year = _year(request)
    # Only sessions that took place (RULES.md 2a): a scan before the roll is saved is no roll.
    sessions = list(
        StudySession.objects.filter(
            held_q(), organization__path__startswith=org.path, date__year=year
        )
        .select_related("organization")
        .order_by("date", "start_time")[: MAX_REGISTER_SESSIONS + 1]
    )
    if len(sessions) > MAX_REGISTER_SESSIONS:
        return HttpResponseBadRequest(
            _("该组织全年活动超过 %(n)d 次，请按党支部分别导出考勤登记簿")
            % {"n": MAX_REGISTER_SESSIONS},
            content_type="text/plain; charset=utf-8",
        )
    entries = AttendanceEntry.objects.filter(session__in=sessions).values_list(
        "session_id",
        "member_id",
        "status",
        "member__member_no",
        "member__name",
        "organization__name",
    )
    status, who = {}, {}
    for session_id, member_id, st, no, name, org_name in entries:
        status[(session_id, member_id)] = st
        # The enrolment on the latest session wins: sessions come in date order.
        who[member_id] = (no, name, org_name or "")
    headers = [
        "编号",
        "姓名",
        "组织",
        *[f"{s.date:%m-%d} {s.type}（{s.hours}学时）" for s in sessions],
        "出席",
        "迟到",
        "请假",
        "缺席",
        "参加学时",
    ]
    rows = []
    for member_id, (no, name, org_name) in sorted(who.items(), key=lambda kv: kv[1][0]):
        cells = [status.get((s.pk, member_id), "") for s in sessions]
        hours = sum(
            (s.hours for s, c in zip(sessions, cells, strict=True) if c in ("出席", "迟到")),
            start=0,
        )
        rows.append(
            [
                no,
                name,
                org_name,
                *cells,
                cells.count("出席"),
                cells.count("迟到"),
                cells.count("请假"),
                cells.count("缺席"),
                float(hours),
            ]
        )
    return _xlsx(f"考勤登记簿-{org.code}-{year}.xlsx", {"考勤登记簿": (headers, rows)})
