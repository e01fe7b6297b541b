"""Text similarity shared by duplicate detection, hotspots and the knowledge base.

A citizen message says *where* (a housing estate, a road, a school, a company …) and *what* (oil
fumes, noise, forced internships …). Two messages report the same matter only when both agree:
the same problem at another estate, or another problem at the same estate, is a different case. So a
message is reduced to a :class:`Profile` with two separate parts:

* ``places`` — named places found by their suffix (…小区, …路, …学院, …公司 …): the characters
  before the suffix back to a boundary (a district code such as ``a5区``, a road, 的/在/和 …), so
  ``a5区劳动东路魅力之城小区`` gives ``劳动东路`` and ``魅力之城小区``; plus ``districts``, the
  anonymised or real district codes (``a5区``, ``a7县``) that only ever rule a match out;
* ``terms`` — the remaining content words (jieba), weighted by jieba's general-Chinese IDF table so
  that 油烟 counts for far more than 反映 or 问题; words of the title count twice.

:func:`compare` gives the place agreement, the problem similarity (IDF-weighted cosine of the
terms), a character-bigram cosine of the titles, and one combined score in 0–1 (see its docstring).
Nothing here touches the database: duplicates, hotspots and the knowledge base build profiles from
cases or from CSV rows alike.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from yiwang.dispatch.text import normalize, words

# Words a message is long enough to say something, and short enough to profile fast: the start of a
# long letter says where and what; the rest is history and feelings.
MAX_CHARS = 400

# Place suffixes, longest first so 幼儿园 wins over 园.
_PLACE_SUFFIXES = sorted(
    {
        "小区",
        "花园",
        "家园",
        "公寓",
        "大厦",
        "广场",
        "新城",
        "新村",
        "名城",
        "山庄",
        "雅苑",
        "华府",
        "苑",
        "城",
        "国际",
        "村",
        "镇",
        "街道",
        "社区",
        "路",
        "大道",
        "巷",
        "大桥",
        "立交",
        "隧道",
        "学校",
        "学院",
        "大学",
        "中学",
        "小学",
        "幼儿园",
        "一中",
        "二中",
        "职校",
        "医院",
        "卫生院",
        "公司",
        "集团",
        "银行",
        "市场",
        "商场",
        "超市",
        "酒店",
        "宾馆",
        "公园",
        "车站",
        "高铁站",
        "汽车站",
        "地铁站",
        "项目",
        "工业园",
        "产业园",
        "园区",
        "楼盘",
        "片区",
        "水库",
        "工厂",
        "加油站",
        "停车场",
        "派出所",
    },
    key=len,
    reverse=True,
)
_AREA_SUFFIXES = frozenset({"镇", "街道", "社区", "村", "片区", "园区", "新城"})
# What cannot be part of a place name: a boundary before it (the name starts after the last one).
_BOUNDARY = re.compile(
    r"(?:[a-z]\d{0,2}[市区县州]|西地省|[省市区县]|路|街|镇|乡|村|的|在|和|与|及|于|是|了|对|把|被|向|从|到|给|"
    r"个|我|你|他|她|们|本|该|这|那|此|其|有|无|为|因|将|要|请|关于|反映|投诉|举报|咨询|建议|希望|位于|"
    r"附近|周边|旁边|门口|对面|一带|一楼|楼下|整个|所在|住在|居住|居民|影响|导致|组织|必须|去|找|开始|"
    r"据说|并且|严重|说|[\s,，。.!！?？:：;；、()（）\"“”'‘’《》<>\[\]【】-])"
)
_PLACE = re.compile("(" + "|".join(map(re.escape, _PLACE_SUFFIXES)) + ")")
_DISTRICT = re.compile(r"[a-z]\d{1,2}[区县市]")
_CODES = re.compile(r"(?<![a-z0-9])[a-z]\d{0,2}[市区县]|西地省")
_CODE = re.compile(r"[a-z]\d{0,2}")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Names that look like places but name no particular one (居民小区, 该小区, 农村, 全市 …).
_GENERIC = _wordset(
    """
    居民 住宅 老旧 周边 附近 城市 农村 全市 市区 城区 县城 城乡 老城 新城 主城 小区 学校 商品房 安置
    拆迁 还建 回迁 各个 一些 很多 多个 所有 整个 这些 那些 当地 本地 我们 他们 大型 新建 现在 以前
    目前 马路 道路 公路 街道 社区 公司 企业 单位 医院 银行 市场 中心 项目 工地 学生 家长 业主 政府
    部门 国家 全国 全省 本省 外地 外省 城管 物业 开发商 有限 有限公司 股份 服务 管理 建设 发展 公共
    人民 公交 公交车 文明 全国文明 线路 公交线 中心 县人民 市人民 中医 妇幼 第一 第二 第三 保健院
    配套 小区配套 私立 公立 民办 公办 培训 驾校 职业 技术 地铁 火车 汽车 高铁 派出 一个 那个 这个 某 某个
    """
)
# Letter furniture: words every message uses that say nothing about the problem.
_STOP = _wordset(
    """
    反映 问题 请求 请问 希望 相关 部门 解决 处理 关于 投诉 举报 咨询 建议 严重 情况 市民 居民 群众
    领导 政府 您好 你好 尊敬 谢谢 感谢 我们 我 你 您 他 她 他们 她们 它 这 那 这个 那个 这些 那些
    是 的 了 在 和 与 及 有 没有 也 都 就 还 又 而 但 但是 因为 所以 如果 可以 能 能否 是否 什么
    怎么 怎么办 为什么 如何 一个 一些 已经 现在 目前 至今 一直 多次 长期 本人 自己 大家 各位 问 要求
    给予 予以 重视 关注 帮助 支持 尽快 及时 立即 进行 出现 存在 造成 导致 影响 情况 事情 工作 相关
    时候 时间 年 月 日 号 上 下 中 里 内 外 后 前 不 没 很 太 非常 特别 十分 一下 一 二 三 说 看 想
    让 被 把 对 从 到 给 向 为 以 之 其 该 此 各 等 及其 并 或 或者 以及 还是 之后 以来 以后 之前
    xx 某 某某 市 区 县 省
    """
)
_BIGRAM_OK = re.compile(r"[\u4e00-\u9fa5a-z0-9]{2}")


@dataclass(frozen=True)
class Profile:
    """What a message is about: where (``places``, ``districts``) and what (``terms``)."""

    places: frozenset[str]
    # Whether the places come from the title (reliable) or were guessed from the body.
    titled: bool
    districts: frozenset[str]
    terms: dict[str, float]
    norm: float
    title_grams: dict[str, float] = field(compare=False)
    title_norm: float = 0.0

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.places


@lru_cache(maxsize=1)
def idf_table() -> dict[str, float]:
    """jieba's general-Chinese IDF table (270k words), read once."""
    import jieba

    path = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    table: dict[str, float] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, _, value = line.rstrip("\n").rpartition(" ")
            if word:
                table[word] = float(value)
    return table


