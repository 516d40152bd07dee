"""Reads for the verdict pages, the overview and the 评选 ranking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from attendance.models import AttendanceEntry, AttendanceStatus
from attendance.selectors import held_q, session_rate
from branches.models import DEFAULT_PROFILE_NAME, Member, Membership, Organization, OrgType

from .engine import MET, NOT_MET, Assessment, MemberResult, OrgResult, assess
from .models import RuleProfile


def assessment_for(
    *, organization: Organization, year: int, today: dt.date | None = None
) -> Assessment:
    return assess(root=organization, year=year, today=today)


def enrolment_in_year(*, member: Member, year: int) -> Membership | None:
    """The membership covering the latest day of the year the member was on a roll."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = [
        ms
        for ms in member.memberships.select_related("organization")
        if (ms.start is None or ms.start <= last) and (ms.end is None or ms.end > first)
    ]
    return max(rows, key=lambda ms: ms.start or dt.date.min, default=None)


def absences(*, member: Member, year: int, study_types) -> QuerySet[AttendanceEntry]:
    """The member's unexcused absences on study sessions of the year, with dates (evidence)."""
    return (
        AttendanceEntry.objects.filter(
            held_q(prefix="session__"),
            member=member,
            status=AttendanceStatus.ABSENT,
            session__date__year=year,
            session__type__in=study_types,
        )
        .select_related("session", "session__organization", "makeup")
        .order_by("session__date")
    )


def _share_met(verdicts) -> float:
    applicable = [v for v in verdicts if v.outcome in (MET, NOT_MET)]
    return sum(1 for v in applicable if v.outcome == MET) / len(applicable) if applicable else 1.0


@dataclass
class Ranked:
    subject: OrgResult | MemberResult
    score: float
    eligible: bool
    why_not: list[str]


def rank_branches(assessment: Assessment) -> list[Ranked]:
    """Score = 60 × share of applicable rules met + 40 × average participation.
    A branch that fails 五好党支部 or is barred from 先进党支部 is not proposed."""
    ranked = []
    for r in assessment.organizations:
        if r.organization.type != OrgType.BRANCH:
            continue
        score = 60 * _share_met(r.verdicts) + 40 * (r.avg_participation or 0)
        why = [
            f"{v.rule_id} {v.title}"
            for v in r.blocked("blocks_five_good") + r.blocked("blocks_advanced_branch")
        ]
        ranked.append(Ranked(r, round(score, 2), not why, sorted(set(why))))
    ranked.sort(
        key=lambda x: (
            not x.eligible,
            -x.score,
            -x.subject.study_sessions,
            x.subject.organization.code,
        )
    )
    return ranked


def rank_members(assessment: Assessment) -> list[Ranked]:
    """Score = 60 × share of applicable rules met + 40 × attendance rate − 5 × unexcused
    absences. A member who may not be graded 优秀 or named 先进党员 is not proposed."""
    ranked = []
    for r in assessment.members:
        rate = (
            session_rate(
                expected=r.attendance.get("expected", 0),
                attended=r.attendance.get("attended", 0),
            )
            or 0
        )
        score = 60 * _share_met(r.verdicts) + 40 * rate - 5 * r.unexcused_absences
        why = [
            f"{v.rule_id} {v.title}"
            for v in r.blocked("blocks_excellent") + r.blocked("blocks_advanced_member")
        ]
        ranked.append(Ranked(r, round(score, 2), not why, sorted(set(why))))
    ranked.sort(key=lambda x: (not x.eligible, -x.score, x.subject.member.member_no))
    return ranked


def members_at_risk(assessment: Assessment) -> list[MemberResult]:
    """Still eligible for 优秀 but one unexcused absence away from losing it (the rule of
    kind unexcused_absences, whatever its id in the profile)."""
    return [r for r in assessment.members if r.one_absence_from_losing_excellent]


def participation_options_by_org(root: Organization) -> dict[int, dict]:
    """The profile options of every organization of the subtree (inherited down the tree):
    what the session list and the archive need to show the rate the verdicts use."""
    from .metrics import Metrics

    names = Metrics(root=root, year=timezone.localdate().year).profile_names
    options = {
        p.name: p.options
        for p in RuleProfile.objects.filter(name__in=set(names.values()) | {DEFAULT_PROFILE_NAME})
    }
    default = options.get(DEFAULT_PROFILE_NAME, {})
    return {pk: options.get(name, default) for pk, name in names.items()}
