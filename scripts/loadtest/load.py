#!/usr/bin/env python
"""Bounded load generator (standard library only): secretaries taking attendance and
members logging self-study against a running server on 127.0.0.1.

Every virtual user logs in for real (CSRF token + session cookie), then, until the
duration is over or it has sent --max-requests requests:
  secretary: GET its session's attendance page, read the version and the list, POST the
             whole list back (statuses computed from the version), follow the redirect;
  member:    GET 我的自学, POST one entry with a unique material text, (the redirect
             comes back to the same page, which is the next GET).
Every response's status and latency is recorded; the outcome of every POST is written to
the results file so that verify.py can account for each one in the database.

The client sends X-Forwarded-Proto: https and a same-origin Referer, as the TLS proxy in
front of gunicorn would, so production's secure cookies and CSRF checks apply unchanged.

Exit status: 0 when every request got its expected answer (or --tolerate-errors), else 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import http.client
import json
import random
import re
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shared import (  # noqa: E402
    CONFLICT_MESSAGE,
    attendance_pattern,
    percentile,
    self_study_date,
    self_study_material,
)

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
STATUS_RE = re.compile(r'name="status-(\d+)"')
INPUT_RE = re.compile(r"<input\b[^>]*>")
NAME_RE = re.compile(r'\bname="([^"]*)"')
VALUE_RE = re.compile(r'\bvalue="([^"]*)"')


class RequestFailed(Exception):
    """No usable answer: a connection error or a timeout (the status is the reason)."""


@dataclass
class Recorder:
    t0: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # (endpoint, status: int or "timeout"/"connection", latency s, start s after t0, ok)
    records: list[tuple[str, object, float, float, bool]] = field(default_factory=list)

    def add(self, endpoint: str, status: object, latency: float, start: float, ok: bool):
        with self.lock:
            self.records.append((endpoint, status, latency, start - self.t0, ok))


class Client:
    """One browser: its own cookie jar; one TCP connection per request (gunicorn's sync
    workers close the connection after each response anyway)."""

    def __init__(self, base: str, timeout: float, recorder: Recorder):
        url = urllib.parse.urlsplit(base)
        if url.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("load tests run against 127.0.0.1 only")
        self.host, self.port = url.hostname, url.port or 80
        self.origin = f"https://{self.host}:{self.port}"
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.recorder = recorder

    def request(
        self,
        endpoint: str,
        method: str,
        path: str,
        fields: list[tuple[str, str]] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> tuple[int, dict[str, str], str]:
        headers = {
            "Host": f"{self.host}:{self.port}",
            "X-Forwarded-Proto": "https",
            "User-Agent": "xuexi-loadtest",
            "Accept-Language": "zh-hans",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            body = urllib.parse.urlencode(fields or []).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = self.origin + path
            headers["Origin"] = self.origin
        start = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except TimeoutError as exc:
            self.recorder.add(endpoint, "timeout", time.monotonic() - start, start, False)
            raise RequestFailed("timeout") from exc
        except (OSError, http.client.HTTPException) as exc:
            self.recorder.add(endpoint, "connection", time.monotonic() - start, start, False)
            raise RequestFailed(f"connection: {type(exc).__name__}") from exc
        finally:
            conn.close()
        latency = time.monotonic() - start
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                self.cookies[key.strip()] = val.strip()
        status = response.status
        self.recorder.add(endpoint, status, latency, start, status in expect)
        return status, {k.lower(): v for k, v in response.getheaders()}, text

    def login(self, username: str, password: str) -> None:
        status, _, page = self.request("login GET", "GET", "/accounts/login/")
        token = CSRF_RE.search(page) if status == 200 else None
        if token is None:
            raise RequestFailed(f"login page: {status}")
        status, headers, _ = self.request(
            "login POST",
            "POST",
            "/accounts/login/",
            [
                ("csrfmiddlewaretoken", token.group(1)),
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
            expect=(302,),
        )
        if status != 302:
            raise RequestFailed(f"login of {username} refused: {status}")


@dataclass
class Outcomes:
    lock: threading.Lock = field(default_factory=threading.Lock)
    self_study: dict[str, str] = field(default_factory=dict)  # material -> ok/failed/rejected
    sessions: dict[str, dict] = field(default_factory=dict)
    resent: int = 0  # self-study forms sent a second time after an error


def pause(think: float, deadline: float) -> None:
    """A user's time filling in the form: uniform between 0.5 and 1.5 times `think`."""
    if think > 0:
        time.sleep(max(0.0, min(random.uniform(0.5, 1.5) * think, deadline - time.monotonic())))


