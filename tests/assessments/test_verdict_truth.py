"""Issue 11: verdicts only from what happened (RULES.md 2a), one figure everywhere.

Each test is one defect a secretary met on live data; the assertions are what she sees on
the pages, in the summary and in `assess --json`.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from assessments.engine import assess
from assessments.selectors import members_at_risk
from assessments.services import profile_copy
from attendance import services
from attendance.models import AttendanceEntry, StudySession
from branches import services as branch_services
from branches.models import Organization
from reports.summary import build_member_archive, build_summary
from tests.assessments.test_definitions import PAST, held, monthly_days
from tests.conftest import refreshed
from tests.factories import make_member, make_session

# 2 December 2025 (Asia/Shanghai), a working day late in the year.
DEC_2 = dt.datetime(2025, 12, 2, 2, 0, tzinfo=dt.UTC)


def _json(capsys, org: str = "JG") -> dict:
    capsys.readouterr()
    call_command("assess", "--year", "2025", "--org", org, "--json")
    return json.loads(capsys.readouterr().out)


def _org(doc: dict, code: str) -> dict:
    return next(o for o in doc["organizations"] if o["code"] == code)


def _member(doc: dict, member_no: str) -> dict:
    return next(m for m in doc["members"] if m["id"] == member_no)


# Scheduled sessions count as held


def test_a_scheduled_or_unrecorded_session_counts_for_nothing(cast, capsys):
    for day in monthly_days(11):
        held(cast.branch_b, day, {})
    with time_machine.travel(DEC_2, tick=False):
        # A 党课 scheduled for next week, and one held yesterday whose roll was never saved.
        make_session(refreshed(cast.branch_b), "党课", dt.date(2025, 12, 9))
        forgotten = make_session(refreshed(cast.branch_b), "集中学习", dt.date(2025, 12, 1))
        doc = _json(capsys)
        branch = _org(doc, "JG-01-02")
        assert branch["rules"]["FJ-B1"]["value"] == 11
        assert branch["study_sessions"] == 11
        assert branch["unrecorded_sessions"] == [forgotten.code]
        summary = build_summary(organization=refreshed(cast.branch_b), year=2025)
        assert summary.study_sessions == 11 and summary.sessions_total == 11
        assert [code for *_, code in summary.unrecorded] == [forgotten.code]
        page = cast.client("secretary_b").get(
            reverse("attendance:session_list", kwargs={"code": "JG-01-02"}), {"year": 2025}
        )
        html = page.content.decode()
        assert "未登记考勤：1 次活动" in html and "未举行" in html
        page = cast.client("secretary_b").get(
            reverse("assessments:org_verdicts", kwargs={"code": "JG-01-02"}), {"year": 2025}
        )
        assert forgotten.code in page.content.decode().split('id="unrecorded-sessions"')[1]


def test_the_summary_and_fj_b1_agree_on_the_number_held(cast, capsys):
    for day in monthly_days(12):
        held(cast.branch_b, day, {})
    make_session(refreshed(cast.branch_b), "党课", dt.date(2026, 11, 30))  # scheduled
    with time_machine.travel(dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC), tick=False):
        doc = _json(capsys)
        summary = build_summary(organization=refreshed(cast.branch_b), year=2025)
    fj_b1 = next(v for v in summary.verdicts if v.rule_id == "FJ-B1")
    assert summary.study_sessions == fj_b1.value_number == 12
    assert _org(doc, "JG-01-02")["study_sessions"] == 12


# An empty year is rated 五好


def test_an_empty_year_is_not_five_good_and_nobody_is_excellent(cast, capsys):
    with time_machine.travel(dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC), tick=False):
        doc = _json(capsys)
        branch = _org(doc, "JG-01-02")
        assert branch["avg_participation"] is None and branch["study_sessions"] == 0
        assert branch["rules"]["FJ-B7"]["outcome"] == "not_met"
        assert branch["five_good"] is False and branch["advanced_eligible"] is False
        # A cadence rule with no session lists every period missing.
        assert branch["rules"]["FJ-B5"]["missing"] == [f"2025-Q{q}" for q in range(1, 5)]
        assert branch["rules"]["LC-B1"]["missing"] == [f"2025-{m:02d}" for m in range(1, 13)]
        member = _member(doc, "B002")
        assert member["excellent_eligible"] is None
        assert member["rules"]["FJ-M1"] == {"outcome": "n/a"}
        page = cast.client("secretary_b").get(
            reverse("assessments:member_verdicts", kwargs={"member_no": "B002"}),
            {"year": 2025},
        )
        html = page.content.decode()
        assert "无法评定" in html and "可以评为优秀等次" not in html
        org_page = cast.client("secretary_b").get(
            reverse("assessments:org_verdicts", kwargs={"code": "JG-01-02"}), {"year": 2025}
        )
        assert "五好党支部" in org_page.content.decode()
        assert "无法评定" in org_page.content.decode()


def test_a_member_expected_somewhere_is_judged(cast):
    held(cast.branch_b, dt.date(2025, 3, 5), {})
    result = assess(root=refreshed(cast.root), year=2025, today=PAST).member("B002")
    assert result.excellent_eligible is True
    assert next(v for v in result.verdicts if v.rule_id == "FJ-M1").outcome == "met"


# One QR scan marks the room absent


@pytest.fixture
def crowded_branch(cast):
    for i in range(6):
        make_member(cast.branch_a, name=f"党员{i}", member_no=f"Q{i:03d}")
    return refreshed(cast.branch_a)


def test_one_qr_scan_marks_the_scanner_only(cast, crowded_branch):
    session = make_session(crowded_branch, date=dt.date(2025, 3, 5), qr_enabled=True)
    expected = services.expected_attendees(session=session)[0]
    assert len(expected) >= 8
    # 14:34 in Shanghai, four minutes after the start.
    scanned_at = dt.datetime(2025, 3, 5, 6, 34, tzinfo=dt.UTC)
    with time_machine.travel(scanned_at, tick=False):
        services.checkin(session=session, member=cast.member_a_member, scanned_at=scanned_at)
    session.refresh_from_db()
    entries = list(AttendanceEntry.objects.filter(session=session))
    assert [(e.member_id, e.status) for e in entries] == [(cast.member_a_member.pk, "出席")]
    assert not session.is_frozen
    # The audit trail credits the scanner with their own check-in only.
    history = AttendanceEntry.history.filter(session_id=session.pk)
    assert [(h.member_id, h.status) for h in history] == [(cast.member_a_member.pk, "出席")]
    # Nobody is absent anywhere, and nobody is "one absence from losing 优秀".
    a = assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 3, 5))
    assert all(r.unexcused_absences == 0 for r in a.members)
    assert members_at_risk(a) == []
    assert a.org("JG-01-01").study_sessions == 0


def test_the_take_page_after_a_scan_starts_the_rest_as_present_and_says_so(cast, crowded_branch):
    session = make_session(crowded_branch, date=dt.date(2025, 3, 5), qr_enabled=True)
    scanned_at = dt.datetime(2025, 3, 5, 6, 44, tzinfo=dt.UTC)  # 14:44: late
    services.checkin(session=session, member=cast.member_a_member, scanned_at=scanned_at)
    url = reverse("attendance:attendance_take", kwargs={"code": session.code})
    client = cast.client("secretary_a")
    with time_machine.travel(dt.datetime(2025, 3, 5, 8, 40, tzinfo=dt.UTC), tick=False):
        page = client.get(url)
        html = page.content.decode()
        rows = {r["member"].member_no: r for r in page.context["rows"]}
        assert rows["A002"]["status"] == "迟到" and not rows["A002"]["unrecorded"]
        others = [r for no, r in rows.items() if no != "A002"]
        assert others and all(r["status"] == "出席" and r["unrecorded"] for r in others)
        assert "已有 1 人扫码签到" in html and "待登记" in html
        assert "默认全部出席" not in html
        # "其余未签到的标记为 缺席": shown on the page, nothing saved.
        post = {f"status-{r['member'].pk}": r["status"] for r in rows.values()}
        post.update(version=session.attendance_version, rest_apply="1")
        post["rest_status_choice"] = "缺席"
        page = client.post(url, post)
        assert page.status_code == 200
        rows = {r["member"].member_no: r for r in page.context["rows"]}
        assert rows["A002"]["status"] == "迟到"
        assert all(r["status"] == "缺席" for no, r in rows.items() if no != "A002")
        assert not AttendanceEntry.objects.filter(session=session, status="缺席").exists()
        # Saving the roll freezes it: the scan kept, the rest as the secretary chose.
        post = {f"status-{r['member'].pk}": r["status"] for r in rows.values()}
        post.update(version=refreshed_session(session).attendance_version)
        assert client.post(url, post).status_code == 302
    session.refresh_from_db()
    assert session.is_frozen
    statuses = dict(session.entries.values_list("member__member_no", "status"))
    assert statuses.pop("A002") == "迟到"
    assert set(statuses.values()) == {"缺席"}
    # The absences are the secretary's, not the scanner's.
    absent = AttendanceEntry.objects.filter(session=session, status="缺席")
    assert absent.exists() and not absent.filter(updated_by=cast.member_a).exists()


def refreshed_session(session: StudySession) -> StudySession:
    return StudySession.objects.get(pk=session.pk)


# Figures disagree


def test_a_branch_summary_and_its_superior_roll_up_count_the_same_members(cast):
    held(cast.branch_a, dt.date(2025, 3, 5), {})
    branch_services.member_transfer(
        member=cast.member_a_member, to=refreshed(cast.branch_b), on=dt.date(2025, 6, 1)
    )
    own = build_summary(organization=refreshed(cast.branch_a), year=2025, today=PAST)
    rollup = build_summary(organization=refreshed(cast.root), year=2025, today=PAST)
    line = next(b for b in rollup.branches if b.code == "JG-01-01")
    assert own.member_count == line.members
    other = next(b for b in rollup.branches if b.code == "JG-01-02")
    theirs = build_summary(organization=refreshed(cast.branch_b), year=2025, today=PAST)
    assert theirs.member_count == other.members


def test_the_archive_counts_what_the_summary_counts(cast):
    # The secretary sits on the committee: the 支委会 is on her list but is not study.
    secretary = cast.secretary_a_member
    held(cast.branch_a, dt.date(2025, 3, 5), {})
    held(cast.branch_a, dt.date(2025, 4, 5), {secretary: "缺席"})
    held(cast.branch_a, dt.date(2025, 4, 8), {}, type="支委会")
    archive = build_member_archive(member=secretary, year=2025, today=PAST)
    summary = build_summary(organization=refreshed(cast.branch_a), year=2025, today=PAST)
    line = next(m for m in summary.members if m.member_no == secretary.member_no)
    assert (archive.expected, archive.attended, archive.unexcused_absences) == (
        line.expected,
        line.attended,
        line.unexcused_absences,
    )
    assert line.expected == 2 and len(archive.entries) == 3
    page = cast.client("secretary_a").get(
        reverse("attendance:member_archive", kwargs={"member_no": secretary.member_no}),
        {"year": 2025},
    )
    assert page.context["expected"] == 2


# Participation defined five times


def test_every_page_follows_the_profile_options_of_participation(cast):
    from assessments.models import MonthStat, RuleProfile
    from assessments.stats import refresh_month_stats

    extra = make_member(cast.branch_b, name="丁", member_no="B003")
    held(cast.branch_b, dt.date(2025, 3, 5), {extra: "请假"})  # 2 of 3, one on leave
    profile = RuleProfile.objects.get(name="默认")
    profile.options = {**profile.options, "exclude_excused": True}
    profile.save()
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    assert a.org("JG-01-02").avg_participation == 1.0
    summary = build_summary(organization=refreshed(cast.branch_b), year=2025, today=PAST)
    assert summary.avg_participation == 1.0 and summary.sessions[0].rate == 1.0
    refresh_month_stats(root=refreshed(cast.root), year=2025)
    stat = MonthStat.objects.get(organization=cast.branch_b, year=2025, month=3)
    assert stat.rate_sum / stat.rated_sessions == 1.0
    page = cast.client("secretary_b").get(
        reverse("attendance:session_list", kwargs={"code": "JG-01-02"}), {"year": 2025}
    )
    assert page.context["sessions"][0].rate == 1.0


# "Members one absence from losing 优秀" keyed on the rule id


def test_members_at_risk_follow_the_rule_kind_not_the_id(cast):
    copy = profile_copy(profile=_default(), name="本单位方案", by=cast.admin)
    rule = copy.rules.get(rule_id="FJ-M1")
    rule.rule_id = "BD-M1"
    rule.save()
    Organization.objects.filter(pk=cast.branch_b.pk).update(profile_name="本单位方案")
    for i, day in enumerate(monthly_days(5)):
        held(cast.branch_b, day, {cast.member_b_member: "缺席"} if i < 4 else {})
    a = assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 6, 30))
    assert [r.member.member_no for r in members_at_risk(a)] == ["B002"]


def _default():
    from assessments.models import RuleProfile

    return RuleProfile.objects.get(name="默认")


# A verdict's text does not follow its parameters


def test_a_raised_threshold_changes_every_text(cast):
    from assessments.models import RuleProfile

    held(cast.branch_b, dt.date(2025, 3, 5), {})
    profile = RuleProfile.objects.get(name="默认")
    rule = profile.rules.get(rule_id="FJ-B7")
    rule.params = {**rule.params, "min": 0.85}
    rule.save()
    a = assess(root=refreshed(cast.root), year=2025, today=PAST)
    verdict = next(v for v in a.org("JG-01-02").verdicts if v.rule_id == "FJ-B7")
    assert verdict.title == "党员平均参与率不低于85%"
    assert verdict.threshold_number == 0.85
    page = cast.client("secretary_b").get(
        reverse("assessments:org_verdicts", kwargs={"code": "JG-01-02"}), {"year": 2025}
    )
    html = page.content.decode()
    assert "不低于85%" in html and "不低于80%" not in html


# Forecast contradicts outcome


def test_a_minimum_not_reached_yet_but_on_pace_is_not_called_failed(cast):
    for i, hours in enumerate(["8", "7"]):
        held(cast.branch_b, dt.date(2025, 3 + i, 5), {}, type="党员教育培训", hours=hours)
    with time_machine.travel(DEC_2, tick=False):
        a = assess(root=refreshed(cast.root), year=2025, today=dt.date(2025, 12, 2))
        verdict = next(v for v in a.member("B002").verdicts if v.rule_id == "LC-T1")
        assert verdict.value_number == 15 and verdict.outcome == "not_met"
        assert verdict.forecast == "on_track"
        assert verdict.outcome_label != "未达标"
        page = cast.client("secretary_b").get(
            reverse("assessments:member_verdicts", kwargs={"member_no": "B002"}),
            {"year": 2025},
        )
        row = page.content.decode().split('id="rule-LC-T1"')[1].split("</tr>")[0]
        assert "进度正常" in row and "未达标" not in row


# assess --json in LEDGER.md's shape


def test_a_cadence_rule_reads_periods_met_of_periods_judged(cast, capsys):
    for month in (2, 5, 11):
        held(cast.branch_b, dt.date(2025, month, 5), {}, type="党课")
    with time_machine.travel(dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC), tick=False):
        doc = _json(capsys)
    assert _org(doc, "JG-01-02")["rules"]["FJ-B5"] == {
        "outcome": "not_met",
        "value": 3,
        "threshold": 4,
        "missing": ["2025-Q3"],
    }
    assert _member(doc, "B002")["rules"]["FJ-M1"] == {
        "outcome": "met",
        "value": 0,
        "threshold": 5,
    }


def test_the_session_list_queries_do_not_grow_with_the_sessions(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = cast.client("secretary_b")
    url = reverse("attendance:session_list", kwargs={"code": "JG-01-02"})

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"year": 2025}).status_code == 200
        return len(ctx.captured_queries)

    for day in monthly_days(2):
        held(cast.branch_b, day, {})
    make_session(refreshed(cast.branch_b), "党课", dt.date(2025, 12, 30))
    small = count()
    for day in monthly_days(12)[2:]:
        held(cast.branch_b, day, {})
    for month in range(1, 6):
        make_session(refreshed(cast.branch_b), "党课", dt.date(2025, month, 20))
    assert count() == small
