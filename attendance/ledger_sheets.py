"""The 活动, 考勤 and 自学 sheets of the ledger (../shared/LEDGER.md), on branches.ledger's framework.

Decisions the ledger leaves open, made here:

- 活动 may carry two extra columns, 开始时间 and 结束时间 (HH:MM), which the export writes.
  A new session without them starts at 09:00 and ends ceil(学时) hours later, at 23:59 at
  the latest (only an end given: it starts ceil(学时) hours before, at 00:00 at the
  earliest). Empty time cells never overwrite the times of an existing session.
- A new session is marked imported; an existing one keeps its flag. Its 日期, 类型 and
  组织编码 cannot change once attendance is recorded: they decided who was expected.
- The 考勤 rows of a session are its frozen list of expected attendees, not the roll. For a
  session whose attendance came from a ledger (imported, not yet recorded, or every entry
  imported) the workbook is the truth for the sessions it lists: entries and make-ups that
  are not in the workbook are deleted, sessions it does not list are left alone. Attendance
  a secretary recorded in the portal is never overwritten: rows for such a session must
  agree with it, and any difference is an error.
- Attendance is refused for a session dated after today, and a 补课日期 after today.
- Outside the admin, an importer touches only sessions of organizations they may write, and
  members enrolled in their scope on the day concerned (on any day, for a member with no
  enrolment on that day, as when the ledger lists someone the roster had not yet).
- Make-ups the import creates have the note 台账导入; an existing note is kept when only
  the date changes.
- 自学 rows have no code: a row equal in (member, date, hours, content) to an existing
  record is that record, so a row is created only as often as the workbook has it more
  times than the database.
- Imported entries are written in bulk without simple-history records; the history page
  shows changes made in the portal after the import.

A 100,000-row 考勤 sheet is the expected size: nothing here queries inside a per-row loop.
Reads are a few queries per sheet whatever its size; writes are one statement per 5,000 rows
(per distinct new status and organization for updates), and new entries and make-ups are
streamed with COPY on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import F, Model, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.ledger import (
    Column,
    ImportContext,
    Sheet,
    SheetHandler,
    choice_column,
    code_column,
    date_column,
    fold,
    hours_column,
    optional_headers,
    parse_rows,
    register_sheet,
    required_headers,
    text_column,
)
from branches.models import Member, Membership, Organization
from branches.selectors import Scope, scope_for

from .models import (
    AttendanceEntry,
    AttendanceStatus,
    EntrySource,
    MakeUp,
    SelfStudy,
    SessionType,
    StudySession,
)
from .services import session_type_error
from .signals import attendance_changed

SESSION_SHEET = "活动"
ATTENDANCE_SHEET = "考勤"
SELF_STUDY_SHEET = "自学"
MEMBER_SHEET = "党员"
ORG_SHEET = "组织"

# Words secretaries write for a status (LEDGER.md); the stored status is the canonical word.
STATUS_SYNONYMS = {
    "出勤": AttendanceStatus.PRESENT,
    "到": AttendanceStatus.PRESENT,
    "到会": AttendanceStatus.PRESENT,
    "已到": AttendanceStatus.PRESENT,
    "√": AttendanceStatus.PRESENT,
    "✓": AttendanceStatus.PRESENT,
    "✔": AttendanceStatus.PRESENT,
    "病假": AttendanceStatus.EXCUSED,
    "事假": AttendanceStatus.EXCUSED,
    "公假": AttendanceStatus.EXCUSED,
    "公差": AttendanceStatus.EXCUSED,
    "旷课": AttendanceStatus.ABSENT,
    "未到": AttendanceStatus.ABSENT,
    "×": AttendanceStatus.ABSENT,
    "✗": AttendanceStatus.ABSENT,
    "✘": AttendanceStatus.ABSENT,
}

DEFAULT_START = dt.time(9, 0)
# HH:MM, also with a full-width colon as typed with a Chinese input method; seconds ignored.
TIME_RE = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：]\d{2})?$")
LATEST_END = dt.time(23, 59)
MAKEUP_NOTE = "台账导入"
# Rows per INSERT/UPDATE/DELETE statement: large enough that 100,000 rows take a few dozen
# statements, small enough that one statement stays a few megabytes.
BATCH = 5000
MAKEUP_STATUSES = frozenset({AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT})
PORTAL_RECORDED = gettext_lazy("考勤已在系统中登记，请在活动页面修改")


@dataclass
class SessionRow:
    row: int
    code: str
    org_code: str
    type: str
    date: dt.date
    hours: decimal.Decimal
    topic: str
    speaker: str
    start_time: dt.time | None
    end_time: dt.time | None


@dataclass
class SessionInfo:
    """A session as it will be after this import, as far as the 考勤 sheet needs it."""

    code: str
    date: dt.date
    pk: int | None
    imported: bool
    frozen: bool
    # False only for an existing session outside the importer's write scope.
    writable: bool


@dataclass
class AttendanceRow:
    row: int
    session_code: str
    member_no: str
    status: str
    makeup_date: dt.date | None


@dataclass
class SelfStudyRow:
    row: int
    member_no: str
    date: dt.date
    hours: decimal.Decimal
    material: str


@dataclass
class MemberIndex:
    """Members a sheet names, from the 党员 sheet of the workbook and from the database."""

    pks: dict[str, int]
    # member pk -> [(organization path, start, end)] of the database memberships
    memberships: dict[int, list[tuple[str, dt.date | None, dt.date | None]]]
    # Members of the 党员 sheet: their row already passed (or failed) its own checks.
    in_sheet: set[str]
    # Numbers written in the 党员 sheet, valid or not: their errors are reported there.
    named_in_sheet: set[str]
    # The 党员 sheet was refused as a whole: unknown numbers are not reported again.
    sheet_failed: bool = False

    def known(self, member_no: str) -> bool:
        return member_no in self.pks or member_no in self.in_sheet

    def writable(self, member_no: str, day: dt.date, scope: Scope) -> bool:
        """The member's enrolment on `day` is in the scope (any enrolment if none that day)."""
        if scope.is_admin or member_no in self.in_sheet:
            return True
        pk = self.pks.get(member_no)
        history = self.memberships.get(pk, []) if pk is not None else []
        on_day = [
            path
            for path, start, end in history
            if (start is None or start <= day) and (end is None or day < end)
        ]
        candidates = on_day or [path for path, _s, _e in history]
        return any(scope.can_write_path(path) for path in candidates)


