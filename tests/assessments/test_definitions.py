"""Small hand-built scenarios for every definition and boundary of RULES.md section 2."""

from __future__ import annotations

import datetime as dt

import pytest

from assessments.engine import as_json, assess, whole_weeks
from assessments.models import RuleProfile
from attendance import services
from attendance.models import AttendanceEntry
from branches import services as branch_services
from tests.conftest import refreshed
from tests.factories import make_member, make_session

PAST = dt.date(2026, 11, 21)  # "today" for a finished year 2025


def held(org, day, statuses: dict, type="集中学习", hours="2"):
    """A session on `day` with attendance taken as `statuses` (member -> status); anyone
    expected and not named is present."""
    session = make_session(refreshed(org), type, day, hours=hours)
    expected = services.expected_attendees(session=session)[0]
    by_pk = {m.pk: st for m, st in statuses.items()}
    entries = [
        services.EntryInput(
            e.member.pk,
            by_pk.get(e.member.pk, "出席"),
            "理由" if by_pk.get(e.member.pk) == "请假" else "",
        )
        for e in expected
    ]
    services.attendance_record(
        session=session,
        entries=entries,
        version=0,
        by=None,
        now=dt.datetime.combine(day, dt.time(23, 0), tzinfo=dt.UTC),
    )
    return session


