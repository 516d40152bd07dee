#!/usr/bin/env bash
# A PostgreSQL streaming replica for the read-replica tests (tests/portal/test_replica.py)
# and for trying DATABASE_REPLICA_URL by hand (docs/scaling.md).
#
#   primary  127.0.0.1:$REPLICA_PRIMARY_PORT (5435)  a throw-away cluster in $REPLICA_DIR/primary
#   standby  127.0.0.1:$REPLICA_PORT (5433)          pg_basebackup -R of the primary, hot standby,
#                                                     streaming from it
#
# Both are plain initdb/pg_ctl clusters under $REPLICA_DIR (default /tmp/xuexi-replica), trust
# authentication on 127.0.0.1 only; /etc/postgresql and the shared cluster on 5432 are not
# touched. As root, the servers run as the postgres user.
#
# If something other than our own primary already listens on REPLICA_PRIMARY_PORT, that server
# is used as the primary instead (e.g. REPLICA_PRIMARY_PORT=5432): it must then allow
# replication connections from 127.0.0.1 for user postgres (a "host replication postgres
# 127.0.0.1/32 trust" line in pg_hba.conf, then a reload) - this script never changes it.
#
# Idempotent: a running primary and a standby that streams from it are left as they are; a
# stopped one is started; a standby of another primary (the primary was re-created) is
# re-cloned. Ends when the standby accepts connections, reports pg_is_in_recovery() = true and
# its WAL receiver is streaming; exits non-zero with the reason otherwise.
#
# Variables: REPLICA_DIR, REPLICA_PRIMARY_PORT, REPLICA_PORT, REPLICA_TIMEOUT (seconds, 30),
# PG_BINDIR. Undo with scripts/replica/teardown.sh.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

find_bindir
lock

# --- the primary -----------------------------------------------------------------------------
own_primary=1
if ! running "$PRIMARY_DIR" && port_open "$REPLICA_PRIMARY_PORT"; then
  own_primary=0
  say "using the server already on $REPLICA_HOST:$REPLICA_PRIMARY_PORT as the primary"
  [ "$(sql "$REPLICA_PRIMARY_PORT" "select pg_is_in_recovery()")" = f ] \
    || die "the server on port $REPLICA_PRIMARY_PORT does not answer as a primary (psql as postgres, trust)"
fi

if [ $own_primary = 1 ]; then
  if [ -d "$PRIMARY_DIR" ] && [ ! -f "$PRIMARY_DIR/PG_VERSION" ]; then
    rm -rf "$PRIMARY_DIR" # an interrupted initdb
  fi
  if [ ! -d "$PRIMARY_DIR" ]; then
    say "creating the primary cluster in $PRIMARY_DIR"
    as_pg mkdir -m 700 "$PRIMARY_DIR"
    pg initdb -D "$PRIMARY_DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null \
      || pg initdb -D "$PRIMARY_DIR" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null \
      || die "initdb failed in $PRIMARY_DIR"
    # initdb's pg_hba.conf already trusts replication connections from 127.0.0.1.
    as_pg tee -a "$PRIMARY_DIR/postgresql.conf" >/dev/null <<EOF

# scripts/replica/setup.sh: a throw-away primary for the replica tests
listen_addresses = '$REPLICA_HOST'
port = $REPLICA_PRIMARY_PORT
unix_socket_directories = '$REPLICA_DIR'
max_connections = 50
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 10
wal_keep_size = 256MB
fsync = off
full_page_writes = off
EOF
  fi
  if ! running "$PRIMARY_DIR"; then
    port_open "$REPLICA_PRIMARY_PORT" && die "port $REPLICA_PRIMARY_PORT is taken by another server"
    pg pg_ctl -D "$PRIMARY_DIR" -l "$REPLICA_DIR/primary.log" -w -t "$REPLICA_TIMEOUT" start >/dev/null \
      || die "the primary did not start; see $REPLICA_DIR/primary.log"
    say "primary started on $REPLICA_HOST:$REPLICA_PRIMARY_PORT"
  fi
