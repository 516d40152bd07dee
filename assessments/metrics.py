"""Metrics for a subtree and a year, computed set-wise.

Every metric is one aggregate query over the whole subtree (never a query per branch or
per member), computed on first use, so a profile that does not need a metric does not pay
for it. The rules (assessments.engine) then read plain numbers from here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from attendance.models import (
    ATTENDED,
    AttendanceEntry,
    AttendanceStatus,
    FieldResearch,
    MakeUp,
    NoteStatus,
    Publication,
    RecordStatus,
    SelfStudy,
    StudyNote,
    StudySession,
    Talk,
    TrainingRecord,
)
from attendance.selectors import held_q, unrecorded_q
from branches.models import (
    DEFAULT_PROFILE_NAME,
    Member,
    Membership,
    Organization,
    OrgType,
    Role,
)

from .models import ExamScore


@dataclass
class SessionRow:
    id: int
    code: str
    organization_id: int
    type: str
    date: dt.date
    hours: Decimal
    expected: int
    attended: int
    excused: int
    absent: int = 0


@dataclass
class MemberInfo:
    id: int
    member_no: str
    name: str
    cadre_level: str
    organization_id: int  # enrolment (in the subtree) on the latest day of the year so far
    # Whether that enrolment still holds at the end of the period assessed (not transferred out).
    enrolled_at_end: bool = True
    # (start, end) half-open intervals on any roll, clipped to the year so far.
    intervals: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    # (role kind, organization type) of every role held at some time in the year.
    roles: set[tuple[str, str]] = field(default_factory=set)
    # The share of the whole calendar year on any roll (RULES.md 2a: annual minimums are
    # prorated by it; a current enrolment counts to the year's end).
    year_share: float = 1.0


def covered_days(spans: list[tuple[dt.date, dt.date]]) -> int:
    """Days covered by half-open [start, end) spans, overlaps counted once."""
    days, reach = 0, None
    for lo, hi in sorted(spans):
        if reach is not None and lo < reach:
            lo = reach
        if lo < hi:
            days += (hi - lo).days
            reach = hi
    return days


def month_of(day: dt.date) -> int:
    return day.month


def quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


class Metrics:
    def __init__(self, *, root: Organization, year: int, today: dt.date | None = None) -> None:
        self.root = root
        self.year = year
        self.today = today or timezone.localdate()
        self.first_day = dt.date(year, 1, 1)
        self.last_day = dt.date(year, 12, 31)
        # The part of the year that has happened: all of it for a past year.
        self.as_of = min(self.last_day, self.today)
        self.current_year = self.first_day <= self.today <= self.last_day
        self.future_year = self.today < self.first_day
        elapsed = (self.as_of - self.first_day).days + 1
        self.elapsed_fraction = (
            0.0 if self.future_year else elapsed / ((self.last_day - self.first_day).days + 1)
        )

    # The tree

    @cached_property
    def organizations(self) -> list[Organization]:
        return list(Organization.objects.filter(path__startswith=self.root.path).order_by("path"))

    @cached_property
    def org_by_id(self) -> dict[int, Organization]:
        return {o.pk: o for o in self.organizations}

    @cached_property
    def children(self) -> dict[int, list[Organization]]:
        by_path = {o.path: o for o in self.organizations}
        result: dict[int, list[Organization]] = defaultdict(list)
        for o in self.organizations:
            parent = by_path.get(o.path[: -Organization.steplen])
            if parent is not None:
                result[parent.pk].append(o)
        return result

    @cached_property
    def profile_names(self) -> dict[int, str]:
        """The effective profile name of every organization (inherited down the tree)."""
        inherited = DEFAULT_PROFILE_NAME
        for ancestor in reversed(list(Organization.objects.get_ancestors(self.root))):
            if ancestor.profile_name:
                inherited = ancestor.profile_name
                break
        by_path: dict[str, str] = {}
        result = {}
        for o in self.organizations:  # in path order: parents first
            parent = by_path.get(o.path[: -Organization.steplen], inherited)
            name = o.profile_name or parent
            by_path[o.path] = name
            result[o.pk] = name
        return result

    def org_existed_in(self, org: Organization, start: dt.date, end: dt.date) -> bool:
        """Whether the organization existed at some time in [start, end]."""
        return (org.active_from is None or org.active_from <= end) and (
            org.active_until is None or org.active_until > start
        )

    # Sessions

    @cached_property
    def sessions(self) -> list[SessionRow]:
        rows = (
            StudySession.objects.filter(
                self.held(),
                organization__path__startswith=self.root.path,
                date__range=(self.first_day, self.last_day),
            )
            .annotate(
                expected=Count("entries"),
                attended=Count("entries", filter=Q(entries__status__in=ATTENDED)),
                excused=Count("entries", filter=Q(entries__status=AttendanceStatus.EXCUSED)),
                absent=Count("entries", filter=Q(entries__status=AttendanceStatus.ABSENT)),
            )
            .values_list(
                "id",
                "code",
                "organization_id",
                "type",
                "date",
                "hours",
                "expected",
                "attended",
                "excused",
                "absent",
            )
            .order_by("date", "start_time")
        )
        return [SessionRow(*r) for r in rows]

    def held(self, prefix: str = "") -> Q:
        """Only sessions that took place count (RULES.md 2a), as of the assessment's today."""
        return held_q(today=self.today, prefix=prefix)

    @cached_property
    def unrecorded(self) -> list[tuple[int, str, int, str, dt.date]]:
        """(id, code, organization, type, date) of the subtree's sessions of the year whose
        day has come but whose roll was never saved: 未登记考勤, counted nowhere."""
        return list(
            StudySession.objects.filter(
                unrecorded_q(today=self.today),
                organization__path__startswith=self.root.path,
                date__range=(self.first_day, self.last_day),
            )
            .order_by("date", "start_time")
            .values_list("id", "code", "organization_id", "type", "date")
        )

    @cached_property
    def sessions_by_org(self) -> dict[int, list[SessionRow]]:
        result: dict[int, list[SessionRow]] = defaultdict(list)
        for s in self.sessions:
            result[s.organization_id].append(s)
        return result

    def subtree_sessions(self, org: Organization) -> list[SessionRow]:
        by_org = self.sessions_by_org
        rows = [s for pk in self._subtree_ids.get(org.path, ()) for s in by_org.get(pk, ())]
        return rows

    @cached_property
    def makeup_counts(self) -> dict[tuple[int, str, str], tuple[int, int]]:
        """(organization, session type, status) -> (entries, entries with a 补课)."""
        rows = (
            AttendanceEntry.objects.filter(
                self.held("session__"),
                session__organization__path__startswith=self.root.path,
                session__date__range=(self.first_day, self.last_day),
                status__in=[AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT],
            )
            .values("session__organization_id", "session__type", "status")
            .annotate(
                total=Count("pk"),
                made=Count("pk", filter=Q(Exists(MakeUp.objects.filter(entry=OuterRef("pk"))))),
            )
        )
        return {
            (r["session__organization_id"], r["session__type"], r["status"]): (
                r["total"],
                r["made"],
            )
            for r in rows
        }

    # Members

    @cached_property
    def members(self) -> dict[int, MemberInfo]:
        """Everyone on a roll in the subtree at some time in the year (so far)."""
        rows = (
            Membership.objects.filter(self._in_year, organization__path__startswith=self.root.path)
            .values_list(
                "member_id",
                "member__member_no",
                "member__name",
                "member__cadre_level",
                "organization_id",
                "end",
            )
            .order_by(F("start").asc(nulls_first=True))
        )
        members: dict[int, MemberInfo] = {}
        for member_id, no, name, cadre, org_id, end in rows:
            current = end is None or end > self.as_of
            # Ordered by start: the last one seen is the latest enrolment in the year.
            if member_id in members:
                members[member_id].organization_id = org_id
                members[member_id].enrolled_at_end = current
            else:
                members[member_id] = MemberInfo(member_id, no, name, cadre, org_id, current)
        if not members:
            return members
        # Intervals on any roll (a member may have come from outside the subtree).
        next_year = self.last_day + dt.timedelta(days=1)
        whole_year: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
        for member_id, start, end in Membership.objects.filter(
            self._in_year, self.of_members()
        ).values_list("member_id", "start", "end"):
            lo = max(start or self.first_day, self.first_day)
            hi = min(end or self.as_of + dt.timedelta(days=1), self.as_of + dt.timedelta(days=1))
            if lo < hi:
                members[member_id].intervals.append((lo, hi))
            whole_year[member_id].append((lo, min(end or next_year, next_year)))
        year_days = (next_year - self.first_day).days
        for member_id, spans in whole_year.items():
            members[member_id].year_share = min(1.0, covered_days(spans) / year_days)
        for member_id, kind, org_type in Role.objects.filter(
            self._in_year, self.of_members()
        ).values_list("member_id", "kind", "organization__type"):
            members[member_id].roles.add((kind, org_type))
        return members

    def of_members(self, column: str = "member_id") -> Q:
        """A filter on the members of the assessment (everyone on a roll in the subtree in
        the year), as a semi-join on the rolls: a list of 50,000 ids in the SQL was 290 KB
        per statement and measured twice as slow (BENCHMARKS.md)."""
        return Q(**{f"{column}__in": self._roll_members})

    @cached_property
    def _roll_members(self):
        return Membership.objects.filter(
            self._in_year, organization__path__startswith=self.root.path
        ).values("member_id")

    @cached_property
    def _in_year(self) -> Q:
        """A membership or role held at some time in the year so far (half-open periods)."""
        in_year = Q(start__isnull=True) | Q(start__lte=self.as_of)
        return in_year & (Q(end__isnull=True) | Q(end__gt=self.first_day))

    def member_profile(self, member: MemberInfo) -> str:
        return self.profile_names.get(member.organization_id, DEFAULT_PROFILE_NAME)

    def _member_entries(self):
        return AttendanceEntry.objects.filter(
            self.held("session__"),
            self.of_members(),
            session__date__range=(self.first_day, self.last_day),
        )

    def entry_counts(self, study_types: frozenset[str]) -> dict[int, dict[str, int]]:
        """Per member: expected, attended, excused and absent on study sessions of the types,
        organized by any organization (a 党委 lecture counts too)."""
        key = ("entry_counts", study_types)
        if key not in self._cache:
            rows = (
                self._member_entries()
                .filter(session__type__in=study_types)
                .values("member_id")
                .annotate(
                    expected=Count("pk"),
                    attended=Count("pk", filter=Q(status__in=ATTENDED)),
                    excused=Count("pk", filter=Q(status=AttendanceStatus.EXCUSED)),
                    absent=Count("pk", filter=Q(status=AttendanceStatus.ABSENT)),
                )
            )
            self._cache[key] = {r.pop("member_id"): r for r in rows}
        return self._cache[key]

    @cached_property
    def _cache(self) -> dict:
        return {}

    def attended_for(self, types: frozenset[str]) -> tuple[dict, dict]:
        """Per member, for sessions of the types only: sessions attended by month, and hours
        attended. One query per distinct set of types (a profile asks for two or three): the
        rows of every type would be one per member, type and month (1.3 million at 2,000
        branches) where the rules need a few per member."""
        key = ("attended", types)
        if key not in self._cache:
            rows = (
                self._member_entries()
                .filter(status__in=ATTENDED, session__type__in=types)
                .annotate(month=ExtractMonth("session__date"))
                .values("member_id", "month")
                .annotate(n=Count("pk"), hours=Sum("session__hours"))
                .values_list("member_id", "month", "n", "hours")
            )
            counts: dict[int, dict[int, int]] = defaultdict(dict)
            hours: dict[int, Decimal] = defaultdict(Decimal)
            for member_id, month, n, h in rows:
                counts[member_id][month] = n
                hours[member_id] += h or Decimal(0)
            self._cache[key] = (counts, hours)
        return self._cache[key]

    @cached_property
    def self_study_hours(self) -> dict[int, Decimal]:
        rows = (
            SelfStudy.objects.filter(self.of_members(), date__range=(self.first_day, self.as_of))
            .values("member_id")
            .annotate(total=Sum("hours"))
        )
        return {r["member_id"]: r["total"] for r in rows}

    @cached_property
    def notes(self) -> dict[int, list[tuple[str, int, int]]]:
        """Per member: (kind, month, words) of the notes of the year that were not returned."""
        rows = (
            StudyNote.objects.filter(self.of_members(), submitted_at__year=self.year)
            .exclude(status=NoteStatus.RETURNED)
            .annotate(month=ExtractMonth("submitted_at"))
            .values_list("member_id", "kind", "month", "word_count")
        )
        result: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
        for member_id, kind, month, words in rows:
            result[member_id].append((kind, month, words))
        return result

    @cached_property
    def notes_waiting(self) -> dict[int, int]:
        """Per member: notes still waiting for review more than 14 days after submission."""
        cutoff = timezone.make_aware(
            dt.datetime.combine(self.as_of - dt.timedelta(days=14), dt.time.max)
        )
        rows = (
            StudyNote.objects.filter(
                self.of_members(),
                submitted_at__year=self.year,
                status=NoteStatus.SUBMITTED,
                submitted_at__lte=cutoff,
            )
            .values("member_id")
            .annotate(n=Count("pk"))
        )
        return {r["member_id"]: r["n"] for r in rows}

    @cached_property
    def training_records(self) -> dict[int, tuple[Decimal, int, int]]:
        """Per member: confirmed training outside the portal in the year: (学时, days, courses)."""
        rows = TrainingRecord.objects.filter(
            self.of_members(),
            status=RecordStatus.CONFIRMED,
            start_date__lte=self.last_day,
            end_date__gte=self.first_day,
        ).values_list("member_id", "hours", "start_date", "end_date")
        result: dict[int, tuple[Decimal, int, int]] = {}
        for member_id, hours, start, end in rows:
            h, d, n = result.get(member_id, (Decimal(0), 0, 0))
            days = (min(end, self.last_day) - max(start, self.first_day)).days + 1
            result[member_id] = (h + hours, d + days, n + 1)
        return result

    @cached_property
    def talks(self) -> dict[int, list[tuple[str, int]]]:
        """Per member: (kind, month) of confirmed talks, plus 中心发言 named on sessions."""
        result: dict[int, list[tuple[str, int]]] = defaultdict(list)
        rows = Talk.objects.filter(
            self.of_members(), status=RecordStatus.CONFIRMED, date__year=self.year
        ).values_list("member_id", "kind", "date", "session_id")
        named = set()
        recorded = set()
        for member_id, kind, day, session_id in rows:
            result[member_id].append((kind, day.month))
            if kind == "中心发言" and session_id:
                named.add((member_id, session_id))
            if session_id:
                recorded.add((member_id, session_id))
        for member_id, session_id, kind, day in self._speakers():
            if (member_id, session_id) not in recorded:
                result[member_id].append((kind, day.month))
        speeches = StudySession.central_speakers.through.objects.filter(
            self.held("studysession__"), self.of_members(), studysession__date__year=self.year
        ).values_list("member_id", "studysession_id", "studysession__date")
        for member_id, session_id, day in speeches:
            if (member_id, session_id) not in named:
                result[member_id].append(("中心发言", day.month))
        return result

    # A held session's 主讲人 gave a talk of this kind (LC-M1, FJ-M3, GT-L2, JF-L1).
    SPEAKER_TALK_KINDS = {"党课": "党课", "专题讲座": "专题报告"}

    def _speakers(self) -> list[tuple[int, int, str, dt.date]]:
        """(member, session, talk kind, date) for the held sessions of the subtree whose
        主讲人 identifies a member (RULES.md 2a): a 党员编号, or exactly one 姓名 on the roll
        of the organizing organization's subtree on the session date. Anyone else is a
        guest and counts for no member. Three queries whatever the size."""
        sessions = list(
            StudySession.objects.filter(
                self.held(),
                organization__path__startswith=self.root.path,
                date__range=(self.first_day, self.last_day),
                type__in=list(self.SPEAKER_TALK_KINDS),
            )
            .exclude(speaker="")
            .values_list("id", "organization__path", "date", "speaker", "type")
        )
        if not sessions:
            return []
        speakers = {s.strip() for _, _, _, s, _ in sessions}
        by_no = dict(Member.objects.filter(member_no__in=speakers).values_list("member_no", "pk"))
        rolls: dict[str, list[tuple[int, str, dt.date | None, dt.date | None]]] = defaultdict(list)
        for member_id, name, path, start, end in Membership.objects.filter(
            member__name__in=speakers, organization__path__startswith=self.root.path
        ).values_list("member_id", "member__name", "organization__path", "start", "end"):
            rolls[name].append((member_id, path, start, end))
        found = []
        for session_id, org_path, day, speaker, type_ in sessions:
            speaker = speaker.strip()
            member_id = by_no.get(speaker)
            if member_id is None:
                on_roll = {
                    mid
                    for mid, path, start, end in rolls.get(speaker, ())
                    if path.startswith(org_path)
                    and (start is None or start <= day)
                    and (end is None or end > day)
                }
                member_id = on_roll.pop() if len(on_roll) == 1 else None
            if member_id is not None:
                found.append((member_id, session_id, self.SPEAKER_TALK_KINDS[type_], day))
        return found

    @cached_property
    def research(self) -> dict[int, tuple[int, int]]:
        """Per member: confirmed field research days in the year and reports written."""
        result: dict[int, tuple[int, int]] = {}
        rows = FieldResearch.objects.filter(
            self.of_members(),
            status=RecordStatus.CONFIRMED,
            start_date__lte=self.last_day,
            end_date__gte=self.first_day,
        ).values_list("member_id", "start_date", "end_date", "report_title")
        for member_id, start, end, report in rows:
            days, reports = result.get(member_id, (0, 0))
            days += (min(end, self.last_day) - max(start, self.first_day)).days + 1
            result[member_id] = (days, reports + (1 if report else 0))
        return result

    @cached_property
    def publications(self) -> dict[int, int]:
        rows = (
            Publication.objects.filter(
                self.of_members(),
                status=RecordStatus.CONFIRMED,
                published_on__year=self.year,
            )
            .values("member_id")
            .annotate(n=Count("pk"))
        )
        return {r["member_id"]: r["n"] for r in rows}

    @cached_property
    def exam_scores(self) -> dict[int, list[tuple[int, Decimal]]]:
        """Per member: (quarter, score) of the year's theory exams."""
        rows = ExamScore.objects.filter(self.of_members(), exam__date__year=self.year).values_list(
            "member_id", "exam__date", "score"
        )
        result: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for member_id, day, score in rows:
            result[member_id].append((quarter_of(day.month), score))
        return result

    @cached_property
    def exams_held(self) -> bool:
        from .models import Exam

        chain = [o.pk for o in Organization.objects.get_ancestors(self.root)] + [
            o.pk for o in self.organizations
        ]
        return Exam.objects.filter(organization_id__in=chain, date__year=self.year).exists()

    @cached_property
    def plans(self) -> dict[int, dict]:
        """Per organization: this year's plan (status, first submission, books)."""
        from studyplans.models import AnnualPlan

        rows = (
            AnnualPlan.objects.filter(organization__path__startswith=self.root.path, year=self.year)
            .annotate(n_books=Count("books"))
            .values("organization_id", "status", "first_submitted_at", "filed_at", "n_books")
        )
        return {r["organization_id"]: r for r in rows}

    @cached_property
    def summaries_sent(self) -> dict[int, dt.datetime]:
        """Per organization: when the summary of the previous year was first sent."""
        from django.db.models import Min

        from studyplans.models import Submission, SubmissionKind

        rows = (
            Submission.objects.filter(
                organization__path__startswith=self.root.path,
                year=self.year - 1,
                kind=SubmissionKind.ANNUAL_SUMMARY,
            )
            .values("organization_id")
            .annotate(first=Min("sent_at"))
        )
        return {r["organization_id"]: r["first"] for r in rows}

    @cached_property
    def supervision(self) -> tuple[dict[int, dict[int, int]], dict[int, set[int]]]:
        """Per organization: checks done by month, and the months that start a reported period."""
        from .models import SupervisionCheck, SupervisionReport

        checks: dict[int, dict[int, int]] = defaultdict(dict)
        rows = (
            SupervisionCheck.objects.filter(
                sample__organization__path__startswith=self.root.path,
                sample__month__year=self.year,
                checked_on__isnull=False,
            )
            .values("sample__organization_id", "sample__month")
            .annotate(n=Count("pk"))
        )
        for r in rows:
            checks[r["sample__organization_id"]][r["sample__month"].month] = r["n"]
        reports: dict[int, set[int]] = defaultdict(set)
        for org_id, start in SupervisionReport.objects.filter(
            organization__path__startswith=self.root.path, period_start__year=self.year
        ).values_list("organization_id", "period_start"):
            reports[org_id].add(start.month)
        return checks, reports

    @cached_property
    def _subtree_ids(self) -> dict[str, list[int]]:
        """Path -> ids of the organizations of its subtree (itself included), built once in
        O(organizations × depth) so that per-organization lookups stay linear in the tree."""
        step = Organization.steplen
        result: dict[str, list[int]] = defaultdict(list)
        for o in self.organizations:
            for end in range(step, len(o.path) + 1, step):
                result[o.path[:end]].append(o.pk)
        return result

    @cached_property
    def _members_by_org(self) -> dict[int, list[MemberInfo]]:
        result: dict[int, list[MemberInfo]] = defaultdict(list)
        for m in self.members.values():
            result[m.organization_id].append(m)
        return result

    def branch_count(self, org: Organization) -> int:
        return sum(
            1
            for pk in self._subtree_ids.get(org.path, ())
            if self.org_by_id[pk].type == OrgType.BRANCH
        )

    def members_on_roll(self, org: Organization) -> int:
        """The one member count of an organization: members on a roll of its subtree at the
        end of the period assessed (today in the current year). A member who moved to
        another branch counts there, in the branch's own summary and in its superior's
        roll-up alike."""
        return sum(1 for m in self.members_of(org) if m.enrolled_at_end)

    def members_of(self, org: Organization) -> list[MemberInfo]:
        by_org = self._members_by_org
        return [m for pk in self._subtree_ids.get(org.path, ()) for m in by_org.get(pk, ())]

    def is_group(self, org: Organization) -> bool:
        return org.type == OrgType.GROUP
