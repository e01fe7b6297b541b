"""``yiwang duplicates score --messages A.csv [--messages B.csv …] --pairs PAIRS.csv --json``.

Scores message pairs the way intake would decide (text, place names, time apart; the messages have
no coordinates). The pairs file has columns ``id_a,id_b`` (留言编号 values; other columns ignored).
Prints, per pair: id_a, id_b, score (0–1), duplicate (true/false), days_apart, reasons.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.dispatch.duplicates import score_messages
from yiwang.dispatch.similarity import Message, MessageFileError, read_messages_csv


def read_pairs(path: str) -> list[tuple[str, str]]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"无法读取 / cannot read {path}: {exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in ("id_a", "id_b") if c not in columns]
    if missing:
        raise CommandError(f"{path}: 缺少列 {'、'.join(missing)} / missing columns: {', '.join(missing)}")
    reader.fieldnames = columns
    return [(r["id_a"].strip(), r["id_b"].strip()) for r in reader if (r.get("id_a") or "").strip()]


class Command(BaseCommand):
    help = "疑似重复评分：对留言对按受理时的规则打分（score 子命令）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        score = sub.add_parser("score", help="score message pairs from CSV files")
        score.add_argument("--messages", action="append", required=True, help="message CSV (repeatable)")
        score.add_argument("--pairs", required=True, help="CSV with columns id_a,id_b")
        score.add_argument("--json", action="store_true", help="print JSON (the default output)")

    def handle(self, *args: Any, **options: Any) -> None:
        messages: dict[str, Message] = {}
        for path in options["messages"]:
            try:
                for m in read_messages_csv(path):
                    messages[m.id] = m
            except (OSError, MessageFileError) as exc:
                raise CommandError(str(exc)) from exc
        pairs = read_pairs(options["pairs"])
        unknown = sorted({i for pair in pairs for i in pair if i not in messages})
        if unknown:
            shown = ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "")
            raise CommandError(f"留言编号不存在 / unknown message ids ({len(unknown)}): {shown}")
        out = []
        for a, b in pairs:
            score, duplicate, c = score_messages(messages[a], messages[b])
            ma, mb = messages[a], messages[b]
            days = abs((ma.at - mb.at).total_seconds()) / 86400 if ma.at and mb.at else None
            out.append(
                {
                    "id_a": a,
                    "id_b": b,
                    "score": round(score, 4),
                    "duplicate": duplicate,
                    "days_apart": None if days is None else round(days, 1),
                    "shared_places": list(c.shared_places),
                    "shared_terms": list(c.shared_terms),
                }
            )
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=1))