@lru_cache(maxsize=1)
def _default_idf() -> float:
    # Unknown words are usually rare names or jargon: the median IDF treats them as informative.
    values = sorted(idf_table().values())
    return values[len(values) // 2]


def is_stop(word: str) -> bool:
    """Letter furniture (反映, 问题, 您好 …) and bare codes (a5, a市): no information."""
    return word in _STOP or bool(_CODE.fullmatch(word)) or bool(_DISTRICT.fullmatch(word))


def idf(word: str) -> float:
    if word.isdigit():
        return 1.0  # numbers (dates, amounts, house numbers) rarely identify a matter
    return idf_table().get(word, _default_idf())


def extract_places(text: str) -> set[str]:
    """Named places in normalised ``text`` (see the module docstring), e.g. ``{"魅力之城小区"}``."""
    found: set[str] = set()
    for match in _PLACE.finditer(text):
        start = match.start()
        head = text[max(0, start - 8) : start]
        # The name starts after the last boundary inside the 8 characters before the suffix.
        cut = 0
        for b in _BOUNDARY.finditer(head):
            cut = b.end()
        name = head[cut:]
        suffix = match.group(1)
        if name.isdigit() and suffix == "路":
            found.add(name + suffix)  # a bus line (32路): the same line is the same "place"
            continue
        if len(name) < 2 or name in _GENERIC or any(ch.isdigit() for ch in name):
            continue
        found.add(name + suffix)
    return found


def _core(place: str) -> str:
    for suffix in _PLACE_SUFFIXES:
        if place.endswith(suffix) and len(place) > len(suffix) + 1:
            return place[: -len(suffix)]
    return place


def _suffix(place: str) -> str:
    return place[len(_core(place)) :]


def is_area(place: str) -> bool:
    """A town, street or village: a match there says little (one street has hundreds of matters)."""
    return _suffix(place) in _AREA_SUFFIXES


def places_match(a: str, b: str) -> bool:
    """Same place: one name contains the other (万科魅力之城小区 ~ 魅力之城小区 ~ 魅力之城), or the
    same kind of place whose names contain one another (楚雅医院 is not 楚雅路)."""
    if a in b or b in a:
        return True
    ca, cb = _core(a), _core(b)
    if _suffix(a) != _suffix(b) or min(len(ca), len(cb)) < 2:
        return False
    # One character typed differently (中茂城 / 中贸城, 汉王陵 / 国王陵) is still the same place.
    return ca in cb or cb in ca or _dice(a, b) >= 0.5


def _dice(a: str, b: str) -> float:
    ga = {a[i : i + 2] for i in range(len(a) - 1)}
    gb = {b[i : i + 2] for i in range(len(b) - 1)}
    return 2 * len(ga & gb) / (len(ga) + len(gb)) if ga and gb else 0.0


def profile(title: str, body: str = "") -> Profile:
    """The :class:`Profile` of a message (raw text: normalised here)."""
    t = normalize(title)[:200].replace("·", "").replace("•", "")
    d = normalize(body)[:MAX_CHARS]
    text = f"{t}。{d}" if d else t
    # Title places first: the body names every place the writer ever went to.
    title_places = extract_places(t)
    places = title_places or extract_places(d[:200])
    districts = frozenset(_DISTRICT.findall(text))
    place_chars = "".join(places)
    terms: dict[str, float] = defaultdict(float)
    for weight, part in ((2.0, t), (1.0, d)):
        # Drop the anonymised codes (a市, a2区, a7县) so jieba does not glue them to the next word.
        for w in words(_CODES.sub("，", part)):
            if w in _STOP or w in place_chars or _CODE.fullmatch(w) or _DISTRICT.fullmatch(w):
                continue
            if len(w) == 1 and not ("\u4e00" <= w <= "\u9fa5"):
                continue
            terms[w] += weight
    weighted = {w: (1.0 + math.log(tf)) * idf(w) for w, tf in terms.items()}
    norm = math.sqrt(sum(v * v for v in weighted.values()))
    counted = Counter(t[i : i + 2] for i in range(len(t) - 1) if _BIGRAM_OK.fullmatch(t[i : i + 2]))
    grams = {gram: float(n) for gram, n in counted.items()}
    title_norm = math.sqrt(sum(v * v for v in grams.values()))
    return Profile(frozenset(places), bool(title_places), districts, weighted, norm, grams, title_norm)


@dataclass(frozen=True)
class Comparison:
    """How two profiles relate. ``place``: 1 same named place, 0 different, ``None`` unknown."""

    place: float | None
    problem: float
    title: float
    score: float
    shared_places: tuple[str, ...] = ()
    shared_terms: tuple[str, ...] = ()


def cosine(a: dict[str, float], na: float, b: dict[str, float], nb: float) -> float:
    if not na or not nb:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items()) / (na * nb)