def run_secretary(
    client: Client, spec: dict, deadline: float, max_requests: int, think: float, out: Outcomes
):
    code = spec["session"]
    page_path = f"/sessions/{code}/attendance/"
    stats = {"ok": 0, "failed": 0, "conflicts": 0, "rejected": 0, "sizes": [], "versions": []}
    with out.lock:
        out.sessions[code] = stats
    sent = 0
    while time.monotonic() < deadline and sent < max_requests:
        try:
            sent += 1
            status, _, page = client.request("attendance GET", "GET", page_path)
            token, version = CSRF_RE.search(page), VERSION_RE.search(page)
            member_ids = sorted({int(m) for m in STATUS_RE.findall(page)})
            if status != 200 or token is None or version is None or not member_ids:
                if status == 200:  # a page without the form: record it as an error
                    client.recorder.add(
                        "attendance GET (no form)", status, 0.0, time.monotonic(), False
                    )
                time.sleep(0.5)
                continue
            pause(think, deadline)
            v = int(version.group(1))
            statuses = attendance_pattern(member_ids, v)
            fields = [("csrfmiddlewaretoken", token.group(1)), ("version", str(v))]
            fields += [(f"status-{mid}", s) for mid, s in statuses.items()]
            fields += [(f"reason-{mid}", "") for mid in member_ids]
            sent += 1
            try:
                status, headers, page = client.request(
                    "attendance POST", "POST", page_path, fields, expect=(302,)
                )
            except RequestFailed:
                stats["failed"] += 1  # the save may or may not have committed
                raise
            if status == 302:
                stats["ok"] += 1
                stats["sizes"].append(len(member_ids))
                stats["versions"].append(v)
                sent += 1
                client.request("session GET", "GET", headers.get("location", f"/sessions/{code}/"))
            elif status == 200 and CONFLICT_MESSAGE in page:
                stats["conflicts"] += 1  # another save in between: read the page again
            elif status >= 500:
                stats["failed"] += 1
                time.sleep(0.5)
            else:
                stats["rejected"] += 1
                time.sleep(0.5)
        except RequestFailed:
            time.sleep(0.5)


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """The hidden inputs of a page's form (the CSRF token, a form's one-time token...)."""
    fields = []
    for tag in INPUT_RE.findall(page):
        if 'type="hidden"' in tag:
            name, value = NAME_RE.search(tag), VALUE_RE.search(tag)
            if name:
                fields.append((name.group(1), html.unescape(value.group(1)) if value else ""))
    return fields