def _member_index(ctx: ImportContext, numbers: set[str]) -> MemberIndex:
    member_rows = ctx.data.get("member_rows", {})
    named = ctx.data.get("member_nos_named", set())
    pks = dict(Member.objects.filter(member_no__in=numbers).values_list("member_no", "pk"))
    memberships: dict[int, list[tuple[str, dt.date | None, dt.date | None]]] = defaultdict(list)
    for member_id, path, start, end in Membership.objects.filter(
        member_id__in=pks.values()
    ).values_list("member_id", "organization__path", "start", "end"):
        memberships[member_id].append((path, start, end))
    return MemberIndex(
        pks, memberships, set(member_rows) & numbers, named, MEMBER_SHEET in ctx.failed_sheets
    )


def _parse_time(raw: Any, text: str) -> tuple[dt.time | None, str | None]:
    if raw is None or text == "":
        return None, None
    if isinstance(raw, dt.datetime):
        return raw.time().replace(second=0, microsecond=0), None
    if isinstance(raw, dt.time):
        return raw.replace(second=0, microsecond=0), None
    # An Excel time without a time format arrives as a fraction of a day.
    if isinstance(raw, float) and 0 <= raw < 1:
        minutes = round(raw * 24 * 60)
        return dt.time(min(minutes // 60, 23), minutes % 60), None
    match = TIME_RE.match(fold(text))
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        return None, _("时间「%(v)s」无法识别，应为如 9:00、09:00:00 或 14：30 的时间") % {
            "v": text
        }
    return dt.time(int(match[1]), int(match[2])), None


def _time_column(header: str, *, example: str | None = None) -> Column:
    return Column(header, lambda text, raw: _parse_time(raw, text), example=example)


_session = StudySession._meta.get_field
_member_no = Member._meta.get_field("member_no")
SESSION_SCHEMA = (
    code_column("活动编号", _session("code"), required=True, example="D-2025-01"),
    code_column(
        "组织编码", Organization._meta.get_field("code"), required=True, example="JG-01-03"
    ),
    choice_column("类型", SessionType.values, required=True, example=SessionType.values[0]),
    date_column("日期", required=True, example=dt.date(2025, 3, 5)),
    hours_column("学时", _session("hours"), required=True, example=2),
    text_column("主题", _session("topic"), required=True, example="学习《中国共产党章程》"),
    text_column("主讲人", _session("speaker"), name=True, example="张三"),
    # Written by the export; optional (module docstring).
    _time_column("开始时间", example="14:30"),
    _time_column("结束时间", example="16:30"),
)
ATTENDANCE_SCHEMA = (
    code_column("活动编号", _session("code"), required=True, example="D-2025-01"),
    code_column("党员编号", _member_no, required=True, example="D001"),
    choice_column(
        "状态",
        AttendanceStatus.values,
        required=True,
        synonyms=STATUS_SYNONYMS,
        example=AttendanceStatus.PRESENT,
    ),
    date_column("补课日期"),
)
SELF_STUDY_SCHEMA = (
    code_column("党员编号", _member_no, required=True, example="D001"),
    date_column("日期", required=True, example=dt.date(2025, 3, 6)),
    hours_column("学时", SelfStudy._meta.get_field("hours"), required=True, example=1.5),
    text_column(
        "内容", SelfStudy._meta.get_field("material"), required=True, example="《中国共产党章程》"
    ),
)
# The headers, in the order the export writes them (attendance.ledger_export).
SESSION_COLUMNS = tuple(c.header for c in SESSION_SCHEMA[:7])
SESSION_TIME_COLUMNS = tuple(c.header for c in SESSION_SCHEMA[7:])
ATTENDANCE_COLUMNS = tuple(c.header for c in ATTENDANCE_SCHEMA)
SELF_STUDY_COLUMNS = tuple(c.header for c in SELF_STUDY_SCHEMA)


def _add_hours(start: dt.time, hours: decimal.Decimal) -> dt.time:
    minutes = start.hour * 60 + start.minute + math.ceil(hours) * 60
    if minutes >= 24 * 60:
        return LATEST_END
    return dt.time(minutes // 60, minutes % 60)


def _sub_hours(end: dt.time, hours: decimal.Decimal) -> dt.time:
    minutes = max(0, end.hour * 60 + end.minute - math.ceil(hours) * 60)
    return dt.time(minutes // 60, minutes % 60)


def _session_times(
    row: SessionRow, existing: StudySession | None
) -> tuple[dt.time, dt.time] | None:
    """The times the session will have, or None when the row leaves them as they are."""
    start, end = row.start_time, row.end_time
    if start is None and end is None:
        if existing is not None:
            return None
        start = DEFAULT_START
    if start is None:
        assert end is not None
        start = _sub_hours(end, row.hours)
    if end is None:
        end = _add_hours(start, row.hours)
    return start, end


# 活动


def validate_sessions(ctx: ImportContext, sheet: Sheet) -> None:
    rows: dict[str, SessionRow] = {}
    seen: dict[str, int] = {}
    for p in parse_rows(ctx, sheet, SESSION_SCHEMA, unique="活动编号"):
        code = p["活动编号"]
        if code and not p.duplicate:
            seen[code] = p.row.number
        if not p.ok:
            continue
        rows[code] = SessionRow(
            p.row.number,
            code,
            p["组织编码"],
            p["类型"],
            p["日期"],
            p["学时"],
            p["主题"],
            p["主讲人"],
            p["开始时间"],
            p["结束时间"],
        )
    # Codes of rows with errors too: the 考勤 sheet does not report them a second time.
    ctx.data["session_codes_named"] = set(seen)

    org_types = ctx.data.get("org_types", {})
    db_orgs = {
        o.code: o for o in Organization.objects.filter(code__in={r.org_code for r in rows.values()})
    }
    existing = {
        s.code: s
        for s in StudySession.objects.filter(code__in=list(rows)).select_related("organization")
    }
    scope = scope_for(ctx.user)
    for code, row in list(rows.items()):
        org = db_orgs.get(row.org_code)
        org_type = org_types[row.org_code][0] if row.org_code in org_types else None
        if org_type is None and org is not None:
            org_type = org.type
        if org_type is None:
            del rows[code]
            if ORG_SHEET in ctx.failed_sheets:
                continue  # the 组织 sheet was refused as a whole and is reported there
            ctx.error(
                sheet.name,
                row.row,
                "组织编码",
                _("组织「%(c)s」既不在组织表中也不在系统中") % {"c": row.org_code},
            )
            continue
        bad = False
        if org_type:  # empty when the 组织 sheet's own row was wrong
            err = session_type_error(row.type, org_type)
            if err:
                ctx.error(sheet.name, row.row, "类型", err)
                bad = True
        # A new organization of the 组织 sheet was checked against the scope there.
        if not scope.is_admin and org is not None and not scope.can_write_path(org.path):
            ctx.error(
                sheet.name,
                row.row,
                "组织编码",
                _("组织「%(c)s」不在您管理的范围内") % {"c": row.org_code},
            )
            bad = True
        session = existing.get(code)
        if session is not None:
            if not scope.is_admin and not scope.can_write_path(session.organization.path):
                ctx.error(
                    sheet.name,
                    row.row,
                    "活动编号",
                    _("活动「%(c)s」不在您管理的范围内") % {"c": code},
                )
                bad = True
            if session.is_frozen:
                for column, label, old, new in (
                    ("日期", _("日期"), session.date.isoformat(), row.date.isoformat()),
                    ("类型", _("类型"), session.type, row.type),
                    ("组织编码", _("组织"), session.organization.code, row.org_code),
                ):
                    if old != new:
                        ctx.error(
                            sheet.name,
                            row.row,
                            column,
                            _(
                                "该活动已登记考勤，应到名单已固定，不能再修改%(what)s"
                                "（系统中为「%(old)s」）"
                            )
                            % {"what": label, "old": old},
                        )
                        bad = True
        times = _session_times(row, session)
        if times is not None and times[1] <= times[0]:
            ctx.error(
                sheet.name,
                row.row,
                "结束时间",
                _("结束时间「%(e)s」应晚于开始时间「%(s)s」")
                % {"e": times[1].strftime("%H:%M"), "s": times[0].strftime("%H:%M")},
            )
            bad = True
        if bad:
            del rows[code]
    ctx.data["session_rows"] = rows


def apply_sessions(ctx: ImportContext) -> dict[str, int]:
    rows: dict[str, SessionRow] = ctx.data["session_rows"]
    orgs = dict(
        Organization.objects.filter(code__in={r.org_code for r in rows.values()}).values_list(
            "code", "pk"
        )
    )
    # Locked so that attendance taken in the portal meanwhile cannot slip under a date change.
    existing = {
        s.code: s
        for s in StudySession.objects.select_for_update()
        .filter(code__in=list(rows))
        .select_related("organization")
    }
    created_by = ctx.user if getattr(ctx.user, "pk", None) else None
    new: list[StudySession] = []
    changed: list[StudySession] = []
    fields = ("organization_id", "type", "date", "start_time", "end_time", "hours", "topic")
    for code, row in rows.items():
        session = existing.get(code)
        times = _session_times(row, session)
        values: dict[str, Any] = {
            "organization_id": orgs[row.org_code],
            "type": row.type,
            "date": row.date,
            "hours": row.hours,
            "topic": row.topic,
            "speaker": row.speaker,
        }
        if times is not None:
            values["start_time"], values["end_time"] = times
        if session is None:
            new.append(StudySession(code=code, imported=True, created_by=created_by, **values))
            continue
        if session.is_frozen and (
            session.date != row.date
            or session.type != row.type
            or session.organization_id != values["organization_id"]
        ):
            ctx.error(
                SESSION_SHEET,
                row.row,
                "日期",
                _("导入期间该活动已登记考勤，不能再修改日期、类型或组织，请核对后重新导入"),
            )
            continue
        diff = [k for k, v in values.items() if getattr(session, k) != v]
        if diff:
            for k in diff:
                setattr(session, k, values[k])
            changed.append(session)
    StudySession.objects.bulk_create(new, batch_size=BATCH)
    StudySession.objects.bulk_update(changed, [*fields, "speaker"], batch_size=500)
    return {"created": len(new), "updated": len(changed)}


# 考勤


def _session_infos(ctx: ImportContext, codes: set[str]) -> dict[str, SessionInfo]:
    rows: dict[str, SessionRow] = ctx.data.get("session_rows", {})
    scope = scope_for(ctx.user)
    infos: dict[str, SessionInfo] = {}
    for s in StudySession.objects.filter(code__in=codes).select_related("organization"):
        infos[s.code] = SessionInfo(
            s.code,
            s.date,
            s.pk,
            s.imported,
            s.is_frozen,
            scope.can_write_path(s.organization.path),
        )
    for code in codes & set(rows):
        info = infos.get(code)
        row = rows[code]
        if info is None:
            infos[code] = SessionInfo(code, row.date, None, True, False, True)
        else:
            info.date = row.date
    return infos


def validate_attendance(ctx: ImportContext, sheet: Sheet) -> None:
    parsed: list[AttendanceRow] = []
    for p in parse_rows(ctx, sheet, ATTENDANCE_SCHEMA):
        values = p.values
        status, makeup = values["状态"], values["补课日期"]
        if makeup is not None and status is not None and status not in MAKEUP_STATUSES:
            ctx.error(
                sheet.name,
                p.row.number,
                "补课日期",
                _("状态为「%(s)s」，只有请假或缺席才能填写补课日期") % {"s": status},
            )
            continue
        if not p.bad:
            parsed.append(
                AttendanceRow(p.row.number, values["活动编号"], values["党员编号"], status, makeup)
            )

    named_sessions: set[str] = ctx.data.get("session_codes_named", set())
    infos = _session_infos(ctx, {r.session_code for r in parsed})
    members = _member_index(ctx, {r.member_no for r in parsed})
    scope = scope_for(ctx.user)
    today = timezone.localdate()
    first_row: dict[tuple[str, str], int] = {}
    by_session: dict[str, list[AttendanceRow]] = defaultdict(list)
    reported_sessions: set[str] = set()
    for r in parsed:
        info = infos.get(r.session_code)
        if info is None:
            if r.session_code not in named_sessions and SESSION_SHEET not in ctx.failed_sheets:
                ctx.error(
                    sheet.name,
                    r.row,
                    "活动编号",
                    _("活动「%(c)s」既不在活动表中也不在系统中") % {"c": r.session_code},
                )
            continue
        if not members.known(r.member_no):
            if r.member_no not in members.named_in_sheet and not members.sheet_failed:
                ctx.error(
                    sheet.name,
                    r.row,
                    "党员编号",
                    _("党员「%(no)s」既不在党员表中也不在系统中") % {"no": r.member_no},
                )
            continue
        key = (r.session_code, r.member_no)
        if key in first_row:
            ctx.error(
                sheet.name,
                r.row,
                "党员编号",
                _("活动「%(c)s」的党员「%(no)s」与第%(n)d行重复")
                % {"c": r.session_code, "no": r.member_no, "n": first_row[key]},
            )
            continue
        first_row[key] = r.row
        if not info.writable and info.code not in reported_sessions:
            reported_sessions.add(info.code)
            ctx.error(
                sheet.name,
                r.row,
                "活动编号",
                _("活动「%(c)s」不在您管理的范围内") % {"c": r.session_code},
            )
        if info.date > today and info.code not in reported_sessions:
            reported_sessions.add(info.code)
            ctx.error(
                sheet.name,
                r.row,
                "活动编号",
                _("活动「%(c)s」在 %(d)s 举行，尚未举行的活动不能导入考勤")
                % {"c": r.session_code, "d": info.date.isoformat()},
            )
        if not members.writable(r.member_no, info.date, scope):
            ctx.error(
                sheet.name,
                r.row,
                "党员编号",
                _("党员「%(no)s」不在您管理的范围内") % {"no": r.member_no},
            )
        if r.makeup_date is not None:
            if r.makeup_date < info.date:
                ctx.error(
                    sheet.name,
                    r.row,
                    "补课日期",
                    _("补课日期「%(m)s」不能早于活动日期 %(d)s")
                    % {"m": r.makeup_date.isoformat(), "d": info.date.isoformat()},
                )
            elif r.makeup_date > today:
                ctx.error(
                    sheet.name,
                    r.row,
                    "补课日期",
                    _("补课日期「%(m)s」晚于今天，只能登记已经补上的课")
                    % {"m": r.makeup_date.isoformat()},
                )
        by_session[r.session_code].append(r)

    recorded = _recorded_attendance({i.pk for i in infos.values() if i.pk and i.frozen})
    owned: set[str] = set()
    missing: dict[int, set[int]] = {}  # first row of a session -> members the sheet leaves out
    for code, session_rows in by_session.items():
        info = infos[code]
        entries = recorded.get(info.pk) if info.pk else None
        if _ledger_owned(info, entries):
            owned.add(code)
        else:
            left_out = _check_unchanged(ctx, sheet.name, session_rows, entries or {}, members)
            if left_out:
                missing[session_rows[0].row] = left_out
    if missing:
        numbers = dict(
            Member.objects.filter(pk__in=set().union(*missing.values())).values_list(
                "pk", "member_no"
            )
        )
        for row, pks in missing.items():
            ctx.error(
                sheet.name,
                row,
                "党员编号",
                _("该活动已固定的应到名单中还有 %(nos)s，本表缺少（%(why)s）")
                % {"nos": "、".join(sorted(numbers[pk] for pk in pks)), "why": PORTAL_RECORDED},
            )
    ctx.data["attendance_rows"] = by_session
    ctx.data["attendance_owned"] = owned


def _recorded_attendance(
    session_ids: set[int],
) -> dict[int, dict[int, tuple[str, str, dt.date | None]]]:
    """session pk -> member pk -> (status, source, make-up date) of the recorded entries."""
    recorded: dict[int, dict[int, tuple[str, str, dt.date | None]]] = defaultdict(dict)
    for session_id, member_id, status, source, makeup in AttendanceEntry.objects.filter(
        session_id__in=session_ids
    ).values_list("session_id", "member_id", "status", "source", "makeup__date"):
        recorded[session_id][member_id] = (status, source, makeup)
    return recorded


def _ledger_owned(
    info: SessionInfo, entries: dict[int, tuple[str, str, dt.date | None]] | None
) -> bool:
    """May the workbook rewrite this session's attendance? Not what a secretary recorded."""
    if info.pk is None or info.imported or not info.frozen:
        return True
    return all(source == EntrySource.IMPORT for _s, source, _m in (entries or {}).values())


def _check_unchanged(
    ctx: ImportContext,
    sheet: str,
    rows: list[AttendanceRow],
    entries: dict[int, tuple[str, str, dt.date | None]],
    members: MemberIndex,
) -> set[int]:
    """Report rows that differ from attendance recorded in the portal; return who is left out."""
    why = PORTAL_RECORDED
    listed: set[int] = set()
    for r in rows:
        pk = members.pks.get(r.member_no)
        entry = entries.get(pk) if pk is not None else None
        if entry is None:
            ctx.error(
                sheet,
                r.row,
                "党员编号",
                _("党员「%(no)s」不在该活动已固定的应到名单中（%(why)s）")
                % {"no": r.member_no, "why": why},
            )
            continue
        listed.add(pk)
        status, _source, makeup = entry
        if status != r.status:
            ctx.error(
                sheet,
                r.row,
                "状态",
                _("系统中登记为「%(s)s」（%(why)s）") % {"s": status, "why": why},
            )
        if makeup != r.makeup_date:
            ctx.error(
                sheet,
                r.row,
                "补课日期",
                _("系统中的补课日期为「%(d)s」（%(why)s）")
                % {"d": makeup.isoformat() if makeup else _("无"), "why": why},
            )
    return set(entries) - listed


def apply_attendance(ctx: ImportContext) -> dict[str, int]:
    by_session: dict[str, list[AttendanceRow]] = ctx.data["attendance_rows"]
    owned: set[str] = ctx.data["attendance_owned"]
    codes = [c for c in by_session if c in owned]
    if not codes:
        return {"created": 0, "updated": 0, "deleted": 0}
    sessions = {s.code: s for s in StudySession.objects.select_for_update().filter(code__in=codes)}
    recorded = _recorded_attendance({s.pk for s in sessions.values() if s.is_frozen})
    for code, session in sessions.items():
        info = SessionInfo(
            code, session.date, session.pk, session.imported, session.is_frozen, True
        )
        if not _ledger_owned(info, recorded.get(session.pk)):
            ctx.error(
                ATTENDANCE_SHEET,
                by_session[code][0].row,
                "活动编号",
                _("导入期间该活动的考勤已在系统中登记，请核对后重新导入"),
            )
    if ctx.errors:
        return {"created": 0, "updated": 0, "deleted": 0}

    numbers = {r.member_no for code in codes for r in by_session[code]}
    member_pks = dict(Member.objects.filter(member_no__in=numbers).values_list("member_no", "pk"))
    enrolments: dict[int, list[tuple[int, dt.date | None, dt.date | None]]] = defaultdict(list)
    for member_id, org_id, start, end in Membership.objects.filter(
        member_id__in=member_pks.values()
    ).values_list("member_id", "organization_id", "start", "end"):
        enrolments[member_id].append((org_id, start, end))

    def enrolled_in(member_id: int, day: dt.date) -> int | None:
        for org_id, start, end in enrolments.get(member_id, ()):
            if (start is None or start <= day) and (end is None or day < end):
                return org_id
        return None

    session_ids = [s.pk for s in sessions.values()]
    current: dict[tuple[int, int], tuple[int, str, str, int | None]] = {}
    for pk, session_id, member_id, status, source, org_id in AttendanceEntry.objects.filter(
        session_id__in=session_ids
    ).values_list("pk", "session_id", "member_id", "status", "source", "organization_id"):
        current[(session_id, member_id)] = (pk, status, source, org_id)
    makeups: dict[int, tuple[int, dt.date]] = {
        entry_id: (pk, date)
        for pk, entry_id, date in MakeUp.objects.filter(
            entry__session_id__in=session_ids
        ).values_list("pk", "entry_id", "date")
    }

    by = ctx.user if getattr(ctx.user, "pk", None) else None
    now = timezone.now()
    # (session, member, organization, status) of the entries to create, and their make-ups.
    new_entries: list[tuple[int, int, int | None, str]] = []
    new_makeups: dict[tuple[int, int], dt.date] = {}
    # Updates grouped by their new values: one UPDATE per group, not one per row.
    updates: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    wanted_makeups: dict[int, dt.date | None] = {}
    touched: set[int] = set()
    kept: set[int] = set()
    for code in codes:
        session = sessions[code]
        for r in by_session[code]:
            member_id = member_pks[r.member_no]
            org_id = enrolled_in(member_id, session.date)
            existing = current.get((session.pk, member_id))
            if existing is None:
                new_entries.append((session.pk, member_id, org_id, r.status))
                if r.makeup_date is not None:
                    new_makeups[(session.pk, member_id)] = r.makeup_date
                touched.add(session.pk)
                continue
            entry_id, status, source, current_org = existing
            kept.add(entry_id)
            if (status, source, current_org) != (r.status, EntrySource.IMPORT, org_id):
                updates[(r.status, org_id)].append(entry_id)
                touched.add(session.pk)
            wanted_makeups[entry_id] = r.makeup_date

    stale = [
        (pk, session_id) for (session_id, _m), (pk, *_rest) in current.items() if pk not in kept
    ]
    stale_ids = [pk for pk, _s in stale]
    touched.update(session_id for _pk, session_id in stale)
    if stale_ids:
        for chunk in _chunks(stale_ids):
            MakeUp.objects.filter(entry_id__in=chunk).delete()
            # A raw delete: the queryset's delete would fetch every entry to send the
            # post_delete signal, and simple-history would then write one row per entry.
            AttendanceEntry.objects.filter(pk__in=chunk)._raw_delete(AttendanceEntry.objects.db)
    for (status, org_id), ids in updates.items():
        for chunk in _chunks(ids):
            AttendanceEntry.objects.filter(pk__in=chunk).update(
                status=status,
                organization_id=org_id,
                source=EntrySource.IMPORT,
                override_reason="",
                updated_by=by,
                updated_at=now,
            )
    by_id = by.pk if by is not None else None
    _insert(
        AttendanceEntry,
        ("session", "member", "organization", "status"),
        new_entries,
        constants={"source": EntrySource.IMPORT, "updated_by": by_id, "updated_at": now},
    )
    if new_makeups:
        for pk, session_id, member_id in AttendanceEntry.objects.filter(
            session_id__in={session_id for session_id, _m in new_makeups}
        ).values_list("pk", "session_id", "member_id"):
            if (session_id, member_id) in new_makeups:
                wanted_makeups[pk] = new_makeups[(session_id, member_id)]

    makeup_new: list[tuple[int, dt.date, str, int | None, dt.datetime]] = []
    makeup_moved: list[MakeUp] = []
    makeup_dropped: list[int] = []
    for entry_id, date in wanted_makeups.items():
        have = makeups.get(entry_id)
        if date is None:
            if have is not None:
                makeup_dropped.append(have[0])
        elif have is None:
            makeup_new.append((entry_id, date, MAKEUP_NOTE, by_id, now))
        elif have[1] != date:
            makeup_moved.append(MakeUp(pk=have[0], date=date))
    for chunk in _chunks(makeup_dropped):
        MakeUp.objects.filter(pk__in=chunk).delete()
    _insert(MakeUp, ("entry", "date", "note", "created_by", "created_at"), makeup_new)
    MakeUp.objects.bulk_update(makeup_moved, ["date"], batch_size=1000)

    # Two statements rather than bulk_update, whose CASE per session cost 2.3 s for 4,000
    # new sessions. Attendance pages holding the old version must reload before saving.
    bumped = [s.pk for s in sessions.values() if s.pk in touched]
    untaken = [
        s.pk for s in sessions.values() if s.pk not in touched and s.attendance_taken_at is None
    ]
    for chunk in _chunks(bumped):
        StudySession.objects.filter(pk__in=chunk).update(
            attendance_taken_at=Coalesce(F("attendance_taken_at"), Value(now)),
            attendance_version=F("attendance_version") + 1,
        )
    for chunk in _chunks(untaken):
        StudySession.objects.filter(pk__in=chunk, attendance_taken_at__isnull=True).update(
            attendance_taken_at=now
        )
    attendance_changed.send(sender=StudySession, session_ids=[s.pk for s in sessions.values()])
    updated = sum(len(ids) for ids in updates.values())
    return {"created": len(new_entries), "updated": updated, "deleted": len(stale_ids)}


def _insert(
    model: type[Model],
    fields: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    constants: dict[str, Any] | None = None,
) -> None:
    """Insert plain rows, auto_now values included: COPY on PostgreSQL, bulk_create elsewhere.
    `constants` are columns with the same value in every row (formatted once).

    bulk_create builds a model instance and prepares each value of 100,000 rows in Python,
    about ten times the cost of streaming them to COPY.
    """
    if not rows:
        return
    if constants:
        fields = (*fields, *constants)
        rows = [(*row, *constants.values()) for row in rows] if _not_postgresql(model) else rows
    connection = connections[router.db_for_write(model)]
    if _not_postgresql(model):
        names = [model._meta.get_field(f).attname for f in fields]
        objs = [model(**dict(zip(names, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=BATCH)
        return
    quote = connection.ops.quote_name
    given = [model._meta.get_field(f) for f in fields]
    # Columns added to the model later get their Python default, as bulk_create would.
    others = [f for f in model._meta.concrete_fields if not f.primary_key and f not in given]
    columns = ", ".join(quote(f.column) for f in (*given, *others))
    defaults = (*(constants or {}).values(), *(f.get_default() for f in others))
    # COPY's text format written by hand, 5,000 rows per write: psycopg's write_row adapts
    # each value of 100,000 rows one by one through its dumpers.
    tail = "".join(f"\t{_copy_text(v)}" for v in defaults)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for start in range(0, len(rows), BATCH):
            lines = [
                "\t".join([_copy_text(v) for v in row]) + tail
                for row in rows[start : start + BATCH]
            ]
            copy.write(("\n".join(lines) + "\n").encode())


_COPY_SPECIAL = re.compile(r"[\t\n\r\\]")


def _copy_text(value: Any) -> str:
    """A value in COPY's text format; ids and plain strings first, they are most rows."""
    cls = value.__class__
    if cls is int:
        return str(value)
    if value is None:
        return "\\N"
    if cls is bool:
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    if _COPY_SPECIAL.search(text):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        text = text.replace("\r", "\\r")
    return text


def _not_postgresql(model: type[Model]) -> bool:
    return connections[router.db_for_write(model)].vendor != "postgresql"


def _chunks(ids: list[int], size: int = BATCH) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


# 自学


def validate_self_study(ctx: ImportContext, sheet: Sheet) -> None:
    parsed: list[SelfStudyRow] = []
    today = timezone.localdate()
    for p in parse_rows(ctx, sheet, SELF_STUDY_SCHEMA):
        date = p["日期"]
        if date is not None and date > today:
            ctx.error(
                sheet.name,
                p.row.number,
                "日期",
                _("日期「%(d)s」晚于今天，自学只能登记已经发生的学习") % {"d": date.isoformat()},
            )
            continue
        if p.ok:
            parsed.append(SelfStudyRow(p.row.number, p["党员编号"], date, p["学时"], p["内容"]))

    members = _member_index(ctx, {r.member_no for r in parsed})
    scope = scope_for(ctx.user)
    rows: list[SelfStudyRow] = []
    for r in parsed:
        if not members.known(r.member_no):
            if r.member_no not in members.named_in_sheet and not members.sheet_failed:
                ctx.error(
                    sheet.name,
                    r.row,
                    "党员编号",
                    _("党员「%(no)s」既不在党员表中也不在系统中") % {"no": r.member_no},
                )
            continue
        if not members.writable(r.member_no, r.date, scope):
            ctx.error(
                sheet.name,
                r.row,
                "党员编号",
                _("党员「%(no)s」不在您管理的范围内") % {"no": r.member_no},
            )
            continue
        rows.append(r)

    # A day has 24 hours: the sheet's rows for the day replace the imported ones, and the
    # entries made in the portal stay.
    plan = _self_study_plan(rows, members.pks)
    for (member_no, date), day in plan.items():
        total = sum((r.hours for r in day.rows), decimal.Decimal(0)) + day.portal_hours
        if total > 24:
            ctx.error(
                sheet.name,
                day.rows[-1].row,
                "学时",
                _("党员「%(no)s」在 %(d)s 的自学合计 %(t)s 学时，超过 24 学时")
                % {"no": member_no, "d": date.isoformat(), "t": total.normalize()},
            )
    ctx.data["self_study_rows"] = rows


@dataclass
class SelfStudyDay:
    """One member's self-study on one date: the sheet's rows and what the database holds."""

    rows: list[SelfStudyRow]
    # Rows beyond those equal to an entry made in the portal (that entry is the row).
    to_import: list[tuple[decimal.Decimal, str]]
    # The entries an earlier import wrote: (pk, hours, material).
    imported: list[tuple[int, decimal.Decimal, str]]
    portal_hours: decimal.Decimal

    @property
    def unchanged(self) -> bool:
        return sorted(self.to_import) == sorted((h, m) for _pk, h, m in self.imported)


def _self_study_plan(
    rows: list[SelfStudyRow], pks: dict[str, int]
) -> dict[tuple[str, dt.date], SelfStudyDay]:
    """For each member and date in the sheet, what replaces what (LEDGER.md, corrections)."""
    by_day: dict[tuple[str, dt.date], list[SelfStudyRow]] = defaultdict(list)
    for r in rows:
        by_day[(r.member_no, r.date)].append(r)
    stored: dict[tuple[int, dt.date], list[tuple[int, decimal.Decimal, str, bool]]] = defaultdict(
        list
    )
    known = {pks[no] for no, _d in by_day if no in pks}
    if known:
        for pk, member_id, date, hours, material, imported in SelfStudy.objects.filter(
            member_id__in=known, date__in={d for _no, d in by_day}
        ).values_list("pk", "member_id", "date", "hours", "material", "imported"):
            stored[(member_id, date)].append((pk, hours, material, imported))
    plan: dict[tuple[str, dt.date], SelfStudyDay] = {}
    for (no, date), day_rows in by_day.items():
        entries = stored.get((pks[no], date), []) if no in pks else []
        portal = Counter((h, m) for _pk, h, m, imported in entries if not imported)
        portal_hours = sum(
            (h for _pk, h, _m, imported in entries if not imported), decimal.Decimal(0)
        )
        to_import: list[tuple[decimal.Decimal, str]] = []
        for r in day_rows:
            key = (r.hours, r.material)
            if portal[key] > 0:
                portal[key] -= 1
                portal_hours -= r.hours
                continue
            to_import.append(key)
        plan[(no, date)] = SelfStudyDay(
            day_rows,
            to_import,
            [(pk, h, m) for pk, h, m, imported in entries if imported],
            portal_hours,
        )
    return plan


def apply_self_study(ctx: ImportContext) -> dict[str, int]:
    rows: list[SelfStudyRow] = ctx.data["self_study_rows"]
    pks = dict(
        Member.objects.filter(member_no__in={r.member_no for r in rows}).values_list(
            "member_no", "pk"
        )
    )
    plan = _self_study_plan(rows, pks)
    stale: list[int] = []
    new: list[SelfStudy] = []
    unchanged = 0
    for (no, date), day in plan.items():
        if day.unchanged:
            unchanged += len(day.rows)
            continue
        stale.extend(pk for pk, _h, _m in day.imported)
        new.extend(
            SelfStudy(member_id=pks[no], date=date, hours=h, material=m, imported=True)
            for h, m in day.to_import
        )
        unchanged += len(day.rows) - len(day.to_import)
    for chunk in _chunks(stale):
        SelfStudy.objects.filter(pk__in=chunk).delete()
    SelfStudy.objects.bulk_create(new, batch_size=BATCH)
    return {"created": len(new), "deleted": len(stale), "unchanged": unchanged}


def register() -> None:
    """Register the sheet handlers with branches.ledger."""
    register_sheet(
        SheetHandler(
            sheet=SESSION_SHEET,
            required=required_headers(SESSION_SCHEMA),
            optional=optional_headers(SESSION_SCHEMA),
            validate=validate_sessions,
            columns=SESSION_SCHEMA,
            apply=apply_sessions,
            order=30,
        )
    )
    register_sheet(
        SheetHandler(
            sheet=ATTENDANCE_SHEET,
            required=required_headers(ATTENDANCE_SCHEMA),
            optional=optional_headers(ATTENDANCE_SCHEMA),
            validate=validate_attendance,
            columns=ATTENDANCE_SCHEMA,
            apply=apply_attendance,
            order=40,
        )
    )
    register_sheet(
        SheetHandler(
            sheet=SELF_STUDY_SHEET,
            required=required_headers(SELF_STUDY_SCHEMA),
            optional=optional_headers(SELF_STUDY_SCHEMA),
            validate=validate_self_study,
            columns=SELF_STUDY_SCHEMA,
            apply=apply_self_study,
            order=50,
        )
    )
