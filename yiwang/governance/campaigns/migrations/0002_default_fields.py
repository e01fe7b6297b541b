"""Load the shipped fields of work (燃气安全, 消防通道, 自建房, 民生倾听); see ``campaigns.fields``."""

from typing import Any

from django.db import migrations

from yiwang.governance.campaigns.fields import load_default_fields


def forwards(apps: Any, schema_editor: Any) -> None:
    load_default_fields(apps.get_model("campaigns", "CampaignField"), apps.get_model("cases", "Category"))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("cases", "0002_load_categories"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
