"""`make bench`: the portal's performance figures on this machine, printed as one table.

    python bench/run.py --quick        # small dataset, a smoke run (under 2 minutes)
    python bench/run.py                # 2,000 branches, then the same 4x larger (8,000)
    python bench/run.py --years-check  # also a 4-year dataset for the partitioning question

For each dataset it creates a scratch PostgreSQL database bench_<...> (dropped at the end),
seeds it with seed_demo, and measures, each figure the median over repeated runs:

1. assess() of the whole tree and year: wall time, SQL queries, and the floor: one
   hand-written SQL statement computing the same per-branch and per-member counts (it is
   checked against assess's figures) and the ratio;
2. pages under load from a separate process (wrk, else bench/loadgen.py) against gunicorn
   on 127.0.0.1 (4 sync workers = 2 x cores): the reviewer dashboard at the root, a 党总支
   and a branch; the attendance page of a 200-member branch; saving it; p50/p95 at 8
   concurrent clients, and SQL queries per request (Django's test Client, same database);
3. annual summaries: PDFs per second with 1 and with 2 Celery worker processes, and the
   projected time for every organization of the dataset;
4. ledger import: rows per second for a workbook of 100,000 考勤 rows;
5. with two datasets, how each figure grows (x4 data).

Needs PostgreSQL (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/12: the bench empties its own queue there).
Every load loop is bounded in time and in requests and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
CONNECTIONS = 8
GUNICORN_WORKERS = 2 * (os.cpu_count() or 2)

QUICK = {
    "scales": [(40, "quick")],
    "reps": 3,
    "duration": 1.0,
    "warmup": 1.0,
    "fresh_sessions": 300,
    "import_rows": 10_000,
    "import_reps": 3,
    "pdf_batch": 4,
    "pdf_reps": 1,
    "assess_reps": 3,
}
FULL = {
    "scales": [(2000, "2k"), (8000, "8k")],
    "reps": 3,
    "duration": 8.0,
    "warmup": 2.0,
    "fresh_sessions": 1500,
    "import_rows": 100_000,
    "import_reps": 3,
    "pdf_batch": 12,
    "pdf_reps": 3,
    "assess_reps": 3,
}


def log(msg: str) -> None:
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"[{time.strftime('%H:%M:%S')} load {load}] {msg}", file=sys.stderr, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------


class Env:
    def __init__(self, db: str, workdir: Path, queue: str) -> None:
        self.db = db
        self.workdir = workdir
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
        self.vars = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(ROOT),
            "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"{PG_URL}/{db}",
            "REDIS_URL": REDIS_URL,
            "SECURE_SSL_REDIRECT": "False",
            # Past sessions of the fixture stay writable.
            "ATTENDANCE_LOCK_DAYS": "100000",
            "BENCH_WORKDIR": str(workdir),
            "LOG_LEVEL": "WARNING",
        }

    def run(self, *args: str, timeout: float = 3600) -> str:
        proc = subprocess.run(
            list(args), cwd=ROOT, env=self.vars, capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-5000:])
            raise SystemExit(f"failed: {' '.join(args[:4])} (exit {proc.returncode})")
        return proc.stdout

    def manage(self, *args: str, timeout: float = 3600) -> str:
        return self.run(PY, "manage.py", *args, timeout=timeout)

    def measure(self, *args: str, timeout: float = 3600) -> dict:
        out = self.run(PY, str(BENCH / "measure.py"), *args, timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])


def psql_admin(sql: str) -> None:
    """CREATE/DROP DATABASE through psycopg (installed with the project), no psql needed."""
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def create_db(name: str) -> None:
    assert name.startswith("bench_")
    psql_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql_admin(f'CREATE DATABASE "{name}"')


def drop_db(name: str) -> None:
    assert name.startswith("bench_")
    psql_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_version() -> str:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres") as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def redis_flush_queue(queue: str = "") -> None:
    """Empty the bench's own Redis database: attendance saves enqueue dashboard refreshes
    (queue "interactive") that no worker of the bench consumes, and the summary runs leave
    their progress keys. BENCH_REDIS_URL must name a database nothing else uses."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM to the process group we started (gunicorn or celery and their workers)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


