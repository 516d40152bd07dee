#!/usr/bin/env bash
# Stops and removes what scripts/replica/setup.sh made: the standby and, if setup.sh created
# it, the throw-away primary (a server it merely used as the primary is left alone).
# Idempotent: with nothing there, it does nothing. Same variables as setup.sh.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [ ! -d "$PRIMARY_DIR" ] && [ ! -d "$STANDBY_DIR" ]; then
  say "nothing to remove in $REPLICA_DIR"
  exit 0
fi
find_bindir
lock

stop_cluster "$STANDBY_DIR" standby
stop_cluster "$PRIMARY_DIR" primary
rm -rf "$STANDBY_DIR" "$PRIMARY_DIR" "$REPLICA_DIR"/*.log
say "removed the clusters in $REPLICA_DIR"
