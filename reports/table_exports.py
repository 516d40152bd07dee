"""Excel downloads of the table pages that had none: the member list, 评选, the audit trail
and the theory exams. Each answers exactly who its page answers (404 otherwise) and reads
the rows through the same selector as its page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from assessments.models import ExamScore, Selection
from assessments.selectors import assessment_for, audit_trail, rank_branches, rank_members
from attendance.views import _year
from branches.filters import member_list_filter
from branches.models import Organization
from branches.selectors import organizations_visible_to, scope_for
from common.downloads import xlsx_response
from common.xlsx import DATE, DATETIME, INTEGER, NUMBER, Column, Sheet
from portal.db_router import use_replica

from .exports import org_export, org_title

# The page lists the latest 100 changes; the export the latest of these, per kind of record.
AUDIT_EXPORT_LIMIT = 5000


def _reviewed_org(request: HttpRequest, code: str) -> Organization:
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    if not scope_for(request.user).can_review_path(org.path):
        raise Http404
    return org


@login_required
@use_replica
def member_list_xlsx(request: HttpRequest) -> HttpResponse:
    """The member list with the page's filters; mobile and ID numbers masked, as listed."""
    if not scope_for(request.user).is_staff_like:
        raise Http404
    members = member_list_filter(request.user, request.GET).qs.order_by("member_no")
    rows = [
        [
            m.member_no,
            m.name,
            "、".join(ms.organization.name for ms in m.current_memberships) or "已转出",
            "、".join(r.kind for r in m.current_roles),
            m.category,
            m.mobile_masked,
            m.id_number_masked,
        ]
        for m in members
    ]
    columns = [
        Column("编号"),
        Column("姓名"),
        Column("所在组织"),
        Column("职务"),
        Column("类别"),
        Column("手机"),
        Column("身份证号"),
    ]
    today = timezone.localdate()
    where = request.GET.get("org", "").strip()
    org = organizations_visible_to(request.user).filter(code=where).first() if where else None
    title = (
        f"{org.name}（{org.code}） 党员名单 {today:%Y-%m-%d}"
        if org
        else f"党员名单 {today:%Y-%m-%d}"
    )
    name = f"{org.code}-{today:%Y-%m-%d}" if org else f"{today:%Y-%m-%d}"
    return xlsx_response(
        [Sheet("党员", columns, rows, title=title)],
        title=title,
        filename=f"党员名单-{name}.xlsx",
        ascii_name=f"members-{name}.xlsx",
    )


@login_required
@use_replica
def selection_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    """评选: branches and members in rank order with their scores, whether they may be
    proposed and why not, and the confirmed result when there is one."""
    org = _reviewed_org(request, code)
    year = _year(request)
    assessment = assessment_for(organization=org, year=year)
    confirmed = Selection.objects.filter(organization=org, year=year).first()
    chosen_orgs: set[int] = set()
    chosen_members: set[int] = set()
    if confirmed is not None:
        for org_id, member_id in confirmed.entries.values_list("organization_id", "member_id"):
            if org_id:
                chosen_orgs.add(org_id)
            else:
                chosen_members.add(member_id)
    done = "已确认" if confirmed else "未确认"
    org_rows = [
        [
            n,
            r.subject.organization.code,
            r.subject.organization.name,
            r.score,
            r.eligible,
            r.subject.organization.pk in chosen_orgs if confirmed else "",
            "；".join(r.why_not),
        ]
        for n, r in enumerate(rank_branches(assessment), start=1)
    ]
    member_rows = [
        [
            n,
            r.subject.member.member_no,
            r.subject.member.name,
            r.subject.organization.name,
            r.score,
            r.eligible,
            r.subject.member.id in chosen_members if confirmed else "",
            "；".join(r.why_not),
        ]
        for n, r in enumerate(rank_members(assessment), start=1)
    ]
    title = org_title(org, f"{year}年", f"评选（{done}）")
    return org_export(
        org,
        period=year,
        what="评选",
        slug="selection",
        sheets=[
            Sheet(
                "优秀学习型党组织",
                [
                    Column("排名", INTEGER),
                    Column("编码"),
                    Column("党支部"),
                    Column("得分", NUMBER),
                    Column("可推荐"),
                    Column("入选"),
                    Column("不予推荐的原因", wrap=True, width=40),
                ],
                org_rows,
                title=title,
            ),
            Sheet(
                "优秀学习型党员",
                [
                    Column("排名", INTEGER),
                    Column("编号"),
                    Column("姓名"),
                    Column("所在组织"),
                    Column("得分", NUMBER),
                    Column("可推荐"),
                    Column("入选"),
                    Column("不予推荐的原因", wrap=True, width=40),
                ],
                member_rows,
                title=title,
            ),
        ],
    )


@login_required
@use_replica
def audit_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    """The audit trail of a reviewer's subtree, newest first."""
    org = _reviewed_org(request, code)
    rows = [
        [
            r["when"],
            (r["who"].first_name or r["who"].username) if r["who"] else "系统",
            r["what"],
            r["action"],
            r["member"].name if r["member"] else "",
            r["member"].member_no if r["member"] else "",
            r["detail"],
            r["reason"],
        ]
        for r in audit_trail(organization=org, limit=AUDIT_EXPORT_LIMIT)
    ]
    columns = [
        Column("时间", DATETIME),
        Column("操作人"),
        Column("类别"),
        Column("动作"),
        Column("党员"),
        Column("党员编号"),
        Column("内容", wrap=True, width=40),
        Column("说明", wrap=True, width=30),
    ]
    today = timezone.localdate()
    title = org_title(org, f"截至{today:%Y-%m-%d}", "变更记录")
    return org_export(
        org,
        period=f"{today:%Y-%m-%d}",
        title_period=f"截至{today:%Y-%m-%d}",
        what="变更记录",
        slug="audit",
        sheets=[Sheet("变更记录", columns, rows, title=title)],
    )


@login_required
@use_replica
def exams_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    """The scores of an organization's theory exams, one row per member and exam: for its
    committee and reviewers (a member sees the exam list, not the others' scores)."""
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    scope = scope_for(request.user)
    if not (scope.can_write_path(org.path) or scope.can_review_path(org.path)):
        raise Http404
    scores = (
        ExamScore.objects.filter(exam__organization=org)
        .order_by("-exam__date", "exam__title", "member__member_no")
        .values_list(
            "exam__date",
            "exam__title",
            "exam__full_marks",
            "member__member_no",
            "member__name",
            "score",
        )
    )
    columns = [
        Column("日期", DATE),
        Column("考试"),
        Column("满分", INTEGER),
        Column("编号"),
        Column("姓名"),
        Column("成绩", NUMBER),
    ]
    today = timezone.localdate()
    title = org_title(org, f"截至{today:%Y-%m-%d}", "理论考试成绩")
    return org_export(
        org,
        period=f"{today:%Y-%m-%d}",
        title_period=f"截至{today:%Y-%m-%d}",
        what="理论考试成绩",
        slug="exams",
        sheets=[Sheet("成绩", columns, scores.iterator(chunk_size=2000), title=title)],
    )
