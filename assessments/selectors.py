"""Reads for the verdict pages, the overview and the 评选 ranking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from attendance.hooks import WeeklyTarget
from attendance.models import AttendanceEntry, AttendanceStatus
from attendance.selectors import held_q, session_rate
from branches.models import DEFAULT_PROFILE_NAME, Member, Membership, Organization, OrgType
from branches.selectors import scope_for

from .engine import (
    MET,
    NOT_MET,
    Assessment,
    MemberResult,
    OrgResult,
    _cadence_missing,
    _counts_by_month,
    _load_profiles,
    assess,
    periods_to_check,
)
from .metrics import Metrics
from .models import CheckStatus, ExamScore, Rule, RuleProfile, SupervisionCheck, VerdictSnapshot


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


HISTORY_TYPES = {"+": "新增", "~": "修改", "-": "删除"}


def audit_trail(*, organization: Organization, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` changes to attendance, leave, roles, memberships and exemptions
    in `organization`'s subtree (django-simple-history), newest first: the audit page and
    its export read this one list."""
    from attendance.models import LeaveRequest, StudySession
    from branches.models import Exemption, Role

    path = organization.path
    sessions = StudySession.objects.filter(organization__path__startswith=path).values("pk")
    members = Membership.objects.filter(organization__path__startswith=path).values("member_id")
    sources = [
        (
            "考勤",
            AttendanceEntry.history.filter(session_id__in=sessions),
            lambda h: f"{h.status}" + (f"（{h.override_reason}）" if h.override_reason else ""),
        ),
        (
            "请假",
            LeaveRequest.history.filter(session_id__in=sessions),
            lambda h: f"{h.status}：{h.reason}",
        ),
        (
            "职务",
            Role.history.filter(organization__path__startswith=path),
            lambda h: f"{h.kind} {h.start or ''}–{h.end or ''}",
        ),
        (
            "组织关系",
            Membership.history.filter(organization__path__startswith=path),
            lambda h: f"{h.start or ''}–{h.end or ''}",
        ),
        (
            "免于参加",
            Exemption.history.filter(member_id__in=members),
            lambda h: f"{h.kind} {h.start}–{h.end or ''}",
        ),
    ]
    rows = []
    for label, qs, describe in sources:
        for h in qs.select_related("history_user", "member").order_by("-history_date")[:limit]:
            rows.append(
                {
                    "when": h.history_date,
                    "who": h.history_user,
                    "what": label,
                    "action": HISTORY_TYPES.get(h.history_type, h.history_type),
                    "member": h.member,
                    "detail": describe(h),
                    "reason": h.history_change_reason or "",
                }
            )
    rows.sort(key=lambda r: r["when"], reverse=True)
    return rows[:limit]


@dataclass(frozen=True)
class ExamResult:
    """One theory exam (一季一考, GT-X1) a member took: for the 学习档案 page and its PDF."""

    date: dt.date
    title: str
    organization: str
    score: Decimal
    full_marks: int

    @property
    def quarter_number(self) -> int:
        return (self.date.month - 1) // 3 + 1

    @property
    def quarter(self) -> str:
        """As verdicts name a missing period: 2025-Q2."""
        return f"{self.date.year}-Q{self.quarter_number}"

    @property
    def percent(self) -> float:
        return float(self.score) * 100 / self.full_marks if self.full_marks else 0.0


def exam_results(*, member: Member, year: int) -> list[ExamResult]:
    """The member's exam scores of the year, oldest first (one query)."""
    return [
        ExamResult(
            date=s.exam.date,
            title=s.exam.title,
            organization=s.exam.organization.name,
            score=s.score,
            full_marks=s.exam.full_marks,
        )
        for s in ExamScore.objects.filter(member=member, exam__date__year=year)
        .select_related("exam", "exam__organization")
        .order_by("exam__date", "exam__pk")
    ]


# Rule kinds that set a weekly self-study target, and the parameter holding the hours.
WEEKLY_HOURS_PARAMS = {"self_study_weekly": "min_hours", "five_ones": "weekly_hours"}


def weekly_self_study_target(*, member: Member, day: dt.date) -> WeeklyTarget | None:
    """The weekly self-study hours the member's rule profile asks for (FJ-M2 3 h, JF-M1 5 h).

    The profile is the one of the organization the member is enrolled in on `day`; rules
    that apply to every member (no 适用范围) set the target; the highest one wins.
    """
    membership = member.memberships.on(day).select_related("organization").first()
    if membership is None:
        return None
    profile_name = membership.organization.effective_profile_name()
    rules = Rule.objects.filter(
        profile__name=profile_name, enabled=True, kind__in=list(WEEKLY_HOURS_PARAMS)
    )
    targets = [
        WeeklyTarget(
            hours=Decimal(str(rule.params[WEEKLY_HOURS_PARAMS[rule.kind]])),
            rule_id=rule.rule_id,
            profile=profile_name,
        )
        for rule in rules
        if not rule.applies_to and WEEKLY_HOURS_PARAMS[rule.kind] in rule.params
    ]
    return max(targets, key=lambda t: t.hours, default=None)