fi

# --- the standby -----------------------------------------------------------------------------
primary_id=$(sql "$REPLICA_PRIMARY_PORT" "select system_identifier from pg_control_system()") \
  || die "cannot query the primary on port $REPLICA_PRIMARY_PORT"

if [ -f "$STANDBY_DIR/PG_VERSION" ]; then
  standby_id=$(pg pg_controldata "$STANDBY_DIR" 2>/dev/null | awk -F: '/system identifier/ {gsub(/ /, "", $2); print $2}')
  if [ "$standby_id" != "$primary_id" ] || [ ! -f "$STANDBY_DIR/standby.signal" ]; then
    say "the standby in $STANDBY_DIR belongs to another primary: re-cloning it"
    stop_cluster "$STANDBY_DIR" standby
    rm -rf "$STANDBY_DIR"
  fi
elif [ -d "$STANDBY_DIR" ]; then
  rm -rf "$STANDBY_DIR" # an interrupted pg_basebackup
fi

if [ ! -d "$STANDBY_DIR" ]; then
  port_open "$REPLICA_PORT" && die "port $REPLICA_PORT is taken by another server (not our standby)"
  say "cloning the primary into $STANDBY_DIR (pg_basebackup -R)"
  as_pg mkdir -m 700 "$STANDBY_DIR"
  pg pg_basebackup -h "$REPLICA_HOST" -p "$REPLICA_PRIMARY_PORT" -U postgres -D "$STANDBY_DIR" \
    -R -X stream -c fast --no-sync >"$REPLICA_DIR/basebackup.log" 2>&1 || {
      cat "$REPLICA_DIR/basebackup.log" >&2
      rm -rf "$STANDBY_DIR"
      die "pg_basebackup from port $REPLICA_PRIMARY_PORT failed (does its pg_hba.conf allow replication from $REPLICA_HOST?)"
    }
  as_pg tee -a "$STANDBY_DIR/postgresql.conf" >/dev/null <<EOF

# scripts/replica/setup.sh: the standby
listen_addresses = '$REPLICA_HOST'
port = $REPLICA_PORT
unix_socket_directories = '$REPLICA_DIR'
hot_standby = on
hot_standby_feedback = on
EOF
fi

if ! running "$STANDBY_DIR"; then
  port_open "$REPLICA_PORT" && die "port $REPLICA_PORT is taken by another server (not our standby)"
  pg pg_ctl -D "$STANDBY_DIR" -l "$REPLICA_DIR/standby.log" -w -t "$REPLICA_TIMEOUT" start >/dev/null \
    || die "the standby did not start; see $REPLICA_DIR/standby.log"
  say "standby started on $REPLICA_HOST:$REPLICA_PORT"
fi

in_recovery() { [ "$(sql "$REPLICA_PORT" "select pg_is_in_recovery()")" = t ]; }
streaming() { [ "$(sql "$REPLICA_PORT" "select status from pg_stat_wal_receiver")" = streaming ]; }
wait_for "$REPLICA_TIMEOUT" "standby accepts connections and is in recovery" in_recovery \
  || die "the standby on port $REPLICA_PORT does not answer with pg_is_in_recovery() = true; see $REPLICA_DIR/standby.log"
# A test run killed while it had replay paused (tests/portal/test_replica.py) must not leave
# the standby frozen for the next one.
sql "$REPLICA_PORT" "select pg_wal_replay_resume()" >/dev/null || true
wait_for "$REPLICA_TIMEOUT" "standby is streaming from port $REPLICA_PRIMARY_PORT" streaming \
  || die "the standby's WAL receiver is not streaming; see $REPLICA_DIR/standby.log"
say "ready: primary $REPLICA_HOST:$REPLICA_PRIMARY_PORT, standby $REPLICA_HOST:$REPLICA_PORT"