# ---------------------------------------------------------------------------------------
# HTTP: log-in and load
# ---------------------------------------------------------------------------------------


def _cookies(headers) -> dict[str, str]:
    jar = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            k, _, v = pair.partition("=")
            jar[k.strip()] = v.strip()
    return jar


def login(port: int, username: str, password: str) -> dict[str, str]:
    """The log-in form, as a browser submits it: returns the cookies (sessionid, csrftoken)."""
    import http.client
    import re

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/login/")
    r = conn.getresponse()
    body = r.read().decode()
    jar = _cookies(r.getheaders())
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)[1]
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/"}
    )
    conn.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        },
    )
    r = conn.getresponse()
    r.read()
    jar.update(_cookies(r.getheaders()))
    conn.close()
    if r.status != 302 or "sessionid" not in jar:
        raise SystemExit(f"log-in of {username} failed (HTTP {r.status})")
    return jar


def find_wrk(mode: str, allow_install: bool) -> str | None:
    """The default is bench/loadgen.py: it waits for the requests in flight when its time
    is up and counts them, where wrk drops them (a slow page then shows only the requests
    that happened to finish, and the server is left working through the abandoned ones).
    --loadgen wrk uses wrk, installed with apt-get when missing and running as root."""
    if mode == "python":
        return None
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if allow_install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk not found: apt-get install wrk")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "wrk"]):  # fmt: skip
            try:
                ok = subprocess.run(cmd, env=env, capture_output=True, timeout=300).returncode == 0
            except subprocess.TimeoutExpired:
                ok = False
            if ok and shutil.which("wrk"):
                return shutil.which("wrk")
    log("wrk not available: using bench/loadgen.py")
    return None


class Load:
    """One load run: wrk (GET or the save script) or the Python fallback, as a subprocess."""

    def __init__(self, wrk: str | None, port: int, workdir: Path) -> None:
        self.wrk, self.port, self.workdir = wrk, port, workdir

    def run(self, *, mode: str, path: str, cookie: str, duration: float,
            codes: list[str] | None = None, bodies: list[str] | None = None,
            max_requests: int = 100_000) -> dict:  # fmt: skip
        codes_file = self.workdir / "codes.txt"
        bodies_file = self.workdir / "bodies.txt"
        if codes is not None:
            codes_file.write_text("\n".join(codes) + "\n")
        if bodies is not None:
            bodies_file.write_text("\n".join(bodies) + "\n")
        base = f"http://127.0.0.1:{self.port}"
        if self.wrk:
            secs = f"{max(1, round(duration))}s"
            common = [self.wrk, f"-t{CONNECTIONS}", f"-c{CONNECTIONS}", f"-d{secs}", "--timeout", "30s"]
            if mode == "get":
                cmd = [*common, "-s", str(BENCH / "wrk" / "get.lua"), base + path, "--", cookie]
            else:
                cmd = [*common, "-s", str(BENCH / "wrk" / "save.lua"), base + "/", "--", mode,
                       str(codes_file), str(bodies_file), cookie, str(CONNECTIONS)]  # fmt: skip
        else:
            cmd = [PY, str(BENCH / "loadgen.py"), "--base", base, "--mode", mode, "--path", path,
                   "--cookie", cookie, "--connections", str(CONNECTIONS),
                   "--duration", str(duration), "--max-requests", str(max_requests)]  # fmt: skip
            if codes is not None:
                cmd += ["--codes", str(codes_file)]
            if bodies is not None:
                cmd += ["--bodies", str(bodies_file)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 600)
        line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
        if line is None:
            raise SystemExit(f"load generator failed: {out.stdout[-2000:]} {out.stderr[-2000:]}")
        doc = json.loads(line[len("WRKJSON "):])
        doc["rps"] = doc["ok"] / doc["duration_s"] if doc["duration_s"] else None
        if not doc["ok"]:
            # Nothing answered in time (wrk counts only what finished): no latency to report.
            doc["p50_ms"] = doc["p95_ms"] = None
        self.drain()
        return doc

    def drain(self, timeout: float = 600) -> None:
        """Wait until every gunicorn worker is idle again: GUNICORN_WORKERS parallel health
        checks all answering fast, so that one run's leftovers never slow the next."""
        import concurrent.futures
        import http.client

        def probe(_):
            t0 = time.perf_counter()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                c.request("GET", "/healthz")
                c.getresponse().read()
                c.close()
            except OSError:
                return 999.0
            return time.perf_counter() - t0

        deadline = time.time() + timeout
        with concurrent.futures.ThreadPoolExecutor(GUNICORN_WORKERS) as pool:
            while time.time() < deadline:
                if max(pool.map(probe, range(GUNICORN_WORKERS))) < 0.25:
                    return
                time.sleep(0.5)


