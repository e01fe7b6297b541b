"""The ``yiwang jobs`` command, the retraining job and the nightly backup job with its retention."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from tests.ops.conftest import run_worker
from yiwang.core.backup import prune, scheduled_backup
from yiwang.dispatch.tasks import retrain_classifier


def out_of(*args: str) -> str:
    out = io.StringIO()
    call_command("jobs", *args, stdout=out)
    return out.getvalue()


def test_jobs_list_names_every_job_and_its_task(db_tasks: None) -> None:
    text = out_of("list")
    assert "sla_scan" in text
    assert "yiwang.analytics.tasks.rollup_catch_up" in text


def test_jobs_run_queues_now_and_status_counts_the_queue(db_tasks: None) -> None:
    assert "queued" in out_of("run", "sla_scan")
    assert DBTaskResult.objects.count() == 1
    assert "ready=1" in out_of("status")
    run_worker()
    assert "successful=1" in out_of("status")


def test_jobs_run_of_an_unknown_job_names_the_known_ones(db_tasks: None) -> None:
    with pytest.raises(CommandError, match="rollup_catch_up"):
        out_of("run", "nightly_report")


def test_scheduler_once_queues_the_due_jobs(db_tasks: None) -> None:
    text = out_of("scheduler", "--once")
    assert "sla_scan: queued" in text
    assert "retrain_classifier: due later" in text


def test_retraining_without_enough_closed_cases_is_skipped_not_failed(db: None) -> None:
    assert retrain_classifier.call().startswith("skipped")


def test_nightly_backup_does_nothing_without_a_folder(db: None, settings: Any) -> None:
    settings.YIWANG_BACKUP_DIR = ""
    assert scheduled_backup.call().startswith("skipped")


def test_nightly_backup_writes_an_archive_and_keeps_the_newest(
    db: None, settings: Any, tmp_path: Path, media_root: Path
) -> None:
    settings.YIWANG_BACKUP_DIR = str(tmp_path / "backups")
    settings.YIWANG_BACKUP_KEEP = 2
    (tmp_path / "backups").mkdir()
    for day in ("20260101", "20260102"):
        (tmp_path / "backups" / f"yiwang-{day}-023000.tar.gz").write_bytes(b"old")
    assert "rows" in scheduled_backup.call()
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert len(kept) == 2
    assert kept[0] == "yiwang-20260102-023000.tar.gz"


def test_prune_keeps_only_archives_it_made(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    for day in ("20260101", "20260102", "20260103"):
        (tmp_path / f"yiwang-{day}.tar.gz").write_bytes(b"x")
    removed = prune(tmp_path, 1)
    assert [p.name for p in removed] == ["yiwang-20260101.tar.gz", "yiwang-20260102.tar.gz"]
    assert (tmp_path / "notes.txt").exists()
