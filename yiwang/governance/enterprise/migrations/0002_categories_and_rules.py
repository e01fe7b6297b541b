"""The case categories of enterprise demands and the default first-response limits (data)."""

from django.db import migrations

# Working days for the first response, per kind of demand (editable in the admin afterwards).
DEFAULT_RULES = {"financing": 3, "policy": 5, "factors": 5, "other": 5}


def forwards(apps, schema_editor):
    from yiwang.governance.enterprise.actions import ensure_categories

    ensure_categories(apps.get_model("cases", "Category"))
    rule = apps.get_model("enterprise", "ResponseRule")
    for kind, days in DEFAULT_RULES.items():
        rule.objects.get_or_create(demand_kind=kind, defaults={"working_days": days})


class Migration(migrations.Migration):
    dependencies = [("enterprise", "0001_initial"), ("cases", "0006_mediation_channel")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
