"""``yiwang backup PATH``: every table, the migration state and the uploaded files in one archive."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "把全部数据表、迁移状态和上传文件写入一个备份文件（.tar.gz）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="备份文件路径，如 /var/backups/yiwang-20260311.tar.gz")
        parser.add_argument("--database", default="default")
        parser.add_argument("--no-media", action="store_true", help="不包含上传文件（MEDIA_ROOT）")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["verbosity"] == 0
        try:
            summary = backup(
                options["path"],
                using=options["database"],
                media=not options["no_media"],
                progress=(lambda line: None) if quiet else self.stdout.write,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成 / backup written: {summary.path} "
                f"({summary.tables} tables, {summary.rows} rows, {summary.media_files} files)"
            )
        )
