"""``yiwang train``: train the category classifier on the district's closed cases and register it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.dispatch.actions import DispatchActionError, train_from_cases
from yiwang.dispatch.classifier import ClassifierInputError


class Command(BaseCommand):
    help = "用已结案案件训练分类模型并登记（--activate 立即启用）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--min-per-class", type=int, default=20, help="每个分类至少的样本数（默认 20）")
        parser.add_argument("--activate", action="store_true", help="训练后立即启用")
        parser.add_argument("--c", type=float, default=1.0, help="SVM 正则化参数 C（默认 1.0）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["min_per_class"] < 1:
            raise CommandError("--min-per-class 须为正整数 / must be a positive integer")
        try:
            row = train_from_cases(
                None, min_per_class=options["min_per_class"], activate=options["activate"], c=options["c"]
            )
        except (ClassifierInputError, DispatchActionError) as exc:
            raise CommandError(str(exc)) from exc
        state = "active" if row.is_active else "inactive"
        self.stdout.write(
            f"model #{row.pk} {row.name}: {row.n_train} cases, {len(row.classes)} categories, "
            f"{row.size_bytes / 1e6:.1f} MB, {state}"
        )
