"""Demo sessions, attendance and members' own study for seed_demo, written in bulk so it scales.

branches.demo.seed_demo builds the tree and the members, then calls `generate(result, rng)`.
Everything here is computed in memory from the membership, role and exemption rows loaded
once (a handful of queries whatever the number of branches): the frozen lists follow
RULES.md section 2 exactly as attendance.selectors.expected_attendees does, without its
three queries per session. The big tables go through COPY on PostgreSQL and bulk_create
elsewhere (SQLite for `make run`). No simple-history rows are written for demo data.

The demo is meant to partly meet and partly miss the default profile (RULES.md section 5):
most branches hold 12-20 study sessions a year, some fewer than 12 and a few 12-14; most
keep the monthly/quarterly cadence, some skip months; a few branches average below 80%
participation; a handful of habitual absentees reach 4 and 5+ unexcused absences.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from branches import demo as branches_demo
from branches.demo import DemoResult
from branches.models import (
    COMMITTEE_KINDS,
    CadreLevel,
    Exemption,
    Member,
    Membership,
    Organization,
    OrgType,
    Role,
    RoleKind,
)

from . import text
from .models import (
    AttendanceEntry,
    AttendanceStatus,
    EntrySource,
    ExemptAttendee,
    LeaveRequest,
    LeaveStatus,
    MakeUp,
    NoteKind,
    NoteStatus,
    RecordStatus,
    SelfStudy,
    SessionType,
    StudyNote,
    StudySession,
    TrainingRecord,
)
from .services import note_submit

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------

STUDY_TOPICS = [
    "深入学习贯彻党的二十大精神",
    "学习贯彻党的二十届三中全会精神",
    "习近平新时代中国特色社会主义思想专题学习",
    "学习《习近平谈治国理政》第四卷",
    "学习《中国共产党章程》总纲",
    "新修订《中国共产党纪律处分条例》逐条解读",
    "学习《中国共产党支部工作条例（试行）》",
    "学习《中国共产党党员教育管理工作条例》",
    "学习《中国共产党廉洁自律准则》",
    "学习《中国共产党问责条例》",
    "学习《关于推进学习型党组织建设的意见》",
    "推进学习型党组织建设的实践与思考",
    "建设学习型、服务型、创新型机关",
    "党史学习教育：百年党史中的初心使命",
    "弘扬伟大建党精神",
    "深刻领悟“两个确立”，坚决做到“两个维护”",
    "中央八项规定精神及其实施细则",
    "新时代党的组织路线",
    "加强作风建设，密切联系群众",
    "全面从严治党与廉政风险防控",
    "意识形态工作责任制学习",
    "学习宪法，增强法治观念",
    "践行社会主义核心价值观",
    "党员先锋模范作用的发挥",
    "学习习近平总书记关于调查研究的重要论述",
    "以高质量党建引领住房城乡建设事业高质量发展",
    "推进城市更新行动的学习研讨",
    "保障性住房建设中的为民服务",
    "安全生产与工程质量监管中的担当作为",
    "发展新质生产力的理论学习",
    "读书分享：《之江新语》",
    "学习《习近平关于城市工作论述摘编》",
]
COMMITTEE_TOPICS = [
    "研究部署本月党建工作",
    "研究支部年度学习计划",
    "讨论发展党员和预备党员转正事宜",
    "检查“三会一课”落实情况",
    "研究民主评议党员工作安排",
    "研究主题党日活动方案",
    "听取党小组工作汇报",
    "研究党费收缴与使用情况",
]
MEETING_TOPICS = [
    "传达上级会议精神，通报支部季度工作",
    "支部季度工作总结与学习交流",
    "讨论接收预备党员",
    "审议支部年度学习计划",
    "民主评议党员工作动员",
    "学习传达机关党委工作要点",
]
THEME_DAY_TOPICS = [
    "主题党日：重温入党誓词",
    "主题党日：参观红色教育基地",
    "主题党日：志愿服务进社区",
    "主题党日：观看警示教育片",
    "主题党日：学党章、守党规",
    "主题党日：走访结对共建单位",
]
TRAINING_TOPICS = [
    "党员教育培训：党务工作实务",
    "党员教育培训：党的纪律与规矩",
    "党员教育培训：网络意识形态安全",
]
READING_TOPICS = [
    "读书会：《习近平的七年知青岁月》",
    "读书会：《之江新语》",
    "读书会：《中国共产党简史》",
    "读书会：《红星照耀中国》",
]
EXPERTS = [
    "省委党校 林教授",
    "省社会科学院 陈研究员",
    "福建师范大学马克思主义学院 黄教授",
    "厦门大学公共事务学院 郑教授",
    "省纪委监委 宣讲员",
    "省委讲师团 刘老师",
    "福州大学 吴教授",
    "厅机关党委 副书记",
]
LOCATIONS = [
    "机关三楼党员活动室",
    "机关五楼会议室",
    "二楼小会议室",
    "厅多功能厅",
    "线上（视频会议）",
]
# A committee or a group meets in a small room, not in the hall.
SMALL_ROOMS = {
    SessionType.COMMITTEE_MEETING: ["支部书记办公室", "二楼小会议室"],
    SessionType.GROUP_MEETING: ["处室会议室", "机关三楼党员活动室", "线上（视频会议）"],
}
LEAVE_REASONS = [
    "出差",
    "外出参加专项督查",
    "病假",
    "参加上级培训",
    "家中有事",
    "下基层调研",
    "值班",
    "陪同检查组检查",
]
MATERIALS = [
    "《习近平谈治国理政》第四卷",
    "《中国共产党章程》",
    "《中国共产党纪律处分条例》",
    "“学习强国”专题学习",
    "《关于推进学习型党组织建设的意见》",
    "《中国共产党简史》",
    "《之江新语》",
    "党的二十届三中全会《决定》",
    "《习近平关于城市工作论述摘编》",
    "《中国共产党支部工作条例（试行）》",
    "人民日报评论员文章",
    "住房城乡建设业务知识",
]
TRAINING_COURSES = [
    ("中国干部网络学院专题网络培训", "中国干部网络学院"),
    ("厅机关党员教育培训班", "厅机关党委"),
    ("全省住建系统业务能力提升班", "省住房和城乡建设厅"),
    ("党务干部培训班", "省直机关工委"),
    ("“学习强国”专题课程", "厅机关党委"),
]
DIVISION_COURSE = ("处级干部进修班", "省委党校")
NOTE_SENTENCES = [
    "通过这次学习，我对学习型党组织建设的重要意义有了更深刻的认识。",
    "学习不是一阵子的事，而是一辈子的事，必须把学习作为一种精神追求。",
    "作为一名机关党员，要把理论学习同本职工作紧密结合起来。",
    "要坚持学以致用、用以促学，把学习成果转化为推动工作的实际成效。",
    "对照党章党规，我在理论学习的系统性上还有差距，今后要制定个人学习计划。",
    "住房城乡建设工作关系群众切身利益，必须始终坚持以人民为中心的发展思想。",
    "要坚持每周自学不少于三小时，认真做好学习笔记。",
    "在工程质量安全监管中，要敢于担当、善于作为，守住安全底线。",
    "党支部要把“三会一课”落到实处，做到学习有计划、有记录、有检查。",
    "我将以这次学习为契机，进一步增强“四个意识”、坚定“四个自信”。",
    "学习中我重点研读了有关章节，并结合处室工作写下了自己的体会。",
    "要发扬理论联系实际的马克思主义学风，防止学用脱节。",
    "廉洁自律是党员干部的基本要求，要时刻绷紧纪律这根弦。",
    "调查研究是谋事之基、成事之道，要多到基层一线听取意见。",
    "支部组织的集中学习形式多样，讨论充分，收获很大。",
    "今后我将把学习体会落实到为群众办实事的具体行动中。",
    "要把学习型党组织建设同创建服务型、创新型机关结合起来。",
    "我认真学习了推荐书目，写下读书笔记约两千字。",
]

# Session times by type: (start, end); the 学时 is the length, 1-3 hours.
_T = dt.time
TIMES: dict[str, list[tuple[dt.time, dt.time]]] = {
    SessionType.COMMITTEE_MEETING: [
        (_T(8, 30), _T(9, 30)),
        (_T(12, 30), _T(13, 30)),
        (_T(16, 30), _T(17, 30)),
    ],
    SessionType.MEMBERS_MEETING: [
        (_T(14, 30), _T(16, 30)),
        (_T(15, 0), _T(17, 0)),
        (_T(9, 0), _T(10, 30)),
    ],
    SessionType.PARTY_LECTURE: [
        (_T(14, 30), _T(16, 30)),
        (_T(9, 0), _T(11, 0)),
        (_T(15, 0), _T(17, 30)),
    ],
    SessionType.GROUP_MEETING: [
        (_T(16, 0), _T(17, 0)),
        (_T(12, 30), _T(13, 30)),
        (_T(19, 0), _T(20, 30)),
    ],
    SessionType.COLLECTIVE_STUDY: [
        (_T(14, 30), _T(16, 30)),
        (_T(19, 0), _T(21, 0)),
        (_T(9, 0), _T(11, 0)),
        (_T(15, 0), _T(16, 30)),
    ],
    SessionType.THEME_DAY: [
        (_T(8, 30), _T(11, 30)),
        (_T(14, 0), _T(17, 0)),
        (_T(14, 30), _T(16, 30)),
    ],
    SessionType.SPECIAL_LECTURE: [
        (_T(9, 0), _T(11, 30)),
        (_T(14, 30), _T(17, 0)),
        (_T(14, 30), _T(17, 30)),
    ],
    SessionType.TRAINING: [(_T(9, 0), _T(12, 0)), (_T(14, 0), _T(17, 0))],
    SessionType.LIFE_MEETING: [(_T(14, 30), _T(17, 30)), (_T(9, 0), _T(12, 0))],
    SessionType.READING_CLUB: [(_T(19, 0), _T(21, 0)), (_T(15, 0), _T(17, 0))],
}
# The branch's own study sessions beyond its 党员大会 and 党课, with their weights.
OTHER_STUDY = [
    (SessionType.COLLECTIVE_STUDY, 50),
    (SessionType.THEME_DAY, 25),
    (SessionType.SPECIAL_LECTURE, 12),
    (SessionType.TRAINING, 7),
    (SessionType.READING_CLUB, 6),
]
STUDY_TYPES = frozenset(SessionType.values) - {SessionType.COMMITTEE_MEETING.value}

PRESENT, LATE, EXCUSED, ABSENT = 0, 1, 2, 3
STATUS_VALUES = (
    AttendanceStatus.PRESENT.value,
    AttendanceStatus.LATE.value,
    AttendanceStatus.EXCUSED.value,
    AttendanceStatus.ABSENT.value,
)
EARLIEST, LATEST = dt.date.min, dt.date.max
# Days off on which no branch meets (the movable Spring Festival is left out on purpose).
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5)} | {(10, d) for d in range(1, 9)}
BATCH = 5000
NOTE_AUTHORS = 16

# ---------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------


def register() -> None:
    """Add the attendance extension to branches.demo.EXTENSIONS (once, whatever calls it)."""
    if generate not in branches_demo.EXTENSIONS:
        branches_demo.EXTENSIONS.append(generate)


# ---------------------------------------------------------------------------------------
# What is loaded once
# ---------------------------------------------------------------------------------------

# A membership row as the rolls need it: (member_id, organization_id, start, end), half-open.
Span = tuple[int, int, dt.date, dt.date]


@dataclass
class _Tree:
    path_of: dict[int, str]
    code_of: dict[int, str]
    type_of: dict[int, str]
    member_no: dict[int, str]
    name_of: dict[int, str]
    user_of: dict[int, int | None]
    cadre_of: dict[int, str]
    # Spans of the organization's whole subtree, ordered like expected_attendees (path, member_no).
    subtree: dict[int, list[Span]]
    # Every span of a member, wherever the organization is (a 支委会 looks up any roll).
    spans_of: dict[int, list[Span]]
    # Committee roles per organization: (member_id, start, end).
    committee: dict[int, list[tuple[int, dt.date, dt.date]]]
    # Role holders by (organization, kind), for speakers.
    holder: dict[tuple[int, str], int]
    # Exemption periods per member, ordered as expected_attendees reads them: (start, end, kind).
    exempt_of: dict[int, list[tuple[dt.date, dt.date, str]]]
    groups_of: dict[int, list[int]]
    general_of: dict[int, int | None]


def _load(result: DemoResult) -> _Tree:
    """Five queries, whatever the size of the tree."""
    root_path = result.root.path
    orgs = list(
        Organization.objects.filter(path__startswith=root_path).values_list(
            "id", "path", "code", "type"
        )
    )
    path_of = {o[0]: o[1] for o in orgs}
    code_of = {o[0]: o[2] for o in orgs}
    type_of = {o[0]: o[3] for o in orgs}
    id_of_path = {o[1]: o[0] for o in orgs}

    on_roll = Membership.objects.filter(organization__path__startswith=root_path).values(
        "member_id"
    )
    on_committee = Role.objects.filter(organization__path__startswith=root_path).values("member_id")
    people = Q(member_id__in=on_roll) | Q(member_id__in=on_committee)
    members = list(
        Member.objects.filter(Q(pk__in=on_roll) | Q(pk__in=on_committee)).values_list(
            "id", "member_no", "name", "user_id", "cadre_level"
        )
    )
    member_no = {m[0]: m[1] for m in members}
    spans: list[Span] = [
        (m, o, s or EARLIEST, e or LATEST)
        for m, o, s, e in Membership.objects.filter(people).values_list(
            "member_id", "organization_id", "start", "end"
        )
    ]
    roles = list(
        Role.objects.filter(organization__path__startswith=root_path)
        .order_by("organization_id", "kind", "id")
        .values_list("organization_id", "member_id", "kind", "start", "end")
    )
    exemptions = list(
        Exemption.objects.filter(people)
        .order_by("member_id", "start", "id")
        .values_list("member_id", "start", "end", "kind")
    )

    step = Organization.steplen
    spans.sort(key=lambda s: (path_of.get(s[1], "~"), member_no.get(s[0], "")))
    subtree: dict[int, list[Span]] = {}
    spans_of: dict[int, list[Span]] = {}
    for span in spans:
        spans_of.setdefault(span[0], []).append(span)
        path = path_of.get(span[1])
        if path is None:
            continue
        for end in range(step, len(path) + 1, step):
            ancestor = id_of_path.get(path[:end])
            if ancestor is not None:
                subtree.setdefault(ancestor, []).append(span)
    committee: dict[int, list[tuple[int, dt.date, dt.date]]] = {}
    holder: dict[tuple[int, str], int] = {}
    for org_id, member_id, kind, start, end in roles:
        if kind in COMMITTEE_KINDS:
            committee.setdefault(org_id, []).append((member_id, start or EARLIEST, end or LATEST))
        holder.setdefault((org_id, kind), member_id)
    exempt_of: dict[int, list[tuple[dt.date, dt.date, str]]] = {}
    for member_id, start, end, kind in exemptions:
        exempt_of.setdefault(member_id, []).append((start or EARLIEST, end or LATEST, kind))
    groups_of: dict[int, list[int]] = {}
    general_of: dict[int, int | None] = {}
    for org_id, path, _code, org_type in sorted(orgs, key=lambda o: o[1]):
        parent = id_of_path.get(path[:-step])
        if org_type == OrgType.GROUP and parent is not None:
            groups_of.setdefault(parent, []).append(org_id)
        if org_type == OrgType.BRANCH:
            general_of[org_id] = (
                parent if parent is not None and type_of[parent] == OrgType.GENERAL_BRANCH else None
            )
    return _Tree(
        path_of=path_of,
        code_of=code_of,
        type_of=type_of,
        member_no=member_no,
        name_of={m[0]: m[2] for m in members},
        user_of={m[0]: m[3] for m in members},
        cadre_of={m[0]: m[4] for m in members},
        subtree=subtree,
        spans_of=spans_of,
        committee=committee,
        holder=holder,
        exempt_of=exempt_of,
        groups_of=groups_of,
        general_of=general_of,
    )


def _expected(
    tree: _Tree, org_id: int, session_type: str, day: dt.date
) -> tuple[list[tuple[int, int]], list[tuple[int, str]]]:
    """expected_attendees in memory: ([(member, enrolment org or 0)], [(member, exemption kind)]).

    Same definition (RULES.md section 2): a 支委会 expects the organization's committee,
    wherever its members are enrolled; every other type the roll of the whole subtree on
    the day; members exempt on the day are listed apart.
    """
    if session_type == SessionType.COMMITTEE_MEETING:
        ids: list[int] = []
        for member_id, start, end in tree.committee.get(org_id, ()):
            if start <= day < end and member_id not in ids:
                ids.append(member_id)
        rows: list[tuple[int, int]] = []
        for member_id in ids:
            enrolled = [o for _m, o, s, e in tree.spans_of.get(member_id, ()) if s <= day < e]
            # Someone on the committee but on no roll that day is still expected.
            rows.extend((member_id, o) for o in enrolled or [0])
        rows.sort(key=lambda r: (tree.path_of.get(r[1], "") if r[1] else "~", tree.member_no[r[0]]))
    else:
        rows = [(m, o) for m, o, s, e in tree.subtree.get(org_id, ()) if s <= day < e]
    expected: list[tuple[int, int]] = []
    exempt: list[tuple[int, str]] = []
    exempt_of = tree.exempt_of
    for member_id, org in rows:
        periods = exempt_of.get(member_id)
        kind = None
        if periods:
            # The last covering period wins, as in the dict() built by expected_attendees.
            for start, end, k in periods:
                if start <= day < end:
                    kind = k
        if kind is None:
            expected.append((member_id, org))
        else:
            exempt.append((member_id, kind))
    return expected, exempt


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


class _Writer:
    """COPY on PostgreSQL, bulk_create elsewhere; rows are tuples in `fields` order (attnames)."""

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"

    def insert(
        self, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        if self.copy:
            meta = model._meta
            columns = [meta.get_field(f).column for f in fields]
            return self.copy_into(meta.db_table, columns, rows)
        n = 0
        batch: list[models.Model] = []
        for row in rows:
            batch.append(model(**dict(zip(fields, row, strict=True))))
            if len(batch) >= BATCH:
                model.objects.bulk_create(batch, batch_size=BATCH)
                n += len(batch)
                batch = []
        if batch:
            model.objects.bulk_create(batch, batch_size=BATCH)
            n += len(batch)
        return n

    def copy_into(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        qn = connection.ops.quote_name
        sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
        n = 0
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                n += 1
        return n


# ---------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------


@dataclass
class _Profile:
    """How a branch behaves: cadence kept, study sessions aimed at, attendance thresholds."""

    monthly: float  # chance a monthly 支委会 / 党小组会 is held
    quarterly: float  # chance a quarterly 党员大会 / 党课 is held
    study_target: int  # the branch's own study sessions in a whole year
    # Cumulative thresholds of one draw: present, late, excused; the rest is absent.
    thresholds: tuple[float, float, float]


def _profiles(n_branches: int, rng: random.Random) -> list[_Profile]:
    profiles = []
    for b in range(n_branches):
        r = rng.random()
        # Fixed slots guarantee every case even in a small demo (4 branches: one short of
        # sessions, one below 80%); the random draw adds more of each in larger demos.
        if b % 10 == 3 or r < 0.04:
            target, quarterly = rng.randint(8, 11), 0.6
        elif b % 10 == 6 or r < 0.10:
            target, quarterly = rng.randint(12, 14), 0.85
        else:
            target, quarterly = rng.randint(15, 20), 1.0 if rng.random() < 0.7 else 0.85
        monthly = 1.0 if rng.random() < 0.55 else rng.uniform(0.75, 0.95)
        if b % 10 == 1 or rng.random() < 0.06:
            # Below 80% mostly through leave (busy, not defiant), so that only a handful
            # of members cross FJ-M1's line of 5 unexcused absences.
            weights = (
                rng.uniform(0.60, 0.68),
                rng.uniform(0.04, 0.07),
                rng.uniform(0.18, 0.24),
                rng.uniform(0.04, 0.07),
            )
        else:
            weights = (
                rng.uniform(0.84, 0.92),
                rng.uniform(0.02, 0.05),
                rng.uniform(0.03, 0.07),
                rng.uniform(0.005, 0.03),
            )
        total = sum(weights)
        present = weights[0] / total
        late = present + weights[1] / total
        profiles.append(
            _Profile(monthly, quarterly, target, (present, late, late + weights[2] / total))
        )
    return profiles


@dataclass(slots=True)
class _Session:
    org_id: int
    branch: int  # index into the branch list, -1 for a 党总支 session
    type: str
    date: dt.date
    start: dt.time
    end: dt.time
    topic: str
    speaker: str
    location: str
    qr: bool
    code: str = ""
    content: str = ""
    id: int = 0
    starts_at: dt.datetime | None = None
    taken_at: dt.datetime | None = None
    lo: int = 0  # this session's slice of the entry arrays
    hi: int = 0


class _Calendar:
    """Working days before `today`, by month; sessions are only placed on them."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self._cache: dict[tuple[int, int], list[dt.date]] = {}

    def days(self, year: int, month: int) -> list[dt.date]:
        key = (year, month)
        if key not in self._cache:
            day = dt.date(year, month, 1)
            found = []
            while day.month == month and day < self.today:
                if day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS:
                    found.append(day)
                day += dt.timedelta(days=1)
            self._cache[key] = found
        return self._cache[key]

    def upcoming(self, after: int) -> dt.date:
        day = self.today + dt.timedelta(days=after)
        while day.weekday() >= 5 or (day.month, day.day) in FIXED_HOLIDAYS:
            day += dt.timedelta(days=1)
        return day


