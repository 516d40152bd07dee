"""The 活动, 考勤 and 自学 sheets of the ledger (LEDGER.md): import, export and the round trip."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from attendance import services
from attendance.ledger_export import export_ledger
from attendance.models import (
    AttendanceEntry,
    ExemptAttendee,
    MakeUp,
    SelfStudy,
    StudySession,
)
from attendance.services import EntryInput
from branches.ledger import LedgerRejected, import_ledger
from branches.models import Member, Membership, Organization, Role, User
from tests.factories import workbook

ORG_HEADER = ["编码", "名称", "类型", "上级编码", "规则方案"]
MEMBER_HEADER = [
    "编号",
    "姓名",
    "所在组织编码",
    "职务",
    "类别",
    "干部层级",
    "转入日期",
    "转出日期",
    "手机",
]
SESSION_HEADER = ["活动编号", "组织编码", "类型", "日期", "学时", "主题", "主讲人"]
ATTENDANCE_HEADER = ["活动编号", "党员编号", "状态", "补课日期"]
SELF_STUDY_HEADER = ["党员编号", "日期", "学时", "内容"]

ORGS = [["JG-01-02-1", "乙支部第一党小组", "党小组", "JG-01-02", ""]]
MEMBERS = [["B100", "乙新党员", "JG-01-02-1", "", "预备党员", "", "2025-01-01", None, ""]]
SESSIONS = [
    ["A-2025-01", "JG-01-01", "支部党员大会", dt.date(2025, 3, 5), 2, "学习党章", "甲书记"],
    ["A-2025-02", "JG-01-01-1", "党小组会", "2025-04-10", 1.5, "小组学习", ""],
    ["B-2025-01", "JG-01-02", "党课", dt.date(2025, 5, 20), 2, "专题党课", "乙书记"],
    ["B-2025-02", "JG-01-02-1", "党小组会", dt.date(2025, 6, 3), 1, "新小组第一次学习", None],
]
ATTENDANCE = [
    ["A-2025-01", "A001", "出席", None],
    ["A-2025-01", "A002", "缺席", dt.date(2025, 3, 12)],
    ["A-2025-02", "A002", "请假", "2025-04-15"],
    ["B-2025-01", "B001", "出席", None],
    ["B-2025-01", "B002", "迟到", None],
    ["B-2025-02", "B100", "出席", None],
]
SELF_STUDY = [
    ["A001", dt.date(2025, 3, 1), 2, "《中国共产党章程》"],
    ["A002", "2025-03-02", 1.5, "党史学习"],
    ["B100", "2025-06-01", 1, "入党誓词"],
]


def book(
    sessions=SESSIONS, attendance=ATTENDANCE, self_study=SELF_STUDY, orgs=ORGS, members=MEMBERS
) -> io.BytesIO:
    sheets = {
        "组织": [ORG_HEADER, *orgs],
        "党员": [MEMBER_HEADER, *members],
        "活动": [SESSION_HEADER, *sessions],
        "考勤": [ATTENDANCE_HEADER, *attendance],
        "自学": [SELF_STUDY_HEADER, *self_study],
    }
    return workbook(**{k: v for k, v in sheets.items() if len(v) > 1})


def importer() -> User:
    return User(username="importer", is_superuser=True, is_active=True)


def copy(rows):
    return [list(r) for r in rows]


def snapshot(exclude_codes: tuple[str, ...] = ()):
    """Everything the ledger carries, keyed by codes (not database ids)."""
    orgs = Organization.objects.exclude(code__in=exclude_codes)
    parent = {o.path: o.code for o in orgs}
    return {
        "orgs": sorted(
            (o.code, o.name, o.type, parent.get(o.path[:-4], ""), o.profile_name) for o in orgs
        ),
        "members": sorted(
            Member.objects.exclude(memberships__organization__code__in=exclude_codes).values_list(
                "member_no", "name", "category", "cadre_level", "mobile"
            )
        ),
        "memberships": sorted(
            Membership.objects.exclude(organization__code__in=exclude_codes).values_list(
                "member__member_no", "organization__code", "start", "end"
            ),
            key=str,
        ),
        "roles": sorted(
            Role.objects.exclude(organization__code__in=exclude_codes).values_list(
                "member__member_no", "organization__code", "kind", "end"
            ),
            key=str,
        ),
        "sessions": sorted(
            StudySession.objects.values_list(
                "code",
                "organization__code",
                "type",
                "date",
                "start_time",
                "end_time",
                "hours",
                "topic",
                "speaker",
            )
        ),
        "entries": sorted(
            AttendanceEntry.objects.values_list(
                "session__code", "member__member_no", "status", "organization__code"
            ),
            key=str,
        ),
        "makeups": sorted(
            MakeUp.objects.values_list("entry__session__code", "entry__member__member_no", "date")
        ),
        "self_study": sorted(
            SelfStudy.objects.values_list("member__member_no", "date", "hours", "material")
        ),
    }


def state():
    """The snapshot plus what only the import itself decides (flags, versions, sources)."""
    return (
        snapshot(),
        sorted(
            StudySession.objects.values_list(
                "code", "imported", "attendance_taken_at", "attendance_version"
            )
        ),
        sorted(AttendanceEntry.objects.values_list("pk", "source", "updated_at")),
        sorted(MakeUp.objects.values_list("pk", "note")),
        SelfStudy.objects.count(),
    )


def nothing_written() -> bool:
    return not (
        StudySession.objects.exists()
        or AttendanceEntry.objects.exists()
        or SelfStudy.objects.exists()
        or Member.objects.filter(member_no="B100").exists()
    )


def test_good_workbook_imports_sessions_attendance_and_self_study(cast):
    result = import_ledger(book(), user=cast.admin)
    assert result.counts["活动"] == {"created": 4, "updated": 0}
    assert result.counts["考勤"] == {"created": 6, "updated": 0, "deleted": 0}
    assert result.counts["自学"] == {"created": 3, "deleted": 0, "unchanged": 0}
    assert not result.warnings

    meeting = StudySession.objects.get(code="A-2025-01")
    assert meeting.imported and meeting.is_frozen and meeting.attendance_version == 1
    assert (meeting.organization, meeting.type, meeting.date) == (
        cast.branch_a,
        "支部党员大会",
        dt.date(2025, 3, 5),
    )
    assert (meeting.hours, meeting.topic, meeting.speaker) == (Decimal("2.0"), "学习党章", "甲书记")
    # No times in the ledger: 09:00 and ceil(学时) hours later.
    assert (meeting.start_time, meeting.end_time) == (dt.time(9), dt.time(11))
    group_meeting = StudySession.objects.get(code="A-2025-02")
    assert (group_meeting.start_time, group_meeting.end_time) == (dt.time(9), dt.time(11))
    assert meeting.created_by == cast.admin

    absent = AttendanceEntry.objects.get(session=meeting, member=cast.member_a_member)
    assert (absent.status, absent.source, absent.organization) == ("缺席", "导入", cast.group_a1)
    assert (absent.makeup.date, absent.makeup.note) == (dt.date(2025, 3, 12), "台账导入")
    assert AttendanceEntry.objects.get(session__code="A-2025-02").makeup.date == dt.date(
        2025, 4, 15
    )
    newcomer = AttendanceEntry.objects.get(session__code="B-2025-02")
    assert (newcomer.member.member_no, newcomer.organization.code) == ("B100", "JG-01-02-1")
    # Bulk writes: imported entries carry no simple-history rows.
    assert not AttendanceEntry.history.exists()

    assert sorted(SelfStudy.objects.values_list("member__member_no", "hours")) == [
        ("A001", Decimal("2.0")),
        ("A002", Decimal("1.5")),
        ("B100", Decimal("1.0")),
    ]


def test_importing_the_same_workbook_twice_changes_nothing(cast):
    import_ledger(book(), user=cast.admin)
    before = state()
    result = import_ledger(book(), user=cast.admin)
    assert state() == before
    assert result.counts["活动"] == {"created": 0, "updated": 0}
    assert result.counts["考勤"] == {"created": 0, "updated": 0, "deleted": 0}
    assert result.counts["自学"] == {"created": 0, "deleted": 0, "unchanged": 3}


def test_a_later_workbook_updates_sessions_and_attendance_by_code(cast):
    import_ledger(book(), user=cast.admin)
    sessions = copy(SESSIONS)
    sessions[0][4:7] = [3, "学习党章（修订）", "林老师"]
    attendance = [
        ["A-2025-01", "A001", "迟到", None],  # status changed
        # A002 is no longer listed for A-2025-01: the workbook is the truth for it
        ["A-2025-02", "A002", "缺席", "2025-04-20"],  # status and make-up date changed
    ]
    result = import_ledger(
        book(sessions=sessions, attendance=attendance, self_study=[], orgs=[], members=[]),
        user=cast.admin,
    )
    assert result.counts["活动"] == {"created": 0, "updated": 1}
    assert result.counts["考勤"] == {"created": 0, "updated": 2, "deleted": 1}
    meeting = StudySession.objects.get(code="A-2025-01")
    assert (meeting.hours, meeting.topic, meeting.speaker) == (
        Decimal("3.0"),
        "学习党章（修订）",
        "林老师",
    )
    # Times were set at the first import; a workbook without them leaves them alone.
    assert (meeting.start_time, meeting.end_time) == (dt.time(9), dt.time(11))
    assert list(meeting.entries.values_list("member__member_no", "status")) == [("A001", "迟到")]
    assert meeting.attendance_version == 2
    assert not MakeUp.objects.filter(entry__session=meeting).exists()
    assert MakeUp.objects.get(entry__session__code="A-2025-02").date == dt.date(2025, 4, 20)
    # Sessions the later workbook does not list in 考勤 keep their attendance.
    untouched = StudySession.objects.get(code="B-2025-01")
    assert untouched.attendance_version == 1 and untouched.entries.count() == 2


def test_the_expected_list_of_an_imported_session_is_exactly_its_attendance_rows(cast):
    # Branch A's roll on that day is A001 and A002; the ledger lists only A001.
    import_ledger(
        workbook(
            活动=[SESSION_HEADER, SESSIONS[0]],
            考勤=[ATTENDANCE_HEADER, ["A-2025-01", "A001", "出席", None]],
        ),
        user=cast.admin,
    )
    session = StudySession.objects.get(code="A-2025-01")
    assert session.is_frozen
    assert list(session.entries.values_list("member__member_no", flat=True)) == ["A001"]
    assert not ExemptAttendee.objects.exists()
    # A member from elsewhere in the ledger's list is expected although not on the roll.
    import_ledger(
        workbook(
            考勤=[
                ATTENDANCE_HEADER,
                ["A-2025-01", "A001", "出席", None],
                ["A-2025-01", "B002", "缺席", None],
            ]
        ),
        user=cast.admin,
    )
    assert sorted(session.entries.values_list("member__member_no", "organization__code")) == [
        ("A001", "JG-01-01"),
        ("B002", "JG-01-02"),
    ]


def test_explicit_times_are_kept_and_a_long_session_ends_before_midnight(cast):
    header = [*SESSION_HEADER, "开始时间", "结束时间"]
    sessions = [
        [*SESSIONS[0], "14:30", "16:00"],
        ["A-2025-09", "JG-01-01", "党员教育培训", "2025-09-01", 12, "全天培训", "", "18:00", None],
        ["A-2025-10", "JG-01-01", "党课", "2025-10-01", 1.5, "党课", "", "9：30", None],
        ["A-2025-11", "JG-01-01", "党课", "2025-11-01", 1, "党课", "", None, dt.time(8, 0)],
    ]
    import_ledger(workbook(活动=[header, *sessions]), user=cast.admin)
    times = {
        code: (start, end)
        for code, start, end in StudySession.objects.values_list("code", "start_time", "end_time")
    }
    assert times == {
        "A-2025-01": (dt.time(14, 30), dt.time(16)),
        "A-2025-09": (dt.time(18), dt.time(23, 59)),
        "A-2025-10": (dt.time(9, 30), dt.time(11, 30)),
        "A-2025-11": (dt.time(7), dt.time(8)),
    }
    bad = [
        ["A-2025-12", "JG-01-01", "党课", "2025-12-01", 1, "党课", "", "25:00", None],
        ["A-2025-13", "JG-01-01", "党课", "2025-12-02", 1, "党课", "", "10:00", "09:00"],
    ]
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(workbook(活动=[header, *bad]), user=cast.admin)
    assert [str(e) for e in exc.value.errors] == [
        "活动，第2行，开始时间：时间「25:00」无法识别，应为如 9:00、09:00:00 或 14：30 的时间",
        "活动，第3行，结束时间：结束时间「09:00」应晚于开始时间「10:00」",
    ]


BAD_ROWS = [
    # (sheet, index of the row replaced, replacement, expected row number, column, fragment)
    (
        "考勤",
        0,
        ["X-9", "A001", "出席", None],
        2,
        "活动编号",
        "活动「X-9」既不在活动表中也不在系统中",
    ),
    (
        "考勤",
        0,
        ["A-2025-01", "Z999", "出席", None],
        2,
        "党员编号",
        "党员「Z999」既不在党员表中也不在系统中",
    ),
    ("考勤", 0, ["A-2025-01", "A001", "到了", None], 2, "状态", "状态「到了」无法识别"),
    ("考勤", 1, ["A-2025-01", "A001", "缺席", None], 3, "党员编号", "与第2行重复"),
    (
        "考勤",
        0,
        ["A-2025-01", "A001", "出席", "2025-03-10"],
        2,
        "补课日期",
        "只有请假或缺席才能填写补课日期",
    ),
    (
        "考勤",
        1,
        ["A-2025-01", "A002", "缺席", "2025-03-01"],
        3,
        "补课日期",
        "不能早于活动日期 2025-03-05",
    ),
    (
        "考勤",
        1,
        ["A-2025-01", "A002", "缺席", "2025/13/12"],
        3,
        "补课日期",
        "日期「2025/13/12」无法识别，应为 Excel 日期或如 2025-03-05",
    ),
    ("考勤", 0, ["A-2025-01", "", "出席", None], 2, "党员编号", "必填项为空"),
    (
        "活动",
        0,
        ["A-2025-01", "JG-01-01", "支部党员大会", "2025-02-30", 2, "学习党章", ""],
        2,
        "日期",
        "日期「2025-02-30」无法识别",
    ),
    (
        "活动",
        0,
        ["A-2025-01", "JG-01-01", "支部党员大会", "2025-03-05", "两", "学习党章", ""],
        2,
        "学时",
        "学时「两」不是数字",
    ),
    (
        "活动",
        0,
        ["A-2025-01", "JG-01-01", "支部党员大会", "2025-03-05", 0, "学习党章", ""],
        2,
        "学时",
        "学时「0」应大于 0",
    ),
    (
        "活动",
        1,
        ["A-2025-02", "JG-01-01-1", "支部党员大会", "2025-04-10", 1, "小组学习", ""],
        3,
        "类型",
        "支部党员大会只能由党支部组织",
    ),
    (
        "活动",
        0,
        ["A-2025-01", "JG-01-01", "座谈会", "2025-03-05", 2, "学习党章", ""],
        2,
        "类型",
        "类型「座谈会」无法识别",
    ),
    (
        "活动",
        0,
        ["A-2025-01", "XX-99", "党课", "2025-03-05", 2, "学习党章", ""],
        2,
        "组织编码",
        "组织「XX-99」既不在组织表中也不在系统中",
    ),
    (
        "活动",
        1,
        ["A-2025-01", "JG-01-01", "党课", "2025-04-10", 1, "重号", ""],
        3,
        "活动编号",
        "与第2行重复",
    ),
    (
        "活动",
        0,
        ["A-2025-01", "JG-01-01", "党课", "2025-03-05", 2, "", ""],
        2,
        "主题",
        "必填项为空",
    ),
    (
        "自学",
        0,
        ["Z999", "2025-03-01", 2, "党章"],
        2,
        "党员编号",
        "党员「Z999」既不在党员表中也不在系统中",
    ),
    ("自学", 0, ["A001", "2025-03-01", 25, "党章"], 2, "学时", "学时「25」应大于 0 且不超过 24"),
    ("自学", 0, ["A001", "三月一日", 2, "党章"], 2, "日期", "日期「三月一日」无法识别"),
    ("自学", 0, ["A001", "2025-03-01", 2, ""], 2, "内容", "必填项为空"),
]


@pytest.mark.parametrize(("sheet", "index", "row", "number", "column", "fragment"), BAD_ROWS)
def test_a_bad_row_is_reported_with_its_place_and_nothing_is_written(
    cast, sheet, index, row, number, column, fragment
):
    rows = {"活动": copy(SESSIONS), "考勤": copy(ATTENDANCE), "自学": copy(SELF_STUDY)}
    rows[sheet][index] = row
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(
            book(sessions=rows["活动"], attendance=rows["考勤"], self_study=rows["自学"]),
            user=cast.admin,
        )
    matching = [
        e for e in exc.value.errors if (e.sheet, e.row, e.column) == (sheet, number, column)
    ]
    assert matching, [str(e) for e in exc.value.errors]
    assert fragment in matching[0].message
    assert str(matching[0]).startswith(f"{sheet}，第{number}行，{column}：")
    assert nothing_written()


def test_every_error_of_the_three_sheets_is_reported_at_once(cast):
    sessions, attendance, self_study = copy(SESSIONS), copy(ATTENDANCE), copy(SELF_STUDY)
    sessions[2][4] = "两"
    attendance[3][2] = "到了"
    self_study[1][1] = "昨天"
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(book(sessions, attendance, self_study), user=cast.admin)
    places = {(e.sheet, e.row, e.column) for e in exc.value.errors}
    assert {("活动", 4, "学时"), ("考勤", 5, "状态"), ("自学", 3, "日期")} <= places
    # The rows of a session whose own row is wrong are not reported a second time.
    assert not any(e.sheet == "考勤" and e.column == "活动编号" for e in exc.value.errors)
    assert nothing_written()


def test_changing_the_date_of_a_session_with_attendance_is_refused(cast):
    import_ledger(book(), user=cast.admin)
    before = state()
    sessions = copy(SESSIONS)
    sessions[0][3] = "2025-03-06"
    sessions[1][2] = "集中学习"  # the type of the group's session, too
    sessions[2][4] = 4  # a legitimate change in the same workbook is not written either
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(book(sessions=sessions, attendance=[], self_study=[]), user=cast.admin)
    errors = {(e.sheet, e.row, e.column): e.message for e in exc.value.errors}
    assert (
        "已登记考勤，应到名单已固定，不能再修改日期（系统中为「2025-03-05」）"
        in errors[("活动", 2, "日期")]
    )
    assert "不能再修改类型" in errors[("活动", 3, "类型")]
    assert state() == before


def test_a_session_recorded_in_the_portal_is_not_overwritten(cast):
    session = services.session_create(
        organization=cast.branch_a,
        by=cast.secretary_a,
        code="A-P-01",
        type="集中学习",
        date=dt.date(2025, 6, 10),
        start_time=dt.time(14, 30),
        end_time=dt.time(16),
        hours=Decimal("1.5"),
        topic="集中学习",
    )
    a001, a002 = cast.secretary_a_member.pk, cast.member_a_member.pk
    services.attendance_record(
        session=session,
        entries=[EntryInput(a001, "出席"), EntryInput(a002, "缺席")],
        version=0,
        by=cast.secretary_a,
        now=session.ends_at,
    )
    agreeing = [["A-P-01", "A001", "出席", None], ["A-P-01", "A002", "缺席", None]]
    import_ledger(workbook(考勤=[ATTENDANCE_HEADER, *agreeing]), user=cast.admin)
    before = state()
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(
            workbook(考勤=[ATTENDANCE_HEADER, ["A-P-01", "A001", "缺席", None]]), user=cast.admin
        )
    places = {(e.row, e.column): e.message for e in exc.value.errors}
    assert "系统中登记为「出席」" in places[(2, "状态")]
    assert "还有 A002" in places[(2, "党员编号")]
    assert state() == before


def test_a_secretary_of_branch_b_cannot_import_for_branch_a(cast):
    import_ledger(
        workbook(活动=[SESSION_HEADER, SESSIONS[0]], 考勤=[ATTENDANCE_HEADER, ATTENDANCE[0]]),
        user=cast.admin,
    )
    before = state()
    bad = workbook(
        活动=[
            SESSION_HEADER,
            ["B-2025-05", "JG-01-01", "党课", "2025-05-01", 2, "越界的活动", ""],
            ["A-2025-01", "JG-01-02", "支部党员大会", "2025-03-05", 2, "抢走甲支部的活动", ""],
            ["B-2025-06", "JG-01-02", "党课", "2025-06-01", 2, "自己的活动", ""],
        ],
        考勤=[
            ATTENDANCE_HEADER,
            ["A-2025-01", "A002", "出席", None],
            ["B-2025-06", "A001", "出席", None],
            ["B-2025-06", "B002", "出席", None],
        ],
        自学=[
            SELF_STUDY_HEADER,
            ["A002", "2025-03-02", 1, "党史"],
            ["B002", "2025-03-02", 1, "党史"],
        ],
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(bad, user=cast.secretary_b)
    places = {(e.sheet, e.row, e.column) for e in exc.value.errors}
    assert ("活动", 2, "组织编码") in places  # a session for branch A
    assert ("活动", 3, "活动编号") in places  # taking over branch A's session
    assert ("考勤", 2, "活动编号") in places  # attendance of branch A's session
    assert ("考勤", 3, "党员编号") in places  # branch A's member in B's session
    assert ("自学", 2, "党员编号") in places  # branch A's member's self-study
    assert not {("活动", 4, "活动编号"), ("考勤", 4, "党员编号"), ("自学", 3, "党员编号")} & places
    assert state() == before
    # The same secretary's own rows import.
    own = workbook(
        活动=[SESSION_HEADER, ["B-2025-06", "JG-01-02", "党课", "2025-06-01", 2, "自己的活动", ""]],
        考勤=[ATTENDANCE_HEADER, ["B-2025-06", "B002", "出席", None]],
    )
    import_ledger(own, user=cast.secretary_b)
    assert StudySession.objects.get(code="B-2025-06").entries.get().member.member_no == "B002"


def test_self_study_is_not_created_twice_but_repeated_rows_are_kept(cast):
    rows = [["A001", "2025-03-01", 1, "党章"], ["A001", "2025-03-01", 1, "党章"]]
    import_ledger(workbook(自学=[SELF_STUDY_HEADER, *rows]), user=cast.admin)
    import_ledger(workbook(自学=[SELF_STUDY_HEADER, *rows]), user=cast.admin)
    assert SelfStudy.objects.count() == 2
    import_ledger(
        workbook(自学=[SELF_STUDY_HEADER, *rows, ["A001", "2025-03-01", 1, "党史"]]),
        user=cast.admin,
    )
    assert SelfStudy.objects.count() == 3


def _many_members(cast, n: int) -> list[str]:
    members = Member.objects.bulk_create(
        [Member(member_no=f"M{i:04d}", name=f"党员{i}") for i in range(n)]
    )
    Membership.objects.bulk_create(
        [
            Membership(member=m, organization=cast.branch_a, start=dt.date(2020, 1, 1))
            for m in members
        ]
    )
    return [m.member_no for m in members]


@pytest.mark.parametrize("n", [20, 200])
def test_attendance_import_queries_do_not_grow_with_the_rows(
    cast, n, django_assert_max_num_queries
):
    numbers = _many_members(cast, n)
    statuses = ["出席", "迟到", "请假", "缺席"]
    rows = [
        ["A-2025-01", no, statuses[i % 4], "2025-03-10" if i % 4 == 3 else None]
        for i, no in enumerate(numbers)
    ]
    first = workbook(活动=[SESSION_HEADER, SESSIONS[0]], 考勤=[ATTENDANCE_HEADER, *rows])
    with django_assert_max_num_queries(30):
        import_ledger(first, user=cast.secretary_a)
    assert AttendanceEntry.objects.count() == n
    # A later workbook: every status changes, a tenth of the rows are dropped.
    rows = [
        [c, no, statuses[(statuses.index(s) + 1) % 4], None] for c, no, s, _m in rows[n // 10 :]
    ]
    later = workbook(考勤=[ATTENDANCE_HEADER, *rows])
    with django_assert_max_num_queries(30):
        import_ledger(later, user=cast.secretary_a)
    assert AttendanceEntry.objects.count() == n - n // 10


def _portal_data(cast) -> None:
    """Besides the imported ledger: a session recorded in the portal, a make-up, self-study."""
    import_ledger(book(), user=cast.admin)
    session = services.session_create(
        organization=cast.branch_a,
        by=cast.secretary_a,
        code="A-P-01",
        type="集中学习",
        date=dt.date(2025, 6, 10),
        start_time=dt.time(14, 30),
        end_time=dt.time(16),
        hours=Decimal("1.5"),
        topic="=SUM(A1)",  # text that looks like a formula stays text
    )
    services.attendance_record(
        session=session,
        entries=[
            EntryInput(cast.secretary_a_member.pk, "出席"),
            EntryInput(cast.member_a_member.pk, "缺席"),
        ],
        version=0,
        by=cast.secretary_a,
        now=session.ends_at,
    )
    entry = session.entries.get(member=cast.member_a_member)
    services.makeup_record(
        entry=entry, date=dt.date(2025, 6, 20), note="自学补课", by=cast.secretary_a
    )
    SelfStudy.objects.create(
        member=cast.member_b_member, date=dt.date(2025, 8, 1), hours=Decimal("0.5"), material="党章"
    )
    # Out of the year: not exported.
    SelfStudy.objects.create(
        member=cast.member_b_member, date=dt.date(2024, 8, 1), hours=Decimal("1"), material="党章"
    )
    services.session_create(
        organization=cast.branch_b,
        by=None,
        code="B-2024-01",
        type="党课",
        date=dt.date(2024, 12, 31),
        start_time=dt.time(9),
        end_time=dt.time(10),
        hours=Decimal("1"),
        topic="去年的党课",
    )


def _wipe() -> None:
    MakeUp.objects.all().delete()
    AttendanceEntry.objects.all()._raw_delete("default")
    StudySession.objects.all().delete()
    SelfStudy.objects.all().delete()
    Role.objects.all().delete()
    Membership.objects.all().delete()
    Member.objects.all().delete()
    Organization.objects.all().delete()


def test_export_then_import_into_an_empty_database_gives_the_same_records(cast):
    _portal_data(cast)
    content = export_ledger(organization=cast.root, year=2025)
    # Importing the export into the same database changes nothing, the portal session included.
    before = state()
    result = import_ledger(io.BytesIO(content), user=importer())
    assert state() == before, result.counts
    StudySession.objects.filter(code="B-2024-01").delete()
    SelfStudy.objects.filter(date__year=2024).delete()
    expected = snapshot(exclude_codes=("QT", "QT-01"))

    _wipe()
    result = import_ledger(io.BytesIO(content), user=importer())
    assert not result.warnings
    assert snapshot() == expected
    assert result.counts["考勤"]["created"] == len(expected["entries"]) == 8
    assert StudySession.objects.get(code="A-P-01").topic == "=SUM(A1)"


def test_the_export_has_the_ledger_headers_real_dates_and_text_times(cast):
    _portal_data(cast)
    wb = load_workbook(io.BytesIO(export_ledger(organization=cast.branch_a, year=2025)))
    assert wb.sheetnames == ["组织", "党员", "活动", "考勤", "自学"]
    headers = {ws.title: [c.value for c in ws[1]] for ws in wb.worksheets}
    assert headers == {
        "组织": ORG_HEADER,
        "党员": MEMBER_HEADER,
        "活动": [*SESSION_HEADER, "开始时间", "结束时间"],
        "考勤": ATTENDANCE_HEADER,
        "自学": SELF_STUDY_HEADER,
    }
    orgs = [r for r in wb["组织"].iter_rows(min_row=2, values_only=True)]
    assert orgs == [
        ("JG-01-01", "甲支部", "党支部", "JG-01", None),
        ("JG-01-01-1", "甲支部第一党小组", "党小组", "JG-01-01", None),
    ]
    members = {r[0]: r for r in wb["党员"].iter_rows(min_row=2, values_only=True)}
    assert set(members) == {"A001", "A002"}
    assert members["A001"][2:4] == ("JG-01-01", "书记")
    assert members["A001"][6] == dt.datetime(2020, 1, 1)
    assert members["A001"][8] == "13800001111"
    sessions = {r[0]: r for r in wb["活动"].iter_rows(min_row=2, values_only=True)}
    assert set(sessions) == {"A-2025-01", "A-2025-02", "A-P-01"}
    assert sessions["A-P-01"][3:] == (
        dt.datetime(2025, 6, 10),
        1.5,
        "\u3000=SUM(A1)",  # neutralised: never a formula; the import strips the space again
        None,
        "14:30",
        "16:00",
    )
    assert wb["活动"]["D2"].is_date
    attendance = list(wb["考勤"].iter_rows(min_row=2, values_only=True))
    assert ("A-P-01", "A002", "缺席", dt.datetime(2025, 6, 20)) in attendance
    assert len(attendance) == 5
    assert list(wb["自学"].iter_rows(min_row=2, values_only=True)) == [
        ("A001", dt.datetime(2025, 3, 1), 2, "《中国共产党章程》"),
        ("A002", dt.datetime(2025, 3, 2), 1.5, "党史学习"),
    ]


def test_the_export_queries_do_not_grow_with_the_rows(cast, django_assert_max_num_queries):
    _portal_data(cast)
    numbers = _many_members(cast, 150)
    rows = [["A-2025-01", no, "出席", None] for no in numbers]
    import_ledger(
        workbook(
            考勤=[
                ATTENDANCE_HEADER,
                ["A-2025-01", "A001", "出席", None],
                ["A-2025-01", "A002", "缺席", "2025-03-12"],
                *rows,
            ]
        ),
        user=importer(),
    )
    with django_assert_max_num_queries(8):
        export_ledger(organization=cast.general, year=2025)


def test_the_export_view_gives_the_secretary_an_xlsx(cast):
    _portal_data(cast)
    url = reverse("attendance:ledger_export", args=["JG-01-01"])
    response = cast.client("secretary_a").get(url, {"year": "2025"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('学习台账-JG-01-01-2025.xlsx')}" in disposition
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["组织", "党员", "活动", "考勤", "自学"]
    assert wb["活动"].max_row == 4
    # The secretary's own export imports back unchanged, the portal session included.
    before = state()
    import_ledger(io.BytesIO(response.content), user=cast.secretary_a)
    assert state() == before


def test_a_reviewer_gets_the_ledger_without_full_mobile_numbers(cast):
    url = reverse("attendance:ledger_export", args=["JG-01-01"])
    response = cast.client("reviewer").get(url, {"year": "2025"})
    assert response.status_code == 200
    members = load_workbook(io.BytesIO(response.content))["党员"]
    assert [r[8] for r in members.iter_rows(min_row=2, values_only=True)] == [None, None]


def test_the_export_view_refuses_others_anonymous_and_bad_years(cast):
    url = reverse("attendance:ledger_export", args=["JG-01-01"])
    assert cast.client("secretary_b").get(url).status_code == 404
    assert cast.client("member_a").get(url).status_code == 404
    assert (
        cast.client("secretary_a")
        .get(reverse("attendance:ledger_export", args=["NOPE"]))
        .status_code
        == 404
    )
    anonymous = cast.client(None).get(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    for year in ("二〇二五", "25", "1999", "2025x"):
        response = cast.client("secretary_a").get(url, {"year": year})
        assert response.status_code == 400
        assert "年份" in response.content.decode()
    assert cast.client("secretary_a").get(url).status_code == 200  # the current year


def test_the_command_writes_the_workbook(cast, tmp_path, capsys):
    _portal_data(cast)
    out = tmp_path / "台账.xlsx"
    call_command("export_ledger", "--org", "JG", "--year", "2025", "--out", str(out))
    assert "已导出" in capsys.readouterr().out
    assert load_workbook(out)["考勤"].max_row == 9
    with pytest.raises(CommandError, match="没有编码为「NOPE」的组织"):
        call_command("export_ledger", "--org", "NOPE", "--year", "2025", "--out", str(out))
    with pytest.raises(CommandError, match="年份「20x5」无效"):
        call_command("export_ledger", "--org", "JG", "--year", "20x5", "--out", str(out))


def test_without_postgresql_copy_the_import_writes_the_same_records(cast, monkeypatch):
    from django.db import connection

    import_ledger(book(), user=cast.admin)
    expected = snapshot()
    MakeUp.objects.all().delete()
    AttendanceEntry.objects.all()._raw_delete("default")
    StudySession.objects.all().delete()
    # The embedded default database (SQLite) has no COPY: bulk_create does the inserts.
    monkeypatch.setattr(connection, "vendor", "sqlite")
    import_ledger(book(), user=cast.admin)
    assert snapshot() == expected


def test_copy_rows_keep_tabs_backslashes_and_nulls(db):
    """_insert writes COPY's text format by hand: special characters must survive."""
    from django.utils import timezone

    from attendance.ledger_sheets import _insert
    from tests.factories import make_org, make_session

    session = make_session(make_org("C", "党委"), "党课", dt.date(2025, 3, 5))
    member = Member.objects.create(member_no="C001", name="c")
    now = timezone.now()
    _insert(
        AttendanceEntry,
        ("session", "member", "organization", "status"),
        [(session.pk, member.pk, None, "缺席")],
        constants={"source": "导入", "updated_by": None, "updated_at": now},
    )
    entry = AttendanceEntry.objects.get()
    assert (entry.organization_id, entry.updated_by_id, entry.updated_at) == (None, None, now)
    note = "补\t课\\n\n第二行\r"
    _insert(
        MakeUp,
        ("entry", "date", "note", "created_by", "created_at"),
        [(entry.pk, dt.date(2025, 3, 6), note, None, now)],
    )
    assert MakeUp.objects.get().note == note