# The home page's to-do list (portal.home): what a secretary or a reviewer has to act on.


@dataclass(frozen=True)
class CadenceDue:
    """A cadence rule (三会一课 and the like) with no session held yet in the current period."""

    organization: Organization
    rule_id: str
    types: tuple[str, ...]
    period: str  # "12月", "第四季度"
    # The next session of those types already scheduled in the period, if any.
    scheduled: dt.date | None


def cadence_due(*, roots: list[Organization], today: dt.date) -> list[CadenceDue]:
    """Per organization of the subtrees, each cadence rule of its profile whose current month
    or quarter has no session that took place (date ≤ today and roll recorded, RULES.md 2a).

    Reuses the engine's periods and counting; a constant number of queries per root (the
    tree, its ancestors' profile names, the profiles with their rules, the year's sessions)."""
    from attendance.models import StudySession

    result: list[CadenceDue] = []
    for root in roots:
        m = Metrics(root=root, year=today.year, today=today)
        profiles, _unknown = _load_profiles(set(m.profile_names.values()))
        # Metrics holds only what took place; the sessions still to come are one more query.
        scheduled: dict[int, list[tuple[str, dt.date]]] = {}
        for org_id, type_, day in (
            StudySession.objects.filter(
                organization__path__startswith=root.path, date__gte=today, date__year=today.year
            )
            .exclude(held_q(today=today))
            .values_list("organization_id", "type", "date")
        ):
            scheduled.setdefault(org_id, []).append((type_, day))
        for org in m.organizations:
            profile = profiles.get(m.profile_names[org.pk]) or profiles[DEFAULT_PROFILE_NAME]
            for rule in profile.rules.all():
                if not (
                    rule.enabled
                    and rule.kind == "cadence"
                    and org.type in rule.applies_to.get("org_types", [])
                ):
                    continue
                targets = (
                    [g for g in m.children.get(org.pk, []) if g.type == OrgType.GROUP]
                    if rule.params.get("target") == "groups"
                    else [org]
                )
                for target in targets:
                    due = _current_period_due(
                        m, rule, target, today, scheduled.get(target.pk, [])
                    )
                    if due is not None:
                        result.append(due)
    return result


def _current_period_due(
    m: Metrics, rule, org: Organization, today: dt.date, scheduled: list[tuple[str, dt.date]]
) -> CadenceDue | None:
    p = rule.params
    types, minimum = set(p["types"]), p.get("min_per_period", 1)
    _done, current = periods_to_check(m, p.get("period", "month"), org)
    if current is None:
        return None
    # m.sessions holds only the sessions that took place (RULES.md 2a).
    held = m.sessions_by_org.get(org.pk, [])
    counts = _counts_by_month(held, types, p.get("min_hours_each"))
    if not _cadence_missing(counts, [current], minimum):
        return None
    label, months = current
    upcoming = [day for type_, day in scheduled if type_ in types and day.month in months]
    return CadenceDue(org, rule.rule_id, tuple(p["types"]), label, min(upcoming, default=None))


def findings_to_answer(user) -> QuerySet[SupervisionCheck]:
    """Supervision checks of the user's branches with findings and no answer yet."""
    scope = scope_for(user)
    checks = SupervisionCheck.objects.filter(status=CheckStatus.CHECKED).exclude(findings="")
    if not scope.is_admin:
        q = Q(pk__in=[])
        for path in scope.write_paths:
            q |= Q(branch__path__startswith=path)
        checks = checks.filter(q)
    return checks.select_related("branch", "sample").order_by("rectify_by", "pk")


def branches_behind(user, *, year: int) -> QuerySet[VerdictSnapshot]:
    """Branches the user reviews that need attention (五好 not met or a rule behind pace),
    from the verdict snapshots the dashboards read."""
    scope = scope_for(user)
    snaps = VerdictSnapshot.objects.filter(
        year=year, at_risk=True, organization__type=OrgType.BRANCH
    )
    if not scope.is_admin:
        q = Q(pk__in=[])
        for path in scope.review_paths:
            q |= Q(organization__path__startswith=path)
        snaps = snaps.filter(q)
    return snaps.select_related("organization").order_by("organization__path")


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
