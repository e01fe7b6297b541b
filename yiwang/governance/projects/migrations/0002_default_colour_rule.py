"""Seed the default red/yellow/green rule (yellow within 5 working days below 80 % progress)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    ColourRule = apps.get_model("projects", "ColourRule")
    if not ColourRule.objects.exists():
        ColourRule.objects.create(name="默认规则", yellow_workdays=5, yellow_progress=Decimal("80"))


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("projects", "ColourRule").objects.filter(name="默认规则").delete()


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
