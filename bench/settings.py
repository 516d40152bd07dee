"""Settings of `make bench`: production settings, with only what a benchmark on one machine needs.

Everything else (DEBUG off, the psycopg pool, whitenoise's manifest storage, Redis cache and
broker) is exactly portal.settings.production. The differences:

- STATIC_ROOT and MEDIA_ROOT point into the bench's scratch folder (BENCH_WORKDIR), so the
  run leaves nothing in the checkout;
- Celery keeps the production queues (interactive, reports, digests) on the bench's own
  Redis database (BENCH_REDIS_URL, db 12 by default), which run.py empties before and after;
- the test Client's host is allowed, for the queries-per-request count.
"""

from __future__ import annotations

import os
from pathlib import Path

from portal.settings.production import *  # noqa: F403
from portal.settings.production import ALLOWED_HOSTS

_work = Path(os.environ.get("BENCH_WORKDIR", "/tmp/xuexi-bench"))
# collectstatic (with whitenoise's compression) takes a while: one folder for every run.
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", str(_work.parent / "xuexi-bench-static")))
MEDIA_ROOT = _work / "media"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
