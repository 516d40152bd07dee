"""督导: sampling (weighted, reproducible), checks, answers, closing, the report, LC-S1."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from assessments.engine import assess
from assessments.models import (
    SupervisionCheck,
    SupervisionReport,
    SupervisionSample,
    VerdictSnapshot,
)
from assessments.supervision import draw_sample
from branches import services as branch_services
from tests.conftest import refreshed
from tests.factories import make_org

NOW = dt.datetime(2025, 3, 20, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def many_branches(cast):
    for i in range(10):
        make_org(f"JG-01-5{i}", "党支部", refreshed(cast.general), name=f"测试{i}支部")


def test_the_sample_is_reproducible_from_its_seed_and_weighted_toward_risk(cast, many_branches):
    a = draw_sample(
        organization=refreshed(cast.root),
        month=dt.date(2025, 3, 9),
        size=4,
        weighted=False,
        by=cast.reviewer,
        seed=42,
    )
    assert a.month == dt.date(2025, 3, 1) and a.checks.count() == 4
    first = set(a.checks.values_list("branch__code", flat=True))
    SupervisionSample.objects.all().delete()
    b = draw_sample(
        organization=refreshed(cast.root),
        month=dt.date(2025, 3, 1),
        size=4,
        weighted=False,
        by=cast.reviewer,
        seed=42,
    )
    assert set(b.checks.values_list("branch__code", flat=True)) == first
    # Weighted: branches failing 五好 come up more often over many draws.
    risky = {"JG-01-50", "JG-01-51"}
    for code in risky:
        VerdictSnapshot.objects.create(
            organization=refreshed(branch_services.Organization.objects.get(code=code)),
            year=2025,
            profile="默认",
            profile_version=1,
            five_good=False,
            advanced_eligible=False,
            study_sessions=0,
            computed_at=NOW,
        )
    hits = 0
    for seed in range(200):
        SupervisionSample.objects.all().delete()
        s = draw_sample(
            organization=refreshed(cast.root),
            month=dt.date(2025, 3, 1),
            size=3,
            weighted=True,
            by=cast.reviewer,
            seed=seed,
        )
        hits += len(risky & set(s.checks.values_list("branch__code", flat=True)))
    # Uniform: 200 draws × 3 of 12 × 2 risky = 100 expected; weighted 3× is clearly more.
    assert hits > 160


@time_machine.travel(NOW, tick=False)
def test_reviewer_draws_checks_secretary_answers_reviewer_closes(cast, many_branches):
    client = cast.client("reviewer")
    url = reverse("assessments:supervision_home", kwargs={"code": "JG"})
    form = client.post(url, {"month": "2025-03", "size": "0"}).context["form"]
    assert "size" in form.errors
    assert client.post(url, {"month": "2025-03", "size": "40", "weighted": "on"}).status_code == 302
    sample = SupervisionSample.objects.get()
    assert sample.checks.count() == 12  # fewer branches than 40: all of them
    assert (
        "已经抽取过督导样本"
        in client.post(url, {"month": "2025-03", "size": "5"}, follow=True).content.decode()
    )
    check = sample.checks.get(branch=cast.branch_a)
    check_url = reverse("assessments:check_detail", kwargs={"pk": check.pk})
    response = client.post(
        check_url,
        {
            "action": "check",
            "checked_on": "2025-03-18",
            "looked_at": ["考勤台账"],
            "findings": "笔记不全",
        },
    )
    assert "发现问题时请填写整改期限" in response.context["check_form"].errors["rectify_by"][0]
    client.post(
        check_url,
        {
            "action": "check",
            "checked_on": "2025-03-18",
            "looked_at": ["考勤台账", "学习笔记"],
            "findings": "学习笔记不全",
            "rectify_by": "2025-04-15",
        },
    )
    check.refresh_from_db()
    assert check.status == "已检查" and check.checker == cast.reviewer
    # The secretary of branch B neither sees nor answers branch A's findings.
    assert cast.client("secretary_b").get(check_url).status_code == 404
    secretary = cast.client("secretary_a")
    assert [c.pk for c in secretary.get(reverse("assessments:my_checks")).context["checks"]] == [
        check.pk
    ]
    assert (
        secretary.post(
            check_url, {"action": "check", "checked_on": "2025-03-18", "looked_at": ["考勤台账"]}
        ).status_code
        == 404
    )
    secretary.post(check_url, {"action": "answer", "answer": "已组织补记笔记"})
    check.refresh_from_db()
    assert check.status == "已答复" and check.answered_by == cast.secretary_a
    client.post(check_url, {"action": "close"})
    check.refresh_from_db()
    assert check.status == "已销号"
    assert cast.client("secretary_a").get(url).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_bimonthly_report_issue_excel_and_pdf(cast):
    sample = draw_sample(
        organization=refreshed(cast.root),
        month=dt.date(2025, 3, 1),
        size=2,
        weighted=False,
        by=cast.reviewer,
    )
    check = sample.checks.first()
    check.findings, check.status, check.checked_on, check.looked_at = (
        "考勤登记不及时",
        "已检查",
        dt.date(2025, 3, 10),
        ["考勤台账"],
    )
    check.save()
    client = cast.client("reviewer")
    url = reverse("assessments:supervision_report", kwargs={"code": "JG"})
    page = client.get(url, {"start": "2025-03"})
    assert page.context["summary"] == {"sampled": 2, "checked": 1, "findings": 1, "open": 1}
    assert "从单数月开始" in client.post(f"{url}?start=2025-04", follow=True).content.decode()
    client.post(f"{url}?start=2025-03")
    assert SupervisionReport.objects.get().period_start == dt.date(2025, 3, 1)
    xlsx = client.get(
        reverse("reports:supervision_report_xlsx", kwargs={"code": "JG"}), {"start": "2025-03"}
    )
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb["未销号问题"].max_row == 3  # title, header, one open finding
    pdf = client.get(
        reverse("reports:supervision_report_pdf", kwargs={"code": "JG"}), {"start": "2025-03"}
    )
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "机关党委" in text and "考勤登记不及时" in text
    assert (
        cast.client("secretary_a")
        .get(reverse("reports:supervision_report_pdf", kwargs={"code": "JG"}))
        .status_code
        == 404
    )


def test_lc_s1_reads_checks_and_reports(cast, many_branches):
    branch_services.organization_update(organization=refreshed(cast.root), profile_name="历城区")
    for month in (1, 2):
        s = draw_sample(
            organization=refreshed(cast.root),
            month=dt.date(2025, month, 1),
            size=40,
            weighted=False,
            by=cast.reviewer,
        )
        SupervisionCheck.objects.filter(sample=s).update(
            checked_on=dt.date(2025, month, 20), status="已检查"
        )
    SupervisionReport.objects.create(
        organization=refreshed(cast.root), period_start=dt.date(2025, 1, 1), issued_by=cast.reviewer
    )
    verdict = {
        v.rule_id: v
        for v in assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 3, 5))
        .org("JG")
        .verdicts
    }["LC-S1"]
    assert verdict.outcome == "met"
    late = {
        v.rule_id: v
        for v in assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 5, 5))
        .org("JG")
        .verdicts
    }["LC-S1"]
    assert late.outcome == "not_met" and late.missing == [
        "3月抽查不足",
        "4月抽查不足",
        "3-4月未报送督导报告",
    ]
