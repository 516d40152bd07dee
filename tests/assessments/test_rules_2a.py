"""RULES.md 2a, the points on members and profiles: prorated minimums, days as 学时,
基层班子成员, 主讲人, org-scope counts, JF-B2's types, 一季一考, organization dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from assessments.engine import assess, prorated_hours
from assessments.metrics import Metrics
from assessments.models import RuleProfile
from branches.models import Organization
from tests.assessments.test_definitions import PAST, held, monthly_days, verdicts
from tests.conftest import refreshed
from tests.factories import make_member, make_session


def _profile(org: Organization, name: str) -> None:
    Organization.objects.filter(pk=org.pk).update(profile_name=name)


def test_annual_minimums_are_prorated_and_rounded_up_to_half_an_hour(cast):
    # On the roll from 1 July: 184 of 365 days; 16 × 184/365 = 8.07 → 8.5 学时.
    make_member(cast.branch_b, name="新同志", member_no="T300", start=dt.date(2025, 7, 1))
    held(cast.branch_b, dt.date(2025, 9, 5), {}, type="党员教育培训", hours="8.5")
    verdict = verdicts(assess(root=refreshed(cast.root), year=2025, today=PAST).member("T300"))[
        "LC-T1"
    ]
    assert verdict.threshold_number == 8.5 and verdict.outcome == "met"
    assert prorated_hours(16, 1.0) == Decimal(16)
    assert prorated_hours(24, 0.5) == Decimal(12)
    assert prorated_hours(16, 0.01) == Decimal("0.5")


def test_days_count_eight_hours_and_committee_members_need_24_in_licheng(cast):
    _profile(cast.root, "历城区")
    make_member(cast.branch_b, name="处长", member_no="T301", cadre_level="处级")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.member("T301"))["LC-T1"].threshold_number == 18 * 8
    # The secretary of a branch is a 基层班子成员: 24 学时, in 历城区 as in 默认.
    assert verdicts(a.member("B001"))["LC-T1"].threshold_number == 24
    assert verdicts(a.member("B002"))["LC-T1"].threshold_number == 16
    _profile(cast.root, "")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.member("B001"))["LC-T1"].threshold_number == 24


def test_the_speaker_is_a_member_only_when_identified(cast):
    branch = refreshed(cast.branch_b)
    by_no = make_session(branch, "党课", dt.date(2025, 3, 5), speaker="B001")
    by_name = make_session(branch, "党课", dt.date(2025, 4, 5), speaker="乙党员")
    guest = make_session(branch, "党课", dt.date(2025, 5, 5), speaker="王教授")
    for s in (by_no, by_name, guest):
        _take(s)
    # A name held by two people on the roll is nobody in particular.
    make_member(cast.branch_b, name="乙党员", member_no="T302", start=dt.date(2025, 6, 1))
    twice = make_session(branch, "党课", dt.date(2025, 6, 5), speaker="乙党员")
    _take(twice)
    m = Metrics(root=refreshed(cast.root), year=2025, today=PAST)
    b001 = next(i for i in m.members.values() if i.member_no == "B001")
    b002 = next(i for i in m.members.values() if i.member_no == "B002")
    assert m.talks[b001.id] == [("党课", 3)]
    assert m.talks[b002.id] == [("党课", 4)]
    _profile(cast.root, "历城区")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.member("B001"))["LC-M1"].outcome == "met"


def _take(session) -> None:
    from attendance import services

    expected = services.expected_attendees(session=session)[0]
    services.attendance_record(
        session=session,
        entries=[services.EntryInput(e.member.pk, "出席") for e in expected],
        version=session.attendance_version,
        by=None,
        now=dt.datetime.combine(session.date, dt.time(23, 0), tzinfo=dt.UTC),
    )


def test_org_scope_rules_count_the_organizations_own_sessions(cast):
    _profile(cast.root, "吉林省")
    held(cast.branch_b, dt.date(2025, 3, 5), {}, type="党员教育培训")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.org("JG-01-02"))["JL-T1"].outcome == "met"
    # The 党总支 above did not train anyone itself.
    assert verdicts(a.org("JG-01"))["JL-T1"].outcome == "not_met"


def test_jf_b2_does_not_count_a_meeting_as_study(cast):
    _profile(cast.root, "金佛寺镇")
    for day in (5, 12, 19):
        held(cast.branch_b, dt.date(2025, 3, day), {}, type="主题党日")
        held(cast.branch_b, dt.date(2025, 4, day), {}, type="读书会")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    missing = verdicts(a.org("JG-01-02"))["JF-B2"].missing_periods
    assert "2025-03" in missing and "2025-04" not in missing
    profile = RuleProfile.objects.get(name="金佛寺镇")
    assert set(profile.rules.get(rule_id="JF-B2").params["types"]) == {
        "集中学习",
        "专题讲座",
        "党员教育培训",
        "读书会",
    }


def test_one_exam_a_quarter_names_the_quarters_without_one(cast):
    _profile(cast.root, "馆陶镇")
    held(cast.branch_b, dt.date(2025, 3, 5), {})
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    verdict = verdicts(a.member("B002"))["GT-X1"]
    assert verdict.outcome == "not_met"
    assert verdict.missing_periods == [f"2025-Q{q}" for q in range(1, 5)]
    assert "第一季度" in verdict.detail


def test_an_organization_founded_in_july_misses_no_earlier_month(cast):
    Organization.objects.filter(pk=cast.branch_b.pk).update(active_from=dt.date(2025, 7, 1))
    for day in monthly_days(12):
        if day.month >= 7:
            held(cast.branch_b, day, {}, type="支委会")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.org("JG-01-02"))["LC-B1"].outcome == "met"
    Organization.objects.filter(pk=cast.branch_b.pk).update(active_from=dt.date(2025, 6, 1))
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.org("JG-01-02"))["LC-B1"].missing_periods == ["2025-06"]


def test_lc_b6_is_not_applicable_without_leave_or_absence(cast):
    _profile(cast.root, "历城区")
    held(cast.branch_b, dt.date(2025, 3, 5), {})
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.org("JG-01-02"))["LC-B6"].outcome == "n/a"
    held(cast.branch_b, dt.date(2025, 4, 5), {cast.member_b_member: "请假"})
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    verdict = verdicts(a.org("JG-01-02"))["LC-B6"]
    assert verdict.outcome == "not_met" and (verdict.value_number, verdict.threshold_number) == (
        0,
        1,
    )


def test_a_member_who_joined_in_july_misses_no_earlier_quarter(cast):
    _profile(cast.root, "馆陶镇")
    make_member(cast.branch_b, name="新同志", member_no="T303", start=dt.date(2025, 7, 1))
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    verdict = verdicts(a.member("T303"))["GT-X1"]
    assert verdict.missing_periods == ["2025-Q3", "2025-Q4"]
    assert (verdict.value_number, verdict.threshold_number) == (0, 2)


def test_fj_b4_one_group_meeting_a_month_is_enough_and_three_are_no_failure(cast):
    # "每月召开1至2次党小组会" means at least one (RULES.md 2a): three in a month still pass.
    _profile(cast.root, "福建省住建厅机关")
    for month in range(1, 13):
        for n in range(1 if month % 2 else 3):
            held(cast.group_a1, dt.date(2025, month, 3 + 7 * n), {}, type="党小组会")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    verdict = verdicts(a.org("JG-01-01"))["FJ-B4"]
    assert verdict.outcome == "met" and verdict.missing_periods == []
    # One month without a meeting is named, whatever the others held.
    from attendance.models import StudySession

    StudySession.objects.filter(organization=cast.group_a1, date__month=5).delete()
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.org("JG-01-01"))["FJ-B4"].missing_periods == ["2025-05"]


def test_lc_b4_is_quarterly_in_licheng_and_half_yearly_an_option(cast):
    _profile(cast.root, "历城区")
    for month in (2, 5):  # 党课 in Q1 and Q2 only
        held(cast.branch_b, dt.date(2025, month, 10), {}, type="党课")
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert verdicts(a.org("JG-01-02"))["LC-B4"].missing_periods == ["2025-Q3", "2025-Q4"]
    rule = RuleProfile.objects.get(name="历城区").rules.get(rule_id="LC-B4")
    assert rule.params["period"] == "quarter" and "half_year" in rule.params["period_choices"]


def test_fj_m1_blocks_both_excellent_and_advanced_member_in_every_profile(db):
    profiles = RuleProfile.objects.filter(builtin=True)
    with_rule = [p for p in profiles if p.rules.filter(rule_id="FJ-M1").exists()]
    assert {p.name for p in with_rule} >= {"默认", "福建省住建厅机关"}
    for profile in with_rule:
        consequences = set(profile.rules.get(rule_id="FJ-M1").consequences)
        assert {"blocks_excellent", "blocks_advanced_member"} <= consequences, profile.name