# ---------------------------------------------------------------------------------------
# One dataset
# ---------------------------------------------------------------------------------------


def bench_scale(branches: int, tag: str, cfg: dict, opts, wrk: str | None, work: Path) -> dict:
    db = f"bench_{tag}_{os.getpid()}"
    scale_dir = work / tag
    scale_dir.mkdir(parents=True, exist_ok=True)
    queue = f"bench-{os.getpid()}"
    env = Env(db, work, queue)
    res: dict = {"branches": branches, "db": db, "load": {}}
    log(f"{tag}: database {db}")
    create_db(db)
    try:
        env.manage("migrate", "--noinput", "-v0")
        log(f"{tag}: seed_demo --branches {branches}")
        started = time.perf_counter()
        env.manage("seed_demo", "--branches", str(branches), "--members-per-branch", "25",
                   "--years", str(opts.years))  # fmt: skip
        res["seed_s"] = time.perf_counter() - started
        taken = CONNECTIONS * (cfg["reps"] + 1) + 1
        fx = env.measure("fixture", "--fresh", str(cfg["fresh_sessions"]), "--taken", str(taken))
        env.measure("analyze")
        (scale_dir / "fixture.json").write_text(json.dumps(fx))
        res["loadavg_start"] = os.getloadavg()

        if not opts.skip_assess:
            log(f"{tag}: assess x{cfg['assess_reps']} and the SQL floor")
            res["assess"] = env.measure("assess", "--reps", str(cfg["assess_reps"]))
            log(f"{tag}: assess median {res['assess']['assess_median_s']:.2f} s, "
                f"floor {res['assess']['floor_median_s']:.2f} s")  # fmt: skip
            res["explain"] = env.measure("explain")
        log(f"{tag}: queries per request")
        res["queries"] = env.measure("queries", "--fixture", str(scale_dir / "fixture.json"))

        if not opts.skip_load:
            res["load"] = bench_pages(env, fx, cfg, wrk, scale_dir)
        redis_flush_queue(queue)
        if not opts.skip_pdf:
            res["pdf"] = bench_pdf(env, cfg, queue)
        redis_flush_queue(queue)
        if not opts.skip_import:
            log(f"{tag}: ledger import of {cfg['import_rows']:,} rows x{cfg['import_reps']}")
            res["import"] = env.measure(
                "import", "--rows", str(cfg["import_rows"]), "--reps", str(cfg["import_reps"]),
                "--workdir", str(scale_dir),
            )  # fmt: skip
            log(f"{tag}: import {res['import']['rows_per_s']:,.0f} rows/s")
        res["loadavg_end"] = os.getloadavg()
    finally:
        redis_flush_queue(queue)
        if not opts.keep_db:
            drop_db(db)
    return res


