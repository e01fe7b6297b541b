"""Hotspot mining on plain records, on cases, and through ``yiwang hotspots``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yiwang.dispatch.hotspots import heat, mine_hotspots
from yiwang.dispatch.similarity import Message

T0 = dt.datetime(2025, 6, 1, 9, 0)

# Look-alike of the worked examples: one estate's shops (fumes / noise / night stalls, in different
# words) and one college's forced internships (factory work / placement / 实训), plus distractors.
ESTATE = [
    ("E1", "u1", "A3区青石路翠湖花园小区临街餐馆油烟扰民", "翠湖花园小区临街餐馆油烟直排，家里全是油烟味。"),
    (
        "E2",
        "u2",
        "翠湖花园小区底层烧烤夜宵摊噪音扰民",
        "翠湖花园小区楼下夜宵摊凌晨还在营业，烧烤油烟和吵闹声让人无法休息。",
    ),
    (
        "E3",
        "u3",
        "A3区翠湖花园小区一楼商铺开饭店没有烟道",
        "翠湖花园小区一楼商铺违规开饭店，没有专用烟道，油烟扰民。",
    ),
    (
        "E4",
        "u4",
        "翠湖花园小区夜宵店深夜经营吵得睡不着",
        "翠湖花园小区临街夜宵店每天营业到凌晨，噪音和油烟严重影响居民。",
    ),
    ("E5", "u4", "再次反映翠湖花园小区楼下餐馆油烟问题", "翠湖花园小区楼下餐馆油烟扰民，反映多次没有结果。"),
]
COLLEGE = [
    ("C1", "s1", "A市远航职业学院强制学生实习", "远航职业学院要求学生必须去外省工厂实习，不去不发毕业证。"),
    (
        "C2",
        "s2",
        "远航职业学院寒假组织学生进厂打工",
        "远航职业学院寒假组织学生去电子厂流水线打工，还要上夜班。",
    ),
    (
        "C3",
        "s3",
        "A市远航职业学院变相强制学生顶岗实习",
        "远航职业学院以实训为名安排学生进厂顶岗实习，工资很低。",
    ),
]
OTHERS = [
    ("O1", "x1", "A5区松林路路灯不亮", "松林路一段路灯坏了一个月，晚上出行不安全。"),
    ("O2", "x2", "咨询新生儿医保办理", "请问新生儿医保在哪里办理，需要什么材料？"),
    ("O3", "x3", "A2区蓝湾国际小区电梯经常故障", "蓝湾国际小区电梯经常故障，困人好几次。"),
    ("O4", "x4", "A2区碧水家园小区门口乱停车", "碧水家园小区门口长期乱停车，消防通道被堵。"),
]


def messages(likes: dict[str, int] | None = None) -> list[Message]:
    out = []
    for n, (mid, user, title, body) in enumerate(ESTATE + COLLEGE + OTHERS):
        out.append(
            Message(
                id=mid,
                title=title,
                body=body,
                at=T0 + dt.timedelta(days=n * 3),
                user=user,
                likes=(likes or {}).get(mid, 0),
            )
        )
    return out


def test_look_alike_worked_examples_each_come_out_as_one_group() -> None:
    hotspots = mine_hotspots(messages(), top=5)
    groups = [set(h.message_ids) for h in hotspots]
    assert {m[0] for m in ESTATE} in groups
    assert {m[0] for m in COLLEGE} in groups
    assert all(not ({"O1", "O2", "O3", "O4"} & g) for g in groups)


def test_hotspots_are_ranked_by_heat_and_described() -> None:
    hotspots = mine_hotspots(messages(), top=5)
    assert [h.rank for h in hotspots] == list(range(1, len(hotspots) + 1))
    assert [h.heat for h in hotspots] == sorted((h.heat for h in hotspots), reverse=True)
    estate = next(h for h in hotspots if "E1" in h.message_ids)
    assert "翠湖花园" in estate.place_or_group
    assert estate.reporters == 4  # u4 wrote twice
    assert estate.start == T0
    assert estate.end == T0 + dt.timedelta(days=12)


def test_support_votes_raise_a_group() -> None:
    plain = mine_hotspots(messages(), top=2)
    assert "E1" in plain[0].message_ids
    boosted = mine_hotspots(messages(likes={"C1": 500, "C2": 300}), top=2)
    assert "C1" in boosted[0].message_ids


def test_heat_counts_distinct_reporters_more_than_repeats() -> None:
    one_person = [Message(id=str(i), title="t", at=T0, user="same") for i in range(4)]
    four_people = [Message(id=str(i), title="t", at=T0, user=f"p{i}") for i in range(4)]
    assert heat(four_people, T0) > heat(one_person, T0)


def test_period_limits_which_messages_are_linked() -> None:
    spread = messages()
    for n, m in enumerate(spread):
        m.at = T0 + dt.timedelta(days=100 * n)
    groups = [set(h.message_ids) for h in mine_hotspots(spread, top=10, period_days=30)]
    assert {m[0] for m in ESTATE} not in groups


def test_no_messages_no_hotspots() -> None:
    assert mine_hotspots([], top=5) == []


# --- yiwang hotspots --from-csv -----------------------------------------------------------------

COLUMNS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "反对数", "点赞数"]


def write_csv(path: Path, encoding: str, columns: list[str] = COLUMNS) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for n, (mid, user, title, body) in enumerate(ESTATE + COLLEGE + OTHERS):
        row = {
            "留言编号": mid,
            "留言用户": user,
            "留言主题": title,
            "留言时间": (T0 + dt.timedelta(days=n)).strftime("%Y/%m/%d %H:%M:%S"),
            "留言详情": body,
            "反对数": "0",
            "点赞数": str(n),
        }
        writer.writerow([row[c] for c in columns])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_cli_reads_utf8_bom_and_gbk_files(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "m.csv", encoding)
    out = io.StringIO()
    call_command("hotspots", "--from-csv", str(path), "--top", "3", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert 1 <= len(rows) <= 3
    assert set(rows[0]) >= {"rank", "heat", "start", "end", "place_or_group", "description", "message_ids"}
    assert {m[0] for m in ESTATE} in [set(r["message_ids"]) for r in rows]


def test_cli_names_missing_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", "utf-8", [c for c in COLUMNS if c != "留言详情"])
    with pytest.raises(CommandError, match="留言详情"):
        call_command("hotspots", "--from-csv", str(path), "--json", stdout=io.StringIO())
