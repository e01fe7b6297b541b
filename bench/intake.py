"""Intake benchmark: ``create_case`` (locate + deadlines + number + event) against a bare ORM insert.

    python bench/intake.py                 # 100k cases already stored, SQLite under /tmp
    python bench/intake.py 100000 1000000  # grows the same database: 100k, then 1M
    DATABASE_URL=postgres://… python bench/intake.py 100000 --samples 2000
    python bench/intake.py --write         # also write the "## Intake" section of BENCHMARKS.md

For each size the table is first filled (bulk inserts, one REGISTERED event per case, spread over
a year) up to N rows, then ``--samples`` intakes and as many bare ``Case.objects.create`` calls of
the same row are interleaved, so both see the same database state, caches and disk. Without
DATABASE_URL the SQLite file lives in /tmp/yiwang-bench-intake (YIWANG_DATA_DIR points there; ./data
is never touched).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DIR = Path("/tmp/yiwang-bench-intake")


def setup_django() -> None:
    from bench._common import setup_django as setup

    setup(BENCH_DIR, "intake.sqlite3")


# --- a district: 20 streets × 5 communities × 20 grids = 2,000 square grids of ~1 km ---------------
ORIGIN = (119.80, 35.60)
COLS, ROWS, SIZE = 50, 40, 0.01


def build_world() -> dict:
    from yiwang.grids.models import Division, DivisionLevel, Grid
    from yiwang.people.models import Department, Grant, Role, User

    if Grid.objects.filter(code__startswith="370211").count() >= COLS * ROWS:
        district = Division.objects.get(code="370211000000")
    else:
        district, _ = Division.objects.get_or_create(
            code="370211000000", defaults={"name": "黄岛区", "level": DivisionLevel.DISTRICT, "kind": "区"}
        )
        grids = []
        for s in range(20):
            street, _ = Division.objects.get_or_create(
                code=f"370211{s + 1:03d}000",
                defaults={
                    "name": f"街道{s + 1}",
                    "level": DivisionLevel.STREET,
                    "parent": district,
                    "district": district,
                },
            )
            for c in range(5):
                community, _ = Division.objects.get_or_create(
                    code=f"370211{s + 1:03d}{c + 1:03d}",
                    defaults={
                        "name": f"社区{s + 1}-{c + 1}",
                        "level": DivisionLevel.COMMUNITY,
                        "parent": street,
                        "district": district,
                        "street": street,
                    },
                )
                for g in range(20):
                    k = (s * 5 + c) * 20 + g
                    x, y = ORIGIN[0] + (k % COLS) * SIZE, ORIGIN[1] + (k // COLS) * SIZE
                    ring = [[x, y], [x + SIZE, y], [x + SIZE, y + SIZE], [x, y + SIZE], [x, y]]
                    grids.append(
                        Grid(
                            code=f"{community.code}{g + 1:03d}",
                            name=f"网格{k}",
                            community=community,
                            boundary={"type": "Polygon", "coordinates": [ring]},
                            min_lng=x,
                            min_lat=y,
                            max_lng=x + SIZE,
                            max_lat=y + SIZE,
                            center_lng=x + SIZE / 2,
                            center_lat=y + SIZE / 2,
                        )
                    )
        Grid.objects.bulk_create(grids, ignore_conflicts=True)
    dept, _ = Department.objects.get_or_create(
        code="BENCH-CG", defaults={"name": "城管局", "kind": "functional"}
    )
    user, created = User.objects.get_or_create(username="bench_operator")
    if created:
        Grant.objects.create(user=user, role=Role.HOTLINE_OPERATOR, division=district)
    return {"district": district, "dept": dept, "operator": User.objects.get(pk=user.pk)}


def random_point(rng: random.Random) -> tuple[float, float]:
    return ORIGIN[0] + rng.random() * COLS * SIZE, ORIGIN[1] + rng.random() * ROWS * SIZE


def prefill(target: int, world: dict, rng: random.Random) -> float:
    """Bulk-insert cases (and their REGISTERED events) until the table holds ``target`` rows."""
    from django.db import transaction

    from yiwang.cases.choices import EventKind
    from yiwang.cases.models import Case, CaseEvent, Category
    from yiwang.grids.models import Grid

    have = Case.objects.count()
    if have >= target:
        return 0.0
    grids = list(
        Grid.objects.values_list("pk", "community_id", "community__street_id", "center_lng", "center_lat")
    )
    categories = list(Category.objects.filter(kind="matter").values_list("pk", flat=True))
    start = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    t0 = time.perf_counter()
    batch = 5000
    for first in range(have, target, batch):
        rows = []
        for i in range(first, min(target, first + batch)):
            gid, cid, sid, lng, lat = grids[rng.randrange(len(grids))]
            at = start + dt.timedelta(seconds=rng.randrange(365 * 86400))
            rows.append(
                Case(
                    number=f"P{i:011d}",
                    channel="hotline_12345",
                    category_id=categories[i % len(categories)],
                    title="预置案件",
                    description="基准测试预置数据。" * 4,
                    lng=lng,
                    lat=lat,
                    grid_id=gid,
                    community_id=cid,
                    street_id=sid,
                    district_id=world["district"].pk,
                    status="closed" if at < start + dt.timedelta(days=330) else "registered",
                    created_at=at,
                    updated_at=at,
                )
            )
        with transaction.atomic():
            Case.objects.bulk_create(rows)
            pks = Case.objects.filter(number__in=[r.number for r in rows]).values_list("pk", "created_at")
            CaseEvent.objects.bulk_create(
                CaseEvent(case_id=pk, kind=EventKind.REGISTERED, at=at, to_status="registered")
                for pk, at in pks
            )
        done = min(target, first + batch)
        if done % 100_000 == 0:
            print(f"  prefilled {done:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return time.perf_counter() - t0


def measure(n_samples: int, world: dict, rng: random.Random, tag: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from yiwang.cases import actions
    from yiwang.cases.location import resolve_place
    from yiwang.cases.models import Case, Category

    category = Category.objects.get(code="SX-06001")
    operator = world["operator"]
    now = dt.datetime.now(dt.UTC)

    def intake(i: int) -> Case:
        lng, lat = random_point(rng)
        return actions.create_case(
            actor=operator,
            channel="hotline_12345",
            category=category,
            title="小区门口垃圾堆积",
            description="小区门口垃圾三天没人清运，气味很大，请尽快处理。" * 3,
            lng=lng,
            lat=lat,
            address="测试路1号",
            reporter_name="张先生",
            reporter_phone="13800000000",
            idempotency_key=f"{tag}-intake-{i}",
            at=now,
        )

    def bare(i: int) -> Case:
        # The same row, with the place resolved beforehand: just the INSERT (autocommit).
        return Case.objects.create(
            number=f"B{tag}{i:09d}"[-20:],
            channel="hotline_12345",
            category=category,
            title="小区门口垃圾堆积",
            description="小区门口垃圾三天没人清运，气味很大，请尽快处理。" * 3,
            lng=place.lng,
            lat=place.lat,
            address="测试路1号",
            grid_id=place.grid_id,
            community_id=place.community_id,
            street_id=place.street_id,
            district_id=place.district_id,
            reporter_name="张先生",
            reporter_phone="13800000000",
            idempotency_key=f"{tag}-bare-{i}",
            status="registered",
            created_by=operator,
            created_at=now,
            updated_at=now,
        )

    place = resolve_place(*random_point(rng))
    for i in range(50):  # warm-up: locator index, calendar, connection
        intake(-1 - i)
        bare(-1 - i)
    with CaptureQueriesContext(connection) as ctx:
        intake(-10_000)
    queries = len(ctx.captured_queries)
    t_intake: list[float] = []
    t_bare: list[float] = []
    for i in range(n_samples):
        t = time.perf_counter()
        intake(i)
        t_intake.append(time.perf_counter() - t)
        t = time.perf_counter()
        bare(i)
        t_bare.append(time.perf_counter() - t)
    return {"intake": t_intake, "bare": t_bare, "queries": queries}


def previous_rows() -> dict[tuple[str, int], str]:
    """The table rows already in the Intake section, keyed by (backend, size)."""
    from bench._common import BENCHMARKS_MD, today

    if not BENCHMARKS_MD.exists():
        return {}
    text = BENCHMARKS_MD.read_text()
    match = re.search(r"^## Intake\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    rows: dict[tuple[str, int], str] = {}
    for line in (match.group(1) if match else "").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 9 and cells[0] in ("sqlite", "postgresql"):
            if len(cells) == 9:  # written before the date column existed
                line = f"{line.rstrip()} {today()} |"
            rows[(cells[0], int(cells[1].replace(",", "")))] = line
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000], help="cases already stored")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--write", action="store_true", help="write the Intake section of BENCHMARKS.md")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from bench._common import machine, percentile, today, write_section

    rng = random.Random(20261125)
    world = build_world()
    backend = connection.vendor
    results = []
    run = dt.datetime.now().strftime("%H%M%S")
    for size in sorted(args.sizes):
        print(f"{backend}: filling to {size:,} cases", flush=True)
        seconds = prefill(size, world, rng)
        r = measure(args.samples, world, rng, f"{run}{size}")
        row = {
            "size": size,
            "prefill_s": seconds,
            "queries": r["queries"],
            **{f"{k}_p50": percentile(r[k], 50) * 1000 for k in ("intake", "bare")},
            **{f"{k}_p95": percentile(r[k], 95) * 1000 for k in ("intake", "bare")},
        }
        row["ratio_p50"] = row["intake_p50"] / row["bare_p50"]
        row["ratio_p95"] = row["intake_p95"] / row["bare_p95"]
        results.append(row)
        print(
            f"  N={size:,}: create_case p50 {row['intake_p50']:.2f} ms p95 {row['intake_p95']:.2f} ms "
            f"({row['queries']} queries); bare insert p50 {row['bare_p50']:.2f} ms p95 {row['bare_p95']:.2f} ms; "
            f"ratio p50 {row['ratio_p50']:.2f}× p95 {row['ratio_p95']:.2f}×",
            flush=True,
        )
    if args.write:
        rows = previous_rows()
        for row in results:
            rows[(backend, row["size"])] = (
                f"| {backend} | {row['size']:,} | {row['intake_p50']:.2f} ms | {row['intake_p95']:.2f} ms | "
                f"{row['bare_p50']:.2f} ms | {row['bare_p95']:.2f} ms | {row['ratio_p50']:.2f}× | "
                f"{row['ratio_p95']:.2f}× | {row['queries']} | {today()} |"
            )
        lines = [
            "`python bench/intake.py 100000 1000000 --samples 1000 --write` (set DATABASE_URL for PostgreSQL;",
            "rows of other backends and sizes are kept). Targets: intake ≤ 3× the bare insert, p95 ≤ 15 ms on SQLite.",
            "",
            "| backend | cases stored | create_case p50 | p95 | bare insert p50 | p95 | ratio p50 | ratio p95 | queries | date |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *(rows[k] for k in sorted(rows, key=lambda k: (k[0] != "sqlite", k[0], k[1]))),
        ]
        lines += [
            "",
            f"- Machine: {machine()} (shared with other jobs while measuring).",
            "- create_case = role check, locate the point (in-process grid index over 2,000 grids) and",
            "  take its community/street (in-process map), take the deadline limits (policy table, cached 5 s),",
            "  reserve the day's number (one UPDATE … RETURNING), INSERT the case (the unique index enforces the",
            "  idempotency key; a retry is looked up only after it fails) and its REGISTERED event, in one transaction.",
            "  Bare insert = `Case.objects.create` of the same row (place resolved beforehand), autocommit.",
            "  Both are interleaved in the same run, 50 warm-up calls each first.",
            "- The case table is filled first by bulk insert (one event per case, spread over a year).",
        ]
        write_section("Intake", "\n".join(lines))
        print("wrote the Intake section of BENCHMARKS.md")


if __name__ == "__main__":
    main()
