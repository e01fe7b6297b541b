"""Audit retention (≥ 180 days) and export formats: purge refuses young records, keeps the chain
verifiable, and the CLI exports CSV and JSON Lines."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from yiwang.core import audit
from yiwang.core.models_audit import AuditRecord
from yiwang.core.security.audit_retention import RetentionError, purge

pytestmark = pytest.mark.django_db


def _history() -> None:
    """Records 400, 300 and 200 days ago, and 10 days ago."""
    now = timezone.now()
    for days in (400, 300, 200, 10):
        with time_machine.travel(now - timedelta(days=days), tick=False):
            audit.record("export", actor=None, data={"days": days})


def test_purge_refuses_a_cutoff_younger_than_180_days() -> None:
    _history()
    with pytest.raises(RetentionError):
        purge(timezone.now() - timedelta(days=179))
    assert AuditRecord.objects.count() == 4


def test_purge_deletes_the_old_prefix_and_the_chain_still_verifies() -> None:
    _history()
    archive = io.StringIO()
    result = purge(timezone.now() - timedelta(days=250), archive=archive)
    assert result.deleted == 2
    kept = [r.data.get("days") for r in AuditRecord.objects.order_by("seq")]
    assert kept == [200, 10, None]  # the last one is the purge record with the checkpoint
    assert audit.verify_chain() == []
    archived = [json.loads(line) for line in archive.getvalue().splitlines()]
    assert [a["data"]["days"] for a in archived] == [400, 300]


def test_a_second_purge_continues_from_the_first_checkpoint() -> None:
    _history()
    purge(timezone.now() - timedelta(days=350))
    audit.record("export", actor=None)
    purge(timezone.now() - timedelta(days=190))
    assert audit.verify_chain() == []
    marks = list(
        AuditRecord.objects.filter(action=audit.PURGE).order_by("seq").values_list("data", flat=True)
    )
    assert [m["through_seq"] for m in marks] == [1, 3]


def test_deleting_the_oldest_record_without_a_purge_is_still_detected() -> None:
    _history()
    AuditRecord.objects.filter(seq=1)._raw_delete("default")
    assert [p.kind for p in audit.verify_chain()] == ["gap", "link"]


def test_purge_refuses_a_broken_chain() -> None:
    _history()
    AuditRecord.objects.filter(seq=2)._raw_delete("default")
    with pytest.raises(RetentionError):
        purge(timezone.now() - timedelta(days=250))


def test_purge_command_reports_the_rule_in_both_languages() -> None:
    _history()
    with pytest.raises(CommandError, match="180"):
        call_command("audit", "purge", "--before", timezone.localdate().isoformat())


def test_export_command_writes_json_lines_between_dates(tmp_path: Path) -> None:
    _history()
    today = timezone.localdate()
    out = tmp_path / "audit.jsonl"
    call_command(
        "audit",
        "export",
        "--from",
        (today - timedelta(days=320)).isoformat(),
        "--to",
        (today - timedelta(days=100)).isoformat(),
        "--format",
        "jsonl",
        str(out),
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["data"]["days"] for r in rows] == [300, 200]
    assert AuditRecord.objects.filter(action="export", data__format="jsonl").exists()


def test_export_command_writes_csv_by_default(tmp_path: Path) -> None:
    _history()
    out = tmp_path / "audit.csv"
    call_command("audit", "export", "--from", "2000-01-01", str(out))
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("seq,at,actor_name")
    assert len(lines) == 5
