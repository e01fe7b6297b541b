"""One-file backups: every table, the migration state and the uploaded files, in one ``.tar.gz``.

Layout of an archive::

    manifest.json               format, time, database vendor, applied migrations, row counts,
                                fingerprints of the PII keys (never the keys)
    data/<app>.<model>.jsonl    line 1: {"model", "fields"}; then one JSON array of values per row
    media/…                     MEDIA_ROOT as it was

Rows are read with the historical models of the *applied* migrations and streamed (a server-side
cursor, one row at a time into a temporary file), so a table of millions of rows is never held in
memory. Encrypted personal data is copied as the ciphertext stored in the column: it is never
decrypted on the way out, and the restored column holds the very same bytes (the same keys must be
configured to read it, checked against the fingerprints).

Restore (into an empty database; ``force`` to overwrite): migrate to the archive's recorded
migration state, empty every table, load the rows with the historical models of that state (one
transaction), then migrate forward to the code's current state, so an archive written by an older
release is brought up to date by the ordinary migrations.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import io
import json
import logging
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.apps.registry import Apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.tasks import task
from django.utils import timezone

from yiwang.core.fields import EncryptedCharField

logger = logging.getLogger(__name__)

FORMAT = "yiwang-backup/1"
CHUNK = 2000
Progress = Callable[[str], None]
Node = tuple[str, str]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is bilingual (Chinese first)."""


def _quiet(_line: str) -> None:
    pass


# --- migration state -------------------------------------------------------------------------------
def applied_migrations(using: str = "default") -> dict[str, list[str]]:
    """The applied migrations per app, as recorded in ``django_migrations``."""
    recorder = MigrationRecorder(connections[using])
    out: dict[str, list[str]] = {}
    for app, name in sorted(recorder.applied_migrations()):
        out.setdefault(app, []).append(name)
    return out


def _leaves(loader: MigrationLoader, applied: set[Node]) -> list[Node]:
    """The newest migration of each app within ``applied`` (their ancestors are applied too)."""
    graph = loader.graph
    leaves = []
    for node in sorted(applied):
        if node not in graph.nodes:
            continue
        children = {c.key for c in graph.node_map[node].children if c.key[0] == node[0]}
        if not children & applied:
            leaves.append(node)
    return leaves


def _state_apps(loader: MigrationLoader, applied: set[Node]) -> Apps:
    return loader.project_state(_leaves(loader, applied), at_end=True).apps


def _data_models(state_apps: Apps) -> list[type[models.Model]]:
    """Every model with a table of its own. The load order does not matter: Django's foreign keys
    are DEFERRABLE INITIALLY DEFERRED (SQLite and PostgreSQL) and the load is one transaction."""
    found = [
        model
        for model in state_apps.get_models(include_auto_created=True)
        if not model._meta.proxy and model._meta.managed
    ]
    return sorted(found, key=lambda m: m._meta.label_lower)


# --- values --------------------------------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()  # full microseconds (DjangoJSONEncoder keeps only milliseconds)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return {"__us__": value // dt.timedelta(microseconds=1)}
    if isinstance(value, bytes | memoryview):
        return {"__b64__": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"cannot archive a value of type {type(value).__name__}")


def _decoder(f: models.Field[Any, Any]) -> Callable[[Any], Any]:
    if isinstance(f, EncryptedCharField):
        # The ciphertext as it was: an expression bypasses the field's encryption on insert.
        return lambda v: v if not v else models.Value(v, output_field=models.TextField())
    if isinstance(f, models.JSONField):
        return lambda v: v
    if isinstance(f, models.DurationField):
        return lambda v: None if v is None else dt.timedelta(microseconds=v["__us__"])
    if isinstance(f, models.BinaryField):
        return lambda v: None if v is None else base64.b64decode(v["__b64__"])
    return lambda v: None if v is None else f.to_python(v)


def _select(model: type[models.Model]) -> tuple[list[str], dict[str, Any]]:
    """Column names, and expressions that read encrypted columns without decrypting them."""
    names, exprs = [], {}
    for f in model._meta.concrete_fields:
        names.append(f.attname)
        if isinstance(f, EncryptedCharField):
            exprs[f.attname] = models.ExpressionWrapper(models.F(f.attname), output_field=models.TextField())
    return names, exprs


def _rows(model: type[models.Model], using: str) -> Iterator[list[Any]]:
    names, exprs = _select(model)
    columns = [exprs.get(n, n) for n in names]
    qs = model._base_manager.using(using).order_by("pk").values_list(*columns)
    for row in qs.iterator(chunk_size=CHUNK):
        yield [_encode(v) for v in row]


