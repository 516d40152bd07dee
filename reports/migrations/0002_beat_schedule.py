"""The annual summary's periodic tasks, as django-celery-beat rows so that an administrator
can move or pause them in the admin (the DatabaseScheduler reads them; exactly one beat
process must run)."""

from __future__ import annotations

import json

from django.db import migrations
from django.utils import timezone

TZ = "Asia/Shanghai"
TASKS = [
    {
        "name": "年度总结：生成并报送上一年度学习情况总结",
        "task": "reports.tasks.annual_fanout",
        "description": "每年1月2日02:00为每个组织生成上一年度学习情况总结并报送上级组织、宣传部门（JL-R1/ZY-R1）。",
        "crontab": {"minute": "0", "hour": "2", "day_of_month": "2", "month_of_year": "1"},
    },
    {
        "name": "年度总结：提醒填写自评正文",
        "task": "reports.tasks.remind_missing_texts",
        "description": "报送截止（1月31日）前一周，提醒尚未填写年度学习情况自评的组织的委员。",
        "crontab": {"minute": "0", "hour": "9", "day_of_month": "24", "month_of_year": "1"},
    },
]


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for spec in TASKS:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            day_of_week="*", timezone=TZ, **spec["crontab"]
        )
        PeriodicTask.objects.get_or_create(
            name=spec["name"],
            defaults={
                "task": spec["task"],
                "crontab": crontab,
                "kwargs": json.dumps({}),
                "description": spec["description"],
                "enabled": True,
            },
        )
    # Historical models send no signals: tell a running DatabaseScheduler to reload.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[spec["name"] for spec in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
