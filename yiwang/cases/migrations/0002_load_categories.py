"""Load the shipped category tree (GB/T 47678.5-2026 + 12345 demands) and default deadlines."""

from django.db import migrations


def forwards(apps, schema_editor):
    from yiwang.cases.categories import load_categories, load_default_policies

    load_categories(apps.get_model("cases", "Category"))
    load_default_policies(apps.get_model("cases", "DeadlinePolicy"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
