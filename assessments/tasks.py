from __future__ import annotations

import datetime as dt

from celery import shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from branches.models import Organization

from .models import PendingRefresh
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
    started = timezone.now()
    n = 0
    for year, org_ids in affected_roots(session_ids).items():
        for org in Organization.objects.filter(pk__in=org_ids):
            refresh_subtree(root=org, year=year)
            n += 1
    # Covered: the outbox rows written before this refresh began (a later change of the
    # same session has its own row and its own task).
    PendingRefresh.objects.filter(session_id__in=session_ids, created_at__lte=started).delete()
    return n


@shared_task(acks_late=True, **RETRY)
def drain_pending_refreshes(min_age_seconds: int = 120) -> int:
    """Queue the refreshes whose task never ran (Redis was down when the attendance was
    saved): every few minutes from beat, and when a worker starts. A duplicate refresh is
    harmless (it recomputes from the records)."""
    cutoff = timezone.now() - dt.timedelta(seconds=min_age_seconds)
    ids = sorted(
        set(
            PendingRefresh.objects.filter(created_at__lte=cutoff).values_list(
                "session_id", flat=True
            )
        )
    )
    for i in range(0, len(ids), 500):
        refresh_after_attendance.delay(ids[i : i + 500])
    return len(ids)


@shared_task(acks_late=True, **RETRY)
def refresh_all(year: int | None = None) -> int:
    """Nightly: every root's subtree for the year (default: this year)."""
    year = year or timezone.localdate().year
    roots = list(Organization.objects.get_root_nodes())
    for root in roots:
        refresh_subtree(root=root, year=year)
    return len(roots)


@worker_ready.connect
def _drain_at_start(sender=None, **kwargs) -> None:
    """A worker coming up (after Redis or the worker was down) picks up what was missed."""
    try:
        drain_pending_refreshes.delay(0)
    except Exception:  # noqa: BLE001 - the periodic drain will do it
        import logging

        logging.getLogger(__name__).warning("could not queue the pending refreshes", exc_info=True)
