"""``yiwang serve``: migrate, optionally load the demo, then run the web server and a task worker."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Start Yiwang: web server plus background worker (migrates first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start the task worker and the scheduler"
        )
        parser.add_argument(
            "--demo", action="store_true", help="load the demo district if the database is empty"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("数据库已就绪 / database ready")
        if options["demo"]:
            call_command("demo", if_empty=True)
        call_command("collectstatic", interactive=False, verbosity=0)
        children: list[subprocess.Popen[bytes]] = []
        if not options["no_worker"] and settings.TASKS_BACKEND in ("database", "redis"):
            # A worker and the periodic-job scheduler (yiwang.core.jobs): safe beside the ones of
            # other app servers, each slot is queued once.
            for action in ("worker", "scheduler"):
                children.append(subprocess.Popen([sys.executable, "-m", "yiwang.cli", "jobs", action]))
        bind = f"{options['host']}:{options['port']}"
        self.stdout.write(
            self.style.SUCCESS(f"Yiwang 已启动 / running at http://{bind}/  (Ctrl+C 停止 / to stop)")
        )
        server = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "yiwang.config.wsgi:application",
                "--bind", bind, "--workers", str(options["workers"]), "--threads", "4",
                "--access-logfile", "-", "--graceful-timeout", "10",
            ]
        )  # fmt: skip
        children.append(server)

        def stop(*_: Any) -> None:
            for child in children:
                child.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for child in children:
                child.wait(timeout=15)
