"""Reads for sessions and attendance, scoped through the branches access selector."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from branches.models import (
    CENTRAL_GROUP_KINDS,
    COMMITTEE_KINDS,
    Exemption,
    Member,
    Membership,
    Organization,
    Role,
    RoleKind,
    User,
    on_date_q,
)
from branches.selectors import roll_on, scope_for

from .models import (
    ATTENDED,
    AttendanceEntry,
    AttendanceStatus,
    LeaveRequest,
    SessionType,
    StudySession,
)

# What counts as held (RULES.md 2a)


def held_q(*, today: dt.date | None = None, prefix: str = "") -> Q:
    """A session took place when its date is on or before today (Asia/Shanghai) and its
    roll was recorded. Only those count for any rule, figure, summary or forecast.
    `prefix` addresses the session from a related model ("session__")."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}date__lte": today, f"{prefix}attendance_taken_at__isnull": False})


def unrecorded_q(*, today: dt.date | None = None, prefix: str = "") -> Q:
    """A session whose day has come but whose roll was never saved: 未登记考勤."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}date__lte": today, f"{prefix}attendance_taken_at__isnull": True})


def is_held(session: StudySession, today: dt.date | None = None) -> bool:
    return session.is_frozen and session.date <= (today or timezone.localdate())


def sessions_unrecorded(
    *, organization: Organization, year: int, today: dt.date | None = None
) -> QuerySet[StudySession]:
    """Sessions of the subtree in the year that count for nothing yet: listed for the
    secretary as 未登记考勤."""
    return (
        StudySession.objects.filter(
            unrecorded_q(today=today),
            organization__path__startswith=organization.path,
            date__year=year,
        )
        .select_related("organization")
        .order_by("date", "start_time")
    )


# The profile options of organizations (请假 excluded, study types, pooled mean) belong to
# the rules module above this app; it registers a provider at start-up (assessments.apps),
# so that the session list shows the rate the verdicts use without importing upward.
PARTICIPATION_OPTIONS: list = []


def participation_options(*, root: Organization) -> dict[int, dict]:
    """Per organization of `root`'s subtree: the options its profile sets for participation."""
    for provider in PARTICIPATION_OPTIONS:
        return provider(root)
    return {}


# Attended / expected: the one arithmetic every figure uses (RULES.md section 2)


def session_rate(
    *, expected: int, attended: int, excused: int = 0, exclude_excused: bool = False
) -> float | None:
    """Participation of one session: attended (出席 + 迟到) / expected; 请假 stays in the
    denominator unless the profile excludes it. None when nobody was expected."""
    denominator = expected - (excused if exclude_excused else 0)
    return attended / denominator if denominator > 0 else None


def average_rate(rows: list[tuple[int, int]], *, pooled: bool = False) -> float | None:
    """The average over sessions given as (attended, denominator) with denominator > 0:
    the mean of the session rates, or Σattended / Σexpected when pooled."""
    if not rows:
        return None
    if pooled:
        return sum(a for a, _ in rows) / sum(e for _, e in rows)
    return sum(a / e for a, e in rows) / len(rows)


def entry_counts(statuses: list[str]) -> dict[str, int]:
    """expected / attended / excused / absent of a list of attendance statuses."""
    return {
        "expected": len(statuses),
        "attended": sum(1 for s in statuses if s in ATTENDED),
        "excused": sum(1 for s in statuses if s == AttendanceStatus.EXCUSED),
        "absent": sum(1 for s in statuses if s == AttendanceStatus.ABSENT),
    }


@dataclass(frozen=True)
class Expected:
    member: Member
    organization: Organization | None


@dataclass(frozen=True)
class Exempted:
    member: Member
    kind: str


def expected_attendees(*, session: StudySession) -> tuple[list[Expected], list[Exempted]]:
    """Who is expected at the session on its date (RULES.md section 2), and who is exempt.

    A 支委会 expects the organization's committee, a 中心组学习 its 中心组; every other
    type the roll of the organization's whole subtree. Three queries whatever the size.
    """
    day, org = session.date, session.organization
    if session.type in (SessionType.COMMITTEE_MEETING, SessionType.CENTRAL_GROUP_STUDY):
        kinds = (
            COMMITTEE_KINDS
            if session.type == SessionType.COMMITTEE_MEETING
            else CENTRAL_GROUP_KINDS
        )
        member_ids = set(
            Role.objects.on(day)
            .filter(organization=org, kind__in=kinds)
            .values_list("member_id", flat=True)
        )
        enrolments = list(
            Membership.objects.filter(on_date_q(day), member_id__in=member_ids).select_related(
                "member", "organization"
            )
        )
        seen = {ms.member_id for ms in enrolments}
        rows = [(ms.member, ms.organization) for ms in enrolments]
        # Someone on the committee but no longer on any roll is still expected.
        rows += [(m, None) for m in Member.objects.filter(pk__in=member_ids - seen)]
    else:
        rows = [(ms.member, ms.organization) for ms in roll_on(organization=org, day=day)]
    exempt = dict(
        Exemption.objects.on(day)
        .filter(member_id__in=[m.pk for m, _ in rows])
        .values_list("member_id", "kind")
    )
    rows.sort(key=lambda r: (r[1].path if r[1] else "~", r[0].member_no))
    expected = [Expected(m, o) for m, o in rows if m.pk not in exempt]
    exempted = [Exempted(m, exempt[m.pk]) for m, _ in rows if m.pk in exempt]
    return expected, exempted


