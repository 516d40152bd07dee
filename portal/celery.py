"""The Celery app. Tasks are routed to three queues by CELERY_TASK_ROUTES in
portal/settings/base.py: "interactive" (the default queue), "reports" and "digests"; each
worker consumes the queues given by `--queues` (docker-compose.yml: `worker` takes
interactive,digests; `worker-reports` takes reports and is the one to scale). See
docs/scaling.md."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
