"""一季一考 (GT-X1): a member's exam scores appear in the 学习档案, page and PDF alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from assessments import services as assessment_services
from reports.summary import build_member_archive
from tests.conftest import refreshed


def _exams(cast):
    branch = refreshed(cast.branch_a)
    q1 = assessment_services.exam_create(
        organization=branch, title="第一季度应知应会测试", date=dt.date(2025, 3, 28)
    )
    q3 = assessment_services.exam_create(
        organization=refreshed(cast.root), title="第三季度党规党纪考试", date=dt.date(2025, 9, 20),
        full_marks=120,
    )  # fmt: skip
    old = assessment_services.exam_create(
        organization=branch, title="上年度考试", date=dt.date(2024, 12, 20)
    )
    allowed = {cast.member_a_member.pk, cast.secretary_a_member.pk}
    assessment_services.exam_scores_save(
        exam=q1, scores={cast.member_a_member.pk: "92.5", cast.secretary_a_member.pk: "60"},
        allowed=allowed,
    )  # fmt: skip
    assessment_services.exam_scores_save(
        exam=q3, scores={cast.member_a_member.pk: "99"}, allowed=allowed
    )
    assessment_services.exam_scores_save(
        exam=old, scores={cast.member_a_member.pk: "70"}, allowed=allowed
    )


def test_the_archive_page_lists_the_year_s_exams_by_quarter(cast):
    _exams(cast)
    url = reverse("attendance:member_archive", kwargs={"member_no": "A002"}) + "?year=2025"
    for who in ("member_a", "secretary_a"):
        response = cast.client(who).get(url)
        html = response.content.decode()
        table = html[
            html.index('id="archive-exams"') : html.index(
                "</table>", html.index('id="archive-exams"')
            )
        ]
        assert "第1季度" in table and "第一季度应知应会测试" in table and "92.5 / 100" in table
        assert "第3季度" in table and "第三季度党规党纪考试" in table and "99 / 120" in table
        assert "上年度考试" not in table  # another year
        assert "60 / 100" not in table  # someone else's score
        assert table.index("第一季度") < table.index("第三季度")


def test_the_pdf_data_holds_the_same_exams(cast):
    _exams(cast)
    archive = build_member_archive(member=cast.member_a_member, year=2025)
    assert [(x.quarter, x.title, x.score, x.full_marks) for x in archive.exams] == [
        ("2025-Q1", "第一季度应知应会测试", Decimal("92.5"), 100),
        ("2025-Q3", "第三季度党规党纪考试", Decimal("99"), 120),
    ]


def test_an_archive_without_exams_says_so(cast):
    url = reverse("attendance:member_archive", kwargs={"member_no": "A002"}) + "?year=2025"
    html = cast.client("member_a").get(url).content.decode()
    table = html[html.index('id="archive-exams"') :]
    assert "暂无" in table[: table.index("</table>")]
