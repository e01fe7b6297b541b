"""The case filters, one FilterSet shared by the REST API and the web pages (the dispatcher's queue,
the inbox), so that a filter means the same thing wherever a user meets it.

A FilterSet only narrows a queryset that the caller has already scoped with ``visible_to``.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.cases.choices import CaseStatus, Channel, DemandKind, Urgency
from yiwang.cases.models import Assignment, Case, Category
from yiwang.cases.models.case import CaseQuerySet, overdue_q
from yiwang.grids.models import Division, DivisionLevel, Grid
from yiwang.people.models import Department

# Text search reads title, description, address and number with LIKE: fine for a queue narrowed by
# other filters; a district-wide search over millions of cases belongs to a search index.
SEARCH_MAX = 100

_AREA_FIELD_BY_LEVEL = {
    DivisionLevel.DISTRICT: "district_id",
    DivisionLevel.STREET: "street_id",
    DivisionLevel.COMMUNITY: "community_id",
}


class CaseFilterSet(django_filters.FilterSet):
    # distinct=False: these are columns of the case itself, so no join can repeat a row, and
    # django-filter's default DISTINCT makes the database sort every matching case (a temporary
    # B-tree over the whole filtered set on SQLite) before it can return the first page.
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices, label=_("状态"), distinct=False)
    channel = django_filters.MultipleChoiceFilter(
        choices=Channel.choices, label=_("来源渠道"), distinct=False
    )
    urgency = django_filters.MultipleChoiceFilter(
        choices=Urgency.choices, label=_("紧急程度"), distinct=False
    )
    demand_kind = django_filters.MultipleChoiceFilter(
        choices=DemandKind.choices, label=_("诉求类型"), distinct=False
    )
    category = django_filters.CharFilter(
        method="filter_category", label=_("分类代码"), help_text=_("分类代码, 含下级分类")
    )
    area = django_filters.CharFilter(
        method="filter_area",
        label=_("区域代码"),
        help_text=_("区划代码 (12位: 区/街道/社区) 或网格编码 (15位)"),
    )
    department = django_filters.NumberFilter(
        method="filter_department",
        label=_("承办单位"),
        help_text=_("单位ID, 含下级单位; 主办或协办"),
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("超时"))
    suspended = django_filters.BooleanFilter(field_name="suspended_at", lookup_expr="isnull", exclude=True)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("登记时间起")
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("登记时间止")
    )
    q = django_filters.CharFilter(method="filter_text", label=_("关键词"), max_length=SEARCH_MAX)

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_category(
        self, queryset: models.QuerySet[Case], name: str, value: str
    ) -> models.QuerySet[Case]:
        category = Category.objects.filter(code=value).first()
        if category is None:
            return queryset.none()
        return queryset.filter(category_id__in=_subtree_ids(Category, category.pk))

    def filter_area(self, queryset: models.QuerySet[Case], name: str, value: str) -> models.QuerySet[Case]:
        if len(value) == 15:
            grid = Grid.objects.filter(code=value).only("pk").first()
            return queryset.filter(grid_id=grid.pk) if grid else queryset.none()
        division = Division.objects.filter(code=value).only("pk", "level").first()
        if division is None or division.level not in _AREA_FIELD_BY_LEVEL:
            return queryset.none()
        return queryset.filter(**{_AREA_FIELD_BY_LEVEL[DivisionLevel(division.level)]: division.pk})

    def filter_department(
        self, queryset: models.QuerySet[Case], name: str, value: Any
    ) -> models.QuerySet[Case]:
        if not Department.objects.filter(pk=value).exists():
            return queryset.none()
        ids = sorted(Department.objects.subtree_ids({int(value)}))
        return queryset.filter(
            models.Q(lead_department_id__in=ids)
            | models.Q(pk__in=Assignment.objects.filter(department_id__in=ids).values("case_id"))
        )

    def filter_overdue(
        self, queryset: models.QuerySet[Case], name: str, value: bool
    ) -> models.QuerySet[Case]:
        now = timezone.now()
        if value:
            return cast(CaseQuerySet, queryset).overdue(now)
        # The complement in place, row by row: ``NOT IN (every overdue id)`` made the database
        # build the list of all overdue cases of the district at every request.
        return queryset.exclude(overdue_q(now))

    def filter_text(self, queryset: models.QuerySet[Case], name: str, value: str) -> models.QuerySet[Case]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            models.Q(number=value)
            | models.Q(title__icontains=value)
            | models.Q(description__icontains=value)
            | models.Q(address__icontains=value)
        )


def _subtree_ids(model: type[Category], root_id: int) -> list[int]:
    """Ids of a category and all its descendants (the tree is small: a few hundred rows)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in model.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    ids, frontier = [root_id], [root_id]
    while frontier:
        frontier = [child for pk in frontier for child in children.get(pk, [])]
        ids.extend(frontier)
    return ids
