"""gunicorn settings shared by the image's default command and docker-compose.yml's web
service (`--config=deploy/gunicorn.conf.py`); command-line options still win."""

from __future__ import annotations

# gunicorn's default access line plus the request id the response carries (X-Request-ID,
# portal/request_id.py), so that an access line finds the application's log lines.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
)
