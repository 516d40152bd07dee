"""A secretary's real workbook (LEDGER.md, "What a secretary's real workbook looks like").

Each case builds the workbook as people keep it, imports it, and checks what was stored or
the exact error, and that a refused import wrote nothing. Where LibreOffice is installed
the same workbook is also converted to .xls and .ods and imported from those.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import tempfile
import time
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from attendance.models import AttendanceEntry, SelfStudy, StudySession
from branches.ledger import LedgerRejected, import_ledger
from branches.models import Member, Membership, Organization, Role, RoleKind, User
from tests.factories import UserFactory, make_member, workbook

SESSION_HEADER = ["活动编号", "组织编码", "类型", "日期", "学时", "主题", "主讲人"]
ATTENDANCE_HEADER = ["活动编号", "党员编号", "状态", "补课日期"]
SELF_STUDY_HEADER = ["党员编号", "日期", "学时", "内容"]
ORG_HEADER = ["编码", "名称", "类型", "上级编码", "规则方案"]
MEMBER_HEADER = ["编号", "姓名", "所在组织编码", "职务", "类别", "干部层级", "转入日期"]
SOFFICE = shutil.which("soffice")


def admin() -> User:
    return User(username="importer", is_superuser=True, is_active=True)


def build(
    sheets: dict[str, list[list]],
    *,
    merges: dict[str, list[str]] | None = None,
    hidden: dict[str, list[int]] | None = None,
) -> bytes:
    """An .xlsx with the sheets' rows from A1, merged ranges and hidden rows (Excel numbers)."""
    wb = load_workbook(workbook(**sheets))
    for name, ranges in (merges or {}).items():
        for cells in ranges:
            wb[name].merge_cells(cells)
    for name, numbers in (hidden or {}).items():
        for number in numbers:
            wb[name].row_dimensions[number].hidden = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def convert(data: bytes, fmt: str) -> bytes:
    """The workbook saved by LibreOffice as .xls or .ods."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "台账.xlsx"
        source.write_bytes(data)
        profile = Path(tmp) / f"profile-{uuid.uuid4().hex}"
        subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                fmt,
                "--outdir",
                tmp,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return (Path(tmp) / f"台账.{fmt}").read_bytes()


FORMATS = ["xlsx"] + (["xls", "ods"] if SOFFICE else [])


def as_format(data: bytes, fmt: str) -> io.BytesIO:
    return io.BytesIO(data if fmt == "xlsx" else convert(data, fmt))


def session_row(code="A-01", date=dt.date(2025, 3, 5), hours=2, **over):
    row = {"活动编号": code, "组织编码": "JG-01-01", "类型": "支部党员大会", "日期": date}
    row |= {"学时": hours, "主题": "学习党章", "主讲人": ""} | over
    return [row[h] for h in SESSION_HEADER]


def stored():
    return (
        sorted(StudySession.objects.values_list("code", "date", "hours")),
        sorted(AttendanceEntry.objects.values_list("session__code", "member__member_no", "status")),
        sorted(SelfStudy.objects.values_list("member__member_no", "date", "hours", "material")),
    )


# Where the table starts, merged cells, hidden and total rows


@pytest.mark.parametrize("fmt", FORMATS)
def test_title_rows_blank_columns_merged_codes_hidden_and_total_rows(cast, fmt):
    data = build(
        {
            "活动": [
                ["", "甲支部2025年学习台账"],
                [],
                [None, *SESSION_HEADER[:4], "学时（小时）", *SESSION_HEADER[5:]],
                [None, *session_row("A-01")],
                [None, *session_row("A-02", hours=8, 主题="（作废）误录")],
                [None, "合计", None, None, None, "=SUM(F4:F5)"],
            ],
            "考勤": [
                ["甲支部考勤登记"],
                ATTENDANCE_HEADER,
                ["A-01", "A001", "出席"],
                [None, "A002", "请假"],
                [None, "B100", "缺席"],  # hidden: a struck-out entry kept for the record
            ],
        },
        merges={"考勤": ["A3:A5"]},
        hidden={"活动": [5], "考勤": [5]},
    )
    result = import_ledger(as_format(data, fmt), user=admin())
    sessions, entries, _ = stored()
    assert sessions == [("A-01", dt.date(2025, 3, 5), Decimal("2.00"))]
    assert entries == [("A-01", "A001", "出席"), ("A-01", "A002", "请假")]
    assert result.skipped == [
        "活动：已跳过隐藏行 1 行（第5行），合计行 1 行（第6行）",
        "考勤：已跳过隐藏行 1 行（第5行）",
    ]


def test_a_row_of_only_sum_formulas_is_a_total_row(cast):
    data = build(
        {
            "活动": [
                SESSION_HEADER,
                session_row("A-01"),
                session_row("A-02", hours=1.5),
                [None, None, None, None, "=SUM(E2:E3)"],
            ]
        }
    )
    result = import_ledger(io.BytesIO(data), user=admin())
    assert result.skipped == ["活动：已跳过合计行 1 行（第4行）"]
    assert StudySession.objects.count() == 2


@pytest.mark.parametrize(
    "header", ["学时（小时）", "学时(h)", " 学 时 ", "学时\u3000", "*学时", "学时（学时）"]
)
def test_a_header_with_a_unit_or_spaces_is_the_column(cast, header):
    data = build({"活动": [[*SESSION_HEADER[:4], header, *SESSION_HEADER[5:]], session_row()]})
    import_ledger(io.BytesIO(data), user=admin())
    assert StudySession.objects.get().hours == Decimal("2")


def test_a_missing_header_is_one_error_where_the_header_must_be(cast):
    data = build(
        {
            "活动": [
                ["甲支部2025年学习台账"],
                ["活动编号", "组织编码", "类型", "日期", "主题"],
                *[session_row(f"A-{i:02}")[:4] + ["学习"] for i in range(30)],
            ],
            "考勤": [ATTENDANCE_HEADER, *[[f"A-{i:02}", "A001", "出席"] for i in range(30)]],
        }
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    assert [str(e) for e in exc.value.errors] == [
        "活动，第2行，学时：缺少必填列。表头行应含有：活动编号、组织编码、类型、日期、学时、主题"
        "（标题行可在表头行上方；在前 30 行中含有最多必填列名的是第2行）"
    ]
    assert stored() == ([], [], [])


def test_a_merged_session_code_applies_to_each_of_its_rows(cast):
    members = [f"A{i:03}" for i in range(3, 40)]
    for no in members:
        make_member(cast.branch_a, name=f"党员{no}", member_no=no, start=dt.date(2020, 1, 1))
    data = build(
        {
            "活动": [SESSION_HEADER, session_row("A-01")],
            "考勤": [
                ATTENDANCE_HEADER,
                *[["A-01" if i == 0 else None, no, "出席"] for i, no in enumerate(members)],
            ],
        },
        merges={"考勤": [f"A2:A{len(members) + 1}"]},
    )
    import_ledger(io.BytesIO(data), user=admin())
    assert AttendanceEntry.objects.filter(session__code="A-01").count() == len(members)


# Values


@pytest.mark.parametrize(
    "text",
    [
        "2025.3.5",
        "2025/3/5",
        "2025年3月5日",
        "2025-3-5",
        "20250305",
        "２０２５-０３-０５",
        20250305,
    ],
)
def test_every_date_form_people_type(cast, text):
    import_ledger(
        io.BytesIO(build({"活动": [SESSION_HEADER, session_row(date=text)]})), user=admin()
    )
    assert StudySession.objects.get().date == dt.date(2025, 3, 5)


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("2小时", "2"),
        ("1.5h", "1.5"),
        ("1.5学时", "1.5"),
        (1.25, "1.25"),
        ("1.25", "1.25"),
        ("１．５", "1.5"),
        (0.04, "0.04"),
        (1.005, "1.01"),
    ],
)
def test_every_hours_form_is_kept_to_two_decimals(cast, text, hours):
    data = build(
        {
            "活动": [SESSION_HEADER, session_row(hours=text)],
            "自学": [SELF_STUDY_HEADER, ["A001", "2025-03-01", text, "党章"]],
        }
    )
    import_ledger(io.BytesIO(data), user=admin())
    assert StudySession.objects.get().hours == Decimal(hours)
    assert SelfStudy.objects.get().hours == Decimal(hours)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (0.004, "学时「0.004」应大于 0 且不超过 24（保留 2 位小数），例如 2、1.5 或 1.5小时"),
        (-2, "学时「-2」应大于 0 且不超过 24（保留 2 位小数），例如 2、1.5 或 1.5小时"),
        ("两小时", "学时「两小时」不是数字，应为大于 0 的学时数，例如 2、1.5 或 1.5小时"),
    ],
)
def test_hours_that_cannot_be_stored_are_one_error_with_an_example(cast, text, message):
    data = build({"活动": [SESSION_HEADER, session_row(hours=text)]})
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    assert [str(e) for e in exc.value.errors] == [f"活动，第2行，学时：{message}"]
    assert stored() == ([], [], [])


@pytest.mark.parametrize("text", ["9:00", "09:00:00", "9：00", "０９:００"])
def test_every_time_form(cast, text):
    header = [*SESSION_HEADER, "开始时间"]
    import_ledger(io.BytesIO(build({"活动": [header, [*session_row(), text]]})), user=admin())
    assert StudySession.objects.get().start_time == dt.time(9, 0)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("出勤", "出席"),
        ("到", "出席"),
        ("到会", "出席"),
        ("√", "出席"),
        ("✓", "出席"),
        ("病假", "请假"),
        ("事假", "请假"),
        ("公假", "请假"),
        ("公差", "请假"),
        ("旷课", "缺席"),
        ("未到", "缺席"),
        ("×", "缺席"),
        ("✗", "缺席"),
        (" 迟到 ", "迟到"),
    ],
)
def test_status_words_are_stored_as_the_canonical_status(cast, word, status):
    data = build(
        {
            "活动": [SESSION_HEADER, session_row()],
            "考勤": [ATTENDANCE_HEADER, ["A-01", "A001", word]],
        }
    )
    import_ledger(io.BytesIO(data), user=admin())
    assert AttendanceEntry.objects.get().status == status


def test_an_unknown_status_names_the_value_and_what_is_expected(cast):
    data = build(
        {
            "活动": [SESSION_HEADER, session_row()],
            "考勤": [ATTENDANCE_HEADER, ["A-01", "A001", "早到"]],
        }
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    assert [str(e) for e in exc.value.errors] == [
        "考勤，第2行，状态：状态「早到」无法识别，可填：出席、迟到、请假、缺席"
    ]
    assert stored() == ([], [], [])


def test_full_width_codes_are_ascii_and_names_keep_a_normalised_middle_dot(cast):
    data = build(
        {
            "党员": [
                MEMBER_HEADER,
                ["Ａ１００", "阿依古丽•买买提", "ＪＧ－０１－０１", "", "", "", "2025-01-01"],
            ],
            "活动": [SESSION_HEADER, session_row("Ａ－０１")],
            "考勤": [ATTENDANCE_HEADER, ["Ａ－０１", "Ａ１００", "出席"]],
        }
    )
    import_ledger(io.BytesIO(data), user=admin())
    member = Member.objects.get(member_no="A100")
    assert member.name == "阿依古丽·买买提"
    assert member.memberships.get().organization.code == "JG-01-01"
    assert stored()[1] == [("A-01", "A100", "出席")]


# Self-study corrections


def test_a_corrected_self_study_row_replaces_the_imported_one_and_keeps_portal_entries(cast):
    from attendance.services import self_study_log

    self_study_log(
        member=cast.member_a_member,
        date=dt.date(2025, 3, 1),
        hours=Decimal("1"),
        material="在系统中登记",
        token=uuid.uuid4().hex,
    )
    first = build({"自学": [SELF_STUDY_HEADER, ["A002", "2025-03-01", 2, "党章"]]})
    import_ledger(io.BytesIO(first), user=admin())
    corrected = build({"自学": [SELF_STUDY_HEADER, ["A002", "2025-03-01", 1.5, "党章"]]})
    result = import_ledger(io.BytesIO(corrected), user=admin())
    assert result.counts["自学"] == {"created": 1, "deleted": 1, "unchanged": 0}
    assert stored()[2] == [
        ("A002", dt.date(2025, 3, 1), Decimal("1.00"), "在系统中登记"),
        ("A002", dt.date(2025, 3, 1), Decimal("1.50"), "党章"),
    ]
    again = import_ledger(io.BytesIO(corrected), user=admin())
    assert again.counts["自学"] == {"created": 0, "deleted": 0, "unchanged": 1}


# Sheet names


@pytest.mark.parametrize("title", ["考勤表", "考勤记录", " 考勤 ", "2025年考勤"])
def test_a_near_miss_sheet_name_is_read_as_that_sheet(cast, title):
    data = build(
        {
            "活动": [SESSION_HEADER, session_row()],
            title: [ATTENDANCE_HEADER, ["A-01", "A001", "出席"]],
        }
    )
    result = import_ledger(io.BytesIO(data), user=admin())
    assert stored()[1] == [("A-01", "A001", "出席")]
    if title.strip() != "考勤":
        assert f"工作表「{title}」按台账的「考勤」工作表导入" in result.warnings


def test_a_sheet_whose_title_only_contains_a_sheet_name_and_none_of_its_columns_is_ignored(cast):
    data = build(
        {
            "活动": [SESSION_HEADER, session_row()],
            "组织生活会记录": [["时间", "议题"], ["2025-03-01", "对照检查"]],
        }
    )
    result = import_ledger(io.BytesIO(data), user=admin())
    assert "工作表「组织生活会记录」不是台账的工作表，已忽略" in result.warnings
    assert StudySession.objects.count() == 1


def test_a_near_miss_sheet_with_a_wrong_column_refuses_the_whole_import(cast):
    data = build(
        {
            "活动": [SESSION_HEADER, session_row()],
            "考勤表": [["活动编号", "党员编号", "出勤情况"], ["A-01", "A001", "出席"]],
        }
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    assert [e.column for e in exc.value.errors] == ["状态"]
    assert stored() == ([], [], [])


def test_two_sheets_read_as_the_same_one_refuse_the_import(cast):
    data = build(
        {
            "活动": [SESSION_HEADER, session_row()],
            "考勤": [ATTENDANCE_HEADER, ["A-01", "A001", "出席"]],
            "考勤表": [ATTENDANCE_HEADER, ["A-01", "A002", "出席"]],
        }
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    assert [str(e) for e in exc.value.errors] == [
        "考勤，整个工作表：工作簿中有 2 个工作表都会作为「考勤」导入（「考勤」、「考勤表」），请只保留一个"
    ]
    assert stored() == ([], [], [])


# Errors


def test_more_than_200_errors_are_grouped_by_column_and_cause(cast):
    rows = [["A-01", f"Z{i:04}", "早到" if i % 2 else "出席"] for i in range(600)]
    data = build({"活动": [SESSION_HEADER, session_row()], "考勤": [ATTENDANCE_HEADER, *rows]})
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    lines = exc.value.lines()
    assert len(exc.value.errors) == 600
    assert lines == [
        "错误超过 200 处，按列和原因归并：",
        "考勤，党员编号：党员「Z0000」既不在党员表中也不在系统中（共 300 行：第2、4、6、8、10行等）",
        "考勤，状态：状态「早到」无法识别，可填：出席、迟到、请假、缺席（共 300 行：第3、5、7、9、11行等）",
    ]


def test_an_unknown_rule_profile_is_one_error_not_one_per_member(cast):
    data = build(
        {
            "组织": [ORG_HEADER, ["JG-01-03", "丁支部", "党支部", "JG-01", "不存在的方案"]],
            "党员": [
                MEMBER_HEADER,
                *[[f"D{i:03}", f"丁{i}", "JG-01-03", "", "", "", "2025-01-01"] for i in range(20)],
            ],
        }
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    assert [str(e) for e in exc.value.errors] == [
        "组织，第2行，规则方案：没有名为「不存在的方案」的规则方案"
    ]
    assert not Organization.objects.filter(code="JG-01-03").exists()


def test_a_cycle_names_its_codes(cast):
    data = build(
        {
            "组织": [
                ORG_HEADER,
                ["X1", "一", "党总支", "X2", ""],
                ["X2", "二", "党总支", "X1", ""],
            ]
        }
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    messages = [str(e) for e in exc.value.errors]
    assert "组织，第2行，上级编码：上级关系形成循环：X1 → X2 → X1" in messages


# 2a columns


def test_start_and_end_dates_of_organizations_and_central_group_members(cast):
    data = build(
        {
            "组织": [
                [*ORG_HEADER, "成立日期", "撤销日期"],
                ["JG-01-03", "丁支部", "党支部", "JG-01", "", "2025.4.1", "2026年1月1日"],
            ],
            "党员": [
                [*MEMBER_HEADER, "中心组"],
                ["D001", "丁书记", "JG-01-03", "书记", "", "", "2025-04-01", "JG、QT"],
            ],
        }
    )
    import_ledger(io.BytesIO(data), user=admin())
    org = Organization.objects.get(code="JG-01-03")
    assert (org.active_from, org.active_until) == (dt.date(2025, 4, 1), dt.date(2026, 1, 1))
    roles = Role.objects.filter(member__member_no="D001", kind=RoleKind.CENTRAL_GROUP_MEMBER)
    assert sorted(roles.values_list("organization__code", flat=True)) == ["JG", "QT"]
    import_ledger(io.BytesIO(data), user=admin())
    assert roles.count() == 2


def test_a_central_group_only_at_a_committee(cast):
    data = build(
        {
            "党员": [
                [*MEMBER_HEADER, "中心组"],
                ["A001", "甲书记", "JG-01-01", "", "", "", "", "JG-01"],
            ]
        }
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    assert [str(e) for e in exc.value.errors] == [
        "党员，第2行，中心组：「JG-01」是党总支，中心组只设在党委、党组、机关党委"
    ]


# Powers (issue 12)


def test_a_member_linked_to_a_superuser_is_not_put_on_a_secretarys_roll(cast):
    boss = UserFactory(username="boss", is_superuser=True, is_staff=True)
    Member.objects.create(member_no="Z001", name="管理员", user=boss)
    elsewhere = UserFactory(username="elsewhere")
    member = make_member(cast.branch_b, name="乙委员", member_no="Z002", start=dt.date(2020, 1, 1))
    member.user = elsewhere
    member.save()
    Membership.objects.filter(member=member).update(end=dt.date(2024, 1, 1))
    Role.objects.create(member=member, organization=cast.branch_b, kind=RoleKind.COMMITTEE_MEMBER)
    data = build(
        {
            "党员": [
                MEMBER_HEADER,
                ["Z001", "管理员", "JG-01-01", "", "", "", "2025-01-01"],
                ["Z002", "乙委员", "JG-01-01", "", "", "", "2025-01-01"],
            ]
        }
    )
    before = list(Membership.objects.values_list("member__member_no", "organization__code", "end"))
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=cast.secretary_a)
    message = (
        "关联的账号拥有您管理范围以外的权限（管理员或其他组织的职务），"
        "不能通过导入编入您的组织；请联系系统管理员办理"
    )
    assert [str(e) for e in exc.value.errors] == [
        f"党员，第2行，编号：党员「Z001」{message}",
        f"党员，第3行，编号：党员「Z002」{message}",
    ]
    after = list(Membership.objects.values_list("member__member_no", "organization__code", "end"))
    assert after == before


def test_a_branch_is_not_moved_under_a_parent_outside_the_secretarys_scope(cast):
    data = build(
        {"组织": [ORG_HEADER, ["JG-01-01-1", "甲支部第一党小组", "党小组", "JG-01-02", ""]]}
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=cast.secretary_a)
    assert [str(e) for e in exc.value.errors] == [
        "组织，第2行，上级编码：上级组织「JG-01-02」不在您管理的范围内，不能把「JG-01-01-1」移到其下"
    ]
    assert Organization.objects.get_parent(cast.group_a1).code == "JG-01-01"


def test_errors_do_not_say_where_an_out_of_scope_member_or_session_is(cast):
    from tests.factories import make_session

    make_session(cast.branch_b, code="B-01", date=dt.date(2025, 3, 5))
    data = build(
        {
            "党员": [MEMBER_HEADER, ["B002", "乙党员", "JG-01-01", "", "", "", "2025-01-01"]],
            "活动": [SESSION_HEADER, session_row("B-01")],
        }
    )
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=cast.secretary_a)
    text = "\n".join(str(e) for e in exc.value.errors)
    assert "党员「B002」当前不在您管理的组织中，须由其所在组织转出后再导入" in text
    assert "活动「B-01」不在您管理的范围内" in text
    assert "乙支部" not in text and "JG-01-02" not in text


def _million_row_xlsx(rows: int) -> bytes:
    """A minimal .xlsx written directly: openpyxl would take minutes for a million rows."""
    sheet = io.BytesIO()
    sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/')
    sheet.write(b'spreadsheetml/2006/main"><sheetData>')
    for r in range(1, rows + 1):
        sheet.write(
            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>'
            % (r, r, uuid.uuid4().hex[:8].encode())
        )
    sheet.write(b"</sheetData></worksheet>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships"><sheets><sheet name="考勤" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet.getvalue())
    return buffer.getvalue()


@pytest.fixture
def uploads(settings, tmp_path):
    settings.LEDGER_UPLOAD_DIR = tmp_path
    return tmp_path


def test_a_million_row_workbook_is_refused_fast_with_a_small_page(cast, uploads):
    data = _million_row_xlsx(1_000_000)
    started = time.perf_counter()
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=admin())
    elapsed = time.perf_counter() - started
    assert [str(e) for e in exc.value.errors] == [
        "工作簿，整个工作表：工作表「考勤」超过 200000 行，已拒绝导入；"
        "请按组织或年度拆分为多个工作簿后分别导入"
    ]
    assert elapsed < 5, elapsed
    response = cast.client("secretary_a").post(
        reverse("branches:ledger_import"), {"file": SimpleUploadedFile("台账.xlsx", data)}
    )
    assert "超过 200000 行" in response.content.decode()
    assert len(response.content) < 50_000


@pytest.mark.parametrize("fmt", ["ods", "xls"] if SOFFICE else [])
def test_the_upload_page_takes_xls_and_ods(cast, fmt, uploads):
    data = convert(build({"活动": [SESSION_HEADER, session_row()]}), fmt)
    client = cast.client("secretary_a")
    response = client.post(
        reverse("branches:ledger_import"), {"file": SimpleUploadedFile(f"台账.{fmt}", data)}
    )
    assert "活动：新增 1，更新 0" in response.content.decode()
    assert [p.suffix for p in uploads.iterdir()] == [f".{fmt}"]
    response = client.post(
        reverse("branches:ledger_import"), {"token": response.context["token"], "action": "confirm"}
    )
    assert "导入完成" in response.content.decode()
    assert StudySession.objects.get().code == "A-01"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_command_previews_then_imports_every_format(cast, fmt, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / f"台账.{fmt}"
    path.write_bytes(as_format(build({"活动": [SESSION_HEADER, session_row()]}), fmt).getvalue())
    call_command("import_ledger", str(path), "--dry-run")
    assert "活动：created 1，updated 0" in capsys.readouterr().out
    assert stored() == ([], [], [])
    call_command("import_ledger", str(path))
    assert stored()[0] == [("A-01", dt.date(2025, 3, 5), Decimal("2.00"))]


def test_a_transfer_that_would_end_a_role_outside_the_scope_is_refused(cast):
    member = cast.member_a_member
    Role.objects.create(member=member, organization=cast.branch_c, kind=RoleKind.COMMITTEE_MEMBER)
    Role.objects.create(member=member, organization=cast.general, kind=RoleKind.DEPUTY_SECRETARY)
    move = ["A002", "甲党员", "JG-01-01", "", "", "", "2025-06-01"]
    data = build({"党员": [MEMBER_HEADER, move]})
    roles = sorted(Role.objects.filter(member=member).values_list("organization__code", "end"))
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(data), user=cast.secretary_a)
    assert [str(e) for e in exc.value.errors] == [
        "党员，第2行，所在组织编码：党员「A002」在您管理范围以外的组织担任职务，转接会终止这些职务；"
        "请联系该组织或系统管理员办理"
    ]
    assert (
        sorted(Role.objects.filter(member=member).values_list("organization__code", "end")) == roles
    )
    # The 副书记 role at the 党总支 above the new organization alone does not block the move.
    Role.objects.filter(member=member, organization=cast.branch_c).delete()
    import_ledger(io.BytesIO(data), user=cast.secretary_a)
    assert member.memberships.get(end__isnull=True).organization.code == "JG-01-01"
    assert Role.objects.get(member=member, organization=cast.general).end is None
