"""Run by tests/portal/test_stack.py inside the stack's own environment (production settings,
the scratch database): `python -m tests.portal.stack_seed seed|due`.

seed  the organizations of the January batch and the addresses their summaries go to
due   makes the annual fan-out due now, as an administrator would in the admin: the row
      that the migrations created gets a one-off clocked schedule at the current time
"""

from __future__ import annotations

import os
import sys

import django

# Codes of the organizations that must each get one summary (two roots, six in all).
ORGANIZATIONS = ["JG", "JG-01", "JG-01-01", "JG-01-02", "QT", "QT-01"]
NAMES = {
    "JG": "机关党委",
    "JG-01": "第一党总支",
    "JG-01-01": "甲支部",
    "JG-01-02": "乙支部",
    "QT": "其他党委",
    "QT-01": "丙支部",
}
FANOUT_TASK = "reports.tasks.annual_fanout"


def seed() -> None:
    from branches import services
    from branches.models import OrgType
    from reports.models import DeliveryAddresses

    root = services.organization_create(
        parent=None, code="JG", name=NAMES["JG"], type=OrgType.ORGAN_COMMITTEE
    )
    general = services.organization_create(
        parent=root, code="JG-01", name=NAMES["JG-01"], type=OrgType.GENERAL_BRANCH
    )
    for code in ["JG-01-01", "JG-01-02"]:
        services.organization_create(
            parent=general, code=code, name=NAMES[code], type=OrgType.BRANCH
        )
    other = services.organization_create(
        parent=None, code="QT", name=NAMES["QT"], type=OrgType.PARTY_COMMITTEE
    )
    services.organization_create(
        parent=other, code="QT-01", name=NAMES["QT-01"], type=OrgType.BRANCH
    )
    DeliveryAddresses.objects.create(
        organization=root,
        organization_dept_email="zzb@superior.example",
        propaganda_dept_email="xcb@superior.example",
    )
    DeliveryAddresses.objects.create(organization=other, organization_dept_email="zzb@qt.example")
    # Each secretary confirmed last year's text: a draft is not sent (reports.services).
    from django.utils import timezone

    from reports import selectors
    from reports.models import SummaryText
    from reports.services import last_year

    year = last_year()
    SummaryText.objects.bulk_create(
        SummaryText(organization_id=pk, year=year, text="一、基本情况", confirmed_at=timezone.now())
        for pk in selectors.summary_organization_ids(year=year)
    )


def make_fanout_due() -> None:
    from django.utils import timezone
    from django_celery_beat.models import ClockedSchedule, PeriodicTask

    # Saved through the model, so that django-celery-beat's signals tell the running
    # DatabaseScheduler that the schedule changed (what an edit in the admin does).
    task = PeriodicTask.objects.get(task=FANOUT_TASK)
    task.crontab = None
    task.clocked = ClockedSchedule.objects.create(clocked_time=timezone.now())
    task.one_off = True
    task.enabled = True
    task.last_run_at = None
    task.save()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    django.setup()
    {"seed": seed, "due": make_fanout_due}[sys.argv[1]]()
