"""Reads for sessions and attendance, scoped through the branches access selector."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DateField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
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
from branches.selectors import members_editable_by, members_visible_to, roll_on, scope_for

from .models import (
    ATTENDED,
    AttendanceEntry,
    AttendanceStatus,
    LeaveRequest,
    NoteStatus,
    SelfStudy,
    SelfStudyWeekReview,
    SessionType,
    StudyNote,
    StudySession,
    week_start,
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


def _sessions_under(user: User, paths_of: str) -> QuerySet[StudySession]:
    scope = scope_for(user)
    qs = StudySession.objects.select_related("organization")
    if scope.is_admin:
        return qs
    q = Q(pk__in=[])
    for path in getattr(scope, paths_of):
        q |= Q(organization__path__startswith=path)
    return qs.filter(q)


def sessions_editable_by(user: User) -> QuerySet[StudySession]:
    return _sessions_under(user, "write_paths")


def sessions_readable_by(user: User) -> QuerySet[StudySession]:
    """Sessions of the user's read scope (not those merely attended): for the history."""
    return _sessions_under(user, "read_paths")


def sessions_unlockable_by(user: User) -> QuerySet[StudySession]:
    """Sessions whose locked attendance the user may unlock: reviewers of the subtree."""
    return _sessions_under(user, "review_paths")


def entries_writable_by(user: User) -> QuerySet[AttendanceEntry]:
    """Entries the user may add a make-up to: those of sessions they manage, and their own."""
    scope = scope_for(user)
    qs = AttendanceEntry.objects.select_related("session", "session__organization", "member")
    if scope.is_admin:
        return qs
    q = Q(session__in=sessions_editable_by(user))
    if scope.member_id is not None:
        q |= Q(member_id=scope.member_id)
    return qs.filter(q)


def _not_own(qs: QuerySet, user: User) -> QuerySet:
    member_id = scope_for(user).member_id
    return qs if member_id is None else qs.exclude(member_id=member_id)


def notes_visible_to(user: User) -> QuerySet[StudyNote]:
    return StudyNote.objects.filter(member__in=members_visible_to(user)).select_related(
        "member", "session", "similar_to", "similar_to__member"
    )


def notes_editable_by(user: User) -> QuerySet[StudyNote]:
    """A note is revised by its author only."""
    member_id = scope_for(user).member_id
    return (
        notes_visible_to(user).filter(member_id=member_id)
        if member_id
        else StudyNote.objects.none()
    )


def notes_reviewable_by(user: User) -> QuerySet[StudyNote]:
    """Notes of the members the user manages, never the user's own."""
    return _not_own(notes_visible_to(user).filter(member__in=members_editable_by(user)), user)


def records_confirmable_by(user: User, model: type) -> QuerySet:
    """Training, publication, research or talk records the user may confirm: of the members
    they manage, never their own."""
    return _not_own(model.objects.filter(member__in=members_editable_by(user)), user)


def _central_group_leader_org_ids(user: User) -> QuerySet[Role] | None:
    """Organizations where the user leads the 中心组, as a subquery (no query of its own)."""
    scope = scope_for(user)
    if scope.member_id is None:
        return None
    return (
        Role.objects.current()
        .filter(
            member_id=scope.member_id,
            kind__in=[RoleKind.CENTRAL_GROUP_LEADER, RoleKind.STUDY_SECRETARY],
        )
        .values("organization_id")
    )


def leave_requests_decidable_by(user: User) -> QuerySet[LeaveRequest]:
    """Requests the user may approve: the secretary for their subtree, the 中心组 组长 (or
    学习秘书) for 中心组学习 sessions of their organization. Never their own: a secretary's
    leave is decided above them."""
    scope = scope_for(user)
    qs = LeaveRequest.objects.select_related("session", "session__organization", "member")
    if scope.member_id is not None:
        qs = qs.exclude(member_id=scope.member_id)
    if scope.is_admin:
        return qs
    q = Q(pk__in=[])
    for path in scope.write_paths:
        q |= Q(session__organization__path__startswith=path)
    central = _central_group_leader_org_ids(user)
    if central is not None:
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


def _in_reviewed_week() -> Exists:
    # The entry's date lies in [week_start, week_start + 7 days) of a review of its member.
    return Exists(
        SelfStudyWeekReview.objects.filter(
            member=OuterRef("member"),
            week_start__lte=OuterRef("date"),
            week_start__gt=ExpressionWrapper(
                OuterRef("date") - dt.timedelta(days=7), output_field=DateField()
            ),
        )
    )