def run_member(
    client: Client,
    spec: dict,
    run_id: str,
    today: dt.date,
    deadline: float,
    max_requests: int,
    think: float,
    out: Outcomes,
):
    """GET 我的自学, fill in the form, POST it as a browser would (every hidden field, the
    form's one-time token included). After an error or a timeout the user sends the same
    form once more, as people do; the database check then proves that the resend did not
    record the hours twice."""
    sent, n = 0, 0
    while time.monotonic() < deadline and sent < max_requests:
        try:
            sent += 1
            status, _, page = client.request("self-study GET", "GET", "/me/study/")
            hidden = hidden_fields(page)
            if status != 200 or not any(k == "csrfmiddlewaretoken" for k, _ in hidden):
                time.sleep(0.5)
                continue
            pause(think, deadline)
            n += 1
            material = self_study_material(run_id, spec["username"], n)
            fields = hidden + [
                ("date", self_study_date(today, n).isoformat()),
                ("hours", "0.5"),
                ("material", material),
            ]
            for attempt in range(2):
                sent += 1
                endpoint = "self-study POST" if attempt == 0 else "self-study POST (resent)"
                try:
                    status, _, _ = client.request(
                        endpoint, "POST", "/me/study/", fields, expect=(302,)
                    )
                except RequestFailed:
                    status = 599
                outcome = "ok" if status == 302 else "failed" if status >= 500 else "rejected"
                with out.lock:
                    out.self_study[material] = outcome
                    if attempt:
                        out.resent += 1
                if outcome != "failed" or time.monotonic() >= deadline:
                    break
                time.sleep(1.0)
        except RequestFailed:
            time.sleep(0.5)


def summarize(records: list[tuple], duration: float) -> tuple[list[dict], int]:
    by_endpoint: dict[str, list[tuple]] = defaultdict(list)
    for r in records:
        by_endpoint[r[0]].append(r)
    rows, errors = [], 0
    for endpoint in sorted(by_endpoint):
        items = by_endpoint[endpoint]
        latencies = sorted(r[2] for r in items if r[4])
        bad = [r for r in items if not r[4]]
        errors += len(bad)
        statuses: dict[str, int] = defaultdict(int)
        for r in items:
            statuses[str(r[1])] += 1
        rows.append(
            {
                "endpoint": endpoint,
                "requests": len(items),
                "errors": len(bad),
                "statuses": dict(statuses),
                "p50_ms": round(percentile(latencies, 50) * 1000),
                "p95_ms": round(percentile(latencies, 95) * 1000),
                "max_ms": round((latencies[-1] if latencies else 0) * 1000),
                "per_s": round(len(items) / duration, 1) if duration else 0,
            }
        )
    return rows, errors


