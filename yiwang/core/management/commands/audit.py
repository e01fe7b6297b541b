"""``yiwang audit verify`` and ``yiwang audit export --since DATE FILE.csv``.

``verify`` re-computes the audit hash chain and exits 1, naming each broken record, if anything was
changed, removed or inserted. ``export`` writes records to CSV (UTF-8 with BOM, so spreadsheet
programs read the Chinese text) and logs the export itself as an ``export`` audit record.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from yiwang.core import audit
from yiwang.core.models_audit import AuditAction, AuditRecord

COLUMNS = (
    "seq",
    "at",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "field",
    "reason",
    "ip",
    "success",
    "data",
    "prev_hash",
    "hash",
)
# A cell starting with one of these is a formula to a spreadsheet program (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _parse_day(text: str, option: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(
            f"{option} 日期格式应为 YYYY-MM-DD / {option} must be a date YYYY-MM-DD: {text!r}"
        ) from exc
    return timezone.make_aware(datetime.combine(day, time.min))


def _cell(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(entry: AuditRecord) -> list[str]:
    at = timezone.localtime(entry.at).isoformat(timespec="seconds")
    return [at if name == "at" else _cell(getattr(entry, name)) for name in COLUMNS]


class Command(BaseCommand):
    help = "审计日志：校验哈希链（verify）或导出 CSV（export） / audit log: verify the chain or export CSV"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser(
            "verify", help="校验哈希链，损坏时退出码为 1 / verify the hash chain (exit 1 if broken)"
        )
        export = sub.add_parser("export", help="导出审计记录为 CSV / export records to CSV")
        export.add_argument("--since", required=True, help="起始日期（含） YYYY-MM-DD")
        export.add_argument("--until", help="截止日期（不含） YYYY-MM-DD")
        export.add_argument("file", help="输出 CSV 文件路径，- 表示标准输出")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self.verify()
        else:
            self.export(options["since"], options.get("until"), options["file"])

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

    def export(self, since_text: str, until_text: str | None, file: str) -> None:
        since = _parse_day(since_text, "--since")
        until = _parse_day(until_text, "--until") if until_text else None
        if until is not None and until <= since:
            raise CommandError("--until 须晚于 --since / --until must be after --since")
        rows = audit.records_since(since, until)
        count = 0
        if file == "-":
            count = self._write(rows, self.stdout)
        else:
            path = Path(file)
            if not path.parent.exists():
                raise CommandError(f"目录不存在 / directory does not exist: {path.parent}")
            with path.open("w", encoding="utf-8-sig", newline="") as handle:
                count = self._write(rows, handle)
        audit.record(
            AuditAction.EXPORT,
            actor=None,
            actor_name="cli",
            data={"what": "audit", "since": since_text, "until": until_text or "", "rows": count},
        )
        self.stderr.write(f"exported {count} records")

    def _write(self, rows: Any, handle: Any) -> int:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        count = 0
        for entry in rows.iterator(chunk_size=2000):
            writer.writerow(_row(entry))
            count += 1
        return count
