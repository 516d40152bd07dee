#!/usr/bin/env bash
# make backup: a pg_dump custom-format archive of DATABASE_URL's database.
#
#   scripts/backup.sh [FILE]
#
# DATABASE_URL comes from the environment, else from .env in the project folder. Without FILE
# the archive goes to $BACKUP_DIR (default: backups/ in the project folder) as
# <database>-<YYYYmmdd-HHMMSS>.dump. pg_dump writes to a temporary name that is renamed only
# when it has succeeded, so a failed or interrupted backup never leaves a file that looks
# complete. The path of the archive is printed on standard output.
#
# pg_dump must be the server's major version or newer (Debian: postgresql-client-15).
# Restore with scripts/restore.sh (make restore FILE=...).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# DATABASE_URL -> "libpq URI<TAB>database name<TAB>URI without password" (django-environ
# accepts postgres://, postgresql://, pgsql://, psql://, postgis://; libpq wants postgresql://
# and refuses query parameters it does not know, such as conn_max_age).
parse_url() {
    python3 - "$1" <<'PY'
import sys
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

url = urlsplit(sys.argv[1])
if url.scheme not in ("postgres", "postgresql", "pgsql", "psql", "postgis"):
    sys.exit(f"DATABASE_URL is not a PostgreSQL URL (scheme {url.scheme or 'missing'!r})")
dbname = unquote(url.path.lstrip("/"))
if not dbname:
    sys.exit("DATABASE_URL names no database")
libpq = {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
         "options", "target_session_attrs", "passfile", "channel_binding", "gssencmode"}
query = urlencode([(k, v) for k, v in parse_qsl(url.query) if k in libpq])
full = urlunsplit(("postgresql", url.netloc, url.path, query, ""))
user = f"{url.username}@" if url.username else ""
port = f":{url.port}" if url.port else ""
shown = f"postgresql://{user}{url.hostname or 'localhost'}{port}/{dbname}"
print(full, dbname, shown, sep="\t")
PY
}

database_url() {
    local url="${DATABASE_URL:-}"
    if [ -z "$url" ] && [ -f "$here/.env" ]; then
        url="$(sed -n 's/^[[:space:]]*DATABASE_URL[[:space:]]*=[[:space:]]*//p' "$here/.env" | tail -n1)"
        url="${url%\"}"; url="${url#\"}"; url="${url%\'}"; url="${url#\'}"
    fi
    if [ -z "$url" ]; then
        echo "ERROR: DATABASE_URL is not set (nor in .env). The embedded default is SQLite:" \
             "back up db.sqlite3 by copying it; make backup is for PostgreSQL." >&2
        exit 2
    fi
    printf '%s' "$url"
}

url="$(database_url)" || exit 2
IFS=$'\t' read -r uri dbname shown < <(parse_url "$url") || exit 2
dir="${BACKUP_DIR:-$here/backups}"
file="${1:-$dir/${dbname}-$(date +%Y%m%d-%H%M%S).dump}"
mkdir -p "$(dirname "$file")"

tmp="$file.partial"
trap 'rm -f "$tmp"' EXIT
echo "Backing up database \"$dbname\" ($shown) ..." >&2
started=$(date +%s)
# --no-owner/--no-privileges: the archive restores into a database of any owner.
if ! pg_dump --dbname="$uri" --format=custom --compress=6 --no-owner --no-privileges \
        --file="$tmp"; then
    echo "ERROR: pg_dump failed; no backup was written." >&2
    exit 1
fi
mv "$tmp" "$file"
trap - EXIT
echo "Backup written: $file ($(du -h "$file" | cut -f1), $(( $(date +%s) - started )) s)" >&2
echo "$file"
