"""Reads of the annual-summary delivery: which organizations get a summary, where it goes,
what was sent, and how far a run has got. Views, tasks and the command share these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Q, QuerySet

from branches.models import COMMITTEE_KINDS, Organization, OrgType, Role, RoleKind, User
from branches.selectors import organizations_visible_to

from .models import Delivery, DeliveryAddresses, DeliveryStatus, SummaryText, SummaryVersion

KIND_SUMMARY = "annual_summary"
KIND_TEXT_REMINDER = "text_reminder"

# Progress of a run lives in the cache (Redis in production) for this long.
RUN_TTL_SECONDS = 7 * 24 * 3600
RUN_DONE_STATES = frozenset({"generated", "sent", "skipped", "draft"})


def _chain_paths(path: str) -> list[str]:
    """The materialized paths of an organization and all its ancestors, root first."""
    step = Organization.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def summary_organizations(*, root: Organization, year: int) -> QuerySet[Organization]:
    """The organizations of root's subtree that get an annual summary for `year`: branches
    and their superiors (党小组 report through their branch), existing at some time in the year."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return (
        root.subtree()
        .exclude(type=OrgType.GROUP)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=last))
        .filter(Q(active_until__isnull=True) | Q(active_until__gt=first))
    )


def summary_organization_ids(*, year: int, root_id: int | None = None) -> list[int]:
    """Ids of the organizations that get a summary, under one root or under every root."""
    roots = (
        Organization.objects.filter(pk=root_id)
        if root_id is not None
        else Organization.objects.get_root_nodes()
    )
    ids: list[int] = []
    for root in roots:
        ids.extend(summary_organizations(root=root, year=year).values_list("pk", flat=True))
    return ids


def delivery_addresses_map(organizations: Iterable[Organization]) -> dict[int, list[str]]:
    """Recipients per organization: for each of the two departments, the organization's own
    address or else the nearest ancestor's. One query for every chain together."""
    organizations = list(organizations)
    paths = {p for org in organizations for p in _chain_paths(org.path)}
    if not paths:
        return {}
    by_path = {
        row.organization.path: row
        for row in DeliveryAddresses.objects.filter(organization__path__in=paths).select_related(
            "organization"
        )
    }
    result: dict[int, list[str]] = {}
    for org in organizations:
        chain = [by_path[p] for p in reversed(_chain_paths(org.path)) if p in by_path]
        found: list[str] = []
        for attr in ("organization_dept_email", "propaganda_dept_email"):
            address = next((getattr(row, attr) for row in chain if getattr(row, attr)), "")
            if address and address.lower() not in {a.lower() for a in found}:
                found.append(address)
        result[org.pk] = found
    return result


def delivery_addresses(organization: Organization) -> list[str]:
    """Where the organization's summary goes (own or inherited addresses), in one query."""
    return delivery_addresses_map([organization])[organization.pk]


def deliveries_for(*, organization: Organization) -> QuerySet[Delivery]:
    """Every e-mail recorded for the organization, newest first, with its attempt log."""
    return (
        Delivery.objects.filter(organization=organization)
        .prefetch_related("attempt_log")
        .order_by("-year", "-claimed_at")
    )


def versions_visible_to(user: User) -> QuerySet[SummaryVersion]:
    return SummaryVersion.objects.filter(
        organization__in=organizations_visible_to(user)
    ).select_related("organization")


@dataclass
class SummaryRow:
    """One organization on the reviewer's annual page."""

    organization: Organization
    has_text: bool
    recipients: list[str]
    versions: list[SummaryVersion] = field(default_factory=list)
    deliveries: dict[int, Delivery] = field(default_factory=dict)

    @property
    def latest(self) -> SummaryVersion | None:
        return self.versions[0] if self.versions else None

    @property
    def latest_delivery(self) -> Delivery | None:
        latest = self.latest
        return self.deliveries.get(latest.number) if latest else None

    @property
    def indent(self) -> int:
        return self.organization.depth


def summary_rows(*, root: Organization, year: int) -> list[SummaryRow]:
    """The subtree's summaries for `year` with their versions and deliveries: a fixed number
    of queries whatever the size of the subtree."""
    organizations = list(summary_organizations(root=root, year=year))
    ids = [org.pk for org in organizations]
    with_text = set(
        SummaryText.objects.filter(organization_id__in=ids, year=year).values_list(
            "organization_id", flat=True
        )
    )
    addresses = delivery_addresses_map(organizations)
    rows = {
        org.pk: SummaryRow(
            organization=org, has_text=org.pk in with_text, recipients=addresses[org.pk]
        )
        for org in organizations
    }
    for version in SummaryVersion.objects.filter(organization_id__in=ids, year=year).order_by(
        "organization_id", "-number"
    ):
        rows[version.organization_id].versions.append(version)
    for delivery in Delivery.objects.filter(organization_id__in=ids, year=year, kind=KIND_SUMMARY):
        rows[delivery.organization_id].deliveries[delivery.version] = delivery
    return list(rows.values())


