"""``yiwang hotspots --from-csv FILE [--top 5] [--period-days N] --json``: mine hotspots from a
message file with the 附件3 columns (留言编号, 留言用户, 留言主题, 留言时间, 留言详情, 反对数, 点赞数)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.dispatch.hotspots import as_json, mine_hotspots
from yiwang.dispatch.similarity import REQUIRED_COLUMNS, MessageFileError, read_messages_csv


class Command(BaseCommand):
    help = "热点问题挖掘：从留言文件中找出同一地点/同一人群的同类问题并按热度排名"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from-csv", required=True, dest="path", help="message CSV (附件3 columns)")
        parser.add_argument("--top", type=int, default=5)
        parser.add_argument(
            "--period-days", type=float, default=None, help="max days between linked messages"
        )
        parser.add_argument("--json", action="store_true", help="print JSON (the default output)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            messages = read_messages_csv(options["path"], required=(*REQUIRED_COLUMNS, "留言用户"))
        except (OSError, MessageFileError) as exc:
            raise CommandError(str(exc)) from exc
        if options["top"] <= 0:
            raise CommandError("--top 必须大于 0 / must be positive")
        hotspots = mine_hotspots(messages, top=options["top"], period_days=options["period_days"])
        self.stdout.write(json.dumps([as_json(h) for h in hotspots], ensure_ascii=False, indent=1))
