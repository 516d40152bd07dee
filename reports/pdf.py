"""PDF rendering of the annual summary and of a member's 学习档案 (WeasyPrint, A4).

The HTML comes from Django templates (the same partial as the screen preview); the print
stylesheet is static/css/summary_pdf.css. Fonts: Noto Sans CJK SC, named explicitly and
embedded as subsets by WeasyPrint. Rendering goes through common.pdf.render_pdf, whose
fetcher serves only the project's static files, so text typed by users can never make the
renderer read a file or call a server.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from branches.models import Member, Organization
from common.pdf import render_pdf, static_text

from .document import ReportDocument, report_document
from .summary import MemberArchive, build_member_archive

STYLESHEET = "css/summary_pdf.css"
REPORT_STYLESHEET = "css/report_pdf.css"


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


def _write_pdf(html: str) -> bytes:
    return render_pdf(html, stylesheets=[static_text(STYLESHEET), page_number_css()])


def _render(template: str, context: dict) -> bytes:
    # The documents are Chinese whatever language the request (or the worker) runs in.
    with translation.override(settings.LANGUAGE_CODE):
        return _write_pdf(render_to_string(template, context))


def summary_html(doc: ReportDocument) -> str:
    """The formal report as HTML (also what a version's content digest is taken of)."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("reports/summary_pdf.html", {"doc": doc, "d": doc.data})


def report_pdf_bytes(doc: ReportDocument) -> bytes:
    return render_pdf(summary_html(doc), stylesheets=[static_text(REPORT_STYLESHEET)])


def render_summary_pdf(
    *, organization: Organization, year: int, number: int | None = None
) -> bytes:
    """The annual report of the organization for the year, as a PDF (`number`: the version
    it is printed as, for the mark of a correction)."""
    doc = report_document(organization=organization, year=year)
    doc.number = number
    return report_pdf_bytes(doc)


def member_archive_pdf_bytes(archive: MemberArchive) -> bytes:
    return _render("reports/archive_pdf.html", {"a": archive})


def render_member_archive_pdf(*, member: Member, year: int) -> bytes:
    """The member's 学习档案 for the year, as a PDF."""
    return member_archive_pdf_bytes(build_member_archive(member=member, year=year))
