"""Rate limits on Open311 POSTs, per API key and per client address: fixed one-hour windows counted
in Django's cache.

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


DEFAULT_ADDRESS_LIMIT = 120  # POSTs an hour from one address, whatever the key


def address_limit() -> int:
    """``YIWANG_OPEN311_ADDRESS_RATE``: POSTs per hour from one client address (0: no limit)."""
    from django.conf import settings

    return int(getattr(settings, "YIWANG_OPEN311_ADDRESS_RATE", DEFAULT_ADDRESS_LIMIT))


def hit_address(address: str, *, now: float | None = None) -> Verdict:
    """Count one POST from ``address``; a stolen or shared key used from one place is slowed down,
    and so is a client trying keys (the count comes before the key is checked)."""
    limit = address_limit()
    if limit <= 0:
        return Verdict(True, 0, 0, 0)
    return hit(f"addr:{address or '-'}", limit, now=now)
