"""``yiwang audit verify | export | purge``.

``verify`` re-computes the audit hash chain and exits 1, naming each broken record, if anything was
changed, removed or inserted. ``export --from DATE [--to DATE] [--format csv|jsonl] [FILE]`` writes
records (CSV in UTF-8 with BOM, so spreadsheet programs read the Chinese text; or JSON Lines) and
logs the export itself. ``purge --before DATE [--archive FILE]`` deletes records older than the
retention period (at least 180 days), keeping a checkpoint so the rest of the chain still verifies.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from yiwang.core import audit
from yiwang.core.models_audit import AuditAction, AuditRecord
from yiwang.core.security import audit_export
from yiwang.core.security.audit_retention import RetentionError, purge

COLUMNS = audit_export.COLUMNS


def _parse_day(text: str, option: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(
            f"{option} 日期格式应为 YYYY-MM-DD / {option} must be a date YYYY-MM-DD: {text!r}"
        ) from exc
    return timezone.make_aware(datetime.combine(day, time.min))


def _output_path(file: str) -> Path:
    path = Path(file)
    if not path.parent.exists():
        raise CommandError(f"目录不存在 / directory does not exist: {path.parent}")
    return path


class Command(BaseCommand):
    help = (
        "审计日志：校验哈希链（verify）、导出（export）、清理过期记录（purge） / audit log: verify the chain, "
        "export records, purge records past retention"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser(
            "verify", help="校验哈希链，损坏时退出码为 1 / verify the hash chain (exit 1 if broken)"
        )
        export = sub.add_parser("export", help="导出审计记录 / export records (CSV or JSON Lines)")
        export.add_argument(
            "--from", "--since", dest="since", required=True, help="起始日期（含） YYYY-MM-DD"
        )
        export.add_argument("--to", "--until", dest="until", help="截止日期（不含） YYYY-MM-DD")
        export.add_argument(
            "--format", choices=audit_export.FORMATS, default="csv", help="csv（默认）或 jsonl"
        )
        export.add_argument("file", nargs="?", default="-", help="输出文件路径，- 或省略表示标准输出")
        purge_cmd = sub.add_parser(
            "purge", help="清理超过保留期的记录 / purge records past the retention period"
        )
        purge_cmd.add_argument(
            "--before", required=True, help="删除此日期之前的记录 YYYY-MM-DD（至少 180 天前）"
        )
        purge_cmd.add_argument("--archive", help="先将被删记录写入此 JSON Lines 文件 / archive them first")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self.verify()
        elif options["subcommand"] == "purge":
            self.purge(options["before"], options.get("archive"))
        else:
            self.export(options["since"], options.get("until"), options["file"], options["format"])

    def verify(self) -> None:
        problems = audit.verify_chain()
        total = AuditRecord.objects.count()
        if problems:
            for problem in problems:
                self.stdout.write(f"BROKEN {problem}")
            raise CommandError(
                f"审计链损坏：{len(problems)} 处问题 / audit chain broken: {len(problems)} problem(s) in {total} records",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(f"OK: {total} 条审计记录，哈希链完整 / {total} records, chain intact")
        )

    def export(self, since_text: str, until_text: str | None, file: str, fmt: str = "csv") -> None:
        since = _parse_day(since_text, "--from")
        until = _parse_day(until_text, "--to") if until_text else None
        if until is not None and until <= since:
            raise CommandError("--to 须晚于 --from / --to must be after --from")
        rows = audit.records_since(since, until).iterator(chunk_size=2000)
        if file == "-":
            count = audit_export.write(rows, self.stdout, fmt)
        else:
            encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
            with _output_path(file).open("w", encoding=encoding, newline="") as handle:
                count = audit_export.write(rows, handle, fmt)
        audit.record(
            AuditAction.EXPORT,
            actor=None,
            actor_name="cli",
            data={
                "what": "audit",
                "since": since_text,
                "until": until_text or "",
                "rows": count,
                "format": fmt,
            },
        )
        self.stderr.write(f"exported {count} records")

    def purge(self, before_text: str, archive: str | None) -> None:
        before = _parse_day(before_text, "--before")
        try:
            if archive:
                with _output_path(archive).open("x", encoding="utf-8") as handle:
                    result = purge(before, archive=handle)
            else:
                result = purge(before)
        except RetentionError as exc:
            raise CommandError(str(exc)) from exc
        except FileExistsError as exc:
            raise CommandError(f"归档文件已存在 / archive file exists: {archive}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已清理 {result.deleted} 条（至 #{result.through_seq}） / purged {result.deleted} records "
                f"through #{result.through_seq}"
            )
        )
