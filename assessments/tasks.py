from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from branches.models import Organization

from .stats import affected_roots, refresh_subtree

# A database outage must not lose a refresh: retry with backoff (the nightly refresh_all is
# the backstop if the outage outlasts the retries).
RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "max_retries": 12,
}


@shared_task(acks_late=True, **RETRY)
def refresh_after_attendance(session_ids: list[int]) -> int:
    """Refresh the dashboard tables of the organizations whose attendance changed.
    Idempotent: it recomputes from the records, so a retry or a duplicate does no harm."""
    n = 0
    for year, org_ids in affected_roots(session_ids).items():
        for org in Organization.objects.filter(pk__in=org_ids):
            refresh_subtree(root=org, year=year)
            n += 1
    return n


@shared_task(acks_late=True, **RETRY)
def refresh_all(year: int | None = None) -> int:
    """Nightly: every root's subtree for the year (default: this year)."""
    year = year or timezone.localdate().year
    roots = list(Organization.objects.get_root_nodes())
    for root in roots:
        refresh_subtree(root=root, year=year)
    return len(roots)
