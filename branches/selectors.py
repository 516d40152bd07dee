"""Reads, and the one place that decides who may see and change what.

A user's scope is a set of subtree roots (materialized paths): reviewers read the subtree of
the organizations they review; committee members (书记, 委员 ...) read and write the subtree
of the organization where they hold the role; a plain member sees only their own record.
Every view goes through these selectors; none fetches by primary key around them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import COMMITTEE_KINDS, Member, Membership, Organization, Role, User, on_date_q


@dataclass(frozen=True)
class Scope:
    is_admin: bool = False
    read_paths: tuple[str, ...] = ()
    write_paths: tuple[str, ...] = ()
    # Subtrees the user reviews (审阅人): reviewers, not secretaries, unlock attendance.
    review_paths: tuple[str, ...] = ()
    member_id: int | None = None
    # Organizations where the user holds a committee role today (for the home page).
    committee_org_ids: tuple[int, ...] = field(default=())

    def can_read_path(self, path: str) -> bool:
        return self.is_admin or any(path.startswith(p) for p in self.read_paths)

    def can_write_path(self, path: str) -> bool:
        return self.is_admin or any(path.startswith(p) for p in self.write_paths)

    def can_review_path(self, path: str) -> bool:
        return self.is_admin or any(path.startswith(p) for p in self.review_paths)

    @property
    def is_staff_like(self) -> bool:
        """May see organization pages at all (admin, reviewer or committee member)."""
        return self.is_admin or bool(self.read_paths)


_SCOPE_ATTR = "_xuexi_scope"


def scope_for(user: User) -> Scope:
    """The user's scope, computed once per request (two small queries) and cached on the user."""
    cached = getattr(user, _SCOPE_ATTR, None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        scope = Scope()
    elif user.is_superuser:
        scope = Scope(is_admin=True, member_id=_member_id(user))
    else:
        member_id = _member_id(user)
        reviewer_paths = list(
            Organization.objects.filter(reviewers__user=user).values_list("path", flat=True)
        )
        committee = []
        if member_id is not None:
            committee = list(
                Role.objects.current()
                .filter(member_id=member_id, kind__in=COMMITTEE_KINDS)
                .values_list("organization_id", "organization__path")
            )
        write_paths = _minimal_prefixes(p for _, p in committee)
        scope = Scope(
            read_paths=_minimal_prefixes([*reviewer_paths, *write_paths]),
            write_paths=write_paths,
            review_paths=_minimal_prefixes(reviewer_paths),
            member_id=member_id,
            committee_org_ids=tuple(sorted({org_id for org_id, _ in committee})),
        )
    setattr(user, _SCOPE_ATTR, scope)
    return scope


def _member_id(user: User) -> int | None:
    if user.pk is None:  # an unsaved stand-in, such as the command line's importer
        return None
    return Member.objects.filter(user=user).values_list("pk", flat=True).first()


def _minimal_prefixes(paths) -> tuple[str, ...]:
    """Drop paths already covered by a shorter prefix, so filters stay small."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return tuple(kept)


def _paths_q(paths: tuple[str, ...], prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def organizations_visible_to(user: User) -> QuerySet[Organization]:
    scope = scope_for(user)
    qs = Organization.objects.order_by("path")
    if scope.is_admin:
        return qs
    if not scope.read_paths:
        return qs.none()
    return qs.filter(_paths_q(scope.read_paths))


def organizations_editable_by(user: User) -> QuerySet[Organization]:
    scope = scope_for(user)
    qs = Organization.objects.order_by("path")
    if scope.is_admin:
        return qs
    if not scope.write_paths:
        return qs.none()
    return qs.filter(_paths_q(scope.write_paths))


def organizations_movable_by(user: User) -> QuerySet[Organization]:
    """Organizations the user may move: taking one out of its parent needs the parent too,
    so below the root of each write scope (any non-root for a superuser)."""
    scope = scope_for(user)
    qs = Organization.objects.filter(depth__gt=1).order_by("path")
    if scope.is_admin:
        return qs
    q = Q(pk__in=[])
    for path in scope.write_paths:
        q |= Q(path__startswith=path) & ~Q(path=path)
    return qs.filter(q)


def _org_membership_exists(paths: tuple[str, ...], *, current_only: bool) -> Exists:
    memberships = Membership.objects.filter(member=OuterRef("pk")).filter(
        _paths_q(paths, "organization__")
    )
    if current_only:
        memberships = memberships.filter(on_date_q(timezone.localdate()))
    return Exists(memberships)


def members_visible_to(user: User) -> QuerySet[Member]:
    """Members the user may read: anyone ever on a roll in their read scope, and themselves.

    Former members stay visible so that old sessions can still be read.
    """
    scope = scope_for(user)
    qs = Member.objects.all()
    if scope.is_admin:
        return qs
    own = Q(pk=scope.member_id) if scope.member_id is not None else Q(pk__in=[])
    if not scope.read_paths:
        return qs.filter(own)
    return qs.filter(own | Q(_org_membership_exists(scope.read_paths, current_only=False)))


def members_editable_by(user: User) -> QuerySet[Member]:
    """Members the user may change: those currently on a roll in their write scope."""
    scope = scope_for(user)
    qs = Member.objects.all()
    if scope.is_admin:
        return qs
    if not scope.write_paths:
        return qs.none()
    return qs.filter(_org_membership_exists(scope.write_paths, current_only=True))


def members_enrolled_during(
    *, organization: Organization, first: dt.date, last: dt.date
) -> QuerySet[Member]:
    """Members on a roll of the organization's subtree on any day of [first, last]."""
    enrolled = Membership.objects.filter(
        member=OuterRef("pk"), organization__path__startswith=organization.path
    ).filter(Q(start__isnull=True) | Q(start__lte=last), Q(end__isnull=True) | Q(end__gt=first))
    return Member.objects.filter(Exists(enrolled))


def roll_on(*, organization: Organization, day: dt.date) -> QuerySet[Membership]:
    """Who was on the roll of the organization (its whole subtree) on `day`."""
    return (
        Membership.objects.filter(on_date_q(day))
        .filter(organization__path__startswith=organization.path)
        .select_related("member", "organization")
        .order_by("organization__path", "member__member_no")
    )


def member_counts(*, organizations: list[Organization], day: dt.date) -> dict[int, int]:
    """Members on the roll of each organization's subtree on `day`, in one query.

    The database counts members per organization; the roll-up to every ancestor is done
    in Python by walking each path's prefixes (depth steps per row, not rows x orgs).
    """
    if not organizations:
        return {}
    roots = _minimal_prefixes(o.path for o in organizations)
    rows = (
        Membership.objects.filter(on_date_q(day))
        .filter(_paths_q(roots, "organization__"))
        .values("organization__path")
        .annotate(n=Count("pk"))
    )
    step = Organization.steplen
    rolled: Counter[str] = Counter()
    for row in rows:
        path = row["organization__path"]
        for end in range(step, len(path) + 1, step):
            rolled[path[:end]] += row["n"]
    return {org.pk: rolled.get(org.path, 0) for org in organizations}
