"""Drill-only settings: production plus the two database settings this drill proposes.

Used by `run.py --only pg-proposed,pg-long-proposed` to measure PostgreSQL outages with the
proposal before anyone changes portal/settings (docs/drills.md):
  - the connection pool's wait for a connection: 2 s (DATABASE_POOL_TIMEOUT) instead of
    psycopg_pool's 30 s, so that during an outage a request fails with a 500 quickly instead
    of holding a gunicorn worker for 30 s while the other requests queue behind it (a sync
    worker uses one connection at a time, so the wait never happens while PostgreSQL is up);
  - CONN_HEALTH_CHECKS = True, with which Django's pool checks a connection before handing it
    out, so that the connections left over from before a restart are replaced instead of
    failing one request each.
"""

from __future__ import annotations

import os

from portal.settings.production import *  # noqa: F403
from portal.settings.production import DATABASES

if DATABASES["default"].get("OPTIONS", {}).get("pool"):
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "2"))
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
