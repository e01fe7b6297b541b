"""Statistics of mediation for any period: disputes, success rate, average days to outcome.

Definitions (also shown on the index page):

* **disputes** — disputes applied for in the period (``applied_at`` in ``[start, end)``);
* **concluded** — those of them whose mediation has ended, with an agreement or a failure (调结);
* **success rate** — agreements / concluded (None when nothing is concluded);
* **average days** — mean of ``outcome_at − accepted_at`` in natural days over the concluded ones;
* **overdue** — open ones past their time limit at ``now``.

Rows are read through ``Dispute.objects.visible_to(user)``; a period holds at most a few thousand
disputes, so the figures are computed in Python from one narrow query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from yiwang.governance.mediation.models import OPEN_STATUSES, Committee, Dispute, DisputeKind, Outcome


@dataclass
class Figures:
    label: str = ""
    disputes: int = 0
    concluded: int = 0
    agreements: int = 0
    overdue: int = 0
    _days: list[float] = field(default_factory=list)

    @property
    def success_rate(self) -> float | None:
        return self.agreements / self.concluded if self.concluded else None

    @property
    def average_days(self) -> float | None:
        return sum(self._days) / len(self._days) if self._days else None

    def add(self, row: dict[str, Any], now: dt.datetime) -> None:
        self.disputes += 1
        if row["outcome"]:
            self.concluded += 1
            if row["outcome"] == Outcome.AGREEMENT:
                self.agreements += 1
            if row["accepted_at"] and row["outcome_at"]:
                self._days.append((row["outcome_at"] - row["accepted_at"]).total_seconds() / 86400)
        if row["status"] in OPEN_STATUSES and row["due_at"] is not None and row["due_at"] < now:
            self.overdue += 1

    def as_dict(self) -> dict[str, Any]:
        rate, days = self.success_rate, self.average_days
        return {
            "label": self.label,
            "disputes": self.disputes,
            "concluded": self.concluded,
            "agreements": self.agreements,
            "success_rate": None if rate is None else round(rate, 4),
            "average_days": None if days is None else round(days, 2),
            "overdue": self.overdue,
        }


@dataclass
class Report:
    start: dt.datetime | None
    end: dt.datetime | None
    total: Figures
    by_kind: list[Figures]
    by_committee: list[Figures]

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "total": self.total.as_dict(),
            "by_kind": [f.as_dict() for f in self.by_kind],
            "by_committee": [f.as_dict() for f in self.by_committee],
        }


_FIELDS = ("kind", "committee_id", "status", "outcome", "accepted_at", "outcome_at", "due_at")


def mediation_stats(
    user: Any,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    *,
    now: dt.datetime | None = None,
) -> Report:
    """The figures of the disputes ``user`` may see, applied for in ``[start, end)``."""
    now = now or timezone.now()
    qs = Dispute.objects.visible_to(user)
    if start is not None:
        qs = qs.filter(applied_at__gte=start)
    if end is not None:
        qs = qs.filter(applied_at__lt=end)
    rows: Iterable[dict[str, Any]] = qs.order_by().values(*_FIELDS)
    total = Figures(label="合计")
    kinds: dict[str, Figures] = {}
    committees: dict[int, Figures] = {}
    for row in rows:
        total.add(row, now)
        kinds.setdefault(row["kind"], Figures(label=str(DisputeKind(row["kind"]).label))).add(row, now)
        committees.setdefault(row["committee_id"], Figures()).add(row, now)
    names = dict(Committee.objects.filter(pk__in=list(committees)).values_list("pk", "name"))
    for pk, figures in committees.items():
        figures.label = names.get(pk, str(pk))
    by_kind = [kinds[k] for k in DisputeKind.values if k in kinds]
    by_committee = sorted(committees.values(), key=lambda f: (-f.disputes, f.label))
    return Report(start, end, total, by_kind, by_committee)
