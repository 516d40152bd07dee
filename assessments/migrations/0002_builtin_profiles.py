from __future__ import annotations

from django.db import migrations


def load(apps, schema_editor):
    from assessments.profiles_loader import load_builtin_profiles

    load_builtin_profiles(
        apps.get_model("assessments", "RuleProfile"),
        apps.get_model("assessments", "Rule"),
        apps.get_model("assessments", "ProfileVersion"),
    )


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