def print_table(rows: list[dict], title: str) -> None:
    print(title)
    print(
        f"  {'endpoint':<22}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  statuses"
    )
    for r in rows:
        print(
            f"  {r['endpoint']:<22}{r['requests']:>9}{r['errors']:>8}{r['p50_ms']:>9}"
            f"{r['p95_ms']:>9}{r['max_ms']:>9}  {r['statuses']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bounded load test (see the module docstring)")
    parser.add_argument("--base-url", default="http://127.0.0.1:8090")
    parser.add_argument("--plan", required=True, help="from prepare.py")
    parser.add_argument("--results", required=True, help="JSON file to write")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (max 600)")
    parser.add_argument("--max-requests", type=int, default=5000, help="per virtual user")
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    parser.add_argument("--login-concurrency", type=int, default=8)
    parser.add_argument(
        "--sessions-file", help="reuse the log-ins of an earlier run (and save them here)"
    )
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between actions, s")
    parser.add_argument(
        "--started-file", help="write the start of the measured window (epoch) here"
    )
    parser.add_argument("--tolerate-errors", action="store_true", help="exit 0 despite errors")
    args = parser.parse_args(argv)
    duration = min(args.duration, 600.0)
    max_requests = min(args.max_requests, 100_000)

    plan = json.loads(Path(args.plan).read_text())
    recorder = Recorder(t0=time.monotonic())
    outcomes = Outcomes()
    users = [("secretary", s) for s in plan["secretaries"]] + [
        ("member", m) for m in plan["members"]
    ]
    clients = [Client(args.base_url, args.timeout, recorder) for _ in users]

    # Log-ins, a few at a time (each costs a PBKDF2 hash on the server).
    started = time.monotonic()
    gate = threading.Semaphore(args.login_concurrency)
    saved: dict[str, dict] = {}
    if args.sessions_file and Path(args.sessions_file).exists():
        saved = json.loads(Path(args.sessions_file).read_text())
    login_errors: list[str] = []

    def login(client: Client, spec: dict) -> None:
        known = saved.get(spec["username"])
        if known:
            # A session from an earlier run (--sessions-file): still valid if / answers 200.
            client.cookies = dict(known)
            try:
                status, _, _ = client.request("session check", "GET", "/", expect=(200, 302))
                if status == 200:
                    return
            except RequestFailed:
                pass
            client.cookies = {}
        with gate:
            for attempt in range(3):
                try:
                    client.login(spec["username"], plan["password"])
                    return
                except RequestFailed as exc:
                    if attempt == 2:
                        login_errors.append(f"{spec['username']}: {exc}")
                    time.sleep(1)

    threads = [
        threading.Thread(target=login, args=(c, spec), daemon=True)
        for c, (_, spec) in zip(clients, users, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.timeout * 4 + 300)
    login_rows, _ = summarize(recorder.records, time.monotonic() - started)
    if args.sessions_file:
        # Merged: a run with fewer users keeps the others' log-ins for the next run.
        saved.update(
            {spec["username"]: c.cookies for c, (_, spec) in zip(clients, users, strict=True)}
        )
        Path(args.sessions_file).write_text(json.dumps(saved))
    print(
        f"logged in {len(users) - len(login_errors)}/{len(users)} users in {time.monotonic() - started:.1f} s"
    )
    if login_errors:
        print("log-in failures:", *login_errors[:10], sep="\n  ")
        return 1

    # The measured window.
    recorder.records.clear()
    today = dt.date.fromisoformat(plan["today"])
    t0 = time.monotonic()
    t0_epoch = time.time()
    if args.started_file:
        Path(args.started_file).write_text(str(t0_epoch))
    recorder.t0 = t0
    deadline = t0 + duration
    threads = []
    for client, (kind, spec) in zip(clients, users, strict=True):
        if kind == "secretary":
            target = run_secretary
            extra = (client, spec, deadline, max_requests, args.think, outcomes)
        else:
            target = run_member
            extra = (
                client,
                spec,
                plan["run_id"],
                today,
                deadline,
                max_requests,
                args.think,
                outcomes,
            )
        threads.append(threading.Thread(target=target, args=extra, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        # Bounded: every request has a timeout, so a thread ends by deadline + timeout.
        t.join(timeout=max(0.0, deadline - time.monotonic()) + args.timeout + 10)
    alive = sum(t.is_alive() for t in threads)
    elapsed = time.monotonic() - t0
    with recorder.lock:
        records = list(recorder.records)
    rows, errors = summarize(records, elapsed)
    total = len(records)
    print_table(login_rows, "log-in phase:")
    print_table(
        rows,
        f"measured window: {elapsed:.1f} s, {total} requests ({total / elapsed:.1f}/s), "
        f"{len(plan['secretaries'])} secretaries + {len(plan['members'])} members",
    )
    all_latencies = sorted(r[2] for r in records if r[4])
    print(
        f"  all endpoints: p50 {percentile(all_latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(all_latencies, 95) * 1000:.0f} ms, errors {errors}"
        + (f", {alive} threads still running" if alive else "")
    )
    conflicts = sum(s["conflicts"] for s in outcomes.sessions.values())
    result = {
        "run_id": plan["run_id"],
        "base_url": args.base_url,
        "t0_epoch": t0_epoch,
        "duration": elapsed,
        "requests": total,
        "errors": errors,
        "conflicts": conflicts,
        "p50_ms_all": round(percentile(all_latencies, 50) * 1000),
        "p95_ms_all": round(percentile(all_latencies, 95) * 1000),
        "endpoints": rows,
        "login": login_rows,
        "think": args.think,
        "threads_alive": alive,
        "self_study": outcomes.self_study,
        "self_study_resent": outcomes.resent,
        "sessions": outcomes.sessions,
        "records": records,
    }
    Path(args.results).write_text(json.dumps(result, ensure_ascii=False))
    if alive:
        print("ERROR: some virtual users did not stop")
        return 1
    if errors and not args.tolerate_errors:
        print(f"ERROR: {errors} requests failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
