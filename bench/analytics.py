"""Analytics benchmark: 三率 per street for a year, from the rollups vs. a plain GROUP BY over cases.

    python bench/analytics.py [CASES] [--repeats 5] [--write]

Bulk-inserts CASES synthetic closed-and-called-back cases (6 events each: CASES=35000 ≈ 200 k
events) into a SQLite file in /tmp/yiwang-bench-analytics (or DATABASE_URL), fills the rollups
with ``rollup rebuild``, then times the same numbers both ways in the same run (medians).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402

BENCH_DIR = Path("/tmp/yiwang-bench-analytics")
TZ = ZoneInfo("Asia/Shanghai")
YEAR = dt.datetime(2025, 1, 1, tzinfo=TZ)


def setup_django() -> None:
    _common.setup_django(BENCH_DIR, "analytics.sqlite3")


def fill(target: int) -> int:
    """Bulk-insert cases with their six events until ``target`` cases exist; returns the count."""
    from django.db import transaction

    from bench.intake import build_world
    from yiwang.cases.models import Case, CaseEvent, Category
    from yiwang.grids.models import Grid

    world = build_world()
    have = Case.objects.count()
    if have >= target:
        return have
    if not Category.objects.exists():
        from django.core.management import call_command

        call_command("load_categories", verbosity=0)
    cats = list(Category.objects.values_list("pk", flat=True)[:50])
    grids = list(
        Grid.objects.values_list("pk", "community_id", "community__street_id", "community__district_id")
    )
    rng = random.Random(have)
    dept = world["dept"].pk
    for start in range(have, target, 2000):
        cases, plans = [], []
        for i in range(start, min(target, start + 2000)):
            g, c, s, d = rng.choice(grids)
            t0 = YEAR + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            t = [t0 + dt.timedelta(hours=h) for h in (0, 1, 3, 30, 40, 60)]
            accept_due = t[1] + dt.timedelta(hours=4)
            late = rng.random() < 0.1
            sat = rng.choice(["satisfied", "satisfied", "basically_satisfied", "unsatisfied"])
            solved = rng.random() < 0.8
            cases.append(
                Case(
                    number=f"B{i:011d}",
                    channel=rng.choice(["hotline_12345", "grid_patrol", "web"]),
                    category_id=rng.choice(cats),
                    title="bench",
                    description="bench",
                    grid_id=g,
                    community_id=c,
                    street_id=s,
                    district_id=d,
                    status="closed",
                    lead_department_id=dept,
                    created_at=t[0],
                    updated_at=t[5],
                    dispatched_at=t[1],
                    signed_at=t[2] + (dt.timedelta(hours=5) if late else dt.timedelta()),
                    resolved_at=t[3],
                    closed_at=t[4],
                    called_back_at=t[5],
                    contacted=True,
                    solved=solved,
                    satisfaction=sat,
                )
            )
            plans.append((t, accept_due, late, solved, sat))
        with transaction.atomic():
            Case.objects.bulk_create(cases, batch_size=1000)
            events = []
            for case, (t, accept_due, late, solved, sat) in zip(cases, plans, strict=True):
                signed = t[2] + (dt.timedelta(hours=5) if late else dt.timedelta())
                for kind, at, data in (
                    ("registered", t[0], {}),
                    ("dispatched", t[1], {"lead": dept, "accept_due_at": accept_due.isoformat()}),
                    ("signed", signed, {"resolve_due_at": (t[2] + dt.timedelta(days=7)).isoformat()}),
                    ("resolved", t[3], {}),
                    ("verified", t[4], {}),
                    ("called_back", t[5], {"contacted": True, "solved": solved, "satisfaction": sat}),
                ):
                    events.append(CaseEvent(case=case, kind=kind, at=at, data=data))
            CaseEvent.objects.bulk_create(events, batch_size=2000)
    return Case.objects.count()


def plain_group_by() -> list[tuple]:
    """The reference: the same counts straight from the case table."""
    from django.db.models import Count, F, Q

    from yiwang.cases.models import Case

    end = YEAR.replace(year=YEAR.year + 1)
    return list(
        Case.objects.filter(created_at__gte=YEAR, created_at__lt=end)
        .values("street_id")
        .annotate(
            dispatched=Count("pk", filter=Q(dispatched_at__isnull=False)),
            signed_in_time=Count("pk", filter=Q(signed_at__lte=F("dispatched_at") + dt.timedelta(hours=4))),
            called_back=Count("pk", filter=Q(called_back_at__isnull=False)),
            solved=Count("pk", filter=Q(solved=True)),
            satisfied=Count("pk", filter=Q(satisfaction="satisfied")),
            basic=Count("pk", filter=Q(satisfaction="basically_satisfied")),
        )
        .order_by("street_id")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("cases", type=int, nargs="?", default=35_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write the Analytics section of BENCHMARKS.md")
    args = parser.parse_args()
    setup_django()
    from bench._common import machine, median, timed, today, write_section
    from yiwang.analytics import metrics, rollup
    from yiwang.cases.models import CaseEvent

    t = time.perf_counter()
    n_cases = fill(args.cases)
    fill_s = time.perf_counter() - t
    n_events = CaseEvent.objects.count()
    t = time.perf_counter()
    rollup.rebuild(batch=5000)
    rebuild_s = time.perf_counter() - t
    rows_n = metrics.DailyRollup.objects.count()
    start, end = YEAR.date(), YEAR.date().replace(year=YEAR.year + 1) - dt.timedelta(days=1)
    month_rows_n = metrics.MonthlyRollup.objects.count()
    fast, rows = timed(lambda: metrics.three_rates(start=start, end=end, group_by="street"), args.repeats)
    # A custom range whose edges are not whole months: edge days come from the daily rows.
    odd_start, odd_end = start + dt.timedelta(days=17), end - dt.timedelta(days=11)
    odd, _rows = timed(
        lambda: metrics.three_rates(start=odd_start, end=odd_end, group_by="street"), args.repeats
    )
    by_grid, _rows = timed(lambda: metrics.three_rates(start=start, end=end, group_by="grid"), args.repeats)
    slow, ref = timed(plain_group_by, args.repeats)
    assert isinstance(rows, list)
    assert isinstance(ref, list)
    same = {r.id: r.counts["called_back"] for r in rows} == {r["street_id"]: r["called_back"] for r in ref}
    verify_s = timed(rollup.verify, 1)[0][0]
    f, s = median(fast) * 1000, median(slow) * 1000
    table = [
        "| what | median | notes |",
        "|---|---:|---|",
        f"| 三率 per street, one year, from rollups | {f:.1f} ms | {len(rows)} streets; 12 month rows per group ({month_rows_n:,} month rows) |",
        f"| 三率 per street, {odd_start} … {odd_end} | {median(odd) * 1000:.1f} ms | whole months + edge days ({rows_n:,} daily rows) |",
        f"| 三率 per grid, one year | {median(by_grid) * 1000:.1f} ms | daily rows only (the month level keeps no grid) |",
        f"| same counts, plain GROUP BY over cases | {s:.1f} ms | reference; {s / f:.0f}× slower |",
        f"| rollup rebuild ({n_events:,} events) | {rebuild_s:.1f} s | {n_events / rebuild_s:,.0f} events/s |",
        f"| rollup verify | {verify_s:.1f} s | in-memory replay of every event |",
    ]
    print("\n".join(table))
    print(
        f"(fill {fill_s:.1f} s; per-street called-back counts equal both ways: {same} — rollups count by event day, the reference by creation day)"
    )
    if args.write:
        body = "\n".join(
            [
                f"`python bench/analytics.py {args.cases}` — {n_cases:,} synthetic cases, {n_events:,} events, "
                f"SQLite; {today()}; {machine()}.",
                "",
                *table,
            ]
        )
        write_section("Analytics", body)


if __name__ == "__main__":
    main()
