"""Map and dashboard benchmark (issue 6): the map data endpoint and the dashboard on the demo district.

    python bench/web.py [--days 60] [--repeats 5] [--write]

Builds the demo district (``yiwang demo --scale 1 --days N``: ~1,550 grids, ~200 cases a day) in a
SQLite file under /tmp/yiwang-bench-web (or DATABASE_URL) once, fills the rollups, then times
each map layer and the dashboard through the Django test client (all middleware, a district-wide
leader) next to a reference in the same run: a plain GROUP BY over the case table. Medians of
``--repeats``. ``--write`` writes the "Map and dashboard (bench/web.py)" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402

BENCH_DIR = Path("/tmp/yiwang-bench-web")


def build(days: int) -> float:
    """The demo district with ``days`` of case history, once; returns the seconds it took (0 if reused)."""
    from django.core.management import call_command

    from yiwang.analytics import rollup
    from yiwang.demo.builder import has_demo_data

    if has_demo_data():
        rollup.catch_up()
        return 0.0
    t = time.perf_counter()
    call_command("demo", scale=1.0, days=days, no_background_history=True, verbosity=0)
    rollup.catch_up()
    return time.perf_counter() - t


def leader() -> Any:
    from yiwang.people.models import Role, User

    user = User.objects.filter(grants__role=Role.LEADER, grants__division__level="district").first()
    return user or User.objects.filter(grants__role=Role.LEADER).first()


def reference_open_by_grid() -> list[Any]:
    """Reference for the map: open and total cases per grid, straight from the case table."""
    from django.db.models import Count, Q

    from yiwang.cases.choices import OPEN_STATUSES
    from yiwang.cases.models import Case

    return list(
        Case.objects.order_by()
        .values("grid_id")
        .annotate(n=Count("id"), open=Count("id", filter=Q(status__in=sorted(OPEN_STATUSES))))
    )


def reference_rates_by_street(start: Any) -> list[Any]:
    """Reference for the dashboard: the 三率 counts per street from the case table (one GROUP BY)."""
    from django.db.models import Count, Q

    from yiwang.cases.models import Case

    return list(
        Case.objects.filter(created_at__date__gte=start)
        .order_by()
        .values("street_id")
        .annotate(
            n=Count("id"),
            signed=Count("id", filter=Q(signed_at__isnull=False)),
            on_time=Count("id", filter=Q(signed_at__isnull=False, accept_breached_at__isnull=True)),
            called=Count("id", filter=Q(called_back_at__isnull=False)),
            solved=Count("id", filter=Q(solved=True)),
            satisfied=Count("id", filter=Q(satisfaction__in=["satisfied", "basically_satisfied"])),
        )
    )


def uncached(run: Any) -> Any:
    """``run`` with the cache emptied first (no answer served from the view cache)."""
    from django.core.cache import cache

    def cold() -> Any:
        cache.clear()
        return run()

    return cold


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write the section of BENCHMARKS.md")
    args = parser.parse_args()
    _common.setup_django(BENCH_DIR, "web.sqlite3")
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from yiwang.analytics.models import DailyRollup
    from yiwang.cases.models import Case, CaseEvent
    from yiwang.grids.models import Grid

    build_s = build(args.days)
    user = leader()
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    map_url = reverse("web:map_data")
    sizes: dict[str, tuple[int, int]] = {}

    def get(url: str, params: dict[str, str], label: str) -> Any:
        def run() -> Any:
            response = client.get(url, params, HTTP_ACCEPT_ENCODING="gzip")
            assert response.status_code == 200, (label, response.status_code)
            body = response.content
            raw = gzip.decompress(body) if response.get("Content-Encoding") == "gzip" else body
            sizes[label] = (len(raw), len(body))
            return response

        return run

    year = {"period": "custom", "start": today.replace(month=1, day=1).isoformat(), "end": today.isoformat()}
    timings: list[tuple[str, str, list[float]]] = []
    cases = [
        (
            "map: shapes of the scope (kept gzipped per ETag; a browser revalidates: 304)",
            map_url,
            {"layer": "shapes"},
        ),
        ("map: live open/overdue counts per street and grid, live points", map_url, {}),
        ("map: metric = open cases", map_url, {"layer": "metric", "metric": "open"}),
        ("map: metric = 综合成绩, this year", map_url, {"layer": "metric", "metric": "score", **year}),
        ("map: metric = 期内新增, this month", map_url, {"layer": "metric", "metric": "new"}),
        ("map: heat (open cases binned)", map_url, {"layer": "heat"}),
        ("map: hotspots, last 30 days", map_url, {"layer": "hotspots", "days": "30"}),
        ("map: grid staff on duty", map_url, {"layer": "duty"}),
        ("dashboard: this month", reverse("web:dashboard"), {"period": "month"}),
        ("dashboard: this year", reverse("web:dashboard"), year),
        ("dashboard: Excel export, this year", reverse("web:dashboard_export"), year),
    ]
    from yiwang.dispatch.hotspots import refresh_snapshots

    mined, _r = _common.timed(refresh_snapshots, 1)  # the background job mine_hotspots
    for label, url, params in cases:
        get(url, params, label)()  # warm-up (template and query caches)
        if params.get("layer") == "hotspots":
            label += " (from the background job's snapshot)"
        times, _r = _common.timed(uncached(get(url, params, label)), args.repeats)
        timings.append((label, url, times))
    ref_map, _r = _common.timed(reference_open_by_grid, args.repeats)
    ref_dash, _r = _common.timed(
        lambda: reference_rates_by_street(today.replace(month=1, day=1)), args.repeats
    )

    n_cases, n_events = Case.objects.count(), CaseEvent.objects.count()
    n_rollups, n_grids = DailyRollup.objects.count(), Grid.objects.count()
    rm, rd = _common.median(ref_map) * 1000, _common.median(ref_dash) * 1000
    lines = [
        "| what | median | response (raw → gzip) |",
        "|---|---:|---|",
    ]
    for label, _url, times in timings:
        raw, sent = sizes[label]
        weight = (
            f"{raw / 1024:,.0f} KiB → {sent / 1024:,.0f} KiB" if sent != raw else f"{raw / 1024:,.1f} KiB"
        )
        lines.append(f"| {label} | {_common.median(times) * 1000:.0f} ms | {weight} |")
    lines += [
        f"| job mine_hotspots (every district and street, last 30 days; background) | {mined[0] * 1000:.0f} ms | — |",
        f"| reference: GROUP BY grid over all cases (open + total) | {rm:.0f} ms | — |",
        f"| reference: 三率 counts per street over this year's cases (GROUP BY) | {rd:.0f} ms | — |",
    ]
    table = "\n".join(lines)
    header = (
        f"`python bench/web.py --days {args.days} --repeats {args.repeats}` — demo district at scale 1: "
        f"{n_grids:,} grids, {n_cases:,} cases, {n_events:,} events, {n_rollups:,} daily rollup rows; "
        f"SQLite; Django test client with every middleware, signed in as a district leader; "
        f"{_common.today()}; {_common.machine()}."
        + (f" Building the demo took {build_s:.0f} s." if build_s else "")
    )
    print(header)
    print(table)
    if args.write:
        _common.write_section(
            "Map and dashboard (bench/web.py)",
            "Medians; each row is one HTTP request through the test client, the references are bare ORM "
            f"queries in the same run.\n\n{header}\n\n{table}\n",
        )


if __name__ == "__main__":
    main()