def organizations_missing_text(*, year: int) -> list[Organization]:
    """Organizations that get a summary for `year` but whose secretary has not written its text."""
    ids = summary_organization_ids(year=year)
    written = set(
        SummaryText.objects.filter(organization_id__in=ids, year=year).values_list(
            "organization_id", flat=True
        )
    )
    return list(
        Organization.objects.filter(pk__in=[i for i in ids if i not in written]).order_by("path")
    )


def committee_emails(organization_ids: Iterable[int]) -> dict[int, list[str]]:
    """E-mail addresses of the current committee members (书记, 委员 ...) per organization;
    members without an account or without an address are left out."""
    result: dict[int, list[str]] = {}
    rows = (
        Role.objects.current()
        .filter(
            organization_id__in=list(organization_ids),
            kind__in=COMMITTEE_KINDS,
            member__user__is_active=True,
        )
        .exclude(member__user__email="")
        .values_list("organization_id", "member__user__email")
        .order_by("organization_id", "member__user__email")
        .distinct()
    )
    for org_id, email in rows:
        result.setdefault(org_id, []).append(email)
    return result


def secretary_of(organization: Organization) -> tuple[str, str] | None:
    """(name, e-mail) of the organization's current 书记 (e-mail may be empty), else its
    副书记; None when it has neither."""
    rows = (
        Role.objects.current()
        .filter(organization=organization, kind__in=[RoleKind.SECRETARY, RoleKind.DEPUTY_SECRETARY])
        .order_by("-start", "pk")
        .values_list("kind", "member__name", "member__user__email")
    )
    by_kind: dict[str, tuple[str, str]] = {}
    for kind, name, email in rows:
        by_kind.setdefault(kind, (name, email or ""))
    return by_kind.get(RoleKind.SECRETARY) or by_kind.get(RoleKind.DEPUTY_SECRETARY)


def first_delivery_message_id(*, organization: Organization, year: int, kind: str) -> str:
    """The Message-ID of the first version sent, that a correction replies to (threading)."""
    return (
        Delivery.objects.filter(
            organization=organization, year=year, kind=kind, status=DeliveryStatus.SENT
        )
        .order_by("version")
        .values_list("message_id", flat=True)
        .first()
        or ""
    )


# Progress of a run started from the reviewer's page (kept in the cache, not the database:
# it is a view of work in flight, and the lasting record is the Delivery table).


def run_key(run_id: str, org_id: int | None = None) -> str:
    return f"reports:run:{run_id}" if org_id is None else f"reports:run:{run_id}:{org_id}"


@dataclass
class RunProgress:
    run_id: str
    root_id: int
    year: int
    send: bool
    org_ids: list[int]
    states: dict[int, dict]

    @property
    def total(self) -> int:
        return len(self.org_ids)

    @property
    def done(self) -> int:
        return sum(1 for s in self.states.values() if s["state"] in RUN_DONE_STATES)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.states.values() if s["state"] == "failed")

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.total

    @property
    def percent(self) -> int:
        return round(100 * (self.done + self.failed) / self.total) if self.total else 100


def run_progress(run_id: str) -> RunProgress | None:
    """The run's progress, or None (no run, or the cache (Redis) is unavailable)."""
    from redis.exceptions import RedisError

    if not run_id:
        return None
    try:
        meta = cache.get(run_key(run_id))
        if meta is None:
            return None
        keys = {run_key(run_id, org_id): org_id for org_id in meta["org_ids"]}
        found = cache.get_many(list(keys))
    except RedisError:
        return None
    return RunProgress(
        run_id=run_id,
        root_id=meta["root_id"],
        year=meta["year"],
        send=meta["send"],
        org_ids=meta["org_ids"],
        states={keys[key]: value for key, value in found.items()},
    )


def latest_versions(organization_ids: Iterable[int], *, year: int) -> dict[int, SummaryVersion]:
    """The newest version of each organization's summary for `year` (one query)."""
    result: dict[int, SummaryVersion] = {}
    for version in SummaryVersion.objects.filter(
        organization_id__in=list(organization_ids), year=year
    ).order_by("organization_id", "-number"):
        result.setdefault(version.organization_id, version)
    return result
