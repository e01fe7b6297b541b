"""``yiwang demo``: build the demo district 青岛西海岸新区 (黄岛区, 370211) with its people.

yiwang demo                  # seed 2026, ~1,550 grids, ≈1.99 M residents
yiwang demo --scale 10       # ~15,000 grids, for benchmarks
yiwang demo --if-empty       # do nothing if the database already has divisions (used by make run)
yiwang demo --reset          # delete the demo map, departments and users first, then rebuild
yiwang demo --days 365       # a full year of case history at once (~40 minutes on SQLite)

By default the last 10 days of cases are built at once (~35 s) and the rest of the year is queued for
the background worker (``yiwang.demo.tasks``), which ``yiwang serve`` starts.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from yiwang.demo.builder import DEFAULT_SEED, DemoError, build_demo, has_demo_data, login_table, reset_demo
from yiwang.demo.tasks import YEAR_DAYS, queue_rest_of_year


class Command(BaseCommand):
    help = "生成演示区（青岛西海岸新区）/ Build the demo district (Qingdao West Coast New Area)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="随机种子 / random seed (default 2026)"
        )
        parser.add_argument(
            "--scale", type=float, default=1.0, help="网格数量倍数 / multiplies the grid count (default 1)"
        )
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="案件历史天数 / days of case history (default 10; a full year: --days 365; 0: none)",
        )
        parser.add_argument(
            "--per-day", type=float, default=None, help="每天案件数 / cases a day (default 200 × scale)"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="已有区划时什么也不做 / do nothing if any division exists"
        )
        parser.add_argument(
            "--reset", action="store_true", help="先删除演示数据 / delete the demo data first"
        )
        parser.add_argument(
            "--no-background-history",
            action="store_true",
            help="不在后台补全一年的案件历史 / do not queue the rest of the year for the background worker",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and has_demo_data():
            self.stdout.write("已有区划数据，跳过演示数据 / divisions exist, demo skipped")
            return
        if not options["reset"] and has_demo_data():
            raise CommandError(
                "数据库中已有区划数据；如需重建请加 --reset（会删除现有区划、网格与单位） / the database "
                "already has divisions; use --reset to rebuild (deletes the map and departments)"
            )
        started = time.perf_counter()
        try:
            # Reset and rebuild in one transaction: a failed build keeps the old demo.
            with transaction.atomic():
                if options["reset"]:
                    reset_demo(log=self.stdout.write)
                self.stdout.write(
                    f"生成演示区 青岛西海岸新区（黄岛区 370211）/ building the demo district "
                    f"(seed {options['seed']}, scale {options['scale']:g})"
                )
                ctx = build_demo(
                    seed=options["seed"],
                    scale=options["scale"],
                    days=options["days"],
                    per_day=options["per_day"],
                    log=self.stdout.write,
                )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        took = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"演示数据已生成 / demo ready in {took:.1f} s"))
        self.stdout.write("")
        for line in login_table(ctx.logins):
            self.stdout.write(line)
        if options["days"] is None and not options["no_background_history"]:
            self._queue_rest_of_year(seed=options["seed"], scale=options["scale"])

    def _queue_rest_of_year(self, *, seed: int, scale: float) -> None:
        if settings.TASKS_BACKEND != "database":
            self.stdout.write(
                "未配置后台任务进程，不补全一年历史；如需完整一年：yiwang demo --reset --days 365 / "
                "no background worker configured; for a full year: yiwang demo --reset --days 365"
            )
            return
        jobs = queue_rest_of_year(seed=seed, scale=scale)
        self.stdout.write(
            f"其余 {YEAR_DAYS} 天内的案件历史已排入后台任务（{len(jobs)} 个，每个约 3 分钟，由新到旧），"
            f"期间系统可正常使用 / the rest of the year is queued for the background worker ({len(jobs)} "
            "jobs of ~3 minutes each, newest first); the site is usable meanwhile"
        )
