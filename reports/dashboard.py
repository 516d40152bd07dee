"""The reviewer dashboard's figures, read from the precomputed tables (assessments.MonthStat,
VerdictSnapshot, MemberSnapshot): a constant number of queries whatever the subtree's size."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import (
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Length, Substr
from django.utils import timezone
from django.utils.translation import get_language

from assessments.models import MemberSnapshot, MonthStat, VerdictSnapshot
from attendance.models import StudySession
from attendance.selectors import held_q
from branches.models import Membership, Organization, OrgType, on_date_q

logger = logging.getLogger(__name__)

MONTHS = list(range(1, 13))
QUARTER_END = {3: (1, 2, 3), 6: (4, 5, 6), 9: (7, 8, 9), 12: (10, 11, 12)}
# 三会一课 as the default profile requires it: monthly 支委会 (and 党小组会 where groups
# exist), quarterly 支部党员大会 and 党课 (checked in the quarter's last month).
MONTHLY = ("支委会",)
QUARTERLY = ("支部党员大会", "党课")


@dataclass
class HeatCell:
    month: int
    held: int = 0
    required: int = 0
    missing: list[str] = field(default_factory=list)
    future: bool = False

    @property
    def symbol(self) -> str:
        if self.future or not self.required:
            return ""
        if self.held == self.required:
            return "✓"
        return "✗" if self.held == 0 else "◐"

    @property
    def css(self) -> str:
        return {"✓": "heat-ok", "◐": "heat-part", "✗": "heat-miss"}.get(self.symbol, "")


@dataclass
class BranchRow:
    organization: Organization
    snapshot: VerdictSnapshot | None
    cells: list[HeatCell]
    at_risk: bool
    parent: Organization | None = None

    @property
    def not_met(self) -> list[str]:
        return [
            rid
            for rid, out in (self.snapshot.outcomes if self.snapshot else {}).items()
            if out == "not_met"
        ]


@dataclass
class DashboardData:
    organization: Organization
    year: int
    # Every branch of the subtree in tree order for the exports (heat_limit=None); on the
    # page only the heat map's rows.
    branches: list[BranchRow]
    heat_branches: list[BranchRow]
    branch_count: int
    at_risk_count: int
    children: list[tuple[Organization, dict]]
    member_count: int
    rule_shares: list[tuple[str, int, int]]  # (rule id, met, applicable)
    five_good: tuple[int, int]
    five_good_last_year: tuple[int, int]
    participation_by_month: list[float | None]
    participation_last_year: list[float | None]
    sessions_by_type: dict[str, int]
    members_at_risk: list[MemberSnapshot]
    stats_updated: dt.datetime | None
    verdicts_computed: dt.datetime | None
    average_participation: float | None = None


def _heat_cells(
    stats: dict[int, dict[str, int]],
    group_stats: list[dict[int, dict[str, int]]],
    year: int,
    today: dt.date,
) -> list[HeatCell]:
    cells = []
    for month in MONTHS:
        cell = HeatCell(month, future=dt.date(year, month, 1) > today)
        held_types = stats.get(month, {})
        for t in MONTHLY:
            cell.required += 1
            if held_types.get(t):
                cell.held += 1
            else:
                cell.missing.append(t)
        if group_stats:
            cell.required += 1
            if all(g.get(month, {}).get("党小组会") for g in group_stats):
                cell.held += 1
            else:
                cell.missing.append("党小组会")
        if month in QUARTER_END:
            for t in QUARTERLY:
                cell.required += 1
                if any(stats.get(mo, {}).get(t) for mo in QUARTER_END[month]):
                    cell.held += 1
                else:
                    cell.missing.append(t)
        cells.append(cell)
    return cells


def _participation(rows, key) -> list[float | None]:
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    for r in rows:
        s = sums[key(r)]
        s[0] += r["rate_sum"]
        s[1] += r["rated_sessions"]
    return [(sums[m][0] / sums[m][1]) if sums.get(m) and sums[m][1] else None for m in MONTHS]


# The rendered figures of a dashboard are cached under a key that changes whenever the
# statistics of the subtree are refreshed (the latest MonthStat and VerdictSnapshot write
# times, and their counts), so a reviewer never sees figures older than the tables they come
# from; live counts that do not come from those tables (members on the roll, sessions by
# type) may lag by at most this long.
DASHBOARD_CACHE_SECONDS = 300


def dashboard_cache_key(
    organization: Organization, year: int, today: dt.date | None = None
) -> str | None:
    """None when the cache is down (then nothing is cached)."""
    generation = statistics_generation()
    if generation is None:
        return None
    today = today or timezone.localdate()
    raw = f"{organization.pk}:{organization.path}:{year}:{today}:{get_language()}:{generation}"
    return "dashboard:" + hashlib.sha256(raw.encode()).hexdigest()


GENERATION_KEY = "dashboard:statistics-generation"


def statistics_generation() -> int | None:
    """A number that changes every time the statistics tables are written
    (assessments.stats calls bump_statistics_generation after each refresh commits)."""
    try:
        value = cache.get(GENERATION_KEY)
        if value is None:
            # Evicted or never set: start from the clock, never from a number used before.
            cache.add(GENERATION_KEY, time.time_ns(), None)
            value = cache.get(GENERATION_KEY)
        return value
    except Exception:  # noqa: BLE001 - without the cache there is nothing to invalidate
        return None


def bump_statistics_generation() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet
        cache.add(GENERATION_KEY, time.time_ns(), None)
    except Exception:  # noqa: BLE001
        logger.warning("dashboard cache unavailable", exc_info=True)


def cache_get(key: str):
    """The cache is an optimisation: with Redis down the page is computed, not refused."""
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - any cache failure means a miss
        logger.warning("dashboard cache unavailable", exc_info=True)
        return None


def cache_set(key: str, value, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("dashboard cache unavailable", exc_info=True)


# The heat map on the page shows the branches that most need attention; the Excel export
# has all of them (2,000 rows of 12 cells made the page of a city take seconds to render).
HEATMAP_ROWS = 100


def dashboard_data(
    *,
    organization: Organization,
    year: int,
    today: dt.date | None = None,
    heat_limit: int | None = HEATMAP_ROWS,
) -> DashboardData:
    """The figures of a subtree, summed in the database: a constant number of queries, and
    Python work that grows with the rows shown (children, heat map) rather than the tree.
    The subtree is joined by path (never a list of thousands of ids in the SQL)."""
    today = today or timezone.localdate()
    path, step = organization.path, Organization.steplen
    in_subtree = Q(organization__path__startswith=path)
    branch_orgs = Organization.objects.filter(path__startswith=path, type=OrgType.BRANCH)
    branch_snaps = VerdictSnapshot.objects.filter(
        in_subtree, year=year, organization__type=OrgType.BRANCH
    )

    # Branch figures per child organization (the next level of the drill-down); the
    # subtree's totals are their sums.
    prefix_len = len(path) + step
    counts = dict(
        branch_orgs.annotate(prefix=Substr("path", 1, prefix_len))
        .order_by()
        .values("prefix")
        .annotate(n=Count("pk"))
        .values_list("prefix", "n")
    )
    figures = {
        r["prefix"]: r
        for r in branch_snaps.annotate(prefix=Substr("organization__path", 1, prefix_len))
        .order_by()
        .values("prefix")
        .annotate(
            five_good=Count("pk", filter=Q(five_good=True)),
            at_risk=Count("pk", filter=Q(at_risk=True)),
            rate_sum=Sum("avg_participation"),
            rated=Count("avg_participation"),
        )
    }
    child_orgs = list(
        Organization.objects.filter(path__startswith=path, depth=organization.depth + 1).order_by(
            "path"
        )
    )
    child_snaps = {
        s.organization_id: s
        for s in VerdictSnapshot.objects.filter(organization__in=child_orgs, year=year)
    }
    children = []
    for child in child_orgs:
        f = figures.get(child.path, {})
        children.append(
            (
                child,
                {
                    "branches": counts.get(child.path, 0),
                    "five_good": f.get("five_good", 0),
                    "at_risk": f.get("at_risk", 0),
                    "participation": f["rate_sum"] / f["rated"] if f.get("rated") else None,
                    "snapshot": child_snaps.get(child.pk),
                },
            )
        )
    branch_count = sum(counts.values())
    rate_sum = sum(f["rate_sum"] or 0.0 for f in figures.values())
    rated = sum(f["rated"] for f in figures.values())

    shares: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for outcomes in branch_snaps.values_list("outcomes", flat=True):
        for rid, outcome in outcomes.items():
            if outcome in ("met", "not_met"):
                share = shares[rid]
                share[1] += 1
                share[0] += outcome == "met"
    last_year = VerdictSnapshot.objects.filter(
        in_subtree, year=year - 1, organization__type=OrgType.BRANCH
    ).aggregate(five_good=Count("pk", filter=Q(five_good=True)), n=Count("pk"))

    month_sums = {"rate_sum": Sum("rate_sum"), "rated_sessions": Sum("rated_sessions")}
    stat_rows = list(
        MonthStat.objects.filter(in_subtree, year=year)
        .order_by()
        .values("month")
        .annotate(**month_sums, latest=Max("updated_at"))
    )
    last_stats = list(
        MonthStat.objects.filter(in_subtree, year=year - 1)
        .order_by()
        .values("month")
        .annotate(**month_sums)
    )
    type_rows = (
        StudySession.objects.filter(
            held_q(today=today), organization__path__startswith=path, date__year=year
        )
        .order_by()
        .values("type")
        .annotate(n=Count("pk"))
    )
    member_count = Membership.objects.filter(
        on_date_q(min(today, dt.date(year, 12, 31))), in_subtree
    ).aggregate(n=Count("member_id", distinct=True))["n"]
    at_risk_qs = (
        MemberSnapshot.objects.filter(in_subtree, year=year, at_risk=True)
        .select_related("member", "organization")
        .order_by("organization__path", "member__member_no")
    )
    at_risk = list(at_risk_qs if heat_limit is None else at_risk_qs[:200])
    computed = VerdictSnapshot.objects.filter(in_subtree, year=year).aggregate(
        oldest=Min("computed_at")
    )

    # The heat map: branches needing attention first, then in tree order.
    risky = VerdictSnapshot.objects.filter(organization=OuterRef("pk"), year=year, at_risk=True)
    heat_orgs = branch_orgs.annotate(risky=Exists(risky)).order_by("-risky", "path")
    if heat_limit is not None:
        heat_orgs = heat_orgs[:heat_limit]
    heat_orgs = list(heat_orgs)
    heat_ids = [o.pk for o in heat_orgs]
    snapshots = {
        s.organization_id: s
        for s in VerdictSnapshot.objects.filter(organization_id__in=heat_ids, year=year)
    }
    parents = {
        o.path: o for o in Organization.objects.filter(path__in={o.path[:-step] for o in heat_orgs})
    }
    groups_of: dict[int, list[int]] = defaultdict(list)
    by_path = {o.path: o.pk for o in heat_orgs}
    for pk, group_path in (
        Organization.objects.filter(path__startswith=path, type=OrgType.GROUP)
        .annotate(parent_path=Substr("path", 1, Length("path") - step))
        .filter(parent_path__in=list(by_path))
        .values_list("pk", "path")
    ):
        groups_of[by_path[group_path[:-step]]].append(pk)
    month_types: dict[int, dict[int, dict[str, int]]] = defaultdict(dict)
    for org_id, month, kinds in MonthStat.objects.filter(
        organization_id__in=heat_ids + [g for gs in groups_of.values() for g in gs], year=year
    ).values_list("organization_id", "month", "sessions_by_type"):
        month_types[org_id][month] = kinds
    heat = [
        BranchRow(
            o,
            snapshots.get(o.pk),
            _heat_cells(
                month_types.get(o.pk, {}),
                [month_types.get(g, {}) for g in groups_of[o.pk]],
                year,
                today,
            ),
            o.risky,
            parents.get(o.path[:-step]),
        )
        for o in heat_orgs
    ]
    return DashboardData(
        organization=organization,
        year=year,
        branches=sorted(heat, key=lambda b: b.organization.path),
        heat_branches=heat,
        branch_count=branch_count,
        at_risk_count=sum(f["at_risk"] for f in figures.values()),
        children=children,
        member_count=member_count,
        rule_shares=sorted((rid, met, n) for rid, (met, n) in shares.items()),
        five_good=(sum(f["five_good"] for f in figures.values()), branch_count),
        five_good_last_year=(last_year["five_good"], last_year["n"]),
        participation_by_month=_participation(stat_rows, lambda r: r["month"]),
        participation_last_year=_participation(last_stats, lambda r: r["month"]),
        sessions_by_type=dict(
            sorted(((r["type"], r["n"]) for r in type_rows), key=lambda kv: -kv[1])
        ),
        members_at_risk=at_risk,
        stats_updated=max((r["latest"] for r in stat_rows), default=None),
        verdicts_computed=computed["oldest"],
        average_participation=rate_sum / rated if rated else None,
    )
