"""The annual summary on screen, as PDF and as a workbook, and a member's 学习档案 as PDF.

Access goes through the branches selectors, as everywhere:
- an organization's summary: whoever may see the organization (its committee and the
  committees above it, its reviewers, administrators); anyone else gets a 404;
- a member's 学习档案: the member, and whoever may see the member (members_visible_to: the
  committee of a branch the member is or was on the roll of, or of an organization above
  it, reviewers of those, administrators). That is the same rule as the 学习档案 page
  (attendance.views.member_archive), so the PDF shows nobody more than the page does; a
  former member stays visible so that the archive of a past year can still be printed.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.selectors import (
    members_visible_to,
    organizations_editable_by,
    organizations_visible_to,
)
from common.downloads import PDF_CONTENT_TYPE, file_response
from common.xlsx import XLSX_CONTENT_TYPE
from portal.db_router import use_replica

from .excel import summary_workbook
from .summary import build_member_archive, build_summary

MIN_YEAR, MAX_YEAR = 2000, 2100
PDF = PDF_CONTENT_TYPE
XLSX = XLSX_CONTENT_TYPE


class BadYear(ValueError):
    pass


def _year(request: HttpRequest, *, default: int) -> int:
    raw = request.GET.get("year", "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not MIN_YEAR <= int(raw) <= MAX_YEAR:
        raise BadYear(raw)
    return int(raw)


def _bad_year() -> HttpResponse:
    return HttpResponseBadRequest(
        _("年份无效：请填写 %(lo)s 至 %(hi)s 之间的四位数年份，例如 ?year=%(eg)s。")
        % {"lo": MIN_YEAR, "hi": MAX_YEAR, "eg": timezone.localdate().year - 1},
        content_type="text/plain; charset=utf-8",
    )


def _last_year() -> int:
    # The summary is written in January about the year just ended.
    return timezone.localdate().year - 1


def _download(body: bytes, content_type: str, filename: str, fallback: str) -> HttpResponse:
    return file_response(body, filename=filename, ascii_name=fallback, content_type=content_type)


def _summary_request(request: HttpRequest, code: str):
    organization = get_object_or_404(organizations_visible_to(request.user), code=code)
    year = _year(request, default=_last_year())
    return organization, year


def _summary_name(code: str, year: int, ext: str) -> tuple[str, str]:
    return f"{_('学习情况总结')}-{code}-{year}.{ext}", f"summary-{code}-{year}.{ext}"


@login_required
@use_replica
def summary_preview(request: HttpRequest, code: str) -> HttpResponse:
    try:
        organization, year = _summary_request(request, code)
    except BadYear:
        return _bad_year()
    data = build_summary(organization=organization, year=year)
    return render(
        request,
        "reports/summary.html",
        {
            "d": data,
            "org": organization,
            "year": year,
            "can_write": organizations_editable_by(request.user)
            .filter(pk=organization.pk)
            .exists(),
        },
    )


@login_required
@use_replica
def summary_pdf(request: HttpRequest, code: str) -> HttpResponse:
    try:
        organization, year = _summary_request(request, code)
    except BadYear:
        return _bad_year()
    from .pdf import render_summary_pdf  # WeasyPrint loads slowly; only PDF views need it

    body = render_summary_pdf(organization=organization, year=year)
    return _download(body, PDF, *_summary_name(organization.code, year, "pdf"))


@login_required
@use_replica
def summary_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    try:
        organization, year = _summary_request(request, code)
    except BadYear:
        return _bad_year()
    body = summary_workbook(build_summary(organization=organization, year=year))
    return _download(body, XLSX, *_summary_name(organization.code, year, "xlsx"))


@login_required
@use_replica
def member_archive_pdf(request: HttpRequest, member_no: str) -> HttpResponse:
    member = get_object_or_404(members_visible_to(request.user), member_no=member_no)
    try:
        year = _year(request, default=timezone.localdate().year)
    except BadYear:
        return _bad_year()
    from .pdf import member_archive_pdf_bytes

    body = member_archive_pdf_bytes(build_member_archive(member=member, year=year))
    return _download(
        body,
        PDF,
        f"{_('学习档案')}-{member.member_no}-{year}.pdf",
        f"archive-{member.member_no}-{year}.pdf",
    )
