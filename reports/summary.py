"""The data of the annual summary (JL-R1 / ZY-R1: 上一年度学习情况总结和本年度学习计划) and of a
member's 学习档案, as plain dataclasses that the HTML preview, the PDF and the workbook share.

`build_summary` runs a constant number of queries whatever the size of the subtree: one
`assess()` (its metrics are set-wise) plus a few aggregate queries; every per-branch and
per-member figure is then grouped in Python. Nothing here knows about HTML, PDF or Excel.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.engine import (
    NOT_MET,
    Assessment,
    Context,
    MemberResult,
    OrgResult,
    Verdict,
    assess,
    session_participation,
    training_totals,
)
from assessments.models import ExamScore
from assessments.selectors import ExamResult, enrolment_in_year, exam_results
from attendance.models import (
    ATTENDED,
    AttendanceEntry,
    FieldResearch,
    LeaveRequest,
    LeaveStatus,
    Publication,
    RecordStatus,
    SelfStudy,
    SessionType,
    StudyNote,
    StudySession,
    Talk,
    TrainingRecord,
)
from attendance.selectors import member_entries
from branches.models import TOP_TYPES, Member, Organization, OrgType
from studyplans.models import AnnualPlan, PlanStatus, PlanTheme

from .models import SummaryText

# Verdicts on sending this very summary (JL-R1, ZY-R1) are left out of it: the document
# cannot report its own delivery, and its bytes must not change once it has been sent
# (versions are told apart by their SHA-256).
SELF_REFERENCING_KINDS = frozenset({"summary_sent"})
# Superiors get a roll-up of their branches instead of a member table.
ROLLUP_TYPES = frozenset({*TOP_TYPES, OrgType.GENERAL_BRANCH})
SESSION_TYPE_ORDER = [t.value for t in SessionType]


def percent(value: float | None) -> str:
    """A rate as the verdict pages print it (two decimals), or a dash when there is none."""
    return "—" if value is None else f"{value:.2%}"


# Organization summary


@dataclass
class TypeMonthRow:
    type: str
    by_month: list[int]  # 12 counts, January first
    total: int
    counts_as_study: bool


@dataclass
class SessionLine:
    date: dt.date
    organizer: str
    type: str
    topic: str
    hours: Decimal
    expected: int
    attended: int
    excused: int
    absent: int
    rate: float | None
    counts_as_study: bool

    @property
    def rate_label(self) -> str:
        return percent(self.rate)


@dataclass
class MemberLine:
    member_no: str
    name: str
    organization: str
    # The 党小组 (or other unit below the summary's organization), named relative to it.
    unit: str
    expected: int
    attended: int
    unexcused_absences: int
    excused: int
    makeups: int
    self_study_hours: Decimal
    training_hours: Decimal
    notes: int
    note_words: int
    exam_average: float | None
    excellent_eligible: bool | None  # None: 无法评定 (RULES.md 2a)
    # Rule ids that block 优秀 or 先进党员, and every rule not met (for the workbook).
    blocking: list[str]
    not_met: list[str]

    @property
    def exam_average_label(self) -> str:
        return "—" if self.exam_average is None else f"{self.exam_average:.1f}"


@dataclass
class BranchLine:
    code: str
    name: str
    parent: str
    members: int
    study_sessions: int
    avg_participation: float | None
    five_good: bool
    advanced_eligible: bool
    not_met: list[str]
    not_excellent: int

    @property
    def avg_participation_label(self) -> str:
        return percent(self.avg_participation)


@dataclass
class BranchTotals:
    branches: int
    members: int
    study_sessions: int
    # Mean of the branches' averages (the branches without sessions left out).
    avg_participation: float | None
    five_good: int
    advanced_eligible: int
    not_excellent: int

    @property
    def avg_participation_label(self) -> str:
        return percent(self.avg_participation)


@dataclass
class ExamLine:
    date: dt.date
    title: str
    organizer: str
    takers: int
    average: float | None

    @property
    def average_label(self) -> str:
        return "—" if self.average is None else f"{self.average:.1f}"


@dataclass
class PlanSummary:
    year: int
    status: str
    filed_at: dt.datetime | None
    themes: list[tuple[str, str]]  # (month or quarter label, theme)
    sessions: list[tuple[int, str, str, Decimal]]  # (month, type, topic, hours)
    books: list[tuple[str, str]]  # (title, author)
    readings: list[str]
    free_text: str


@dataclass
class SummaryData:
    organization: Organization
    year: int
    rollup: bool
    profile: str
    profile_version: int
    # The organization's own results (RULES.md: the branch's own study sessions).
    study_sessions: int
    # Members on the roll at the end of the period (Metrics.members_on_roll): the same
    # figure as the superior's roll-up; `members` lists everyone on a roll in the year.
    member_count: int
    avg_participation: float | None
    five_good: bool
    advanced_eligible: bool
    verdicts: list[Verdict]
    # Sessions of the whole subtree by type and month.
    type_month: list[TypeMonthRow]
    month_totals: list[int]
    sessions_total: int
    hours_total: Decimal
    # Sessions organized by the organization itself and its 党小组s (the document's list).
    sessions: list[SessionLine]
    # Every session of the subtree (the workbook's 活动 sheet).
    all_sessions: list[SessionLine]
    members: list[MemberLine]
    leave_counts: list[tuple[str, int]]
    leave_total: int
    makeups_total: int
    exams: list[ExamLine]
    text: str
    text_missing: bool
    text_updated_at: dt.datetime | None
    plan_year: int
    plan: PlanSummary | None
    plan_status: str | None  # the status of an unfiled plan, None when there is none
    branches: list[BranchLine] = field(default_factory=list)
    branch_totals: BranchTotals | None = None
    # Sessions of the subtree whose day has come but whose roll was never saved (RULES.md
    # 2a): counted nowhere above, listed for the secretary. (date, organizer, type, code).
    unrecorded: list[tuple[dt.date, str, str, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return _("%(year)s 年度学习情况总结") % {"year": self.year}

    @property
    def avg_participation_label(self) -> str:
        return percent(self.avg_participation)

    @property
    def leave_detail(self) -> str:
        return "，".join(f"{status} {n}" for status, n in self.leave_counts if n)

    @property
    def members_not_excellent(self) -> list[MemberLine]:
        return [m for m in self.members if m.excellent_eligible is False]

    @property
    def verdicts_not_met(self) -> int:
        return sum(1 for v in self.verdicts if v.outcome == NOT_MET)


def _type_month(sessions, study_types: frozenset[str]) -> tuple[list[TypeMonthRow], list[int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    for s in sessions:
        counts[s.type][s.date.month - 1] += 1
    types = sorted(
        counts, key=lambda t: SESSION_TYPE_ORDER.index(t) if t in SESSION_TYPE_ORDER else 99
    )
    rows = [TypeMonthRow(t, counts[t], sum(counts[t]), t in study_types) for t in types]
    totals = [sum(r.by_month[i] for r in rows) for i in range(12)]
    return rows, totals


def _branch_of(path: str, branch_paths: dict[str, Organization]) -> Organization | None:
    """The 党支部 whose subtree holds `path` (walking the materialized path's prefixes)."""
    step = Organization.steplen
    for end in range(step, len(path) + 1, step):
        branch = branch_paths.get(path[:end])
        if branch is not None:
            return branch
    return None


def _member_lines(assessment: Assessment, makeups: dict[int, int]) -> list[MemberLine]:
    m = assessment.metrics
    root = assessment.root
    ctx = Context(m, {})
    lines = []
    for r in assessment.members:
        info = r.member
        notes = m.notes.get(info.id, [])
        scores = [float(s) for _, s in m.exam_scores.get(info.id, [])]
        hours, _days, _n = training_totals(info, ctx)
        blocking = sorted(
            {v.rule_id for v in r.blocked("blocks_excellent") + r.blocked("blocks_advanced_member")}
        )
        lines.append(
            MemberLine(
                member_no=info.member_no,
                name=info.name,
                organization=r.organization.name,
                unit=""
                if r.organization.pk == root.pk
                else r.organization.name.removeprefix(root.name) or r.organization.name,
                expected=r.attendance.get("expected", 0),
                attended=r.attendance.get("attended", 0),
                unexcused_absences=r.unexcused_absences,
                excused=r.attendance.get("excused", 0),
                makeups=makeups.get(info.id, 0),
                self_study_hours=m.self_study_hours.get(info.id, Decimal(0)),
                training_hours=hours,
                notes=len(notes),
                note_words=sum(w for _, _, w in notes),
                exam_average=sum(scores) / len(scores) if scores else None,
                excellent_eligible=r.excellent_eligible,
                blocking=blocking,
                not_met=[v.rule_id for v in r.verdicts if v.outcome == NOT_MET],
            )
        )
    return lines


def _branch_lines(
    assessment: Assessment, members: list[MemberResult]
) -> tuple[list[BranchLine], BranchTotals]:
    m = assessment.metrics
    by_path = {o.path: o for o in m.organizations}
    branch_results: list[OrgResult] = [
        r for r in assessment.organizations if r.organization.type == OrgType.BRANCH
    ]
    branch_paths = {r.organization.path: r.organization for r in branch_results}
    member_count: Counter[int] = Counter()
    not_excellent: Counter[int] = Counter()
    for r in members:
        branch = _branch_of(r.organization.path, branch_paths)
        if branch is not None:
            member_count[branch.pk] += r.member.enrolled_at_end
            not_excellent[branch.pk] += r.excellent_eligible is False
    lines = []
    for r in branch_results:
        org = r.organization
        parent = by_path.get(org.path[: -Organization.steplen])
        lines.append(
            BranchLine(
                code=org.code,
                name=org.name,
                # The root is the document's subject: name only the levels in between.
                parent=parent.name if parent is not None and parent.pk != m.root.pk else "",
                members=member_count[org.pk],
                study_sessions=r.study_sessions,
                avg_participation=r.avg_participation,
                five_good=r.five_good,
                advanced_eligible=r.advanced_eligible,
                not_met=[v.rule_id for v in r.verdicts if v.outcome == NOT_MET],
                not_excellent=not_excellent[org.pk],
            )
        )
    rates = [b.avg_participation for b in lines if b.avg_participation is not None]
    totals = BranchTotals(
        branches=len(lines),
        members=sum(b.members for b in lines),
        study_sessions=sum(b.study_sessions for b in lines),
        avg_participation=sum(rates) / len(rates) if rates else None,
        five_good=sum(b.five_good for b in lines),
        advanced_eligible=sum(b.advanced_eligible for b in lines),
        not_excellent=sum(b.not_excellent for b in lines),
    )
    return lines, totals


def _plan(organization: Organization, year: int) -> tuple[PlanSummary | None, str | None]:
    plan = (
        AnnualPlan.objects.filter(organization=organization, year=year)
        .prefetch_related(
            Prefetch("themes", queryset=PlanTheme.objects.order_by("quarter", "month", "pk")),
            "planned_sessions",
            "books",
        )
        .first()
    )
    if plan is None:
        return None, None
    if plan.status != PlanStatus.FILED:
        return None, plan.status
    themes = []
    for t in plan.themes.all():
        label = _("第%(q)s季度") % {"q": t.quarter} if t.quarter else _("%(m)s月") % {"m": t.month}
        themes.append((label, t.theme))
    return (
        PlanSummary(
            year=year,
            status=plan.status,
            filed_at=plan.filed_at,
            themes=themes,
            sessions=[(s.month, s.type, s.topic, s.hours) for s in plan.planned_sessions.all()],
            books=[(b.title, b.author) for b in plan.books.all()],
            readings=[line.strip() for line in plan.required_readings.splitlines() if line.strip()],
            free_text=plan.free_text,
        ),
        plan.status,
    )


# The filed plan of an organization for a year (the draft reads this year's reading list).
filed_plan = _plan


def build_summary(
    *, organization: Organization, year: int, today: dt.date | None = None
) -> SummaryData:
    """The annual summary of `organization` for `year`, with next year's filed plan."""
    assessment = assess(root=organization, year=year, today=today)
    m = assessment.metrics
    own = assessment.org(organization.code)
    assert own is not None  # the root is always assessed
    profile = assessment.profiles.get(own.profile)
    options = profile.options if profile is not None else {}
    left_out = {
        r.rule_id
        for r in (profile.rules.all() if profile else [])
        if r.kind in SELF_REFERENCING_KINDS
    }
    study_types = frozenset(options.get("study_types") or [])
    rollup = organization.type in ROLLUP_TYPES

    # Sessions: the whole subtree by type and month and in the workbook; on paper, those of
    # the organization itself and its 党小组s (a roll-up has its branch table instead).
    type_month, month_totals = _type_month(m.sessions, study_types)
    listed_ids = {organization.pk} | {
        o.pk for o in m.children.get(organization.pk, []) if o.type == OrgType.GROUP
    }
    topics = dict(
        StudySession.objects.filter(
            m.held(),
            organization__path__startswith=organization.path,
            date__range=(m.first_day, m.last_day),
        ).values_list("pk", "topic")
    )

    def org_options(org_id: int) -> dict:
        # A child may follow another profile than the root (RULES.md: profiles per subtree).
        found = assessment.profiles.get(m.profile_names.get(org_id, own.profile)) or profile
        return found.options if found is not None else {}

    all_sessions = []
    for s in m.sessions:
        s_options = org_options(s.organization_id)
        all_sessions.append(
            SessionLine(
                date=s.date,
                organizer=m.org_by_id[s.organization_id].name,
                type=s.type,
                topic=topics.get(s.id, ""),
                hours=s.hours,
                expected=s.expected,
                attended=s.attended,
                excused=s.excused,
                absent=s.expected - s.attended - s.excused,
                rate=session_participation(s, s_options),
                counts_as_study=s.type in (s_options.get("study_types") or []),
            )
        )
    sessions = [
        line
        for line, s in zip(all_sessions, m.sessions, strict=True)
        if s.organization_id in listed_ids
    ]

    member_ids = list(m.members)
    first, last = m.first_day, m.last_day
    # Aggregates over the members of the subtree: one query each.
    makeups = dict(
        AttendanceEntry.objects.filter(
            member_id__in=member_ids, session__date__range=(first, last), makeup__isnull=False
        )
        .values("member_id")
        .annotate(n=Count("pk"))
        .values_list("member_id", "n")
    )
    leave = dict(
        LeaveRequest.objects.filter(member_id__in=member_ids, session__date__range=(first, last))
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    exams = [
        ExamLine(
            date=row["exam__date"],
            title=row["exam__title"],
            organizer=row["exam__organization__name"],
            takers=row["n"],
            average=float(row["avg"]) if row["avg"] is not None else None,
        )
        for row in ExamScore.objects.filter(member_id__in=member_ids, exam__date__year=year)
        .values("exam_id", "exam__date", "exam__title", "exam__organization__name")
        .annotate(n=Count("pk"), avg=Avg("score"))
        .order_by("exam__date", "exam_id")
    ]
    text = SummaryText.objects.filter(organization=organization, year=year).first()
    plan, plan_status = _plan(organization, year + 1)

    data = SummaryData(
        organization=organization,
        year=year,
        rollup=rollup,
        profile=own.profile,
        profile_version=own.profile_version,
        study_sessions=own.study_sessions,
        member_count=m.members_on_roll(organization),
        avg_participation=own.avg_participation,
        five_good=own.five_good,
        advanced_eligible=own.advanced_eligible,
        verdicts=[v for v in own.verdicts if v.rule_id not in left_out],
        type_month=type_month,
        month_totals=month_totals,
        sessions_total=len(m.sessions),
        hours_total=sum((s.hours for s in m.sessions), Decimal(0)),
        sessions=sessions,
        all_sessions=all_sessions,
        members=_member_lines(assessment, makeups),
        leave_counts=[(s.value, leave.get(s.value, 0)) for s in LeaveStatus],
        leave_total=sum(leave.values()),
        makeups_total=sum(makeups.values()),
        exams=exams,
        text=text.text if text is not None else "",
        text_missing=text is None or not text.text.strip(),
        text_updated_at=text.updated_at if text is not None else None,
        plan_year=year + 1,
        plan=plan,
        plan_status=plan_status,
    )
    data.unrecorded = [
        (day, m.org_by_id[org_id].name, type_, code)
        for _pk, code, org_id, type_, day in m.unrecorded
    ]
    if rollup:
        data.branches, data.branch_totals = _branch_lines(assessment, assessment.members)
    return data


# A member's 学习档案


@dataclass
class ArchiveEntry:
    date: dt.date
    organizer: str
    type: str
    topic: str
    hours: Decimal
    status: str
    makeup_date: dt.date | None
    makeup_note: str
    # Whether the member's profile counts the type as study (支委会 does not by default).
    counts_as_study: bool = True


@dataclass
class MemberArchive:
    member: Member
    year: int
    organization: Organization | None
    generated_on: dt.date
    result: MemberResult | None
    entries: list[ArchiveEntry]
    status_counts: dict[str, int]
    attended_hours: Decimal
    self_study_total: Decimal
    self_study_by_month: list[Decimal]
    self_study_entries: int
    training_session_hours: Decimal
    training_record_hours: Decimal  # confirmed records only, as the rules count them
    trainings: list[TrainingRecord]
    notes: list[StudyNote]
    talks: list[Talk]
    publications: list[Publication]
    research: list[FieldResearch]
    leave_requests: list[LeaveRequest]
    exams: list[ExamResult]
    # expected / attended / excused / absent on held study sessions, as the verdicts count
    # them (assessments.metrics.entry_counts with the member's profile).
    study_counts: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return _("%(year)s 年度学习档案") % {"year": self.year}

    @property
    def expected(self) -> int:
        return self.study_counts.get("expected", 0)

    @property
    def attended(self) -> int:
        return self.study_counts.get("attended", 0)

    @property
    def unexcused_absences(self) -> int:
        return self.study_counts.get("absent", 0)

    @property
    def excused(self) -> int:
        return self.study_counts.get("excused", 0)

    @property
    def makeups(self) -> int:
        return sum(1 for e in self.entries if e.makeup_date is not None)

    @property
    def training_hours(self) -> Decimal:
        return self.training_session_hours + self.training_record_hours

    @property
    def note_words(self) -> int:
        return sum(n.word_count for n in self.notes)


def build_member_archive(
    *, member: Member, year: int, today: dt.date | None = None
) -> MemberArchive:
    """Everything of LC-A1's 学习档案 for one member and one year, with the member's verdicts."""
    enrolment = enrolment_in_year(member=member, year=year)
    result = None
    study_types: frozenset[str] = frozenset()
    if enrolment is not None:
        # The verdicts as the member's own verdict page computes them (enrolment's subtree).
        assessment = assess(root=enrolment.organization, year=year, today=today)
        result = assessment.member(member.member_no)
        if result is not None:
            profile = assessment.profiles.get(result.profile)
            study_types = frozenset((profile.options if profile else {}).get("study_types") or [])
    entries = []
    for e in member_entries(member=member, year=year, today=today):
        # The reverse one-to-one raises (an AttributeError) when there is no 补课.
        makeup = getattr(e, "makeup", None)
        entries.append(
            ArchiveEntry(
                date=e.session.date,
                organizer=e.session.organization.name,
                type=e.session.type,
                topic=e.session.topic,
                hours=e.session.hours,
                status=e.status,
                makeup_date=makeup.date if makeup is not None else None,
                makeup_note=makeup.note if makeup is not None else "",
                counts_as_study=e.session.type in study_types,
            )
        )
    counts = Counter(e.status for e in entries)
    by_month = [Decimal(0)] * 12
    study = list(
        SelfStudy.objects.filter(member=member, date__year=year).values_list("date", "hours")
    )
    for day, hours in study:
        by_month[day.month - 1] += hours
    trainings = list(
        TrainingRecord.objects.filter(member=member, start_date__year=year).order_by("start_date")
    )
    return MemberArchive(
        member=member,
        year=year,
        organization=enrolment.organization if enrolment is not None else None,
        generated_on=today or timezone.localdate(),
        result=result,
        entries=entries,
        status_counts=dict(counts),
        attended_hours=sum((e.hours for e in entries if e.status in ATTENDED), Decimal(0)),
        self_study_total=sum(by_month, Decimal(0)),
        self_study_by_month=by_month,
        self_study_entries=len(study),
        training_session_hours=sum(
            (e.hours for e in entries if e.type == SessionType.TRAINING and e.status in ATTENDED),
            Decimal(0),
        ),
        training_record_hours=sum(
            (t.hours for t in trainings if t.status == RecordStatus.CONFIRMED), Decimal(0)
        ),
        trainings=trainings,
        notes=list(
            StudyNote.objects.filter(member=member, submitted_at__year=year).order_by(
                "submitted_at"
            )
        ),
        talks=list(Talk.objects.filter(member=member, date__year=year).order_by("date")),
        publications=list(
            Publication.objects.filter(member=member, published_on__year=year).order_by(
                "published_on"
            )
        ),
        research=list(
            FieldResearch.objects.filter(member=member, start_date__year=year).order_by(
                "start_date"
            )
        ),
        leave_requests=list(
            LeaveRequest.objects.filter(member=member, session__date__year=year)
            .select_related("session")
            .order_by("session__date")
        ),
        exams=exam_results(member=member, year=year),
        study_counts=dict(result.attendance) if result is not None else {},
    )
