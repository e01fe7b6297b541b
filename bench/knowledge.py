"""Knowledge-base benchmark: does a message's own record come back for its title?

    python bench/knowledge.py /work/shared/data/teddy2020/attachment4_replies.csv [--write]

Each message's 留言主题 is the question; the knowledge base is every message (主题 + 详情) with its
答复意见. Reported: how often the message's own record ranks first and in the top 3, for
:class:`yiwang.dispatch.knowledge.KnowledgeIndex` and, in the same run, a plain TF-IDF cosine
(character 1–2-grams of 主题 + 详情 + 答复) as the reference. The data file is read from the given
path only (third-party, no licence: never copied into the project).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("replies", help="attachment4_replies.csv")
    parser.add_argument(
        "--write", action="store_true", help="write the Knowledge base section of BENCHMARKS.md"
    )
    args = parser.parse_args()

    import csv
    import os

    os.environ.setdefault("YIWANG_MODE", "test")  # no database is touched; settings must load
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.config.settings")
    import django

    django.setup()
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bench._common import machine, today, write_section
    from yiwang.dispatch.knowledge import KnowledgeEntry, KnowledgeIndex

    with open(args.replies, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("留言编号")]
    entries = [
        KnowledgeEntry(key=r["留言编号"], title=r["留言主题"], question=r["留言详情"], answer=r["答复意见"])
        for r in rows
    ]
    t = time.perf_counter()
    index = KnowledgeIndex(entries)
    build_s = time.perf_counter() - t
    top1 = top3 = 0
    times = []
    for e in entries:
        t = time.perf_counter()
        hits = index.search(e.title, limit=3)
        times.append(time.perf_counter() - t)
        keys = [h.key for h, _s in hits]
        top1 += bool(keys) and keys[0] == e.key
        top3 += e.key in keys

    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    kb = vec.fit_transform([r["留言主题"] + r["留言详情"] + r["答复意见"] for r in rows])
    q = vec.transform([r["留言主题"] for r in rows])
    b1 = b3 = 0
    for i in range(len(rows)):
        scores = (kb @ q[i].T).toarray().ravel()
        best = np.argsort(-scores, kind="stable")[:3]
        b1 += best[0] == i
        b3 += i in best
    n = len(rows)
    times.sort()
    lines = [
        f"`python bench/knowledge.py attachment4_replies.csv` — {n} messages with replies (teddy2020 附件4,",
        "read from its path, not in the repository). Question = 留言主题; knowledge base = all messages",
        "(主题 + 详情) with their 答复意见; success = the message's own record ranks first / in the top 3.",
        "",
        "| method | top-1 | top-3 |",
        "|---|---|---|",
        f"| KnowledgeIndex (title char 2–3-grams + question words + answer words) | {top1 / n:.1%} | {top3 / n:.1%} |",
        f"| plain TF-IDF cosine (char 1–2-grams of 主题+详情+答复) | {b1 / n:.1%} | {b3 / n:.1%} |",
        "",
        f"- Index build {build_s:.1f} s; search median {times[n // 2] * 1000:.1f} ms, "
        f"p95 {times[int(n * 0.95)] * 1000:.1f} ms over {n} entries.",
        f"- Machine: {machine()}; {today()}.",
    ]
    print("\n".join(lines))
    if args.write:
        write_section("Knowledge base", "\n".join(lines))


if __name__ == "__main__":
    main()
