"""The reviewer dashboard's figures, read from the precomputed tables (assessments.MonthStat,
VerdictSnapshot, MemberSnapshot): a constant number of queries whatever the subtree's size."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from assessments.models import MemberSnapshot, MonthStat, VerdictSnapshot
from attendance.models import StudySession
from branches.models import Membership, Organization, OrgType, on_date_q

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
    branches: list[BranchRow]
    heat_branches: list[BranchRow]
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


def _subtree(org: Organization) -> list[Organization]:
    return list(Organization.objects.filter(path__startswith=org.path).order_by("path"))


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
    today = today or timezone.localdate()
    orgs = _subtree(organization)
    by_id = {o.pk: o for o in orgs}
    by_path = {o.path: o for o in orgs}
    ids = list(by_id)
    snapshots = {
        s.organization_id: s
        for s in VerdictSnapshot.objects.filter(organization_id__in=ids, year=year)
    }
    last_year = list(
        VerdictSnapshot.objects.filter(
            organization_id__in=ids, year=year - 1, organization__type=OrgType.BRANCH
        ).values_list("five_good", flat=True)
    )
    # Month figures and session types are summed in the database, not row by row here.
    stat_rows = list(
        MonthStat.objects.filter(organization_id__in=ids, year=year)
        .values("month")
        .annotate(rate_sum=Sum("rate_sum"), rated_sessions=Sum("rated_sessions"))
    )
    last_stats = list(
        MonthStat.objects.filter(organization_id__in=ids, year=year - 1)
        .values("month")
        .annotate(rate_sum=Sum("rate_sum"), rated_sessions=Sum("rated_sessions"))
    )
    type_rows = (
        StudySession.objects.filter(
            organization__path__startswith=organization.path, date__year=year
        )
        .values("type")
        .annotate(n=Count("pk"))
    )
    member_count = Membership.objects.filter(
        on_date_q(min(today, dt.date(year, 12, 31))), organization_id__in=ids
    ).aggregate(n=Count("member_id", distinct=True))["n"]
    at_risk = list(
        MemberSnapshot.objects.filter(organization_id__in=ids, year=year, at_risk=True)
        .select_related("member", "organization")
        .order_by("organization__path", "member__member_no")[:200]
    )
    freshness = MonthStat.objects.filter(organization_id__in=ids, year=year).aggregate(
        latest=Max("updated_at")
    )
    computed = VerdictSnapshot.objects.filter(organization_id__in=ids, year=year).aggregate(
        oldest=Min("computed_at")
    )

    groups_of: dict[int, list[int]] = defaultdict(list)
    for o in orgs:
        if o.type == OrgType.GROUP:
            parent = by_path.get(o.path[: -Organization.steplen])
            if parent is not None:
                groups_of[parent.pk].append(o.pk)

    branches = []
    for o in orgs:
        if o.type != OrgType.BRANCH:
            continue
        snap = snapshots.get(o.pk)
        risky = bool(
            snap and (not snap.five_good or any(v == "at_risk" for v in snap.forecasts.values()))
        )
        branches.append(BranchRow(o, snap, [], risky, by_path.get(o.path[: -Organization.steplen])))
    # Branches at risk first, then in tree order.
    heat = sorted(branches, key=lambda b: (not b.at_risk, b.organization.path))
    heat = heat if heat_limit is None else heat[:heat_limit]
    heat_ids = [b.organization.pk for b in heat]
    heat_ids += [g for b in heat for g in groups_of[b.organization.pk]]
    month_types: dict[int, dict[int, dict[str, int]]] = defaultdict(dict)
    for org_id, month, kinds in MonthStat.objects.filter(
        organization_id__in=heat_ids, year=year
    ).values_list("organization_id", "month", "sessions_by_type"):
        month_types[org_id][month] = kinds
    for b in heat:
        pk = b.organization.pk
        b.cells = _heat_cells(
            month_types.get(pk, {}), [month_types.get(g, {}) for g in groups_of[pk]], year, today
        )

    shares: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for b in branches:
        for rid, outcome in (b.snapshot.outcomes if b.snapshot else {}).items():
            if outcome in ("met", "not_met"):
                shares[rid][1] += 1
                shares[rid][0] += outcome == "met"
    types = {r["type"]: r["n"] for r in type_rows}

    # The same figures for each child organization (the next level of the drill-down).
    children = []
    for child in orgs:
        if child.depth != organization.depth + 1:
            continue
        mine = [b for b in branches if b.organization.path.startswith(child.path)]
        rates = [
            b.snapshot.avg_participation
            for b in mine
            if b.snapshot and b.snapshot.avg_participation is not None
        ]
        children.append(
            (
                child,
                {
                    "branches": len(mine),
                    "five_good": sum(1 for b in mine if b.snapshot and b.snapshot.five_good),
                    "at_risk": sum(1 for b in mine if b.at_risk),
                    "participation": sum(rates) / len(rates) if rates else None,
                    "snapshot": snapshots.get(child.pk),
                },
            )
        )

    rates = [
        b.snapshot.avg_participation
        for b in branches
        if b.snapshot and b.snapshot.avg_participation is not None
    ]
    return DashboardData(
        organization=organization,
        year=year,
        branches=branches,
        heat_branches=heat,
        children=children,
        member_count=member_count,
        rule_shares=sorted((rid, met, n) for rid, (met, n) in shares.items()),
        five_good=(sum(1 for b in branches if b.snapshot and b.snapshot.five_good), len(branches)),
        five_good_last_year=(sum(1 for f in last_year if f), len(last_year)),
        participation_by_month=_participation(stat_rows, lambda r: r["month"]),
        participation_last_year=_participation(last_stats, lambda r: r["month"]),
        sessions_by_type=dict(sorted(types.items(), key=lambda kv: -kv[1])),
        members_at_risk=at_risk,
        stats_updated=freshness["latest"],
        verdicts_computed=computed["oldest"],
        average_participation=sum(rates) / len(rates) if rates else None,
    )
