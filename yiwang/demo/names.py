"""Plausible, made-up Chinese place names for the demo's communities, villages and sites.

Names are built from our own syllable lists (no third-party name data): an urban community is two
auspicious or landscape syllables + 社区 (海润社区, 金沙社区), a village is an optional position word
+ a surname or landscape word + a settlement word + 村 (东王家庄村, 后石沟村). A :class:`NameBook`
never hands out the same name twice, so names are unique over the whole district.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def _syllables(text: str) -> tuple[str, ...]:
    """A space-separated list, written as one string so the lists stay readable."""
    return tuple(text.split())


# First and second syllables of urban community names (小区/社区 naming favours these).
URBAN_FIRST = _syllables(
    "海 珠 金 银 泰 安 福 嘉 华 新 兴 和 瑞 祥 丰 康 乐 宁 德 文 明 光 阳 山 湾 港 滨 林 翠 锦 "
    "景 泉 星 月 云 青 龙 凤 竹 松 桂 梅 兰 荷 柳 榆 槐 春 秋 振 东 西 南 北 昆 峨 晨 曦 汇 博 "
    "育 尚 远 鸿 卓"
)
URBAN_SECOND = _syllables(
    "苑 园 庭 湾 城 港 岸 悦 景 河 山 林 源 泉 台 峰 海 里 坊 馨 润 沙 岭 湖 溪 谷 阁 府 居 "
    "都 华 盛 安 和 丰 泰 岛 洲 堤 桥"
)

SURNAMES = _syllables(
    "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗 梁 宋 郑 谢 韩 唐 冯 于 董 萧 "
    "程 曹 袁 邓 许 傅 沈 曾 彭 吕 苏 卢 蒋 蔡 贾 丁 魏 薛 叶 阎 逄 臧 薄 隋 宫 纪 管 辛 丛 綦"
)
LANDSCAPE = _syllables("石 泥 柳 杨 桃 梨 枣 槐 松 河 沟 山 岭 泉 湾 沙 土 竹 红 白 黑 青 黄 马 牛 鹿 凤 龙")
POSITION = _syllables("东 西 南 北 前 后 上 下 大 小 中 新")
SETTLEMENT = _syllables("庄 河 沟 岭 屯 疃 崖 坡 台 埠 洼 集 店 头 口 峪 寨 湖 泊 园 楼 官庄 家庄 家河 家沟")


class NameBook:
    """Hands out unique names drawn with one ``random.Random`` (so a seed fixes every name)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make: Callable[[], str], suffix: str) -> str:
        for _ in range(200):
            stem = make()
            if stem + suffix not in self.used:
                self.used.add(stem + suffix)
                return stem + suffix
        # The lists give tens of thousands of stems; falling through means a pathological seed.
        n = 2
        stem = make()
        while f"{stem}{n}{suffix}" in self.used:
            n += 1
        self.used.add(f"{stem}{n}{suffix}")
        return f"{stem}{n}{suffix}"

    def urban_stem(self) -> str:
        first = self.rng.choice(URBAN_FIRST)
        second = self.rng.choice(URBAN_SECOND)
        while second == first:
            second = self.rng.choice(URBAN_SECOND)
        return first + second

    def village_stem(self) -> str:
        rng = self.rng
        core = rng.choice(SURNAMES) + "家" if rng.random() < 0.55 else rng.choice(LANDSCAPE)
        settlement = rng.choice(SETTLEMENT)
        if core.endswith("家") and settlement.startswith("家"):
            settlement = settlement[1:]
        # A position word for about a third of the villages, or when the stem would be one character.
        prefix = rng.choice(POSITION) if rng.random() < 0.35 or len(core + settlement) < 2 else ""
        return prefix + core + settlement

    def community(self) -> str:
        """An urban community name, e.g. 海润社区."""
        return self._unique(self.urban_stem, "社区")

    def village(self) -> str:
        """A village name, e.g. 东王家庄村."""
        return self._unique(self.village_stem, "村")

    def place(self, suffix: str) -> str:
        """A site name such as 金沙 + ``suffix`` (智造产业园, 派出所, 中学…), unique like the others."""
        return self._unique(self.urban_stem, suffix)
