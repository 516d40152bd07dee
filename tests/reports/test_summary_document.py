"""The annual summary (JL-R1 / ZY-R1) and the member's 学习档案 as documents: the data, the PDF
(text, fonts, page numbers), the workbook, the preview and who may download what."""

from __future__ import annotations

import datetime as dt
import html
import io
import subprocess
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags
from fontTools.ttLib import TTFont
from openpyxl import load_workbook
from pypdf import PdfReader

from assessments import services as assessment_services
from assessments.models import ExamScore
from attendance.models import (
    AttendanceEntry,
    LeaveRequest,
    MakeUp,
    SelfStudy,
    StudyNote,
)
from branches.models import OrgType
from reports.excel import summary_workbook
from reports.models import SummaryText
from reports.pdf import render_member_archive_pdf, render_summary_pdf
from reports.summary import build_summary
from studyplans.models import AnnualPlan, PlannedSession, PlanTheme, RecommendedBook, Submission
from tests.assessments.test_definitions import held
from tests.conftest import refreshed
from tests.factories import make_member, make_org

YEAR = 2025
# Summaries are written in January about the previous year.
JANUARY = dt.datetime(2026, 1, 20, 2, 0, tzinfo=dt.UTC)
SECRETARY_TEXT = "本支部全年坚持集中学习，党员参与积极，存在个别党员学习笔记不够深入的问题。"