def _hours(start: dt.time, end: dt.time) -> Decimal:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return Decimal(min(3.0, max(1.0, round(minutes / 30) / 2))).quantize(Decimal("0.1"))


class _Planner:
    def __init__(self, tree: _Tree, branches: list[Organization], rng: random.Random) -> None:
        self.tree, self.branches, self.rng = tree, branches, rng
        self.sessions: list[_Session] = []
        self._codes: dict[tuple[int, dt.date], int] = {}

    def name(self, org_id: int, *kinds: str) -> str:
        for kind in kinds:
            member_id = self.tree.holder.get((org_id, kind))
            if member_id is not None:
                return self.tree.name_of.get(member_id, "")
        return ""

    def add(
        self, org_id: int, branch: int, session_type: str, day: dt.date, topic: str, speaker: str
    ) -> _Session:
        rng = self.rng
        start, end = rng.choice(TIMES[session_type])
        if session_type == SessionType.THEME_DAY and rng.random() < 0.3:
            location = "红色教育基地（现场教学）"
        else:
            location = rng.choice(SMALL_ROOMS.get(session_type, LOCATIONS))
        n = self._codes.get((org_id, day), 0) + 1
        self._codes[(org_id, day)] = n
        session = _Session(
            org_id=org_id,
            branch=branch,
            type=session_type,
            date=day,
            start=start,
            end=end,
            topic=topic,
            speaker=speaker,
            location=location,
            qr=rng.random() < 0.15 and session_type != SessionType.COMMITTEE_MEETING,
            code=f"{self.tree.code_of[org_id]}-{day:%Y%m%d}-{n}",
        )
        lead = speaker or "支部书记"
        session.content = f"{lead}主讲，学习{topic}。与会党员结合岗位实际交流发言，形成学习记录。"
        self.sessions.append(session)
        return session

    def year(self, year: int, calendar: _Calendar, profiles: list[_Profile]) -> None:
        rng = self.rng
        months = [m for m in range(1, 13) if calendar.days(year, m)]
        if not months:
            return
        # Late in the year (the usual demo) a branch has held its year's sessions; earlier in
        # the year the targets shrink pro rata so the pace still looks like a real one.
        scale = 1.0 if len(months) >= 11 else len(months) / 12

        def day_in(month: int) -> dt.date:
            days = calendar.days(year, month)
            return days[rng.randrange(len(days))]

        quarters: dict[int, list[int]] = {}
        for m in months:
            quarters.setdefault((m - 1) // 3, []).append(m)
        for b, branch in enumerate(self.branches):
            profile = profiles[b]
            secretary = self.name(branch.pk, RoleKind.SECRETARY, RoleKind.DEPUTY_SECRETARY)
            for m in months:
                if rng.random() < profile.monthly:
                    self.add(
                        branch.pk,
                        b,
                        SessionType.COMMITTEE_MEETING,
                        day_in(m),
                        rng.choice(COMMITTEE_TOPICS),
                        secretary,
                    )
            held = 0
            for quarter_months in quarters.values():
                if rng.random() < profile.quarterly:
                    held += 1
                    self.add(
                        branch.pk,
                        b,
                        SessionType.MEMBERS_MEETING,
                        day_in(rng.choice(quarter_months)),
                        rng.choice(MEETING_TOPICS),
                        secretary,
                    )
                if rng.random() < profile.quarterly:
                    held += 1
                    # The secretary gives most 党课 (LC-M1); a committee member or a
                    # visiting leader the rest.
                    speaker = (
                        secretary
                        if rng.random() < 0.7
                        else self.name(
                            branch.pk, RoleKind.DEPUTY_SECRETARY, RoleKind.ORGANIZATION_MEMBER
                        )
                        or rng.choice(EXPERTS)
                    )
                    self.add(
                        branch.pk,
                        b,
                        SessionType.PARTY_LECTURE,
                        day_in(rng.choice(quarter_months)),
                        rng.choice(STUDY_TOPICS),
                        speaker,
                    )
            others = max(0, round(profile.study_target * scale) - held)
            early = [m for m in months if m <= 2]
            if others and early and rng.random() < 0.8:
                others -= 1
                self.add(
                    branch.pk,
                    b,
                    SessionType.LIFE_MEETING,
                    day_in(rng.choice(early)),
                    f"{year - 1}年度组织生活会暨民主评议党员",
                    secretary,
                )
            propaganda = (
                self.name(branch.pk, RoleKind.PROPAGANDA_MEMBER, RoleKind.ORGANIZATION_MEMBER)
                or secretary
            )
            offset = rng.randrange(len(months))
            types = [t for t, _ in OTHER_STUDY]
            weights = [w for _, w in OTHER_STUDY]
            for i in range(others):
                # Spread evenly over the months, starting at a random one.
                month = months[(offset + i * len(months) // others) % len(months)]
                session_type = rng.choices(types, weights)[0]
                if session_type == SessionType.THEME_DAY:
                    topic, speaker = rng.choice(THEME_DAY_TOPICS), secretary
                elif session_type == SessionType.SPECIAL_LECTURE:
                    topic, speaker = rng.choice(STUDY_TOPICS), rng.choice(EXPERTS)
                elif session_type == SessionType.TRAINING:
                    topic, speaker = rng.choice(TRAINING_TOPICS), rng.choice(EXPERTS)
                elif session_type == SessionType.READING_CLUB:
                    topic, speaker = rng.choice(READING_TOPICS), propaganda
                else:
                    topic, speaker = rng.choice(STUDY_TOPICS), propaganda
                self.add(branch.pk, b, session_type, day_in(month), topic, speaker)
            for group in self.tree.groups_of.get(branch.pk, ()):
                leader = self.name(group, RoleKind.GROUP_LEADER) or secretary
                for m in months:
                    if rng.random() < profile.monthly:
                        self.add(
                            group,
                            b,
                            SessionType.GROUP_MEETING,
                            day_in(m),
                            f"党小组学习讨论：{rng.choice(STUDY_TOPICS)}",
                            leader,
                        )
        # A lecture or two a year by each 党总支, for all members of its branches.
        generals: list[int] = []
        for branch in self.branches:
            general = self.tree.general_of.get(branch.pk)
            if general is not None and general not in generals:
                generals.append(general)
        for general in generals:
            for _ in range(1 + (rng.random() < 0.5)):
                session_type = (
                    SessionType.SPECIAL_LECTURE if rng.random() < 0.6 else SessionType.PARTY_LECTURE
                )
                self.add(
                    general,
                    -1,
                    session_type,
                    day_in(rng.choice(months)),
                    rng.choice(STUDY_TOPICS),
                    rng.choice(EXPERTS),
                )

    def upcoming(self, calendar: _Calendar) -> list[_Session]:
        """Two sessions ahead for the first branches, so that a member can ask for leave."""
        found = []
        for b, branch in enumerate(self.branches[:2]):
            secretary = self.name(branch.pk, RoleKind.SECRETARY)
            propaganda = self.name(branch.pk, RoleKind.PROPAGANDA_MEMBER) or secretary
            first = self.add(
                branch.pk,
                b,
                SessionType.COLLECTIVE_STUDY,
                calendar.upcoming(3 + b),
                self.rng.choice(STUDY_TOPICS),
                propaganda,
            )
            first.qr = True
            found.append(first)
            found.append(
                self.add(
                    branch.pk,
                    b,
                    SessionType.MEMBERS_MEETING,
                    calendar.upcoming(10 + b),
                    "支部年度工作总结与学习交流",
                    secretary,
                )
            )
        for session in found:
            session.content = ""
        return found


# ---------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------


@dataclass
class _Clock:
    started: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)

    def lap(self, what: str, rows: int | None = None) -> None:
        now = time.monotonic()
        log.debug(
            "%-28s %8.2fs%s", what, now - self.last, f"  {rows} rows" if rows is not None else ""
        )
        self.last = now


def generate(result: DemoResult, rng: random.Random) -> None:
    """Sessions, frozen lists, attendance, leave, 补课, self-study, notes and training."""
    clock = _Clock()
    tree = _load(result)
    writer = _Writer()
    tz = timezone.get_current_timezone()
    now = timezone.now()
    today = result.today
    midnight = dt.datetime.combine(today, dt.time(0, 0), tzinfo=tz)
    calendar = _Calendar(today)
    branches = list(result.branches)
    profiles = _profiles(len(branches), rng)
    clock.lap("load")

    planner = _Planner(tree, branches, rng)
    for year in range(result.first_day.year, today.year + 1):
        planner.year(year, calendar, profiles)
    past = list(planner.sessions)
    upcoming = planner.upcoming(calendar)
    for session in planner.sessions:
        session.starts_at = dt.datetime.combine(session.date, session.start, tzinfo=tz)
    for session in past:
        ends_at = dt.datetime.combine(session.date, session.end, tzinfo=tz)
        # Taken on the evening or the next days, never later than the demo's today.
        session.taken_at = min(
            ends_at + dt.timedelta(minutes=rng.randint(10, 2 * 24 * 60)), midnight
        )
    secretary_user = {
        branch.pk: tree.user_of.get(tree.holder.get((branch.pk, RoleKind.SECRETARY), 0))
        for branch in branches
    }
    clock.lap("plan", len(planner.sessions))

    # Sessions: the database assigns the keys; one query reads them back by code.
    session_fields = (
        "code", "organization_id", "type", "date", "start_time", "end_time", "hours", "topic",
        "speaker", "location", "content", "qr_enabled", "attendance_taken_at",
        "attendance_version", "imported", "created_by_id", "created_at",
    )  # fmt: skip

    def session_rows() -> Iterator[tuple[Any, ...]]:
        for s in planner.sessions:
            by = secretary_user.get(branches[s.branch].pk) if s.branch >= 0 else None
            yield (
                s.code, s.org_id, s.type, s.date, s.start, s.end, _hours(s.start, s.end), s.topic,
                s.speaker, s.location, s.content, s.qr, s.taken_at, 1 if s.taken_at else 0,
                False, by, now,
            )  # fmt: skip

    writer.insert(StudySession, session_fields, session_rows())
    ids = dict(
        StudySession.objects.filter(organization__path__startswith=result.root.path).values_list(
            "code", "id"
        )
    )
    for session in planner.sessions:
        session.id = ids[session.code]
    clock.lap("sessions", len(planner.sessions))

    # Frozen lists and statuses, in compact arrays (a large demo has millions of entries).
    ent_member, ent_org, ent_status = array("q"), array("q"), bytearray()
    exempt_rows: list[tuple[int, int, str]] = []
    branch_of_org: dict[int, int] = {}
    for b, branch in enumerate(branches):
        branch_of_org[branch.pk] = b
        for group in tree.groups_of.get(branch.pk, ()):
            branch_of_org[group] = b
    thresholds = [p.thresholds for p in profiles]
    habitual = _habitual_absentees(tree, branches, rng)
    habitual_entries: dict[tuple[int, int], list[int]] = {}
    random_ = rng.random
    for session in past:
        expected, exempt = _expected(tree, session.org_id, session.type, session.date)
        session.lo = len(ent_status)
        default = thresholds[session.branch] if session.branch >= 0 else None
        study = session.type in STUDY_TYPES
        for member_id, org in expected:
            b = branch_of_org.get(org)
            present, late, excused = thresholds[b] if b is not None else (default or thresholds[0])
            r = random_()
            status = (
                PRESENT if r < present else LATE if r < late else EXCUSED if r < excused else ABSENT
            )
            if study and member_id in habitual:
                habitual_entries.setdefault((member_id, session.date.year), []).append(
                    len(ent_status)
                )
            ent_member.append(member_id)
            ent_org.append(org)
            ent_status.append(status)
        session.hi = len(ent_status)
        exempt_rows.extend((session.id, member_id, kind) for member_id, kind in exempt)
    # Habitual absentees miss exactly their quota of study sessions each year (4, or 5-8),
    # so FJ-M1 has members on both sides of its line.
    for (member_id, _year), indexes in habitual_entries.items():
        quota = habitual[member_id]
        chosen = set(rng.sample(indexes, min(quota, len(indexes))))
        for i in indexes:
            if i in chosen:
                ent_status[i] = ABSENT
            elif ent_status[i] == ABSENT:
                ent_status[i] = PRESENT
    clock.lap("frozen lists", len(ent_status))

    leave_rows: list[tuple[Any, ...]] = []
    makeup_rows: list[tuple[Any, ...]] = []
    entry_fields = (
        "session_id", "member_id", "organization_id", "status", "source", "checked_in_at",
        "override_reason", "updated_by_id", "updated_at",
    )  # fmt: skip
    secretary_src, qr_src = EntrySource.SECRETARY.value, EntrySource.QR.value
    approved, refused = LeaveStatus.APPROVED.value, LeaveStatus.REFUSED.value
    hour = dt.timedelta(hours=1)
    minute = dt.timedelta(minutes=1)

    def entry_rows() -> Iterator[tuple[Any, ...]]:
        for s in past:
            sid, taken, starts, qr = s.id, s.taken_at, s.starts_at, s.qr
            decider = secretary_user.get(branches[s.branch].pk) if s.branch >= 0 else None
            for i in range(s.lo, s.hi):
                status = ent_status[i]
                member_id = ent_member[i]
                source, checked_in = secretary_src, None
                if qr and status <= LATE:
                    source = qr_src
                    checked_in = starts + minute * (
                        rng.randint(-20, -1) if status == PRESENT else rng.randint(5, 40)
                    )
                if status == EXCUSED:
                    # Approved before the start: the only way to 请假 (RULES.md).
                    asked = starts - hour * rng.randint(20, 96)
                    leave_rows.append(
                        (
                            sid,
                            member_id,
                            rng.choice(LEAVE_REASONS),
                            approved,
                            asked,
                            decider,
                            asked + hour * rng.randint(1, 18),
                            "",
                        )
                    )
                    if random_() < 0.45:
                        makeup_rows.append(
                            (
                                sid,
                                member_id,
                                min(s.date + dt.timedelta(days=rng.randint(1, 21)), today),
                                _makeup_note(s.topic),
                            )
                        )
                elif status == ABSENT:
                    r = random_()
                    if r < 0.1:
                        # Approved only after the start: stays 缺席 (RULES.md section 2).
                        asked = starts - hour * rng.randint(0, 2)
                        leave_rows.append(
                            (
                                sid,
                                member_id,
                                rng.choice(LEAVE_REASONS),
                                approved,
                                asked,
                                decider,
                                starts + hour * rng.randint(1, 30),
                                "会后补批，按缺席统计",
                            )
                        )
                    if random_() < 0.25:
                        makeup_rows.append(
                            (
                                sid,
                                member_id,
                                min(s.date + dt.timedelta(days=rng.randint(1, 21)), today),
                                _makeup_note(s.topic),
                            )
                        )
                elif random_() < 0.004:
                    asked = starts - hour * rng.randint(20, 72)
                    leave_rows.append(
                        (
                            sid,
                            member_id,
                            rng.choice(LEAVE_REASONS),
                            refused,
                            asked,
                            decider,
                            asked + hour * rng.randint(1, 12),
                            "工作可以调整，请按时参加",
                        )
                    )
                yield (
                    sid,
                    member_id,
                    ent_org[i] or None,
                    STATUS_VALUES[status],
                    source,
                    checked_in,
                    "",
                    None,
                    taken,
                )

    n_entries = writer.insert(AttendanceEntry, entry_fields, entry_rows())
    clock.lap("entries", n_entries)
    writer.insert(ExemptAttendee, ("session_id", "member_id", "kind"), exempt_rows)
    pending = _pending_leave(tree, upcoming, rng)
    leave_fields = (
        "session_id",
        "member_id",
        "reason",
        "status",
        "requested_at",
        "decided_by_id",
        "decided_at",
        "decision_note",
    )
    writer.insert(LeaveRequest, leave_fields, leave_rows + pending)
    clock.lap("exempt + leave", len(exempt_rows) + len(leave_rows))
    _write_makeups(writer, makeup_rows, result, now)
    clock.lap("make-up", len(makeup_rows))

    members = sorted(
        (m for m in tree.member_no if m in tree.spans_of), key=lambda m: tree.member_no[m]
    )
    n_self = writer.insert(
        SelfStudy,
        ("member_id", "date", "hours", "material", "created_at"),
        _self_study_rows(tree, members, result, rng, now),
    )
    clock.lap("self-study", n_self)
    n_training = writer.insert(
        TrainingRecord,
        (
            "member_id",
            "status",
            "confirmed_by_id",
            "confirmed_at",
            "created_at",
            "course",
            "organizer",
            "start_date",
            "end_date",
            "hours",
        ),
        _training_rows(tree, members, result, rng, now),
    )
    clock.lap("training", n_training)
    _notes(tree, branches, planner.sessions, secretary_user, result, rng, midnight)
    clock.lap("notes")
    if writer.copy:
        # Fresh statistics, so the first report after seeding does not plan for empty tables.
        tables = [
            m._meta.db_table
            for m in (StudySession, AttendanceEntry, LeaveRequest, MakeUp, SelfStudy)
        ]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
        clock.lap("analyze")
    log.debug("attendance demo: %.2fs in all", time.monotonic() - clock.started)


def _habitual_absentees(
    tree: _Tree, branches: list[Organization], rng: random.Random
) -> dict[int, int]:
    """A few ordinary members (no committee role) and their yearly quota of 缺席."""
    committee = {m for rows in tree.committee.values() for m, _s, _e in rows}
    candidates: list[int] = []
    for branch in branches:
        seen: list[int] = []
        for member_id, _o, _s, _e in tree.subtree.get(branch.pk, ()):
            if member_id not in committee and member_id not in seen:
                seen.append(member_id)
        candidates.extend(seen)
    if not candidates:
        return {}
    count = min(len(candidates), max(2, round(len(candidates) * 0.025)))
    chosen = rng.sample(candidates, count)
    # Alternate: one just under the FJ-M1 line (4), one over it (5-8).
    return {m: (rng.randint(5, 8) if i % 2 == 0 else 4) for i, m in enumerate(chosen)}


def _makeup_note(topic: str) -> str:
    return f"已自学本次活动材料（{topic}），撰写学习笔记并交支部书记审阅。"


def _pending_leave(
    tree: _Tree, upcoming: list[_Session], rng: random.Random
) -> list[tuple[Any, ...]]:
    """One request waiting for the first branch's secretary, so the approval queue is not empty."""
    if not upcoming:
        return []
    session = upcoming[0]
    expected, _exempt = _expected(tree, session.org_id, session.type, session.date)
    committee = {m for m, _s, _e in tree.committee.get(session.org_id, ())}
    # Members with a log-in (the demo's 'dangyuan') are left free to ask for themselves.
    ordinary = [m for m, _o in expected if m not in committee and tree.user_of.get(m) is None]
    if not ordinary:
        return []
    asked = dt.datetime.combine(
        session.date - dt.timedelta(days=3), dt.time(16, 20), tzinfo=session.starts_at.tzinfo
    )  # type: ignore[union-attr]
    asked = min(asked, timezone.now())
    return [
        (
            session.id,
            ordinary[0],
            rng.choice(LEAVE_REASONS),
            LeaveStatus.PENDING.value,
            asked,
            None,
            None,
            "",
        )
    ]


def _write_makeups(
    writer: _Writer, rows: list[tuple[Any, ...]], result: DemoResult, now: dt.datetime
) -> None:
    """补课 rows point at entries: keyed by (session, member) and joined to the entry ids."""
    if not rows:
        return
    entry_table = AttendanceEntry._meta.db_table
    if writer.copy:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE demo_makeup (session_id bigint, member_id bigint, date date, note text)"
            )
        writer.copy_into("demo_makeup", ("session_id", "member_id", "date", "note"), rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {qn(MakeUp._meta.db_table)} (entry_id, date, note, created_at) "
                f"SELECT e.id, t.date, t.note, %s FROM demo_makeup t JOIN {qn(entry_table)} e "
                "ON e.session_id = t.session_id AND e.member_id = t.member_id",
                [now],
            )
            # Dropped now, not at commit: seed_demo may run twice in one transaction (tests).
            cursor.execute("DROP TABLE demo_makeup")
        return
    wanted = {(r[0], r[1]) for r in rows}
    entry_id = {
        (s, m): pk
        for s, m, pk in AttendanceEntry.objects.filter(
            session__organization__path__startswith=result.root.path,
            status__in=[AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT],
        ).values_list("session_id", "member_id", "id")
        if (s, m) in wanted
    }
    writer.insert(
        MakeUp,
        ("entry_id", "date", "note", "created_at"),
        ((entry_id[(s, m)], day, note, now) for s, m, day, note in rows),
    )


_HALF_HOURS = {h: Decimal(h).quantize(Decimal("0.1")) for h in (x / 2 for x in range(1, 49))}


def _self_study_rows(
    tree: _Tree, members: list[int], result: DemoResult, rng: random.Random, now: dt.datetime
) -> Iterator[tuple[Any, ...]]:
    """About 40% of members log ≥ 3 h every week (FJ-M2 met), the rest less or rarely."""
    today, first_day = result.today, result.first_day
    week = dt.timedelta(days=7)
    root_path = result.root.path
    for member_id in members:
        spans = [
            s for s in tree.spans_of[member_id] if tree.path_of.get(s[1], "").startswith(root_path)
        ]
        if not spans:
            continue
        lo = max(first_day, min(s[2] for s in spans))
        hi = min(today, max(s[3] for s in spans) - dt.timedelta(days=1))
        if hi < lo:
            continue
        r = rng.random()
        habit = 2 if r < 0.4 else 1 if r < 0.72 else 0
        monday = lo - dt.timedelta(days=lo.weekday())
        while monday <= hi:
            first, last = max(monday, lo), min(monday + dt.timedelta(days=6), hi)
            monday += week
            if first > last:
                continue
            span_days = (last - first).days + 1
            if habit == 2:
                total = rng.choice((3.0, 3.0, 3.5, 3.5, 4.0, 4.5, 5.0, 6.0))
                parts = [total] if rng.random() < 0.85 else [1.5, total - 1.5]
            elif habit == 1:
                if rng.random() > 0.6:
                    continue
                parts = [rng.choice((1.0, 1.5, 2.0, 2.5, 3.0))]
            else:
                if rng.random() > 0.12:
                    continue
                parts = [rng.choice((1.0, 1.5, 2.0))]
            for hours in parts:
                day = first + dt.timedelta(days=rng.randrange(span_days))
                yield (member_id, day, _HALF_HOURS[hours], rng.choice(MATERIALS), now)


def _training_rows(
    tree: _Tree, members: list[int], result: DemoResult, rng: random.Random, now: dt.datetime
) -> Iterator[tuple[Any, ...]]:
    """Training outside the portal for about half the members (LC-T1 reads its 学时)."""
    today = result.today
    for year in range(result.first_day.year, today.year + 1):
        start_of_year = dt.date(year, 1, 1)
        span = (min(today, dt.date(year, 12, 31)) - start_of_year).days
        if span < 30:
            continue
        for member_id in members:
            division = tree.cadre_of.get(member_id) == CadreLevel.DIVISION
            if division and rng.random() < 0.6:
                course, organizer = DIVISION_COURSE
                days = rng.randint(10, 20)
            elif rng.random() < 0.45:
                course, organizer = rng.choice(TRAINING_COURSES)
                days = rng.randint(1, 4)
            else:
                continue
            start = start_of_year + dt.timedelta(days=rng.randrange(max(1, span - days - 7)))
            end = start + dt.timedelta(days=days - 1)
            hours = _HALF_HOURS[min(24.0, float(days * 6))] if days <= 4 else Decimal(days * 6)
            if rng.random() < 0.85:
                confirmed_at = min(
                    dt.datetime.combine(
                        end + dt.timedelta(days=rng.randint(1, 10)),
                        dt.time(10, 0),
                        tzinfo=now.tzinfo,
                    ),
                    now,
                )
                status = RecordStatus.CONFIRMED.value
            else:
                confirmed_at, status = None, RecordStatus.PENDING.value
            yield (member_id, status, None, confirmed_at, now, course, organizer, start, end, hours)


@dataclass
class _PlannedNote:
    member_id: int
    kind: str
    title: str
    body: str
    session_id: int | None
    book: str
    submitted_at: dt.datetime
    reviewer: int | None


def _notes(
    tree: _Tree,
    branches: list[Organization],
    sessions: list[_Session],
    secretary_user: dict[int, int | None],
    result: DemoResult,
    rng: random.Random,
    midnight: dt.datetime,
) -> None:
    """A few notes in the first branches, with one near-duplicate pair.

    Their number does not grow with the demo, so they can go through the portal's own
    note_submit: the word count, the duplicate fingerprints and the 疑似雷同 flag are then
    exactly what the portal computes, whatever the duplicate check stores. They are
    submitted in date order and back-dated afterwards, so the copy points at the original.
    """
    first = dt.datetime.combine(result.first_day, dt.time(0, 0), tzinfo=midnight.tzinfo)
    span_seconds = max(3600, int((midnight - first).total_seconds()))
    study_of_branch: dict[int, list[_Session]] = {}
    for s in sessions:
        if (
            s.taken_at is not None
            and s.type in STUDY_TYPES
            and tree.type_of[s.org_id] == OrgType.BRANCH
        ):
            study_of_branch.setdefault(s.branch, []).append(s)
    planned: list[_PlannedNote] = []
    kinds = [NoteKind.STUDY_NOTE, NoteKind.STUDY_NOTE, NoteKind.READING_NOTE, NoteKind.REFLECTION]
    # A fixed number of authors from the first branches, so the count (and the queries of
    # note_submit) is the same for 2 branches or 2000.
    chosen = branches[:4]
    per_branch = -(-NOTE_AUTHORS // max(1, len(chosen)))
    for b, branch in enumerate(chosen):
        roll: list[int] = []
        for member_id, _o, _s, end in tree.subtree.get(branch.pk, ()):
            if end == LATEST and member_id not in roll:
                roll.append(member_id)
        secretary = tree.holder.get((branch.pk, RoleKind.SECRETARY))
        others = [m for m in roll if m != secretary]
        authors = [secretary] if secretary in roll else []
        authors += rng.sample(others, min(len(others), per_branch - len(authors)))
        for author in authors:
            # Secretaries hand in a 心得体会 (FJ-M3, GT-L3 read them).
            kind = NoteKind.REFLECTION if author == secretary else rng.choice(kinds)
            session = None
            if kind == NoteKind.STUDY_NOTE and study_of_branch.get(b):
                session = rng.choice(study_of_branch[b])
            topic = session.topic if session else rng.choice(STUDY_TOPICS)
            submitted = midnight - dt.timedelta(seconds=rng.randrange(span_seconds))
            if session is not None and session.taken_at is not None:
                submitted = max(submitted, session.taken_at)
            planned.append(
                _PlannedNote(
                    member_id=author,
                    kind=kind,
                    title=f"{topic}{kind}"[:200],
                    body="".join(rng.sample(NOTE_SENTENCES, rng.randint(5, 9))),
                    session_id=session.id if session else None,
                    book="《之江新语》" if kind == NoteKind.READING_NOTE else "",
                    submitted_at=submitted,
                    reviewer=secretary_user.get(branch.pk) if rng.random() < 0.6 else None,
                )
            )
    if not planned:
        return
    # The near-duplicate: another member hands in the first note, lightly edited, later.
    original = planned[0]
    copier = next((p.member_id for p in planned if p.member_id != original.member_id), None)
    if copier is not None:
        planned.append(
            _PlannedNote(
                member_id=copier,
                kind=original.kind,
                title=original.title,
                body=_near_copy(original.body),
                session_id=original.session_id,
                book=original.book,
                submitted_at=min(
                    midnight - dt.timedelta(minutes=1),
                    original.submitted_at + dt.timedelta(days=2),
                ),
                reviewer=None,
            )
        )
    planned.sort(key=lambda p: p.submitted_at)
    members = Member.objects.in_bulk({p.member_id for p in planned})
    session_ids = {p.session_id for p in planned if p.session_id is not None}
    session_of = StudySession.objects.in_bulk(session_ids)
    notes = []
    for p in planned:
        note = note_submit(
            member=members[p.member_id],
            kind=p.kind,
            title=p.title,
            body=p.body,
            session=session_of.get(p.session_id) if p.session_id else None,
            book=p.book,
        )
        note.submitted_at = p.submitted_at
        if p.reviewer is not None:
            note.status = NoteStatus.APPROVED
            note.reviewed_by_id = p.reviewer
            note.reviewed_at = min(p.submitted_at + dt.timedelta(days=2), midnight)
            note.review_comment = "认真，结合工作实际。"
        notes.append(note)
    StudyNote.objects.bulk_update(
        notes, ["submitted_at", "status", "reviewed_by", "reviewed_at", "review_comment"]
    )


def _near_copy(body: str) -> str:
    """A lightly edited copy, still well above the portal's similarity threshold."""
    edits = [
        body.replace("我", "本人", 1),
        body.replace("要", "应", 1),
        body + "特此记录。",
    ]
    for candidate in edits:
        if candidate != body and text.jaccard(candidate, body) >= 0.85:
            return candidate
    return body  # an exact copy is flagged too
