"""Read helpers of the party registers: the grid panel and volunteer statistics."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from yiwang.grids.models import Division, Grid
from yiwang.registry.models import Estate

from .models import (
    Activity,
    Assignment,
    AssignmentRole,
    CommunityReport,
    LedgerEntry,
    LedgerKind,
    Sentinel,
    Volunteer,
)


def party_panel(grid: Grid) -> dict[str, Any]:
    """Party-building facts of one grid for the map's grid panel: who answers for it (网格指导员 and
    联系户 by name: these posts are publicised on the grid's notice board), organisations reported
    to its community, 流动哨兵, property companies of its 小区 and its volunteers."""
    open_posts = Assignment.objects.filter(grid=grid, ended_on__isnull=True).select_related(
        "member", "household"
    )
    instructors = [a.member.name for a in open_posts if a.role == AssignmentRole.GRID_INSTRUCTOR]
    contacts = [
        {"member": a.member.name, "household": a.household.number if a.household else ""}
        for a in open_posts
        if a.role == AssignmentRole.HOUSEHOLD_CONTACT
    ]
    reports = CommunityReport.objects.filter(community_id=grid.community_id).select_related("organization")
    companies = (
        Estate.objects.filter(grids=grid, property_company__isnull=False)
        .select_related("property_company")
        .order_by("name")
    )
    sentinels = Sentinel.objects.filter(grid=grid, is_active=True)
    return {
        "grid": grid.code,
        "grid_instructors": {"count": len(instructors), "names": sorted(instructors)},
        "household_contacts": {
            "count": len(contacts),
            "members": len({c["member"] for c in contacts}),
            "households": len({c["household"] for c in contacts}),
            "list": contacts,
        },
        "reported_organizations": {
            "count": len(reports),
            "names": sorted(r.organization.name for r in reports),
        },
        "sentinels": {
            "count": sentinels.count(),
            "by_occupation": {
                row["occupation"]: row["n"] for row in sentinels.values("occupation").annotate(n=Count("pk"))
            },
        },
        "property_companies": [
            {"estate": e.name, "company": e.property_company.name} for e in companies if e.property_company
        ],
        "volunteers": Volunteer.objects.filter(resident__grid=grid).count(),
    }


def volunteer_stats(*, community: Division | None = None, grid: Grid | None = None) -> dict[str, Any]:
    """Volunteers, activities, service hours and points of a community or a grid (by the
    volunteer's grid: hours count where the volunteer lives)."""
    volunteers = Volunteer.objects.all()
    activities = Activity.objects.all()
    if grid is not None:
        volunteers = volunteers.filter(resident__grid=grid)
        activities = activities.filter(grid=grid)
    elif community is not None:
        volunteers = volunteers.filter(resident__grid__community=community)
        activities = activities.filter(community=community)
    ledger = LedgerEntry.objects.filter(volunteer__in=volunteers)
    totals = ledger.aggregate(
        hours=Sum("hours", filter=Q(kind=LedgerKind.SERVICE)),
        earned=Sum("points", filter=Q(points__gt=0)),
        spent=Sum("points", filter=Q(points__lt=0)),
    )
    return {
        "volunteers": volunteers.count(),
        "party_member_volunteers": volunteers.filter(member__isnull=False).count(),
        "activities": activities.count(),
        "service_hours": totals["hours"] or Decimal(0),
        "points_earned": totals["earned"] or 0,
        "points_spent": -(totals["spent"] or 0),
    }
