"""The study ledger of an organization's subtree for one year, as the workbook the import reads.

The sheets and headers are those of ../shared/LEDGER.md; 活动 has two more columns,
开始时间 and 结束时间 (HH:MM text), which the import reads back. Dates are real Excel dates.
At most eight queries whatever the size; the one writer (common.xlsx) streams, so memory stays
flat, and keeps text that looks like a formula inert.

What one row per member cannot carry: a member who moved between organizations of the
subtree during the year is exported with the enrolment covering the latest day of the year,
so an import elsewhere does not recreate the earlier one. 职务 is exported only where the
import puts it back: a committee role at the member's own branch (or at the branch of their
党小组) or 小组长 of their 党小组.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from branches.ledger_roster import LEDGER_ROLES
from branches.models import COMMITTEE_KINDS, Membership, Organization, OrgType, Role
from common.xlsx import DATE, NUMBER, TEXT, Column, Sheet, export_title, workbook_bytes

from .ledger_sheets import (
    ATTENDANCE_COLUMNS,
    SELF_STUDY_COLUMNS,
    SESSION_COLUMNS,
    SESSION_TIME_COLUMNS,
)
from .models import AttendanceEntry, SelfStudy, StudySession

ORG_COLUMNS = ("编码", "名称", "类型", "上级编码", "规则方案")
MEMBER_COLUMNS = (
    "编号",
    "姓名",
    "所在组织编码",
    "职务",
    "类别",
    "干部层级",
    "转入日期",
    "转出日期",
    "手机",
)
MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_year(text: str | None) -> int | None:
    """A four-digit year the ledger may cover, or None."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        return None
    year = int(text)
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def export_ledger(*, organization: Organization, year: int, include_personal: bool = True) -> bytes:
    """The .xlsx bytes of the ledger of `organization`'s subtree for `year`.

    include_personal=False leaves 手机 empty, for readers who see masked numbers only; the
    import leaves a member's number alone when the cell is empty.
    """
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    orgs = list(organization.subtree())
    codes_by_path = {o.path: o.code for o in orgs}
    if organization.depth > 1:
        # The root's parent is named so that the workbook imports back into the same tree.
        parent_path = organization.path[: -Organization.steplen]
        codes_by_path[parent_path] = (
            Organization.objects.filter(path=parent_path).values_list("code", flat=True).get()
        )

    org_rows = [
        [
            org.code,
            org.name,
            org.type,
            codes_by_path.get(org.path[: -Organization.steplen], "") if org.depth > 1 else "",
            org.profile_name,
        ]
        for org in orgs
    ]

    memberships = _memberships(organization, first, last)
    member_ids = [ms.member_id for ms in memberships]
    roles = _roles(memberships)
    member_rows = [
        [
            ms.member.member_no,
            ms.member.name,
            ms.organization.code,
            roles.get(ms.member.pk, ""),
            ms.member.category,
            ms.member.cadre_level,
            ms.start,
            ms.end,
            ms.member.mobile if include_personal else "",
        ]
        for ms in memberships
    ]

    sessions = (
        StudySession.objects.filter(
            organization__path__startswith=organization.path, date__range=(first, last)
        )
        .select_related("organization")
        .order_by("date", "start_time", "code")
    )
    session_rows = (
        [
            s.code,
            s.organization.code,
            s.type,
            s.date,
            s.hours,
            s.topic,
            s.speaker,
            s.start_time.strftime("%H:%M"),
            s.end_time.strftime("%H:%M"),
        ]
        for s in sessions
    )
    entries = (
        AttendanceEntry.objects.filter(
            session__organization__path__startswith=organization.path,
            session__date__range=(first, last),
        )
        .order_by("session__date", "session__start_time", "session__code", "member__member_no")
        .values_list("session__code", "member__member_no", "status", "makeup__date")
    )
    studies = (
        SelfStudy.objects.filter(member_id__in=member_ids, date__range=(first, last))
        .order_by("member__member_no", "date", "created_at", "pk")
        .values_list("member__member_no", "date", "hours", "material")
    )
    # No title row: the header stays the first row, where the import looks for it; the
    # title goes to the printed page header.
    sheets = [
        Sheet("组织", _columns(ORG_COLUMNS), org_rows),
        Sheet("党员", _columns(MEMBER_COLUMNS), member_rows),
        Sheet("活动", _columns(SESSION_COLUMNS + SESSION_TIME_COLUMNS), session_rows),
        Sheet("考勤", _columns(ATTENDANCE_COLUMNS), entries.iterator(chunk_size=5000)),
        Sheet("自学", _columns(SELF_STUDY_COLUMNS), studies.iterator(chunk_size=5000)),
    ]
    title = export_title(
        organization=organization.name, code=organization.code, period=f"{year}年", what="学习台账"
    )
    return workbook_bytes(sheets, title=title)


def _memberships(organization: Organization, first: dt.date, last: dt.date) -> list[Membership]:
    """Per member with an enrolment in the subtree during the year, the one covering the
    latest day of the year (enrolments do not overlap, so the latest-ending one)."""
    overlapping = (
        Membership.objects.filter(organization__path__startswith=organization.path)
        .filter(Q(start__isnull=True) | Q(start__lte=last))
        .filter(Q(end__isnull=True) | Q(end__gt=first))
        .select_related("member", "organization")
    )
    latest: dict[int, Membership] = {}
    far = dt.date.max
    for ms in overlapping:
        held = latest.get(ms.member_id)
        if held is None or (ms.end or far) > (held.end or far):
            latest[ms.member_id] = ms
    return sorted(latest.values(), key=lambda ms: (ms.organization.path, ms.member.member_no))


def _roles(memberships: list[Membership]) -> dict[int, str]:
    """member pk -> the open duty the import would put back where it is now."""
    where: dict[int, set[int]] = {}
    group_member: dict[int, int] = {}
    branch_of_group = {
        ms.organization.path[: -Organization.steplen]
        for ms in memberships
        if ms.organization.type == OrgType.GROUP
    }
    branch_ids = (
        dict(Organization.objects.filter(path__in=branch_of_group).values_list("path", "pk"))
        if branch_of_group
        else {}
    )
    for ms in memberships:
        if ms.organization.type == OrgType.GROUP:
            group_member[ms.member_id] = ms.organization_id
            branch = branch_ids.get(ms.organization.path[: -Organization.steplen])
            where[ms.member_id] = {ms.organization_id, *([branch] if branch else [])}
        else:
            where[ms.member_id] = {ms.organization_id}
    found: dict[int, str] = {}
    rank = {kind: n for n, kind in enumerate(LEDGER_ROLES)}
    roles = Role.objects.filter(
        member_id__in=list(where), end__isnull=True, kind__in=LEDGER_ROLES
    ).values_list("member_id", "organization_id", "kind")
    for member_id, org_id, kind in sorted(roles, key=lambda r: rank[r[2]]):
        if member_id in found or org_id not in where[member_id]:
            continue
        at_group = org_id == group_member.get(member_id)
        # The import puts a committee role of a group member at the group's branch.
        if (kind in COMMITTEE_KINDS) == at_group:
            continue
        found[member_id] = kind
    return found


# The kind of each ledger column that is not text.
COLUMN_KINDS = {
    "日期": DATE,
    "转入日期": DATE,
    "转出日期": DATE,
    "补课日期": DATE,
    "学时": NUMBER,
}


def _columns(headers: Iterable[str]) -> list[Column]:
    return [Column(h, COLUMN_KINDS.get(h, TEXT)) for h in headers]
