"""How far a campaign has come: targets covered, hidden dangers found / fixed / open / overdue,
overall and by street and community, against the campaign's goals.

The state of a danger is the state of its case, read at the moment asked: closed = fixed; registered
to resolved = open, overdue when one of its clocks has run out (``cases`` ``overdue_q``); a case
merged into another follows the case it was merged into; cancelled or transferred cases are void
(not a danger of this campaign after all) and leave the fix rate's denominator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils import timezone

from yiwang.cases.choices import OPEN_STATUSES, CaseStatus
from yiwang.cases.models import Case
from yiwang.cases.models.case import overdue_q
from yiwang.governance.campaigns.models import Campaign, CampaignFinding, CampaignTarget
from yiwang.grids.models import Division


@dataclass
class Tally:
    targets: int = 0
    covered: int = 0
    found: int = 0
    fixed: int = 0
    open: int = 0
    overdue: int = 0
    void: int = 0

    @property
    def countable(self) -> int:
        """Findings that are real dangers (not void)."""
        return self.found - self.void

    @property
    def coverage_pct(self) -> float | None:
        return round(100 * self.covered / self.targets, 1) if self.targets else None

    @property
    def fix_pct(self) -> float | None:
        return round(100 * self.fixed / self.countable, 1) if self.countable else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "targets": self.targets,
            "covered": self.covered,
            "coverage_pct": self.coverage_pct,
            "found": self.found,
            "fixed": self.fixed,
            "open": self.open,
            "overdue": self.overdue,
            "void": self.void,
            "fix_pct": self.fix_pct,
        }


@dataclass
class AreaTally:
    division_id: int | None
    name: str
    tally: Tally


@dataclass
class CampaignProgress:
    coverage_goal: int
    fix_goal: int
    total: Tally
    by_street: list[AreaTally] = field(default_factory=list)
    by_community: list[AreaTally] = field(default_factory=list)

    @property
    def coverage_met(self) -> bool:
        pct = self.total.coverage_pct
        return pct is not None and pct >= self.coverage_goal

    @property
    def fix_met(self) -> bool:
        """No real danger found counts as met: there was nothing to fix."""
        pct = self.total.fix_pct
        return pct is None or pct >= self.fix_goal

    @property
    def goal_met(self) -> bool:
        return self.coverage_met and self.fix_met

    def as_dict(self) -> dict[str, Any]:
        return {
            "coverage_goal": self.coverage_goal,
            "fix_goal": self.fix_goal,
            "coverage_met": self.coverage_met,
            "fix_met": self.fix_met,
            "goal_met": self.goal_met,
            "total": self.total.as_dict(),
            "by_street": [
                {"division": a.division_id, "name": a.name, **a.tally.as_dict()} for a in self.by_street
            ],
            "by_community": [
                {"division": a.division_id, "name": a.name, **a.tally.as_dict()} for a in self.by_community
            ],
        }


def _state(status: str, merged_status: str | None) -> str:
    if status == CaseStatus.MERGED and merged_status:
        status = merged_status
    if status == CaseStatus.CLOSED:
        return "fixed"
    if status in OPEN_STATUSES:
        return "open"
    return "void"


def campaign_progress(
    campaign: Campaign, *, user: Any = None, now: dt.datetime | None = None
) -> CampaignProgress:
    """The progress of ``campaign``; with ``user``, over the targets that user may see only (a street
    dispatcher sees the figures of their street in a district-wide campaign)."""
    now = now or timezone.now()
    targets = CampaignTarget.objects.filter(campaign=campaign)
    findings = CampaignFinding.objects.filter(campaign=campaign)
    if user is not None:
        targets = targets.filter(pk__in=CampaignTarget.objects.visible_to(user).values("pk"))
        findings = findings.filter(target__in=targets)
    streets: dict[int | None, Tally] = {}
    communities: dict[int | None, Tally] = {}
    total = Tally()
    for row in targets.values("street_id", "community_id").annotate(
        n=Count("id"), covered=Count("covered_at")
    ):
        for tally in (
            total,
            streets.setdefault(row["street_id"], Tally()),
            communities.setdefault(row["community_id"], Tally()),
        ):
            tally.targets += row["n"]
            tally.covered += row["covered"]
    rows = list(
        findings.values(
            "case_id",
            "case__status",
            "case__merged_into__status",
            "target__street_id",
            "target__community_id",
        )
    )
    open_ids = [r["case_id"] for r in rows if r["case__status"] in OPEN_STATUSES]
    overdue = set(Case.objects.filter(pk__in=open_ids).filter(overdue_q(now)).values_list("pk", flat=True))
    for r in rows:
        state = _state(r["case__status"], r["case__merged_into__status"])
        for tally in (
            total,
            streets.setdefault(r["target__street_id"], Tally()),
            communities.setdefault(r["target__community_id"], Tally()),
        ):
            tally.found += 1
            setattr(tally, state, getattr(tally, state) + 1)
            if r["case_id"] in overdue:
                tally.overdue += 1
    names = dict(
        Division.objects.filter(pk__in=[k for k in (*streets, *communities) if k is not None]).values_list(
            "pk", "name"
        )
    )
    return CampaignProgress(
        coverage_goal=campaign.coverage_goal,
        fix_goal=campaign.fix_goal,
        total=total,
        by_street=_areas(streets, names),
        by_community=_areas(communities, names),
    )


def _areas(tallies: dict[int | None, Tally], names: dict[int, str]) -> list[AreaTally]:
    rows = [AreaTally(pk, names.get(pk, "—") if pk is not None else "—", t) for pk, t in tallies.items()]
    return sorted(rows, key=lambda a: a.name)
