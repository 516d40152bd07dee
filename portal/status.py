"""What the operations status page reads (/ops/status/): beat's last tick, each Celery
queue's length and oldest task, and the dashboard-refresh outbox. Reads only; each part
reports an error of its own instead of failing the page (the page matters most when
something is down).

Beat: portal/celery.py records a timestamp in the cache (Redis) after every scheduler pass
(django-celery-beat's DatabaseScheduler ticks at least every 5 s). A task's age: every
message carries the time it was published in the header `portal_sent_at` (portal/celery.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

BEAT_TICK_KEY = "portal:beat:last_tick"
SENT_AT_HEADER = "portal_sent_at"
# Beat is late when it has not ticked for this long (Celery's own beat ping uses 60 s too).
BEAT_LATE_SECONDS = 60
# kombu's Redis layout: one list per queue and priority step; priority 0 is the bare name,
# messages are pushed on the left and taken from the right (the oldest is at index -1).
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)
# The queue every task went to before the queues were split (docker-compose.yml).
LEGACY_QUEUE = "celery"


def beat_tick_record() -> None:
    """Called by beat after each scheduler pass."""
    cache.set(BEAT_TICK_KEY, time.time(), timeout=None)


@dataclass(frozen=True)
class BeatStatus:
    last_tick: dt.datetime | None
    age_seconds: float | None
    late: bool
    error: str = ""


@dataclass(frozen=True)
class QueueStatus:
    name: str
    length: int
    oldest_age_seconds: float | None
    consumers: list[str]  # the worker nodes that answered, consuming this queue


@dataclass(frozen=True)
class QueuesStatus:
    queues: list[QueueStatus]
    unacked: int  # taken by a worker, not yet acknowledged (running or about to be retried)
    error: str = ""
    configured: bool = True


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    oldest_age_seconds: float | None


def beat_status() -> BeatStatus:
    try:
        stamp = cache.get(BEAT_TICK_KEY)
    except Exception as exc:  # the cache is Redis: down means unknown, not "beat dead"
        logger.warning("status: cannot read beat's last tick", exc_info=True)
        return BeatStatus(None, None, True, error=type(exc).__name__)
    if stamp is None:
        return BeatStatus(None, None, True)
    age = max(0.0, time.time() - float(stamp))
    return BeatStatus(
        last_tick=dt.datetime.fromtimestamp(float(stamp), tz=dt.UTC),
        age_seconds=age,
        late=age > BEAT_LATE_SECONDS,
    )


def queue_names() -> list[str]:
    """The queues tasks are routed to (settings), and the legacy one."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed, LEGACY_QUEUE})


def _sent_at(raw: bytes | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(json.loads(raw)["headers"][SENT_AT_HEADER])
    except (ValueError, KeyError, TypeError):
        return None  # published by something that does not stamp its messages


def queues_status() -> QueuesStatus:
    broker = settings.CELERY_BROKER_URL or ""
    if not broker.startswith(("redis://", "rediss://")):
        return QueuesStatus([], 0, configured=False)
    import redis

    try:
        client = redis.Redis.from_url(broker, socket_connect_timeout=2, socket_timeout=2)
        names = queue_names()
        keys = [
            (name, name if pri == 0 else f"{name}{_PRIORITY_SEPARATOR}{pri}")
            for name in names
            for pri in _PRIORITY_STEPS
        ]
        with client.pipeline(transaction=False) as pipe:
            for _name, key in keys:
                pipe.llen(key)
                pipe.lindex(key, -1)
            pipe.hlen("unacked")
            replies = pipe.execute()
    except Exception as exc:
        logger.warning("status: cannot read the Celery queues", exc_info=True)
        return QueuesStatus([], 0, error=type(exc).__name__)
    consumers = queue_consumers()
    now = time.time()
    lengths = dict.fromkeys(names, 0)
    oldest: dict[str, float] = {}
    for i, (name, _key) in enumerate(keys):
        lengths[name] += int(replies[2 * i])
        sent = _sent_at(replies[2 * i + 1])
        if sent is not None:
            oldest[name] = min(oldest.get(name, sent), sent)
    return QueuesStatus(
        queues=[
            QueueStatus(
                name=name,
                length=lengths[name],
                oldest_age_seconds=max(0.0, now - oldest[name]) if name in oldest else None,
                consumers=consumers.get(name, []),
            )
            for name in names
        ],
        unacked=int(replies[-1]),
    )


# How long the page waits for the workers to say which queues they consume.
CONSUMERS_TIMEOUT_SECONDS = 1.0


def queue_consumers() -> dict[str, list[str]]:
    """queue -> the worker nodes consuming it, from Celery's remote control (a broadcast
    that every live worker answers within the timeout; beat ignores it)."""
    from portal.celery import app

    try:
        replies = app.control.inspect(timeout=CONSUMERS_TIMEOUT_SECONDS).active_queues() or {}
    except Exception:
        logger.warning("status: cannot ask the workers for their queues", exc_info=True)
        return {}
    consumers: dict[str, list[str]] = {}
    for node, queues in sorted(replies.items()):
        for queue in queues or []:
            consumers.setdefault(queue["name"], []).append(node)
    return consumers


def outbox_status() -> OutboxStatus:
    from django.db.models import Count, Min

    from assessments.models import PendingRefresh

    row = PendingRefresh.objects.aggregate(pending=Count("id"), oldest=Min("created_at"))
    oldest = row["oldest"]
    return OutboxStatus(
        pending=row["pending"],
        oldest_age_seconds=(timezone.now() - oldest).total_seconds() if oldest else None,
    )
