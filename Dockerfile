# Container image for the portal (Django 5.2 / Python 3.11).
#
# One image runs every role; docker-compose.yml picks the command:
#   web     gunicorn portal.wsgi:application   (the default CMD)
#   worker  celery -A portal worker
#   beat    celery -A portal beat
#   migrate python manage.py migrate --noinput (one-shot)
#
# Build:  docker build -t portal .
# Needs pyproject.toml and uv.lock in the build context (uv sync --frozen).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------
# Stage 1: resolve and install the locked dependencies into /app/.venv
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ARG UV_VERSION=0.13.9

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install "uv==${UV_VERSION}"

WORKDIR /app

# Only the dependency manifests: this layer is rebuilt only when they change.
# The project itself is not a package (tool.uv.package = false), so nothing
# else has to be installed after the source is copied.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# ---------------------------------------------------------------------------
# Stage 2: runtime image
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/app/.venv \
    PATH="/app/.venv/bin:${PATH}" \
    DJANGO_SETTINGS_MODULE=portal.settings.production

# WeasyPrint (Pango/HarfBuzz) + CJK fonts for Chinese PDFs; postgresql-client
# for pg_dump/psql (backups). Note: bookworm's postgresql-client is version 15;
# pg_dump 15 refuses to dump a PostgreSQL 16 server, so backups of the
# compose "postgres" service should run pg_dump inside that container (or
# this image needs postgresql-client-16 from the PGDG apt repository).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-noto-cjk \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user that runs every process in the container.
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /home/app --create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app

COPY --from=builder /app/.venv /app/.venv
# Source is owned by root (read-only for the app user); see .dockerignore.
COPY . .

# Collect static files for whitenoise. Build-time-only dummy settings: they
# are set on this RUN line alone and do not end up in the image environment.
RUN SECRET_KEY=build-only-not-secret \
    DEBUG=False \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build:build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown app:app /app/media \
    && chmod 0755 /app/deploy/entrypoint.sh /app/deploy/healthcheck.py /app/deploy/wait_for_services.py

# /app/media is meant for a named volume (see docker-compose.yml): a new
# named volume mounted there takes this directory's owner (app). No VOLUME
# instruction, so roles that never touch media get no anonymous volumes.

USER 1000:1000

EXPOSE 8000

# Default check is for the web role; docker-compose.yml overrides it for
# worker/beat and disables it for the one-shot migrate service.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py", "web"]

ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["gunicorn", "portal.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "3", \
     "--access-logfile", "-", \
     "--error-logfile", "-", \
     "--config", "deploy/gunicorn.conf.py"]
