"""HTTP benchmark of the APIs: staff list, Open311 list and Open311 POST over a real server.

    python bench/api.py                      # 1,000,000 cases, SQLite under /tmp/yiwang-bench-api
    python bench/api.py --cases 100000       # a smaller table (the database only grows)
    python bench/api.py --duration 10 --rounds 2 --connections 4
    python bench/api.py --fill-only          # build the database and stop
    python bench/api.py --write              # also write the "## API" section of BENCHMARKS.md
    DATABASE_URL=postgres://… python bench/api.py

Before/after a change: ``--no-migrate --server-root <checkout of the old code>`` measures the old
code on the old schema; each run leaves its rows in ``<dir>/api-last.json``, which ``--baseline``
puts next to the new numbers.

The database is filled with ``bench/intake.py``'s bulk fill (2,000 square grids in 20 streets, one
REGISTERED event per case, a year of cases), then the recent cases are moved along the flow
(dispatched, in progress with running clocks, resolved) so that the status and overdue filters
select something. gunicorn serves the project's WSGI application on a loopback port (the same
command line as ``yiwang serve``, without the access log), and a separate Python process drives it
with keep-alive connections for a fixed time per scenario. The reference scenario is ``/healthz``
(one ``SELECT 1`` through the same middleware stack), measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DIR = Path("/tmp/yiwang-bench-api")
RAW_KEY_FILE = "open311_key"
TOKEN_FILE = "token"


def bench_env() -> dict[str, str]:
    """The environment shared by this process and the server (explicit variables win)."""
    env = {
        "YIWANG_DATA_DIR": str(BENCH_DIR),
        "DATABASE_URL": f"sqlite:///{BENCH_DIR / 'api.sqlite3'}",
        "TASKS_BACKEND": "dummy",
        "DEBUG": "0",  # DEBUG keeps every query in memory
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "yiwang.config.settings",
        # The staff API throttles a user at 6000/hour by default: far below a benchmark's rate.
        "YIWANG_API_USER_RATE": "100000000/hour",
    }
    return {**env, **{k: os.environ[k] for k in env if k in os.environ}}


def setup_django(migrate: bool = True) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.update(bench_env())
    import django

    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", verbosity=0)


# --- the database -----------------------------------------------------------------------------------
def move_recent_cases_along() -> int:
    """Give the registered cases (the last month of the fill) the statuses and clocks of a live
    queue: a quarter dispatched (accept clock), a quarter in progress (resolve clock, 30 days), a
    quarter resolved. Idempotent: only cases still registered without a clock are touched."""
    from django.db.models import F

    from yiwang.cases.models import Case
    from yiwang.people.models import Department

    dept = Department.objects.get(code="BENCH-CG")
    fresh = Case.objects.filter(status="registered", accept_due_at__isnull=True, number__startswith="P")
    fresh = fresh.alias(bucket=F("id") % 4)
    moved = fresh.filter(bucket=0).update(
        status="dispatched",
        lead_department=dept,
        dispatched_at=F("created_at"),
        accept_started_at=F("created_at"),
        accept_due_at=F("created_at") + dt.timedelta(hours=4),
        accept_unit="hours",
    )
    moved += fresh.filter(bucket=1).update(
        status="in_progress",
        lead_department=dept,
        dispatched_at=F("created_at"),
        signed_at=F("created_at"),
        resolve_started_at=F("created_at"),
        resolve_due_at=F("created_at") + dt.timedelta(days=30),
        resolve_unit="days",
    )
    moved += fresh.filter(bucket=2).update(
        status="resolved", lead_department=dept, resolved_at=F("created_at")
    )
    return moved


def build_database(target: int) -> dict:
    """Fill (or grow) the database to ``target`` cases; a dispatcher with a token and an Open311
    key without a practical rate limit. Returns what the driver needs."""
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from bench.intake import build_world, prefill
    from yiwang.api.actions import create_api_key
    from yiwang.cases.models import Case, Category
    from yiwang.grids.models import Division
    from yiwang.people.models import Grant, Role, User

    rng = random.Random(20261125)
    world = build_world()
    have = Case.objects.count()
    if have < target:
        print(f"{connection.vendor}: filling from {have:,} to {target:,} cases", flush=True)
        if connection.vendor == "sqlite":
            # The cases arrive in random date order, so every batch touches pages all over the
            # indexes: with SQLite's default 2 MB page cache the fill slows down as the table grows.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -1000000")
        seconds = prefill(target, world, rng)
        print(f"  filled in {seconds:.0f} s", flush=True)
    moved = move_recent_cases_along()
    if moved:
        print(f"  moved {moved:,} recent cases along the flow", flush=True)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what a deployment's `PRAGMA optimize` would leave behind
    user, created = User.objects.get_or_create(username="bench_dispatcher")
    if created:
        Grant.objects.create(user=user, role=Role.DISPATCHER, division=world["district"])
    token, _ = Token.objects.get_or_create(user=user)
    _key, raw_key = create_api_key(None, f"bench {dt.datetime.now():%Y%m%d%H%M%S}", rate_limit_per_hour=10**9)
    street = Division.objects.get(code="370211003000")
    community = Division.objects.get(code="370211003002")
    used = set(Case.objects.filter(number__startswith="P").values_list("category_id", flat=True)[:5000])
    # Leaf categories (SX-01001, not the SX-01 group): the ones a citizen app would post under.
    public = [c for c in Category.objects.public().filter(pk__in=used).order_by("code") if len(c.code) == 8]
    return {
        "cases": Case.objects.count(),
        "token": token.key,
        "api_key": raw_key,
        "street": street.code,
        "community": community.code,
        "service_codes": [c.code for c in public[:2]],
        "vendor": connection.vendor,
    }


# --- the driver (a separate process) -----------------------------------------------------------------
def drive(spec: dict) -> dict:
    """Send the spec's requests (round robin over its variants) on ``connections`` keep-alive
    connections for ``warmup`` + ``duration`` seconds; latencies of the measured part only."""
    host, port = spec["host"], spec["port"]
    variants = spec["requests"]
    start = time.perf_counter()
    measure_from = start + spec["warmup"]
    stop_at = measure_from + spec["duration"]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        conn = HTTPConnection(host, port, timeout=60)
        mine: list[float] = []
        seen: dict[str, int] = {}
        i = offset
        while True:
            request = variants[i % len(variants)]
            i += 1
            body = request.get("body")
            t = time.perf_counter()
            if t >= stop_at:
                break
            try:
                conn.request(
                    request["method"], request["path"], body=body.encode() if body else None,
                    headers=request.get("headers", {}),
                )  # fmt: skip
                response = conn.getresponse()
                response.read()
                status = str(response.status)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except OSError as exc:  # a dropped keep-alive connection: count it and reconnect
                conn.close()
                status = type(exc).__name__
            done = time.perf_counter()
            if t >= measure_from:
                mine.append(done - t)
                seen[status] = seen.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in seen.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(spec["connections"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(time.perf_counter(), stop_at) - measure_from
    return {"latencies": latencies, "statuses": statuses, "elapsed": elapsed}


def run_driver(spec: dict) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--drive"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


# --- the server ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, workers: int, threads: int, root: Path = ROOT) -> subprocess.Popen[bytes]:
    """gunicorn as ``yiwang serve`` starts it (gthread workers), without the access log; ``root``
    is the checkout whose ``yiwang`` package it imports (``python -m`` puts the cwd first)."""
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "yiwang.config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
            "--graceful-timeout", "10", "--log-level", "warning",
        ],
        cwd=root,
        env={**os.environ, **bench_env()},
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline and server.poll() is None:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz (see its errors above)")


# --- the scenarios -----------------------------------------------------------------------------------
def scenarios(info: dict) -> list[dict]:
    """(name, what it asks, request variants). Dates are Beijing time; the fill spans 2025-11-01 to
    2026-11-01, its last month still open."""
    auth = {"Authorization": f"Token {info['token']}"}

    def v1(query: str) -> dict:
        return {"method": "GET", "path": f"/api/v1/cases/?{query}", "headers": auth}

    def o311(query: str) -> dict:
        return {"method": "GET", "path": f"/open311/v2/requests.json?{query}"}

    street, community = info["street"], info["community"]
    code, other = (info["service_codes"] * 2)[:2]
    march = "created_after=2026-03-01T00:00:00%2B08:00&created_before=2026-04-01T00:00:00%2B08:00"
    rng = random.Random(7)
    posts = []
    for i in range(64):
        lng, lat = 119.80 + rng.random() * 0.5, 35.60 + rng.random() * 0.4
        form = {
            "api_key": info["api_key"],
            "service_code": code,
            "lat": f"{lat:.6f}",
            "long": f"{lng:.6f}",
            "address_string": f"测试路{i}号",
            "description": "小区门口垃圾堆积三天没人清运，气味很大，请尽快处理。",
            "first_name": "三",
            "last_name": "张",
            "phone": "13800000000",
        }
        posts.append(
            {
                "method": "POST",
                "path": "/open311/v2/requests.json",
                "body": urllib.parse.urlencode(form),
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            }
        )
    return [
        {"name": "reference", "what": "`GET /healthz` (one `SELECT 1`)", "requests": [
            {"method": "GET", "path": "/healthz"}]},
        {"name": "v1 first page", "what": "`GET /api/v1/cases/` (no filter, 50 rows)", "requests": [v1("")]},
        {"name": "v1 status+street", "what": "`?status=dispatched&status=in_progress&area=<street>`",
         "requests": [v1(f"status=dispatched&status=in_progress&area={street}")]},
        {"name": "v1 closed+street+month", "what": "`?status=closed&area=<street>&created_after=…&created_before=…` (March 2026)",
         "requests": [v1(f"status=closed&area={street}&{march}")]},
        {"name": "v1 overdue", "what": "`?overdue=true`", "requests": [v1("overdue=true")]},
        {"name": "v1 community, not overdue", "what": "`?status=dispatched&area=<community>&overdue=false`",
         "requests": [v1(f"status=dispatched&area={community}&overdue=false")]},
        {"name": "open311 code+open", "what": "`?service_code=<code>&status=open` (last 90 days)",
         "requests": [o311(f"service_code={code}&status=open")]},
        {"name": "open311 code+closed+start", "what": "`?service_code=<code>&status=closed&start_date=2026-03-01`",
         "requests": [o311(f"service_code={other}&status=closed&start_date=2026-03-01T00:00:00%2B08:00")]},
        {"name": "open311 POST", "what": "`POST /open311/v2/requests.json` (form, api_key)", "requests": posts},
    ]  # fmt: skip


def probe(scenario: dict) -> tuple[int, int | None]:
    """Queries and rows of the scenario's first request, in-process (Django's test client); a POST
    probe registers two more cases."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    request = scenario["requests"][0]
    headers = {k.lower().replace("-", "_"): v for k, v in request.get("headers", {}).items()}
    client = Client()
    extra = {}
    if "authorization" in headers:
        extra["HTTP_AUTHORIZATION"] = headers["authorization"]
    for _warm_then_count in range(2):  # the first request also loads per-process caches
        with CaptureQueriesContext(connection) as ctx:
            if request["method"] == "POST":
                response = client.post(
                    request["path"], data=request["body"], content_type=headers["content_type"], **extra
                )
            else:
                response = client.get(request["path"], **extra)
    rows = None
    if response.status_code == 200 and request["method"] == "GET":
        body = response.json()
        rows = len(body["results"]) if isinstance(body, dict) and "results" in body else len(body)
    return len(ctx.captured_queries), rows


