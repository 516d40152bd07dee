"""The quarterly 学习考勤通报 (JF-K1, JF-C5): issued by the secretary or the 机关党委, archived
with its PDF, and read by JF-K1."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from assessments.engine import assess
from assessments.models import AttendanceNotice
from attendance.models import AttendanceEntry, MakeUp
from branches import services as branch_services
from reports import services
from tests.assessments.test_definitions import held
from tests.conftest import refreshed
from tests.reports.test_summary_document import flat, pdf_text

YEAR = 2025
APRIL = dt.datetime(2025, 4, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def first_quarter(cast):
    """Branch A in the first quarter: 甲党员 absent (made up) once, on leave once."""
    m = cast.member_a_member
    held(cast.branch_a, dt.date(YEAR, 2, 5), {m: "缺席"}, type="集中学习")
    held(cast.branch_a, dt.date(YEAR, 3, 12), {m: "请假"}, type="党课")
    held(cast.branch_a, dt.date(YEAR, 5, 8), {m: "缺席"})  # the second quarter
    absent = AttendanceEntry.objects.filter(member=m, status="缺席").order_by("session__date")[0]
    MakeUp.objects.create(entry=absent, date=dt.date(YEAR, 2, 9), note="自学")
    return cast


def pdf_of(notice: AttendanceNotice) -> str:
    with notice.pdf.open("rb") as fh:
        return flat("".join(pdf_text(fh.read())[1]))


def test_the_secretary_issues_the_quarter_notice_and_it_is_archived(first_quarter):
    cast = first_quarter
    url = reverse("reports:notices", args=["JG-01-01"]) + f"?year={YEAR}"
    client = cast.client("secretary_a")
    with time_machine.travel(APRIL, tick=False):
        assert "未通报" in client.get(url).content.decode()
        response = client.post(
            reverse("reports:notice_issue", args=["JG-01-01"]) + f"?year={YEAR}", {"quarter": 1}
        )
        assert response.status_code == 302
    notice = AttendanceNotice.objects.get()
    assert (notice.organization, notice.issuer, notice.quarter) == (cast.branch_a, cast.branch_a, 1)
    # Two sessions of two members: 4 expected, 2 attended (the secretary), 1 leave, 1 absent.
    assert notice.figures == {
        "sessions": 2,
        "expected": 4,
        "attended": 2,
        "excused": 1,
        "absent": 1,
        "makeups": 1,
    }
    text = pdf_of(notice)
    assert text.startswith("甲支部关于2025年第一季度学习考勤情况的通报各党小组、全体党员：")
    assert "共组织集体学习2次，应到4人次，实到2人次，请假1人次，无故缺席1人次，补课1人次" in text
    assert "缺席：甲党员" in text and "请假：甲党员" in text
    assert "甲党员缺席1次、已补课1次" in text
    assert "甲支部2025年4月10日" in text and "—1—" in text
    assert "5月8日" not in text  # the second quarter is not in it
    page = client.get(url).content.decode()
    assert reverse("reports:notice_pdf", args=[notice.pk]) in page
    download = client.get(reverse("reports:notice_pdf", args=[notice.pk]))
    assert download.status_code == 200
    assert "filename*=UTF-8''%E7%94%B2%E6%94%AF%E9%83%A8" in download["Content-Disposition"]


def test_a_notice_is_refused_before_the_quarter_ends_and_once_issued(first_quarter):
    cast = first_quarter
    branch = refreshed(cast.branch_a)
    march = dt.datetime(2025, 3, 30, 2, 0, tzinfo=dt.UTC)
    with (
        time_machine.travel(march, tick=False),
        pytest.raises(services.NoticeRefused, match="第1季度尚未结束"),
    ):
        services.attendance_notice_issue(
            organization=branch, year=YEAR, quarter=1, by=cast.secretary_a
        )
    with time_machine.travel(APRIL, tick=False):
        services.attendance_notice_issue(
            organization=branch, year=YEAR, quarter=1, by=cast.secretary_a
        )
        with pytest.raises(services.NoticeRefused, match="已经发布"):
            services.attendance_notice_issue(
                organization=branch, year=YEAR, quarter=1, by=cast.reviewer
            )
        with pytest.raises(services.NoticeRefused, match="书记"):
            services.attendance_notice_issue(
                organization=refreshed(cast.branch_b), year=YEAR, quarter=1, by=cast.secretary_a
            )
    assert AttendanceNotice.objects.count() == 1


def test_the_organ_committee_issues_in_its_own_name(first_quarter):
    cast = first_quarter
    with time_machine.travel(APRIL, tick=False):
        notice = services.attendance_notice_issue(
            organization=refreshed(cast.branch_a), year=YEAR, quarter=1, by=cast.reviewer
        )
    assert notice.issuer == cast.root
    text = pdf_of(notice)
    assert "甲支部全体党员：" in text and "机关党委2025年4月10日" in text


def test_the_fourth_quarter_notice_sums_up_the_year(first_quarter):
    cast = first_quarter
    with time_machine.travel(dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC), tick=False):
        notice = services.attendance_notice_issue(
            organization=refreshed(cast.branch_a), year=YEAR, quarter=4, by=cast.secretary_a
        )
    text = pdf_of(notice)
    assert "没有登记考勤的集体学习" in text  # nothing held in the fourth quarter
    assert "2025年全年出勤情况汇总" in text
    # The year: three sessions, 甲党员 absent twice (once made up), on leave once.
    assert "A002甲党员3" in text and "A002甲党员30121" in text


def test_jf_k1_reads_whether_each_quarter_was_notified(first_quarter):
    cast = first_quarter
    branch_services.organization_update(
        organization=refreshed(cast.branch_a), profile_name="金佛寺镇"
    )

    def jf_k1():
        result = assess(root=refreshed(cast.root), year=YEAR, today=dt.date(2025, 7, 10))
        return {v.rule_id: v for v in result.org("JG-01-01").verdicts}["JF-K1"]

    before = jf_k1()
    assert before.outcome == "not_met" and before.missing == ["第一季度", "第二季度"]
    with time_machine.travel(dt.datetime(2025, 7, 10, 2, 0, tzinfo=dt.UTC), tick=False):
        for quarter in (1, 2):
            services.attendance_notice_issue(
                organization=refreshed(cast.branch_a), year=YEAR, quarter=quarter, by=cast.reviewer
            )
    after = jf_k1()
    assert after.missing == [] and "已通报 2 个季度" in after.value
    assert "未通报考勤" not in after.detail


# Who may open what (tests/test_routes.py reads ROUTES).
ROUTES = ["reports:notices", "reports:notice_issue", "reports:notice_pdf"]


def test_access_matrix(first_quarter):
    cast = first_quarter
    with time_machine.travel(APRIL, tick=False):
        notice = services.attendance_notice_issue(
            organization=refreshed(cast.branch_a), year=YEAR, quarter=1, by=cast.secretary_a
        )
    page = reverse("reports:notices", args=["JG-01-01"])
    issue = reverse("reports:notice_issue", args=["JG-01-01"])
    pdf = reverse("reports:notice_pdf", args=[notice.pk])
    for who, status in {
        "secretary_a": 200,
        "reviewer": 200,
        "admin": 200,
        "secretary_b": 404,
        "other_reviewer": 404,
        "member_a": 404,
    }.items():
        client = cast.client(who)
        assert client.get(page).status_code == status, who
        assert client.get(pdf).status_code == status, who
    assert cast.client("secretary_b").post(issue, {"quarter": 2}).status_code == 404
    assert cast.client("secretary_a").get(issue).status_code == 405
    anonymous = cast.client(None).get(page)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert AttendanceNotice.objects.count() == 1
