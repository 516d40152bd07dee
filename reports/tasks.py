"""Celery tasks of the annual summary: thin wrappers that take ids and call services.

Every task is idempotent (a version is only made when the PDF changed; an e-mail is claimed
in the Delivery table before it is sent), which is what makes the broker settings safe:
acks_late + reject_on_worker_lost hand a killed worker's task to another worker, and a
second run of a task that had in fact finished sends nothing twice.
"""

from __future__ import annotations

import time

from celery import group, shared_task
from django.conf import settings

from branches.models import Organization

from . import selectors, services

# Exponential backoff on a flaky mail server: about 1, 2, 4, 8, 16 minutes (jittered so that
# a batch of failures does not come back at once), then the task fails and says so.
RETRY_OPTIONS = {
    "autoretry_for": services.RETRYABLE_ERRORS,
    "retry_backoff": 60,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 5,
}


def _test_delay() -> None:
    # Test-only hook: the worker-crash test slows each task down so that it can kill the
    # worker in the middle of a batch. The setting is absent (no delay) everywhere else.
    delay = float(getattr(settings, "REPORTS_TEST_TASK_DELAY", 0) or 0)
    if delay:
        time.sleep(delay)


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY_OPTIONS
)
def generate_and_send(
    self,
    org_id: int,
    year: int,
    send: bool = True,
    run_id: str | None = None,
    reason: str = "",
) -> str:
    """Render one organization's summary of `year` and, with `send`, e-mail it."""
    _test_delay()
    organization = Organization.objects.filter(pk=org_id).first()
    if organization is None:  # deleted since the run was planned
        services.run_mark(run_id=run_id, org_id=org_id, state="skipped")
        return "skipped"
    try:
        outcome = services.summary_generate_and_send(
            organization=organization, year=year, send=send, reason=reason
        )
    except services.NotFinal as exc:
        # A known state, not a failure to retry: the report is still a draft.
        services.run_mark(run_id=run_id, org_id=org_id, state="draft", error=str(exc))
        return "draft"
    except Exception as exc:
        retrying = (
            isinstance(exc, services.RETRYABLE_ERRORS) and self.request.retries < self.max_retries
        )
        services.run_mark(
            run_id=run_id,
            org_id=org_id,
            state="retrying" if retrying else "failed",
            error=str(exc) or type(exc).__name__,
        )
        raise
    services.run_mark(run_id=run_id, org_id=org_id, state=outcome.status)
    return outcome.status


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def annual_fanout(
    year: int | None = None,
    root_id: int | None = None,
    send: bool = True,
    run_id: str | None = None,
    reason: str = "",
) -> int:
    """One generate_and_send task per organization (under one root, or under every root),
    so that all workers share the batch. The beat schedule calls it with no arguments."""
    year = year or services.last_year()
    run = selectors.run_progress(run_id) if run_id else None
    org_ids = run.org_ids if run else selectors.summary_organization_ids(year=year, root_id=root_id)
    if org_ids:
        group(
            generate_and_send.si(org_id, year, send, run_id, reason) for org_id in org_ids
        ).apply_async()
    return len(org_ids)


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY_OPTIONS
)
def remind_missing_texts(self, year: int | None = None) -> int:
    """E-mail the committee members whose summary text for last year is still missing."""
    return len(services.text_reminders_send(year=year or services.last_year()))


@shared_task(acks_late=True)
def send_weekly_digests() -> int:
    """Monday morning: each secretary's and reviewer's digest (one per user and week)."""
    from .digests import send_weekly_digests as send

    return send()
