"""A ledger workbook imported with import_ledger, then `assess --json`: the verdicts RULES.md implies."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management import call_command
from openpyxl import Workbook


def build_workbook(path):
    wb = Workbook()
    wb.remove(wb.active)
    orgs = wb.create_sheet("组织")
    orgs.append(["编码", "名称", "类型", "上级编码", "规则方案"])
    orgs.append(["SZ", "市直机关党委", "机关党委", "", ""])
    orgs.append(["SZ-01", "综合处党支部", "党支部", "SZ", ""])
    orgs.append(["SZ-02", "财务处党支部", "党支部", "SZ", "福建省住建厅机关"])
    members = wb.create_sheet("党员")
    members.append(["编号", "姓名", "所在组织编码", "职务"])
    for no, name, org in (
        ("S1", "甲", "SZ-01"),
        ("S2", "乙", "SZ-01"),
        ("S3", "丙", "SZ-02"),
        ("S4", "丁", "SZ-02"),
    ):
        members.append([no, name, org, ""])
    sessions = wb.create_sheet("活动")
    sessions.append(["活动编号", "组织编码", "类型", "日期", "学时", "主题"])
    attendance = wb.create_sheet("考勤")
    attendance.append(["活动编号", "党员编号", "状态", "补课日期"])
    # SZ-01: exactly 12 study sessions, all attended except S2 absent 5 times (with make-ups),
    # plus committee meetings that do not count as study.
    for i in range(12):
        code = f"A{i:02d}"
        day = dt.date(2025, i + 1, 10)
        sessions.append([code, "SZ-01", "集中学习", day, 2, f"学习{i}"])
        attendance.append([code, "S1", "出席", None])
        attendance.append(
            [code, "S2", "缺席" if i < 5 else "出席", day + dt.timedelta(days=3) if i < 5 else None]
        )
    for i in range(3):
        code = f"C{i}"
        sessions.append([code, "SZ-01", "支委会", dt.date(2025, 2 + i, 20), 1, "支委会"])
        attendance.append([code, "S1", "出席", None])
    # SZ-02: 14 sessions (< 15 blocks 五好 under the 福建 profile), every session at 50%
    # with 请假 in the denominator.
    for i in range(14):
        code = f"B{i:02d}"
        day = dt.date(2025, 1 + i % 12, 12 + i // 12)
        sessions.append([code, "SZ-02", "集中学习", day, 2, f"学习{i}"])
        attendance.append([code, "S3", "出席", None])
        attendance.append([code, "S4", "请假", None])
    wb.save(path)


def test_assess_json_on_an_imported_ledger(db, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    build_workbook(path)
    call_command("import_ledger", str(path))
    capsys.readouterr()
    call_command("assess", "--year", "2025", "--org", "SZ", "--json")
    doc = json.loads(capsys.readouterr().out)
    orgs = {o["code"]: o for o in doc["organizations"]}
    members = {m["id"]: m for m in doc["members"]}

    a = orgs["SZ-01"]
    assert a["profile"] == "默认" and a["study_sessions"] == 12
    assert a["rules"]["FJ-B1"] == {"outcome": "met", "value": 12, "threshold": 12}
    # 12 sessions: 5 at 50% and 7 at 100%: mean 0.7917 < 0.8 (not pooled).
    assert a["avg_participation"] == round((5 * 0.5 + 7) / 12, 4)
    assert a["rules"]["FJ-B7"] == {"outcome": "not_met", "value": 0.7917, "threshold": 0.8}
    assert a["five_good"] is False
    assert a["rules"]["LC-B2"] == {"outcome": "n/a"}  # no 党小组
    # 支委会 in February to April only: the other nine months are named.
    assert a["rules"]["LC-B1"]["outcome"] == "not_met"
    assert a["rules"]["LC-B1"]["missing"] == [
        f"2025-{m:02d}" for m in (1, 5, 6, 7, 8, 9, 10, 11, 12)
    ]

    b = orgs["SZ-02"]
    assert b["profile"] == "福建省住建厅机关" and b["study_sessions"] == 14
    assert b["rules"]["FJ-B6"]["outcome"] == "not_met" and b["five_good"] is False
    assert b["avg_participation"] == 0.5  # 请假 stays in the denominator

    # Exactly 5 unexcused absences block 优秀; the make-ups do not erase them.
    assert members["S2"]["unexcused_absences"] == 5 and members["S2"]["excellent_eligible"] is False
    assert members["S2"]["rules"]["FJ-M1"] == {"outcome": "not_met", "value": 5, "threshold": 5}
    assert members["S1"]["excellent_eligible"] is True
    # 请假 is not an unexcused absence.
    assert members["S4"]["unexcused_absences"] == 0 and members["S4"]["excellent_eligible"] is True