# --- keys ----------------------------------------------------------------------------------------------
def key_fingerprints() -> list[str]:
    """Short one-way fingerprints of the configured PII keys (to tell a wrong key set on restore)."""
    keys = getattr(settings, "YIWANG_PII_KEYS", [])
    return [hashlib.sha256(k.encode()).hexdigest()[:16] for k in keys]


# --- backup ----------------------------------------------------------------------------------------------
@contextmanager
def _snapshot(using: str) -> Iterator[None]:
    """One consistent read of every table, without blocking writers."""
    conn = connections[using]
    if conn.in_atomic_block:
        yield  # already inside a transaction (a caller's, or a test's)
        return
    if conn.vendor == "postgresql":
        with transaction.atomic(using=using):
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    if conn.vendor == "sqlite":
        # A deferred read transaction (WAL: writers go on); Django's atomic() would take the write
        # lock at BEGIN (transaction_mode IMMEDIATE).
        conn.ensure_connection()
        with conn.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with conn.cursor() as cursor:
                cursor.execute("ROLLBACK")
        return
    yield  # pragma: no cover - other vendors: best effort


@dataclass
class Summary:
    path: Path
    tables: int = 0
    rows: int = 0
    media_files: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def backup(
    path: Path | str, *, using: str = "default", media: bool = True, progress: Progress = _quiet
) -> Summary:
    """Write the archive ``path`` (``.tar.gz``); returns what it holds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    summary = Summary(target)
    partial = target.with_name(target.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="yiwang-backup-") as tmp:
        work = Path(tmp)
        with _snapshot(using):
            loader = MigrationLoader(connections[using], ignore_no_migrations=True)
            # Records of migrations this code no longer has (renamed, squashed away) are left out:
            # the schema they made is described by the migrations that are here.
            nodes = {
                (app, name)
                for app, names in applied_migrations(using).items()
                for name in names
                if (app, name) in loader.graph.nodes
            }
            applied: dict[str, list[str]] = {}
            for app, name in sorted(nodes):
                applied.setdefault(app, []).append(name)
            data_models = _data_models(_state_apps(loader, nodes))
            files = []
            for i, model in enumerate(data_models, 1):
                label = model._meta.label_lower
                out = work / f"{label}.jsonl"
                count = 0
                with out.open("w", encoding="utf-8") as fh:
                    names, _exprs = _select(model)
                    fh.write(json.dumps({"model": label, "fields": names}, ensure_ascii=False) + "\n")
                    for row in _rows(model, using):
                        fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
                        count += 1
                        if count % 100_000 == 0:
                            progress(f"  {label}: {count} …")
                summary.counts[label] = count
                summary.rows += count
                files.append((label, out))
                progress(f"[{i}/{len(data_models)}] {label}: {count}")
        summary.tables = len(files)
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "vendor": connections[using].vendor,
            "migrations": applied,
            "counts": summary.counts,
            "pii_key_fingerprints": key_fingerprints(),
        }
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            for label, out in files:
                tar.add(out, arcname=f"data/{label}.jsonl")
            media_root = Path(settings.MEDIA_ROOT)
            if media and media_root.is_dir():
                for item in sorted(media_root.rglob("*")):
                    if item.is_file() and not item.is_symlink():
                        tar.add(item, arcname=f"media/{item.relative_to(media_root).as_posix()}")
                        summary.media_files += 1
                progress(f"media: {summary.media_files} files")
    partial.replace(target)  # a crash never leaves a truncated archive under the final name
    return summary


# --- restore ---------------------------------------------------------------------------------------------
def database_is_empty(using: str = "default") -> bool:
    """True for a database without tables, or without any user account (what migrations alone
    leave: the reference data of data migrations does not count)."""
    from django.contrib.auth import get_user_model

    conn = connections[using]
    user_table = get_user_model()._meta.db_table
    if user_table not in conn.introspection.table_names():
        return True
    return not get_user_model()._base_manager.using(using).exists()


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    member = tar.next()
    if member is None or member.name != "manifest.json":
        raise BackupError(
            "不是一网备份文件（缺少 manifest.json）", "not a Yiwang backup archive (no manifest.json)"
        )
    raw = tar.extractfile(member)
    assert raw is not None
    manifest: dict[str, Any] = json.loads(raw.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"不支持的备份格式 {manifest.get('format')!r}",
            f"unsupported archive format {manifest.get('format')!r}",
        )
    return manifest


def _check_keys(manifest: dict[str, Any]) -> None:
    recorded = set(manifest.get("pii_key_fingerprints") or [])
    if recorded and not recorded & set(key_fingerprints()):
        raise BackupError(
            "当前配置的个人信息密钥（YIWANG_PII_KEYS）与备份时不同，恢复后加密数据将无法解密",
            "the configured YIWANG_PII_KEYS differ from the keys of the backup: the encrypted personal "
            "data would not be readable; configure the old key (it may follow the new one)",
        )


def _recorded_nodes(manifest: dict[str, Any], loader: MigrationLoader) -> set[Node]:
    nodes = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    known = set(loader.graph.nodes)
    for replacing in loader.replacements.values():
        known.update(replacing.replaces)
    unknown = sorted(n for n in nodes if n not in known)
    if unknown:
        listed = ", ".join(f"{a}.{n}" for a, n in unknown[:5])
        raise BackupError(
            f"备份来自更新的版本（本程序不认识迁移 {listed}），请先升级程序",
            f"the archive comes from a newer release (unknown migrations {listed}); upgrade first",
        )
    return {n for n in nodes if n in loader.graph.nodes}


def _migrate_to(using: str, nodes: set[Node], progress: Progress) -> None:
    executor = MigrationExecutor(connections[using])
    targets: list[tuple[str, str | None]] = list(_leaves(executor.loader, nodes))
    recorded_apps = {app for app, _name in nodes}
    targets += [(app, None) for app in sorted(executor.loader.migrated_apps - recorded_apps)]
    plan = executor.migration_plan(targets)
    if plan:
        progress(f"migrating to the archive's schema: {len(plan)} steps")
    executor.migrate(targets, plan=plan)


def _flush(using: str, data_models: list[type[models.Model]]) -> None:
    """Empty the tables of the archive's schema (reference rows of data migrations included)."""
    conn = connections[using]
    existing = set(conn.introspection.table_names())
    tables = sorted({m._meta.db_table for m in data_models} & existing)
    statements = conn.ops.sql_flush(no_style(), tables, reset_sequences=True, allow_cascade=False)
    if conn.vendor == "postgresql":
        # TRUNCATE refuses tables with pending deferred foreign-key checks (rows written earlier in
        # the same transaction): run those checks now, and defer again for the load.
        with conn.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        conn.ops.execute_sql_flush(statements)
        with conn.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    conn.ops.execute_sql_flush(statements)


