"""make backup / make restore: scripts/backup.sh and scripts/restore.sh on real PostgreSQL.

A small demo dataset is committed to the test database (a transactional test, so that
pg_dump sees it), backed up, and restored into a fresh scratch database; every table's row
count and the verdicts of `assess --json` must be the same in both. A restore over a
database that holds tables is refused without FORCE=1, and replaces it with FORCE=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from branches.demo import seed_demo

ROOT = Path(settings.BASE_DIR)
MAIN_TABLES = [
    "branches_organization",
    "branches_member",
    "branches_membership",
    "branches_role",
    "branches_user",
    "attendance_studysession",
    "attendance_attendanceentry",
    "attendance_selfstudy",
    "assessments_rule",
    "assessments_monthstat",
    "django_migrations",
]


def url_for(dbname: str) -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{dbname}"


def row_counts(url: str) -> dict[str, int]:
    """Exact row count of every table of the public schema."""
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
            for t in tables
        }


def script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assess(url: str, year: int) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    out = subprocess.run(
        [sys.executable, "manage.py", "assess", "--year", str(year), "--org", "JG", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return json.loads(out[out.index("{") :])


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_fresh_database_with_the_same_rows_and_verdicts(tmp_path):
    seed_demo(branches=3, members_per_branch=10, with_logins=True)
    source = url_for(connection.settings_dict["NAME"])
    scratch_name = f"test_restore_{os.getpid()}"
    scratch = url_for(scratch_name)
    admin = url_for("postgres").replace("postgres://", "postgresql://", 1)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("TARGET_DATABASE_URL", "FORCE")},
        "DATABASE_URL": source,
        "BACKUP_DIR": str(tmp_path),
    }
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch_name}"')
    try:
        backup = script("backup.sh", env=env)
        assert backup.returncode == 0, backup.stderr
        archive = Path(backup.stdout.strip().splitlines()[-1])
        assert archive.parent == tmp_path and archive.name.endswith(".dump")
        assert archive.stat().st_size > 0
        assert not list(tmp_path.glob("*.partial"))

        restored = script("restore.sh", str(archive), scratch, env=env)
        assert restored.returncode == 0, restored.stderr

        before, after = row_counts(source), row_counts(scratch)
        assert after == before
        assert all(before[t] > 0 for t in MAIN_TABLES), {t: before[t] for t in MAIN_TABLES}
        year = timezone.localdate().year
        original_verdicts = assess(source, year)
        assert original_verdicts["organizations"], "the verdicts must not be empty"
        assert assess(scratch, year) == original_verdicts

        # A database with tables is not overwritten by accident...
        refused = script("restore.sh", str(archive), scratch, env=env)
        assert refused.returncode == 3
        assert "REFUSED" in refused.stderr and "FORCE=1" in refused.stderr
        # ...only on purpose, and then it is replaced, not appended to.
        forced = script("restore.sh", str(archive), scratch, env={**env, "FORCE": "1"})
        assert forced.returncode == 0, forced.stderr
        assert row_counts(scratch) == before
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)')


def test_backup_and_restore_explain_what_is_wrong(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TARGET_DATABASE_URL")}
    env["BACKUP_DIR"] = str(tmp_path)
    sqlite = script("backup.sh", env={**env, "DATABASE_URL": "sqlite:///db.sqlite3"})
    assert sqlite.returncode == 2 and "not a PostgreSQL URL" in sqlite.stderr
    missing = script("restore.sh", env=env)
    assert missing.returncode == 2 and "FILE is missing" in missing.stderr
    not_a_dump = tmp_path / "x.dump"
    not_a_dump.write_text("hello")
    bad = script("restore.sh", str(not_a_dump), env={**env, "DATABASE_URL": url_for("x")})
    assert bad.returncode == 2 and "not a pg_dump custom-format archive" in bad.stderr
    assert not list(tmp_path.glob("*.partial"))
