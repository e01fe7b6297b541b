"""``yiwang backup`` / ``yiwang restore``: a round trip keeps every row, the uploaded files and the
encrypted personal data (still ciphertext in the archive); restore refuses a database in use and
migrates an archive of an older schema forward."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.cases.conftest import IN_A2, WEDNESDAY, new_case
from tests.world import World, build_world
from yiwang.cases import actions, sla
from yiwang.cases.models import Case, CaseEvent
from yiwang.core import backup as archive
from yiwang.core.backup import BackupError
from yiwang.core.models_jobs import ScheduledJob
from yiwang.grids import locator
from yiwang.people.models import User

PHONE = "13912345678"
PHOTO = bytes(range(256)) * 40


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    locator.reset_cache()
    sla.clear_limits_cache()
    yield
    locator.reset_cache()
    sla.clear_limits_cache()


def raw_phone(pk: int) -> str:
    """The column as stored (ciphertext), read past the field's decryption."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT reporter_phone FROM {Case._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def populate(world: World, media_root: Path) -> dict[str, Any]:
    case = new_case(world, reporter_name="张三", reporter_phone=PHONE)
    case = actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a, at=WEDNESDAY)
    other = new_case(world, IN_A2, title="路灯不亮")
    photo = media_root / "cases" / "2026" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(PHOTO)
    return {"case": case.pk, "other": other.pk, "cipher": raw_phone(case.pk), "due": case.accept_due_at}


def table_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
    }


def archive_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def restored_statistics(table: str) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname = %s",
                [table],
            )
            return bool(cursor.fetchone()[0])
        cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        return cursor.fetchone()[0] > 0


def empty_database() -> None:
    call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_round_trip_keeps_rows_files_and_encrypted_personal_data(media_root: Path, tmp_path: Path) -> None:
    # A transactional test: backup and restore run in autocommit, as from the command line.
    made = populate(build_world(), media_root)
    before = table_counts()
    path = tmp_path / "yiwang.tar.gz"
    out = io.StringIO()
    call_command("backup", str(path), stdout=out)
    assert "backup written" in out.getvalue()

    members = archive_members(path)
    manifest = json.loads(members["manifest.json"])
    assert "0005_scheduled_job" in manifest["migrations"]["core"]
    assert manifest["counts"]["cases.case"] == before["cases"]
    assert members["media/cases/2026/photo.jpg"] == PHOTO
    data = b"".join(v for k, v in members.items() if k.startswith("data/"))
    assert PHONE.encode() not in data  # personal data leaves only as ciphertext
    assert made["cipher"].encode() in data

    empty_database()
    (media_root / "cases" / "2026" / "photo.jpg").unlink()
    assert archive.database_is_empty()
    out = io.StringIO()
    call_command("restore", str(path), stdout=out)
    assert "restored" in out.getvalue()
    # The restored tables carry planner statistics (and, on PostgreSQL, were vacuumed).
    assert "analyze: " in out.getvalue()
    assert restored_statistics("cases_case")

    assert table_counts() == before
    case = Case.objects.get(pk=made["case"])
    assert (case.reporter_phone, case.reporter_name, case.status) == (PHONE, "张三", "dispatched")
    assert raw_phone(case.pk) == made["cipher"]  # the very same ciphertext, never re-encrypted
    assert Case.objects.get(pk=made["other"]).title == "路灯不亮"
    assert case.accept_due_at == made["due"]
    assert case.accept_due_at is not None
    assert (media_root / "cases" / "2026" / "photo.jpg").read_bytes() == PHOTO
    # New rows after a restore get fresh ids (sequences were reset past the restored ones).
    newest = User.objects.order_by("-pk").first()
    assert newest is not None
    assert User.objects.create(username="after-restore").pk > newest.pk

    # Now in use: a second restore is refused, unless forced, and then replaces everything.
    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(path))
    call_command("restore", str(path), "--force", stdout=io.StringIO())
    assert table_counts() == before
    assert not User.objects.filter(username="after-restore").exists()


def test_restore_refuses_a_database_in_use(world: World, media_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "yiwang.tar.gz"
    archive.backup(path)
    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(path))
    assert User.objects.count() > 0  # untouched


def test_restore_refuses_an_archive_made_with_other_pii_keys(
    world: World, media_root: Path, tmp_path: Path, settings: Any
) -> None:
    path = tmp_path / "yiwang.tar.gz"
    archive.backup(path)
    settings.YIWANG_PII_KEYS = ["another-key"]
    with pytest.raises(BackupError, match="YIWANG_PII_KEYS"):
        archive.restore(path, force=True)
    assert User.objects.exists()


def test_restore_refuses_what_is_not_a_backup(db: None, tmp_path: Path) -> None:
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("hello.txt")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(BackupError, match="manifest"):
        archive.restore(path)


def older(path: Path, target: Path) -> None:
    """Rewrite ``path`` as if written before ``core.0005_scheduled_job`` existed."""
    with tarfile.open(path, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            if member.name == "data/core.scheduledjob.jsonl":
                continue
            body = src.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            if member.name == "manifest.json":
                manifest = json.loads(body)
                manifest["migrations"]["core"].remove("0005_scheduled_job")
                manifest["counts"].pop("core.scheduledjob")
                body = json.dumps(manifest).encode()
                member.size = len(body)
            dst.addfile(member, io.BytesIO(body))


@pytest.mark.django_db(transaction=True)
def test_archive_of_an_older_schema_is_restored_then_migrated_forward(
    media_root: Path, tmp_path: Path
) -> None:
    world = build_world()
    case = new_case(world, reporter_phone=PHONE)
    users = User.objects.count()
    path, old = tmp_path / "now.tar.gz", tmp_path / "old.tar.gz"
    archive.backup(path)
    older(path, old)
    empty_database()
    lines: list[str] = []
    summary = archive.restore(old, progress=lines.append)
    assert summary.migrated_forward
    assert any("migrating to the archive's schema" in line for line in lines)
    assert any("migrating forward" in line for line in lines)
    assert ("core", "0005_scheduled_job") in {
        (app, name) for app, names in archive.applied_migrations().items() for name in names
    }
    assert ScheduledJob.objects.count() == 0  # the table is back, empty, usable
    ScheduledJob.objects.create(name="probe")
    assert Case.objects.get(pk=case.pk).reporter_phone == PHONE
    assert User.objects.count() == users
