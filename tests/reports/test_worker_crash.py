"""A real Celery worker on Redis, killed in the middle of the annual batch: every
organization still gets exactly one e-mail (eager mode proves nothing about delivery).

How the task survives the kill: acks_late leaves the message unacknowledged in Redis while
it runs; SIGKILL gives the worker no chance to requeue it (nor to reject it: with the solo
pool there is no parent process left to notice), so it stays in Redis' `unacked` set until
the visibility timeout has passed and a live worker restores it to the queue. The task is
then run a second time, and the Delivery claim makes sure that no organization whose
e-mail had already gone out gets a second one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.celery import app as celery_app
from reports import selectors, tasks
from reports.models import Delivery, DeliveryAddresses, DeliveryStatus, SummaryText
from tests.reports.smtp import Mailbox, running_smtp_server

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

YEAR = 2025
ROOT = Path(settings.BASE_DIR)
CELERY = Path(sys.executable).with_name("celery")
TASK_DELAY = 0.5  # seconds per task, so that the kill lands mid-batch
VISIBILITY_TIMEOUT = 8  # seconds, above the longest task here; see worker_settings.py


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_env(*, queue: str, mailbox: Mailbox, media: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.reports.worker_settings",
        "PYTHONPATH": str(ROOT),
        # The worker must see the rows this transactional test commits: the test database.
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{mailbox.port}",
        "MEDIA_ROOT": str(media),
        "REPORTS_TEST_QUEUE": queue,
        "REPORTS_TEST_TASK_DELAY": str(TASK_DELAY),
        "REPORTS_TEST_VISIBILITY": str(VISIBILITY_TIMEOUT),
    }


def start_worker(name: str, *, queue: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "-n",
            f"{name}-{queue}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def forget_queue(queue: str) -> None:
    """Remove what this run left in Redis: its queue, its bindings, unacknowledged copies."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    for tag, raw in client.hscan_iter("unacked"):
        try:
            _message, exchange, routing_key = json.loads(raw)
        except (ValueError, TypeError):
            continue
        if queue in (exchange, routing_key):
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def queue_drained(queue: str) -> bool:
    """Nothing left to run: the queue is empty and no message of ours awaits an ack."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    if client.llen(queue):
        return False
    for _tag, raw in client.hscan_iter("unacked"):
        _message, exchange, routing_key = json.loads(raw)
        if queue in (exchange, routing_key):
            return False
    return True


TASK_LINE = re.compile(
    r"Task reports\.tasks\.generate_and_send\[([0-9a-f-]+)\] (received|succeeded)"
)


def task_ids(log: Path, event: str) -> set[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return {task_id for task_id, seen in TASK_LINE.findall(text) if seen == event}


def sent() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.SENT).count()


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(cast, tmp_path):
    DeliveryAddresses.objects.create(
        organization=cast.root,
        organization_dept_email="zzb@superior.example",
        propaganda_dept_email="xcb@superior.example",
    )
    DeliveryAddresses.objects.create(
        organization=cast.other_root, organization_dept_email="zzb@qt.example"
    )
    expected = selectors.summary_organization_ids(year=YEAR)
    assert len(expected) == 6  # JG, JG-01, both branches; QT, QT-01
    # Each secretary confirmed the text: a draft would not be sent.
    SummaryText.objects.bulk_create(
        SummaryText(organization_id=pk, year=YEAR, text="一、基本情况", confirmed_at=timezone.now())
        for pk in expected
    )
    queue = f"reports-crash-{uuid.uuid4().hex[:12]}"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    workers: list[subprocess.Popen] = []

    def logs() -> str:
        return "\n".join(
            log.read_text(errors="replace")[-4000:]
            for log in (first_log, second_log)
            if log.exists()
        )

    with running_smtp_server() as mailbox:
        env = worker_env(queue=queue, mailbox=mailbox, media=tmp_path / "media")
        try:
            celery_app.conf.task_always_eager = False
            # What beat does, on our own queue; the fan-out runs on the worker too.
            tasks.annual_fanout.apply_async(kwargs={"year": YEAR}, queue=queue)
            workers.append(start_worker("first", queue=queue, env=env, log=first_log))
            assert wait_until(lambda: sent() >= 1, timeout=60), logs()

            workers[0].kill()  # SIGKILL: no warm shutdown, no requeue, no ack
            workers[0].wait(timeout=10)
            at_kill = sent()
            assert 1 <= at_kill < len(expected), f"not mid-batch: {at_kill} sent"
            assert len(mailbox) == at_kill
            # The task the worker was running when it died (prefetch 1: only that one).
            killed = task_ids(first_log, "received") - task_ids(first_log, "succeeded")
            assert len(killed) == 1, logs()

            workers.append(start_worker("second", queue=queue, env=env, log=second_log))
            assert wait_until(lambda: sent() == len(expected), timeout=90), logs()
            assert wait_until(lambda: queue_drained(queue), timeout=30), logs()
            # Redis gave the killed task to the second worker once its visibility timed out.
            assert killed <= task_ids(second_log, "succeeded"), logs()
        finally:
            celery_app.conf.task_always_eager = True
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                worker.wait(timeout=10)
            forget_queue(queue)

        messages = mailbox.messages

    # Exactly one e-mail per organization, and each is the one its Delivery row records.
    per_org = Counter(
        part.get_filename()
        for m in messages
        for part in m.iter_attachments()
        if part.get_content_type() == "application/pdf"
    )
    assert per_org == Counter(
        {
            f"{name}{YEAR}年度学习情况报告.pdf": 1
            for name in ["机关党委", "第一党总支", "甲支部", "乙支部", "其他党委", "丙支部"]
        }
    ), logs()
    deliveries = Delivery.objects.filter(organization_id__in=expected)
    assert sorted(d.message_id for d in deliveries) == sorted(m["Message-ID"] for m in messages)
    assert all(d.status == DeliveryStatus.SENT for d in deliveries)
