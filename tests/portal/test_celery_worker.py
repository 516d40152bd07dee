"""A real Celery worker on Redis: eager mode proves nothing about delivery."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from branches.tasks import roll_count
from portal.celery import app

pytestmark = pytest.mark.worker


@pytest.fixture
def live_worker(transactional_db):
    app.conf.task_always_eager = False
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10
        ) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True


def test_a_task_goes_through_redis_to_a_worker_that_reads_the_database(cast, live_worker):
    assert app.connection().as_uri().startswith("redis://")
    result = roll_count.delay("JG-01", "2025-06-01")
    # The worker thread has its own database connection: it sees only committed rows.
    assert result.get(timeout=20) == 4
    assert result.successful()
