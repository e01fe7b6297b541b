"""Duplicate detection at intake (疑似重复): open cases nearby, recent and about the same matter.

:func:`find_duplicates` narrows the open cases in SQL to a bounding box around the point (the
radius, ``YIWANG_DUPLICATE_RADIUS_M``, default 300 m) and the time window
(``YIWANG_DUPLICATE_WINDOW_DAYS``, default 30), takes at most ``YIWANG_DUPLICATE_MAX_SCAN`` (200)
of the most recent ones, and scores those few in Python with :mod:`yiwang.dispatch.similarity`:

``score = sqrt(place · text) · category · time``

* ``text`` — 0.7 × the IDF-weighted cosine of the problem words + 0.3 × the character-bigram cosine
  of the titles;
* ``place`` — with coordinates, the distance term ``1 − 0.3 · d / radius`` times the place-name
  term (1 same named place or none named, 0.15 two different names: neighbouring estates are
  different places); without coordinates, the place-name term alone (0.55 when unknown);
* ``category`` — 1 for the same category, 0.85 otherwise (operators often pick a neighbour);
* ``time`` — 1 within the window, down to 0.85 at a year apart (only matters without the SQL
  window, i.e. when scoring message files).

A candidate is a likely duplicate at ``score ≥ YIWANG_DUPLICATE_THRESHOLD`` (0.40, chosen by
two-fold cross-validation on the labelled pairs of bench/duplicates.py). The dispatcher decides;
nothing is merged here.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.cases.models import Case
from yiwang.core.expressions import Unindexed
from yiwang.dispatch.similarity import (
    PLACE_MATCH,
    PLACE_MISMATCH,
    PLACE_UNKNOWN,
    Comparison,
    Message,
    Profile,
    compare,
    profile,
    text_similarity,
)

EARTH_M_PER_DEG = 111_320.0
# How many characters of the new text count as its title when the caller passes one text.
TITLE_CHARS = 60


def radius_m() -> float:
    return float(getattr(settings, "YIWANG_DUPLICATE_RADIUS_M", 300))


def window_days() -> float:
    return float(getattr(settings, "YIWANG_DUPLICATE_WINDOW_DAYS", 30))


def threshold() -> float:
    return float(getattr(settings, "YIWANG_DUPLICATE_THRESHOLD", 0.40))


def min_score() -> float:
    """Below this a nearby case is not shown at all (unrelated matters in the same street)."""
    return float(getattr(settings, "YIWANG_DUPLICATE_MIN_SCORE", 0.25))


def max_scan() -> int:
    return int(getattr(settings, "YIWANG_DUPLICATE_MAX_SCAN", 200))


@dataclass(frozen=True)
class DuplicateCandidate:
    """An open case that may report the same matter as the new one."""

    case_id: int
    number: str
    title: str
    status: str
    score: float
    is_likely: bool
    distance_m: float | None
    days_apart: float
    same_category: bool
    reasons: tuple[str, ...]


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough below a few kilometres, and cheap."""
    x = math.radians(lng2 - lng1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return math.hypot(x, y) * 6_371_000.0


def split_text(text: str) -> tuple[str, str]:
    """One free text as (title, body): the first line, or its first ``TITLE_CHARS`` characters."""
    text = (text or "").strip()
    first, _sep, rest = text.partition("\n")
    if len(first) > TITLE_CHARS:
        return first[:TITLE_CHARS], text
    return first, rest


def time_factor(days: float, window: float) -> float:
    if days <= window:
        return 1.0
    return max(0.85, 1.0 - 0.15 * (days - window) / 365.0)


def combine(
    c: Comparison,
    *,
    distance: float | None = None,
    radius: float | None = None,
    same_category: bool | None = None,
    days: float = 0.0,
    window: float | None = None,
) -> float:
    """The duplicate score of a compared pair (formula in the module docstring)."""
    text = max(0.0, min(1.0, text_similarity(c.problem, c.title)))
    named = None if c.place is None else PLACE_MISMATCH + (PLACE_MATCH - PLACE_MISMATCH) * c.place
    if distance is not None:
        geo = 1.0 - 0.3 * min(1.0, distance / (radius or radius_m()))
        place = geo * (named if named is not None else 1.0)
    else:
        place = named if named is not None else PLACE_UNKNOWN
    score = math.sqrt(place * text)
    if same_category is False:
        score *= 0.85
    return score * time_factor(days, window if window is not None else window_days())


def score_messages(a: Message, b: Message, *, window: float | None = None) -> tuple[float, bool, Comparison]:
    """Score two plain messages (no coordinates): text, place names and time apart."""
    c = compare(a.profile, b.profile)
    days = abs((a.at - b.at).total_seconds()) / 86400 if a.at and b.at else 0.0
    score = combine(c, days=days, window=window)
    return score, score >= threshold(), c


def _reasons(
    c: Comparison, distance: float | None, days: float, same_category: bool | None
) -> tuple[str, ...]:
    out = []
    if distance is not None:
        out.append(_("相距 %(m)d 米") % {"m": round(distance)})
    out.append(ngettext("相隔 %(d)d 天", "相隔 %(d)d 天", round(days)) % {"d": round(days)})
    if same_category:
        out.append(_("同一分类"))
    if c.shared_places:
        out.append(_("同一地点：%(p)s") % {"p": "、".join(c.shared_places[:3])})
    elif c.place == 0:
        out.append(_("地点名称不同"))
    if c.shared_terms:
        out.append(_("共同关键词：%(w)s") % {"w": "、".join(c.shared_terms[:5])})
    return tuple(out)


def _nearby(
    *,
    lng: float | None,
    lat: float | None,
    at: dt.datetime,
    category_id: int | None,
    exclude_case_id: int | None,
    user: Any,
) -> Iterable[Case]:
    window = dt.timedelta(days=window_days())
    qs = Case.objects.open().filter(merged_into__isnull=True)
    if user is not None:
        qs = qs.visible_to(user)
    if exclude_case_id is not None:
        qs = qs.exclude(pk=exclude_case_id)
    if lng is not None and lat is not None:
        # Bounding box first (plain column comparisons an index on lat/lng can serve).
        dlat = radius_m() / EARTH_M_PER_DEG
        dlng = dlat / max(0.01, math.cos(math.radians(lat)))
        qs = qs.filter(lat__range=(lat - dlat, lat + dlat), lng__range=(lng - dlng, lng + dlng))
        # The box is what narrows: the window holds nearly every open case, and SQLite scanned it
        # by its created_at index (100 ms at 100 000 open cases instead of 0.2 ms).
        created: F | Unindexed = Unindexed("created_at")
    else:
        created = F("created_at")
        if category_id is not None:
            # No place: only the same category is worth a text comparison.
            qs = qs.filter(category_id=category_id)
    qs = qs.alias(created=created).filter(created__range=(at - window, at + window))
    fields = (
        "id",
        "number",
        "title",
        "description",
        "status",
        "lng",
        "lat",
        "category_id",
        "created_at",
        "updated_at",
    )
    return qs.order_by("-created_at").only(*fields)[: max_scan()]


def find_duplicates(
    *,
    text: str,
    category: Any = None,
    lng: float | None = None,
    lat: float | None = None,
    at: dt.datetime | None = None,
    exclude_case_id: int | None = None,
    user: Any = None,
    limit: int = 5,
) -> list[DuplicateCandidate]:
    """Open cases that may be the same matter as ``text`` (best first, at most ``limit``).

    ``text``: title and description (the first line, or the first 60 characters, counts as the
    title); ``category``: a Category or its pk; ``user``: when given, only cases visible to them;
    ``at``: the moment of the new case (default now; the window reaches both ways, for backfills).
    Without a location only cases of the same category are compared (or, with no category either,
    the most recent open cases of the window). Candidates scoring below ``YIWANG_DUPLICATE_MIN_SCORE``
    are left out; ``is_likely`` marks those at or above the threshold. Empty or meaningless text gives
    no candidates."""
    title, body = split_text(text)
    new = profile(title, body)
    if new.is_empty or limit <= 0:
        return []
    at = at or timezone.now()
    category_id = getattr(category, "pk", category)
    radius, window = radius_m(), window_days()
    out = []
    for case in _nearby(
        lng=lng, lat=lat, at=at, category_id=category_id, exclude_case_id=exclude_case_id, user=user
    ):
        distance = None
        if lng is not None and lat is not None and case.lng is not None and case.lat is not None:
            distance = distance_m(lng, lat, case.lng, case.lat)
            if distance > radius:
                continue
        c = compare(new, _case_profile(case))
        same = None if category_id is None else case.category_id == category_id
        days = abs((at - case.created_at).total_seconds()) / 86400
        score = combine(c, distance=distance, radius=radius, same_category=same, days=days, window=window)
        if score < min_score():
            continue
        out.append(
            DuplicateCandidate(
                case_id=case.pk,
                number=case.number,
                title=case.title,
                status=case.status,
                score=round(score, 4),
                is_likely=score >= threshold(),
                distance_m=None if distance is None else round(distance, 1),
                days_apart=round(days, 2),
                same_category=bool(same),
                reasons=_reasons(c, distance, days, same),
            )
        )
    out.sort(key=lambda d: (-d.score, d.distance_m if d.distance_m is not None else 0.0))
    return out[:limit]


_cache_lock = threading.Lock()
_profiles: OrderedDict[tuple[int, Any], Profile] = OrderedDict()


def _case_profile(case: Case) -> Profile:
    """A case's profile, kept per process (segmenting costs ~2 ms a case; the nearby open cases are
    the same few for many intakes). Keyed by (id, updated_at): an edited case is profiled again."""
    key = (case.pk, case.updated_at)
    with _cache_lock:
        found = _profiles.get(key)
        if found is not None:
            _profiles.move_to_end(key)
            return found
    made = profile(case.title, case.description)
    size = int(getattr(settings, "YIWANG_DUPLICATE_PROFILE_CACHE", 50_000))
    with _cache_lock:
        _profiles[key] = made
        while len(_profiles) > size:
            _profiles.popitem(last=False)
    return made


def clear_profile_cache() -> None:
    with _cache_lock:
        _profiles.clear()
