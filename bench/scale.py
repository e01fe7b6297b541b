"""Scale benchmark (issues 6 and 7): a district (15 k grids, 1 M cases) or a megacity (50 k grids,
10 M cases, PostgreSQL); generation, rollup rebuild, every dashboard metric for several periods,
the map overview and the dashboard page, the web process's memory — each next to its reference
measured in the same run (a plain GROUP BY over the case table).

    python bench/scale.py district            # SQLite file under /tmp/yiwang-bench-scale (or DATABASE_URL)
    DATABASE_URL=postgres://…/yiwang_district python bench/scale.py district
    DATABASE_URL=postgres://…/yiwang_megacity python bench/scale.py megacity
    options: --cases N --grids N (override the profile), --repeats 5, --write, --rebuild,
             --load-only (generate and stop; a later run on the same data reports the generation)

The database must be empty (or hold this profile's data with --keep). On PostgreSQL the loader
disables foreign-key triggers for its own sessions (``session_replication_role``, superuser) and
drops and recreates the case tables' secondary indexes around the load, as a bulk import would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _common, scale_data  # noqa: E402

BENCH_DIR = Path("/tmp/yiwang-bench-scale")


@dataclass(frozen=True)
class Profile:
    name: str
    districts: int
    streets: int  # per district
    communities: int  # per street
    grids: int  # total
    cases: int
    years: float
    departments: int


PROFILES = {
    "district": Profile("district", 1, 24, 25, 15_000, 1_000_000, 1.0, 60),
    "megacity": Profile("megacity", 10, 20, 10, 50_000, 10_000_000, 2.0, 120),
}
# Qingdao's districts (GB/T 2260), so the codes look like real ones; 370211 is the demo's.
DISTRICT_CODES = (
    "370211",
    "370202",
    "370203",
    "370212",
    "370213",
    "370214",
    "370215",
    "370281",
    "370283",
    "370285",
)
SIZE = 0.004  # grid square side, degrees


def geography(profile: Profile) -> list[tuple[int, int, int, int, float, float]]:
    """Districts, streets, communities and square grids; returns (grid, community, street,
    district, lng, lat) per grid."""
    from yiwang.grids.models import Division, DivisionLevel, Grid

    if Grid.objects.exists():
        return [
            (g, c, s, d, x, y)
            for g, c, s, d, x, y in Grid.objects.values_list(
                "pk",
                "community_id",
                "community__street_id",
                "community__district_id",
                "center_lng",
                "center_lat",
            ).order_by("pk")
        ]
    per_community = -(-profile.grids // (profile.districts * profile.streets * profile.communities))
    cols = int((profile.grids**0.5) * 1.2)
    k = 0
    for d_index in range(profile.districts):
        code = DISTRICT_CODES[d_index]
        district = Division.objects.create(
            code=f"{code}000000", name=f"区{d_index + 1}", level=DivisionLevel.DISTRICT
        )
        for s in range(profile.streets):
            street = Division.objects.create(
                code=f"{code}{s + 1:03d}000",
                name=f"街道{d_index + 1}-{s + 1}",
                level=DivisionLevel.STREET,
                parent=district,
                district=district,
            )
            communities = Division.objects.bulk_create(
                [
                    Division(
                        code=f"{code}{s + 1:03d}{c + 1:03d}",
                        name=f"社区{d_index + 1}-{s + 1}-{c + 1}",
                        level=DivisionLevel.COMMUNITY,
                        parent=street,
                        district=district,
                        street=street,
                    )
                    for c in range(profile.communities)
                ]
            )
            grids = []
            for community in communities:
                for g in range(per_community):
                    if k >= profile.grids:
                        break
                    x, y = 119.5 + (k % cols) * SIZE, 35.5 + (k // cols) * SIZE
                    ring = [[x, y], [x + SIZE, y], [x + SIZE, y + SIZE], [x, y + SIZE], [x, y]]
                    grids.append(
                        Grid(
                            code=f"{community.code}{g + 1:03d}",
                            name=f"网格{k + 1}",
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
                    k += 1
            Grid.objects.bulk_create(grids, batch_size=2000)
    return geography(profile)


def departments(profile: Profile) -> list[int]:
    from yiwang.people.models import Department

    have = list(Department.objects.filter(code__startswith="SCALE-").values_list("pk", flat=True))
    if have:
        return have
    made = Department.objects.bulk_create(
        [
            Department(code=f"SCALE-{i:03d}", name=f"承办单位{i}", kind="functional")
            for i in range(profile.departments)
        ]
    )
    return [d.pk for d in made]


def _secondary_indexes(cursor: Any, vendor: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the case tables' indexes that no constraint owns."""
    if vendor == "postgresql":
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.tablename IN ('cases_case', 'cases_caseevent')
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""
        )
    else:
        cursor.execute(
            """SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
               AND tbl_name IN ('cases_case', 'cases_caseevent') AND sql NOT LIKE 'CREATE UNIQUE%'"""
        )
    return list(cursor.fetchall())


