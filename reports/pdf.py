"""PDF rendering of the annual summary and of a member's 学习档案 (WeasyPrint, A4).

The HTML comes from Django templates (the same partial as the screen preview); the print
stylesheet is static/css/summary_pdf.css. Fonts: Noto Sans CJK SC, named explicitly and
embedded as subsets by WeasyPrint. The document fetches nothing: the stylesheet is passed
in as a string and every other URL is refused, so text typed by users can never make the
renderer read a file or call a server.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint.urls import URLFetcher

from branches.models import Member, Organization

from .summary import MemberArchive, SummaryData, build_member_archive, build_summary

STYLESHEET = "css/summary_pdf.css"


class _NoFetcher(URLFetcher):
    """Refuses every URL: the documents are self-contained."""

    def fetch(self, url: str, headers=None):  # type: ignore[override]
        raise ValueError(f"external resources are not allowed in reports: {url}")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def page_number_css() -> str:
    """The footer "第 X 页 / 共 Y 页", translated, as CSS generated content."""
    label = _("第 {page} 页 / 共 {pages} 页")
    parts = []
    for piece in re.split(r"(\{page\}|\{pages\})", label):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    content = " ".join(parts)
    return f"@page {{ @bottom-center {{ content: {content}; }} }}"


@cache
def _stylesheet_text() -> str:
    path = finders.find(STYLESHEET)
    if path is None:
        raise FileNotFoundError(STYLESHEET)
    return Path(path).read_text(encoding="utf-8")


def _write_pdf(html: str) -> bytes:
    stylesheets = [
        weasyprint.CSS(string=_stylesheet_text()),
        weasyprint.CSS(string=page_number_css()),
    ]
    document = weasyprint.HTML(
        string=html, base_url=str(settings.BASE_DIR / "static"), url_fetcher=_NoFetcher()
    )
    return document.write_pdf(stylesheets=stylesheets)


def _render(template: str, context: dict) -> bytes:
    # The documents are Chinese whatever language the request (or the worker) runs in.
    with translation.override(settings.LANGUAGE_CODE):
        return _write_pdf(render_to_string(template, context))


def summary_pdf_bytes(data: SummaryData) -> bytes:
    return _render("reports/summary_pdf.html", {"d": data})


def render_summary_pdf(*, organization: Organization, year: int) -> bytes:
    """The annual summary of the organization for the year, as a PDF."""
    return summary_pdf_bytes(build_summary(organization=organization, year=year))


def member_archive_pdf_bytes(archive: MemberArchive) -> bytes:
    return _render("reports/archive_pdf.html", {"a": archive})


def render_member_archive_pdf(*, member: Member, year: int) -> bytes:
    """The member's 学习档案 for the year, as a PDF."""
    return member_archive_pdf_bytes(build_member_archive(member=member, year=year))
