#!/usr/bin/env python
"""Wait until the database and Redis accept TCP connections.

Reads DATABASE_URL and REDIS_URL (whichever are set), and tries to open a TCP
connection to each host:port until it succeeds or WAIT_FOR_SERVICES_TIMEOUT
seconds (default 60) have passed. Exits 0 when all are reachable, 1 otherwise.
Standard library only, so it runs before Django is imported.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from urllib.parse import urlsplit

DEFAULT_PORTS = {
    "postgres": 5432,
    "postgresql": 5432,
    "pgsql": 5432,
    "psql": 5432,
    "postgis": 5432,
    "redis": 6379,
    "rediss": 6379,
}


def target(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None  # sqlite://, unix sockets, unknown schemes: nothing to wait for
    return parts.hostname, parts.port or DEFAULT_PORTS[scheme]


def main() -> int:
    timeout = float(os.environ.get("WAIT_FOR_SERVICES_TIMEOUT", "60"))
    deadline = time.monotonic() + timeout
    for var in ("DATABASE_URL", "REDIS_URL"):
        url = os.environ.get(var, "")
        addr = target(url) if url else None
        if addr is None:
            continue
        while True:
            try:
                with socket.create_connection(addr, timeout=3):
                    break
            except OSError as exc:
                if time.monotonic() >= deadline:
                    print(
                        f"wait_for_services: {var} {addr[0]}:{addr[1]} not reachable "
                        f"after {timeout:.0f}s: {exc}",
                        file=sys.stderr,
                    )
                    return 1
                time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
