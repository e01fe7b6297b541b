"""``yiwang import divisions|grids FILE [--dry-run] [--replace]``: all-or-nothing map import."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.grids.importers import import_file


class Command(BaseCommand):
    help = "导入区划或网格（GeoJSON / .xlsx / .csv）；有任何问题则不写入 / import divisions or grids, all or nothing"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["divisions", "grids"])
        parser.add_argument("file", help=".geojson/.json, .xlsx or .csv")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入 / validate only")
        parser.add_argument(
            "--replace", action="store_true", help="更新已存在的代码 / update rows whose code already exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = import_file(
            options["kind"], options["file"], dry_run=options["dry_run"], replace=options["replace"]
        )
        if not report.ok:
            self.stderr.write(str(report))
            raise CommandError("导入失败，未写入任何数据 / import failed, nothing written")
        self.stdout.write(str(report))
