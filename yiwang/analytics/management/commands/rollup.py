"""``yiwang rollup catch-up|rebuild|verify``: fill, recompute and check the rollups (and every
grid's running totals, a cache of them: ``analytics.grid_totals``)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.analytics import grid_totals, rebuild, rollup
from yiwang.analytics.models import RollupState

VERIFY_STEPS = {
    "recount": "case ranges recounted",
    "daily": "months of daily rows compared",
    "levels": "coarser levels compared",
}
REBUILD_STEPS = {
    "ranges": "case ranges counted",
    "buckets": "street buckets summed",
    "indexes": "end tasks done (levels without a street summed, indexes built)",
}


class Command(BaseCommand):
    help = "统计汇总：catch-up 增量统计；rebuild 清空后按全部事件重算；verify 与事件重算比对"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["catch-up", "rebuild", "verify"])
        parser.add_argument("--batch", type=int, default=5000, help="events per transaction")
        parser.add_argument("--limit", type=int, default=50, help="verify: differences to print")
        parser.add_argument(
            "--workers",
            type=int,
            default=rebuild.DEFAULT_WORKERS,
            help="rebuild: processes counting in parallel (PostgreSQL; default: one more than the cores)",
        )
        parser.add_argument(
            "--force", action="store_true", help="rebuild: even though an earlier rebuild never finished"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action, batch = options["action"], options["batch"]
        started = time.perf_counter()

        def progress(result: rollup.BatchResult) -> None:
            self.stdout.write(f"  … event id {result.high_water} (+{result.processed})")

        if action == "catch-up":
            state = RollupState.objects.filter(pk=1).first()
            if state is not None and state.rebuilding_since is not None:
                self.stderr.write(
                    f"统计重算自 {state.rebuilding_since:%Y-%m-%d %H:%M} 起进行中，增量统计等待其结束 / "
                    "a rebuild is under way (or died: rerun it with --force); catch-up waits for it"
                )
            n = rollup.catch_up(batch=batch, progress=progress)
            days = grid_totals.fill()
            self.stdout.write(
                f"counted {n} events, read {days} days into the grid totals in {time.perf_counter() - started:.1f} s"
            )
        elif action == "rebuild":

            def ranges(p: rebuild.Progress) -> None:
                self.stdout.write(f"  … {p.done}/{p.total} {REBUILD_STEPS[p.step]}, {p.events} events")

            try:
                n = rebuild.rebuild(workers=options["workers"], force=options["force"], progress=ranges)
            except rebuild.RebuildRunning as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"rebuilt from {n} events in {time.perf_counter() - started:.1f} s")
        else:

            def checked(p: rollup.VerifyProgress) -> None:
                self.stdout.write(f"  … {p.done}/{p.total} {VERIFY_STEPS[p.step]}")

            diffs = rollup.verify(progress=checked)
            for d in diffs[: options["limit"]]:
                self.stdout.write(
                    f"{d.level} {d.key} {d.milestone}: stored {d.stored}, events say {d.expected}"
                )
            wrong_days = grid_totals.mismatched_days()
            for day in wrong_days[: options["limit"]]:
                self.stdout.write(f"grid totals of {day}: differ from the daily rollups")
            if diffs or wrong_days:
                raise CommandError(
                    f"统计与事件不一致：{len(diffs)} 处，网格累计数 {len(wrong_days)} 天（运行 rollup rebuild 修复） / "
                    f"{len(diffs)} differences between the rollups and the events, {len(wrong_days)} days of "
                    "grid totals differ from the rollups (run rollup rebuild)"
                )
            self.stdout.write(f"rollups match the events ({time.perf_counter() - started:.1f} s)")
