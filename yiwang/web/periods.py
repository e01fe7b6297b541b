"""The period selector of the dashboard and the map: this month, last month, this year or a custom
range of days (both ends included, Asia/Shanghai days as in the rollups)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

KINDS = ("month", "last_month", "year", "custom")
MAX_DAYS = 3 * 366  # a custom range longer than this is refused (rollup reads stay bounded)


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date
    error: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def step(self) -> str:
        """The trend's step: days up to two months, weeks beyond."""
        return "day" if self.days <= 62 else "week"

    def query(self) -> str:
        """The query string that selects this period again (for the export link)."""
        if self.kind == "custom":
            return f"period=custom&start={self.start.isoformat()}&end={self.end.isoformat()}"
        return f"period={self.kind}"


def labels() -> list[tuple[str, str]]:
    return [("month", _("本月")), ("last_month", _("上月")), ("year", _("本年")), ("custom", _("自定义"))]


def _preset(kind: str, today: dt.date) -> Period:
    if kind == "last_month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return Period(kind, end.replace(day=1), end)
    if kind == "year":
        return Period(kind, today.replace(month=1, day=1), today)
    return Period("month", today.replace(day=1), today)


def parse_period(params: Mapping[str, str], today: dt.date | None = None) -> Period:
    """The period the request asks for; on bad input this month with ``error`` set (Chinese / English)."""
    today = today or timezone.localdate()
    kind = params.get("period") or "month"
    if kind != "custom":
        if kind not in KINDS:
            fallback = _preset("month", today)
            return Period("month", fallback.start, fallback.end, _("未知的统计周期 / unknown period"))
        return _preset(kind, today)
    try:
        start = dt.date.fromisoformat(params.get("start", ""))
        end = dt.date.fromisoformat(params.get("end", ""))
    except ValueError:
        fallback = _preset("month", today)
        return Period(
            "month", fallback.start, fallback.end, _("日期格式应为 YYYY-MM-DD / dates must be YYYY-MM-DD")
        )
    if end < start:
        fallback = _preset("month", today)
        return Period(
            "month", fallback.start, fallback.end, _("结束日期早于开始日期 / the end is before the start")
        )
    if (end - start).days + 1 > MAX_DAYS:
        fallback = _preset("month", today)
        return Period(
            "month",
            fallback.start,
            fallback.end,
            _("自定义区间不能超过三年 / a custom range is at most three years"),
        )
    return Period("custom", start, end)