def _insert(model: type[models.Model], rows: list[models.Model], using: str) -> None:
    fields = list(model._meta.concrete_fields)
    conn = connections[using]
    size = max(1, conn.ops.bulk_batch_size(fields, rows) or len(rows))
    for start in range(0, len(rows), size):
        # raw=True: the stored values as they are (no auto_now stamping, no pre_save).
        model._base_manager.using(using)._insert(  # type: ignore[attr-defined]
            rows[start : start + size], fields=fields, raw=True, using=using
        )


def _load_table(
    stream: IO[bytes], state_apps: Apps, using: str, progress: Progress, expected: int | None
) -> tuple[type[models.Model], int]:
    lines = io.TextIOWrapper(stream, encoding="utf-8")
    header = json.loads(lines.readline())
    app_label, model_name = header["model"].split(".")
    model = state_apps.get_model(app_label, model_name)
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    missing = [n for n in header["fields"] if n not in by_attname]
    if missing:
        raise BackupError(
            f"{header['model']} 的字段 {missing} 在恢复的结构中不存在",
            f"{header['model']}: fields {missing} are not in the restored schema",
        )
    names = header["fields"]
    decoders = [_decoder(by_attname[n]) for n in names]
    batch: list[models.Model] = []
    count = 0
    for line in lines:
        values = json.loads(line)
        batch.append(model(**{n: d(v) for n, d, v in zip(names, decoders, values, strict=True)}))
        if len(batch) >= CHUNK:
            _insert(model, batch, using)
            count += len(batch)
            batch = []
            if count % 100_000 == 0:
                progress(f"  {header['model']}: {count}/{expected} …")
    if batch:
        _insert(model, batch, using)
        count += len(batch)
    return model, count


