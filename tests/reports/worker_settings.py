"""Settings of the real Celery worker that tests/reports/test_worker_crash.py starts in a
subprocess: the test settings, pointed by environment variables at the test's database,
Redis queue, SMTP server and media folder."""

from __future__ import annotations

from portal.settings.test import *  # noqa: F403
from portal.settings.test import env

# A real worker on Redis, not eager mode.
CELERY_TASK_ALWAYS_EAGER = False
# A queue of its own per test run, so that no other worker or test run takes our tasks.
CELERY_TASK_DEFAULT_QUEUE = env("REPORTS_TEST_QUEUE")
# Redis hands an unacknowledged task to another worker only after the visibility timeout.
# Production keeps it above the longest task (3600 s): a shorter one would hand a task that
# is still running to a second worker. The test must see a killed worker's task come back
# within seconds, and its tasks take a few seconds at most. A live worker looks for such
# tasks every unacked_restore_interval * unacked_restore_throttle seconds (10 * 10 by
# default): here every second.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("REPORTS_TEST_VISIBILITY", 8),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Django's own SMTP backend, towards the test's aiosmtpd server (test.py uses locmem).
EMAIL_CONFIG = env.email_url("EMAIL_URL")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = 10
MEDIA_ROOT = env("MEDIA_ROOT")

# Slow each task down so that the test can kill the worker in the middle of the batch.
REPORTS_TEST_TASK_DELAY = env.float("REPORTS_TEST_TASK_DELAY", 0.0)
# A claim left by the killed worker is taken over after this (production: 10 minutes).
REPORTS_DELIVERY_LEASE_SECONDS = 3