def monthly_days(n: int, year: int = 2025) -> list[dt.date]:
    return [dt.date(year, 1 + i % 12, 5 + i // 12) for i in range(n)]


def verdicts(result):
    return {v.rule_id: v for v in result.verdicts}


def org_result(code, year=2025, root=None, cast=None):
    a = assess(root=refreshed(root), year=year, today=PAST)
    return a.org(code), a


@pytest.mark.parametrize(("n", "outcome"), [(11, "not_met"), (12, "met")])
def test_exactly_twelve_study_sessions_meet_fj_b1(cast, n, outcome):
    for day in monthly_days(n):
        held(cast.branch_b, day, {})
    result, _ = org_result("JG-01-02", root=cast.root)
    assert result.study_sessions == n
    assert verdicts(result)["FJ-B1"].outcome == outcome
    assert verdicts(result)["FJ-B1"].quote == "党支部集体学习每年不少于12次"


def test_committee_meetings_do_not_count_as_study(cast):
    for day in monthly_days(11):
        held(cast.branch_b, day, {})
    held(cast.branch_b, dt.date(2025, 12, 20), {}, type="支委会")
    result, _ = org_result("JG-01-02", root=cast.root)
    assert result.study_sessions == 11
    assert verdicts(result)["FJ-B1"].outcome == "not_met"
    assert verdicts(result)["LC-B1"].missing == [f"{m}月" for m in range(1, 12)]


def test_sessions_of_a_group_do_not_count_for_the_branch(cast):
    for day in monthly_days(11):
        held(cast.branch_a, day, {})
    held(cast.group_a1, dt.date(2025, 12, 20), {}, type="党小组会")
    result, _ = org_result("JG-01-01", root=cast.root)
    assert result.study_sessions == 11


@pytest.mark.parametrize(("absent_sessions", "outcome"), [(1, "met"), (2, "not_met")])
def test_exactly_eighty_percent_average_participation_meets_fj_b7(cast, absent_sessions, outcome):
    """Branch B has 2 members; five sessions: rates 1, 1, 1, then 0.5 per absence...
    With one absence in five sessions: rates 1,1,1,1,0.5 -> mean 0.9. Build 80% exactly:
    four sessions at 100% and one at 0% is 0.8."""
    days = monthly_days(5)
    for i, day in enumerate(days):
        absent = (
            {cast.member_b_member: "缺席", refreshed_member(cast, "B001"): "缺席"}
            if i < absent_sessions
            else {}
        )
        held(cast.branch_b, day, absent)
    result, _ = org_result("JG-01-02", root=cast.root)
    expected_rate = (5 - absent_sessions) / 5
    assert result.avg_participation == pytest.approx(expected_rate)
    assert verdicts(result)["FJ-B7"].outcome == outcome
    assert result.five_good is (outcome == "met")
    assert verdicts(result)["FJ-B7"].consequence_labels == ["五好党支部不达标", "不得评先进党支部"]


def refreshed_member(cast, no):
    from branches.models import Member

    return Member.objects.get(member_no=no)


def test_excused_stays_in_the_denominator_unless_the_profile_says_otherwise(cast):
    held(cast.branch_b, dt.date(2025, 3, 5), {cast.member_b_member: "请假"})
    result, _ = org_result("JG-01-02", root=cast.root)
    assert result.avg_participation == pytest.approx(0.5)
    profile = RuleProfile.objects.get(name="默认")
    profile.options = {**profile.options, "exclude_excused": True}
    profile.save()
    result, _ = org_result("JG-01-02", root=cast.root)
    assert result.avg_participation == pytest.approx(1.0)


def test_average_is_of_session_rates_not_pooled_unless_chosen(cast):
    # Session 1: both present (1.0). Session 2 at the 党总支 is not the branch's own.
    # Session 2 of the branch: one of two present (0.5). Mean 0.75; pooled 3/4 = 0.75 too,
    # so add a third member for an uneven split: expected 3, attended 1 -> 1/3.
    make_member(cast.branch_b, name="丙新", start=dt.date(2025, 2, 1))
    held(cast.branch_b, dt.date(2025, 1, 10), {})  # 2 expected, 2 attended: 1.0
    held(
        cast.branch_b,
        dt.date(2025, 3, 10),
        {cast.member_b_member: "缺席", refreshed_member(cast, "B001"): "缺席"},
    )  # 3 expected, 1 attended
    result, _ = org_result("JG-01-02", root=cast.root)
    assert result.avg_participation == pytest.approx((1.0 + 1 / 3) / 2)
    profile = RuleProfile.objects.get(name="默认")
    profile.options = {**profile.options, "pooled_average": True}
    profile.save()
    result, _ = org_result("JG-01-02", root=cast.root)
    assert result.avg_participation == pytest.approx(3 / 5)


@pytest.mark.parametrize(("absences", "eligible"), [(4, True), (5, False)])
def test_five_unexcused_absences_block_excellent(cast, absences, eligible):
    member = cast.member_b_member
    for i, day in enumerate(monthly_days(6)):
        held(cast.branch_b, day, {member: "缺席"} if i < absences else {})
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    result = a.member("B002")
    assert result.unexcused_absences == absences
    assert result.excellent_eligible is eligible
    assert result.advanced_eligible is eligible
    verdict = verdicts(result)["FJ-M1"]
    assert verdict.outcome == ("met" if eligible else "not_met")
    assert "5 次以上含 5 次" in verdict.threshold


def test_make_up_does_not_erase_an_absence(cast):
    member = cast.member_b_member
    for day in monthly_days(5):
        held(cast.branch_b, day, {member: "缺席"})
    for entry in AttendanceEntry.objects.filter(member=member):
        services.makeup_record(
            entry=entry, date=entry.session.date + dt.timedelta(days=1), note="补学", by=None
        )
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert a.member("B002").unexcused_absences == 5
    assert not a.member("B002").excellent_eligible


def test_general_branch_session_counts_toward_its_members_absences(cast):
    member = cast.member_a_member
    for day in monthly_days(4):
        held(cast.branch_a, day, {member: "缺席"})
    held(cast.general, dt.date(2025, 11, 20), {member: "缺席"}, type="党课")
    a = assess(root=refreshed(cast.branch_a), year=2025, today=PAST)
    assert a.member("A002").unexcused_absences == 5
    assert not a.member("A002").excellent_eligible


def test_committee_absence_is_not_a_study_absence(cast):
    for day in monthly_days(5):
        held(cast.branch_a, day, {cast.secretary_a_member: "缺席"}, type="支委会")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert a.member("A001").unexcused_absences == 0


def test_transfer_mid_year_counts_absences_in_both_branches(cast):
    member = make_member(cast.branch_a, name="调动者", member_no="T100", start=dt.date(2024, 1, 1))
    for day in monthly_days(3):
        held(cast.branch_a, day, {member: "缺席"})
    branch_services.member_transfer(member=member, to=cast.branch_b, on=dt.date(2025, 6, 1))
    held(cast.branch_b, dt.date(2025, 6, 10), {member: "缺席"})
    held(cast.branch_b, dt.date(2025, 7, 10), {member: "缺席"})
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    result = a.member("T100")
    assert result.unexcused_absences == 5
    assert result.organization.code == "JG-01-02"  # where the member ended the year
    # Assessed from branch B alone, the absences in branch A still count: they are the member's.
    b_only = assess(root=refreshed(cast.branch_b), year=2025, today=PAST)
    assert b_only.member("T100").unexcused_absences == 5


def test_year_boundaries_in_shanghai(cast):
    member = cast.member_b_member
    held(cast.branch_b, dt.date(2024, 12, 31), {member: "缺席"})
    held(cast.branch_b, dt.date(2026, 1, 1), {member: "缺席"})
    for day in monthly_days(4):
        held(cast.branch_b, day, {member: "缺席"})
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert a.member("B002").unexcused_absences == 4
    assert a.org("JG-01-02").study_sessions == 4


def test_cadence_lists_the_missing_quarters(cast):
    for day in (dt.date(2025, 2, 1), dt.date(2025, 8, 1)):
        held(cast.branch_b, day, {}, type="支部党员大会")
    result, _ = org_result("JG-01-02", root=cast.root)
    assert verdicts(result)["FJ-B2"].missing == ["第二季度", "第四季度"]
    assert verdicts(result)["FJ-B2"].outcome == "not_met"


def test_group_cadence_is_not_applicable_without_groups(cast):
    result, _ = org_result("JG-01-02", root=cast.root)
    assert verdicts(result)["LC-B2"].outcome == "n/a"
    a_result, _ = org_result("JG-01-01", root=cast.root)
    assert verdicts(a_result)["LC-B2"].outcome == "not_met"
    assert verdicts(a_result)["LC-B2"].missing[0] == "甲支部第一党小组：1月"


def test_rules_without_data_are_not_applicable_never_a_made_up_pass(cast):
    branch_services.organization_update(organization=refreshed(cast.root), profile_name="金佛寺镇")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    verdict = verdicts(a.org("JG"))["JF-G1"]  # the three-year target needs its start year
    assert verdict.outcome == "n/a" and verdict.detail == "方案未设定三年目标的起始年份"
    # GT-E2 needs a personal study plan record the portal does not hold: never a made-up pass.
    branch_services.organization_update(organization=refreshed(cast.root), profile_name="馆陶镇")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.member("B002"))["GT-E2"].outcome in ("n/a", "not_met")


def _plan(org, year, *, submitted: dt.datetime | None, filed: bool, books: int = 0):
    from studyplans.models import AnnualPlan, RecommendedBook

    plan = AnnualPlan.objects.create(
        organization=refreshed(org),
        year=year,
        status="已备案" if filed else ("已报送" if submitted else "草稿"),
        first_submitted_at=submitted,
        submitted_at=submitted,
    )
    for i in range(books):
        RecommendedBook.objects.create(plan=plan, title=f"书{i}")
    return plan


def test_plan_filed_by_the_end_of_march(cast):
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert verdicts(org_result("JG-01-02", root=cast.root)[0])["FJ-P1"].value == "未制定学习计划"
    _plan(
        cast.branch_b, 2025, submitted=dt.datetime(2025, 3, 31, 23, 0, tzinfo=shanghai), filed=True
    )
    _plan(cast.branch_a, 2025, submitted=dt.datetime(2025, 4, 2, 9, 0, tzinfo=shanghai), filed=True)
    assert verdicts(org_result("JG-01-02", root=cast.root)[0])["FJ-P1"].outcome == "met"
    late = verdicts(org_result("JG-01-01", root=cast.root)[0])["LC-P1"]
    assert late.outcome == "not_met" and "04月02日才报送" in late.detail


def test_plan_reported_but_not_yet_filed_is_not_met_and_the_fj_profile_wants_books(cast):
    shanghai = dt.timezone(dt.timedelta(hours=8))
    branch_services.organization_update(
        organization=refreshed(cast.branch_b), profile_name="福建省住建厅机关"
    )
    _plan(cast.branch_b, 2025, submitted=dt.datetime(2025, 2, 1, tzinfo=shanghai), filed=True)
    verdict = verdicts(org_result("JG-01-02", root=cast.root)[0])["FJ-P1"]
    assert verdict.outcome == "not_met" and "没有推荐书目" in verdict.detail
    _plan(cast.branch_a, 2025, submitted=dt.datetime(2025, 2, 1, tzinfo=shanghai), filed=False)
    assert "计划状态：已报送" in verdicts(org_result("JG-01-01", root=cast.root)[0])["FJ-P1"].detail


def test_summary_and_plan_sent_by_the_end_of_january(cast):
    from studyplans.models import Submission

    shanghai = dt.timezone(dt.timedelta(hours=8))
    Submission.objects.create(
        organization=refreshed(cast.branch_b),
        kind="年度总结",
        year=2024,
        sent_at=dt.datetime(2025, 1, 20, 10, 0, tzinfo=shanghai),
    )
    _plan(cast.branch_b, 2025, submitted=dt.datetime(2025, 1, 25, tzinfo=shanghai), filed=True)
    assert verdicts(org_result("JG-01-02", root=cast.root)[0])["JL-R1"].outcome == "met"
    verdict = verdicts(org_result("JG-01-01", root=cast.root)[0])["JL-R1"]
    assert verdict.outcome == "not_met" and verdict.detail == "逾期：年度总结、学习计划"
    # In the middle of January nothing is late yet: not met so far, at risk.
    early = assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 1, 15))
    assert verdicts(early.org("JG-01-01"))["JL-R1"].forecast == "at_risk"