def bench_history(branches: int, years: int, cfg: dict, opts, work: Path) -> dict:
    """The same tree with `years` years of attendance: do the year-filtered queries (assess,
    the floor) pay for the other years? The argument for or against partitioning by year."""
    tag = f"{years}y"
    db = f"bench_{tag}_{os.getpid()}"
    env = Env(db, work, "")
    res: dict = {"branches": branches, "years": years, "db": db}
    log(f"{tag}: database {db}, seed_demo --branches {branches} --years {years}")
    create_db(db)
    try:
        env.manage("migrate", "--noinput", "-v0")
        started = time.perf_counter()
        env.manage("seed_demo", "--branches", str(branches), "--members-per-branch", "25",
                   "--years", str(years))  # fmt: skip
        res["seed_s"] = time.perf_counter() - started
        env.measure("analyze")
        res["loadavg_start"] = os.getloadavg()
        res["assess"] = env.measure("assess", "--reps", str(cfg["assess_reps"]))
        res["explain"] = env.measure("explain")
        res["loadavg_end"] = os.getloadavg()
        log(f"{tag}: assess {res['assess']['assess_median_s']:.2f} s, floor "
            f"{res['assess']['floor_median_s']:.3f} s, entries {res['explain']['entries']:,}")  # fmt: skip
    finally:
        if not opts.keep_db:
            drop_db(db)
    return res


