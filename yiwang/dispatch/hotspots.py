"""Hotspots (热点问题): groups of messages about the same problem at the same place, or affecting the
same group of people, ranked by a heat index.

Grouping (:func:`group_messages`): every message gets a :class:`~yiwang.dispatch.similarity.Profile`.
Pairs are only compared when they share a named place or two of their five strongest problem words
(an inverted index, so 4,000 messages make a few tens of thousands of comparisons, not 9 million).
Two messages are linked when

* they name the same estate, school, company … (not a town or street: too broad) and their text
  similarity (0.7 × problem-word cosine + 0.3 × title-bigram cosine) is ≥ 0.09 — at one place,
  people describe one nuisance as 油烟, 噪音 or 夜宵摊;
* they name the same road or bus line and the text similarity is ≥ 0.30 (a road hosts many matters);
* otherwise, the combined duplicate score (similarity.compare) is ≥ 0.55,

and, when ``period_days`` is given, were written at most that many days apart. Groups are the
connected components of these links.

Heat index of a group (:func:`heat`), with M messages, U distinct reporters, S = Σ max(0, 点赞 − 反对)
over its messages, ``age`` the days from its last message to the reference moment (the newest
message of the input, or now for cases) and ``span`` the days from its first to its last message::

    heat = 2·ln(1 + U) + ln(1 + M) + ln(1 + S) + exp(−age / 90) + ln(1 + M / (1 + span / 30))

Distinct reporters weigh double (one person writing ten times is not ten people); support is
logarithmic (one viral message with 2,000 likes must not outrank a real cluster); the last two
terms favour recent and concentrated bursts. Only groups of at least two messages are hotspots.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from yiwang.dispatch.similarity import (
    Message,
    Profile,
    compare,
    cosine,
    is_area,
    text_similarity,
    top_terms,
)

STRONG_LINK = 0.09
ROAD_LINK = 0.30
TEXT_LINK = 0.55
_ROAD_SUFFIXES = ("路", "大道", "巷", "大桥", "立交", "隧道")


@dataclass(frozen=True)
class Hotspot:
    rank: int
    heat: float
    start: dt.datetime | None
    end: dt.datetime | None
    place_or_group: str
    description: str
    message_ids: tuple[str, ...]
    reporters: int
    support: int
    # Mean position of the members that have one (cases), for the map; None for CSV messages.
    center: tuple[float, float] | None = None


def _text(a: Profile, b: Profile) -> float:
    problem = cosine(a.terms, a.norm, b.terms, b.norm)
    title = cosine(a.title_grams, a.title_norm, b.title_grams, b.title_norm)
    return text_similarity(problem, title)


def _linked(a: Profile, b: Profile) -> bool:
    c = compare(a, b)
    if c.place == 1.0:
        roads_only = all(p.endswith(_ROAD_SUFFIXES) or p[:-1].isdigit() for p in c.shared_places)
        return _text(a, b) >= (ROAD_LINK if roads_only else STRONG_LINK)
    return c.score >= TEXT_LINK


def _keys(p: Profile) -> set[str]:
    keys = {"p:" + place for place in p.places if not is_area(place)}
    return keys


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _candidate_pairs(profiles: Sequence[Profile]) -> set[tuple[int, int]]:
    by_place: dict[str, list[int]] = defaultdict(list)
    by_term: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(profiles):
        for place in p.places:
            if not is_area(place):
                by_place[place].append(i)
        for term in top_terms(p, 5):
            by_term[term].append(i)
    pairs: set[tuple[int, int]] = set()
    # Places match by containment (万科魅力之城小区 ⊃ 魅力之城): block on every shared 4-char window.
    by_window: dict[str, set[int]] = defaultdict(set)
    for place, members in by_place.items():
        for k in range(max(1, len(place) - 3)):
            by_window[place[k : k + 4]].update(members)
    for members_set in by_window.values():
        members = sorted(members_set)
        if len(members) > 400:  # a generic window (e.g. 小区): no information, too many pairs
            continue
        pairs.update((a, b) for n, a in enumerate(members) for b in members[n + 1 :])
    shared: Counter[tuple[int, int]] = Counter()
    for members in by_term.values():
        if len(members) > 200:
            continue
        for n, a in enumerate(members):
            for b in members[n + 1 :]:
                shared[(a, b)] += 1
    pairs.update(pair for pair, count in shared.items() if count >= 2)
    return pairs


def group_messages(messages: Sequence[Message], *, period_days: float | None = None) -> list[list[int]]:
    """Indices of ``messages`` grouped (see the module docstring); singletons included."""
    profiles = [m.profile for m in messages]
    uf = _UnionFind(len(messages))
    for a, b in _candidate_pairs(profiles):
        if period_days is not None:
            ta, tb = messages[a].at, messages[b].at
            if ta and tb and abs((ta - tb).total_seconds()) > period_days * 86400:
                continue
        if uf.find(a) != uf.find(b) and _linked(profiles[a], profiles[b]):
            uf.union(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(messages)):
        groups[uf.find(i)].append(i)
    return list(groups.values())


def heat(members: Sequence[Message], reference: dt.datetime | None) -> float:
    """Heat index of a group (formula in the module docstring)."""
    reporters = len({m.user or m.id for m in members})
    support = sum(max(0, m.likes - m.dislikes) for m in members)
    times = sorted(m.at for m in members if m.at)
    span = (times[-1] - times[0]).total_seconds() / 86400 if times else 0.0
    age = max(0.0, (reference - times[-1]).total_seconds() / 86400) if times and reference else 0.0
    n = len(members)
    return (
        2 * math.log1p(reporters)
        + math.log1p(n)
        + math.log1p(support)
        + math.exp(-age / 90)
        + math.log1p(n / (1 + span / 30))
    )


def _label(members: Sequence[Message]) -> tuple[str, str]:
    places: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for m in members:
        places.update(p for p in m.profile.places if not is_area(p))
        terms.update(top_terms(m.profile, 5))
    if not places:
        for m in members:
            places.update(m.profile.places)
    place = places.most_common(1)[0][0] if places else ""
    # Prefer the longest name among those as frequent as the first (魅力之城小区 over 魅力之城).
    if places:
        top = places[place]
        place = max((p for p, c in places.items() if c == top), key=len)
    words = [w for w, _c in terms.most_common(6) if w not in place][:4]
    return place, "、".join(words)


def mine_hotspots(
    messages: Iterable[Message],
    *,
    top: int = 5,
    period_days: float | None = None,
    min_messages: int = 2,
    reference: dt.datetime | None = None,
) -> list[Hotspot]:
    """The ``top`` hottest groups of ``messages`` (plain records: CSV rows or cases)."""
    items = list(messages)
    if not items:
        return []
    if reference is None:
        times = [m.at for m in items if m.at]
        reference = max(times) if times else None
    ranked = []
    for group in group_messages(items, period_days=period_days):
        members = [items[i] for i in group]
        if len(members) < min_messages:
            continue
        ranked.append((heat(members, reference), members))
    ranked.sort(key=lambda hm: (-hm[0], hm[1][0].id))
    out = []
    for rank, (value, members) in enumerate(ranked[:top], start=1):
        times = sorted(m.at for m in members if m.at)
        place, description = _label(members)
        located = [(m.lng, m.lat) for m in members if m.lng is not None and m.lat is not None]
        center = (
            (sum(p[0] for p in located) / len(located), sum(p[1] for p in located) / len(located))
            if located
            else None
        )
        out.append(
            Hotspot(
                rank=rank,
                heat=round(value, 3),
                start=times[0] if times else None,
                end=times[-1] if times else None,
                place_or_group=place,
                description=description,
                message_ids=tuple(
                    m.id for m in sorted(members, key=lambda m: (m.at or dt.datetime.min, m.id))
                ),
                reporters=len({m.user or m.id for m in members}),
                support=sum(max(0, m.likes - m.dislikes) for m in members),
                center=center,
            )
        )
    return out


def hotspots_for_cases(
    queryset: Any,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    top: int = 10,
    period_days: float | None = None,
    limit: int = 20_000,
) -> list[Hotspot]:
    """Hotspots among cases (pass a scoped queryset: ``Case.objects.visible_to(user)``) registered in
    [start, end). Message ids are case numbers. At most ``limit`` most recent cases are read."""
    qs = queryset
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    rows = qs.order_by("-created_at").values_list(
        "number",
        "title",
        "description",
        "address",
        "created_at",
        "created_by_id",
        "reporter_phone_hash",
        "lng",
        "lat",
    )[:limit]
    messages = [
        Message(
            id=number,
            # The address names the place more reliably than the citizen's title.
            title=f"{address} {title}".strip(),
            body=description,
            at=created,
            user=phone_hash or (f"u{creator}" if creator else ""),
            lng=lng,
            lat=lat,
        )
        for number, title, description, address, created, creator, phone_hash, lng, lat in rows
    ]
    return mine_hotspots(messages, top=top, period_days=period_days, reference=end or _now())


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def as_json(h: Hotspot) -> dict[str, Any]:
    return {
        "rank": h.rank,
        "heat": h.heat,
        "start": h.start.isoformat(sep=" ") if h.start else None,
        "end": h.end.isoformat(sep=" ") if h.end else None,
        "place_or_group": h.place_or_group,
        "description": h.description,
        "message_ids": list(h.message_ids),
        "messages": len(h.message_ids),
        "reporters": h.reporters,
        "support": h.support,
        "center": list(h.center) if h.center else None,
    }


# --- background snapshots for the map -----------------------------------------------------------------
SNAPSHOT_DAYS = 30
SNAPSHOT_LIMIT = 5000  # newest cases read per area (the map layer's own limit)


def map_json(h: Hotspot) -> dict[str, Any]:
    """A hotspot as the map layer draws it (``None`` centre: no member has a position)."""
    return {
        "rank": h.rank,
        "label": h.place_or_group or h.description,
        "description": h.description,
        "count": len(h.message_ids),
        "heat": round(h.heat, 2),
        "x": round(h.center[0], 5) if h.center else None,
        "y": round(h.center[1], 5) if h.center else None,
    }


def refresh_snapshots(*, days: int = SNAPSHOT_DAYS, now: dt.datetime | None = None) -> int:
    """Mine the hotspots of every district and street over the last ``days`` days and store them
    (one row per area, replaced); returns how many areas were mined."""
    from yiwang.cases.models import Case
    from yiwang.dispatch.models import HotspotSnapshot
    from yiwang.grids.models import Division

    now = now or _now()
    areas = Division.objects.filter(level__in=["district", "street"]).only("pk", "level")
    for area in areas:
        cases = Case.objects.filter(**{"district" if area.level == "district" else "street": area})
        spots = hotspots_for_cases(
            cases,
            start=now - dt.timedelta(days=days),
            end=now,
            top=20,
            period_days=days,
            limit=SNAPSHOT_LIMIT,
        )
        HotspotSnapshot.objects.update_or_create(
            area=area,
            days=days,
            defaults={
                "hotspots": [map_json(h) for h in spots if h.center is not None],
                "cases_read": min(
                    SNAPSHOT_LIMIT, cases.filter(created_at__gte=now - dt.timedelta(days=days)).count()
                ),
                "computed_at": now,
            },
        )
    return len(areas)


@dataclass(frozen=True)
class Snapshot:
    hotspots: list[dict[str, Any]]
    computed_at: dt.datetime


def snapshot_for(user: Any, days: int, top: int = 20) -> Snapshot | None:
    """The stored hotspots ``user`` may see, when they are exactly theirs: a user who sees every
    case of whole districts or streets (dispatchers, leaders, administrators — confidential ones
    included, as the miner read them). None otherwise, or before the first run: mine live."""
    from yiwang.cases.models.case import CONFIDENTIAL_AREA_ROLES
    from yiwang.core.scoping import scope_of
    from yiwang.dispatch.models import HotspotSnapshot
    from yiwang.grids.models import Division

    if days != SNAPSHOT_DAYS:
        return None
    scope = scope_of(user)
    if scope.everything:
        areas = set(Division.objects.filter(level="district").values_list("pk", flat=True))
    elif (
        scope.roles
        and scope.roles <= set(CONFIDENTIAL_AREA_ROLES)
        and not (scope.department_ids or scope.community_ids or scope.grid_ids)
    ):
        inside = set(
            Division.objects.filter(
                street_id__in=scope.street_ids, district_id__in=scope.district_ids
            ).values_list("street_id", flat=True)
        )
        areas = set(scope.district_ids) | (set(scope.street_ids) - inside)
    else:
        return None
    rows = list(HotspotSnapshot.objects.filter(area_id__in=areas, days=days))
    if not areas or len(rows) < len(areas):
        return None
    spots = sorted((h for row in rows for h in row.hotspots), key=lambda h: -h["heat"])[:top]
    return Snapshot(
        [{**h, "rank": rank} for rank, h in enumerate(spots, start=1)], min(r.computed_at for r in rows)
    )