def measure(info: dict, args: argparse.Namespace) -> list[dict]:
    from bench._common import median, percentile

    port = free_port()
    server = start_server(port, args.workers, args.threads, args.server_root)
    try:
        chosen = [
            s for s in scenarios(info) if not args.only or s["name"] in args.only or s["name"] == "reference"
        ]
        runs: dict[str, list[dict]] = {s["name"]: [] for s in chosen}
        for r in range(args.rounds):
            for scenario in chosen:
                spec = {
                    "host": "127.0.0.1",
                    "port": port,
                    "connections": args.connections,
                    "warmup": args.warmup,
                    "duration": args.duration,
                    "requests": scenario["requests"],
                }
                out = run_driver(spec)
                runs[scenario["name"]].append(out)
                lat = out["latencies"]
                print(
                    f"  round {r + 1} {scenario['name']}: {len(lat) / out['elapsed']:.1f} req/s, "
                    f"p50 {percentile(lat, 50) * 1000:.1f} ms, p95 {percentile(lat, 95) * 1000:.1f} ms, "
                    f"statuses {out['statuses']}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = []
    for scenario in chosen:
        outs = runs[scenario["name"]]
        latencies = [x for out in outs for x in out["latencies"]]
        queries, returned = probe(scenario)
        rows.append(
            {
                "name": scenario["name"],
                "what": scenario["what"],
                "rps": median([len(out["latencies"]) / out["elapsed"] for out in outs]),
                "p50": percentile(latencies, 50) * 1000,
                "p95": percentile(latencies, 95) * 1000,
                "n": len(latencies),
                "errors": sum(v for out in outs for k, v in out["statuses"].items() if not k.startswith("2")),
                "queries": queries,
                "rows": returned,
            }
        )
    ref = rows[0]
    for row in rows:
        row["ratio_p50"] = row["p50"] / ref["p50"]
        row["ratio_p95"] = row["p95"] / ref["p95"]
        row["ratio_rps"] = ref["rps"] / row["rps"]
    return rows


def table(rows: list[dict], baseline: dict[str, dict] | None = None) -> str:
    """The markdown table; with ``baseline`` (rows of an earlier run by name) its req/s and p95 too."""
    head = "| scenario | request | req/s | p50 | p95 | p50 ÷ ref | p95 ÷ ref | rows | queries |"
    if baseline:
        head += " req/s before | p95 before |"
    lines = [head, "|---" * head.count(" | ") + "|---|"]
    for row in rows:
        errors = f" ({row['errors']} errors)" if row["errors"] else ""
        line = (
            f"| {row['name']} | {row['what']} | {row['rps']:.0f}{errors} | {row['p50']:.1f} ms | "
            f"{row['p95']:.1f} ms | {row['ratio_p50']:.1f}× | {row['ratio_p95']:.1f}× | "
            f"{'' if row['rows'] is None else row['rows']} | {row['queries']} |"
        )
        if baseline:
            old = baseline.get(row["name"])
            line += f" {old['rps']:.0f} | {old['p95']:.1f} ms |" if old else " | |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    global BENCH_DIR
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases stored (the table only grows)")
    parser.add_argument("--dir", type=Path, default=BENCH_DIR, help="where the SQLite file lives")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per scenario and round"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each")
    parser.add_argument("--rounds", type=int, default=2, help="passes over all scenarios")
    parser.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (as `yiwang serve`)")
    parser.add_argument(
        "--server-root",
        type=Path,
        default=ROOT,
        help="serve another checkout (e.g. the code before a change)",
    )
    parser.add_argument("--only", nargs="*", help="scenario names to run (the reference always runs)")
    parser.add_argument("--fill-only", action="store_true", help="build the database and stop")
    parser.add_argument(
        "--no-migrate", action="store_true", help="leave the schema as it is (to measure before a migration)"
    )
    parser.add_argument("--write", action="store_true", help="write the API section of BENCHMARKS.md")
    parser.add_argument(
        "--baseline", type=Path, help="an earlier run's api-last.json: its req/s and p95 go in the table"
    )
    parser.add_argument("--baseline-note", default="", help="what the baseline run was (for BENCHMARKS.md)")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)  # the driver process
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(json.load(sys.stdin))))
        return
    BENCH_DIR = args.dir
    setup_django(migrate=not args.no_migrate)
    info = build_database(args.cases)
    print(f"{info['vendor']}: {info['cases']:,} cases", flush=True)
    if args.fill_only:
        return
    from bench._common import machine, today, write_section

    load_before = os.getloadavg()
    rows = measure(info, args)
    load_after = os.getloadavg()
    (BENCH_DIR / "api-last.json").write_text(json.dumps(rows, indent=1))
    baseline = {r["name"]: r for r in json.loads(args.baseline.read_text())} if args.baseline else None
    text = table(rows, baseline)
    print(text)
    print(f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    if args.write:
        notes = [
            f"`python bench/api.py --cases {args.cases:_} --duration {args.duration:g} --warmup {args.warmup:g} "
            f"--rounds {args.rounds} --connections {args.connections}"
            f"{' --baseline <before>/api-last.json' if args.baseline else ''} --write` "
            f"({info['vendor']}, {info['cases']:,} cases stored, {today()}). "
            "Target: list p95 ≤ 50 ms at 1 M cases on SQLite.",
            "",
            text,
            "",
            f"- Machine: {machine()}, shared with other jobs: 1-min load average {load_before[0]:.1f} "
            f"before, {load_after[0]:.1f} after (2 cores), so absolute numbers move between runs; the "
            "ratios to the reference are steadier.",
            f"- Server: gunicorn, {args.workers} workers × {args.threads} threads (as `yiwang serve`, no "
            "access log), DEBUG off, on 127.0.0.1. Client: a separate Python process, "
            f"{args.connections} keep-alive connections, {args.rounds} rounds × {args.duration:.0f} s per "
            f"scenario after {args.warmup:.0f} s of warm-up; p50/p95 over every request of the rounds, "
            "req/s the median of the rounds.",
            "- Reference: `/healthz`, one `SELECT 1` through the whole middleware stack (so it includes "
            "opening the SQLite connection, which Django does per request with `CONN_MAX_AGE=0`).",
            "- rows / queries: of one request, counted in-process with Django's test client. Staff API as a "
            "district dispatcher (token); Open311 lists return at most 1,000 requests.",
            *([f"- Before: {args.baseline_note}"] if args.baseline_note else []),
            "- Data: `bench/intake.py`'s fill (2,000 grids in 20 streets, a year of cases from 2025-11-01, "
            "one event each); the last month moved along the flow (¼ dispatched with an accept clock, "
            "¼ in progress with a 30-day resolve clock, ¼ resolved). The POSTs add cases as they go.",
        ]
        write_section("API", "\n".join(notes))
        print("wrote the API section of BENCHMARKS.md")


if __name__ == "__main__":
    main()
