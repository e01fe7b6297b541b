"""``yiwang restore PATH``: bring a backup back into an empty database, then migrate forward."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "从备份文件恢复（目标库须为空，否则加 --force 覆盖），再迁移到当前版本"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="yiwang backup 写出的 .tar.gz 文件")
        parser.add_argument("--database", default="default")
        parser.add_argument("--force", action="store_true", help="目标库已有数据时也恢复（覆盖全部数据）")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["verbosity"] == 0
        try:
            summary = restore(
                options["path"],
                using=options["database"],
                force=options["force"],
                progress=(lambda line: None) if quiet else self.stdout.write,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        forward = "，并已迁移到当前版本 / migrated forward" if summary.migrated_forward else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"恢复完成 / restored: {summary.tables} tables, {summary.rows} rows, "
                f"{summary.media_files} files{forward}"
            )
        )
