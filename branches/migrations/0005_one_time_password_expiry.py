from __future__ import annotations

import datetime as dt

from django.db import migrations, models
from django.utils import timezone


def expire_outstanding(apps, schema_editor):
    """One-time passwords issued before expiry existed get the full period from now."""
    User = apps.get_model("branches", "User")
    User.objects.filter(must_change_password=True).update(
        one_time_password_expires_at=timezone.now() + dt.timedelta(hours=72)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0004_digest_opt_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="one_time_password_expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="一次性密码失效时间"),
        ),
        migrations.RunPython(expire_outstanding, migrations.RunPython.noop),
    ]
