"""Shared helpers for the benchmarks: machine description, timing statistics, BENCHMARKS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else "unknown CPU"


def machine() -> str:
    """One line naming the machine: CPU model, cores usable by this process, Python."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu_model()}, {cores} cores, Python {platform.python_version()}, {platform.system()}"


def today() -> str:
    return dt.date.today().isoformat()


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0–100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
    return ordered[k]


def timed(
    fn: Callable[[], object], repeats: int = 3, before: Callable[[], object] | None = None
) -> tuple[list[float], object]:
    """Run ``fn`` ``repeats`` times (each after ``before``, not timed); return the wall times (s)
    and the last result."""
    times, result = [], None
    for _ in range(repeats):
        if before is not None:
            before()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return times, result


def write_section(title: str, body: str) -> None:
    """Replace (or append) the ``## {title}`` section of BENCHMARKS.md."""
    header = (
        "# Benchmarks\n\nEach section is written by the script named in it; numbers are medians of repeats.\n\n"
        f"Machine (when this file was created): {machine()}. Each section repeats the machine it ran on.\n"
    )
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else header
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    BENCHMARKS_MD.write_text(text)


def setup_django(bench_dir: Path, db_file: str) -> None:
    """Point Django at a benchmark's own SQLite file under ``bench_dir`` (unless DATABASE_URL is
    set), with the dummy task backend and DEBUG off, then migrate. ./data is never touched."""
    bench_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("YIWANG_DATA_DIR", str(bench_dir))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{bench_dir / db_file}")
    os.environ.setdefault("TASKS_BACKEND", "dummy")
    os.environ.setdefault("DEBUG", "0")  # DEBUG keeps every query in memory and slows both sides
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from yiwang.core.memory import freeze_startup_objects

    freeze_startup_objects()  # what yiwang/config/wsgi.py does in a web process
