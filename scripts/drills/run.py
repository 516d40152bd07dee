#!/usr/bin/env python
"""Load and fault drills, one command: `make drills` (or .venv/bin/python scripts/drills/run.py).

Everything runs on services of its own, never on the shared PostgreSQL (5432) or Redis (6379):
  PostgreSQL  cluster 15/drill on 127.0.0.1:5434 (created with pg_createcluster if missing,
              trust auth on 127.0.0.1), database xuexi_drill, recreated and seeded each run
              (seed_demo --branches 60 --members-per-branch 25)
  Redis       redis-server on 127.0.0.1:6380 with append-only persistence, as in
              docker-compose.yml, data in the output folder
  web         gunicorn portal.wsgi -w 4 --timeout 60 (docker-compose.yml's timeout) on
              127.0.0.1:8090, DJANGO_SETTINGS_MODULE=portal.settings.production
  worker      one Celery worker (solo pool), production settings

Drills (--only load,pg,pg-long,redis,worker,pg-proposed,pg-long-proposed; default the first
five):
  load     50 secretaries + 200 members for 60 s (scripts/loadtest), then the database check
  pg       the drill PostgreSQL stopped (fast) for 5 s under the same load, then started:
           requests fail cleanly, the app recovers without a restart, no partial writes
  pg-long  a 40 s outage (longer than the connection pool's 30 s wait) under a lighter load
  redis    Redis stopped in normal use: every page of a list per role, the writes, the queue
           before and after, the dashboard refresh of a save made while Redis was down
  worker   tests/reports/test_worker_crash.py (a worker SIGKILLed mid-batch), pointed at the
           drill PostgreSQL and Redis
  pg-proposed, pg-long-proposed
           pg and pg-long again, with the database settings proposed in docs/drills.md
           (scripts/drills/settings_pool_timeout.py: pool timeout --pool-timeout, default 2 s,
           and CONN_HEALTH_CHECKS)

Outcomes go to --out (summary.json, summary.md, logs). Exit status 1 when a requirement of
the issue is not met (the failed checks are listed), 2 when the drills could not run.
Needs root (or the postgres user) for pg_createcluster/pg_ctlcluster, and redis-server.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
LOADTEST = ROOT / "scripts" / "loadtest"
HELPER = ROOT / "scripts" / "drills" / "helper.py"
sys.path.insert(0, str(LOADTEST))
from load import (  # noqa: E402
    CSRF_RE,
    STATUS_RE,
    VERSION_RE,
    Client,
    Recorder,
    RequestFailed,
    hidden_fields,
)
from shared import CONFLICT_MESSAGE, attendance_pattern  # noqa: E402

PG_VERSION, CLUSTER, PG_PORT = "15", "drill", 5434
REDIS_PORT, WEB_PORT = 6380, 8090
DB = "xuexi_drill"
DATABASE_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB}"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
BASE = f"http://127.0.0.1:{WEB_PORT}"
PASSWORD = "demo12345"
GUNICORN_TIMEOUT = 60
CLIENT_TIMEOUT = 45.0  # above the pool's 30 s wait, below gunicorn's 60 s
assert CLUSTER != "main", "the drills never touch the shared cluster"


def log(msg: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("check", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Drills:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)},
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": "drill-only-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "SECURE_SSL_REDIRECT": "False",
            "EMAIL_URL": "consolemail://",
            "MEDIA_ROOT": str(self.out / "media"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.worker_logs: list[Path] = []
        self.queues: list[str] = ["celery"]
        self.results: dict = {"started": dt.datetime.now().isoformat(timespec="seconds")}
        self.checks: list[tuple[str, str, bool, str]] = []  # (drill, requirement, ok, detail)

    def check(self, drill: str, requirement: str, ok: bool, detail: str = "") -> None:
        self.checks.append((drill, requirement, bool(ok), detail))
        log(
            f"  {'PASS' if ok else 'FAIL'} [{drill}] {requirement}"
            + (f": {detail}" if detail else "")
        )

    # -- services ---------------------------------------------------------------------

    def pg_status(self) -> str:
        out = run(["pg_lsclusters", "--no-header"], capture_output=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if parts[:2] == [PG_VERSION, CLUSTER]:
                if parts[2] != str(PG_PORT):
                    raise SystemExit(f"cluster {PG_VERSION}/{CLUSTER} is on port {parts[2]}")
                return parts[3]
        return "missing"

    def pg_ready(self) -> bool:
        return (
            subprocess.run(
                ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT)], check=False
            ).returncode
            == 0
        )

    def pg_start(self) -> None:
        run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, CLUSTER, "start"])
        if not wait_until(self.pg_ready, 30):
            raise SystemExit("the drill PostgreSQL did not start")

    def pg_stop(self) -> None:
        run(
            [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                PG_VERSION,
                CLUSTER,
                "stop",
                "-m",
                "fast",
            ]
        )

    def setup_database(self) -> None:
        status = self.pg_status()
        if status == "missing":
            if port_open(PG_PORT):
                raise SystemExit(f"port {PG_PORT} is taken by something else")
            log(f"creating PostgreSQL cluster {PG_VERSION}/{CLUSTER} on port {PG_PORT}")
            run(
                [
                    "pg_createcluster",
                    PG_VERSION,
                    CLUSTER,
                    "-p",
                    str(PG_PORT),
                    "--",
                    "--auth-local=trust",
                    "--auth-host=trust",
                ],
                capture_output=True,
            )
        if self.pg_status() != "online":
            self.pg_start()
        pg = ["-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres"]
        run(["dropdb", *pg, "--if-exists", "--force", DB])
        run(["createdb", *pg, DB])
        t = time.monotonic()
        self.manage("migrate", "--noinput", "-v0")
        self.manage(
            "seed_demo",
            "--branches",
            str(self.args.branches),
            "--members-per-branch",
            str(self.args.members_per_branch),
        )
        self.results["seed_seconds"] = round(time.monotonic() - t, 1)
        if not (ROOT / "staticfiles" / "staticfiles.json").exists():
            self.manage("collectstatic", "--noinput", "-v0")

    def manage(self, *args: str, capture: bool = False) -> str:
        cp = run([PY, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True)
        if not capture and cp.stdout.strip():
            print(cp.stdout.strip())
        return cp.stdout

    def helper(self, *args: str):
        cp = run([PY, str(HELPER), *args], cwd=ROOT, env=self.env, capture_output=True)
        return json.loads(cp.stdout.strip().splitlines()[-1])

    def redis_start(self) -> None:
        data = self.out / "redis"
        data.mkdir(exist_ok=True)
        self.redis = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(REDIS_PORT),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--dir",
                str(data),
            ],
            stdout=(self.out / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        if not wait_until(self.redis_ping, 10):
            raise SystemExit("the drill Redis did not start")

    def redis_client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=REDIS_PORT, db=0, socket_timeout=2)

    def redis_ping(self) -> bool:
        try:
            return bool(self.redis_client().ping())
        except Exception:
            return False

    def redis_stop(self) -> None:
        if self.redis is None:
            return
        # SHUTDOWN writes the append-only file before exiting (the reply never comes).
        with contextlib.suppress(Exception):
            self.redis_client().shutdown()
        try:
            self.redis.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.redis.kill()
            self.redis.wait()
        self.redis = None

    def queue_length(self) -> int:
        """Messages waiting in any of the queues, plus those delivered but not acknowledged."""
        client = self.redis_client()
        waiting = sum(int(client.llen(q)) for q in self.queues)
        return waiting + int(client.hlen("unacked"))

    def web_start(self) -> None:
        self.web = subprocess.Popen(
            [
                str(Path(PY).with_name("gunicorn")),
                "portal.wsgi:application",
                "-b",
                f"127.0.0.1:{WEB_PORT}",
                "-w",
                "4",
                "--timeout",
                str(GUNICORN_TIMEOUT),
                "--access-logfile",
                str(self.out / "access.log"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=(self.out / "gunicorn.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        if not wait_until(lambda: self.healthz() == 200, 30, 0.5):
            raise SystemExit("gunicorn did not answer /healthz with 200")

    def web_stop(self) -> None:
        if self.web is not None and self.web.poll() is None:
            self.web.send_signal(signal.SIGTERM)
            try:
                self.web.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.web.kill()
                self.web.wait()
        self.web = None

    def web_workers(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.web.pid)], capture_output=True, text=True, check=False
        ).stdout
        return sorted(int(p) for p in out.split())

    def healthz(self) -> int | None:
        req = urllib.request.Request(
            f"{BASE}/healthz", headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    def worker_start(self) -> Path:
        log_file = self.out / f"worker-{len(self.worker_logs) + 1}.log"
        self.worker_logs.append(log_file)
        self.worker = subprocess.Popen(
            [
                str(Path(PY).with_name("celery")),
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "-Q",
                ",".join(self.queues),
                "-n",
                f"drill-{len(self.worker_logs)}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env={**self.env, "LOG_LEVEL": "INFO"},
            stdout=log_file.open("ab"),
            stderr=subprocess.STDOUT,
        )
        if not wait_until(lambda: "ready." in log_file.read_text(errors="replace"), 30):
            raise SystemExit(f"the Celery worker did not start, see {log_file}")
        return log_file

    def use_settings(self, module: str) -> None:
        """Restart gunicorn and the worker with another settings module (scripts/drills/...)."""
        log(f"web and worker now on DJANGO_SETTINGS_MODULE={module}")
        self.worker_stop()
        self.web_stop()
        self.env["DJANGO_SETTINGS_MODULE"] = module
        self.env["DATABASE_POOL_TIMEOUT"] = str(self.args.pool_timeout)
        self.results.setdefault("proposed_pool_timeout_s", self.args.pool_timeout)
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "scripts" / "drills")])
        self.web_start()
        self.worker_start()

    def worker_stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)  # warm shutdown: finishes its task
            try:
                self.worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
        self.worker = None

    @staticmethod
    def task_lines(log_file: Path) -> dict[str, int]:
        text = log_file.read_text(errors="replace") if log_file.exists() else ""
        return {
            "received": len(re.findall(r"Task [\w.]+\[[0-9a-f-]+\] received", text)),
            "succeeded": len(re.findall(r"Task [\w.]+\[[0-9a-f-]+\] succeeded", text)),
            "failed": len(re.findall(r"Task [\w.]+\[[0-9a-f-]+\] raised", text)),
        }

    @staticmethod
    def task_failures(log_file: Path) -> list[tuple[str, str]]:
        text = log_file.read_text(errors="replace") if log_file.exists() else ""
        return re.findall(r"Task ([\w.]+)\[[0-9a-f-]+\] raised unexpected: (\w+)", text)

    @staticmethod
    def retried_tasks(log_file: Path) -> tuple[set[str], set[str]]:
        """Ids of the tasks that asked for a retry, and of those that later succeeded."""
        text = log_file.read_text(errors="replace") if log_file.exists() else ""
        retried = set(re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] retry: Retry in", text))
        succeeded = set(re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] succeeded", text))
        return retried, retried & succeeded

    def stop_all(self) -> None:
        self.worker_stop()
        self.web_stop()
        self.redis_stop()
        try:
            if self.pg_status() == "down":
                self.pg_start()  # never leave it stopped mid-drill (then stopped below)
            if not self.args.keep and self.pg_status() == "online":
                self.pg_stop()
        except Exception as exc:  # report, but do not hide the drills' own error
            log(f"could not settle the drill cluster: {exc}")

    # -- load ---------------------------------------------------------------------------

    def prepare(self, name: str, secretaries: int, members: int) -> Path:
        plan = self.out / f"plan-{name}.json"
        run(
            [
                PY,
                str(LOADTEST / "prepare.py"),
                "--out",
                str(plan),
                "--secretaries",
                str(secretaries),
                "--members",
                str(members),
            ],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
        )
        return plan

    def load(
        self,
        name: str,
        plan: Path,
        duration: float,
        *,
        background: bool = False,
        tolerate: bool = False,
    ):
        results = self.out / f"results-{name}.json"
        started = self.out / f"started-{name}"
        started.unlink(missing_ok=True)
        cmd = [
            PY,
            str(LOADTEST / "load.py"),
            "--base-url",
            BASE,
            "--plan",
            str(plan),
            "--results",
            str(results),
            "--duration",
            str(duration),
            "--timeout",
            str(CLIENT_TIMEOUT),
            "--think",
            str(self.args.think),
            "--sessions-file",
            str(self.out / "sessions.json"),
            "--started-file",
            str(started),
        ]
        if tolerate:
            cmd.append("--tolerate-errors")
        output = (self.out / f"load-{name}.log").open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        if background:
            if not wait_until(lambda: started.exists() or proc.poll() is not None, 600, 0.5):
                raise SystemExit("the load test did not start")
            if proc.poll() is not None:
                raise SystemExit(f"the load test ended early, see {output.name}")
            return proc, results, float(started.read_text())
        proc.wait(timeout=duration + 900)
        print((self.out / f"load-{name}.log").read_text())
        return proc.returncode, results

    def verify(self, name: str, plan: Path, results: Path) -> dict:
        report = self.out / f"verify-{name}.json"
        cp = run(
            [
                PY,
                str(LOADTEST / "verify.py"),
                "--plan",
                str(plan),
                "--results",
                str(results),
                "--report",
                str(report),
            ],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            check=False,
        )
        print(cp.stdout.strip())
        if not report.exists():
            print(cp.stderr[-3000:])
            return {"ok": False, "problems": ["verify.py failed"]}
        return json.loads(report.read_text())

    def wait_queue_drained(self, timeout: float) -> float | None:
        t = time.monotonic()
        if wait_until(lambda: self.queue_length() == 0, timeout, 0.5):
            return round(time.monotonic() - t, 1)
        return None

    def drill_load(self) -> None:
        log(
            f"drill load: {self.args.secretaries} secretaries + {self.args.members} members, "
            f"{self.args.duration:.0f} s"
        )
        plan = self.prepare("load", self.args.secretaries, self.args.members)
        code, results = self.load("load", plan, self.args.duration)
        data = json.loads(results.read_text())
        verdict = self.verify("load", plan, results)
        queued = self.queue_length()
        drained = self.wait_queue_drained(300)
        tasks = self.task_lines(self.worker_logs[-1])
        self.results["load"] = {
            "duration_s": round(data["duration"], 1),
            "requests": data["requests"],
            "requests_per_s": round(data["requests"] / data["duration"], 1),
            "errors": data["errors"],
            "conflicts": data["conflicts"],
            "p50_ms_all": data["p50_ms_all"],
            "p95_ms_all": data["p95_ms_all"],
            "endpoints": data["endpoints"],
            "login": data["login"],
            "database": verdict,
            "queue_after_load": queued,
            "queue_drained_after_s": drained,
            "worker_tasks": tasks,
            "think_s": self.args.think,
        }
        self.check(
            "load", "zero errors", code == 0 and data["errors"] == 0, f"{data['errors']} errors"
        )
        self.check(
            "load", "no lost or duplicated rows", verdict["ok"], "; ".join(verdict["problems"][:3])
        )
        self.check(
            "load",
            "the refresh tasks all ran",
            drained is not None and tasks["failed"] == 0,
            f"queue {queued} at the end, drained in {drained} s, {tasks}",
        )

    # -- PostgreSQL ---------------------------------------------------------------------

    def drill_pg(
        self,
        name: str,
        secretaries: int,
        members: int,
        duration: float,
        stop_after: float,
        outage: float,
    ) -> None:
        log(
            f"drill {name}: PostgreSQL down for {outage:.0f} s under load "
            f"({secretaries} secretaries + {members} members)"
        )
        plan = self.prepare(name, secretaries, members)
        workers_before = self.web_workers()
        worker_log = self.worker_logs[-1]
        tasks_before = self.task_lines(worker_log)
        proc, results, t0 = self.load(name, plan, duration, background=True, tolerate=True)
        time.sleep(max(0.0, t0 + stop_after - time.time()))
        t_stop = time.time()
        try:
            self.pg_stop()
            t_down = time.time()
            time.sleep(outage)
        finally:
            self.pg_start()
        t_up = time.time()
        proc.wait(timeout=duration + 300)
        print((self.out / f"load-{name}.log").read_text())
        data = json.loads(results.read_text())
        verdict = self.verify(name, plan, results)
        health = self.healthz()
        workers_after = self.web_workers()
        worker_alive = self.worker is not None and self.worker.poll() is None
        drained = self.wait_queue_drained(300)
        tasks_after = self.task_lines(worker_log)
        # Recovered: when the last failed request ended. Each gunicorn process has its own
        # pool, which reconnects with a backoff (1, 2, 4, 8, 16 s...), so one process can
        # still fail for a while after another is back. Required: recovered within 60 s of
        # PostgreSQL being back, then at least 10 s of the run without an error.
        run_end = data["t0_epoch"] + data["duration"]
        failed_ends = [
            data["t0_epoch"] + start + latency
            for endpoint, status, latency, start, ok in data["records"]
            if not ok and data["t0_epoch"] + start + latency >= t_stop
        ]
        t_recovered = max([t_up, *failed_ends])
        recovery = round(t_recovered - t_up, 1)
        before, during, after = [], [], []
        for endpoint, status, latency, start, ok in data["records"]:
            s = data["t0_epoch"] + start
            e = s + latency
            bucket = before if e < t_stop else after if s > t_recovered else during
            bucket.append((endpoint, status, latency, ok))
        errors = lambda rs: [r for r in rs if not r[3]]  # noqa: E731
        statuses: dict[str, int] = {}
        for r in errors(during):
            statuses[str(r[1])] = statuses.get(str(r[1]), 0) + 1
        ok_after = [r for r in after if r[3]]
        steady = round(run_end - t_recovered, 1)
        max_fail_latency = max((r[2] for r in errors(during)), default=0.0)
        hung = [r for r in data["records"] if r[1] in ("timeout", "connection")]
        gunicorn_log = (self.out / "gunicorn.log").read_text(errors="replace")
        self.results[name] = {
            "outage_s": round(t_up - t_stop, 1),
            "stop_command_s": round(t_down - t_stop, 1),
            "requests": data["requests"],
            "requests_before": len(before),
            "requests_during": len(during),
            "requests_after": len(after),
            "errors_before": len(errors(before)),
            "errors_during": len(errors(during)),
            "error_statuses_during": statuses,
            "max_latency_of_a_failed_request_s": round(max_fail_latency, 1),
            "timeouts_or_resets": len(hung),
            "errors_after_recovery": len(errors(after)),
            "ok_after_recovery": len(ok_after),
            "last_failure_after_start_s": recovery,
            "error_free_seconds_at_the_end": steady,
            "healthz_after": health,
            "gunicorn_workers_restarted": workers_before != workers_after,
            "gunicorn_worker_timeouts": gunicorn_log.count("WORKER TIMEOUT"),
            "celery_worker_alive": worker_alive,
            "celery_tasks_failed_during": tasks_after["failed"] - tasks_before["failed"],
            "queue_drained_after_s": drained,
            "p95_ms_all": data["p95_ms_all"],
            "endpoints": data["endpoints"],
            "database": verdict,
        }
        self.check(
            name,
            "no partial writes, nothing lost or duplicated",
            verdict["ok"],
            "; ".join(verdict["problems"][:3]),
        )
        self.check(
            name,
            "requests fail cleanly (an HTTP error, no hang or reset)",
            not hung,
            f"{len(hung)} timeouts/resets; failures {statuses}, "
            f"slowest failure {max_fail_latency:.1f} s",
        )
        self.check(
            name,
            "the app recovers without a restart",
            recovery <= 60
            and steady >= 10
            and len(ok_after) >= 20
            and not errors(after)
            and health == 200
            and workers_before == workers_after,
            f"last failure {recovery} s after PostgreSQL was back, then {steady} s and "
            f"{len(ok_after)} requests without an error; healthz {health}, "
            f"workers {'unchanged' if workers_before == workers_after else 'restarted'}",
        )
        self.check(name, "no errors before the outage", not errors(before))
        self.check(name, "the Celery worker survives", worker_alive)
        lost = tasks_after["failed"] - tasks_before["failed"]
        raised = self.task_failures(worker_log)[tasks_before["failed"] :]
        retried, retried_ok = self.retried_tasks(worker_log)
        self.results[name]["celery_task_failures"] = raised
        self.results[name]["celery_tasks_retried"] = len(retried)
        self.results[name]["celery_tasks_retried_then_succeeded"] = len(retried_ok)
        self.check(
            name,
            "no Celery task lost in the outage",
            lost == 0 and retried == retried_ok and drained is not None,
            (
                f"{lost} tasks raised and were acknowledged, not retried: "
                + ", ".join(sorted({f"{t} ({e})" for t, e in raised}))
                if lost
                else f"{len(retried)} tasks retried after the outage, "
                f"{len(retried_ok)} of them then succeeded; queue drained: {drained is not None}"
            ),
        )

    # -- Redis --------------------------------------------------------------------------

    def client_for(self, username: str, recorder: Recorder) -> Client:
        client = Client(BASE, CLIENT_TIMEOUT, recorder)
        client.login(username, PASSWORD)
        return client

    def save_attendance(self, client: Client, code: str) -> tuple[object, list]:
        """One secretary save: GET the page, POST the list back. (status, fields sent)"""
        path = f"/sessions/{code}/attendance/"
        status, _, page = client.request("attendance GET", "GET", path)
        if status != 200 or VERSION_RE.search(page) is None:
            return f"page {status}", []
        version = int(VERSION_RE.search(page).group(1))
        ids = sorted({int(m) for m in STATUS_RE.findall(page)})
        fields = [("csrfmiddlewaretoken", CSRF_RE.search(page).group(1)), ("version", str(version))]
        fields += [(f"status-{m}", s) for m, s in attendance_pattern(ids, version).items()]
        try:
            status, _, _ = client.request("attendance POST", "POST", path, fields, expect=(302,))
        except RequestFailed as exc:
            status = str(exc)
        return status, fields

    def drill_redis(self) -> None:
        log("drill redis: Redis stopped in normal use")
        plan = json.loads(self.prepare("redis", 8, 2).read_text())
        codes = [s["session"] for s in plan["secretaries"]]
        recorder = Recorder(t0=time.monotonic())
        secretaries = [self.client_for(s["username"], recorder) for s in plan["secretaries"]]
        pages = self.helper("pages")
        clients = {who: self.client_for(who, recorder) for who in {p["who"] for p in pages}}

        def visit(path: str, who: str) -> tuple[object, float]:
            t = time.monotonic()
            try:
                status, _, _ = clients[who].request(path, "GET", path, expect=(200,))
            except RequestFailed as exc:
                status = str(exc)
            return status, round(time.monotonic() - t, 2)

        # 1. Tasks waiting in Redis before it stops: no worker, five saves (five refreshes).
        self.worker_stop()
        queued_before = self.queue_length()
        pre = [self.save_attendance(secretaries[i], codes[i])[0] for i in range(5)]
        queued = self.queue_length()
        baseline = {f"{p['who']} {p['path']}": visit(p["path"], p["who"]) for p in pages}

        # 2. Redis down.
        t_stop = time.time()
        self.redis_stop()
        try:
            down = {f"{p['who']} {p['path']}": visit(p["path"], p["who"]) for p in pages}
            healthz_down = self.healthz()
            # Writes: a member's self-study, a fresh log-in, secretaries' saves, a resubmit.
            member = clients["dangyuan"]
            try:
                _, _, page = member.request("self-study GET", "GET", "/me/study/")
                ss_status, _, _ = member.request(
                    "self-study POST",
                    "POST",
                    "/me/study/",
                    hidden_fields(page)
                    + [
                        ("date", plan["today"]),
                        ("hours", "1"),
                        ("material", f"Redis 演练 {plan['run_id']}"),
                    ],
                    expect=(302,),
                )
            except RequestFailed as exc:
                ss_status = str(exc)
            try:
                fresh = Client(BASE, CLIENT_TIMEOUT, recorder)
                fresh.login("reviewer", PASSWORD)
                login_status = 302
            except RequestFailed as exc:
                login_status = str(exc)
            during = {}
            for i in range(5, 8):
                t = time.monotonic()
                status, fields = self.save_attendance(secretaries[i], codes[i])
                during[codes[i]] = {
                    "status": status,
                    "seconds": round(time.monotonic() - t, 2),
                    "fields": fields,
                }
            # The secretary who saw the error submits the same form again.
            code = codes[5]
            try:
                rs, _, page = secretaries[5].request(
                    "attendance POST (resubmit)",
                    "POST",
                    f"/sessions/{code}/attendance/",
                    during[code]["fields"],
                    expect=(302,),
                )
                resubmit = {"status": rs, "conflict_message": CONFLICT_MESSAGE in page}
            except RequestFailed as exc:
                resubmit = {"status": str(exc), "conflict_message": False}
            versions = self.helper("versions", *codes)
        finally:
            t_start = time.time()
            self.redis_start()
        outage = round(time.time() - t_stop, 1)

        # 3. Redis back: what waited is still there, a worker runs it.
        queued_after_restart = self.queue_length()
        log_file = self.worker_start()
        drained = self.wait_queue_drained(120)
        time.sleep(1)
        tasks = self.task_lines(log_file)
        dashboard = self.helper("dashboard", *codes[:8])
        failing = {k: v for k, v in down.items() if baseline.get(k, (200,))[0] != v[0]}
        self.results["redis"] = {
            "outage_s": outage,
            "redis_back_after_s": round(time.time() - t_start, 1),
            "pages_checked": len(pages),
            "pages_ok_while_down": sum(1 for k, v in down.items() if v[0] == 200),
            "pages_failing_while_down": {k: v[0] for k, v in failing.items()},
            "healthz_while_down": healthz_down,
            "baseline_not_200": {k: v[0] for k, v in baseline.items() if v[0] != 200},
            "self_study_post_while_down": ss_status,
            "login_while_down": login_status,
            "saves_before_outage": pre,
            "queue_before_saves": queued_before,
            "tasks_queued_before_outage": queued - queued_before,
            "saves_while_down": {
                c: {k: v for k, v in d.items() if k != "fields"} for c, d in during.items()
            },
            "versions_after": {c: versions.get(c) for c in codes[5:8]},
            "resubmit_after_error": resubmit,
            "queue_after_redis_restart": queued_after_restart,
            "queue_drained_after_s": drained,
            "worker_tasks_after_restart": tasks,
            "dashboard": dashboard,
        }
        lost = [c for c in codes[5:8] if dashboard[c]["stale"]]
        saved_but_500 = [c for c, d in during.items() if d["status"] != 302 and versions.get(c)]
        self.check(
            "redis",
            "pages still work while Redis is down",
            not failing,
            ", ".join(f"{k} -> {v[0]}" for k, v in failing.items()),
        )
        self.check(
            "redis",
            "writes answer normally while Redis is down",
            ss_status == 302 and not saved_but_500,
            f"self-study {ss_status}; attendance saves answered "
            f"{[d['status'] for d in during.values()]}, committed: {saved_but_500}",
        )
        self.check(
            "redis",
            "tasks queued before the outage run once Redis is back",
            queued_after_restart >= queued - queued_before
            and drained is not None
            and tasks["succeeded"] >= queued - queued_before,
            f"{queued - queued_before} queued, {queued_after_restart} after restart, "
            f"{tasks['succeeded']} succeeded",
        )
        self.check(
            "redis",
            "no task lost for writes made while Redis was down",
            not lost,
            f"dashboard still stale for {lost} (their refresh was never queued)",
        )

    # -- worker crash -------------------------------------------------------------------

    def drill_worker(self) -> None:
        log("drill worker: tests/reports/test_worker_crash.py on the drill services")
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(
            {
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/postgres",
                "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/15",
            }
        )
        t = time.monotonic()
        cp = run(
            [
                PY,
                "-m",
                "pytest",
                "tests/reports/test_worker_crash.py",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=False,
        )
        (self.out / "worker-crash.log").write_text(cp.stdout + cp.stderr)
        tail = [line for line in cp.stdout.strip().splitlines() if line.strip()][-1:]
        self.results["worker"] = {
            "test": "tests/reports/test_worker_crash.py",
            "exit_code": cp.returncode,
            "seconds": round(time.monotonic() - t, 1),
            "summary": tail[0] if tail else "",
        }
        self.check(
            "worker",
            "a worker killed mid-task loses and doubles nothing",
            cp.returncode == 0,
            tail[0] if tail else "",
        )

    def markdown(self) -> str:
        """The outcome as Markdown tables, to paste into docs/drills.md."""
        lines = [f"Drills of {self.results['started']} (`scripts/drills/run.py`)", ""]
        lines += ["| drill | requirement | outcome | detail |", "|---|---|---|---|"]
        for drill, requirement, ok, detail in self.checks:
            detail = detail.replace("|", "/")
            lines.append(f"| {drill} | {requirement} | {'PASS' if ok else 'FAIL'} | {detail} |")
        for name in ("load", "pg", "pg-proposed", "pg-long", "pg-long-proposed"):
            data = self.results.get(name)
            if not data:
                continue
            lines += ["", f"{name}: {data['requests']} requests, p95 {data['p95_ms_all']} ms", ""]
            lines += [
                "| endpoint | requests | errors | p50 ms | p95 ms | max ms |",
                "|---|---|---|---|---|---|",
            ]
            for row in data["endpoints"]:
                lines.append(
                    f"| {row['endpoint']} | {row['requests']} | {row['errors']} | {row['p50_ms']} "
                    f"| {row['p95_ms']} | {row['max_ms']} |"
                )
        return "\n".join(lines) + "\n"

    # -- main ---------------------------------------------------------------------------

    def main(self) -> int:
        for port, what in ((REDIS_PORT, "Redis"), (WEB_PORT, "gunicorn")):
            if port_open(port):
                raise SystemExit(f"port {port} (drill {what}) is already in use")
        only = set(self.args.only.split(","))
        try:
            log(f"output: {self.out}")
            self.setup_database()
            # One worker for every queue the settings route to (interactive, reports, ...).
            self.queues = self.helper("queues")
            self.results["queues"] = self.queues
            self.redis_start()
            self.web_start()
            self.worker_start()
            if "load" in only:
                self.drill_load()
            if "pg" in only:
                self.drill_pg(
                    "pg",
                    self.args.secretaries,
                    self.args.members,
                    duration=45,
                    stop_after=12,
                    outage=5,
                )
            if "pg-long" in only:
                self.drill_pg("pg-long", 10, 40, duration=100, stop_after=10, outage=40)
            if {"pg-proposed", "pg-long-proposed"} & only:
                # The same outages with the database settings proposed in docs/drills.md.
                self.use_settings("settings_pool_timeout")
                if "pg-proposed" in only:
                    self.drill_pg(
                        "pg-proposed",
                        self.args.secretaries,
                        self.args.members,
                        duration=45,
                        stop_after=12,
                        outage=5,
                    )
                if "pg-long-proposed" in only:
                    self.drill_pg(
                        "pg-long-proposed", 10, 40, duration=100, stop_after=10, outage=40
                    )
                self.use_settings("portal.settings.production")
            if "redis" in only:
                self.drill_redis()
            if "worker" in only:
                self.drill_worker()
        finally:
            self.stop_all()
            self.results["checks"] = [
                {"drill": d, "requirement": r, "ok": ok, "detail": detail}
                for d, r, ok, detail in self.checks
            ]
            self.results["finished"] = dt.datetime.now().isoformat(timespec="seconds")
            (self.out / "summary.json").write_text(
                json.dumps(self.results, ensure_ascii=False, indent=1, default=str)
            )
            (self.out / "summary.md").write_text(self.markdown())
        failed = [c for c in self.checks if not c[2]]
        log(
            f"{len(self.checks) - len(failed)}/{len(self.checks)} checks passed; "
            f"details in {self.out / 'summary.json'}"
        )
        for drill, requirement, _, detail in failed:
            log(f"  FAILED [{drill}] {requirement}: {detail}")
        return 1 if failed else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="load and fault drills (see the docstring)")
    parser.add_argument("--only", default="load,pg,pg-long,redis,worker")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--secretaries", type=int, default=50)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause before each POST")
    parser.add_argument("--branches", type=int, default=60)
    parser.add_argument("--members-per-branch", type=int, default=25)
    parser.add_argument("--out", default=f"/tmp/xuexi-drills-{dt.datetime.now():%Y%m%d-%H%M%S}")
    parser.add_argument(
        "--pool-timeout",
        type=float,
        default=2.0,
        help="pool timeout (s) of the *-proposed drills (settings_pool_timeout.py)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the drill cluster running")
    args = parser.parse_args(argv)
    args.duration = min(args.duration, 600.0)
    return args


if __name__ == "__main__":
    if not shutil.which("pg_ctlcluster") or not shutil.which("redis-server"):
        print("the drills need pg_ctlcluster (postgresql-common) and redis-server", file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(Drills(parse_args(sys.argv[1:])).main())
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(f"drills could not run: {exc.code}", file=sys.stderr)
            sys.exit(2)
        raise
