"""三员分立 (separation of the system administrator, security administrator and auditor; 等保 2.0
level 3): who may read the audit log, who may give which role, and the audit of permission changes.

- Only a holder of the auditor role reads the audit log (:func:`can_read_audit_log`) — not the
  system administrator, not a superuser without that role.
- The three administrative roles (:data:`SEPARATED_ROLES`) are granted and withdrawn only by a
  security administrator (or a superuser, to bootstrap an installation), and nobody grants or
  withdraws a role of their own (:func:`grant_problem`).
- Every grant change and every change of a group's permissions is appended to the audit log
  (:func:`record_grant_changes`, :func:`record_group_permission_change`), called by the admin
  pages that make those changes.

Role values are those of ``yiwang.people.models.Role``; core does not import the people app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from yiwang.core import audit
from yiwang.core.scoping import scope_of

ADMINISTRATOR = "administrator"
SECURITY_ADMINISTRATOR = "security_administrator"
AUDITOR = "auditor"
SEPARATED_ROLES = frozenset({ADMINISTRATOR, SECURITY_ADMINISTRATOR, AUDITOR})

GRANT_ADDED = "grant.add"
GRANT_REMOVED = "grant.remove"
GRANT_REFUSED = "grant.refused"
GROUP_PERMISSIONS_CHANGED = "group.permissions"
USER_PERMISSIONS_CHANGED = "user.permissions"

GrantKey = tuple[str, int | None, int | None]  # role, division id, department id


def roles_of(user: Any) -> frozenset[str]:
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return frozenset()
    return frozenset(scope_of(user).roles)


def can_read_audit_log(user: Any) -> bool:
    """The auditor role, and only it (a superuser without the role is refused too)."""
    return AUDITOR in roles_of(user)


def can_manage_accounts(user: Any) -> bool:
    """Unlock accounts, reset passwords and second factors: the security administrator's work."""
    return bool(SECURITY_ADMINISTRATOR in roles_of(user) or (user is not None and user.is_superuser))


def grant_problem(actor: Any, target: Any, role: str) -> str | None:
    """Why ``actor`` may not give (or withdraw) ``role`` to ``target``; ``None`` when allowed."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "未登录 / not signed in"
    if getattr(target, "pk", None) is not None and target.pk == actor.pk and not actor.is_superuser:
        return "不能为自己授予或撤销角色 / you cannot grant or withdraw a role of your own"
    if role in SEPARATED_ROLES and not (actor.is_superuser or SECURITY_ADMINISTRATOR in roles_of(actor)):
        return (
            "系统管理员、安全管理员、审计员角色只能由安全管理员授予（三员分立） / the administrator, "
            "security administrator and auditor roles are granted by a security administrator only"
        )
    return None


def grant_keys(user: Any) -> set[GrantKey]:
    """The user's grants as comparable keys (read through the ``grants`` relation)."""
    if getattr(user, "pk", None) is None:
        return set()
    return set(user.grants.values_list("role", "division_id", "department_id"))


def record_grant_changes(
    actor: Any,
    target: Any,
    before: Iterable[GrantKey],
    after: Iterable[GrantKey],
    *,
    request: HttpRequest | None,
) -> int:
    """Append one audit record per grant added or removed; returns how many."""
    old, new = set(before), set(after)
    ip = audit.client_ip(request)
    count = 0
    for action, keys in ((GRANT_ADDED, new - old), (GRANT_REMOVED, old - new)):
        for role, division_id, department_id in sorted(keys, key=str):
            audit.record(
                action,
                actor=actor,
                object=target,
                ip=ip,
                data={"role": role, "division": division_id, "department": department_id},
            )
            count += 1
    return count


def record_refused_grant(actor: Any, target: Any, role: str, *, request: HttpRequest | None) -> None:
    audit.record(
        GRANT_REFUSED,
        actor=actor,
        object=target,
        ip=audit.client_ip(request),
        success=False,
        data={"role": role},
    )


def permission_names(perms: Iterable[Any]) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in perms}


def record_permission_change(
    action: str, actor: Any, obj: Any, before: set[str], after: set[str], *, request: HttpRequest | None
) -> bool:
    """Audit a change of the permissions of a group or user (nothing recorded if unchanged)."""
    if before == after:
        return False
    audit.record(
        action,
        actor=actor,
        object=obj,
        ip=audit.client_ip(request),
        data={"added": sorted(after - before), "removed": sorted(before - after)},
    )
    return True
