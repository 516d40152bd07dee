"""Property-based tests (hypothesis) of the rules' thresholds, on the shipped rules.

Each evaluator runs on a real Metrics whose figures are given directly (what its queries
would have returned), so that thousands of cases run without a database. The oracle is
the wording of RULES.md, computed independently with exact fractions, not the engine's code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.engine import EVALUATORS, MET, NA, NOT_MET, Context, whole_weeks
from assessments.metrics import MemberInfo, Metrics, SessionRow
from assessments.models import Rule
from assessments.profiles_data import DEFAULT_OPTIONS, RULES, STUDY_TYPES_DEFAULT
from branches.models import Organization, OrgType

YEAR = 2025
AFTER_THE_YEAR = dt.date(2026, 2, 1)
ALL_TYPES = [*STUDY_TYPES_DEFAULT, "支委会", "谈心谈话"]
BRANCH = Organization(pk=1, path="00010001", depth=2, type=OrgType.BRANCH, name="支部", code="B")
MEMBER = MemberInfo(1, "A001", "党员", "", BRANCH.pk)


def shipped(rule_id: str) -> Rule:
    data = RULES[rule_id]
    return Rule(**{k: data[k] for k in ("rule_id", "title", "kind", "scope", "applies_to",
                                         "params", "consequences", "quote", "source")})  # fmt: skip


def metrics(**figures) -> Metrics:
    m = Metrics(root=BRANCH, year=YEAR, today=AFTER_THE_YEAR)
    m.__dict__.update(figures)  # what the cached properties would have loaded
    return m


def context(m: Metrics) -> Context:
    return Context(m, DEFAULT_OPTIONS)


sessions = st.lists(
    st.builds(
        lambda i, t, month, expected, attended, excused: SessionRow(
            i,
            f"S{i}",
            BRANCH.pk,
            t,
            dt.date(YEAR, month, 10),
            Decimal(2),
            expected,
            min(attended, expected),
            min(excused, expected - min(attended, expected)),
        ),  # fmt: skip
        st.integers(1, 10**6),
        st.sampled_from(ALL_TYPES),
        st.integers(1, 12),
        st.integers(0, 60),
        st.integers(0, 60),
        st.integers(0, 60),
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(sessions)
def test_twelve_study_sessions_a_year(rows):
    """FJ-B1: 党支部集体学习每年不少于12次 — held sessions of the study types only, with
    somebody expected (a roll saved with nobody on it is no session)."""
    verdict = EVALUATORS["session_count"](
        shipped("FJ-B1"), BRANCH, context(metrics(sessions_by_org={BRANCH.pk: rows}))
    )
    study = sum(1 for r in rows if r.type in STUDY_TYPES_DEFAULT and r.expected > 0)
    assert verdict.outcome == (MET if study >= 12 else NOT_MET)
    assert verdict.forecast is None  # the year is over


@settings(max_examples=300)
@given(sessions)
def test_average_participation_of_eighty_percent(rows):
    """FJ-B7 (RULES.md §2): the mean of the per-session rates of the study sessions with
    attendance recorded, compared with 80% as shown with two decimals of a percent."""
    rule = shipped("FJ-B7")
    verdict = EVALUATORS[rule.kind](
        rule, BRANCH, context(metrics(sessions_by_org={BRANCH.pk: rows}))
    )
    rated = [
        Fraction(r.attended, r.expected)
        for r in rows
        if r.type in STUDY_TYPES_DEFAULT and r.expected > 0
    ]
    if not rated:
        # No evidence is no pass (RULES.md 2a): FJ-B7 blocks 五好, so it is not met.
        assert verdict.outcome == NOT_MET and verdict.value_number is None
        return
    mean = sum(rated) / len(rated)
    if mean >= Fraction(4, 5):
        assert verdict.outcome == MET
    elif mean < Fraction(79995, 100000):  # below 80.00% even when rounded for display
        assert verdict.outcome == NOT_MET


@given(st.integers(0, 40))
def test_five_unexcused_absences_or_more_block_excellent(absent):
    """FJ-M1: 无故缺席集体学习活动5次以上 (5 included) blocks 优秀."""
    m = metrics()
    m._cache[("entry_counts", frozenset(STUDY_TYPES_DEFAULT))] = {
        MEMBER.id: {"expected": 40, "attended": 40 - absent, "excused": 0, "absent": absent}
    }
    verdict = EVALUATORS["unexcused_absences"](shipped("FJ-M1"), MEMBER, context(m))
    assert verdict.outcome == (NOT_MET if absent >= 5 else MET)
    assert verdict.blocking == (absent >= 5) and "blocks_excellent" in verdict.consequences


@settings(max_examples=300)
@given(
    st.integers(0, 40 * 60).map(lambda minutes: Decimal(minutes) / 10),
    st.lists(st.tuples(st.integers(0, 364), st.integers(1, 365)), min_size=1, max_size=3),
)
def test_three_hours_of_self_study_a_week(total, spans):
    """FJ-M2: 每周自学不少于3小时 — the year's hours over the whole weeks on a roll."""
    first = dt.date(YEAR, 1, 1)
    intervals = [(first + dt.timedelta(a), first + dt.timedelta(a + n)) for a, n in spans]
    member = MemberInfo(1, "A001", "党员", "", BRANCH.pk, intervals=intervals)
    m = metrics(self_study_hours={member.id: total})
    verdict = EVALUATORS["self_study_weekly"](shipped("FJ-M2"), member, context(m))
    weeks = whole_weeks(intervals, YEAR)
    if weeks == 0:
        assert verdict.outcome == NA
    else:
        assert verdict.outcome == (MET if Fraction(total) >= 3 * weeks else NOT_MET)


@given(st.lists(st.tuples(st.integers(-30, 400), st.integers(0, 400)), max_size=4))
def test_whole_weeks_are_whole_iso_weeks_covered(spans):
    """Counted against a day-by-day oracle: a week (Monday to Sunday) counts when all of its
    seven days lie inside the calendar year and the (merged) intervals (RULES.md 2a)."""
    first = dt.date(YEAR, 1, 1)
    intervals = [(first + dt.timedelta(a), first + dt.timedelta(a + n)) for a, n in spans]
    covered = {lo + dt.timedelta(d) for lo, hi in intervals for d in range((hi - lo).days)}
    covered = {d for d in covered if d.year == YEAR}
    monday = first + dt.timedelta((7 - first.weekday()) % 7)
    expected = 0
    while monday + dt.timedelta(6) <= dt.date(YEAR, 12, 31):
        if all(monday + dt.timedelta(d) in covered for d in range(7)):
            expected += 1
        monday += dt.timedelta(7)
    assert whole_weeks(intervals, YEAR) == expected
