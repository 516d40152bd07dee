"""The read-replica router against a real PostgreSQL streaming replica.

scripts/replica/setup.sh starts a throw-away primary (127.0.0.1:5435) and a hot standby cloned
from it with pg_basebackup -R (127.0.0.1:5433); the shared cluster on 5432 is not involved.
Why not the test database on 5432: a standby replicates a whole cluster, and 5432 allows no
replication connections (nor should a test reconfigure it for everyone). Why not through
pytest-django: its test database and its per-test transactions live on "default"; a replica
only ever sees committed rows. So this module opens two aliases of its own on a database of
its own (created on the primary, replicated to the standby), points a ReplicaRouter at them,
and commits for real. Other tests are unaffected: test settings have no replica alias, and
the router does nothing then (the last tests here check that).

The clusters are shared by concurrent test runs on the machine (a shared lock per run); the
last run out tears them down, unless REPLICA_KEEP=1. A setup failure fails the tests, with
the script's output: pg_basebackup & co. are part of what is tested.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connections, router, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings

from branches.models import Organization
from portal import db_router
from portal.db_router import (
    PIN_COOKIE,
    ReadYourWritesMiddleware,
    ReplicaRouter,
    pinned_to_primary,
    use_primary,
    use_replica,
)
from tests.portal.production import production_settings

pytestmark = pytest.mark.replica

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "replica" / "setup.sh"
TEARDOWN = ROOT / "scripts" / "replica" / "teardown.sh"
HOST = "127.0.0.1"
REPLICA_DIR = Path(os.environ.get("REPLICA_DIR", "/tmp/xuexi-replica"))
PRIMARY_PORT = int(os.environ.get("REPLICA_PRIMARY_PORT", "5435"))
STANDBY_PORT = int(os.environ.get("REPLICA_PORT", "5433"))
PRIMARY, STANDBY = "replica_test_primary", "replica_test_standby"
DB_PREFIX = "replica_test_"


class TestRouter(ReplicaRouter):
    __test__ = False  # not a test class, whatever its name
    primary = PRIMARY
    replica = STANDBY


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def admin(port: int) -> psycopg.Connection:
    return psycopg.connect(
        host=HOST, port=port, user="postgres", dbname="postgres", autocommit=True, connect_timeout=5
    )


def run_script(script: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=180, cwd=ROOT
    )


@pytest.fixture(scope="module")
def clusters() -> Iterator[None]:
    """The primary and its streaming standby, shared with concurrent runs (shared flock)."""
    REPLICA_DIR.mkdir(parents=True, exist_ok=True)
    users = os.open(REPLICA_DIR / ".users.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    fcntl.flock(users, fcntl.LOCK_SH)  # waits while a finishing run tears the clusters down
    try:
        result = run_script(SETUP)
        if result.returncode != 0:
            pytest.fail(
                f"scripts/replica/setup.sh failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}",
                pytrace=False,
            )
        yield
    finally:
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the last run out?
        except BlockingIOError:
            pass  # another run still uses the clusters
        else:
            if os.environ.get("REPLICA_KEEP") != "1":
                run_script(TEARDOWN)
        os.close(users)


def drop_leftover_databases(conn: psycopg.Connection) -> None:
    """Databases of runs that died before their teardown (the pid is in the name)."""
    for (name,) in conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", [DB_PREFIX + "%"]
    ).fetchall():
        try:
            pid = int(name.removeprefix(DB_PREFIX).split("_")[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except PermissionError:
            pass  # alive, someone else's


@pytest.fixture(scope="module")
def replica_db(clusters, django_db_blocker) -> Iterator[str]:
    """A database of this run on the primary, replicated to the standby, with the aliases
    PRIMARY and STANDBY pointing at it and the Organization table in it."""
    name = f"{DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin(PRIMARY_PORT) as conn:
        drop_leftover_databases(conn)
        conn.execute(f'CREATE DATABASE "{name}"')
    base = connections.settings["default"]
    for alias, port in ((PRIMARY, PRIMARY_PORT), (STANDBY, STANDBY_PORT)):
        connections.settings[alias] = {
            **base,
            "NAME": name,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": HOST,
            "PORT": str(port),
            "OPTIONS": {},
            "CONN_MAX_AGE": 0,
            "TEST": {"NAME": None, "MIRROR": None, "CHARSET": None, "COLLATION": None},
        }
    try:
        with django_db_blocker.unblock():
            # CREATE DATABASE reaches the standby by replication like any other change.
            def standby_has_it() -> bool:
                try:
                    psycopg.connect(
                        host=HOST, port=STANDBY_PORT, user="postgres", dbname=name
                    ).close()
                    return True
                except psycopg.OperationalError:
                    return False

            assert wait_until(standby_has_it, timeout=15), "the database never reached the standby"
            with connections[PRIMARY].schema_editor() as editor:
                editor.create_model(Organization)
        yield name
    finally:
        for alias in (PRIMARY, STANDBY):
            if alias in connections.settings:
                connections[alias].close()
                del connections[alias]
                del connections.settings[alias]
        with admin(PRIMARY_PORT) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def routed(replica_db, django_db_blocker) -> Iterator[str]:
    """The router between this module's two aliases, for one test."""
    with django_db_blocker.unblock(), override_settings(DATABASE_ROUTERS=[TestRouter()]):
        yield replica_db


