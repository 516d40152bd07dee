from django.db import migrations, models


def fill(apps, schema_editor):
    VerdictSnapshot = apps.get_model("assessments", "VerdictSnapshot")
    risky = [
        pk
        for pk, five_good, forecasts in VerdictSnapshot.objects.values_list(
            "pk", "five_good", "forecasts"
        ).iterator(chunk_size=5000)
        if not five_good or any(v == "at_risk" for v in (forecasts or {}).values())
    ]
    for i in range(0, len(risky), 5000):
        VerdictSnapshot.objects.filter(pk__in=risky[i : i + 5000]).update(at_risk=True)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0007_nightly_refresh")]

    operations = [
        migrations.AddField(
            model_name="verdictsnapshot",
            name="at_risk",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
