"""Property-based (hypothesis), on PostgreSQL: for random ledgers — held, scheduled and
unrecorded sessions of every type at every level, every status, the profile's options
switched — the summary, the dashboard statistics and `assess --json` give the same counts
and rates (RULES.md 2a: one definition read everywhere)."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.models import MemberSnapshot, MonthStat, RuleProfile, VerdictSnapshot
from assessments.stats import refresh_subtree
from attendance import services
from attendance.models import SessionType
from reports.dashboard import dashboard_data
from reports.summary import build_summary
from tests.conftest import refreshed
from tests.factories import make_member, make_session

TODAY = dt.datetime(2026, 1, 20, 2, 0, tzinfo=dt.UTC)  # 2025 is over
STATUSES = ["出席", "迟到", "请假", "缺席"]
TYPES = [t.value for t in SessionType]
ORGS = ["branch_a", "branch_b", "group_a1", "general"]

session_spec = st.fixed_dictionaries(
    {
        "org": st.sampled_from(ORGS),
        "type": st.sampled_from(TYPES),
        "month": st.integers(1, 12),
        "day": st.integers(1, 28),
        # held: roll saved; unrecorded: the day passed, no roll; scheduled: next year.
        "state": st.sampled_from(["held", "held", "held", "unrecorded", "scheduled"]),
        "statuses": st.lists(st.sampled_from(STATUSES), min_size=1, max_size=6),
    }
)
ledger = st.fixed_dictionaries(
    {
        "extra_members": st.integers(0, 3),
        "sessions": st.lists(session_spec, max_size=8),
        "exclude_excused": st.booleans(),
        "pooled_average": st.booleans(),
    }
)


def _build(cast, spec) -> None:
    for i in range(spec["extra_members"]):
        make_member(cast.branch_b if i % 2 else cast.group_a1, name=f"随机{i}")
    profile = RuleProfile.objects.get(name="默认")
    profile.options = {
        **profile.options,
        "exclude_excused": spec["exclude_excused"],
        "pooled_average": spec["pooled_average"],
    }
    profile.save()
    for s in spec["sessions"]:
        org = refreshed(getattr(cast, s["org"]))
        if services.session_type_error(s["type"], org.type):
            continue
        year = 2026 if s["state"] == "scheduled" else 2025
        session = make_session(org, s["type"], dt.date(year, s["month"], s["day"]))
        if s["state"] != "held":
            continue
        expected = services.expected_attendees(session=session)[0]
        statuses = s["statuses"]
        services.attendance_record(
            session=session,
            entries=[
                services.EntryInput(e.member.pk, st_, "理由" if st_ == "请假" else "")
                for e, st_ in zip(
                    expected, (statuses * len(expected))[: len(expected)], strict=True
                )
            ],
            version=0,
            by=None,
            now=dt.datetime.combine(session.date, dt.time(23, 0), tzinfo=dt.UTC),
        )


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < 1e-4


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=ledger)
def test_summary_dashboard_and_assess_json_agree(cast, spec):
    with transaction.atomic(), time_machine.travel(TODAY, tick=False):
        _build(cast, spec)
        out = StringIO()
        call_command("assess", "--year", "2025", "--org", "JG", "--json", stdout=out)
        doc = json.loads(out.getvalue())
        orgs = {o["code"]: o for o in doc["organizations"]}
        members = {m["id"]: m for m in doc["members"]}
        refresh_subtree(root=refreshed(cast.root), year=2025)
        snapshots = {
            s.organization.code: s
            for s in VerdictSnapshot.objects.filter(year=2025).select_related("organization")
        }
        for code, o in orgs.items():
            # The dashboard's tables.
            snap = snapshots[code]
            assert snap.study_sessions == o["study_sessions"]
            assert _close(snap.avg_participation, o["avg_participation"])
            assert snap.five_good == o["five_good"]
            held = sum(
                MonthStat.objects.filter(organization__code=code, year=2025).values_list(
                    "study_sessions", flat=True
                )
            )
            assert held == o["study_sessions"]
        for snap in MemberSnapshot.objects.filter(year=2025).select_related("member"):
            m = members[snap.member.member_no]
            assert snap.unexcused_absences == m["unexcused_absences"]
            assert snap.excellent_eligible == m["excellent_eligible"]
        # The dashboard's average: the mean of the branches' own averages.
        rates = [
            o["avg_participation"]
            for o in orgs.values()
            if o["type"] == "党支部" and o["avg_participation"] is not None
        ]
        data = dashboard_data(organization=refreshed(cast.root), year=2025)
        assert _close(data.average_participation, sum(rates) / len(rates) if rates else None)
        # The summaries, of each branch and of the 党总支 above them.
        for org in (cast.branch_a, cast.branch_b, cast.general):
            summary = build_summary(organization=refreshed(org), year=2025)
            o = orgs[org.code]
            assert summary.study_sessions == o["study_sessions"]
            assert _close(summary.avg_participation, o["avg_participation"])
            assert summary.five_good == o["five_good"]
            fj_b1 = o["rules"].get("FJ-B1")
            if fj_b1 is not None and org.type == "党支部":
                assert fj_b1["value"] == o["study_sessions"]
            for line in summary.members:
                m = members[line.member_no]
                assert line.unexcused_absences == m["unexcused_absences"]
                assert line.excellent_eligible == m["excellent_eligible"]
        rollup = build_summary(organization=refreshed(cast.general), year=2025)
        for line in rollup.branches:
            own = build_summary(organization=refreshed(getattr(cast, _attr(line.code))), year=2025)
            assert line.members == own.member_count
            assert line.study_sessions == own.study_sessions
        transaction.set_rollback(True)


def _attr(code: str) -> str:
    return {"JG-01-01": "branch_a", "JG-01-02": "branch_b"}[code]
