"""The reviewer dashboard with drill-down, and its tables as Excel."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from attendance.models import AttendanceEntry, StudySession
from attendance.selectors import held_q
from attendance.views import _year
from branches.models import Organization
from branches.selectors import organizations_visible_to, scope_for
from common.xlsx import INTEGER, NUMBER, PERCENT, Column, Sheet
from portal.db_router import use_replica

from .dashboard import (
    DASHBOARD_CACHE_SECONDS,
    MONTHS,
    DashboardData,
    cache_get,
    cache_set,
    dashboard_cache_key,
    dashboard_data,
)
from .exports import org_export, org_title, outcome_label

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
            # The charts' numbers as rows, for the tables that stand beside them.
            "participation_rows": list(
                zip(
                    chart["months"],
                    chart["participation"],
                    chart["participation_last"],
                    strict=True,
                )
            ),
            "type_rows": list(data.sessions_by_type.items()),
            "months": MONTHS,
            # At most the heat map's rows (those at risk come first there); the count says
            # how many there are in all.
            "at_risk_branches": [b for b in data.heat_branches if b.at_risk],
        },
    )


@use_replica
def dashboard_export(request: HttpRequest, table: str) -> HttpResponse:
    """Every table of the dashboard as Excel, with the same organization and year."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    org = _reviewed_org(request)
    year = _year(request)
    if table not in DASHBOARD_TABLES:
        raise Http404
    data = dashboard_data(organization=org, year=year, heat_limit=None)
    what, slug, sheets = DASHBOARD_TABLES[table](data)
    title = org_title(org, f"{year}年", what)
    for sheet in sheets:
        sheet.title = title
    return org_export(org, period=year, what=what, slug=slug, sheets=sheets)


def _heatmap_sheets(data: DashboardData) -> tuple[str, str, list[Sheet]]:
    columns = [Column("编码"), Column("党支部"), *[Column(f"{m}月", wrap=True) for m in MONTHS]]
    rows = [
        [
            b.organization.code,
            b.organization.name,
            *[
                c.symbol + (" 缺：" + "、".join(c.missing) if c.missing and not c.future else "")
                for c in b.cells
            ],
        ]
        for b in data.heat_branches
    ]
    return "三会一课热力图", "heatmap", [Sheet("三会一课", columns, rows)]


def _branch_sheets(data: DashboardData) -> tuple[str, str, list[Sheet]]:
    rule_ids = [rid for rid, _, _ in data.rule_shares]
    columns = [
        Column("编码"),
        Column("党支部"),
        Column("上级组织"),
        Column("集体学习次数", INTEGER),
        Column("平均参与率", PERCENT),
        Column("五好党支部"),
        *[Column(rid) for rid in rule_ids],
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
                s.avg_participation if s else None,
                ("达标" if s.five_good else "不达标") if s else "",
                *[outcome_label(outcomes.get(rid)) for rid in rule_ids],
            ]
        )
    return "支部考评", "branches", [Sheet("支部", columns, rows)]


def _at_risk_sheets(data: DashboardData) -> tuple[str, str, list[Sheet]]:
    columns = [Column("编号"), Column("姓名"), Column("组织"), Column("无故缺席次数", INTEGER)]
    rows = [
        [m.member.member_no, m.member.name, m.organization.name, m.unexcused_absences]
        for m in data.members_at_risk
    ]
    return "优秀资格预警", "at-risk", [Sheet("预警党员", columns, rows)]


def _month_sheets(data: DashboardData) -> tuple[str, str, list[Sheet]]:
    columns = [Column("月份"), Column("平均参与率", PERCENT), Column("上年同期", PERCENT)]
    rows = [
        [f"{m}月", data.participation_by_month[m - 1], data.participation_last_year[m - 1]]
        for m in MONTHS
    ]
    types = [[t, n] for t, n in data.sessions_by_type.items()]
    return (
        "参与率与活动",
        "participation",
        [
            Sheet("按月参与率", columns, rows),
            Sheet("活动类型", [Column("类型"), Column("次数", INTEGER)], types),
        ],
    )


DASHBOARD_TABLES = {
    "heatmap": _heatmap_sheets,
    "branches": _branch_sheets,
    "at_risk": _at_risk_sheets,
    "months": _month_sheets,
}


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
    columns = [
        Column("编号"),
        Column("姓名"),
        Column("组织"),
        # Date, type and hours on three lines keep a session's column narrow in print.
        # Date, type and hours on their own lines (the type wraps) keep a session's column
        # as narrow as its statuses, so that a branch's year prints on one page.
        *[Column(f"{s.date:%m-%d}\n{s.type}\n{_hours(s.hours)}学时", width=7) for s in sessions],
        Column("出席", INTEGER),
        Column("迟到", INTEGER),
        Column("请假", INTEGER),
        Column("缺席", INTEGER),
        Column("参加学时", NUMBER),
    ]
    rows = []
    for member_id, (no, name, org_name) in sorted(who.items(), key=lambda kv: kv[1][0]):
        cells = [status.get((s.pk, member_id), "") for s in sessions]
        hours = sum(
            (s.hours for s, c in zip(sessions, cells, strict=True) if c in ("出席", "迟到")),
            start=Decimal(0),
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
                hours,
            ]
        )
    sheet = Sheet("考勤登记簿", columns, rows, title=org_title(org, f"{year}年", "考勤登记簿"))
    return org_export(org, period=year, what="考勤登记簿", slug="register", sheets=[sheet])


def _hours(value: Decimal) -> str:
    """2 for 2.00, 1.5 for 1.50: as the secretary wrote it."""
    return f"{value.normalize():f}"
