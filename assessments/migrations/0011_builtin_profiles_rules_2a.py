"""Bring the shipped profiles up to RULES.md 2a (a new version of each that changed):
JF-B2 counts only 集中学习, 专题讲座, 党员教育培训 and 读书会; JL-T1, JF-T1, JF-B1 and JF-B3
count the organization's own sessions; LC-T1 in 历城区 gives branch committee members (基层班子
成员) 24 学时 and counts 8 学时 a day."""

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
    dependencies = [("assessments", "0010_member_snapshot_excellent_unknown")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
