"""Download of an organization's study ledger (学习台账) for one year."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.privacy import log_access_many
from branches.selectors import members_enrolled_during, organizations_visible_to, scope_for
from common.downloads import file_response

from .ledger_export import MAX_YEAR, MIN_YEAR, export_ledger, parse_year


@login_required
@require_GET
def ledger_export(request: HttpRequest, code: str) -> HttpResponse:
    organization = get_object_or_404(organizations_visible_to(request.user), code=code)
    raw = request.GET.get("year")
    year = timezone.localdate().year if raw is None else parse_year(raw)
    if year is None:
        return HttpResponseBadRequest(
            _("年份「%(y)s」无效，应为 %(min)d 至 %(max)d 之间的四位数字")
            % {"y": raw, "min": MIN_YEAR, "max": MAX_YEAR},
            content_type="text/plain; charset=utf-8",
        )
    # Full mobile numbers only for those who manage the records, as on the member pages.
    personal = scope_for(request.user).can_write_path(organization.path)
    content = export_ledger(organization=organization, year=year, include_personal=personal)
    if personal:
        log_access_many(
            user=request.user,
            members=members_enrolled_during(
                organization=organization, first=dt.date(year, 1, 1), last=dt.date(year, 12, 31)
            ).exclude(mobile=""),
            what=f"学习台账导出 {organization.code} {year}（完整手机号）",
        )
    name = f"{organization.code}-{year}"
    return file_response(
        content, filename=f"学习台账-{name}.xlsx", ascii_name=f"ledger-{name}.xlsx"
    )
