from __future__ import annotations

import json

from django.db import migrations


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="8",
        day_of_week="1",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name="每周提醒：书记待办与审阅人关注",
        defaults={
            "task": "reports.tasks.send_weekly_digests",
            "crontab": crontab,
            "kwargs": json.dumps({}),
            "description": "每周一08:00给书记发送本月三会一课、请假、笔记、督导待办，给审阅人发送落后支部。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="reports.tasks.send_weekly_digests"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_digest_log"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
