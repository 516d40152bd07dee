"""Reads for plans, and who may file (备案) them.

Access follows branches.selectors: an organization's plan is read by whoever may read the
organization, written by its committee (organizations_editable_by), and filed or returned
by the superior: a user who writes or reviews the subtree of the organization's PARENT.
The organization's own committee therefore never files its own plan, and a root
organization's plan is filed by an administrator only.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from branches.models import Organization, User
from branches.selectors import members_editable_by, scope_for

from .models import (
    AnnualPlan,
    PersonalPlan,
    PersonalPlanStatus,
    PlanEvent,
    PlannedSession,
    PlanStatus,
)


def parent_path(organization: Organization) -> str:
    """The materialized path of the parent ('' for a root)."""
    return organization.path[: -Organization.steplen]


def can_file_plan(user: User, organization: Organization) -> bool:
    """Whether the user is the organization's superior: writes or reviews the parent's subtree."""
    scope = scope_for(user)
    if scope.is_admin:
        return True
    parent = parent_path(organization)
    if not parent:
        return False
    return scope.can_write_path(parent) or scope.can_review_path(parent)


def plan_for(*, organization: Organization, year: int) -> AnnualPlan | None:
    """The plan with everything its page shows, in a fixed number of queries."""
    return (
        AnnualPlan.objects.filter(organization=organization, year=year)
        .select_related("organization", "filed_by")
        .prefetch_related(
            "themes",
            "books",
            Prefetch(
                "planned_sessions",
                queryset=PlannedSession.objects.select_related("session").order_by(
                    "month", "type", "pk"
                ),
            ),
            Prefetch(
                "events", queryset=PlanEvent.objects.select_related("by").order_by("at", "pk")
            ),
        )
        .first()
    )


def plan_years(*, organization: Organization) -> list[tuple[int, str]]:
    """(year, status) of every plan the organization has, newest first."""
    return list(
        AnnualPlan.objects.filter(organization=organization)
        .order_by("-year")
        .values_list("year", "status")
    )


def plans_awaiting_filing(user: User) -> QuerySet[AnnualPlan]:
    """Submitted plans the user may file: those of organizations strictly below a subtree
    the user writes or reviews (their parent is then inside that subtree)."""
    scope = scope_for(user)
    qs = (
        AnnualPlan.objects.filter(status=PlanStatus.SUBMITTED)
        .select_related("organization")
        .annotate(
            n_sessions=Count("planned_sessions", distinct=True),
            n_books=Count("books", distinct=True),
        )
        .order_by("submitted_at", "organization__path")
    )
    if scope.is_admin:
        return qs
    roots = {*scope.write_paths, *scope.review_paths}
    if not roots:
        return qs.none()
    below = Q(pk__in=[])
    for path in roots:
        below |= Q(organization__path__startswith=path) & ~Q(organization__path=path)
    return qs.filter(below)


def personal_plans_for_secretary(user: User) -> QuerySet[PersonalPlan]:
    """Personal plans of the members the user manages, never the user's own: a secretary's
    plan is acknowledged by the level above."""
    scope = scope_for(user)
    qs = PersonalPlan.objects.filter(member__in=members_editable_by(user)).select_related(
        "member", "acknowledged_by"
    )
    if scope.member_id is not None:
        qs = qs.exclude(member_id=scope.member_id)
    return qs


def personal_plans_awaiting(user: User) -> QuerySet[PersonalPlan]:
    return (
        personal_plans_for_secretary(user)
        .filter(status=PersonalPlanStatus.SUBMITTED)
        .order_by("-year", "submitted_at")
    )


def personal_plans_acknowledged(user: User, *, limit: int = 20) -> QuerySet[PersonalPlan]:
    return (
        personal_plans_for_secretary(user)
        .filter(status=PersonalPlanStatus.ACKNOWLEDGED)
        .order_by("-acknowledged_at")[:limit]
    )
