#!/bin/sh
# Container entrypoint for every role of the portal image (web, worker, beat,
# migrate). It
#   1. optionally waits until the TCP ports of DATABASE_URL and REDIS_URL
#      accept connections (WAIT_FOR_SERVICES=1, the default; timeout
#      WAIT_FOR_SERVICES_TIMEOUT seconds, default 60),
#   2. optionally applies migrations (RUN_MIGRATIONS=1; off by default because
#      docker-compose.yml runs them once, in the one-shot "migrate" service),
#   3. execs the command (CMD / compose "command"), so it runs as PID 1's
#      child under tini (compose "init: true") and receives signals directly.
set -eu

cd /app

if [ "${WAIT_FOR_SERVICES:-1}" = "1" ]; then
    python /app/deploy/wait_for_services.py
fi

if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi

exec "$@"
