"""The annual summary as the formal 报告 a 组织部 files (after GB/T 9704-2012, adapted): title,
主送机关, 正文 (the secretary's confirmed text, or the generated draft), 附件 (the data
tables), 落款, 成文日期, version mark; and whether it is a draft that cannot be sent.

Built on top of reports.summary.SummaryData; knows no PDF (reports.pdf renders it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization

from . import draft
from .models import SummaryText
from .summary import SummaryData, build_summary


@dataclass
class ReportDocument:
    data: SummaryData
    title: str
    addressee: str
    issuer: str
    date: dt.date
    body: list[draft.Block]
    # Why the document is a draft (empty: final, may be sent).
    draft_reasons: list[str] = field(default_factory=list)
    # What changed in the data since the text was written.
    changes: list[draft.FactChange] = field(default_factory=list)
    text_revision_id: int | None = None
    # Set when a version is rendered: 1 for the first, N > 1 for a correction.
    number: int | None = None

    @property
    def is_draft(self) -> bool:
        return bool(self.draft_reasons)

    @property
    def version_mark(self) -> str:
        """ "第N版（更正）" on a correction, else nothing."""
        if self.number is not None and self.number > 1:
            return _("第%(n)s版（更正）") % {"n": self.number}
        return ""

    @property
    def date_label(self) -> str:
        return cn_date(self.date)

    def fingerprint(self, render) -> str:
        """The digest of the document's content without its version mark, through the
        same template as the PDF (`render(document) -> str`)."""
        number, self.number = self.number, None
        try:
            return hashlib.sha256(render(self).encode("utf-8")).hexdigest()
        finally:
            self.number = number


def cn_date(day: dt.date) -> str:
    """成文日期 as GB/T 9704 writes it: 2026年1月5日 (Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def report_title(organization: Organization, year: int) -> str:
    return _("%(org)s关于%(year)s年度学习情况的报告") % {"org": organization.name, "year": year}


def addressee(organization: Organization) -> str:
    """主送机关: the superior organization, or the 组织、宣传部门 JL-R1 names for a root."""
    parent_path = organization.path[: -Organization.steplen]
    parent = Organization.objects.filter(path=parent_path).first() if parent_path else None
    if parent is None:
        return _("上级党委组织部门、宣传部门：")
    return f"{parent.name}："


def report_document(
    *, organization: Organization, year: int, today: dt.date | None = None
) -> ReportDocument:
    today = today or timezone.localdate()
    data = build_summary(organization=organization, year=year, today=today)
    text = SummaryText.objects.filter(organization=organization, year=year).first()
    now_facts = draft.facts_dict(data)
    reasons = []
    changes: list[draft.FactChange] = []
    if today <= dt.date(year, 12, 31):
        reasons.append(_("%(y)s年度尚未结束") % {"y": year})
    if text is None or not text.text.strip():
        reasons.append(_("正文为系统生成的草稿，书记尚未审阅确认"))
        body = draft.draft_text(data)
        revision_id = None
    else:
        body = text.text
        changes = draft.facts_changed(text.facts, now_facts) if text.facts else []
        if text.confirmed_at is None:
            reasons.append(_("书记尚未确认定稿"))
        elif changes:
            reasons.append(_("确认定稿后数据有变化，需重新确认"))
        revision_id = (
            text.organization.summary_text_revisions.filter(year=year)
            .order_by("-number")
            .values_list("pk", flat=True)
            .first()
        )
    if text is not None and text.confirmed_at is not None and not reasons:
        date = timezone.localtime(text.confirmed_at).date()
    else:
        date = today
    return ReportDocument(
        data=data,
        title=report_title(organization, year),
        addressee=addressee(organization),
        issuer=organization.name,
        date=date,
        body=draft.blocks(body),
        draft_reasons=reasons,
        changes=changes,
        text_revision_id=revision_id,
    )