def test_self_study_weekly_average_over_whole_weeks_on_the_roll(cast):
    member = make_member(cast.branch_b, name="新同志", member_no="T200", start=dt.date(2025, 7, 1))
    # 2025-07-01 is a Tuesday: whole ISO weeks from Monday 7 July to the end of ISO 2025.
    weeks = whole_weeks([(dt.date(2025, 7, 1), dt.date(2026, 1, 1))], 2025)
    assert weeks == 25
    from attendance.models import SelfStudy

    SelfStudy.objects.create(member=member, date=dt.date(2025, 8, 1), hours=24, material="读书")
    SelfStudy.objects.create(member=member, date=dt.date(2025, 8, 2), hours=24, material="读书")
    SelfStudy.objects.create(member=member, date=dt.date(2025, 8, 3), hours=27, material="读书")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    verdict = verdicts(a.member("T200"))["FJ-M2"]
    assert verdict.outcome == "met" and verdict.number == pytest.approx(3.0)


def test_training_thresholds_follow_roles(cast):
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.member("A001"))["LC-T1"].threshold == "≥ 24 学时"  # 书记 of a branch
    assert verdicts(a.member("A002"))["LC-T1"].threshold == "≥ 16 学时"


def test_json_document_has_the_ledger_shape(cast):
    for day in monthly_days(12):
        held(cast.branch_b, day, {})
    doc = as_json(assess(root=refreshed(cast.root), year=2025, today=PAST))
    branch = next(o for o in doc["organizations"] if o["code"] == "JG-01-02")
    assert branch["profile"] == "默认" and branch["study_sessions"] == 12
    assert branch["avg_participation"] == 1.0 and branch["five_good"] is True
    assert branch["rules"]["FJ-B1"] == {"outcome": "met", "value": 12, "threshold": 12}
    assert branch["rules"]["LC-B2"] == {"outcome": "n/a"}
    # 党课 (FJ-B5) was never held: every quarter is named, as YYYY-Qn.
    assert branch["rules"]["FJ-B5"]["missing"] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert branch["rules"]["FJ-B5"]["outcome"] == "not_met"
    member = next(m for m in doc["members"] if m["id"] == "B002")
    assert member["organization"] == "JG-01-02" and member["excellent_eligible"] is True
    assert set(member["rules"]) == {"FJ-M1", "FJ-M2", "LC-T1"}