def pdf_text(pdf: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, [page.extract_text() or "" for page in reader.pages]


def flat(text: str) -> str:
    # Text extraction may break lines inside a table cell; compare without whitespace.
    return "".join(text.split())


def page_fonts(reader: PdfReader):
    """Every font the pages use, descendant fonts of Type0 fonts included."""
    seen = {}
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            seen[font["/BaseFont"]] = font
            for descendant in font.get("/DescendantFonts", []):
                d = descendant.get_object()
                seen[d["/BaseFont"]] = d
    return seen


@pytest.fixture
def branch_year(cast):
    """Branch A in 2025: four sessions, an absence with a 补课, a leave, notes, an exam,
    the secretary's text and a filed plan for 2026."""
    a, m = cast.secretary_a_member, cast.member_a_member
    held(cast.branch_a, dt.date(YEAR, 3, 5), {m: "缺席"}, type="集中学习")
    held(cast.branch_a, dt.date(YEAR, 3, 20), {m: "请假"}, type="党课")
    held(cast.branch_a, dt.date(YEAR, 6, 12), {}, type="支部党员大会")
    held(cast.group_a1, dt.date(YEAR, 7, 2), {}, type="党小组会")
    held(cast.branch_b, dt.date(YEAR, 4, 8), {cast.member_b_member: "缺席"})
    absent = AttendanceEntry.objects.get(member=m, status="缺席")
    MakeUp.objects.create(entry=absent, date=dt.date(YEAR, 3, 9), note="自学党章第一章")
    LeaveRequest.objects.create(
        session=AttendanceEntry.objects.get(member=m, status="请假").session,
        member=m,
        reason="出差",
        status="已批准",
    )
    SelfStudy.objects.bulk_create(
        [
            SelfStudy(member=m, date=dt.date(YEAR, 5, d), hours=Decimal("3"), material="党章")
            for d in (5, 12)
        ]
    )
    StudyNote.objects.create(
        member=m,
        kind="学习笔记",
        title="学习党章",
        body="党章" * 10,
        word_count=20,
        submitted_at=dt.datetime(YEAR, 5, 6, 2, 0, tzinfo=dt.UTC),
    )
    exam = assessment_services.exam_create(
        organization=refreshed(cast.root), title="第二季度理论考试", date=dt.date(YEAR, 6, 20)
    )
    ExamScore.objects.create(exam=exam, member=m, score=Decimal("88"))
    ExamScore.objects.create(exam=exam, member=a, score=Decimal("92"))
    SummaryText.objects.create(organization=cast.branch_a, year=YEAR, text=SECRETARY_TEXT)
    plan = AnnualPlan.objects.create(organization=cast.branch_a, year=YEAR + 1, status="已备案")
    PlanTheme.objects.create(plan=plan, quarter=1, theme="深入学习党的创新理论")
    PlannedSession.objects.create(plan=plan, type="党课", month=3, topic="书记讲党课")
    RecommendedBook.objects.create(plan=plan, title="习近平谈治国理政", author="")
    return cast


# The data


def test_branch_summary_counts_sessions_members_and_the_filed_plan(branch_year):
    cast = branch_year
    data = build_summary(
        organization=refreshed(cast.branch_a), year=YEAR, today=dt.date(2026, 1, 20)
    )
    assert not data.rollup
    assert data.study_sessions == 3  # the branch's own; the 党小组会 is the group's
    assert data.sessions_total == 4
    by_type = {row.type: row for row in data.type_month}
    assert by_type["集中学习"].by_month[2] == 1 and by_type["党小组会"].by_month[6] == 1
    assert [s.type for s in data.sessions] == ["集中学习", "党课", "支部党员大会", "党小组会"]
    assert data.sessions[0].rate == pytest.approx(0.5)
    assert data.avg_participation == pytest.approx((0.5 + 0.5 + 1) / 3)
    member = {m.member_no: m for m in data.members}["A002"]
    assert (member.unexcused_absences, member.excused, member.makeups) == (1, 1, 1)
    assert member.self_study_hours == Decimal("6") and (member.notes, member.note_words) == (1, 20)
    assert member.exam_average == pytest.approx(88)
    assert data.leave_total == 1 and data.makeups_total == 1
    assert data.exams[0].takers == 2 and data.exams[0].average == pytest.approx(90)
    assert data.text == SECRETARY_TEXT and not data.text_missing
    assert data.plan is not None and data.plan.themes == [("第1季度", "深入学习党的创新理论")]
    quotes = {v.rule_id: v.quote for v in data.verdicts}
    assert quotes["FJ-B1"] == "党支部集体学习每年不少于12次"


def test_missing_text_and_unfiled_plan_are_said_so(cast):
    AnnualPlan.objects.create(organization=cast.branch_b, year=YEAR + 1, status="已报送")
    data = build_summary(organization=refreshed(cast.branch_b), year=YEAR)
    assert data.text_missing and data.plan is None and data.plan_status == "已报送"


def test_rollup_lists_both_branches_in_one_table(branch_year):
    cast = branch_year
    data = build_summary(organization=refreshed(cast.root), year=YEAR, today=dt.date(2026, 1, 20))
    assert data.rollup
    assert [(b.code, b.parent) for b in data.branches] == [
        ("JG-01-01", "第一党总支"),
        ("JG-01-02", "第一党总支"),
    ]
    a, b = data.branches
    assert (a.members, a.study_sessions, b.members, b.study_sessions) == (2, 3, 2, 1)
    assert "FJ-B1" in a.not_met
    assert data.branch_totals.members == 4 and data.branch_totals.study_sessions == 4
    assert {v.rule_id for v in data.verdicts}  # its own verdicts


def _tree(code: str, n_branches: int):
    """A 党委 with `n_branches` branches of two members, sessions, a 补课, self-study and notes."""
    root = make_org(code, OrgType.PARTY_COMMITTEE, name=f"{code}党委")
    for i in range(n_branches):
        branch = make_org(f"{code}-{i:02d}", OrgType.BRANCH, root, name=f"第{i + 1}党支部")
        members = [make_member(branch, start=dt.date(2020, 1, 1)) for _ in range(2)]
        held(branch, dt.date(YEAR, 3, 5), {members[0]: "缺席"})
        held(branch, dt.date(YEAR, 9, 5), {members[1]: "请假"})
        MakeUp.objects.create(
            entry=AttendanceEntry.objects.get(member=members[0], status="缺席"),
            date=dt.date(YEAR, 3, 9),
            note="补学",
        )
        SelfStudy.objects.create(
            member=members[0], date=dt.date(YEAR, 4, 1), hours=Decimal("2"), material="党章"
        )
        StudyNote.objects.create(
            member=members[1],
            kind="学习笔记",
            title="笔记",
            body="学习",
            word_count=2,
            submitted_at=dt.datetime(YEAR, 4, 2, 2, 0, tzinfo=dt.UTC),
        )
        SummaryText.objects.create(organization=branch, year=YEAR, text="总结")
    return refreshed(root)


def test_building_a_summary_takes_the_same_queries_for_two_or_six_branches(db):
    counts = {}
    for code, n in (("DW", 2), ("DX", 6)):
        root = _tree(code, n)
        with CaptureQueriesContext(connection) as ctx:
            data = build_summary(organization=root, year=YEAR, today=dt.date(2026, 1, 20))
        assert len(data.branches) == n and len(data.members) == 2 * n
        counts[n] = len(ctx.captured_queries)
    assert counts[2] == counts[6]


# The PDF


def test_branch_summary_pdf_shows_the_data_in_chinese_with_page_numbers(branch_year):
    cast = branch_year
    reader, pages = pdf_text(render_summary_pdf(organization=refreshed(cast.branch_a), year=YEAR))
    text = flat("\n".join(pages))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    first = flat(pages[0])
    assert "甲支部关于2025年度学习情况的报告" in first and "第一党总支：" in first
    assert "规则方案" not in first  # nothing internal on the first page
    for number in range(1, len(pages) + 1):
        assert f"—{number}—" in flat(pages[number - 1])  # GB/T 9704 page numbers
    assert "党支部集体学习每年不少于12次" in text  # FJ-B1, quoted
    assert flat(SECRETARY_TEXT) in text
    assert "甲党员" in text and "A002" in text
    assert "书记讲党课" in text and "深入学习党的创新理论" in text  # the filed 2026 plan
    assert "66.67%" in text  # the average participation


def test_pdf_embeds_noto_cjk_sc_and_no_other_font(branch_year):
    pdf = render_summary_pdf(organization=refreshed(branch_year.branch_a), year=YEAR)
    fonts = page_fonts(PdfReader(io.BytesIO(pdf)))
    assert fonts
    for name, font in fonts.items():
        # e.g. /DFCEGX+Noto-Serif-CJK-SC: a subset of a Simplified Chinese face (serif text,
        # sans headings).
        face = name.split("+")[-1].replace("-", "").upper()
        assert face.startswith(("NOTOSANSCJKSC", "NOTOSERIFCJKSC")) and "JP" not in face, name
        if font["/Subtype"] == "/Type0":
            continue  # the glyphs live in the descendant font, checked on its own
        descriptor = font["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), name


def test_every_character_of_the_summary_has_a_glyph_in_the_font(branch_year):
    """No tofu: both Simplified Chinese faces have a glyph for every character rendered."""
    from reports.document import report_document
    from reports.pdf import summary_html

    cmaps = []
    for family in ("Noto Sans CJK SC", "Noto Serif CJK SC"):
        path, index = subprocess.run(
            ["fc-match", "-f", "%{file}:%{index}", family],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.rsplit(":", 1)
        cmaps.append(TTFont(path, fontNumber=int(index), lazy=True).getBestCmap())
    for org in (branch_year.branch_a, branch_year.root):
        doc = report_document(organization=refreshed(org), year=YEAR)
        text = html.unescape(strip_tags(summary_html(doc)))
        assert "一、基本情况" in text or "本支部" in text
        for cmap in cmaps:
            missing = {c for c in text if not c.isspace() and ord(c) not in cmap}
            assert not missing, missing


def test_the_same_data_renders_the_same_bytes_before_and_after_sending(branch_year):
    # Versions of the summary are told apart by their SHA-256 (reports.services), so the
    # document leaves out the verdict on its own delivery (JL-R1) and has no render date.
    org = refreshed(branch_year.branch_a)
    before = render_summary_pdf(organization=org, year=YEAR)
    assert "JL-R1" not in {v.rule_id for v in build_summary(organization=org, year=YEAR).verdicts}
    Submission.objects.create(
        organization=org,
        kind="年度总结",
        year=YEAR,
        sent_at=dt.datetime(2026, 1, 20, tzinfo=dt.UTC),
    )
    assert render_summary_pdf(organization=org, year=YEAR) == before


def test_rollup_pdf_lists_both_branches(branch_year):
    reader, pages = pdf_text(
        render_summary_pdf(organization=refreshed(branch_year.root), year=YEAR)
    )
    text = flat("\n".join(pages))
    assert "下级党支部情况" in text and "甲支部" in text and "乙支部" in text
    assert "合计2个支部" in text


def test_member_archive_pdf(branch_year):
    _, pages = pdf_text(render_member_archive_pdf(member=branch_year.member_a_member, year=YEAR))
    text = flat("\n".join(pages))
    assert "2025年度学习档案" in text and "甲党员" in text
    assert "自学党章第一章" in text  # the 补课
    assert "第二季度理论考试" in text and "学习党章" in text
    assert "第1页/共" in text
    # No review is recorded in the portal: a signature line, not a claim that it took place.
    assert "党支部书记审阅，" not in text and "党支部书记审阅签字" in text
    assert "党员本人签字" in text


# The workbook


def test_workbook_has_the_sheets_with_real_dates(branch_year):
    cast = branch_year
    branch = load_workbook(
        io.BytesIO(
            summary_workbook(build_summary(organization=refreshed(cast.branch_a), year=YEAR))
        )
    )
    assert branch.sheetnames == ["概况", "活动", "考评", "党员"]
    sessions = branch["活动"]
    assert "甲支部" in sessions["A1"].value  # the title row
    assert sessions["A2"].value == "日期"
    assert sessions["A3"].value.date() == dt.date(YEAR, 3, 5)
    assert sessions["J3"].value == pytest.approx(0.5) and sessions["J3"].number_format == "0.0%"
    assert sessions.column_dimensions["D"].width >= 30
    assert [c.value for c in branch["党员"][2]][:3] == ["编号", "姓名", "所在组织"]
    assert "党支部集体学习每年不少于12次" in [c.value for c in branch["考评"]["H"]]
    rollup = load_workbook(
        io.BytesIO(summary_workbook(build_summary(organization=refreshed(cast.root), year=YEAR)))
    )
    assert rollup.sheetnames == ["概况", "活动", "考评", "党员", "支部"]
    assert rollup["活动"].max_row == 2 + 5  # every session of the subtree, filterable
    assert [r[1].value for r in rollup["支部"].iter_rows(min_row=3)][:2] == ["甲支部", "乙支部"]


# The views and who may use them


def url(name: str, arg: str, year: int | str | None = YEAR) -> str:
    base = reverse(f"reports:{name}", args=[arg])
    return base if year is None else f"{base}?year={year}"


# For tests/test_routes.py: the routes this module covers.
GET_ROUTES = [
    "reports:summary_preview",
    "reports:summary_pdf",
    "reports:summary_xlsx",
    "reports:member_archive_pdf",
]
# Who gets what: a summary is for whoever may see the organization (its committee, the
# committees and reviewers above it, admins); a 学习档案 for the member and whoever may
# see the member (members_visible_to). Everyone else: 404; anonymous: to the login page.
ORG_ACCESS = {
    "secretary_a": 200,
    "member_a": 404,
    "secretary_b": 404,
    "reviewer": 200,
    "other_reviewer": 404,
    "admin": 200,
}
ARCHIVE_ACCESS = {**ORG_ACCESS, "member_a": 200}


@time_machine.travel(JANUARY, tick=False)
@pytest.mark.parametrize("name", GET_ROUTES)
def test_access_matrix(branch_year, name):
    cast = branch_year
    arg, expected = (
        ("A002", ARCHIVE_ACCESS) if name.endswith("archive_pdf") else ("JG-01-01", ORG_ACCESS)
    )
    short = name.split(":")[1]
    for who, status in expected.items():
        assert cast.client(who).get(url(short, arg)).status_code == status, who
    anonymous = cast.client(None).get(url(short, arg))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


@time_machine.travel(JANUARY, tick=False)
def test_downloads_are_named_in_chinese_and_default_to_last_year(branch_year):
    client = branch_year.client("reviewer")
    response = client.get(url("summary_pdf", "JG-01-01", year=None))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert (
        "filename*=UTF-8''%E5%AD%A6%E4%B9%A0%E6%83%85%E5%86%B5%E6%80%BB%E7%BB%93-JG-01-01-2025.pdf"
        in disposition
    )
    assert 'filename="summary-JG-01-01-2025.pdf"' in disposition
    xlsx = client.get(url("summary_xlsx", "JG", year=None))
    assert "-JG-2025.xlsx" in xlsx["Content-Disposition"]
    load_workbook(io.BytesIO(xlsx.content))


@time_machine.travel(JANUARY, tick=False)
def test_preview_shows_the_summary_and_the_download_links(branch_year):
    response = branch_year.client("secretary_a").get(url("summary_preview", "JG-01-01", None))
    html = response.content.decode()
    assert response.context["d"].year == 2025
    assert SECRETARY_TEXT in html and "党支部集体学习每年不少于12次" in html
    assert url("summary_pdf", "JG-01-01") in html and url("summary_xlsx", "JG-01-01") in html
    rollup = branch_year.client("reviewer").get(url("summary_preview", "JG")).content.decode()
    table = rollup.split('id="branch-table"')[1].split("</table>")[0]
    assert "甲支部" in table and "乙支部" in table


@pytest.mark.parametrize("year", ["abc", "1999", "20255", "-1"])
def test_an_invalid_year_is_a_400_in_chinese(cast, year):
    for name, arg in (("summary_preview", "JG-01-01"), ("member_archive_pdf", "A002")):
        response = cast.client("secretary_a").get(url(name, arg, year))
        assert response.status_code == 400
        assert "年份无效" in response.content.decode()


@time_machine.travel(JANUARY, tick=False)
def test_member_archive_pdf_is_named_and_a_member_sees_only_their_own(branch_year):
    cast = branch_year
    own = cast.client("member_a").get(url("member_archive_pdf", "A002", year=None))
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    # The archive defaults to the current year.
    assert (
        "filename*=UTF-8''%E5%AD%A6%E4%B9%A0%E6%A1%A3%E6%A1%88-A002-2026.pdf"
        in own["Content-Disposition"]
    )
    assert cast.client("member_a").get(url("member_archive_pdf", "A001")).status_code == 404