def _place_agreement(a: Profile, b: Profile) -> tuple[float | None, tuple[str, ...]]:
    """1 same named place, 0.5 only the same town/street/village, 0 known to differ, None unknown."""
    if a.districts and b.districts and not (a.districts & b.districts):
        return 0.0, ()  # a5区 vs a3区: different places whatever else they share
    shared = {p for p in a.places for q in b.places if places_match(p, q)}
    specific = tuple(sorted(p for p in shared if not is_area(p)))
    if specific:
        return 1.0, specific
    a_spec = any(not is_area(p) for p in a.places)
    b_spec = any(not is_area(p) for p in b.places)
    # Different names are a known difference only when both titles name them.
    known = a.titled and b.titled
    if a_spec and b_spec and known:
        return 0.0, ()
    if shared:
        return 0.5, tuple(sorted(shared))
    if a.places and b.places and known:
        return 0.0, ()
    return None, ()


# Place term of the combined score: a known match, a known mismatch, or nothing to go on.
PLACE_MATCH, PLACE_UNKNOWN, PLACE_MISMATCH = 1.0, 0.55, 0.15


def text_similarity(problem: float, title: float) -> float:
    """0.7 × problem-word cosine + 0.3 × title-bigram cosine; halved when the two texts share no
    problem word at all (then the titles agree only on the place name)."""
    text = 0.7 * problem + 0.3 * title
    return text if problem > 0 else text / 2