def test_forecast_during_the_year(cast):
    for day in monthly_days(5):
        held(cast.branch_b, day, {})
    a = assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 6, 30))
    assert verdicts(a.org("JG-01-02"))["FJ-B1"].forecast == "at_risk"  # 5 by June against 12 a year
    for day in (dt.date(2025, 6, 20),):
        held(cast.branch_b, day, {})
    a = assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 6, 30))
    assert verdicts(a.org("JG-01-02"))["FJ-B1"].forecast == "on_track"  # 6 by June


def test_member_at_risk_with_four_absences_during_the_year(cast):
    for day in monthly_days(4):
        held(cast.branch_b, day, {cast.member_b_member: "缺席"})
    a = assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 6, 30))
    verdict = verdicts(a.member("B002"))["FJ-M1"]
    assert verdict.outcome == "met" and verdict.forecast == "at_risk"


def test_profile_is_inherited_and_overridden(cast):
    branch_services.organization_update(
        organization=refreshed(cast.general), profile_name="福建省住建厅机关"
    )
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert a.org("JG-01-02").profile == "福建省住建厅机关"
    assert "FJ-B6" in verdicts(a.org("JG-01-02"))
    assert a.org("QT-01") is None  # another root
    assert a.org("JG").profile == "默认"
