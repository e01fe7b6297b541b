"""``yiwang check [topology] [--deploy]``: Django's system check, then the grid map's topology."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.grids.topology import check_topology


class Command(BaseCommand):
    help = "系统检查与网格拓扑检查 / system and grid topology checks"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", nargs="?", choices=["topology"], help="只做网格拓扑检查")
        parser.add_argument("--deploy", action="store_true", help="传给 Django check --deploy")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] is None:
            call_command("check", deploy=options["deploy"], stdout=self.stdout, stderr=self.stderr)
        issues = check_topology()
        for issue in issues:
            self.stdout.write(f"[{issue.kind}] {issue.message}")
        if issues:
            raise CommandError(
                f"发现 {len(issues)} 个网格拓扑问题 / {len(issues)} topology issues", returncode=1
            )
        self.stdout.write(self.style.SUCCESS("网格拓扑检查通过 / grid topology OK"))
