"""``yiwang duplicates score``: the evaluation interface on message files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

COLUMNS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情"]
ROWS = [
    (
        "101",
        "u1",
        "A3区翠湖花园小区楼下餐馆油烟扰民",
        "2025/6/1 9:00:00",
        "翠湖花园小区临街餐馆油烟直排，家里全是油烟味。",
    ),
    (
        "102",
        "u2",
        "翠湖花园小区底层餐馆油烟直排扰民",
        "2025/6/3 20:15:00",
        "翠湖花园小区楼下餐馆油烟直排，窗户都不敢开。",
    ),
    (
        "103",
        "u3",
        "A3区翠湖花园小区电梯经常故障",
        "2025/6/4 8:00:00",
        "翠湖花园小区3栋电梯经常故障，困人好几次。",
    ),
    (
        "104",
        "u4",
        "A5区银杉雅苑小区楼下餐馆油烟扰民",
        "2025/6/5 9:00:00",
        "银杉雅苑小区临街餐馆油烟直排，家里全是油烟味。",
    ),
]


def write(path: Path, rows: list[tuple[str, ...]], columns: list[str], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def score(*args: str) -> list[dict]:
    out = io.StringIO()
    call_command("duplicates", "score", *args, "--json", stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_score_decides_same_problem_same_place_only(tmp_path: Path, encoding: str) -> None:
    messages = write(tmp_path / "m.csv", ROWS, COLUMNS, encoding)
    pairs = write(tmp_path / "p.csv", [("101", "102"), ("101", "103"), ("101", "104")], ["id_a", "id_b"])
    rows = score("--messages", str(messages), "--pairs", str(pairs))
    assert [(r["id_a"], r["id_b"], r["duplicate"]) for r in rows] == [
        ("101", "102", True),
        ("101", "103", False),  # same estate, another problem
        ("101", "104", False),  # same problem, another estate
    ]
    assert all(0 <= r["score"] <= 1 for r in rows)


def test_messages_can_come_from_several_files(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", ROWS[:1], COLUMNS)
    second = write(tmp_path / "b.csv", ROWS[1:2], COLUMNS, "gbk")
    pairs = write(tmp_path / "p.csv", [("101", "102")], ["id_a", "id_b"])
    assert score("--messages", str(first), "--messages", str(second), "--pairs", str(pairs))[0]["duplicate"]


def test_unknown_ids_are_named(tmp_path: Path) -> None:
    messages = write(tmp_path / "m.csv", ROWS, COLUMNS)
    pairs = write(tmp_path / "p.csv", [("101", "999"), ("888", "102")], ["id_a", "id_b"])
    with pytest.raises(CommandError, match="888, 999"):
        score("--messages", str(messages), "--pairs", str(pairs))


def test_missing_columns_are_named(tmp_path: Path) -> None:
    messages = write(tmp_path / "m.csv", [r[:3] for r in ROWS], COLUMNS[:3])
    pairs = write(tmp_path / "p.csv", [("101", "102")], ["id_a", "id_b"])
    with pytest.raises(CommandError, match="留言时间"):
        score("--messages", str(messages), "--pairs", str(pairs))
    bad_pairs = write(tmp_path / "q.csv", [("101", "102")], ["a", "b"])
    full = write(tmp_path / "n.csv", ROWS, COLUMNS)
    with pytest.raises(CommandError, match="id_a"):
        score("--messages", str(full), "--pairs", str(bad_pairs))
