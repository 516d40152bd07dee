"""Keeps the dashboard tables (MonthStat, VerdictSnapshot, MemberSnapshot) up to date.

Each refresh is set-wise: one pass of the metrics for a subtree and a year, then bulk
upserts. After attendance changes only the affected branch (or the organizing 党总支/党委's
subtree) is refreshed; a nightly task refreshes everything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from attendance.models import StudySession
from branches.models import Organization, OrgType

from .engine import assess, counts_as_held_study, gc_paused, session_participation
from .metrics import Metrics
from .models import MemberSnapshot, MonthStat, RuleProfile, VerdictSnapshot


def _options(metrics: Metrics) -> dict[int, dict]:
    names = set(metrics.profile_names.values())
    options = {p.name: p.options for p in RuleProfile.objects.filter(name__in=names | {"默认"})}
    default = options.get("默认", {})
    return {org_id: options.get(name, default) for org_id, name in metrics.profile_names.items()}


def refresh_month_stats(*, root: Organization, year: int) -> int:
    """Per organization and month, the held sessions (RULES.md 2a) and their participation
    summed through the engine's one definition (profile options included), so the
    dashboard's monthly rates are the verdicts' rates."""
    m = Metrics(root=root, year=year)
    options = _options(m)
    rows: dict[tuple[int, int], MonthStat] = {}
    for s in m.sessions:
        key = (s.organization_id, s.date.month)
        stat = rows.get(key)
        if stat is None:
            stat = rows[key] = MonthStat(
                organization_id=key[0], year=year, month=key[1], sessions_by_type={}, hours=0
            )
        stat.sessions_by_type[s.type] = stat.sessions_by_type.get(s.type, 0) + 1
        s_options = options.get(s.organization_id, {})
        if counts_as_held_study(s, s_options.get("study_types") or ()):
            stat.study_sessions += 1
            stat.hours += s.hours
            stat.expected += s.expected
            stat.attended += s.attended
            stat.excused += s.excused
            stat.absent += s.absent
            rate = session_participation(s, s_options)
            if rate is not None:
                stat.rate_sum += rate
                stat.rated_sessions += 1
    org_ids = [o.pk for o in m.organizations]
    with transaction.atomic():
        # Replace the subtree's rows for the year: months without sessions any more disappear.
        MonthStat.objects.filter(organization_id__in=org_ids, year=year).delete()
        MonthStat.objects.bulk_create(list(rows.values()), batch_size=2000)
        transaction.on_commit(_statistics_changed)
    return len(rows)


def refresh_snapshots(
    *, root: Organization, year: int, today: dt.date | None = None
) -> tuple[int, int]:
    with gc_paused():  # millions of rows and verdicts on the heap: see engine.gc_paused
        return _refresh_snapshots(root=root, year=year, today=today)


def _refresh_snapshots(*, root: Organization, year: int, today: dt.date | None) -> tuple[int, int]:
    a = assess(root=root, year=year, today=today)
    now = timezone.now()
    orgs = []
    for r in a.organizations:
        forecasts = {v.rule_id: v.forecast for v in r.verdicts if v.forecast}
        orgs.append(
            VerdictSnapshot(
                organization=r.organization,
                year=year,
                profile=r.profile,
                profile_version=r.profile_version,
                five_good=r.five_good,
                advanced_eligible=r.advanced_eligible,
                study_sessions=r.study_sessions,
                avg_participation=r.avg_participation,
                outcomes={v.rule_id: v.outcome for v in r.verdicts},
                forecasts=forecasts,
                at_risk=VerdictSnapshot.needs_attention(r.five_good, forecasts),
                computed_at=now,
            )
        )
    members = []
    for r in a.members:
        if not r.member.enrolled_at_end:
            continue  # the member's snapshot belongs to the subtree they moved to
        at_risk = r.one_absence_from_losing_excellent
        members.append(
            MemberSnapshot(
                member_id=r.member.id,
                year=year,
                organization=r.organization,
                unexcused_absences=r.unexcused_absences,
                excellent_eligible=r.excellent_eligible,
                at_risk=at_risk,
                outcomes={v.rule_id: v.outcome for v in r.verdicts},
                computed_at=now,
            )
        )
    with transaction.atomic():
        VerdictSnapshot.objects.bulk_create(
            orgs,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["organization", "year"],
            update_fields=[
                "profile",
                "profile_version",
                "five_good",
                "advanced_eligible",
                "study_sessions",
                "avg_participation",
                "outcomes",
                "forecasts",
                "at_risk",
                "computed_at",
            ],
        )
        transaction.on_commit(_statistics_changed)
        MemberSnapshot.objects.bulk_create(
            members,
            batch_size=5000,
            update_conflicts=True,
            unique_fields=["member", "year"],
            update_fields=[
                "organization",
                "unexcused_absences",
                "excellent_eligible",
                "at_risk",
                "outcomes",
                "computed_at",
            ],
        )
    return len(orgs), len(members)


def _statistics_changed() -> None:
    """Cached dashboards (reports.dashboard) are keyed on this generation."""
    from reports.dashboard import bump_statistics_generation

    bump_statistics_generation()


def refresh_subtree(*, root: Organization, year: int) -> None:
    refresh_month_stats(root=root, year=year)
    refresh_snapshots(root=root, year=year)


def affected_roots(session_ids: list[int]) -> dict[int, set[int]]:
    """For changed sessions: organization ids to refresh, by year. A 党小组's session
    refreshes its branch; a 党总支 or 党委 session its whole subtree (its members' verdicts)."""
    rows = StudySession.objects.filter(pk__in=session_ids).values_list(
        "date", "organization_id", "organization__type", "organization__path"
    )
    result: dict[int, set[int]] = defaultdict(set)
    parent_paths = {}
    for day, org_id, org_type, path in rows:
        if org_type == OrgType.GROUP:
            parent_paths.setdefault(path[: -Organization.steplen], set()).add(day.year)
        else:
            result[day.year].add(org_id)
    if parent_paths:
        for pk, path in Organization.objects.filter(path__in=list(parent_paths)).values_list(
            "pk", "path"
        ):
            for year in parent_paths[path]:
                result[year].add(pk)
    return result
