"""The quarterly 学习考勤通报 (JF-K1): the organization's page (quarters, preview, issue) and
the archived PDF. Visible to whoever may see the organization; issued by its committee or
by a reviewer of the 机关党委 above it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assessments.models import AttendanceNotice
from branches.models import OrgType
from branches.selectors import organizations_visible_to
from common.downloads import content_disposition

from . import services
from .notices import QUARTER_NAMES, build_notice, quarter_bounds


def _org(request: HttpRequest, code: str):
    return get_object_or_404(
        organizations_visible_to(request.user).exclude(type=OrgType.GROUP), code=code
    )


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    today = timezone.localdate()
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= today.year else today.year


@login_required
def notices(request: HttpRequest, code: str) -> HttpResponse:
    org = _org(request, code)
    year = _year(request)
    today = timezone.localdate()
    issued = {n.quarter: n for n in AttendanceNotice.objects.filter(organization=org, year=year)}
    quarters = []
    for q in range(1, 5):
        quarters.append(
            {
                "quarter": q,
                "name": QUARTER_NAMES[q],
                "over": quarter_bounds(year, q)[1] < today,
                "notice": issued.get(q),
            }
        )
    preview_q = int(request.GET.get("q", "0") or 0)
    preview = (
        build_notice(organization=org, year=year, quarter=preview_q)
        if 1 <= preview_q <= 4
        else None
    )
    return render(
        request,
        "reports/notices.html",
        {
            "org": org,
            "year": year,
            "quarters": quarters,
            "preview": preview,
            "can_issue": services.notice_issuer(organization=org, by=request.user) is not None,
        },
    )


@login_required
@require_POST
def notice_issue(request: HttpRequest, code: str) -> HttpResponse:
    org = _org(request, code)
    year = _year(request)
    try:
        quarter = int(request.POST.get("quarter", ""))
    except ValueError:
        quarter = 0
    try:
        services.attendance_notice_issue(
            organization=org, year=year, quarter=quarter, by=request.user
        )
    except services.NoticeRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已发布%(y)s年第%(q)s季度学习考勤通报并存档。") % {"y": year, "q": quarter},
        )
    return redirect(f"{reverse('reports:notices', args=[org.code])}?year={year}")


@login_required
def notice_pdf(request: HttpRequest, pk: int) -> FileResponse:
    visible = organizations_visible_to(request.user)
    notice = get_object_or_404(AttendanceNotice.objects.filter(organization__in=visible), pk=pk)
    name = _("%(org)s%(y)s年第%(q)s季度学习考勤通报.pdf") % {
        "org": notice.organization.name,
        "y": notice.year,
        "q": notice.quarter,
    }
    response = FileResponse(notice.pdf.open("rb"), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(
        name, f"notice-{notice.organization.code}-{notice.year}-Q{notice.quarter}.pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response
