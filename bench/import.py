"""Resident import benchmark: ``registry.importers.import_file`` against bare ``bulk_create``.

    python bench/import.py              # 100k residents, SQLite under /tmp/yiwang-bench-import
    python bench/import.py 1000000      # the issue's target size (needs ~2 GB of RAM and time)
    DATABASE_URL=postgres://… python bench/import.py 100000

One run, same database, same rows (name, ID number, phone, grid code; fictitious, valid check
digits), in this order, each starting from an empty resident table:

1. **import** — the full path: read + decode the CSV, validate each row (GB 11643 check digit,
   derived sex/birth date, phone), grid lookup, duplicate check in the file and against the table,
   lookup hashes, masked columns, Fernet encryption of ID and phone, and a prepared
   ``executemany`` INSERT per batch (``registry.bulk.fast_insert``) in one transaction.
2. **bare bulk_create** — the same rows as ``Resident`` objects with precomputed columns, inserted
   with ``bulk_create`` in one transaction: encryption still runs (it happens in the field).
3. **bare bulk_create, no encryption** — as 2 with ``pii.encrypt`` replaced by the identity for
   the run (a reference only: what the insert itself costs).
4. **crypto only** — ``encrypt`` ×2 and ``lookup_hash`` ×2 per row, no database.

Without DATABASE_URL the SQLite file lives in /tmp/yiwang-bench-import (./data is never touched).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402

BENCH_DIR = Path("/tmp/yiwang-bench-import")
GRIDS = 100


def setup_django() -> None:
    _common.setup_django(BENCH_DIR, "import.sqlite3")


def build_grids() -> list[str]:
    from yiwang.grids.models import Division, DivisionLevel, Grid

    district, _ = Division.objects.get_or_create(
        code="370211000000", defaults={"name": "黄岛区", "level": DivisionLevel.DISTRICT}
    )
    street, _ = Division.objects.get_or_create(
        code="370211005000",
        defaults={"name": "街道", "level": DivisionLevel.STREET, "parent": district, "district": district},
    )
    community, _ = Division.objects.get_or_create(
        code="370211005001",
        defaults={
            "name": "社区",
            "level": DivisionLevel.COMMUNITY,
            "parent": street,
            "district": district,
            "street": street,
        },
    )
    codes = [f"{community.code}{i + 1:03d}" for i in range(GRIDS)]
    square = {"type": "Polygon", "coordinates": [[[120, 35.9], [120.01, 35.9], [120.01, 35.91], [120, 35.9]]]}
    for code in codes:
        Grid.objects.get_or_create(
            code=code, defaults={"name": code[-3:], "community": community, "boundary": square}
        )
    return codes


def write_csv(path: Path, n: int, grids: list[str]) -> None:
    from yiwang.registry.validation import id_check_character

    rng = random.Random(2026)
    surnames, given = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
    start = dt.date(1940, 1, 1).toordinal()
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "身份证号码", "联系电话", "网格编码"])
        for i in range(n):
            birth = dt.date.fromordinal(start + (i * 7919) % 29000)
            # Unique per row: the sequence (3 digits) and the birth date together encode i.
            first17 = f"370211{birth:%Y%m%d}{(i // 29000) % 1000:03d}"
            writer.writerow(
                [
                    rng.choice(surnames) + rng.choice(given),
                    first17 + id_check_character(first17),
                    f"1990000{i % 10000:04d}" if i % 3 else "",  # reserved-looking fictitious range
                    grids[i % len(grids)],
                ]
            )


def clear() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM registry_resident")


def run_import(path: Path) -> float:
    from yiwang.registry.importers import import_file

    t = time.perf_counter()
    report = import_file("residents", path)
    elapsed = time.perf_counter() - t
    if not report.ok:
        raise SystemExit("\n".join(report.lines()[:10]))
    return elapsed


def prepared_rows(path: Path) -> list[dict[str, Any]]:
    """The rows as column values, computed outside the timed part of the bare inserts."""
    from yiwang.core import pii
    from yiwang.grids.models import Grid

    grid_ids = dict(Grid.objects.values_list("code", "pk"))
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for name, number, phone, grid in reader:
            rows.append(
                {
                    "name": name,
                    "id_number": number,
                    "id_number_hash": pii.lookup_hash(number, "id_number"),
                    "id_number_masked": pii.mask_id_number(number),
                    "phone": phone,
                    "phone_hash": pii.lookup_hash(phone, "phone"),
                    "phone_masked": pii.mask_phone(phone) if phone else "",
                    "sex": "M" if int(number[16]) % 2 else "F",
                    "birth_date": dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    "grid_id": grid_ids[grid],
                }
            )
    return rows


def run_bare(rows: list[dict[str, Any]]) -> float:
    from django.db import transaction

    from yiwang.registry.models import Resident

    t = time.perf_counter()
    with transaction.atomic():
        Resident.objects.bulk_create((Resident(**row) for row in rows), batch_size=2000)
    return time.perf_counter() - t


def run_bare_plain(rows: list[dict[str, Any]]) -> float:
    from yiwang.core import pii

    original = pii.encrypt
    pii.encrypt = lambda text: str(text)  # type: ignore[assignment]  # reference run only
    try:
        return run_bare(rows)
    finally:
        pii.encrypt = original


def run_crypto(rows: list[dict[str, Any]]) -> float:
    from yiwang.core import pii

    t = time.perf_counter()
    for row in rows:
        pii.encrypt(row["id_number"])
        pii.lookup_hash(row["id_number"], "id_number")
        if row["phone"]:
            pii.encrypt(row["phone"])
            pii.lookup_hash(row["phone"], "phone")
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    grids = build_grids()
    path = BENCH_DIR / f"residents-{args.n}.csv"
    if not path.exists():
        write_csv(path, args.n, grids)
    clear()
    results: list[tuple[str, float, float]] = []

    def measure(label: str, fn: Any, *fn_args: Any) -> None:
        cpu = time.process_time()
        wall = fn(*fn_args)
        results.append((label, wall, time.process_time() - cpu))

    measure("import (validate + encrypt + insert)", run_import, path)
    rows = prepared_rows(path)
    for label, fn in (
        ("bare bulk_create (encryption in the field)", run_bare),
        ("bare bulk_create, encryption disabled", run_bare_plain),
    ):
        clear()
        measure(label, fn, rows)
    measure("crypto only (2× Fernet + 2× HMAC per row)", run_crypto, rows)
    clear()
    n = args.n
    load = os.getloadavg()[0]
    print(
        f"\n{n:,} residents, {connection.vendor}, {path.stat().st_size / 1e6:.0f} MB CSV, load average {load:.1f}\n"
    )
    # CPU time next to wall time: on a shared machine the wall time includes waiting for a core.
    print(
        "| step | wall s | CPU s | rows/s (wall) | 1M rows, wall s (extrapolated) | 1M rows, CPU s (extrapolated) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    scale = 1_000_000 / n
    for label, wall, cpu in results:
        print(
            f"| {label} | {wall:.1f} | {cpu:.1f} | {n / wall:,.0f} | {wall * scale:.0f} | {cpu * scale:.0f} |"
        )


if __name__ == "__main__":
    main()