def central_group_members(*, organization: Organization, day: dt.date) -> QuerySet[Member]:
    """The 中心组 of a 党委/党组 on a day: its 组长, 学习秘书 and members."""
    roles = Role.objects.on(day).filter(organization=organization, kind__in=CENTRAL_GROUP_KINDS)
    return Member.objects.filter(pk__in=roles.values("member_id")).order_by("member_no")


def _member_chain_paths(member_id: int) -> set[str]:
    """Paths of every organization above (and including) any the member was enrolled in."""
    step = Organization.steplen
    paths = Membership.objects.filter(member_id=member_id).values_list(
        "organization__path", flat=True
    )
    return {p[:end] for p in paths for end in range(step, len(p) + 1, step)}


def sessions_visible_to(user: User) -> QuerySet[StudySession]:
    """Sessions of organizations in the user's read scope, plus, for a member, the sessions
    of every organization in their chain and any session they were expected at."""
    scope = scope_for(user)
    qs = StudySession.objects.select_related("organization")
    if scope.is_admin:
        return qs
    q = Q(pk__in=[])
    for path in scope.read_paths:
        q |= Q(organization__path__startswith=path)
    if scope.member_id is not None:
        q |= Q(organization__path__in=_member_chain_paths(scope.member_id))
        q |= Q(
            Exists(
                AttendanceEntry.objects.filter(session=OuterRef("pk"), member_id=scope.member_id)
            )
        )
    return qs.filter(q)


def sessions_editable_by(user: User) -> QuerySet[StudySession]:
    scope = scope_for(user)
    qs = StudySession.objects.select_related("organization")
    if scope.is_admin:
        return qs
    q = Q(pk__in=[])
    for path in scope.write_paths:
        q |= Q(organization__path__startswith=path)
    return qs.filter(q)


def _central_group_leader_org_ids(user: User) -> list[int]:
    scope = scope_for(user)
    if scope.member_id is None:
        return []
    return list(
        Role.objects.current()
        .filter(
            member_id=scope.member_id,
            kind__in=[RoleKind.CENTRAL_GROUP_LEADER, RoleKind.STUDY_SECRETARY],
        )
        .values_list("organization_id", flat=True)
    )


def leave_requests_decidable_by(user: User) -> QuerySet[LeaveRequest]:
    """Requests the user may approve: the secretary for their subtree, the 中心组 组长 (or
    学习秘书) for 中心组学习 sessions of their organization."""
    scope = scope_for(user)
    qs = LeaveRequest.objects.select_related("session", "session__organization", "member")
    if scope.is_admin:
        return qs
    q = Q(pk__in=[])
    for path in scope.write_paths:
        q |= Q(session__organization__path__startswith=path)
    central = _central_group_leader_org_ids(user)
    if central:
        q |= Q(session__type=SessionType.CENTRAL_GROUP_STUDY, session__organization_id__in=central)
    return qs.filter(q)


def member_entries(
    *, member: Member, year: int, today: dt.date | None = None
) -> QuerySet[AttendanceEntry]:
    """The member's entries on sessions of the year that took place (RULES.md 2a)."""
    return (
        AttendanceEntry.objects.filter(
            held_q(today=today, prefix="session__"), member=member, session__date__year=year
        )
        .select_related("session", "session__organization", "makeup")
        .order_by("session__date", "session__start_time")
    )


def sessions_for_organization(
    *, organization: Organization, year: int | None = None, month: int | None = None
) -> QuerySet[StudySession]:
    qs = StudySession.objects.filter(organization=organization).select_related("organization")
    if year is not None:
        qs = qs.filter(date__year=year)
    if month is not None:
        qs = qs.filter(date__month=month)
    return qs.order_by("date", "start_time")


def today() -> dt.date:
    return timezone.localdate()