def _extract_media(tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    relative = member.name.removeprefix("media/")
    root = Path(settings.MEDIA_ROOT).resolve()
    dest = (root / relative).resolve()
    if not dest.is_relative_to(root) or not member.isfile():
        raise BackupError(
            f"备份中的文件路径不安全：{member.name}", f"unsafe path in the archive: {member.name}"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    assert source is not None
    with dest.open("wb") as out:
        shutil.copyfileobj(source, out)


@dataclass
class RestoreSummary:
    rows: int = 0
    tables: int = 0
    media_files: int = 0
    migrated_forward: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def _refresh_statistics(using: str, tables: list[type[models.Model]], progress: Progress) -> None:
    """Planner statistics for the restored tables, and on PostgreSQL their visibility maps too
    (VACUUM): freshly loaded rows have neither, so until autovacuum got round to them the first
    queries planned blind and index-only scans read the table (the map's open counts at 10 M cases:
    1.0 s instead of 0.24 s). VACUUM cannot run inside a transaction: a caller's transaction gets
    the statistics only."""
    conn = connections[using]
    vacuum = conn.vendor == "postgresql" and not conn.in_atomic_block
    command = "VACUUM (ANALYZE) {t}" if vacuum else "ANALYZE {t}"
    with conn.cursor() as cursor:
        for model in tables:
            cursor.execute(command.format(t=conn.ops.quote_name(model._meta.db_table)))
    progress(f"{'vacuum + analyze' if vacuum else 'analyze'}: {len(tables)} tables")


def restore(
    path: Path | str, *, using: str = "default", force: bool = False, progress: Progress = _quiet
) -> RestoreSummary:
    """Bring the archive ``path`` back (see the module docstring)."""
    from django.core.management import call_command

    source = Path(path)
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}", f"no such archive: {source}")
    if not force and not database_is_empty(using):
        raise BackupError(
            "目标数据库不是空的（已有用户账号）；恢复会覆盖全部数据。确认无误请加 --force",
            "the target database is not empty (it has user accounts); restoring replaces all of its "
            "data: add --force if that is what you want",
        )
    summary = RestoreSummary()
    with tarfile.open(source, "r:gz") as tar:
        manifest = _read_manifest(tar)
        _check_keys(manifest)
        loader = MigrationLoader(connections[using], ignore_no_migrations=True)
        nodes = _recorded_nodes(manifest, loader)
        _migrate_to(using, nodes, progress)
        state_apps = _state_apps(MigrationLoader(connections[using], ignore_no_migrations=True), nodes)
        loaded: list[type[models.Model]] = []
        counts: dict[str, int] = manifest.get("counts", {})
        with transaction.atomic(using=using):
            _flush(using, _data_models(state_apps))
            for member in tar:
                if member.name.startswith("data/") and member.isfile():
                    stream = tar.extractfile(member)
                    assert stream is not None
                    label = member.name.removeprefix("data/").removesuffix(".jsonl")
                    model, count = _load_table(stream, state_apps, using, progress, counts.get(label))
                    loaded.append(model)
                    summary.counts[label] = count
                    summary.rows += count
                    progress(f"[{len(loaded)}/{len(counts)}] {label}: {count}")
                elif member.name.startswith("media/") and member.isfile():
                    _extract_media(tar, member)
                    summary.media_files += 1
            conn = connections[using]
            with conn.cursor() as cursor:
                for sql in conn.ops.sequence_reset_sql(no_style(), loaded):
                    cursor.execute(sql)
        summary.tables = len(loaded)
    _refresh_statistics(using, loaded, progress)
    if summary.media_files:
        progress(f"media: {summary.media_files} files")
    executor = MigrationExecutor(connections[using])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    summary.migrated_forward = bool(pending)
    if pending:
        progress(f"migrating forward to this release: {len(pending)} steps")
    call_command("migrate", interactive=False, verbosity=0, database=using)
    return summary


# --- the nightly job -----------------------------------------------------------------------------------
def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives ``yiwang-*.tar.gz`` in ``directory``."""
    archives = sorted(directory.glob("yiwang-*.tar.gz"))
    doomed = archives[:-keep] if keep > 0 else []
    for old in doomed:
        old.unlink(missing_ok=True)
    return doomed


@task
def scheduled_backup() -> str:
    """The ``backup`` periodic job: an archive in ``YIWANG_BACKUP_DIR`` (nothing when it is not
    set), keeping the newest ``YIWANG_BACKUP_KEEP`` (default 14)."""
    directory = str(getattr(settings, "YIWANG_BACKUP_DIR", "") or "")
    if not directory:
        return "skipped: YIWANG_BACKUP_DIR is not set"
    folder = Path(directory)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    summary = backup(folder / f"yiwang-{stamp}.tar.gz")
    removed = prune(folder, int(getattr(settings, "YIWANG_BACKUP_KEEP", 14)))
    return (
        f"{summary.path.name}: {summary.rows} rows, {summary.media_files} files; {len(removed)} old removed"
    )
