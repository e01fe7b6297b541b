"""``yiwang jobs``: the periodic jobs (list, scheduler, run now), the worker, the queue depth."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from yiwang.core.jobs import registry, scheduler
from yiwang.core.models_jobs import ScheduledJob


class Command(BaseCommand):
    help = "定时任务：list 列表 / scheduler 调度 / run 立即入队 / worker 执行进程 / status 队列状态"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="列出定时任务及最近一次入队")
        sched = sub.add_parser("scheduler", help="按计划把到期任务入队（可多进程同时运行）")
        sched.add_argument("--interval", type=float, default=10.0, help="检查间隔秒数（默认 10）")
        sched.add_argument("--once", action="store_true", help="只检查一次后退出")
        run = sub.add_parser("run", help="立即把一个任务入队（不影响计划）")
        run.add_argument("name")
        sub.add_parser("worker", help="按配置的后端启动任务执行进程（database 或 redis）")
        sub.add_parser("status", help="队列中各状态的任务数")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(options)

    def do_list(self, options: dict[str, Any]) -> None:
        rows = {row.name: row for row in ScheduledJob.objects.all()}
        enabled = {job.name for job in registry.enabled_jobs()}
        now = timezone.now()
        for job in registry.JOBS:
            row = rows.get(job.name)
            state = "on" if job.name in enabled else "off"
            last = row.last_outcome if row and row.last_outcome else "-"
            nxt = timezone.localtime(job.next_slot(now)).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"{job.name:20} {state:3} every {job.every}  next {nxt}  last {last}  {job.task}"
            )

    def do_scheduler(self, options: dict[str, Any]) -> None:
        self.stdout.write(f"调度器已启动 / scheduler running ({len(registry.enabled_jobs())} jobs)")

        def log(outcome: scheduler.Outcome) -> None:
            if options["once"] or outcome.action in ("queued", "waiting", "error"):
                self.stdout.write(
                    f"{outcome.job}: {outcome.action} ({timezone.localtime(outcome.slot):%H:%M})"
                )

        scheduler.run_scheduler(interval=options["interval"], once=options["once"], log=log)

    def do_run(self, options: dict[str, Any]) -> None:
        try:
            job = registry.job_named(options["name"])
        except KeyError as exc:
            names = ", ".join(j.name for j in registry.JOBS)
            raise CommandError(
                f"没有名为 {options['name']} 的定时任务 / no such job (known: {names})"
            ) from exc
        result = job.load().enqueue(**job.kwargs)
        self.stdout.write(f"{job.name}: queued {result.id}")

    def do_worker(self, options: dict[str, Any]) -> None:
        backend = getattr(settings, "TASKS_BACKEND", "database")
        if backend == "database":
            call_command("db_worker", "--no-reload", "--queue-name", "*")
        elif backend == "redis":
            call_command("run_redis_tasks", "--continuous")
        else:
            raise CommandError(f"任务后端 {backend} 不需要执行进程 / the {backend} backend needs no worker")

    def do_status(self, options: dict[str, Any]) -> None:
        depth = scheduler.queue_depth()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in depth.items()) or "unknown backend")
