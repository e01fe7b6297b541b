"""Seed the confidential dispute categories (矛盾纠纷 MD-00 and one child per kind)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from yiwang.governance.mediation.actions import ensure_categories

    ensure_categories(apps.get_model("cases", "Category"))


class Migration(migrations.Migration):
    dependencies = [("mediation", "0002_seed_time_limits"), ("cases", "0006_mediation_channel")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
