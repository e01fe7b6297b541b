"""Users, departments (承办单位) and the grants that give a user a role over an area or department."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import TimeStampedModel
from yiwang.core.scoping import EVERYTHING, Scope, scope_of
from yiwang.grids.models import DivisionLevel, GridStaff


class Role(models.TextChoices):
    HOTLINE_OPERATOR = "hotline_operator", _("话务员")
    DISPATCHER = "dispatcher", _("派遣员")
    DEPARTMENT_HANDLER = "department_handler", _("承办人员")
    GRID_WORKER = "grid_worker", _("网格员")
    LEADER = "leader", _("领导")
    ADMINISTRATOR = "administrator", _("系统管理员")
    # 三员分立 (等保 2.0 level 3): security policy and audit are separate from system administration.
    SECURITY_ADMINISTRATOR = "security_administrator", _("安全管理员")
    AUDITOR = "auditor", _("安全审计员")
    # Co-governance (issue 9).
    MEDIATOR = "mediator", _("调解员")
    FINANCE_COUNSELLOR = "finance_counsellor", _("金融辅导员")
    ENTERPRISE = "enterprise", _("企业用户")


class DepartmentKind(models.TextChoices):
    FUNCTIONAL = "functional", _("职能部门")
    STREET = "street", _("街道/镇")
    COMMUNITY = "community", _("社区/村")
    PUBLIC_SERVICE = "public_service", _("公共服务企业")
    COMMAND_CENTER = "command_center", _("指挥中心")


class DepartmentQuerySet(models.QuerySet["Department"]):
    def visible_to(self, user: Any) -> DepartmentQuerySet:
        """Every active user may see the department list (it is needed to dispatch and to read a
        timeline); inactive and anonymous users see none."""
        scope = scope_of(user)
        if scope.is_empty:
            return self.none()
        return self

    def subtree_ids(self, root_ids: set[int]) -> frozenset[int]:
        """The given departments and all their descendants (one query; the tree is small)."""
        children: dict[int | None, list[int]] = {}
        for pk, parent_id in Department.objects.values_list("pk", "parent_id"):
            children.setdefault(parent_id, []).append(pk)
        found: set[int] = set()
        stack = list(root_ids)
        while stack:
            pk = stack.pop()
            if pk in found:
                continue
            found.add(pk)
            stack.extend(children.get(pk, ()))
        return frozenset(found)


class Department(TimeStampedModel):
    """A unit that handles cases (承办单位): a functional bureau, a street office, a community
    committee, or a public-service company (water, power, gas, heating)."""

    code = models.CharField(_("单位代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DepartmentKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    division = models.ForeignKey(
        "grids.Division",
        verbose_name=_("属地区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
        help_text=_("街道、社区等属地单位对应的区划"),
    )
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("承办单位")
        verbose_name_plural = _("承办单位")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in: hotline operator, dispatcher, handler, grid worker, leader, admin."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("所在单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    must_change_password = models.BooleanField(_("须修改密码"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    def get_scope(self) -> Scope:
        """The union of this user's grants and grid posts, computed once per user object."""
        cached: Scope | None = getattr(self, "_scope_cache", None)
        if cached is None:
            cached = compute_scope(self)
            self._scope_cache = cached
        return cached


def compute_scope(user: User) -> Scope:
    if user.is_superuser:
        return EVERYTHING
    grants = list(user.grants.select_related("division"))
    roles = frozenset(g.role for g in grants)
    by_level: dict[str, set[int]] = {level: set() for level in DivisionLevel.values}
    department_roots: set[int] = set()
    for grant in grants:
        if grant.division is not None:
            by_level[grant.division.level].add(grant.division.pk)
        if grant.department_id is not None:
            department_roots.add(grant.department_id)
    grid_ids: frozenset[int] = frozenset()
    if Role.GRID_WORKER in roles:
        grid_ids = frozenset(GridStaff.objects.filter(user=user).values_list("grid_id", flat=True))
    return Scope(
        roles=roles,
        district_ids=frozenset(by_level[DivisionLevel.DISTRICT]),
        street_ids=frozenset(by_level[DivisionLevel.STREET]),
        community_ids=frozenset(by_level[DivisionLevel.COMMUNITY]),
        grid_ids=grid_ids,
        department_ids=Department.objects.subtree_ids(department_roots) if department_roots else frozenset(),
    )


class GrantQuerySet(models.QuerySet["Grant"]):
    def visible_to(self, user: Any) -> GrantQuerySet:
        scope = scope_of(user)
        if scope.everything or scope.has_role(Role.ADMINISTRATOR):
            return self
        return self.filter(user_id=getattr(user, "pk", None))


class Grant(TimeStampedModel):
    """A role given to a user over an area subtree (a division) and/or a department subtree."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    division = models.ForeignKey(
        "grids.Division", verbose_name=_("区域范围"), null=True, blank=True, on_delete=models.CASCADE
    )
    department = models.ForeignKey(
        Department, verbose_name=_("单位范围"), null=True, blank=True, on_delete=models.CASCADE
    )

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "division", "department"], name="grant_unique"),
        ]

    def __str__(self) -> str:
        where = self.division or self.department or "-"
        return f"{self.user} · {self.get_role_display()} · {where}"
