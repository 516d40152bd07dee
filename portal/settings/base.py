"""Settings shared by every environment; everything variable comes from the environment.

With nothing set, the embedded default runs: a SQLite file in the project folder and
Celery in eager mode, so `make run` needs nothing but Python.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-only-for-the-embedded-default")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "simple_history",
    "django_celery_beat",
    "branches",
    "studyplans",
    "attendance",
    "assessments",
    "reports",
]

MIDDLEWARE = [
    # First: every response, redirects and errors included, carries the request id.
    "portal.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs a log-in unless it says otherwise (@login_not_required: the health
    # check, the QR check-in, the log-in page): a new view cannot be left open by omission.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "branches.middleware.ForcePasswordChangeMiddleware",
    # Axes must come last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "branches.context_processors.nav",
                "portal.context_processors.todo",
            ],
        },
    },
]

POSTGRESQL = "django.db.backends.postgresql"


def database_config(url: str, *, pool_timeout: float | None = None) -> dict:
    """One DATABASES entry from a URL (postgres://, postgresql://, pgsql://, psql://,
    sqlite:///path). PostgreSQL gets psycopg 3's pool (Django's built-in one; persistent
    connections must stay off with it); other engines take no pool option at all. A short
    wait for a pooled connection: during a database outage requests fail in seconds instead
    of holding every worker for 30 s (measured in make drills)."""
    config = env.db_url_config(url)
    if config["ENGINE"] == POSTGRESQL:
        if pool_timeout is None:
            pool_timeout = env.float("DATABASE_POOL_TIMEOUT", default=2.0)
        config.setdefault("OPTIONS", {})["pool"] = (
            {"timeout": pool_timeout} if env.bool("DATABASE_POOL", default=True) else False
        )
        config["CONN_MAX_AGE"] = 0
    return config


DATABASES = {
    "default": database_config(env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")),
}


# Read replica (docs/scaling.md): with DATABASE_REPLICA_URL, the reads of the views wrapped in
# portal.db_router.use_replica go to a PostgreSQL streaming replica; writes, reads in
# transactions and a user's reads right after their own writes stay on "default". Unset, the
# router answers nothing and everything uses "default" as before.
def replica_databases(primary: dict) -> dict:
    """{"replica": ...} from DATABASE_REPLICA_URL, pooled like the primary; {} when unset."""
    url = env("DATABASE_REPLICA_URL", default="")
    if not url:
        return {}
    # A replica that is down costs a request this long, then reads fall back to the
    # primary for DATABASE_REPLICA_RETRY_SECONDS.
    replica = database_config(
        url, pool_timeout=env.float("DATABASE_REPLICA_POOL_TIMEOUT", default=5.0)
    )
    # Should a test run ever see this alias, it is the test database, not a second one.
    replica["TEST"] = {"MIRROR": "default"}
    return {"replica": replica}


DATABASES.update(replica_databases(DATABASES["default"]))
DATABASE_ROUTERS = ["portal.db_router.ReplicaRouter"]
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=10)
DATABASE_REPLICA_RETRY_SECONDS = env.int("DATABASE_REPLICA_RETRY_SECONDS", default=30)
# Before the session middleware, so that it sees the session being saved.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "portal.db_router.ReadYourWritesMiddleware",
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "branches.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed log-ins: lock a username+address pair after 5 failures for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic writes here (the image does it at build time, see the Dockerfile).
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Workbooks larger than this are refused before openpyxl reads them.
LEDGER_MAX_UPLOAD_BYTES = env.int("LEDGER_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
# Rows per sheet of a ledger workbook; a larger sheet is refused before it is parsed.
LEDGER_MAX_ROWS_PER_SHEET = env.int("LEDGER_MAX_ROWS_PER_SHEET", default=200_000)
# Uploaded workbooks waiting for confirmation after the import preview (removed after 24 h).
LEDGER_UPLOAD_DIR = env.str("LEDGER_UPLOAD_DIR", default=str(MEDIA_ROOT("ledger_uploads")))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# Attendance locks this many days after a session ends; a reviewer's unlock lasts this long.
ATTENDANCE_LOCK_DAYS = env.int("ATTENDANCE_LOCK_DAYS", default=7)
ATTENDANCE_UNLOCK_DAYS = env.int("ATTENDANCE_UNLOCK_DAYS", default=3)
# A one-time password issued by a secretary must be replaced within this many hours.
ONE_TIME_PASSWORD_HOURS = env.int("ONE_TIME_PASSWORD_HOURS", default=72)
# QR check-in: the code rotates on server time; a scan is accepted for one window more,
# so a code shown at the end of a window can still be scanned.
CHECKIN_WINDOW_SECONDS = env.int("CHECKIN_WINDOW_SECONDS", default=30)
CHECKIN_OPENS_MINUTES_BEFORE = env.int("CHECKIN_OPENS_MINUTES_BEFORE", default=30)
CHECKIN_LATE_AFTER_MINUTES = env.int("CHECKIN_LATE_AFTER_MINUTES", default=10)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Content-Security-Policy: scripts only from this site (the few inline ones carry a nonce);
# styles may be inline (Bootstrap utilities, ECharts); no framing, no plugins.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Redis is optional for the embedded default: without REDIS_URL, tasks run eagerly.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Above the longest task, so that Redis does not hand an unacknowledged task out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Three queues (docs/scaling.md), each with its own workers: "interactive" (what a user waits
# for: dashboard refreshes after attendance, small lookups; also every task not routed
# below), "reports" (the annual summaries: PDF rendering and e-mail, the January batch; scale
# the worker-reports service or run report workers on other machines) and "digests" (the
# weekly e-mails). The first matching pattern wins, so the digest pattern comes first.
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_TASK_ROUTES = {
    "reports.tasks.*digest*": {"queue": "digests"},
    "reports.tasks.*": {"queue": "reports"},
    "assessments.tasks.refresh_after_attendance": {"queue": "interactive"},
    "branches.tasks.*": {"queue": "interactive"},
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="学习园地 <noreply@localhost>")
# Django waits for an SMTP server forever by default; a stuck server must fail the task
# (which retries) instead. The delivery lease stays above it.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
REPORTS_DELIVERY_LEASE_SECONDS = env.int("REPORTS_DELIVERY_LEASE_SECONDS", default=600)
# Absolute links in e-mails (reminders); without it they are paths.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="")

# Each line names the request it was written for (portal/request_id.py; "-" outside one),
# the same id that the response returns in X-Request-ID and gunicorn's access log shows.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.request_id.RequestIdFilter"}},
    "formatters": {
        "portal": {
            "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "portal",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
# After a valid scan the member has this long to log in and confirm the check-in.
CHECKIN_GRANT_SECONDS = env.int("CHECKIN_GRANT_SECONDS", default=180)
