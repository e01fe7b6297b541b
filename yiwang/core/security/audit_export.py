"""Writing audit records out: CSV (spreadsheet-safe) and JSON Lines (one record per line, every
hashed fact included, so an archive can be re-verified outside the system)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from yiwang.core.models_audit import AuditRecord

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
FORMATS = ("csv", "jsonl")
# A cell starting with one of these is a formula to a spreadsheet program (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(entry: AuditRecord) -> list[str]:
    at = timezone.localtime(entry.at).isoformat(timespec="seconds")
    return [at if name == "at" else _cell(getattr(entry, name)) for name in COLUMNS]


def json_record(entry: AuditRecord) -> dict[str, Any]:
    record = {name: getattr(entry, name) for name in COLUMNS}
    # Full precision in UTC: the hash covers the microseconds (models_audit.AuditRecord.canonical).
    record["at"] = entry.at.isoformat(timespec="microseconds")
    return record


def write(entries: Iterable[AuditRecord], handle: Any, fmt: str) -> int:
    """Write ``entries`` to ``handle`` as ``csv`` or ``jsonl``; returns the number written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use {' or '.join(FORMATS)})")
    count = 0
    if fmt == "csv":
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for entry in entries:
            writer.writerow(csv_row(entry))
            count += 1
        return count
    for entry in entries:
        handle.write(json.dumps(json_record(entry), ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count
