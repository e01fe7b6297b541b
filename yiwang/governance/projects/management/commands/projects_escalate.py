"""``manage.py projects_escalate``: the periodic check that escalates red nodes not recovered after
supervision (run it daily, e.g. from cron or the task runner)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yiwang.governance.projects.actions import escalate_unrecovered


class Command(BaseCommand):
    help = "升级督办期满仍为红灯的攻坚项目节点 / escalate red nodes not recovered after supervision"

    def handle(self, *args: Any, **options: Any) -> None:
        done = escalate_unrecovered()
        self.stdout.write(f"{len(done)} 个节点已升级 / {len(done)} node(s) escalated")
