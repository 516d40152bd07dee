"""Test settings: the real services of the machine, PostgreSQL and Redis."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import env

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/xuexi"),
}
# Test runs open and close many connections; keep the pool out of the way.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# One test database per run, so that runs side by side (two checkouts, CI and a developer)
# never drop each other's database.
TEST_DATABASE_NAME = env("TEST_DATABASE_NAME", default=f"test_xuexi_{os.getpid()}")
DATABASES["default"]["TEST"] = {"NAME": TEST_DATABASE_NAME}
# No "replica" alias in tests, even with DATABASE_REPLICA_URL set: a test mirror is a second
# connection that cannot see a test's uncommitted rows, and pytest-django refuses queries to
# aliases a test did not ask for. Without the alias the router leaves everything on "default";
# tests/portal/test_replica.py runs the router against a real standby of its own.

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# Unit tests run tasks in-process; tests marked `worker` start a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
# No queue routes in tests: a test that starts a real worker picks the queue of its run
# (tests/reports/worker_settings.py sets CELERY_TASK_DEFAULT_QUEUE, and the tasks its worker
# fans out must land there too). tests/portal/test_queues.py checks the production routes.
CELERY_TASK_ROUTES = {}
# Keys prefixed by the test database's name: a test run never reads what an earlier run
# (whose rows had the same ids) or another run at the same time cached.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": TEST_DATABASE_NAME,
    }
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECRET_KEY = "test-secret-key-not-for-production"
DEBUG = False
# Serve static files from the app folders without a collectstatic run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
