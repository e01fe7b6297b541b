"""Per-key rate limit on Open311 POSTs: a fixed one-hour window counted in Django's cache.

With the default in-process cache each app process counts alone; a scale-out deployment points
``CACHES`` at Redis so that every process shares the counters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window ends


def hit(prefix: str, limit: int, *, now: float | None = None) -> Verdict:
    """Count one request of the key ``prefix`` and say whether it is within ``limit`` per hour."""
    moment = time.time() if now is None else now
    window = int(moment // WINDOW_SECONDS)
    name = f"open311:rate:{prefix}:{window}"
    cache.add(name, 0, timeout=WINDOW_SECONDS + 60)
    try:
        count = cache.incr(name)
    except ValueError:  # the entry expired between add and incr
        cache.set(name, 1, timeout=WINDOW_SECONDS + 60)
        count = 1
    retry_after = int((window + 1) * WINDOW_SECONDS - moment) + 1
    return Verdict(count <= limit, count, limit, retry_after)
