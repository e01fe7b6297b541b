"""The benchmark suite: every bench/ script with one size profile, one after another.

    python bench/run.py                # quick: small sizes, minutes; prints, writes nothing
    python bench/run.py --full         # the sizes BENCHMARKS.md reports (an hour or more)
    python bench/run.py --full --write # and rewrite each section of BENCHMARKS.md
    python bench/run.py --only intake analytics

Each script measures its figure next to a reference in the same run (a bare insert, a plain GROUP
BY over the case table, a brute-force locate…) and, with ``--write``, replaces its own section of
BENCHMARKS.md. The real-message benchmarks (classifier, duplicates, hotspots, knowledge base) read
../shared/data/teddy2020 and are skipped with a message when it is absent: the data is not ours
to ship.

The scale benchmark (bench/scale.py) runs the district profile (15 k grids, 1 M cases) on the
database of DATABASE_URL (SQLite by default); the megacity profile (50 k grids, 10 M cases) is run
on its own against an empty PostgreSQL database: DATABASE_URL=postgres://… python bench/scale.py megacity.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DATA = BENCH.parent.parent / "shared" / "data" / "teddy2020"


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    quick: tuple[str, ...]
    full: tuple[str, ...]
    write_flag: str = "--write"  # the flag that makes the script write its section ("" if none)
    no_write_flag: str = ""  # for a script that writes unless told not to
    needs_data: bool = False


def _messages(name: str) -> str:
    return str(DATA / name)


SUITE: tuple[Bench, ...] = (
    Bench("locate", "locate.py", ("--grids", "1500", "--points", "100000", "--repeats", "1"),
          ("--grids", "15000", "--points", "1000000"), write_flag="", no_write_flag="--no-write"),
    Bench("intake", "intake.py", ("10000", "--samples", "200"), ("100000", "1000000")),
    Bench("analytics", "analytics.py", ("5000", "--repeats", "3"), ("35000",)),
    Bench("import", "import.py", ("20000",), ("100000",), write_flag=""),  # prints only
    Bench("scale", "scale.py", ("district", "--cases", "20000", "--grids", "2000", "--repeats", "2"),
          ("district",)),
    Bench("web", "web.py", ("--days", "10", "--repeats", "2"), ("--days", "60", "--repeats", "5")),
    Bench("api", "api.py", ("--cases", "50000", "--rounds", "1"), ("--cases", "1000000")),
    Bench("classify", "classify.py", (_messages("attachment2_full_labels_reconstructed.csv"), "--folds", "2",
          "--repeats", "1", "--scale", "20000", "--no-reference"),
          (_messages("attachment2_full_labels_reconstructed.csv"),), needs_data=True),
    Bench("duplicates", "duplicates.py", ("--messages", _messages("attachment3_hotspot_messages.csv"), "--messages",
          _messages("attachment4_replies.csv"), "--cases", "10000", "--samples", "50"),
          ("--messages", _messages("attachment3_hotspot_messages.csv"), "--messages",
           _messages("attachment4_replies.csv")), needs_data=True),
    Bench("hotspots", "hotspots.py", (_messages("attachment3_hotspot_messages.csv"),),
          (_messages("attachment3_hotspot_messages.csv"), "--examples",
           _messages("attachment3_example_hotspot_groups.csv")), needs_data=True),
    Bench("knowledge", "knowledge.py", (_messages("attachment4_replies.csv"),),
          (_messages("attachment4_replies.csv"),), needs_data=True),
)  # fmt: skip


def command(bench: Bench, *, full: bool, write: bool) -> list[str]:
    args = list(bench.full if full else bench.quick)
    flag = bench.write_flag if write and full else bench.no_write_flag
    if flag:
        args.append(flag)
    return [sys.executable, str(BENCH / bench.script), *args]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="the sizes BENCHMARKS.md reports")
    parser.add_argument(
        "--write", action="store_true", help="with --full: rewrite the sections of BENCHMARKS.md"
    )
    parser.add_argument("--only", nargs="*", choices=[b.name for b in SUITE], help="run only these")
    args = parser.parse_args()
    failed: list[str] = []
    for bench in SUITE:
        if args.only and bench.name not in args.only:
            continue
        if bench.needs_data and not DATA.is_dir():
            print(f"== {bench.name}: skipped, {DATA} is absent (third-party data, not shipped)")
            continue
        cmd = command(bench, full=args.full, write=args.write)
        print(f"== {bench.name}: {' '.join(cmd[1:])}", flush=True)
        started = time.perf_counter()
        if subprocess.run(cmd, cwd=BENCH.parent, check=False).returncode != 0:
            failed.append(bench.name)
        print(f"== {bench.name}: {time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
