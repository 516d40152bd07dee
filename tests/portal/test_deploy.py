from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": "x" * 30 + "production-secret-key-with-enough-entropy-1234567890",
            "ALLOWED_HOSTS": "xuexi.example.cn",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = manage(
        "check",
        env={
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "ALLOWED_HOSTS": "x",
            "DATABASE_URL": "sqlite:////tmp/x.db",
        },
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_embedded_default_needs_no_services(tmp_path):
    """`make run`'s settings: SQLite in the project and eager Celery, nothing else."""
    code = (
        "import django, os; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "portal.settings.local"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"], result.stderr


CONNECT = (
    "import django; django.setup(); from django.db import connection as c; "
    "c.ensure_connection(); cur = c.cursor(); cur.execute('SELECT 1'); "
    "print(c.vendor, cur.fetchone()[0], bool(c.settings_dict['OPTIONS'].get('pool')))"
)


@pytest.mark.parametrize(
    ("scheme", "vendor", "pooled"),
    [
        ("postgres", "postgresql", True),
        ("postgresql", "postgresql", True),
        ("pgsql", "postgresql", True),
        ("psql", "postgresql", True),
        ("sqlite", "sqlite", False),
    ],
)
def test_production_settings_connect_with_every_database_url_the_readme_allows(
    scheme, vendor, pooled, tmp_path
):
    """PostgreSQL (pooled) or a SQLite file (the embedded default's engine, no pool)."""
    test_db = settings.DATABASES["default"]
    if scheme == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    else:
        auth = test_db["USER"] + (f":{test_db['PASSWORD']}" if test_db["PASSWORD"] else "")
        url = (
            f"{scheme}://{auth}@{test_db['HOST'] or '127.0.0.1'}:{test_db['PORT'] or 5432}/postgres"
        )
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", CONNECT],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "xuexi.example.cn",
            "DATABASE_URL": url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [vendor, "1", str(pooled)], result.stderr[-2000:]
