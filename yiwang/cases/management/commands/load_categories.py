"""``yiwang load_categories``: load the shipped category tree and default deadlines (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from yiwang.cases.categories import load_categories, load_default_policies
from yiwang.cases.models import Category, DeadlinePolicy


class Command(BaseCommand):
    help = "载入 GB/T 47678.5 部件/事项与12345诉求分类及默认时限（可重复执行）"

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            created = load_categories(Category)
            policies = load_default_policies(DeadlinePolicy)
        self.stdout.write(f"categories created: {created}; default policies created: {policies}")
