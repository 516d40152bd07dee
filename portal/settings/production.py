"""Production: every secret from the environment, HTTPS everywhere, `check --deploy` clean."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import database_config, env, replica_databases

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# Required here (no SQLite fallback); any URL base.database_config accepts, pooled on PostgreSQL.
DATABASES = {"default": database_config(env("DATABASE_URL"))}
# The read replica, when DATABASE_REPLICA_URL is set (base.py, docs/scaling.md).
DATABASES.update(replica_databases(DATABASES["default"]))

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The health check is probed over plain HTTP inside the deployment network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
