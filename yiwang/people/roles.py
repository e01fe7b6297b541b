"""What each role may do in the admin, as Django groups (one group per role).

The permissions below are only the *seed* of each group: ``ensure_role_groups`` creates a missing
group with them and never touches an existing one, so an administrator can change a role's rights in
the admin. Which *rows* a user sees is decided separately by ``visible_to`` (grants and grid posts).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from yiwang.people.models import Role, User

# Co-governance records a role may browse in the admin (rows still limited by visible_to).
_DELIBERATION_READ = (
    "deliberation.view_topic", "deliberation.view_meeting", "deliberation.view_venue", "deliberation.view_topicevent",
)  # fmt: skip

_ENTERPRISE_READ = ("enterprise.view_enterprise", "enterprise.view_demand")
_CAMPAIGNS_READ = (
    "campaigns.view_campaign",
    "campaigns.view_campaigntarget",
    "campaigns.view_campaignfinding",
)
_MEDIATION_READ = (
    "mediation.view_committee",
    "mediation.view_mediator",
    "mediation.view_dispute",
    "mediation.view_disputeevent",
    "mediation.view_timelimit",
)
_PROJECTS_READ = ("projects.view_project", "projects.view_node", "projects.view_projectevent")

_READ_MAP = (
    "grids.view_division",
    "grids.view_grid",
    "grids.view_gridlabel",
    "grids.view_policebeat",
    "grids.view_externalgrid",
    "grids.view_gridstaff",
    "people.view_department",
    "cases.view_category",
    "cases.view_case",
    "cases.view_caseevent",
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.HOTLINE_OPERATOR: _READ_MAP,
    Role.DISPATCHER: (*_READ_MAP, *_ENTERPRISE_READ, "cases.view_deadlinepolicy"),
    Role.DEPARTMENT_HANDLER: _READ_MAP,
    Role.GRID_WORKER: (*_READ_MAP, *_DELIBERATION_READ),
    Role.LEADER: (*_READ_MAP, *_DELIBERATION_READ, *_ENTERPRISE_READ, *_PROJECTS_READ, *_CAMPAIGNS_READ, *_MEDIATION_READ,
                  "cases.view_deadlinepolicy", "core.view_calendarday",
                  "core.view_workschedule"),
    Role.ADMINISTRATOR: (
        *_READ_MAP,
        *_DELIBERATION_READ,
        "deliberation.view_meetingrule", "deliberation.change_meetingrule",
        *_ENTERPRISE_READ,
        *_PROJECTS_READ,
        *_CAMPAIGNS_READ,
        *_MEDIATION_READ,
        "mediation.add_timelimit", "mediation.change_timelimit",
        "campaigns.view_campaignfield", "campaigns.add_campaignfield", "campaigns.change_campaignfield",
        "projects.view_colourrule", "projects.change_colourrule",
        "enterprise.view_financialinstitution", "enterprise.add_financialinstitution",
        "enterprise.change_financialinstitution", "enterprise.view_responserule", "enterprise.change_responserule",
        "grids.add_division", "grids.change_division",
        "grids.add_grid", "grids.change_grid",
        "grids.add_gridlabel", "grids.change_gridlabel",
        "grids.add_policebeat", "grids.change_policebeat",
        "grids.add_externalgrid", "grids.change_externalgrid",
        "grids.add_gridstaff", "grids.change_gridstaff", "grids.delete_gridstaff",
        "people.add_department", "people.change_department",
        "people.view_user", "people.add_user", "people.change_user",
        "people.view_grant", "people.add_grant", "people.change_grant", "people.delete_grant",
        "cases.add_category", "cases.change_category",
        "cases.view_deadlinepolicy", "cases.add_deadlinepolicy", "cases.change_deadlinepolicy",
        "core.view_calendarday", "core.add_calendarday", "core.change_calendarday",
        "core.view_workschedule", "core.change_workschedule",
    ),
    # 三员分立: the security administrator manages accounts' security state and grants, not the
    # system's data; the auditor only reads the audit log (issue 10).
    Role.SECURITY_ADMINISTRATOR: (
        "people.view_user", "people.change_user",
        "people.view_grant", "people.add_grant", "people.change_grant", "people.delete_grant",
    ),
    Role.AUDITOR: ("core.view_auditrecord",),
    Role.MEDIATOR: ("grids.view_division", "grids.view_grid", "people.view_department", *_MEDIATION_READ),
    Role.FINANCE_COUNSELLOR: ("people.view_department", *_ENTERPRISE_READ),
    Role.ENTERPRISE: ("cases.view_category",),
}  # fmt: skip


def group_name(role: str) -> str:
    return f"role:{role}"


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    q = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        q |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(q))


@transaction.atomic
def ensure_role_groups() -> dict[str, Group]:
    """One group per role; a missing group is created with its seed permissions."""
    groups: dict[str, Group] = {}
    for role in Role:
        group, created = Group.objects.get_or_create(name=group_name(role))
        if created:
            group.permissions.set(_permissions(ROLE_PERMISSIONS[role]))
        groups[role] = group
    return groups


@transaction.atomic
def sync_role_groups(user: User) -> None:
    """Make the user's role groups match their grants (other groups are left alone)."""
    groups = ensure_role_groups()
    roles = set(user.grants.values_list("role", flat=True))
    role_groups = set(groups.values())
    keep = [g for g in user.groups.all() if g not in role_groups]
    user.groups.set(keep + [groups[r] for r in roles if r in groups])
