"""The verdict pages' tables as Excel, with the same organization, year and sort."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from assessments.presenters import eligibility_label
from assessments.selectors import absences, assessment_for, enrolment_in_year
from assessments.views import _sort_key
from attendance.views import _year
from branches.selectors import members_visible_to, organizations_visible_to
from common.downloads import xlsx_response
from common.xlsx import DATE, INTEGER, NUMBER, PERCENT, Column, Sheet
from portal.db_router import use_replica

from .exports import org_export, org_title

RULE_COLUMNS = [
    Column("规则"),
    Column("要求", wrap=True, width=30),
    Column("结果"),
    Column("实际", wrap=True, width=20),
    Column("标准", wrap=True, width=20),
    Column("说明", wrap=True, width=24),
    Column("缺少的月份/季度", wrap=True, width=20),
    Column("进度预测"),
    Column("后果", wrap=True, width=20),
    Column("原文", wrap=True, width=50),
]


def _rule_rows(verdicts) -> list[list]:
    return [
        [
            v.rule_id,
            v.title,
            v.outcome_label,
            v.value,
            v.threshold,
            v.detail,
            "、".join(v.missing),
            v.forecast_label,
            "、".join(v.consequence_labels),
            v.quote,
        ]
        for v in verdicts
    ]


def _login_required(request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise Http404


@use_replica
def org_verdicts_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    _login_required(request)
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    year = _year(request)
    a = assessment_for(organization=org, year=year)
    result = a.org(org.code)
    members = [
        [
            m.member.member_no,
            m.member.name,
            m.organization.name,
            m.unexcused_absences,
            m.attendance.get("expected", 0),
            m.attendance.get("attended", 0),
            eligibility_label(m.excellent_eligible),
            " ".join(v.rule_id for v in m.verdicts if v.outcome == "not_met"),
        ]
        for m in a.members
        if m.organization.path.startswith(org.path)
    ]
    title = org_title(org, f"{year}年", "考评")
    member_columns = [
        Column("编号"),
        Column("姓名"),
        Column("组织"),
        Column("无故缺席", INTEGER),
        Column("应到", INTEGER),
        Column("实到", INTEGER),
        Column("可评优秀"),
        Column("未达标规则"),
    ]
    return org_export(
        org,
        period=year,
        what="考评",
        slug="verdicts",
        sheets=[
            Sheet("规则", RULE_COLUMNS, _rule_rows(result.verdicts), title=title),
            Sheet("党员", member_columns, members, title=title),
        ],
    )


@use_replica
def overview_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    _login_required(request)
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    year = _year(request)
    a = assessment_for(organization=org, year=year)
    branches = sorted(
        (r for r in a.organizations if r.organization.type == "党支部"),
        key=_sort_key(request.GET.get("sort", "")),
    )
    rule_ids = sorted({v.rule_id for r in branches for v in r.verdicts})
    rows = []
    for r in branches:
        by_id = {v.rule_id: v for v in r.verdicts}
        rows.append(
            [
                r.organization.code,
                r.organization.name,
                r.study_sessions,
                r.avg_participation,
                "达标" if r.five_good else "不达标",
                *[by_id[rid].outcome_label if rid in by_id else "" for rid in rule_ids],
            ]
        )
    columns = [
        Column("编码"),
        Column("党支部"),
        Column("学习次数", INTEGER),
        Column("平均参与率", PERCENT),
        Column("五好"),
        *[Column(rid) for rid in rule_ids],
    ]
    title = org_title(org, f"{year}年", "考评总览")
    return org_export(
        org,
        period=year,
        what="考评总览",
        slug="overview",
        sheets=[Sheet("支部", columns, rows, title=title)],
    )


@use_replica
def member_verdicts_xlsx(request: HttpRequest, member_no: str) -> HttpResponse:
    _login_required(request)
    member = get_object_or_404(members_visible_to(request.user), member_no=member_no)
    year = _year(request)
    enrolment = enrolment_in_year(member=member, year=year)
    if enrolment is None:
        raise Http404
    a = assessment_for(organization=enrolment.organization, year=year)
    result = a.member(member.member_no)
    profile = a.profiles.get(result.profile)
    dates = [
        [
            e.session.date,
            e.session.topic,
            e.session.organization.name,
            e.session.hours,
            "是" if getattr(e, "makeup", None) else "否",
        ]
        for e in absences(
            member=member,
            year=year,
            study_types=(profile.options if profile else {}).get("study_types", []),
        )
    ]
    title = f"{member.name}（{member.member_no}） {year}年 党员考评"
    absence_columns = [
        Column("日期", DATE),
        Column("主题", wrap=True, width=40),
        Column("组织"),
        Column("学时", NUMBER),
        Column("已补课"),
    ]
    name = f"{member.member_no}-{year}"
    return xlsx_response(
        [
            Sheet("规则", RULE_COLUMNS, _rule_rows(result.verdicts), title=title),
            Sheet("无故缺席", absence_columns, dates, title=title),
        ],
        title=title,
        filename=f"党员考评-{name}.xlsx",
        ascii_name=f"member-verdicts-{name}.xlsx",
    )
