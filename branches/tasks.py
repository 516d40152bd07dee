from __future__ import annotations

import datetime as dt

from celery import shared_task

from .models import Organization
from .selectors import roll_on


@shared_task
def roll_count(org_code: str, day: str) -> int:
    """How many members were on the roll of an organization's subtree on a day."""
    org = Organization.objects.get(code=org_code)
    return roll_on(organization=org, day=dt.date.fromisoformat(day)).count()
