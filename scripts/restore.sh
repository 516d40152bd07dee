#!/usr/bin/env bash
# make restore FILE=...: restore a pg_dump custom-format archive (scripts/backup.sh).
#
#   scripts/restore.sh FILE [TARGET_DATABASE_URL]
#
# The target is TARGET_DATABASE_URL (argument or environment), else DATABASE_URL (environment,
# else .env). A target database that does not exist is created. A target that already holds
# tables is refused unless FORCE=1, which replaces the objects of the archive (pg_restore
# --clean --if-exists); stop the web and worker processes first.
# The restore runs in one transaction: if anything fails, the target is left as it was.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
    echo "usage: make restore FILE=backups/<name>.dump [FORCE=1]" >&2
    echo "   or: scripts/restore.sh FILE [TARGET_DATABASE_URL]" >&2
    exit 2
}

# DATABASE_URL -> "libpq URI<TAB>database name<TAB>URI without password<TAB>maintenance URI"
parse_url() {
    python3 - "$1" <<'PY'
import sys
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

url = urlsplit(sys.argv[1])
if url.scheme not in ("postgres", "postgresql", "pgsql", "psql", "postgis"):
    sys.exit(f"the target is not a PostgreSQL URL (scheme {url.scheme or 'missing'!r})")
dbname = unquote(url.path.lstrip("/"))
if not dbname:
    sys.exit("the target URL names no database")
libpq = {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
         "options", "target_session_attrs", "passfile", "channel_binding", "gssencmode"}
query = urlencode([(k, v) for k, v in parse_qsl(url.query) if k in libpq])
full = urlunsplit(("postgresql", url.netloc, url.path, query, ""))
maintenance = urlunsplit(("postgresql", url.netloc, "/" + quote("postgres"), query, ""))
user = f"{url.username}@" if url.username else ""
port = f":{url.port}" if url.port else ""
shown = f"postgresql://{user}{url.hostname or 'localhost'}{port}/{dbname}"
print(full, dbname, shown, maintenance, sep="\t")
PY
}

database_url() {
    local url="${TARGET_DATABASE_URL:-${DATABASE_URL:-}}"
    if [ -z "$url" ] && [ -f "$here/.env" ]; then
        url="$(sed -n 's/^[[:space:]]*DATABASE_URL[[:space:]]*=[[:space:]]*//p' "$here/.env" | tail -n1)"
        url="${url%\"}"; url="${url#\"}"; url="${url%\'}"; url="${url#\'}"
    fi
    if [ -z "$url" ]; then
        echo "ERROR: no target: set DATABASE_URL (or TARGET_DATABASE_URL, or put it in .env)." >&2
        exit 2
    fi
    printf '%s' "$url"
}

file="${1:-}"
[ -n "$file" ] || { echo "ERROR: which backup? FILE is missing." >&2; usage; }
[ -f "$file" ] || { echo "ERROR: $file does not exist." >&2; exit 2; }
if ! pg_restore --list "$file" >/dev/null 2>&1; then
    echo "ERROR: $file is not a pg_dump custom-format archive (make backup writes those)." >&2
    exit 2
fi
[ -n "${2:-}" ] && TARGET_DATABASE_URL="$2"
url="$(database_url)" || exit 2
IFS=$'\t' read -r uri dbname shown maintenance < <(parse_url "$url") || exit 2

psql_at() { psql --no-psqlrc --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 "$@"; }

exists="$(psql_at --dbname="$maintenance" --set d="$dbname" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'d';
SQL
)" || { echo "ERROR: cannot connect to the server of $shown." >&2; exit 1; }

clean=()
if [ "$exists" = "0" ]; then
    echo "Creating database \"$dbname\" ..." >&2
    psql_at --dbname="$maintenance" --set d="$dbname" <<'SQL'
CREATE DATABASE :"d";
SQL
else
    tables="$(psql_at --dbname="$uri" <<'SQL'
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%';
SQL
)"
    if [ "$tables" != "0" ]; then
        if [ "${FORCE:-0}" != "1" ]; then
            echo "REFUSED: database \"$dbname\" ($shown) is not empty ($tables tables, views or" \
                 "sequences). Nothing was changed." >&2
            echo "To replace its contents with $file, stop the web and worker processes and run:" >&2
            echo "    make restore FILE=$file FORCE=1" >&2
            echo "(or restore into a new database: scripts/restore.sh $file postgres://.../new_name)" >&2
            exit 3
        fi
        echo "FORCE=1: replacing the contents of \"$dbname\" ($tables objects)." >&2
        clean=(--clean --if-exists)
    fi
fi

echo "Restoring $file into \"$dbname\" ($shown) ..." >&2
started=$(date +%s)
if ! pg_restore --dbname="$uri" --no-owner --no-privileges --single-transaction \
        --exit-on-error "${clean[@]}" "$file"; then
    echo "ERROR: pg_restore failed; the restore was rolled back, \"$dbname\" is as it was." >&2
    if [ ${#clean[@]} -gt 0 ]; then
        echo "(Tables the backup does not know, e.g. from newer migrations, can block the" \
             "replacement: restore into a new database, or drop and recreate this one first.)" >&2
    fi
    exit 1
fi
migrations="$(psql_at --dbname="$uri" -c "SELECT count(*) FROM django_migrations" 2>/dev/null || echo "?")"
echo "Restored $file into \"$dbname\" in $(( $(date +%s) - started )) s ($migrations migrations recorded)." >&2
echo "Next: DATABASE_URL=... .venv/bin/python manage.py migrate  (if the code is newer than the backup)" >&2
