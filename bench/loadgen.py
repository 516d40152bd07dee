"""A bounded HTTP load generator, for machines without wrk: the same three modes as
bench/wrk/get.lua and save.lua, one keep-alive connection per thread, run as a separate
process. Stops at --duration seconds or --max-requests requests, whichever comes first,
and prints one line `WRKJSON {...}` like the wrk scripts.

    python bench/loadgen.py --base http://127.0.0.1:8000 --mode get --path /dashboard/ \
        --cookie "sessionid=..." --connections 8 --duration 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

VERSION_RE = re.compile(rb'name="version" value="(\d+)"')


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True)
    parser.add_argument("--mode", choices=("get", "first", "correct"), required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--cookie", required=True)
    parser.add_argument("--codes", help="file: session codes (first) or 'code version' (correct)")
    parser.add_argument("--bodies", help="file: one form body per line, %%VERSION%% for the version")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--max-requests", type=int, default=100_000)
    args = parser.parse_args()

    base = urlsplit(args.base)
    codes = [c for c in Path(args.codes).read_text().split("\n") if c] if args.codes else []
    bodies = [b for b in Path(args.bodies).read_text().split("\n") if b] if args.bodies else []
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "failed": 0, "socket_errors": 0, "requests": 0}
    started = time.perf_counter()
    deadline = started + args.duration

    def claim() -> bool:
        with lock:
            if counts["requests"] >= args.max_requests:
                return False
            counts["requests"] += 1
            return True

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=300)
        idx = tid
        version = 0
        code = None
        if args.mode == "correct":
            code, v = codes[tid].split()
            version = int(v)
        local: list[float] = []
        ok = failed = errors = 0
        headers = {"Cookie": args.cookie}
        while time.perf_counter() < deadline and claim():
            if args.mode == "get":
                method, path, body = "GET", args.path, None
            elif args.mode == "first":
                target = codes[idx] if idx < len(codes) else codes[-1]
                idx += args.connections
                method, path = "POST", f"/sessions/{target}/attendance/"
                body = bodies[0].replace("%VERSION%", "0").encode()
            else:
                method, path = "POST", f"/sessions/{code}/attendance/"
                body = bodies[version % 2].replace("%VERSION%", str(version)).encode()
            h = dict(headers)
            if body is not None:
                h["Content-Type"] = "application/x-www-form-urlencoded"
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=h)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection(base.hostname, base.port, timeout=300)
                continue
            local.append(time.perf_counter() - t0)
            success = response.status == (200 if args.mode == "get" else 302)
            if success:
                ok += 1
                if args.mode == "correct":
                    version += 1
            else:
                failed += 1
                if args.mode == "correct":
                    match = VERSION_RE.search(data)
                    if match:
                        version = int(match[1])
        conn.close()
        with lock:
            latencies.extend(local)
            counts["ok"] += ok
            counts["failed"] += failed
            counts["socket_errors"] += errors

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    doc = {
        "requests": len(ms),
        "duration_s": round(elapsed, 3),
        "ok": counts["ok"],
        "failed": counts["failed"],
        "socket_errors": counts["socket_errors"],
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
        "mean_ms": sum(ms) / len(ms) if ms else float("nan"),
    }
    print("WRKJSON " + json.dumps(doc), flush=True)


if __name__ == "__main__":
    main()
