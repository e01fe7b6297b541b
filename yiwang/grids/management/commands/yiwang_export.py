"""``yiwang export divisions|grids FILE``: the format follows the extension (.geojson/.json, .xlsx, .csv)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.grids.exporters import ExportError, export_file
from yiwang.grids.importers import FileProblem


class Command(BaseCommand):
    help = "导出区划或网格 / export divisions or grids (.geojson/.json, .xlsx, .csv)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["divisions", "grids"])
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = export_file(options["kind"], options["file"])
        except (ExportError, FileProblem, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已导出 {count} 条 / exported {count} rows → {options['file']}")
