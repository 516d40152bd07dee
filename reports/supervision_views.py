"""The bimonthly supervision report (督导报告) as Excel and PDF."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone

from assessments.models import CheckStatus
from assessments.supervision import period_checks
from branches.models import Organization
from branches.selectors import organizations_visible_to, scope_for
from common.downloads import file_response
from common.xlsx import DATE, Column, Sheet

from .exports import org_export, org_title


def _org_and_start(request: HttpRequest, code: str) -> tuple[Organization, dt.date]:
    if not request.user.is_authenticated:
        raise Http404
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    if not scope_for(request.user).can_review_path(org.path):
        raise Http404
    try:
        start = dt.date.fromisoformat(request.GET.get("start", "") + "-01")
    except ValueError:
        today = timezone.localdate()
        start = today.replace(day=1, month=today.month - (today.month - 1) % 2)
    return org, start


def _rows(checks) -> list[list]:
    return [
        [
            f"{c.sample.month:%Y-%m}",
            c.branch.code,
            c.branch.name,
            c.status,
            c.checked_on,
            "、".join(c.looked_at),
            c.findings,
            c.rectify_by,
            c.answer,
        ]
        for c in checks
    ]


COLUMNS = [
    Column("月份"),
    Column("支部编码"),
    Column("党支部"),
    Column("状态"),
    Column("检查日期", DATE),
    Column("检查内容", wrap=True, width=24),
    Column("发现的问题", wrap=True, width=36),
    Column("整改期限", DATE),
    Column("整改答复", wrap=True, width=36),
]


def _period(start: dt.date) -> str:
    """The two months a report covers: "2025年3–4月"."""
    return f"{start.year}年{start.month}–{start.month + 1}月"


def supervision_report_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    org, start = _org_and_start(request, code)
    checks = list(period_checks(organization=org, start=start))
    open_rows = [
        r
        for r, c in zip(_rows(checks), checks, strict=True)
        if c.status in (CheckStatus.CHECKED, CheckStatus.ANSWERED)
    ]
    title = org_title(org, _period(start), "督导报告")
    return org_export(
        org,
        period=f"{start:%Y-%m}",
        title_period=_period(start),
        what="督导报告",
        slug="supervision",
        sheets=[
            Sheet("督导检查", COLUMNS, _rows(checks), title=title),
            Sheet("未销号问题", COLUMNS, open_rows, title=title),
        ],
    )


def supervision_report_pdf(request: HttpRequest, code: str) -> HttpResponse:
    from common.pdf import render_pdf, static_text  # WeasyPrint loads slowly

    org, start = _org_and_start(request, code)
    checks = list(period_checks(organization=org, start=start))
    html = render_to_string(
        "reports/supervision_pdf.html",
        {
            "org": org,
            "start": start,
            "checks": checks,
            "generated": timezone.localtime(),
            "open": [c for c in checks if c.status in (CheckStatus.CHECKED, CheckStatus.ANSWERED)],
            "checked": sum(1 for c in checks if c.status != CheckStatus.PENDING),
        },
    )
    pdf = render_pdf(html, stylesheets=[static_text("css/supervision_pdf.css")])
    name = f"{org.code}-{start:%Y-%m}"
    return file_response(pdf, filename=f"督导报告-{name}.pdf", ascii_name=f"supervision-{name}.pdf")
