"""Verdict pages, overview, 评选, exams and profiles: behaviour and access for every URL."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from assessments.models import Exam, ExamScore, ProfileVersion, RuleProfile, Selection
from tests.assessments.test_definitions import held, monthly_days
from tests.branches.test_access import READ, SELF, WRITE

PAST = dt.datetime(2026, 1, 20, 2, 0, tzinfo=dt.UTC)
REVIEWERS = {
    "reviewer": 200,
    "admin": 200,
    "secretary_a": 404,
    "secretary_b": 404,
    "other_reviewer": 404,
    "member_a": 404,
}
STAFF = {
    "reviewer": 200,
    "admin": 200,
    "secretary_a": 200,
    "secretary_b": 200,
    "other_reviewer": 200,
    "member_a": 404,
}
ADMIN = {
    "admin": 200,
    "reviewer": 404,
    "secretary_a": 404,
    "secretary_b": 404,
    "other_reviewer": 404,
    "member_a": 404,
}


@pytest.fixture
def year_2025(cast):
    for i, day in enumerate(monthly_days(6)):
        held(cast.branch_a, day, {cast.member_a_member: "缺席"} if i < 5 else {})
    for day in monthly_days(12):
        held(cast.branch_b, day, {})
    exam = Exam.objects.create(
        organization=cast.branch_a, title="第一季度理论考试", date=dt.date(2025, 3, 20)
    )
    copy = RuleProfile.objects.get(name="默认")
    return {"exam": exam, "profile": copy}


def routes(world):
    return {
        "assessments:org_verdicts": ({"code": "JG-01-01"}, READ),
        "assessments:overview": ({"code": "JG-01"}, {**READ, "secretary_a": 404}),
        "assessments:selection": ({"code": "JG"}, REVIEWERS),
        "assessments:exam_list": ({"code": "JG-01-01"}, READ),
        "assessments:exam_scores": ({"pk": world["exam"].pk}, WRITE),
        "assessments:member_verdicts": ({"member_no": "A002"}, SELF),
        "assessments:profile_list": ({}, STAFF),
        "assessments:profile_detail": ({"pk": world["profile"].pk}, STAFF),
    }


GET_ROUTES = [
    "assessments:org_verdicts",
    "assessments:overview",
    "assessments:selection",
    "assessments:exam_list",
    "assessments:exam_scores",
    "assessments:member_verdicts",
    "assessments:profile_list",
    "assessments:profile_detail",
]
# profile_edit takes a copied profile: tested below; profile_delete is POST only.
OTHER_ROUTES = {
    "assessments:profile_edit",
    "assessments:profile_delete",
    # Supervision and audit: tested with their own cast stories in test_supervision.py and test_audit.py.
    "assessments:supervision_home",
    "assessments:supervision_report",
    "assessments:sample_detail",
    "assessments:check_detail",
    "assessments:my_checks",
    "assessments:audit",
}


@time_machine.travel(PAST, tick=False)
@pytest.mark.parametrize("name", GET_ROUTES)
@pytest.mark.parametrize("who", sorted(READ))
def test_get_access_matrix(cast, year_2025, name, who):
    kwargs, expected = routes(year_2025)[name]
    response = cast.client(who).get(reverse(name, kwargs=kwargs), {"year": 2025})
    assert response.status_code == expected[who], f"{who} GET {name}"
    assert cast.client(None).get(reverse(name, kwargs=kwargs)).status_code == 302


@time_machine.travel(PAST, tick=False)
def test_branch_page_shows_each_rule_with_value_threshold_and_quote(cast, year_2025):
    html = (
        cast.client("secretary_a")
        .get(reverse("assessments:org_verdicts", kwargs={"code": "JG-01-01"}), {"year": 2025})
        .content.decode()
    )
    assert "FJ-B1" in html and "6 次" in html and "≥ 12 次" in html
    assert "党支部集体学习每年不少于12次" in html
    assert "缺少：" in html  # cadence rules list the missing months


@time_machine.travel(PAST, tick=False)
def test_member_page_explains_why_not_excellent_with_dates(cast, year_2025):
    response = cast.client("member_a").get(
        reverse("assessments:member_verdicts", kwargs={"member_no": "A002"}), {"year": 2025}
    )
    html = response.content.decode()
    assert "不得评为优秀等次" in html and "5 次" in html
    assert len(response.context["absences"]) == 5
    assert "2025-01-05" in html


@time_machine.travel(PAST, tick=False)
def test_overview_grid_sorts_by_a_rule(cast, year_2025):
    response = cast.client("reviewer").get(
        reverse("assessments:overview", kwargs={"code": "JG"}), {"year": 2025, "sort": "FJ-B1"}
    )
    branches = [r.organization.code for r in response.context["branches"]]
    assert branches == ["JG-01-01", "JG-01-02"]  # not met first
    assert "FJ-B1" in response.context["rule_ids"]


@time_machine.travel(dt.datetime(2025, 6, 30, 2, 0, tzinfo=dt.UTC), tick=False)
def test_overview_lists_members_one_absence_away(cast):
    for day in monthly_days(4):
        held(cast.branch_b, day, {cast.member_b_member: "缺席"})
    response = cast.client("reviewer").get(
        reverse("assessments:overview", kwargs={"code": "JG"}), {"year": 2025}
    )
    assert [m.member.member_no for m in response.context["at_risk"]] == ["B002"]


@time_machine.travel(PAST, tick=False)
def test_reviewer_confirms_the_selection_which_is_recorded(cast, year_2025):
    client = cast.client("reviewer")
    url = reverse("assessments:selection", kwargs={"code": "JG"})
    page = client.get(url, {"year": 2025, "orgs": 1, "members": 2})
    ranked_orgs = page.context["branches"]
    # Branch A fails FJ-B7? it has 6 sessions at 5 × 50% + 100%: 58% < 80%: not proposed.
    assert [r.subject.organization.code for r in ranked_orgs if r.eligible] == ["JG-01-02"]
    assert not next(
        r for r in page.context["members"] if r.subject.member.member_no == "A002"
    ).eligible
    proposed = page.context["proposed_members"]
    assert len(proposed) == 2
    data = {
        "org": [str(pk) for pk in page.context["proposed_orgs"]],
        "member": [str(pk) for pk in proposed],
        "note": "党委会研究确定",
    }
    # A member who is not eligible cannot be slipped in by hand.
    data["member"].append(str(cast.member_a_member.pk))
    assert client.post(f"{url}?year=2025", data).status_code == 302
    selection = Selection.objects.get()
    assert selection.confirmed_by == cast.reviewer and selection.profile_versions["默认"] == 1
    assert {e.member_id for e in selection.entries.all() if e.member_id} == proposed
    assert cast.client("secretary_a").post(f"{url}?year=2025", data).status_code == 404


@time_machine.travel(PAST, tick=False)
def test_exam_scores_bad_input_and_excel_import(cast, year_2025):
    exam = year_2025["exam"]
    client = cast.client("secretary_a")
    url = reverse("assessments:exam_scores", kwargs={"pk": exam.pk})
    response = client.post(
        url,
        {f"score-{cast.member_a_member.pk}": "105", f"score-{cast.secretary_a_member.pk}": "abc"},
    )
    assert "甲党员：成绩应在 0 到 100 之间" in response.context["errors"]
    assert "甲书记：成绩「abc」不是数字" in response.context["errors"]
    assert not ExamScore.objects.exists()
    client.post(
        url, {f"score-{cast.member_a_member.pk}": "88.5", f"score-{cast.secretary_a_member.pk}": ""}
    )
    assert ExamScore.objects.get().score == 88.5
    wb = Workbook()
    wb.active.append(["党员编号", "成绩"])
    wb.active.append(["A001", 92])
    wb.active.append(["B002", 70])
    buffer = io.BytesIO()
    wb.save(buffer)
    response = client.post(url, {"file": SimpleUploadedFile("成绩.xlsx", buffer.getvalue())})
    assert "「B002」不在这次考试的名单中" in response.content.decode()
    assert ExamScore.objects.count() == 1
    assert (
        cast.client("secretary_b").post(url, {f"score-{cast.member_a_member.pk}": "1"}).status_code
        == 404
    )


def profile_form_data(response) -> dict:
    """What the edit page submits when nothing is changed: every rendered field's value."""
    return form_values([response.context["options_form"], *response.context["rule_forms"]])


