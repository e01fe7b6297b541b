"""Seed the default mediation time limits (editable data)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import migrations

LIMITS = (
    ("", Decimal(30), "days", "人民调解工作若干规定：调解一般在一个月内结束"),
    ("labour", Decimal(15), "days", "劳动争议调解仲裁法第十四条：自收到调解申请之日起十五日"),
)


def seed(apps: Any, schema_editor: Any) -> None:
    TimeLimit = apps.get_model("mediation", "TimeLimit")
    for kind, amount, unit, basis in LIMITS:
        TimeLimit.objects.get_or_create(kind=kind, defaults={"amount": amount, "unit": unit, "basis": basis})


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
