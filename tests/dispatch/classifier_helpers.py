"""Synthetic Chinese citizen messages for the classifier and routing tests (written here, not taken
from any real data set)."""

from __future__ import annotations

import random

TOPICS = {
    "garbage": ["垃圾", "清运", "垃圾桶", "异味", "保洁", "堆放", "苍蝇", "环卫"],
    "water": ["停水", "水管", "漏水", "水压", "自来水", "爆裂", "水表", "供水"],
    "noise": ["噪音", "施工", "夜间", "扰民", "装修", "广场舞", "喇叭", "睡不着"],
}
PLACES = ["小区门口", "三号楼下", "菜市场旁边", "学校附近", "幸福路", "长江路", "村委会对面", "公交站"]
FILLERS = ["已经好几天了", "反映多次没人管", "希望尽快处理", "居民意见很大", "请相关部门看一下", "影响出行"]


def message(topic: str, rng: random.Random) -> str:
    words = rng.sample(TOPICS[topic], 3)
    return f"{rng.choice(PLACES)}{words[0]}{words[1]}问题，{words[2]}，{rng.choice(FILLERS)}。"


def corpus(labels: dict[str, str], per_class: int = 40, seed: int = 7) -> tuple[list[str], list[str]]:
    """``labels`` maps a topic (garbage, water, noise) to the label to give its messages."""
    rng = random.Random(seed)
    texts, out = [], []
    for topic, label in labels.items():
        for _ in range(per_class):
            texts.append(message(topic, rng))
            out.append(label)
    return texts, out
