"""The Celery app. Tasks are routed to three queues by CELERY_TASK_ROUTES in
portal/settings/base.py: "interactive" (the default queue), "reports" and "digests"; each
worker consumes the queues given by `--queues` (docker-compose.yml: `worker` takes
interactive,digests; `worker-reports` takes reports and is the one to scale). See
docs/scaling.md."""

from __future__ import annotations

import logging
import os
import time

from celery import Celery
from celery.signals import beat_init, before_task_publish

from .status import SENT_AT_HEADER, beat_tick_record

logger = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def _stamp_sent_at(headers: dict | None = None, **kwargs: object) -> None:
    """The time a task was queued, for the status page's "oldest task" of each queue."""
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


@beat_init.connect
def _record_ticks(sender: object, **kwargs: object) -> None:
    """After every pass of beat's scheduler, note the time (the status page shows it).

    A wrapper around the scheduler's own tick rather than a subclass, so that the scheduler
    stays the one docker-compose.yml and the settings name (DatabaseScheduler)."""
    scheduler = sender.scheduler  # type: ignore[attr-defined]
    tick = scheduler.tick

    def tick_and_record(*args: object, **kw: object) -> float:
        interval = tick(*args, **kw)
        try:
            beat_tick_record()
        except Exception:  # Redis down: beat keeps scheduling; the page shows it late
            logger.debug("could not record beat's tick", exc_info=True)
        return interval

    scheduler.tick = tick_and_record
