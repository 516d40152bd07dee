"""Celery's three queues: which task goes where (what docs/scaling.md and the README say),
that docker-compose.yml has a consumer for each, and that a real worker consuming only
"reports" leaves an interactive task alone.

The routes checked are the production ones (portal/settings/base.py, as production.py
inherits them); test settings route nothing, see portal/settings/test.py. The worker test
runs probe workers (the app below: the real task names, bodies that only record where they
ran) on Redis db 14 with queue names unique to the run, started as compose starts them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from celery import Celery

from tests.portal import compose
from tests.portal.production import production_app

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
BROKER = os.environ.get("QUEUES_TEST_BROKER", "redis://127.0.0.1:6379/14")

# The routing table of docs/scaling.md (and the README's deployment section).
EXPECTED = {
    "assessments.tasks.refresh_after_attendance": "interactive",
    "assessments.tasks.refresh_all": "interactive",  # not routed: the default queue
    "branches.tasks.roll_count": "interactive",
    "reports.tasks.generate_and_send": "reports",
    "reports.tasks.annual_fanout": "reports",
    "reports.tasks.remind_missing_texts": "reports",
    "reports.tasks.send_weekly_digests": "digests",
    "reports.tasks.send_monthly_digest": "digests",  # any future digest task
    "celery.chord_unlock": "interactive",
}
QUEUES = {"interactive", "reports", "digests"}


# --- the probe app, imported by the worker subprocesses as tests.portal.test_queues:probe ----
# In the test process it only sends (by task name); only the workers (QUEUES_TEST_PROBE=1)
# register the recording bodies, so that they never clash with the real shared tasks.

probe = Celery("queue-probe", broker=BROKER, set_as_current=False)
probe.conf.update(
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    worker_prefetch_multiplier=1,
    worker_enable_remote_control=False,  # no pidbox queue left behind in Redis
)


def _record(self, key: str) -> None:
    redis.Redis.from_url(BROKER).rpush(
        key,
        json.dumps(
            {
                "task": self.name,
                "worker": self.request.hostname,
                "queue": self.request.delivery_info.get("routing_key"),
            }
        ),
    )


if os.environ.get("QUEUES_TEST_PROBE") == "1":
    for _name in EXPECTED:
        if not _name.startswith("celery."):
            probe.task(name=_name, bind=True)(_record)


# --- helpers ---------------------------------------------------------------------------------


def queue_of(app: Celery, name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def compose_queues() -> dict[str, set[str]]:
    """service -> the queues its `celery worker --queues=...` consumes with the defaults."""
    return compose.worker_queues()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- routing ---------------------------------------------------------------------------------


def test_each_task_goes_to_its_queue(monkeypatch):
    app = production_app(monkeypatch)
    assert app.conf.task_default_queue == "interactive"
    assert {name: queue_of(app, name) for name in EXPECTED} == EXPECTED


def test_every_task_of_the_portal_lands_in_a_queue_that_compose_consumes(monkeypatch):
    from portal.celery import app as portal_app

    routes = production_app(monkeypatch)
    portal_app.loader.import_default_modules()
    names = sorted(n for n in portal_app.tasks if not n.startswith("celery."))
    assert "reports.tasks.generate_and_send" in names and "branches.tasks.roll_count" in names

    consumers = compose_queues()
    assert consumers["worker-reports"] == {"reports"}  # reports only: scaled for January
    assert {"interactive", "digests"} <= consumers["worker"]
    assert "reports" not in consumers["worker"]
    consumed = set().union(*consumers.values())
    unconsumed = {n: queue_of(routes, n) for n in names if queue_of(routes, n) not in consumed}
    assert not unconsumed, f"no compose service consumes the queue of {unconsumed}"
    assert {queue_of(routes, n) for n in names} <= QUEUES


def test_compose_runs_exactly_one_beat():
    services = compose.load()["services"]
    beats = [n for n in services if "beat" in compose.command(n, {"SECRET_KEY": "x"})]
    assert beats == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1


# --- a real worker per compose service -------------------------------------------------------


def start_worker(name: str, queues: list[str], log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    env["QUEUES_TEST_BROKER"] = BROKER
    env["QUEUES_TEST_PROBE"] = "1"
    return subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "tests.portal.test_queues:probe",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            f"--queues={','.join(queues)}",
            f"--hostname={name}@%h",
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


@pytest.mark.worker
def test_a_reports_worker_takes_no_interactive_task(monkeypatch, tmp_path):
    routes = production_app(monkeypatch)
    consumers = compose_queues()
    run = uuid.uuid4().hex[:12]
    client = redis.Redis.from_url(BROKER)
    ran_key = f"queues-test-ran-{run}"

    def unique(queue: str) -> str:
        return f"{queue}-{run}"

    def send(name: str) -> None:
        # The production router decides the queue; the run's suffix keeps runs apart.
        probe.send_task(name, args=[ran_key], queue=unique(queue_of(routes, name)))

    def ran() -> dict[str, dict]:
        return {r["task"]: r for r in map(json.loads, client.lrange(ran_key, 0, -1))}

    logs = [tmp_path / "reports.log", tmp_path / "worker.log"]

    def log_text() -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in logs if p.exists())

    workers: list[subprocess.Popen] = []
    try:
        send("assessments.tasks.refresh_after_attendance")
        send("reports.tasks.send_weekly_digests")
        send("reports.tasks.generate_and_send")
        send("reports.tasks.annual_fanout")
        # The worker-reports service, alone.
        reports_queues = [unique(q) for q in consumers["worker-reports"]]
        workers.append(start_worker(f"reports-{run}", reports_queues, logs[0]))
        assert wait_until(
            lambda: (
                {"reports.tasks.generate_and_send", "reports.tasks.annual_fanout"} <= set(ran())
            ),
            timeout=30,
        ), log_text()
        # It has worked through its queue; the interactive and digest tasks still wait.
        assert set(ran()) == {"reports.tasks.generate_and_send", "reports.tasks.annual_fanout"}
        assert client.llen(unique("interactive")) == 1
        assert client.llen(unique("digests")) == 1

        # The worker service takes them.
        workers.append(
            start_worker(f"worker-{run}", [unique(q) for q in consumers["worker"]], logs[1])
        )
        assert wait_until(lambda: len(ran()) == 4, timeout=30), log_text()
        where = {task: r["worker"].split("@")[0] for task, r in ran().items()}
        assert where == {
            "reports.tasks.generate_and_send": f"reports-{run}",
            "reports.tasks.annual_fanout": f"reports-{run}",
            "assessments.tasks.refresh_after_attendance": f"worker-{run}",
            "reports.tasks.send_weekly_digests": f"worker-{run}",
        }
        assert ran()["reports.tasks.send_weekly_digests"]["queue"] == unique("digests")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
        for key in client.scan_iter(match=f"*{run}*"):
            client.delete(key)
