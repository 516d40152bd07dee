#!/usr/bin/env python
"""Container health checks for the portal image (standard library only).

Usage: python /app/deploy/healthcheck.py web

web   GET http://127.0.0.1:$PORT/healthz (PORT defaults to 8000); healthy only
      on HTTP 200. Redirects are NOT followed (a 301 from SECURE_SSL_REDIRECT
      counts as unhealthy: exempt the URL with SECURE_REDIRECT_EXEMPT). The
      Host header is HEALTHCHECK_HOST, else the first usable ALLOWED_HOSTS
      entry, else "localhost", so Django's host validation accepts it.
      X-Forwarded-Proto: https is sent for SECURE_PROXY_SSL_HEADER setups.
(Workers and beat are checked with `celery inspect ping` directly in compose: beat
answers as beat@<hostname> only while its scheduler ticks, which says more than a
running process.)
Exit 0 = healthy, 1 = unhealthy.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # makes urllib raise HTTPError for 3xx


def _host_header() -> str:
    explicit = os.environ.get("HEALTHCHECK_HOST", "").strip()
    if explicit:
        return explicit
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        entry = entry.strip().lstrip(".")
        if entry and "*" not in entry:
            return entry
    return "localhost"


def check_web() -> int:
    port = os.environ.get("PORT", "8000")
    url = f"http://127.0.0.1:{port}/healthz"
    req = urllib.request.Request(
        url,
        headers={
            "Host": _host_header(),
            "X-Forwarded-Proto": "https",
            "Accept": "application/json",
            "User-Agent": "portal-healthcheck",
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "8"))) as resp:
            body = resp.read(2000).decode("utf-8", "replace")
            if resp.status == 200:
                return 0
            print(f"{url}: HTTP {resp.status}: {body}", file=sys.stderr)
            return 1
    except urllib.error.HTTPError as exc:
        body = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
        print(f"{url}: HTTP {exc.code}: {body}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else "web"
    checks = {"web": check_web}
    if role not in checks:
        print(f"usage: {argv[0]} {'|'.join(checks)}", file=sys.stderr)
        return 2
    return checks[role]()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