def load_cases(profile: Profile, cases: int, plan: scale_data.Plan) -> tuple[float, int]:
    """Generate and load ``cases`` cases with their events; returns (seconds, events)."""
    from django.db import connection

    chunk = 100_000
    ranges = [(lo, min(lo + chunk, cases + 1)) for lo in range(1, cases + 1, chunk)]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor, connection.vendor)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    if connection.vendor == "postgresql":
        connection.close()
        dsn = _dsn()
        # The database makes the rows (scale_data.load_postgresql_sql): two sessions, one per core.
        scale_data.stage_grids(dsn, plan)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            events = sum(
                pool.starmap(scale_data.load_postgresql_sql, [(dsn, plan, lo, hi, lo) for lo, hi in ranges])
            )
        scale_data.drop_grids(dsn)
        rows_end = time.perf_counter()
        with connection.cursor() as cursor:
            for table in ("cases_case", "cases_caseevent"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        connection.close()
        scale_data.build_indexes(dsn, [definition for _name, definition in indexes])
        indexes_end = time.perf_counter()
        # VACUUM as well: a bulk load leaves the visibility map unset, so the map's open counts
        # read the table instead of answering from their index alone (1.0 s against 0.24 s at
        # 10 M cases) until autovacuum gets to it. `yiwang restore` ends the same way.
        scale_data.vacuum(dsn, ["cases_case", "cases_caseevent"])
        print(
            f"load: rows {rows_end - started:.0f} s, {len(indexes)} indexes {indexes_end - rows_end:.0f} s,"
            f" vacuum {time.perf_counter() - indexes_end:.0f} s",
            flush=True,
        )
    else:
        path = str(connection.settings_dict["NAME"])
        connection.close()
        events = sum(scale_data.load_sqlite(path, plan, lo, hi, lo) for lo, hi in ranges)
        with connection.cursor() as cursor:
            for _name, definition in indexes:
                cursor.execute(definition)
            cursor.execute("ANALYZE")
    return time.perf_counter() - started, events


def _dsn() -> str:
    from django.db import connection

    s = connection.settings_dict
    return f"host={s['HOST'] or 'localhost'} port={s['PORT'] or 5432} dbname={s['NAME']} user={s['USER']} password={s['PASSWORD']}"


def leader() -> Any:
    from yiwang.grids.models import Division
    from yiwang.people.models import Grant, Role, User

    user, created = User.objects.get_or_create(username="scale_leader")
    if created:
        for district in Division.objects.filter(level="district"):
            Grant.objects.create(user=user, role=Role.LEADER, division=district)
    return user


def periods(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    month = today.replace(day=1)
    last_month_end = month - dt.timedelta(days=1)
    return [
        ("this month", month, today),
        ("last month", last_month_end.replace(day=1), last_month_end),
        ("this year", today.replace(month=1, day=1), today),
        ("last 12 months", (month - dt.timedelta(days=335)).replace(day=1), today),
        ("odd range (edge days + months)", today - dt.timedelta(days=200), today - dt.timedelta(days=9)),
    ]


def reference_group_by(start: dt.date, end: dt.date) -> Any:
    """The plain GROUP BY: 三率 counts per street straight from the case table."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from yiwang.cases.models import Case

    lo = timezone.make_aware(dt.datetime.combine(start, dt.time()))
    hi = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    return list(
        Case.objects.filter(created_at__gte=lo, created_at__lt=hi)
        .order_by()
        .values("street_id")
        .annotate(
            n=Count("id"),
            dispatched=Count("id", filter=Q(dispatched_at__isnull=False)),
            signed=Count("id", filter=Q(signed_at__isnull=False, accept_breached_at__isnull=True)),
            called=Count("id", filter=Q(called_back_at__isnull=False)),
            solved=Count("id", filter=Q(solved=True)),
            satisfied=Count("id", filter=Q(satisfaction__in=["satisfied", "basically_satisfied"])),
        )
    )


# A metric call: its name, the call, and what runs before each call, not timed (None: nothing).
MetricCall = tuple[str, Callable[[], Any], Callable[[], Any] | None]


def metric_calls(user: Any, start: dt.date, end: dt.date) -> list[MetricCall]:
    from django.utils import timezone

    from yiwang.analytics import grid_totals, metrics, queries, scored
    from yiwang.analytics.metrics import RATE_MILESTONES
    from yiwang.web.views.dashboard import COUNT_TABLE_MILESTONES

    span = {"start": start, "end": end, "user": user}
    step = "day" if (end - start).days <= 62 else "week"

    def grid_table(table: Any, *args: Any, **kwargs: Any) -> Callable[[], Any]:
        return lambda: table(*args, group_by="grid", **kwargs, **span)

    def change_today() -> None:
        # What the catch-up job does to the grid totals after counting an event of today: today's
        # row written again (here with the same sums), the rollup state saved.
        grid_totals.stale_from(timezone.localdate())
        grid_totals.fill()

    return [
        # As the dashboard calls them: the sums its tables show.
        (
            "三率 by street",
            lambda: metrics.three_rates(group_by="street", milestones=RATE_MILESTONES, **span),
            None,
        ),
        (
            "三率 by department",
            lambda: metrics.three_rates(group_by="department", milestones=RATE_MILESTONES, **span),
            None,
        ),
        (
            "三率 of every grid, ranked (the dashboard's export)",
            grid_table(scored.lowest_scores, limit=None),
            None,
        ),
        ("三率 by grid, the 50 lowest (dashboard)", grid_table(scored.lowest_scores, limit=50), None),
        ("综合成绩 of every grid (map colours)", grid_table(scored.values_by, "score"), None),
        # The two grid tables above read sums this process keeps until the rows they read change:
        # their first read after a catch-up that counted something today.
        (
            "the 50 lowest grids, first read after a change",
            grid_table(scored.lowest_scores, limit=50),
            change_today,
        ),
        ("map colours, first read after a change", grid_table(scored.values_by, "score"), change_today),
        ("数字城管 by street", lambda: metrics.evaluation(group_by="street", **span), None),
        ("by category", lambda: queries.by_category(milestones=COUNT_TABLE_MILESTONES, **span), None),
        ("by channel", lambda: queries.by_channel(milestones=COUNT_TABLE_MILESTONES, **span), None),
        ("overall", lambda: queries.overall(**span), None),
        (f"trend per {step}", lambda: queries.series(step=step, **span), None),
    ]


def web_memory(spans: list[tuple[dt.date, dt.date]]) -> tuple[float, float, str]:
    """Resident memory of a fresh process after Django setup, then with the grid index, the
    active classifier (after one prediction), the map's encoded grid shapes and the grid tables'
    sums and scores of ``spans`` (kept by the process) loaded (MB), as a web worker holds them."""
    code = (
        "import os, django; django.setup()\n"
        "def rss():\n"
        "    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024\n"
        "import yiwang.config.urls\n"  # the URLconf imports every view, as a web worker does
        "base = rss()\n"
        "from yiwang.grids.locator import get_index\n"
        "from yiwang.dispatch.classifier.service import active_classifier\n"
        "n = len(get_index().ids) if hasattr(get_index(), 'ids') else 0\n"
        "clf = active_classifier()\n"
        "clf is None or clf.predict(['小区路灯不亮'])\n"  # a process that has served a suggestion
        "from yiwang.web.views.mapview import grid_shapes\n"
        "grid_shapes()\n"
        "import datetime as dt\n"
        "from yiwang.analytics.scored import lowest_scores\n"
        f"for s, e in {[(s.isoformat(), e.isoformat()) for s, e in spans]!r}:\n"
        "    lowest_scores(start=dt.date.fromisoformat(s), end=dt.date.fromisoformat(e), group_by='grid')\n"
        "print(base, rss(), 'classifier' if clf is not None else 'no classifier')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=os.environ.copy(),
    )
    base, loaded, what = out.stdout.split()[-3:]
    return float(base), float(loaded), what


def train_classifier(categories: list[int]) -> None:
    """A classifier over the categories in use, from synthetic texts: its size (features ×
    classes) is what matters for memory, not its accuracy."""
    import random

    from yiwang.cases.models import Category
    from yiwang.dispatch.actions import register_model
    from yiwang.dispatch.classifier.model import fit
    from yiwang.dispatch.models import ClassifierModel

    if ClassifierModel.objects.filter(is_active=True).exists():
        return
    names = dict(Category.objects.filter(pk__in=categories).values_list("code", "name"))
    rng = random.Random(1)
    alphabet = "路灯井盖垃圾噪音占道停车漏水供暖物业拖欠工资施工扰民绿化破损违建油烟排污"
    texts, labels = [], []
    for code, name in names.items():
        for _ in range(30):
            texts.append(name + "".join(rng.choice(alphabet) for _ in range(40)))
            labels.append(code)
    model = fit(texts, labels)
    counts = {c: labels.count(c) for c in names}
    register_model(
        model,
        actor=None,
        name="scale-bench",
        source="synthetic",
        n_train=len(texts),
        label_counts=counts,
        activate=True,
    )


def page_weight(client: Any) -> tuple[int, int]:
    """Bytes of the map page as a browser fetches it: HTML, its static CSS/JS, the map data —
    raw and gzip-compressed (what the reverse proxy sends)."""
    from django.contrib.staticfiles import finders
    from django.urls import reverse

    html = client.get(reverse("web:map")).content
    raw, sent = len(html), len(gzip.compress(html))
    for path in set(re.findall(rb'(?:src|href)="/static/([^"?]+)', html)):
        found = finders.find(path.decode())
        if found:
            body = Path(found).read_bytes()
            raw += len(body)
            sent += len(gzip.compress(body))
    for params in ({"layer": "shapes"}, {}):  # the page fetches both on load
        data = client.get(reverse("web:map_data"), params, HTTP_ACCEPT_ENCODING="gzip")
        body = data.content
        raw += len(gzip.decompress(body)) if data.get("Content-Encoding") == "gzip" else len(body)
        sent += len(body)
    return raw, sent


def _rebuild_steps(ends: dict[str, float], total: float) -> str:
    """How long each step of a rebuild took (minutes), from the moments its steps ended."""
    ranges = ends.get("ranges", 0.0)
    if "buckets" not in ends:  # SQLite: the ranges, then one transaction of summing and indexing
        return f"ranges counted in {ranges / 60:.1f} min, then {(total - ranges) / 60:.1f} min of summing and indexing"
    buckets = ends["buckets"]
    return (
        f"ranges counted in {ranges / 60:.1f} min, street buckets summed and written in "
        f"{(buckets - ranges) / 60:.1f} min, then {(total - buckets) / 60:.1f} min of the other levels and the indexes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("profile", choices=sorted(PROFILES))
    parser.add_argument("--cases", type=int)
    parser.add_argument("--grids", type=int)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--workers",
        type=int,
        help="rollup rebuild processes (PostgreSQL; default: one more than the cores)",
    )
    parser.add_argument("--chunk", type=int, default=50_000, help="cases per rebuild range")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the rollups of existing data")
    parser.add_argument("--write", action="store_true", help="write the section of BENCHMARKS.md")
    parser.add_argument(
        "--load-only", action="store_true", help="generate and load the cases, then stop (no rebuild)"
    )
    args = parser.parse_args()
    base = PROFILES[args.profile]
    profile = Profile(
        base.name,
        base.districts,
        base.streets,
        base.communities,
        args.grids or base.grids,
        args.cases or base.cases,
        base.years,
        base.departments,
    )
    _common.setup_django(BENCH_DIR, f"{profile.name}-{profile.cases}.sqlite3")
    from django.db import connection
    from django.db.models import Sum
    from django.db.models.functions import Length
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from yiwang.analytics import grid_totals, rebuild
    from yiwang.analytics.models import LEVELS, GridTotals
    from yiwang.cases.models import Case, CaseEvent, Category

    vendor = connection.vendor
    workers = args.workers or rebuild.DEFAULT_WORKERS
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    t = time.perf_counter()
    grids = geography(profile)
    depts = departments(profile)
    geo_s = time.perf_counter() - t
    categories = list(
        Category.objects.filter(is_active=True).order_by("code").values_list("pk", flat=True)[:300]
    )
    have = Case.objects.count()
    if have and abs(have - profile.cases) > profile.cases // 100:
        raise SystemExit(f"the database holds {have:,} cases, not {profile.cases:,}: use an empty one")
    gen_s, rebuild_s = 0.0, 0.0
    step_ends: dict[str, float] = {}  # seconds into the rebuild at which each of its steps ended
    now = timezone.now().timestamp()
    if have == 0:
        plan = scale_data.Plan(
            grids, categories, depts, now - profile.years * 365 * scale_data.DAY, now, vendor, profile.cases
        )
        gen_s, _events = load_cases(profile, profile.cases, plan)
    generation_note = BENCH_DIR / f"{profile.name}-{profile.cases}-{vendor}-generation.txt"
    if gen_s:
        n_cases, n_events = Case.objects.count(), CaseEvent.objects.count()
        generation_note.write_text(
            f"| generate + load cases and events | {gen_s / 60:.1f} min | {n_cases / gen_s:,.0f} cases/s, "
            f"{n_events / gen_s:,.0f} events/s; geography {geo_s:.0f} s; {_common.today()} |"
        )
        print(generation_note.read_text(), flush=True)
    if args.load_only:
        return
    if have == 0 or args.rebuild:
        t = time.perf_counter()

        def at_step_end(progress: rebuild.Progress) -> None:
            if progress.done == progress.total:
                step_ends[progress.step] = time.perf_counter() - t

        rebuild.rebuild(workers=workers, chunk=args.chunk, force=True, progress=at_step_end)
        rebuild_s = time.perf_counter() - t
    # Every grid's running totals, as the catch-up job writes them after a rebuild (nothing to do
    # when an earlier run filled them).
    t = time.perf_counter()
    totals_days = grid_totals.fill()
    totals_s = time.perf_counter() - t
    n_cases, n_events = Case.objects.count(), CaseEvent.objects.count()
    level_rows = {lv.model._meta.model_name: lv.model._default_manager.count() for lv in LEVELS}
    user = leader()
    today = timezone.localdate()
    say(
        f"`python bench/scale.py {profile.name}` on {vendor}: {len(grids):,} grids, {n_cases:,} cases, "
        f"{n_events:,} events over {profile.years:g} year(s); {_common.today()}; {_common.machine()}."
    )
    say("")
    say("| step | time | notes |")
    say("|---|---:|---|")
    if generation_note.exists():
        # This data's generation (this run's, or the --load-only run that made it).
        say(generation_note.read_text().strip())
    if rebuild_s:
        say(
            f"| `rollup rebuild` ({workers if vendor == 'postgresql' else 1} process(es)) | {rebuild_s / 60:.1f} min | {n_events / rebuild_s:,.0f} events/s; "
            + _rebuild_steps(step_ends, rebuild_s)
            + "; rows: "
            + ", ".join(f"{k} {v:,}" for k, v in level_rows.items())
            + " |"
        )
    if totals_days:
        totals_mb = (GridTotals.objects.aggregate(n=Sum(Length("data")))["n"] or 0) / 2**20
        say(
            f"| grid totals (`grid_totals.fill`, run by the catch-up job) | {totals_s:.0f} s | {totals_days} days "
            f"read up to today; {GridTotals.objects.count():,} rows, {totals_mb:.0f} MB compressed |"
        )
    say("")
    say("| period | metric | median | plain GROUP BY (reference) | ratio |")
    say("|---|---|---:|---:|---:|")
    worst: list[float] = []
    ratios: list[float] = []
    for label, start, end in periods(today):
        ref_times, _r = _common.timed(
            lambda s=start, e=end: reference_group_by(s, e), max(1, args.repeats // 2)
        )
        ref = _common.median(ref_times) * 1000
        for name, call, before in metric_calls(user, start, end):
            call()  # warm
            times, _r = _common.timed(call, args.repeats, before)
            ms = _common.median(times) * 1000
            worst.append(ms)
            ratios.append(ref / ms)
            say(f"| {label} ({start} … {end}) | {name} | {ms:.1f} ms | {ref:.0f} ms | {ref / ms:.0f}× |")
    say("")
    client = Client()
    client.force_login(user)
    say("| request (test client, all middleware, a leader of every district) | median | notes |")
    say("|---|---:|---|")

    def get(url: str, params: dict[str, str] | None = None) -> Any:
        def run() -> Any:
            response = client.get(url, params or {}, HTTP_ACCEPT_ENCODING="gzip")
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    from yiwang.web.views import mapview

    map_url = reverse("web:map_data")
    shapes = {"layer": "shapes"}

    def cold_shapes(forget: Callable[[], None]) -> Callable[[], Any]:
        def run() -> Any:
            forget()
            return get(map_url, shapes)()

        return run

    etag = get(map_url, shapes)()["ETag"]
    for label, call in (
        (
            "map shapes: first request in a fresh web process (encode every grid + gzip)",
            cold_shapes(mapview.reset_grid_shapes),
        ),
        (
            "map shapes: first request of a scope (join the encoded grids + gzip)",
            cold_shapes(mapview._SHAPES_BODIES.clear),
        ),
        ("map shapes: the next requests of that scope (kept gzipped body)", get(map_url, shapes)),
    ):
        times, response = _common.timed(call, args.repeats)
        say(
            f"| {label} | {_common.median(times) * 1000:.0f} ms | {len(response.content) / 1024:,.0f} KiB sent |"
        )  # type: ignore[attr-defined]

    def revalidate() -> Any:
        response = client.get(map_url, shapes, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304, response.status_code
        return response

    times, _r = _common.timed(revalidate, args.repeats)
    say(
        f"| map shapes: a browser revalidating its copy (304) | {_common.median(times) * 1000:.0f} ms | 0 KiB |"
    )
    requests = [
        ("map overview: open and overdue counts of every grid and street, live case points", map_url, {}),
        (
            "map: grids coloured by 综合成绩, this year",
            reverse("web:map_data"),
            {"layer": "metric", "metric": "score", "period": "year"},
        ),
        ("dashboard page, this month", reverse("web:dashboard"), {"period": "month"}),
        ("dashboard page, this year", reverse("web:dashboard"), {"period": "year"}),
    ]
    for label, url, params in requests:
        get(url, params)()
        times, response = _common.timed(get(url, params), args.repeats)
        size = len(response.content)  # type: ignore[attr-defined]
        say(f"| {label} | {_common.median(times) * 1000:.0f} ms | {size / 1024:,.0f} KiB sent |")
    ref_map, _r = _common.timed(
        lambda: list(
            Case.objects.order_by()
            .values("grid_id")
            .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
        ),
        max(1, args.repeats // 2),
    )
    say(f"| reference: plain GROUP BY grid over all cases | {_common.median(ref_map) * 1000:.0f} ms | — |")
    raw, sent = page_weight(client)
    say(
        f"| map page weight (HTML + CSS/JS + map data) | — | {raw / 1e6:.2f} MB raw, {sent / 1e6:.2f} MB gzip |"
    )
    train_classifier(categories)
    spans = [(start, end) for _name, start, end in periods(today)]
    base_mb, loaded_mb, what = web_memory(spans)
    say(
        f"| web process memory (RSS) | — | {base_mb:.0f} MB after setup; {loaded_mb:.0f} MB with the grid index of {len(grids):,} grids, the map's grid shapes, the {what} and the grid tables' sums and scores of {len(spans)} periods loaded |"
    )
    say("")
    say(
        f"Slowest metric call: {max(worst):.1f} ms; smallest ratio to the GROUP BY: {min(ratios):.0f}×; median ratio {_common.median(ratios):.0f}×."
    )
    if args.write:
        title = f"Scale: {profile.name} on {'PostgreSQL' if vendor == 'postgresql' else 'SQLite'} (bench/scale.py)"
        _common.write_section(title, "\n".join(lines))


if __name__ == "__main__":
    main()