def form_values(forms) -> dict:
    """The data a browser posts for these forms as rendered (unchecked boxes send nothing)."""
    data: dict = {}
    for form in forms:
        for bf in form:
            value = bf.value()
            if bf.widget_type == "checkbox":
                if value:
                    data[bf.html_name] = "on"
            elif value is not None:
                data[bf.html_name] = value
    return data


@time_machine.travel(PAST, tick=False)
def test_admin_copies_edits_and_versions_a_profile(cast, year_2025):
    client = cast.client("admin")
    default = RuleProfile.objects.get(name="默认")
    response = client.post(
        reverse("assessments:profile_detail", kwargs={"pk": default.pk}), {"name": "市直机关"}
    )
    copy = RuleProfile.objects.get(name="市直机关")
    assert response.status_code == 302 and copy.version == 1
    assert (
        client.post(
            reverse("assessments:profile_detail", kwargs={"pk": default.pk}), {"name": "市直机关"}
        )
        .context["copy_form"]
        .errors
    )
    edit = reverse("assessments:profile_edit", kwargs={"pk": copy.pk})
    rule = copy.rules.get(rule_id="FJ-B1")
    data = {
        **profile_form_data(client.get(edit)),
        "study_types": default.options["study_types"],
        "note": "提高到15次",
    }
    data[f"r{rule.pk}-p__min"] = "15次"
    response = client.post(edit, data)
    assert "FJ-B1 全年不少于：" in response.content.decode()
    data[f"r{rule.pk}-p__min"] = "-1"
    assert "FJ-B1 全年不少于：" in client.post(edit, data).content.decode()
    data[f"r{rule.pk}-p__min"] = "15"
    lc = copy.rules.get(rule_id="LC-B2")
    del data[f"r{lc.pk}-enabled"]
    assert client.post(edit, data).status_code == 302
    copy.refresh_from_db()
    assert copy.version == 2 and copy.rules.get(rule_id="FJ-B1").params == {"min": 15}
    assert not copy.rules.get(rule_id="LC-B2").enabled
    assert ProfileVersion.objects.get(profile=copy, number=2).note == "提高到15次"
    # The verdicts use the new version: branch B's 12 sessions no longer meet FJ-B1.
    cast.branch_b.profile_name = "市直机关"
    cast.branch_b.save()
    page = cast.client("reviewer").get(
        reverse("assessments:org_verdicts", kwargs={"code": "JG-01-02"}), {"year": 2025}
    )
    result = page.context["result"]
    assert result.profile_version == 2
    assert {v.rule_id: v.outcome for v in result.verdicts}["FJ-B1"] == "not_met"
    assert "LC-B2" not in {v.rule_id for v in result.verdicts}
    # Built-in profiles are not edited in place, and only administrators edit.
    assert (
        client.get(reverse("assessments:profile_edit", kwargs={"pk": default.pk})).status_code
        == 404
    )
    assert cast.client("reviewer").get(edit).status_code == 404
    assert (
        cast.client("reviewer")
        .post(reverse("assessments:profile_detail", kwargs={"pk": default.pk}), {"name": "x"})
        .status_code
        == 404
    )
    # A profile in use cannot be deleted.
    response = client.post(
        reverse("assessments:profile_delete", kwargs={"pk": copy.pk}), follow=True
    )
    assert "正在使用该方案" in response.content.decode()
    assert RuleProfile.objects.filter(name="市直机关").exists()
