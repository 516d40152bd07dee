"""Roster import (组织 and 党员 sheets of LEDGER.md): all-or-nothing, row-level errors, idempotent."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import F
from django.urls import reverse

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

GOOD_ORGS = [
    # The child comes before its parent on purpose: the parent may be in a later row.
    ["SZ-01-01", "综合处党支部", "党支部", "SZ-01", ""],
    ["SZ", "市直机关党委", "机关党委", "", "福建省住建厅机关"],
    ["SZ-01", "第一党总支", "党总支", "SZ", ""],
    ["SZ-01-01-1", "综合处第一党小组", "党小组", "SZ-01-01", ""],
    ["SZ-01-02", "财务处党支部", "党支部", "SZ-01", ""],
]
GOOD_MEMBERS = [
    ["S001", "林书记", "SZ-01-01", "书记", "", "处级", dt.date(2021, 3, 1), None, "13800138000"],
    ["S002", "陈组长", "SZ-01-01-1", "小组长", "正式党员", "", "2022-01-05", None, ""],
    ["S003", "黄预备", "SZ-01-01-1", "", "预备党员", "", None, None, 13912345678],
    ["S004", "周离开", "SZ-01-02", "", "", "", "2020-01-01", "2025-04-30", ""],
]


def good_book(orgs=GOOD_ORGS, members=GOOD_MEMBERS) -> io.BytesIO:
    return workbook(组织=[ORG_HEADER, *orgs], 党员=[MEMBER_HEADER, *members])


def admin():
    return User(username="importer", is_superuser=True, is_active=True)


def snapshot():
    return (
        sorted(Organization.objects.values_list("code", "name", "type", "path", "profile_name")),
        sorted(
            Member.objects.values_list("member_no", "name", "category", "cadre_level", "mobile")
        ),
        sorted(
            Membership.objects.values_list(
                "member__member_no", "organization__code", "start", "end"
            )
        ),
        sorted(
            Role.objects.values_list(
                "member__member_no", "organization__code", "kind", "start", "end"
            )
        ),
    )


def test_good_workbook_builds_the_tree_roster_and_roles(db):
    result = import_ledger(good_book(), user=admin())
    assert result.counts["组织"]["created"] == 5
    assert result.counts["党员"]["created"] == 4
    root = Organization.objects.get(code="SZ")
    assert [o.code for o in root.subtree()] == ["SZ", "SZ-01", "SZ-01-01", "SZ-01-01-1", "SZ-01-02"]
    assert (
        Organization.objects.get(code="SZ-01-01-1").effective_profile_name() == "福建省住建厅机关"
    )
    lin = Member.objects.get(member_no="S001")
    assert (lin.cadre_level, lin.mobile) == ("处级", "13800138000")
    assert Membership.objects.get(member=lin).start == dt.date(2021, 3, 1)
    assert Role.objects.get(member=lin).organization.code == "SZ-01-01"
    assert Role.objects.get(member__member_no="S002").kind == "小组长"
    assert Member.objects.get(member_no="S003").mobile == "13912345678"  # a number cell
    left = Membership.objects.get(member__member_no="S004")
    assert (left.start, left.end) == (dt.date(2020, 1, 1), dt.date(2025, 4, 30))


def test_importing_the_same_workbook_twice_changes_nothing(db):
    import_ledger(good_book(), user=admin())
    before = snapshot()
    result = import_ledger(good_book(), user=admin())
    assert snapshot() == before
    assert result.counts["组织"] == {"created": 0, "updated": 0, "moved": 0}
    assert result.counts["党员"] == {"created": 0, "updated": 0, "transferred": 0}


def test_a_later_workbook_updates_by_code_and_transfers_with_a_date(db):
    import_ledger(good_book(), user=admin())
    orgs = [list(r) for r in GOOD_ORGS]
    orgs[0][1] = "综合处（改名）党支部"
    members = [list(r) for r in GOOD_MEMBERS]
    members[2] = ["S003", "黄预备", "SZ-01-02", "", "正式党员", "", "2025-07-01", None, ""]
    result = import_ledger(good_book(orgs, members), user=admin())
    assert Organization.objects.get(code="SZ-01-01").name == "综合处（改名）党支部"
    assert result.counts["党员"]["transferred"] == 1
    history = list(
        Membership.objects.filter(member__member_no="S003")
        .order_by(F("start").asc(nulls_first=True))
        .values_list("organization__code", "start", "end")
    )
    assert history == [
        ("SZ-01-01-1", None, dt.date(2025, 7, 1)),
        ("SZ-01-02", dt.date(2025, 7, 1), None),
    ]
    assert Member.objects.get(member_no="S003").category == "正式党员"


BAD_ROWS = [
    # (sheet, row replaced, replacement, expected row number, column, message fragment)
    ("组织", 0, ["SZ-01-01", "", "党支部", "SZ-01", ""], 2, "名称", "必填项为空"),
    (
        "组织",
        0,
        ["SZ-01-01", "综合处党支部", "支部", "SZ-01", ""],
        2,
        "类型",
        "类型「支部」无法识别",
    ),
    (
        "组织",
        0,
        ["SZ-01-01", "综合处党支部", "党支部", "NOPE", ""],
        2,
        "上级编码",
        "上级组织「NOPE」既不在本表中也不在系统中",
    ),
    (
        "组织",
        3,
        ["SZ-01-01-1", "小组", "党小组", "SZ-01", ""],
        5,
        "类型",
        "党小组必须设在党支部之下",
    ),
    ("组织", 4, ["SZ-01-01", "重复", "党支部", "SZ-01", ""], 6, "编码", "与第2行重复"),
    ("组织", 1, ["SZ", "市直机关党委", "机关党委", "SZ-01", ""], 3, "上级编码", "循环"),
    ("组织", 0, ["SZ 01", "综合处党支部", "党支部", "SZ-01", ""], 2, "编码", "只能包含字母、数字"),
    (
        "组织",
        1,
        ["SZ", "市直机关党委", "机关党委", "", "福建省"],
        3,
        "规则方案",
        "没有名为「福建省」的规则方案",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "SZ-01", "书记", "", "", None, None, ""],
        2,
        "所在组织编码",
        "党员只能编入党支部或党小组",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "XX-99", "书记", "", "", None, None, ""],
        2,
        "所在组织编码",
        "既不在组织表中也不在系统中",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "SZ-01-01", "主任", "", "", None, None, ""],
        2,
        "职务",
        "职务「主任」无法识别",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "SZ-01-01", "小组长", "", "", None, None, ""],
        2,
        "职务",
        "职务「小组长」须编入党小组",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "SZ-01-01", "", "积极分子", "", None, None, ""],
        2,
        "类别",
        "类别「积极分子」无法识别",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "SZ-01-01", "", "", "厅级", None, None, ""],
        2,
        "干部层级",
        "干部层级「厅级」无法识别",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "SZ-01-01", "", "", "", "2021/13/45", None, ""],
        2,
        "转入日期",
        "日期「2021/13/45」无法识别",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "SZ-01-01", "", "", "", "2021-05-01", "2021-04-01", ""],
        2,
        "转出日期",
        "转出日期「2021-04-01」应晚于转入日期「2021-05-01」",
    ),
    (
        "党员",
        0,
        ["S001", "林书记", "SZ-01-01", "", "", "", None, None, "1380013800"],
        2,
        "手机",
        "11 位数字",
    ),
    ("党员", 1, ["S001", "重号", "SZ-01-01", "", "", "", None, None, ""], 3, "编号", "与第2行重复"),
    ("党员", 0, ["", "林书记", "SZ-01-01", "", "", "", None, None, ""], 2, "编号", "必填项为空"),
]


@pytest.mark.parametrize(("sheet", "index", "row", "number", "column", "fragment"), BAD_ROWS)
def test_a_bad_row_is_reported_with_its_place_and_nothing_is_written(
    db, sheet, index, row, number, column, fragment
):
    orgs = [list(r) for r in GOOD_ORGS]
    members = [list(r) for r in GOOD_MEMBERS]
    (orgs if sheet == "组织" else members)[index] = row
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(good_book(orgs, members), user=admin())
    matching = [
        e for e in exc.value.errors if (e.sheet, e.row, e.column) == (sheet, number, column)
    ]
    assert matching, [str(e) for e in exc.value.errors]
    assert fragment in matching[0].message
    assert str(matching[0]).startswith(f"{sheet}，第{number}行，{column}：")
    assert Organization.objects.count() == 0 and Member.objects.count() == 0


def test_every_error_of_the_file_is_reported_at_once(db):
    orgs = [list(r) for r in GOOD_ORGS]
    orgs[0][2] = "支部"
    members = [list(r) for r in GOOD_MEMBERS]
    members[3][8] = "123"
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(good_book(orgs, members), user=admin())
    places = {(e.sheet, e.row, e.column) for e in exc.value.errors}
    assert ("组织", 2, "类型") in places and ("党员", 5, "手机") in places


def test_a_missing_required_column_is_reported_at_the_header(db):
    book = workbook(组织=[["编码", "名称"], ["A", "某组织"]])
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(book, user=admin())
    assert str(exc.value.errors[0]) == (
        "组织，第1行，类型：缺少必填列。表头行应含有：编码、名称、类型"
        "（标题行可在表头行上方；在前 30 行中含有最多必填列名的是第1行）"
    )


def test_blank_rows_and_extra_columns_are_ignored_and_column_order_does_not_matter(db):
    book = workbook(
        组织=[
            ["备注", "类型", "名称", "编码", "上级编码"],
            ["随便", "党委", "某党委", "R", ""],
            [None] * 5,
            ["", "党支部", "某支部", "R-1", "R"],
        ]
    )
    import_ledger(book, user=admin())
    assert [o.code for o in Organization.objects.get(code="R").subtree()] == ["R", "R-1"]


def test_unknown_sheets_are_reported_not_silently_ignored(db):
    book = workbook(组织=[ORG_HEADER, *GOOD_ORGS], 说明=[["x"]])
    result = import_ledger(book, user=admin())
    assert any("「说明」不是台账的工作表" in w for w in result.warnings)


def test_a_file_that_is_not_a_workbook_is_refused(db):
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(io.BytesIO(b"not a spreadsheet at all"), user=admin())
    assert str(exc.value.errors[0]) == (
        "工作簿，整个工作表：无法识别的文件格式：只能导入 .xlsx、.xls 或 .ods 工作簿；"
        "请在 Excel/WPS 中另存为 .xlsx 后重新上传"
    )


def test_a_zip_bomb_is_refused_before_parsing(db):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
    buffer.seek(0)
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(buffer, user=admin())
    assert "解压后过大" in str(exc.value.errors[0])


def test_a_secretary_imports_only_inside_the_branch(cast):
    book = workbook(
        组织=[
            ORG_HEADER,
            ["JG-01-01-2", "甲支部第二党小组", "党小组", "JG-01-01", ""],
            ["JG-01-02-1", "乙支部小组", "党小组", "JG-01-02", ""],
        ],
        党员=[
            MEMBER_HEADER,
            ["A100", "新同志", "JG-01-01-2", "", "", "", "2025-01-01", None, ""],
            ["B100", "越界", "JG-01-02", "", "", "", None, None, ""],
            ["B002", "乙党员", "JG-01-01", "", "", "", "2025-02-01", None, ""],
        ],
    )
    before = Organization.objects.count(), Member.objects.count()
    with pytest.raises(LedgerRejected) as exc:
        import_ledger(book, user=cast.secretary_a)
    places = {(e.sheet, e.row, e.column) for e in exc.value.errors}
    assert ("组织", 3, "编码") in places  # a group under branch B
    assert ("党员", 3, "所在组织编码") in places  # a member into branch B
    assert ("党员", 4, "编号") in places  # pulling B's member across
    assert (Organization.objects.count(), Member.objects.count()) == before
    ok = workbook(
        组织=[ORG_HEADER, ["JG-01-01-2", "甲支部第二党小组", "党小组", "JG-01-01", ""]],
        党员=[MEMBER_HEADER, ["A100", "新同志", "JG-01-01-2", "", "", "", "2025-01-01", None, ""]],
    )
    import_ledger(ok, user=cast.secretary_a)
    assert Member.objects.get(member_no="A100").memberships.get().organization.code == "JG-01-01-2"


def test_upload_page_reports_errors_and_writes_nothing(cast, uploads):
    client = cast.client("secretary_a")
    bad = workbook(
        党员=[MEMBER_HEADER, ["A100", "新同志", "JG-01-01", "", "", "", "2025-13-01", None, ""]]
    )
    response = client.post(
        reverse("branches:ledger_import"), {"file": SimpleUploadedFile("台账.xlsx", bad.getvalue())}
    )
    assert response.status_code == 200
    assert "党员，第2行，转入日期：日期「2025-13-01」无法识别" in response.content.decode()
    assert not Member.objects.filter(member_no="A100").exists()


@pytest.fixture
def uploads(settings, tmp_path):
    settings.LEDGER_UPLOAD_DIR = tmp_path
    return tmp_path


def test_upload_page_previews_then_imports_once_on_confirm(cast, uploads):
    client = cast.client("secretary_a")
    good = workbook(
        党员=[
            MEMBER_HEADER,
            ["A100", "新同志", "JG-01-01", "", "", "", "2025-01-01", None, ""],
            ["A002", "甲党员（改名）", "JG-01-01-1", "", "", "", "2020-01-01", None, ""],
        ]
    )
    response = client.post(
        reverse("branches:ledger_import"),
        {"file": SimpleUploadedFile("台账.xlsx", good.getvalue())},
    )
    page = response.content.decode()
    assert "预览「台账.xlsx」：尚未导入，请核对后确认" in page
    assert "党员：新增 1，更新 1，转接 0" in page
    assert not Member.objects.filter(member_no="A100").exists()
    assert Member.objects.get(member_no="A002").name != "甲党员（改名）"
    token = response.context["token"]
    assert [p.name for p in uploads.iterdir()] == [f"{token}.xlsx"]
    # Another user cannot confirm this upload with its token.
    stranger = cast.client("secretary_b").post(
        reverse("branches:ledger_import"), {"token": token, "action": "confirm"}, follow=True
    )
    assert "该工作簿已经导入或已取消" in stranger.content.decode()
    assert not Member.objects.filter(member_no="A100").exists()

    confirm = {"token": token, "action": "confirm"}
    response = client.post(reverse("branches:ledger_import"), confirm)
    assert "导入完成" in response.content.decode()
    assert "党员：新增 1，更新 1，转接 0" in response.content.decode()
    assert Member.objects.filter(member_no="A100").count() == 1
    assert Member.objects.get(member_no="A002").name == "甲党员（改名）"
    assert list(uploads.iterdir()) == []
    again = client.post(reverse("branches:ledger_import"), confirm, follow=True)
    assert "该工作簿已经导入或已取消，没有再次导入；如需导入请重新上传" in again.content.decode()
    assert Member.objects.filter(member_no="A100").count() == 1


def test_a_cancelled_preview_imports_nothing_and_removes_the_file(cast, uploads):
    client = cast.client("secretary_a")
    good = workbook(
        党员=[MEMBER_HEADER, ["A100", "新同志", "JG-01-01", "", "", "", "2025-01-01", None, ""]]
    )
    response = client.post(
        reverse("branches:ledger_import"),
        {"file": SimpleUploadedFile("台账.xlsx", good.getvalue())},
    )
    token = response.context["token"]
    client.post(reverse("branches:ledger_import"), {"token": token, "action": "cancel"})
    client.post(reverse("branches:ledger_import"), {"token": token, "action": "confirm"})
    assert not Member.objects.filter(member_no="A100").exists()
    assert list(uploads.iterdir()) == []


def test_the_template_has_every_sheet_headers_an_example_and_choice_lists(cast):
    from openpyxl import load_workbook

    response = cast.client("secretary_a").get(reverse("branches:ledger_template"))
    assert response.status_code == 200
    assert 'filename="ledger-template.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["组织", "党员", "活动", "考勤", "自学"]
    headers = {ws.title: [c.value for c in ws[1]] for ws in book.worksheets}
    assert headers["考勤"] == ["活动编号", "党员编号", "状态", "补课日期"]
    assert headers["组织"][:3] == ["编码", "名称", "类型"] and "成立日期" in headers["组织"]
    assert "中心组" in headers["党员"]
    lists = {
        ws.title: {
            str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation
        }
        for ws in book.worksheets
    }
    assert lists["考勤"]["C2"] == '"出席,迟到,请假,缺席"'
    assert lists["组织"]["C2"] == '"党委,党组,机关党委,党总支,党支部,党小组"'
    assert lists["活动"]["C2"].startswith('"支部党员大会,支委会,')
    assert all(ws.freeze_panes == "A2" and ws["A1"].font.b for ws in book.worksheets)


def test_the_template_with_its_example_rows_imports(cast):
    """The example rows are consistent: the template itself is a valid ledger."""
    from branches.ledger_template import ledger_template

    result = import_ledger(io.BytesIO(ledger_template()), user=admin())
    assert result.counts["组织"]["created"] == 1 and result.counts["考勤"]["created"] == 1


def test_upload_page_refuses_other_formats_and_oversized_files(cast, settings, uploads):
    client = cast.client("secretary_a")
    response = client.post(
        reverse("branches:ledger_import"), {"file": SimpleUploadedFile("台账.csv", b"a,b")}
    )
    assert "「台账.csv」不是工作簿：只能导入 .xlsx、.xls 或 .ods 文件" in response.content.decode()
    response = client.post(
        reverse("branches:ledger_import"), {"file": SimpleUploadedFile("台账.xls", b"old")}
    )
    assert "无法识别的文件格式" in response.content.decode()
    settings.LEDGER_MAX_UPLOAD_BYTES = 1024 * 1024
    big = SimpleUploadedFile("台账.xlsx", b"x" * (2 * 1024 * 1024))
    response = client.post(reverse("branches:ledger_import"), {"file": big})
    assert "文件过大" in response.content.decode()


def test_command_imports_and_reports_errors(db, tmp_path, capsys):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(good_book().getvalue())
    call_command("import_ledger", str(path))
    assert Organization.objects.count() == 5
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(组织=[ORG_HEADER, ["X", "某", "未知", "", ""]]).getvalue())
    with pytest.raises(CommandError, match="发现 1 处错误，未导入任何数据"):
        call_command("import_ledger", str(bad))
    assert "组织，第2行，类型" in capsys.readouterr().err