def history_table(one: dict, many: dict) -> str:
    head = ["year-filtered work", "1 year of data", f"{many['years']} years of data", "ratio"]
    rows = []

    def add(label, a, b, spec=".3f"):
        rows.append([label, f"{a:{spec}}", f"{b:{spec}}", f"{b / a:.2f}x" if a else ""])

    e1, e4 = one["explain"], many["explain"]
    add("attendance entries (rows)", e1["entries"], e4["entries"], ",")
    add("entries in the year assessed", e1["entries_in_year"], e4["entries_in_year"], ",")
    add("assess wall time (s)", one["assess"]["assess_median_s"], many["assess"]["assess_median_s"])
    add("SQL floor (s)", one["assess"]["floor_median_s"], many["assess"]["floor_median_s"])
    for name in e1["plans"]:
        add(f"EXPLAIN ANALYZE {name} (s)", e1["plans"][name]["median_s"], e4["plans"][name]["median_s"])
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
    fmt_row = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([fmt_row(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [fmt_row(r) for r in rows])


def bench_pages(env: Env, fx: dict, cfg: dict, wrk: str | None, scale_dir: Path) -> dict:
    port = free_port()
    log(f"gunicorn -w {GUNICORN_WORKERS} on 127.0.0.1:{port}")
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "portal.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", str(GUNICORN_WORKERS), "--timeout", "300", "--graceful-timeout", "5",
         "--log-level", "warning"],
        cwd=ROOT, env=env.vars, start_new_session=True, stdout=subprocess.DEVNULL, stderr=open(scale_dir / "gunicorn.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    out: dict = {}
    try:
        import http.client

        deadline = time.time() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("gunicorn did not start: see " + str(scale_dir / "gunicorn.log"))
            time.sleep(0.5)
        reviewer = login(port, "reviewer", "demo12345")
        secretary = login(port, fx["user"], fx["password"])
        cookie_r = "; ".join(f"{k}={v}" for k, v in reviewer.items())
        cookie_s = "; ".join(f"{k}={v}" for k, v in secretary.items())
        csrf = secretary["csrftoken"]
        load = Load(wrk, port, scale_dir)
        year = fx["year"]

        def body(absent: int) -> str:
            fields = [("csrfmiddlewaretoken", csrf)]
            fields += [
                (f"status-{pk}", "缺席" if k == absent else "出席")
                for k, pk in enumerate(fx["member_ids"])
            ]
            return urllib.parse.urlencode(fields) + "&version=%VERSION%"

        def series(name: str, **kw) -> None:
            load.run(duration=cfg["warmup"], **kw)
            runs = [load.run(duration=cfg["duration"], **kw) for _ in range(cfg["reps"])]
            out[name] = {
                "runs": runs,
                "p50_ms": median([r["p50_ms"] for r in runs]),
                "p95_ms": median([r["p95_ms"] for r in runs]),
                "rps": median([r["rps"] for r in runs]),
                "failed": sum(r["failed"] + r["socket_errors"] for r in runs),
            }
            log(f"  {name}: p50 {fmt(out[name]['p50_ms'], '.0f')} ms, p95 "
                f"{fmt(out[name]['p95_ms'], '.0f')} ms, {fmt(out[name]['rps'], '.1f')}/s, "
                f"failed {out[name]['failed']}")  # fmt: skip

        for name, code in (("dash_root", fx["root"]), ("dash_general", fx["general"]),
                           ("dash_branch", fx["first_branch"])):  # fmt: skip
            series(name, mode="get", path=f"/dashboard/?org={code}&year={year}", cookie=cookie_r)
        fresh_page = fx["fresh"][-6]  # never saved (measure.py queries saves [-5:])
        series("att_page", mode="get", path=f"/sessions/{fresh_page}/attendance/", cookie=cookie_s)
        series("att_page_taken", mode="get", path=f"/sessions/{fx['taken'][0]}/attendance/",
               cookie=cookie_s)  # fmt: skip

        # First saves: every request takes a session nobody saved yet.
        fresh = fx["fresh"][:-6]
        cursor = 0

        def first_run(duration: float) -> dict:
            nonlocal cursor
            codes = fresh[cursor:]
            doc = load.run(mode="first", path="/", cookie=cookie_s, duration=duration,
                           codes=codes, bodies=[body(-1)], max_requests=len(codes))  # fmt: skip
            cursor += doc["requests"] + CONNECTIONS
            return doc

        first_run(cfg["warmup"])
        runs = [first_run(cfg["duration"]) for _ in range(cfg["reps"])]
        out["att_save"] = {
            "runs": runs,
            "p50_ms": median([r["p50_ms"] for r in runs]),
            "p95_ms": median([r["p95_ms"] for r in runs]),
            "rps": median([r["rps"] for r in runs]),
            "failed": sum(r["failed"] + r["socket_errors"] for r in runs),
            "sessions_left": len(fresh) - cursor,
        }
        log(f"  att_save: p50 {fmt(out['att_save']['p50_ms'], '.0f')} ms, p95 "
            f"{fmt(out['att_save']['p95_ms'], '.0f')} ms, {fmt(out['att_save']['rps'], '.1f')}/s, "
            f"failed {out['att_save']['failed']}")  # fmt: skip

        # Corrections: each run its own CONNECTIONS taken sessions (version 1 after the fixture).
        taken = fx["taken"][: CONNECTIONS * (cfg["reps"] + 1)]
        groups = [taken[i : i + CONNECTIONS] for i in range(0, len(taken), CONNECTIONS)]
        runs = []
        for i, group in enumerate(groups):
            doc = load.run(mode="correct", path="/", cookie=cookie_s,
                           duration=cfg["warmup"] if i == 0 else cfg["duration"],
                           codes=[f"{c} 1" for c in group], bodies=[body(-1), body(7)])  # fmt: skip
            if i:
                runs.append(doc)
        out["att_correct"] = {
            "runs": runs,
            "p50_ms": median([r["p50_ms"] for r in runs]),
            "p95_ms": median([r["p95_ms"] for r in runs]),
            "rps": median([r["rps"] for r in runs]),
            "failed": sum(r["failed"] + r["socket_errors"] for r in runs),
        }
        log(f"  att_correct: p50 {fmt(out['att_correct']['p50_ms'], '.0f')} ms, p95 "
            f"{fmt(out['att_correct']['p95_ms'], '.0f')} ms, "
            f"{fmt(out['att_correct']['rps'], '.1f')}/s")  # fmt: skip
    finally:
        stop(server)
    return out


def bench_pdf(env: Env, cfg: dict, queue: str) -> dict:
    out = {}
    for workers in (1, 2):
        log(f"celery worker -c {workers}: annual summaries")
        worker = subprocess.Popen(
            [PY, "-m", "celery", "-A", "portal", "worker", "-c", str(workers), "-P", "prefork",
             "-Q", "reports", "-l", "WARNING", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"bench{workers}-{os.getpid()}@%h"],
            cwd=ROOT, env=env.vars, stdout=subprocess.DEVNULL, start_new_session=True,
            stderr=open(env.workdir / f"celery-{workers}.log", "w"),  # noqa: SIM115
        )  # fmt: skip
        try:
            out[workers] = env.measure(
                "pdf", "--workers", str(workers), "--batch", str(cfg["pdf_batch"]),
                "--reps", str(cfg["pdf_reps"]), "--root", "--timeout", "600",
            )  # fmt: skip
        finally:
            stop(worker, grace=30)
        b = out[workers]["batches"]
        log(f"  {workers} worker(s): branch {b['branch']['median_per_s']:.2f}/s, "
            f"general {b.get('general', {}).get('median_per_s', 0):.2f}/s, "
            f"root {b.get('root', {}).get('median_s', 0):.1f} s")  # fmt: skip
    return out


def projected_summaries(pdf: dict, workers: int) -> float | None:
    """Seconds for every organization of the dataset with `workers` processes: branches and
    党总支s at the measured rates; the root's long task runs on one process while the
    others keep going (it adds root/workers)."""
    try:
        p = pdf[workers]
    except (KeyError, TypeError):
        return None
    b, counts = p["batches"], p["counts"]
    total = counts["branch"] / b["branch"]["median_per_s"]
    if counts["general"] and "general" in b:
        total += counts["general"] / b["general"]["median_per_s"]
    if counts["root"] and "root" in b:
        total += counts["root"] * b["root"]["median_s"] / workers
    return total


# ---------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------


def fmt(v, spec=".2f", unit=""):
    if v is None:
        return "—"
    return f"{v:{spec}}{unit}"


def rows_of(r: dict) -> dict[str, tuple[str, float | None, bool | None]]:
    """figure -> (text, number for growth, target met or None)."""
    rows: dict[str, tuple[str, float | None, bool | None]] = {}
    a = r.get("assess", {})
    if a:
        rows["assess: wall time (s)"] = (fmt(a["assess_median_s"]), a["assess_median_s"],
                                         a["assess_median_s"] <= 10)  # fmt: skip
        rows["assess: SQL queries"] = (str(a["queries"]), a["queries"], None)
        rows["SQL floor: one statement (s)"] = (fmt(a["floor_median_s"], ".3f"), a["floor_median_s"], None)
        rows["assess / floor"] = (fmt(a["ratio"], ".1f", "x"), a["ratio"], a["ratio"] <= 3)
    q = r.get("queries", {})
    load = r.get("load", {})
    names = [
        ("dash_root", "dashboard: root", 300),
        ("dash_general", "dashboard: 党总支", 300),
        ("dash_branch", "dashboard: branch", 300),
        ("att_page", "attendance page, 200 members (not taken)", 150),
        ("att_page_taken", "attendance page, 200 members (taken)", 150),
        ("att_save", "attendance save, first (200 entries)", None),
        ("att_correct", "attendance save, correction", None),
    ]
    for key, label, target in names:
        if key in load:
            x = load[key]
            if x["p95_ms"] is None:
                rows[f"{label}: p50 / p95 ms @{CONNECTIONS}"] = ("no answer in the run", None, False)
            else:
                ok = None if target is None else x["p95_ms"] <= target
                rows[f"{label}: p50 / p95 ms @{CONNECTIONS}"] = (
                    f"{x['p50_ms']:.0f} / {x['p95_ms']:.0f}", x["p95_ms"], ok,
                )  # fmt: skip
            rows[f"{label}: requests/s"] = (fmt(x["rps"], ".1f"), x["rps"], None)
        if key in q:
            rows[f"{label}: SQL queries/request"] = (str(q[key]["queries"]), q[key]["queries"], None)
            if "inproc_first_s" in q[key]:
                first, rest = q[key]["inproc_first_s"] * 1000, q[key]["inproc_median_s"] * 1000
                rows[f"{label}: one client, in-process ms (first / median)"] = (
                    f"{first:.0f} / {rest:.0f}", first, None)  # fmt: skip
    pdf = r.get("pdf")
    if pdf:
        for w in (1, 2):
            if w in pdf or str(w) in pdf:
                b = (pdf.get(w) or pdf.get(str(w)))["batches"]
                rows[f"summaries: branch PDFs/s, {w} worker(s)"] = (
                    fmt(b["branch"]["median_per_s"]), b["branch"]["median_per_s"], None)
                if "general" in b:
                    rows[f"summaries: 党总支 PDFs/s, {w} worker(s)"] = (
                        fmt(b["general"]["median_per_s"]), b["general"]["median_per_s"], None)
                if "root" in b:
                    rows[f"summaries: root summary (s), {w} worker(s)"] = (
                        fmt(b["root"]["median_s"], ".1f"), b["root"]["median_s"], None)
        p = pdf.get(1) or pdf.get("1")
        counts = p["counts"] if p else {}
        for w in (1, 2):
            t = projected_summaries({1: pdf.get(1) or pdf.get("1"), 2: pdf.get(2) or pdf.get("2")}, w)
            if t is not None:
                rows[f"summaries: every organization, {w} worker(s), projected (min)"] = (
                    fmt(t / 60, ".1f"), t / 60, (t <= 900) if w == 2 else None)
        if counts:
            n = sum(counts.values())
            rows["summaries: organizations with a summary"] = (f"{n:,}", n, None)
    imp = r.get("import")
    if imp:
        rows[f"ledger import: rows/s ({imp['rows']:,} 考勤 rows)"] = (
            f"{imp['rows_per_s']:,.0f}", imp["rows_per_s"], imp["rows_per_s"] >= 20000)
    if "seed_s" in r:
        rows["seed_demo (s, for reference)"] = (fmt(r["seed_s"], ".0f"), r["seed_s"], None)
    ex = r.get("explain")
    if ex:
        rows["attendance entries (rows)"] = (f"{ex['entries']:,}", ex["entries"], None)
    return rows


TARGETS = {
    "assess: wall time (s)": "≤ 10",
    "assess / floor": "≤ 3x",
    "dashboard: root: p50 / p95 ms @8": "p95 ≤ 300",
    "dashboard: 党总支: p50 / p95 ms @8": "p95 ≤ 300",
    "dashboard: branch: p50 / p95 ms @8": "p95 ≤ 300",
    "attendance page, 200 members (not taken): p50 / p95 ms @8": "p95 ≤ 150",
    "attendance page, 200 members (taken): p50 / p95 ms @8": "p95 ≤ 150",
}


def growth_verdict(label: str, ratio: float) -> str:
    if "p50 / p95" in label:
        return "flat" if ratio <= 1.5 else "GROWS"
    if "/s" in label and "ms" not in label:
        return "ok" if ratio >= 1 / 1.5 else "drops"
    if "queries" in label:
        return "constant" if ratio <= 1.01 else "GROWS"
    if "floor" in label and "/" in label:
        return "ok" if ratio <= 1.5 else "worse"
    return "linear or better" if ratio <= 4.4 else "SUPERLINEAR"


def table(results: list[dict]) -> str:
    per = [rows_of(r) for r in results]
    labels = []
    for rows in per:
        for k in rows:
            if k not in labels:
                labels.append(k)
    head = ["figure", "target"] + [f"{r['branches']:,} branches" for r in results]
    if len(results) == 2:
        head += ["x4 data", "growth"]
    lines = []
    for label in labels:
        target = TARGETS.get(label, "")
        if label.startswith("summaries: every") and "2 worker" in label:
            target = "≤ 15 min"
        if label.startswith("ledger import"):
            target = "≥ 20,000"
        cells = [label, target]
        for rows in per:
            text, _num, ok = rows.get(label, ("—", None, None))
            mark = "" if ok is None else (" ✓" if ok else " ✗")
            cells.append(text + mark)
        if len(results) == 2:
            a, b = per[0].get(label), per[1].get(label)
            if a and b and a[1] and b[1] is not None and a[1] is not None:
                ratio = b[1] / a[1]
                cells += [f"{ratio:.2f}x", growth_verdict(label, ratio)]
            else:
                cells += ["", ""]
        lines.append(cells)
    widths = [max(len(str(row[i])) for row in [head, *lines]) for i in range(len(head))]

    def render(row):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    out = [render(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [render(row) for row in lines]
    return "\n".join(out)


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return (f"{platform.node()}: {os.cpu_count()} cores, {mem}, PostgreSQL {pg_version()}, "
            f"Python {platform.python_version()}, CPU probe {cpu_probe():.2f} s, "
            f"{dt.datetime.now():%Y-%m-%d %H:%M}")  # fmt: skip


def cpu_probe() -> float:
    """Seconds for 10 million additions in a Python loop, best of 3: virtual machines of the
    same name differ in speed by up to 2x, so runs on different days are compared with it."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small dataset, smoke run")
    parser.add_argument("--branches", type=int, help="one dataset of this many branches")
    parser.add_argument("--no-scale", action="store_true", help="full mode without the 4x dataset")
    parser.add_argument("--years", type=int, default=1, help="years of data seeded (default 1)")
    parser.add_argument("--no-years-check", action="store_true",
                        help="full mode: skip the 4-year dataset (partitioning question)")
    parser.add_argument("--loadgen", choices=("python", "wrk"), default="python",
                        help="load generator: bench/loadgen.py (default) or wrk")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--skip-assess", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench_* databases")
    parser.add_argument("--json", help="also write every measurement to this file")
    opts = parser.parse_args()

    cfg = dict(QUICK if opts.quick else FULL)
    if opts.branches:
        cfg["scales"] = [(opts.branches, f"b{opts.branches}")]
    elif opts.no_scale and not opts.quick:
        cfg["scales"] = cfg["scales"][:1]
    wrk = None if opts.skip_load else find_wrk(opts.loadgen, not opts.no_install)
    work = Path(tempfile.gettempdir()) / f"xuexi-bench-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    about = machine()
    log(about)
    # Static files for the pages (whitenoise's manifest), into the scratch folder.
    redis_flush_queue()
    static_root = Path(tempfile.gettempdir()) / "xuexi-bench-static"
    manifest = static_root / "staticfiles.json"
    sources = [p for d in (ROOT / "static", *ROOT.glob("*/static")) for p in d.rglob("*") if p.is_file()]
    if not manifest.exists() or manifest.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        log("collectstatic")
        Env("bench_unused", work, "bench").manage("collectstatic", "--noinput", "-v0")
    results = []
    try:
        for branches, tag in cfg["scales"]:
            results.append(bench_scale(branches, tag, cfg, opts, wrk, work))
        history = None
        if not opts.quick and not opts.branches and not opts.no_years_check:
            history = bench_history(cfg["scales"][0][0], 4, cfg, opts, work)
    finally:
        if not opts.json:
            pass
    doc = {
        "machine": about,
        "mode": "quick" if opts.quick else "full",
        "loadgen": "wrk" if wrk else "bench/loadgen.py",
        "gunicorn_workers": GUNICORN_WORKERS,
        "connections": CONNECTIONS,
        "config": cfg,
        "results": results,
        "history": history,
        "elapsed_s": time.time() - started,
    }
    target = Path(opts.json) if opts.json else work / "results.json"
    target.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str))
    print()
    print(f"学习园地 benchmark ({doc['mode']}) — {about}")
    print(f"load generator: {doc['loadgen']}, {CONNECTIONS} concurrent clients, gunicorn "
          f"{GUNICORN_WORKERS} sync workers; medians of {cfg['reps']} runs; load average "
          + ", ".join(f"{r['loadavg_start'][0]:.1f}→{r['loadavg_end'][0]:.1f}" for r in results)
          + f"; {doc['elapsed_s'] / 60:.1f} min")  # fmt: skip
    print()
    print(table(results))
    print()
    if history:
        print()
        print(history_table(results[0], history))
    print()
    print(f"all measurements: {target}")
    if not opts.keep_db:
        shutil.rmtree(work / "media", ignore_errors=True)


if __name__ == "__main__":
    main()