def self_study_writable_by(user: User) -> QuerySet[SelfStudy]:
    """The self-study entries the user may still change or delete: their own, in weeks the
    secretary has not reviewed. Nobody else's, whatever their role."""
    member_id = scope_for(user).member_id
    if member_id is None:
        return SelfStudy.objects.none()
    return SelfStudy.objects.filter(member_id=member_id).exclude(_in_reviewed_week())


@dataclass(frozen=True)
class StudyWeek:
    """One ISO week of a member's self-study: the total, and whether the secretary reviewed it."""

    start: dt.date
    hours: Decimal
    entries: int
    reviewed_at: dt.datetime | None
    reviewed_by: str

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def label(self) -> str:
        iso = self.start.isocalendar()
        return f"{iso.year}年第{iso.week}周"

    @property
    def reviewed(self) -> bool:
        return self.reviewed_at is not None


def self_study_weeks(*, member: Member, year: int) -> list[StudyWeek]:
    """The weeks of `year` in which the member logged self-study, newest first (two queries)."""
    totals: dict[dt.date, list] = {}
    for day, hours in SelfStudy.objects.filter(member=member, date__year=year).values_list(
        "date", "hours"
    ):
        row = totals.setdefault(week_start(day), [Decimal(0), 0])
        row[0] += hours
        row[1] += 1
    reviews = {
        r.week_start: r
        for r in SelfStudyWeekReview.objects.filter(
            member=member, week_start__in=list(totals)
        ).select_related("reviewed_by")
    }
    weeks = []
    for start, (hours, count) in sorted(totals.items(), reverse=True):
        review = reviews.get(start)
        by = review.reviewed_by if review is not None else None
        weeks.append(
            StudyWeek(
                start=start,
                hours=hours,
                entries=count,
                reviewed_at=review.reviewed_at if review is not None else None,
                reviewed_by=(by.first_name or by.username) if by is not None else "",
            )
        )
    return weeks


@dataclass(frozen=True)
class WeekToReview:
    member: Member
    start: dt.date
    hours: Decimal

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)


def self_study_weeks_to_review(
    *, members: QuerySet[Member], today: dt.date, limit: int = 50
) -> list[WeekToReview]:
    """Finished ISO weeks with self-study that the secretary has not reviewed yet, oldest
    first, for the members given (the secretary's members_editable_by). Two queries."""
    this_monday = week_start(today)
    rows = (
        SelfStudy.objects.filter(
            member__in=members, date__lt=this_monday, date__gte=dt.date(today.year - 1, 1, 1)
        )
        .exclude(_in_reviewed_week())
        .annotate(week=TruncWeek("date"))
        .values("member_id", "week")
        .annotate(hours=Sum("hours"))
        .order_by("week", "member_id")[:limit]
    )
    rows = list(rows)
    by_id = Member.objects.in_bulk([r["member_id"] for r in rows])
    return [
        WeekToReview(member=by_id[r["member_id"]], start=_as_date(r["week"]), hours=r["hours"])
        for r in rows
    ]


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def today() -> dt.date:
    return timezone.localdate()


# The home page's to-do list (portal.home).


def sessions_awaiting_roll(user: User, *, now: dt.datetime) -> QuerySet[StudySession]:
    """Sessions the user may take attendance for that have started and whose roll was never
    taken: they count for nothing until it is (RULES.md 2a, listed as 未登记考勤)."""
    local = timezone.localtime(now)
    started = Q(date__lt=local.date()) | Q(date=local.date(), start_time__lte=local.time())
    return (
        sessions_editable_by(user)
        .filter(started, attendance_taken_at__isnull=True)
        .order_by("-date", "-start_time")
    )


def upcoming_sessions_for_member(user: User, *, now: dt.datetime) -> QuerySet[StudySession]:
    """The member's sessions that have not ended yet, soonest first."""
    local = timezone.localtime(now)
    not_ended = Q(date__gt=local.date()) | Q(date=local.date(), end_time__gt=local.time())
    return sessions_visible_to(user).filter(not_ended).order_by("date", "start_time")


def notes_to_review(user: User) -> QuerySet[StudyNote]:
    """Submitted notes the user may review (never their own): the home page's to-do."""
    return notes_reviewable_by(user).filter(status=NoteStatus.SUBMITTED).order_by("submitted_at")


def self_study_hours(*, member: Member, first: dt.date, last: dt.date) -> Decimal:
    total = SelfStudy.objects.filter(member=member, date__range=(first, last)).aggregate(
        total=Sum("hours")
    )["total"]
    return total or Decimal(0)
