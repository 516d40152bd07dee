#!/usr/bin/env bash
# Makes sure the services the test suite talks to are up: PostgreSQL, Redis, and Chromium for
# the browser tests. Starts what is installed but stopped; fails with a clear message otherwise.
set -euo pipefail

pg_host=127.0.0.1 pg_port=5432
redis_port=6379

pg_up() { (exec 3<>/dev/tcp/$pg_host/$pg_port) 2>/dev/null; }
redis_up() { [ "$(printf 'PING\r\n' | timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$redis_port; cat >&3; head -c 7 <&3" 2>/dev/null | tr -d '\r\n')" = "+PONG" ]; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not running; starting it."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || { echo "ERROR: PostgreSQL is not reachable on $pg_host:$pg_port and could not be started. Install PostgreSQL (apt-get install postgresql) or set DATABASE_URL." >&2; exit 1; }
fi

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Redis is not running; starting it."
    redis-server --daemonize yes --bind 127.0.0.1 --port $redis_port --save "" --appendonly no >/dev/null
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
  redis_up || { echo "ERROR: Redis is not reachable on 127.0.0.1:$redis_port and could not be started. Install Redis (apt-get install redis-server) or set REDIS_URL." >&2; exit 1; }
fi

# Browser tests drive Debian's Chromium; Chinese glyphs (pages and PDFs) need the Noto CJK fonts.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk)
# WeasyPrint renders the PDFs with Pango; HarfBuzz subsetting keeps a Chinese PDF small and fast.
ldconfig -p 2>/dev/null | grep "libpango-1.0" >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep "libharfbuzz-subset" >/dev/null || need+=(libharfbuzz-subset0)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${need[*]} for the browser tests."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "ERROR: the browser tests need ${need[*]} (Debian packages); install them: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi
