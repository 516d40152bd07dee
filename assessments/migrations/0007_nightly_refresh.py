from __future__ import annotations

import json

from django.db import migrations


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="1",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name="每晚重算看板统计与考评快照",
        defaults={
            "task": "assessments.tasks.refresh_all",
            "crontab": crontab,
            "kwargs": json.dumps({}),
            "description": "每天01:30按最新记录重算所有组织的月度统计和考评结果（保存考勤后也会即时刷新）。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="assessments.tasks.refresh_all"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0006_history"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
