"""The quarterly 学习考勤通报 of an organization (JF-K1; JF-C5's year-end summary in the
fourth quarter): who attended, who was on leave, who was absent, the make-ups, per member
and per session, in the layout of the annual report (GB/T 9704 adapted).

Counts only sessions that took place (RULES.md 2a): dated on or before today and with their
attendance recorded; the organization's own sessions and its 党小组s'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from attendance.models import ATTENDED, AttendanceEntry, AttendanceStatus
from branches.models import Organization, OrgType

from .document import cn_date

QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, 3 * quarter - 2, 1)
    last = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, last - dt.timedelta(days=1)


@dataclass
class NoticeMember:
    member_no: str
    name: str
    expected: int = 0
    attended: int = 0
    excused: int = 0
    absent: int = 0
    makeups: int = 0


@dataclass
class NoticeSession:
    date: dt.date
    type: str
    topic: str
    expected: int = 0
    attended: int = 0
    excused: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)


@dataclass
class NoticeData:
    organization: Organization
    year: int
    quarter: int
    sessions: list[NoticeSession]
    members: list[NoticeMember]
    # JF-C5: the fourth quarter's notice also sums up the year.
    year_members: list[NoticeMember] | None = None

    @property
    def title(self) -> str:
        return _("%(org)s关于%(year)s年%(q)s学习考勤情况的通报") % {
            "org": self.organization.name,
            "year": self.year,
            "q": QUARTER_NAMES[self.quarter],
        }

    @property
    def totals(self) -> dict[str, int]:
        return {
            "sessions": len(self.sessions),
            "expected": sum(m.expected for m in self.members),
            "attended": sum(m.attended for m in self.members),
            "excused": sum(m.excused for m in self.members),
            "absent": sum(m.absent for m in self.members),
            "makeups": sum(m.makeups for m in self.members),
        }

    @property
    def absentees(self) -> list[NoticeMember]:
        return [m for m in self.members if m.absent]


def _collect(
    organization: Organization, first: dt.date, last: dt.date, today: dt.date
) -> tuple[list[NoticeSession], list[NoticeMember]]:
    organizer_ids = [organization.pk] + list(
        organization.get_children().filter(type=OrgType.GROUP).values_list("pk", flat=True)
    )
    entries = (
        AttendanceEntry.objects.filter(
            session__organization_id__in=organizer_ids,
            session__date__range=(first, min(last, today)),
            session__attendance_taken_at__isnull=False,
        )
        .select_related("session", "member", "makeup")
        .order_by("session__date", "session__start_time", "session_id", "member__member_no")
    )
    sessions: dict[int, NoticeSession] = {}
    members: dict[int, NoticeMember] = {}
    for e in entries:
        s = sessions.setdefault(
            e.session_id, NoticeSession(e.session.date, e.session.type, e.session.topic)
        )
        m = members.setdefault(e.member_id, NoticeMember(e.member.member_no, e.member.name))
        s.expected += 1
        m.expected += 1
        if e.status in ATTENDED:
            s.attended += 1
            m.attended += 1
        elif e.status == AttendanceStatus.EXCUSED:
            s.excused.append(e.member.name)
            m.excused += 1
        elif e.status == AttendanceStatus.ABSENT:
            s.absent.append(e.member.name)
            m.absent += 1
        if getattr(e, "makeup", None) is not None:
            m.makeups += 1
    return list(sessions.values()), sorted(members.values(), key=lambda m: m.member_no)


def build_notice(
    *, organization: Organization, year: int, quarter: int, today: dt.date | None = None
) -> NoticeData:
    today = today or timezone.localdate()
    first, last = quarter_bounds(year, quarter)
    sessions, members = _collect(organization, first, last, today)
    data = NoticeData(organization, year, quarter, sessions, members)
    if quarter == 4:
        data.year_members = _collect(organization, dt.date(year, 1, 1), last, today)[1]
    return data


def notice_html(data: NoticeData, *, issuer: Organization, date: dt.date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "reports/notice_pdf.html",
            {"n": data, "issuer": issuer, "date_label": cn_date(date), "t": data.totals},
        )


def notice_pdf_bytes(data: NoticeData, *, issuer: Organization, date: dt.date) -> bytes:
    from common.pdf import render_pdf, static_text

    return render_pdf(
        notice_html(data, issuer=issuer, date=date),
        stylesheets=[static_text("css/report_pdf.css")],
    )