def compare(a: Profile, b: Profile) -> Comparison:
    """Compare two messages.

    ``score = place_term ** 0.5 * text ** 0.5`` (text: :func:`text_similarity`) — the geometric mean of a
    place term (1 same named place, 0.55 unknown, 0.15 known to differ) and the text similarity
    (IDF-weighted word cosine of the problem words, blended with the character-bigram cosine of the
    titles, which catches what the word segmenter splits differently). A geometric mean because a
    duplicate needs both: the same problem somewhere else, or something else at the same place,
    must stay low.
    """
    place, shared_places = _place_agreement(a, b)
    problem = cosine(a.terms, a.norm, b.terms, b.norm)
    title = cosine(a.title_grams, a.title_norm, b.title_grams, b.title_norm)
    text = text_similarity(problem, title)
    term = PLACE_UNKNOWN if place is None else PLACE_MISMATCH + (PLACE_MATCH - PLACE_MISMATCH) * place
    score = math.sqrt(term * max(0.0, min(1.0, text)))
    shared_terms = sorted(set(a.terms) & set(b.terms), key=lambda w: -(a.terms[w] + b.terms[w]))[:5]
    return Comparison(place, problem, title, score, shared_places, tuple(shared_terms))


def top_terms(p: Profile, n: int = 8) -> list[str]:
    return [w for w, _v in sorted(p.terms.items(), key=lambda kv: -kv[1])[:n]]


def common_places(profiles: Iterable[Profile], n: int = 1) -> list[str]:
    """The place names most profiles share (for a group's label)."""
    counts: Counter[str] = Counter()
    for p in profiles:
        counts.update(p.places)
    return [name for name, _c in counts.most_common(n)]


# --- plain message records (CSV exports, the teddy2020 files, or cases) ---------------------------

REQUIRED_COLUMNS = ("留言编号", "留言主题", "留言时间", "留言详情")
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


class MessageFileError(ValueError):
    """A message file that cannot be read: the message names the file and what is wrong."""


@dataclass
class Message:
    """One citizen message as plain data: a CSV row or a case."""

    id: str
    title: str
    body: str = ""
    at: dt.datetime | None = None
    user: str = ""
    likes: int = 0
    dislikes: int = 0
    lng: float | None = None
    lat: float | None = None
    _profile: Profile | None = field(default=None, repr=False, compare=False)

    @property
    def profile(self) -> Profile:
        if self._profile is None:
            self._profile = profile(self.title, self.body)
        return self._profile


def parse_time(value: str) -> dt.datetime | None:
    value = (value or "").strip()
    for fmt in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def _int(value: str | None) -> int:
    try:
        return int(float((value or "0").strip() or 0))
    except ValueError:
        return 0


def read_messages_csv(path: str | Path, *, required: Iterable[str] = REQUIRED_COLUMNS) -> list[Message]:
    """Read a message CSV (UTF-8 with or without BOM, or GBK) with the teddy2020 column names.

    Raises :class:`MessageFileError` naming the file and the missing columns."""
    raw = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise MessageFileError(f"无法识别文件编码 / cannot decode: {path}")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in required if c not in columns]
    if missing:
        raise MessageFileError(f"{path}: 缺少列 {'、'.join(missing)} / missing columns: {', '.join(missing)}")
    reader.fieldnames = columns
    out = []
    for row in reader:
        mid = (row.get("留言编号") or "").strip()
        if not mid:
            continue
        out.append(
            Message(
                id=mid,
                title=row.get("留言主题") or "",
                body=row.get("留言详情") or "",
                at=parse_time(row.get("留言时间") or ""),
                user=(row.get("留言用户") or "").strip(),
                likes=_int(row.get("点赞数")),
                dislikes=_int(row.get("反对数")),
            )
        )
    return out
