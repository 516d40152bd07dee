"""The verdict pages' tables as Excel, with the same organization, year and sort."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from assessments.presenters import eligibility_label
from assessments.selectors import absences, assessment_for, enrolment_in_year
from assessments.views import _sort_key
from attendance.views import _year
from branches.selectors import members_visible_to, organizations_visible_to
from portal.db_router import use_replica

from .dashboard_views import _xlsx

RULE_HEADERS = [
    "规则",
    "要求",
    "结果",
    "实际",
    "标准",
    "说明",
    "缺少的月份/季度",
    "进度预测",
    "后果",
    "原文",
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
    return _xlsx(
        f"考评-{org.code}-{year}.xlsx",
        {
            "规则": (RULE_HEADERS, _rule_rows(result.verdicts)),
            "党员": (
                ["编号", "姓名", "组织", "无故缺席", "应到", "实到", "可评优秀", "未达标规则"],
                members,
            ),
        },
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
                None if r.avg_participation is None else round(r.avg_participation, 4),
                "达标" if r.five_good else "不达标",
                *[by_id[rid].outcome_label if rid in by_id else "" for rid in rule_ids],
            ]
        )
    return _xlsx(
        f"考评总览-{org.code}-{year}.xlsx",
        {"支部": (["编码", "党支部", "学习次数", "平均参与率", "五好", *rule_ids], rows)},
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
    return _xlsx(
        f"党员考评-{member.member_no}-{year}.xlsx",
        {
            "规则": (RULE_HEADERS, _rule_rows(result.verdicts)),
            "无故缺席": (["日期", "主题", "组织", "学时", "已补课"], dates),
        },
    )
