"""``yiwang registry import|export|template KIND FILE``: the registers as Excel or CSV files.

KIND is residents, buildings, houses or organisations; the format follows FILE's extension (.xlsx or
.csv). Imports are all-or-nothing (see ``registry.importers``). ``--user`` names the account whose
scope applies (imports: grids it may write; exports: rows it may see); without it an import runs as
the system, and an export needs it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.people.models import User
from yiwang.registry.importers import KINDS, export_file, import_file, write_template


class Command(BaseCommand):
    help = "网格基础数据导入、导出与模板 / import, export and templates of the registers"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["import", "export", "template"])
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file")
        parser.add_argument("--user", help="按该账号的权限范围导入/导出 / act within this account's scope")
        parser.add_argument("--dry-run", action="store_true", help="只校验不写入 / validate only")
        parser.add_argument(
            "--reveal-reason",
            default="",
            help="导出完整个人信息的理由（需授权，记入审计） / reason for a full export",
        )

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"账号 {username} 不存在或已停用 / no active user {username}")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        action, kind, path = options["action"], options["kind"], options["file"]
        user = self._user(options["user"])
        if action == "template":
            write_template(kind, path)
            self.stdout.write(self.style.SUCCESS(f"模板已写入 / template written: {path}"))
            return
        if action == "export":
            if user is None:
                raise CommandError("导出须指定 --user / export needs --user")
            try:
                count = export_file(kind, path, user, reveal_reason=options["reveal_reason"])
            except PermissionDenied as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"已导出 {count} 行 / exported {count} rows: {path}"))
            return
        report = import_file(kind, path, actor=user, dry_run=options["dry_run"])
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"导入失败 / import failed: {len(report.problems)} problem(s)", returncode=1)