def caught_up() -> None:
    """Wait until the standby has replayed everything the primary wrote so far."""
    with connections[PRIMARY].cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn()")
        (lsn,) = cur.fetchone()

    def replayed() -> bool:
        with connections[STANDBY].cursor() as cur:
            cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            return cur.fetchone()[0]

    assert wait_until(replayed, timeout=10), f"the standby did not replay up to {lsn}"


class paused_replay:
    """The standby keeps receiving WAL but applies none: what it shows is frozen, so a read
    that sees a new row cannot have come from it. Replay resumes on the way out."""

    def __enter__(self):
        with admin(STANDBY_PORT) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
            assert wait_until(
                lambda: (
                    conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] == "paused"
                ),
                timeout=10,
            )
        return self

    def __exit__(self, *exc):
        with admin(STANDBY_PORT) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


def make_org(code: str) -> Organization:
    depth = 1
    path = uuid.uuid4().hex[:4].upper()
    return Organization.objects.create(
        code=code, name=code, type="党委", path=path, depth=depth, numchild=0
    )


def new_code() -> str:
    return "R" + uuid.uuid4().hex[:10]


def server_of(alias: str) -> tuple[bool, int]:
    with connections[alias].cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        return tuple(cur.fetchone())


# --- against the standby ---------------------------------------------------------------------


def test_the_standby_streams_from_the_primary(routed):
    assert server_of(PRIMARY) == (False, PRIMARY_PORT)
    assert server_of(STANDBY) == (True, STANDBY_PORT)
    with admin(PRIMARY_PORT) as conn:
        states = [s for (s,) in conn.execute("SELECT state FROM pg_stat_replication")]
    assert "streaming" in states


def test_a_routed_read_comes_from_the_replica(routed):
    code = new_code()
    with CaptureQueriesContext(connections[PRIMARY]) as on_primary:
        make_org(code)  # no scope: written, as always, on the primary
    assert any(q["sql"].startswith("INSERT") for q in on_primary.captured_queries)
    caught_up()

    with use_replica(), CaptureQueriesContext(connections[STANDBY]) as on_standby:
        org = Organization.objects.get(code=code)
        alias = router.db_for_read(Organization)
    assert alias == STANDBY
    assert org._state.db == STANDBY
    assert len(on_standby.captured_queries) == 1
    assert server_of(alias) == (True, STANDBY_PORT)  # pg_is_in_recovery(), port 5433

    # Outside the scope the same read goes to the primary.
    assert Organization.objects.get(code=code)._state.db == PRIMARY


def test_with_replay_paused_only_the_primary_sees_a_new_row(routed):
    """Proof that routed reads really reach the standby, and where each kind of read goes."""
    code = new_code()
    with paused_replay():
        make_org(code)
        with use_replica():
            assert not Organization.objects.filter(code=code).exists()  # the standby: stale
            with pinned_to_primary():  # read-your-own-writes
                assert Organization.objects.filter(code=code).exists()
            with use_primary():
                assert Organization.objects.filter(code=code).exists()
            with transaction.atomic(using=PRIMARY):  # reads in a transaction
                assert router.db_for_read(Organization) == PRIMARY
                assert Organization.objects.filter(code=code).exists()
            assert not Organization.objects.filter(code=code).exists()
        assert Organization.objects.filter(code=code).exists()  # no scope: the primary
    caught_up()
    with use_replica():
        assert Organization.objects.filter(code=code).exists()


def test_writes_in_a_replica_scope_go_to_the_primary(routed):
    """The standby is read-only: any write routed there would fail."""
    code = new_code()
    with use_replica():
        org = make_org(code)
        assert org._state.db == PRIMARY
        Organization.objects.filter(code=code).update(name="改名")
        with transaction.atomic(using=PRIMARY):
            locked = Organization.objects.select_for_update().get(code=code)
            locked.name = "再改"
            locked.save()
        same, created = Organization.objects.get_or_create(
            code=code, defaults={"path": "ZZZZ", "depth": 1}
        )
        assert not created and same._state.db == PRIMARY
        caught_up()
        from_replica = Organization.objects.get(code=code)
        assert from_replica._state.db == STANDBY and from_replica.name == "再改"
        from_replica.name = "从副本读出后保存"
        from_replica.save()  # an object read from the replica is saved on the primary
    with connections[PRIMARY].cursor() as cur:
        cur.execute("SELECT name FROM branches_organization WHERE code = %s", [code])
        assert cur.fetchone()[0] == "从副本读出后保存"


