"""Hotspot-mining benchmark on the teddy2020 附件3 messages.

    python bench/hotspots.py .../attachment3_hotspot_messages.csv \\
        --examples .../attachment3_example_hotspot_groups.csv [--top 5] [--write]

Runs ``mine_hotspots`` over every message (as ``yiwang hotspots --from-csv`` does), reports the
wall and CPU time (target ≤ 30 s for 4,326 messages), checks that each worked example of the
problem statement (示例问题 1 and 2) comes out as ONE group holding all its messages, and summarises
the top groups by size, reporters, support and dates (no message text or place name is written:
the data are third-party).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("messages", help="attachment3_hotspot_messages.csv")
    parser.add_argument("--examples", help="attachment3_example_hotspot_groups.csv")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write the Hotspots section of BENCHMARKS.md")
    args = parser.parse_args()
    os.environ.setdefault("YIWANG_MODE", "test")  # no database is touched; settings must load
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.config.settings")
    import django

    django.setup()
    from bench._common import machine, today, write_section
    from yiwang.dispatch.hotspots import group_messages, mine_hotspots
    from yiwang.dispatch.similarity import idf_table, read_messages_csv
    from yiwang.dispatch.text import words

    idf_table()
    words("预热")  # jieba's dictionary load is start-up, not mining
    wall, cpu = time.perf_counter(), time.process_time()
    messages = read_messages_csv(args.messages)
    hotspots = mine_hotspots(messages, top=args.top)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    lines = [
        f"`python bench/hotspots.py attachment3_hotspot_messages.csv --examples attachment3_example_hotspot_groups.csv`"
        f" — teddy2020 附件3 ({len(messages):,} messages, read from its path, not in the repository).",
        "",
        f"- Mining all messages (read CSV, profile, group, rank): **{wall:.1f} s wall, {cpu:.1f} s CPU** "
        "(target ≤ 30 s; the machine is shared, so wall time includes waiting for the CPU).",
    ]
    if args.examples:
        examples: dict[str, set[str]] = defaultdict(set)
        with open(args.examples, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                examples[row["示例问题ID"]].add(row["留言编号"])
        groups = group_messages(messages)
        where = {messages[i].id: n for n, group in enumerate(groups) for i in group}
        for key, ids in sorted(examples.items()):
            found = {where[i] for i in ids if i in where}
            size = len(groups[next(iter(found))]) if len(found) == 1 else 0
            verdict = (
                f"ONE group (of {size} messages)" if len(found) == 1 else f"split over {len(found)} groups"
            )
            lines.append(f"- Worked example {key} ({len(ids)} messages): {verdict}.")
    lines += [
        "",
        "| rank | heat | messages | reporters | support (Σ 点赞−反对 ≥ 0) | first | last |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {h.rank} | {h.heat:.2f} | {len(h.message_ids)} | {h.reporters} | {h.support} | "
            f"{h.start:%Y-%m-%d} | {h.end:%Y-%m-%d} |"
            for h in hotspots
            if h.start and h.end
        ),
        "",
        f"- Machine: {machine()}; {today()}.",
    ]
    print("\n".join(lines))
    if args.write:
        write_section("Hotspots", "\n".join(lines))


if __name__ == "__main__":
    main()
