"""The bimonthly supervision report (督导报告) as Excel and PDF."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone

from assessments.models import CheckStatus
from assessments.supervision import period_checks
from branches.models import Organization
from branches.selectors import organizations_visible_to, scope_for

from .dashboard_views import _xlsx


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


def supervision_report_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    org, start = _org_and_start(request, code)
    checks = list(period_checks(organization=org, start=start))
    headers = [
        "月份",
        "支部编码",
        "党支部",
        "状态",
        "检查日期",
        "检查内容",
        "发现的问题",
        "整改期限",
        "整改答复",
    ]
    open_rows = [
        r
        for r, c in zip(_rows(checks), checks, strict=True)
        if c.status in (CheckStatus.CHECKED, CheckStatus.ANSWERED)
    ]
    return _xlsx(
        f"督导报告-{org.code}-{start:%Y-%m}.xlsx",
        {"督导检查": (headers, _rows(checks)), "未销号问题": (headers, open_rows)},
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
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"督导报告-{org.code}-{start:%Y-%m}.pdf"
    response["Content-Disposition"] = (
        f"attachment; filename=\"report.pdf\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response
