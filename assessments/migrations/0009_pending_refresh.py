from __future__ import annotations

import json

from django.db import migrations, models


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="补发未排队的看板刷新",
        defaults={
            "task": "assessments.tasks.drain_pending_refreshes",
            "interval": every,
            "kwargs": json.dumps({}),
            "description": "每5分钟检查保存考勤后因消息队列不可用而未排队的看板刷新，重新排队。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="assessments.tasks.drain_pending_refreshes"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0008_verdictsnapshot_at_risk"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingRefresh",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("session_id", models.BigIntegerField()),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
        ),
        migrations.RunPython(create, remove),
    ]
