"""Load test: a busy morning against a live ``yiwang serve`` (gunicorn) on loopback.

    python bench/load/busy_morning.py                       # SQLite, 60 s, 2 gunicorn workers
    python bench/load/busy_morning.py --duration 30 --users 12
    DATABASE_URL=postgres://… python bench/load/busy_morning.py --workers 2

A threaded driver (no extra dependency; locust would measure the same thing with more machinery)
plays four kinds of users at once, each in a loop without think time:

- hotline operators register cases (``POST /api/v1/cases/``, a unique idempotency key each);
- dispatchers list registered cases and dispatch one to 城管局 (two dispatchers may race: a 409/400
  answer is the expected loser, counted apart from errors);
- department handlers sign dispatched cases and resolve cases in progress;
- leaders open the map data and the dashboard (session login, as a browser does).

Reported per request kind: count, throughput, p50/p95, error rate (5xx, connection failures and
unexpected 4xx); and *lost requests*: cases found in the database with the run's marker minus the
201 answers the operators received — must be 0 (no case created without an answer the client saw
could only come from a timeout; none is acceptable silently). Prints Markdown rows for the "Load" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib import error, request

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench._common import machine, percentile, today  # noqa: E402

BENCH_DIR = Path("/tmp/yiwang-bench-load")
PASSWORD = "Yiwang@2026"  # the demo password (yiwang/demo/people.py)


def bench_env() -> dict[str, str]:
    env = {
        "YIWANG_DATA_DIR": str(BENCH_DIR),
        "DATABASE_URL": f"sqlite:///{BENCH_DIR / 'load.sqlite3'}",
        "TASKS_BACKEND": "dummy",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "yiwang.config.settings",
        "YIWANG_API_USER_RATE": "100000000/hour",
        "AXES_ENABLED": "0",
    }
    return {**os.environ, **env, **{k: os.environ[k] for k in env if k in os.environ}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(env: dict[str, str]) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    subprocess.run([python, "-m", "yiwang.cli", "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [
            python,
            "-m",
            "yiwang.cli",
            "demo",
            "--if-empty",
            "--days",
            "2",
            "--scale",
            "0.2",
            "--no-background-history",
        ],
        env=env,
        check=True,
        cwd=ROOT,
    )


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    # The command line of ``yiwang serve`` (gunicorn, 4 threads a worker), without the task worker.
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "yiwang.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", "4", "--graceful-timeout", "10", "--timeout", "60"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start")


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    conflicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    created: int = 0
    error_samples: list[str] = field(default_factory=list)

    def add(
        self,
        kind: str,
        seconds: float,
        status: int,
        expected: tuple[int, ...],
        conflict: tuple[int, ...] = (),
    ) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            if status in conflict:
                self.conflicts[kind] += 1
            elif status not in expected:
                self.errors[kind] += 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{kind} → {status}")


class Session:
    """One user: a cookie jar (web pages) or a token (API)."""

    def __init__(self, base: str, stats: Stats) -> None:
        self.base, self.stats = base, stats
        self.jar = CookieJar()
        self.opener = request.build_opener(request.HTTPCookieProcessor(self.jar))
        self.token = ""

    def call(self, kind: str, method: str, path: str, body: Any = None, *, expected: tuple[int, ...] = (200,),
             conflict: tuple[int, ...] = (), form: bool = False) -> tuple[int, Any]:  # fmt: skip
        headers = {"Accept": "application/json"}
        data = None
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if body is not None:
            if form:
                from urllib.parse import urlencode

                data = urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        if form:
            headers["Referer"] = self.base + path
            token = next((c.value for c in self.jar if c.name == "csrftoken"), "")
            headers["X-CSRFToken"] = token
        req = request.Request(self.base + path, data=data, method=method, headers=headers)
        started = time.perf_counter()
        status, payload = 0, None
        try:
            with self.opener.open(req, timeout=60) as response:
                status, raw = response.status, response.read()
        except error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except OSError:
            raw = b""
        elapsed = time.perf_counter() - started
        if kind:
            self.stats.add(kind, elapsed, status, expected, conflict)
        try:
            payload = json.loads(raw) if raw[:1] in (b"{", b"[") else raw
        except ValueError:
            payload = raw
        return status, payload

    def api_login(self, username: str) -> None:
        status, body = self.call(
            "", "POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD}
        )
        if status != 200:
            raise SystemExit(f"token for {username}: {status} {body!r}")
        self.token = body["token"]

    def web_login(self, username: str) -> None:
        self.call("", "GET", "/login/")
        status, _ = self.call("", "POST", "/login/", {"username": username, "password": PASSWORD}, form=True,
                              expected=(200, 302))  # fmt: skip
        if not any(c.name == "sessionid" for c in self.jar):
            raise SystemExit(f"web login for {username} failed ({status})")


def ids(body: Any) -> list[int]:
    rows = body.get("results", []) if isinstance(body, dict) else []
    return [int(r["id"]) for r in rows if isinstance(r, dict) and "id" in r]


def operator(s: Session, stop: threading.Event, marker: str, point: tuple[float, float]) -> None:
    while not stop.is_set():
        body = {
            "channel": "hotline_12345",
            "category": "SX-06001",
            "title": f"{marker} 路灯不亮",
            "description": "压力测试：小区东门路灯坏了一周。",
            "lng": point[0] + random.uniform(-0.001, 0.001),
            "lat": point[1] + random.uniform(-0.001, 0.001),
            "idempotency_key": f"{marker}-{uuid.uuid4().hex[:16]}",
        }
        status, _ = s.call("intake POST /api/v1/cases/", "POST", "/api/v1/cases/", body, expected=(201,))
        if status == 201:
            with s.stats.lock:
                s.stats.created += 1


def dispatcher(s: Session, stop: threading.Event, lead: int) -> None:
    while not stop.is_set():
        _, body = s.call("list registered", "GET", "/api/v1/cases/?status=registered&page_size=20")
        found = ids(body)
        if found:
            s.call("dispatch", "POST", f"/api/v1/cases/{random.choice(found)}/dispatch/", {"lead": lead},
                   conflict=(400, 404, 409))  # fmt: skip


def handler(s: Session, stop: threading.Event) -> None:
    while not stop.is_set():
        _, body = s.call("list dispatched", "GET", "/api/v1/cases/?status=dispatched&page_size=20")
        found = ids(body)
        if found:
            s.call(
                "sign", "POST", f"/api/v1/cases/{random.choice(found)}/sign/", {}, conflict=(400, 404, 409)
            )
        _, body = s.call("list in progress", "GET", "/api/v1/cases/?status=in_progress&page_size=20")
        found = ids(body)
        if found:
            s.call("resolve", "POST", f"/api/v1/cases/{random.choice(found)}/resolve/", {"result": "已修复"},
                   conflict=(400, 404, 409))  # fmt: skip


def leader(s: Session, stop: threading.Event) -> None:
    while not stop.is_set():
        s.call("map data", "GET", "/map/data.json")
        s.call("dashboard page", "GET", "/dashboard/")


def world_facts(env: dict[str, str]) -> tuple[int, tuple[float, float]]:
    os.environ.update(env)
    import django

    django.setup()
    from yiwang.grids.models import Grid
    from yiwang.people.models import Department

    lead = Department.objects.get(code="CG").pk
    grid = Grid.objects.order_by("code").exclude(center_lng=None).first()
    assert grid is not None
    return lead, (float(grid.center_lng), float(grid.center_lat))


def count_marked(marker: str) -> int:
    from yiwang.cases.models import Case

    return Case.objects.filter(title__startswith=marker).count()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--operators", type=int, default=4)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--handlers", type=int, default=2)
    parser.add_argument("--leaders", type=int, default=2)
    args = parser.parse_args()
    env = bench_env()
    prepare(env)
    lead, point = world_facts(env)
    port = free_port()
    server = start_server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    stats = Stats()
    stop = threading.Event()
    marker = f"LOAD{int(time.time())}"
    threads: list[threading.Thread] = []
    try:
        plan: list[tuple[str, str, Any, tuple[Any, ...]]] = (
            [("api", "operator", operator, (marker, point))] * args.operators
            + [("api", "dispatcher", dispatcher, (lead,))] * args.dispatchers
            + [("api", "handler_cg", handler, ())] * args.handlers
            + [("web", "leader", leader, ())] * args.leaders
        )
        for how, username, target, extra in plan:
            session = Session(base, stats)
            session.api_login(username) if how == "api" else session.web_login(username)
            threads.append(threading.Thread(target=target, args=(session, stop, *extra), daemon=True))
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.duration)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    in_db = count_marked(marker)
    engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(
        f"\n### {engine}, {args.workers} gunicorn workers × 4 threads, {len(threads)} users, {args.duration:.0f} s"
    )
    print(f"\n{machine()} · {today()}\n")
    print("| request | n | req/s | p50 ms | p95 ms | errors | conflicts |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total = errors = 0
    for kind in sorted(stats.times):
        times = stats.times[kind]
        total += len(times)
        errors += stats.errors[kind]
        print(
            f"| {kind} | {len(times)} | {len(times) / elapsed:.1f} | {percentile(times, 50) * 1000:.0f} | "
            f"{percentile(times, 95) * 1000:.0f} | {stats.errors[kind]} | {stats.conflicts[kind]} |"
        )
    print(f"\nTotal {total} requests, {total / elapsed:.1f} req/s, error rate {errors / max(total, 1):.2%}.")
    print(f"Cases: 201 answers {stats.created}, rows in the database {in_db}, lost {in_db - stats.created}.")
    if stats.error_samples:
        print("Error samples: " + ", ".join(stats.error_samples))
    if re.search("lost [1-9]", f"lost {in_db - stats.created}"):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
