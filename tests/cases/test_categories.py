"""The shipped category tree and deadline defaults, loaded by the migration and by the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from yiwang.cases import tasks
from yiwang.cases.categories import DEMAND_KINDS, all_rows
from yiwang.cases.models import Category, DeadlinePolicy


@pytest.mark.django_db
def test_migration_loads_standard_components_matters_and_demand_taxonomy() -> None:
    # (The co-governance modules add their own categories, e.g. MD-… disputes, ENT-… enterprise demands.)
    assert (
        Category.objects.filter(kind="component", parent__isnull=False, code__startswith="BJ-").count() == 153
    )
    assert Category.objects.filter(kind="matter", parent__isnull=False, code__startswith="SX-").count() == 250
    # 5 kinds × (15 first-level + 118 second-level topics), under one root per kind.
    demands = Category.objects.filter(kind="demand", code__startswith="DM-")
    assert demands.filter(parent__isnull=True).count() == len(DEMAND_KINDS) == 5
    assert demands.count() == 5 * (1 + 15 + 118)
    component, matter = Category.objects.get(code="BJ-01001"), Category.objects.get(code="SX-01001")
    assert (component.standard_code, matter.standard_code) == ("01001", "01001")
    assert component.name == "供水井盖"
    assert Category.objects.get(code="DM-TS").name == "投诉"


@pytest.mark.django_db
def test_reports_and_discipline_topics_are_confidential_and_not_public() -> None:
    assert all(
        c.is_confidential and not c.is_public for c in Category.objects.filter(code__startswith="DM-JB")
    )
    discipline = Category.objects.get(code__startswith="DM-TS-", name="纪检监察", parent__code="DM-TS")
    assert discipline.is_confidential
    assert not Category.objects.public().filter(is_confidential=True).exists()
    assert Category.objects.public().filter(code="SX-06001").exists()


@pytest.mark.django_db
def test_load_categories_is_idempotent_and_keeps_admin_edits() -> None:
    Category.objects.filter(code="SX-06001").update(default_urgency="urgent", is_public=False)
    before = Category.objects.count()
    out = io.StringIO()
    call_command("load_categories", stdout=out)
    assert "categories created: 0" in out.getvalue()
    assert Category.objects.count() == before
    # Every shipped category, plus those the co-governance modules add.
    assert {row.code for row in all_rows()} <= set(Category.objects.values_list("code", flat=True))
    edited = Category.objects.get(code="SX-06001")
    assert (edited.default_urgency, edited.is_public) == ("urgent", False)


@pytest.mark.django_db
def test_load_categories_restores_a_deleted_default_policy() -> None:
    DeadlinePolicy.objects.filter(category__isnull=True, urgency="urgent").delete()
    call_command("load_categories", stdout=io.StringIO())
    policy = DeadlinePolicy.objects.get(category__isnull=True, urgency="urgent")
    assert (policy.accept_amount, policy.accept_unit, policy.resolve_amount, policy.resolve_unit) == (
        2,
        "hours",
        24,
        "hours",
    )


@pytest.mark.django_db
def test_default_policies_follow_the_beijing_rules() -> None:
    rows = {
        p.urgency: (p.accept_amount, p.accept_unit, p.resolve_amount, p.resolve_unit)
        for p in DeadlinePolicy.objects.filter(category__isnull=True)
    }
    assert rows == {
        "emergency": (1, "hours", 2, "hours"),
        "urgent": (2, "hours", 24, "hours"),
        "normal": (24, "hours", 7, "days"),
    }


def test_notification_enqueue_failure_does_not_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def enqueue(self, *args: object) -> None:
            raise RuntimeError("queue down")

    monkeypatch.setattr(tasks, "notify_case_event", Broken())
    tasks.enqueue_notification(1)  # logged, not raised
