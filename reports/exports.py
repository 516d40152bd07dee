"""What every export of reports/ shares: the title and the names of the download, through the
one writer (common.xlsx) and the one download helper (common.downloads)."""

from __future__ import annotations

from django.http import HttpResponse

from assessments.presenters import OUTCOME_LABELS
from branches.models import Organization
from common.downloads import xlsx_response
from common.xlsx import Sheet, export_title


def outcome_label(outcome: str | None) -> str:
    """达标 / 未达标 / 不适用 for an engine outcome code; empty where no verdict exists."""
    return OUTCOME_LABELS.get(outcome, outcome) if outcome else ""


def org_title(org: Organization, period: str, what: str) -> str:
    return export_title(organization=org.name, code=org.code, period=period, what=what)


def org_export(
    org: Organization,
    *,
    period: str | int,
    what: str,
    slug: str,
    sheets: list[Sheet],
    title_period: str | None = None,
) -> HttpResponse:
    """An organization's tables as a workbook named "<what>-<code>-<period>.xlsx", with the
    ASCII fallback "<slug>-<code>-<period>.xlsx" for clients that ignore filename*. The
    title says "<period>年" unless title_period is given."""
    name = f"{org.code}-{period}"
    return xlsx_response(
        sheets,
        title=org_title(org, title_period or f"{period}年", what),
        filename=f"{what}-{name}.xlsx",
        ascii_name=f"{slug}-{name}.xlsx",
    )