def test_sessions_are_always_read_on_the_primary(routed):
    with use_replica():
        assert router.db_for_read(Session) == PRIMARY
        assert router.db_for_read(Organization) == STANDBY


def _view(request):
    """A view like the dashboard: its reads are allowed on the replica; a POST writes."""
    if request.method == "POST":
        make_org(request.POST["code"])
        return HttpResponse("ok")
    if "touch" in request.GET:  # a GET that writes (e.g. an audit row)
        make_org(request.GET["touch"])
    return HttpResponse(" ".join(Organization.objects.values_list("code", flat=True)))


def test_after_a_write_the_writer_reads_from_the_primary(routed):
    middleware = ReadYourWritesMiddleware(use_replica(_view))
    rf = RequestFactory()
    code = new_code()
    with paused_replay():
        posted = middleware(rf.post("/", {"code": code}))
        cookie = posted.cookies[PIN_COOKIE]
        assert cookie["max-age"] == settings.DATABASE_REPLICA_PIN_SECONDS
        assert cookie["httponly"]

        writer = rf.get("/")
        writer.COOKIES[PIN_COOKIE] = cookie.value
        assert code in middleware(writer).content.decode()  # their own write: the primary
        someone_else = middleware(rf.get("/"))
        assert code not in someone_else.content.decode()  # the (paused) replica
        assert PIN_COOKIE not in someone_else.cookies  # a plain read pins nobody

        expired = rf.get("/")
        expired.COOKIES[PIN_COOKIE] = str(int(time.time()) - 1)
        assert code not in middleware(expired).content.decode()

        touched = new_code()
        assert PIN_COOKIE in middleware(rf.get("/", {"touch": touched})).cookies
    caught_up()
    assert code in middleware(rf.get("/")).content.decode()


def test_an_unreachable_replica_falls_back_to_the_primary(routed, caplog):
    """A replica that is down must not take the dashboards with it."""
    with socket_closed_port() as port:
        connections.settings["replica_test_down"] = {
            **connections.settings[STANDBY],
            "PORT": str(port),
            "OPTIONS": {"connect_timeout": 2},
        }

        class DownRouter(TestRouter):
            replica = "replica_test_down"

        try:
            with override_settings(DATABASE_ROUTERS=[DownRouter()]), use_replica():
                assert router.db_for_read(Organization) == PRIMARY
                assert Organization.objects.all().db == PRIMARY
                assert list(Organization.objects.all()[:1]) is not None
            assert "unreachable" in caplog.text
            assert db_router._replica_down_until["replica_test_down"] > time.monotonic()
        finally:
            db_router._replica_down_until.pop("replica_test_down", None)
            connections["replica_test_down"].close()
            del connections["replica_test_down"]
            del connections.settings["replica_test_down"]


class socket_closed_port:
    """A local TCP port with nothing listening on it."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind((HOST, 0))
            return s.getsockname()[1]

    def __exit__(self, *exc):
        return None


# --- without a replica (test settings, DATABASE_REPLICA_URL unset) ------------------------------


def test_without_a_replica_everything_stays_on_default():
    assert "replica" not in settings.DATABASES
    assert settings.DATABASE_ROUTERS == ["portal.db_router.ReplicaRouter"]
    with use_replica():
        assert router.db_for_read(Organization) == "default"
        assert router.db_for_write(Organization) == "default"
    response = ReadYourWritesMiddleware(lambda r: HttpResponse("ok"))(RequestFactory().post("/"))
    assert PIN_COOKIE not in response.cookies


def test_use_replica_is_a_decorator_and_a_context_manager_and_nests():
    @use_replica
    def bare():
        return db_router._replica_reads.get()

    @use_replica()
    def called():
        return db_router._replica_reads.get()

    assert bare() and called()
    assert bare.__name__ == "bare"
    assert not db_router._replica_reads.get()
    with use_replica():
        with use_primary():
            assert not db_router._replica_reads.get()
        assert db_router._replica_reads.get()
    assert not db_router._replica_reads.get()


def test_production_settings_add_the_replica_only_when_its_url_is_set(monkeypatch):
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    assert set(production_settings(monkeypatch).DATABASES) == {"default"}

    prod = production_settings(
        monkeypatch, DATABASE_REPLICA_URL="postgres://portal_ro:pw@db-replica:5432/portal"
    )
    replica = prod.DATABASES["replica"]
    assert (replica["HOST"], replica["USER"], replica["NAME"]) == (
        "db-replica",
        "portal_ro",
        "portal",
    )
    assert replica["OPTIONS"]["pool"] == {"timeout": 5.0}
    assert replica["CONN_MAX_AGE"] == 0
    assert prod.DATABASE_ROUTERS == ["portal.db_router.ReplicaRouter"]
    middleware = prod.MIDDLEWARE
    assert middleware.index("portal.db_router.ReadYourWritesMiddleware") < middleware.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )
