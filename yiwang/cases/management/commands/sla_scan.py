"""``yiwang sla_scan``: record every overdue clock exactly once (safe with several workers)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from yiwang.cases.sla import scan_breaches


class Command(BaseCommand):
    help = "扫描超时案件并记录超时事件（幂等，可多进程同时运行）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every", type=int, default=0, help="repeat every N seconds (0: one pass and exit)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every: int = options["every"]
        while True:
            recorded = scan_breaches(timezone.now())
            self.stdout.write(f"breaches recorded: {recorded}")
            if every <= 0:
                return
            time.sleep(every)
