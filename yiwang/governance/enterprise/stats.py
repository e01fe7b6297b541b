"""Statistics of 政企直通车 for the finance bureau: demands, amounts requested vs granted, grant rate,
time to first response (working hours on the district's calendar), by institution and by month.

Definitions (the tests compute them by hand):

* *demands*: every demand filed in the period (by ``filed_at``), withdrawn ones excluded;
* *requested*: the sum of ``amount_requested`` of the financing demands;
* *concluded*: financing demands concluded or called back; *granted*: the sum of their
  ``amount_granted``; *grant rate*: the share of concluded financing demands that got more than 0;
  *amount rate*: granted ÷ requested over the concluded financing demands;
* *first response*: working hours from routing to the first response (acceptance, the routed
  department's first visit, or the conclusion), median and mean over the demands that had one;
* *late*: demands whose first response came after its deadline, or has not come and is overdue.

Rows are read through ``Demand.objects.visible_to(user)``: a user's figures never include a
demand they could not open. The channel's volume (thousands of demands a year) is computed in
Python from one query; it needs no rollup table.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from yiwang.core.calendar import TimeUnit, get_calendar
from yiwang.governance.enterprise.models import Demand, DemandKind, DemandStatus

CONCLUDED = (DemandStatus.CONCLUDED, DemandStatus.CLOSED)


@dataclass
class StatsRow:
    label: str
    demands: int = 0
    financing: int = 0
    requested: Decimal = Decimal("0")
    concluded: int = 0
    concluded_requested: Decimal = Decimal("0")
    granted: Decimal = Decimal("0")
    granted_count: int = 0
    late: int = 0
    response_hours: list[float] = field(default_factory=list)

    @property
    def grant_rate(self) -> float | None:
        return self.granted_count / self.concluded if self.concluded else None

    @property
    def amount_rate(self) -> float | None:
        return float(self.granted / self.concluded_requested) if self.concluded_requested else None

    @property
    def responded(self) -> int:
        return len(self.response_hours)

    @property
    def median_response_hours(self) -> float | None:
        return statistics.median(self.response_hours) if self.response_hours else None

    @property
    def mean_response_hours(self) -> float | None:
        return statistics.fmean(self.response_hours) if self.response_hours else None

    def as_dict(self) -> dict[str, Any]:
        def rounded(x: float | None, digits: int) -> float | None:
            return None if x is None else round(x, digits)

        return {
            "label": self.label,
            "demands": self.demands,
            "financing": self.financing,
            "requested": str(self.requested),
            "concluded": self.concluded,
            "granted": str(self.granted),
            "granted_count": self.granted_count,
            "grant_rate": rounded(self.grant_rate, 4),
            "amount_rate": rounded(self.amount_rate, 4),
            "responded": self.responded,
            "median_response_hours": rounded(self.median_response_hours, 2),
            "mean_response_hours": rounded(self.mean_response_hours, 2),
            "late": self.late,
        }


@dataclass
class DemandStats:
    total: StatsRow
    by_institution: list[StatsRow]
    by_month: list[StatsRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total.as_dict(),
            "by_institution": [r.as_dict() for r in self.by_institution],
            "by_month": [r.as_dict() for r in self.by_month],
        }


_FIELDS = (
    "kind",
    "status",
    "filed_at",
    "routed_at",
    "response_due_at",
    "first_response_at",
    "amount_requested",
    "amount_granted",
    "department__name",
)


def _add(row: StatsRow, d: dict[str, Any], now: dt.datetime) -> None:
    row.demands += 1
    financing = d["kind"] == DemandKind.FINANCING
    if financing:
        row.financing += 1
        row.requested += d["amount_requested"] or 0
        if d["status"] in CONCLUDED:
            row.concluded += 1
            row.concluded_requested += d["amount_requested"] or 0
            granted = d["amount_granted"] or Decimal("0")
            row.granted += granted
            row.granted_count += 1 if granted > 0 else 0
    if d["routed_at"] is not None and d["first_response_at"] is not None:
        row.response_hours.append(
            get_calendar().elapsed(d["routed_at"], d["first_response_at"], TimeUnit.WORK_HOURS)
        )
    due = d["response_due_at"]
    if due is not None and (d["first_response_at"] or now) > due:
        row.late += 1


def demand_stats(
    user: Any,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    now: dt.datetime | None = None,
) -> DemandStats:
    """The figures of the demands ``user`` may see, filed from ``start`` to ``end`` (inclusive)."""
    qs = Demand.objects.visible_to(user).exclude(status=DemandStatus.WITHDRAWN)
    if start is not None:
        qs = qs.filter(filed_at__date__gte=start)
    if end is not None:
        qs = qs.filter(filed_at__date__lte=end)
    return summarise(qs.order_by("filed_at").values(*_FIELDS), now=now)


def summarise(rows: Iterable[dict[str, Any]], *, now: dt.datetime | None = None) -> DemandStats:
    now = now or timezone.now()
    total = StatsRow("合计")
    by_institution: dict[str, StatsRow] = {}
    by_month: dict[str, StatsRow] = {}
    for d in rows:
        _add(total, d, now)
        name = d["department__name"] or "未派发"
        _add(by_institution.setdefault(name, StatsRow(name)), d, now)
        month = timezone.localtime(d["filed_at"]).strftime("%Y-%m")
        _add(by_month.setdefault(month, StatsRow(month)), d, now)
    return DemandStats(
        total=total,
        by_institution=sorted(by_institution.values(), key=lambda r: (-r.demands, r.label)),
        by_month=[by_month[k] for k in sorted(by_month)],
    )
