"""Retention of the audit log (等保 2.0: at least six months): purge only what is older than the
minimum, and keep the remaining chain verifiable.

:func:`purge` deletes a *prefix* of the chain (every record up to the last one before the cut-off)
and appends an ``audit.purge`` record whose data holds the checkpoint — the sequence number and hash
of the last purged record. :func:`yiwang.core.audit.verify_chain` starts from that checkpoint, so the
kept records still verify, and the purge record itself is chained like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yiwang.core import audit
from yiwang.core.models_audit import AuditRecord
from yiwang.core.security import audit_export

MIN_RETENTION_DAYS = 180


class RetentionError(Exception):
    """A purge that would break the retention rule or the chain; nothing was deleted."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class PurgeResult:
    deleted: int
    through_seq: int
    through_hash: str


def retention_days() -> int:
    """``YIWANG_AUDIT_RETENTION_DAYS`` (default 180), never below the 180-day minimum."""
    return max(MIN_RETENTION_DAYS, int(getattr(settings, "YIWANG_AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS)))


def earliest_allowed_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=retention_days())


def purge(
    before: datetime, *, actor_name: str = "cli", archive: TextIO | None = None, now: datetime | None = None
) -> PurgeResult:
    """Delete the records older than ``before`` (a prefix of the chain), after writing them to
    ``archive`` (JSON Lines) when given. Refuses a cut-off younger than the retention period and a
    chain that does not verify (that would destroy evidence)."""
    limit = earliest_allowed_cutoff(now)
    if before > limit:
        raise RetentionError(
            f"审计记录须保留至少 {retention_days()} 天，截止时间不得晚于 {timezone.localtime(limit):%Y-%m-%d %H:%M}",
            f"audit records are kept at least {retention_days()} days: the cut-off must be on or before {limit:%Y-%m-%d %H:%M}",
        )
    with transaction.atomic():
        audit._locked_head()  # no writer appends while the prefix is cut
        problems = audit.verify_chain()
        if problems:
            raise RetentionError(
                f"审计链校验失败（{len(problems)} 处），不能清理",
                f"the audit chain is broken ({len(problems)} problems): not purging",
            )
        start_seq, start_hash = audit.chain_start()
        first_kept = (
            AuditRecord.objects.filter(at__gte=before).order_by("seq").values_list("seq", flat=True).first()
        )
        last = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        through_seq = (first_kept - 1) if first_kept is not None else last
        doomed = AuditRecord.objects.filter(seq__lte=through_seq)
        through_hash = start_hash
        deleted = 0
        if through_seq >= start_seq:
            through_hash = AuditRecord.objects.values_list("hash", flat=True).get(seq=through_seq)
            if archive is not None:
                audit_export.write(doomed.order_by("seq").iterator(chunk_size=2000), archive, "jsonl")
            # The model refuses deletes (append-only); retention is the one sanctioned removal.
            deleted = doomed._raw_delete(doomed.db)
        else:
            through_seq = start_seq - 1
        audit.record(
            audit.PURGE,
            actor=None,
            actor_name=actor_name,
            data={
                "before": before.isoformat(),
                "deleted": deleted,
                "through_seq": through_seq,
                "through_hash": through_hash,
            },
        )
    return PurgeResult(deleted, through_seq, through_hash)
