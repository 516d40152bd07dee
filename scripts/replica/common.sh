# Shared by setup.sh and teardown.sh (sourced, not run). See setup.sh for the variables.
# shellcheck shell=bash

REPLICA_HOST=127.0.0.1
REPLICA_DIR=${REPLICA_DIR:-/tmp/xuexi-replica}
REPLICA_PRIMARY_PORT=${REPLICA_PRIMARY_PORT:-5435}
REPLICA_PORT=${REPLICA_PORT:-5433}
REPLICA_TIMEOUT=${REPLICA_TIMEOUT:-30}
PRIMARY_DIR=$REPLICA_DIR/primary
STANDBY_DIR=$REPLICA_DIR/standby

die() { echo "replica: ERROR: $*" >&2; exit 1; }
say() { echo "replica: $*"; }

# The PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, psql of one major version):
# PG_BINDIR, else the newest /usr/lib/postgresql/<major>/bin (Debian), else pg_config's.
find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] || die "PG_BINDIR=$PG_BINDIR has no initdb"
    return
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_basebackup" ]; then PG_BINDIR=$d; return; fi
  done
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    PG_BINDIR=$(pg_config --bindir); return
  fi
  die "no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) found. Install them
(Debian: apt-get install postgresql) or set PG_BINDIR=/path/to/postgresql/bin."
}

# PostgreSQL refuses to run as root: as root, run the server tools as the postgres user.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the servers as"
  RUN_AS=postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  RUN_AS=$(id -un)
  as_pg() { "$@"; }
fi

# 9>&-: the servers must not inherit the descriptor of the setup lock (see lock below).
pg() { as_pg "$PG_BINDIR/$1" "${@:2}" 9>&-; }

port_open() { (exec 3<>"/dev/tcp/$REPLICA_HOST/$1") 2>/dev/null; }

sql() { # sql PORT QUERY -> the single value
  pg psql -X -q -At -h "$REPLICA_HOST" -p "$1" -U postgres -d postgres -c "$2" 2>/dev/null
}

running() { # running DATADIR: a postmaster of ours runs on that data directory
  [ -f "$1/PG_VERSION" ] && pg pg_ctl -D "$1" status >/dev/null 2>&1
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
  say "$what"
}

stop_cluster() { # stop_cluster DATADIR NAME
  if running "$1"; then
    pg pg_ctl -D "$1" -m fast -w -t "$REPLICA_TIMEOUT" stop >/dev/null \
      || pg pg_ctl -D "$1" -m immediate -w stop >/dev/null \
      || die "could not stop the $2 in $1"
    say "$2 stopped"
  fi
}

lock() { # serialize setup/teardown between concurrent test runs (two checkouts, CI)
  mkdir -p "$REPLICA_DIR"
  chmod 755 "$REPLICA_DIR"
  [ "$RUN_AS" = "$(id -un)" ] || chown "$RUN_AS" "$REPLICA_DIR"
  exec 9>"$REPLICA_DIR/.setup.lock"
  flock -w 120 9 || die "another setup/teardown holds $REPLICA_DIR/.setup.lock"
}
