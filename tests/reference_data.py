"""The reference rows the data migrations seed (categories, calendar, key-group tags, the
co-governance defaults). A transactional test flushes them with everything else; this loads them
again, through the migrations' own seeding functions run with the current models."""

from __future__ import annotations

import importlib

_SEEDING_MIGRATIONS = (
    ("yiwang.cases.migrations.0002_load_categories", "forwards"),
    ("yiwang.core.migrations.0002_seed_calendar", "seed"),
    ("yiwang.registry.migrations.0002_seed_key_group_tags", "seed"),
    ("yiwang.governance.deliberation.migrations.0002_seed_meeting_rules", "seed"),
    ("yiwang.governance.mediation.migrations.0002_seed_time_limits", "seed"),
    ("yiwang.governance.mediation.migrations.0003_dispute_categories", "forwards"),
    ("yiwang.governance.projects.migrations.0002_default_colour_rule", "seed"),
    ("yiwang.governance.campaigns.migrations.0002_default_fields", "forwards"),
    ("yiwang.governance.enterprise.migrations.0002_categories_and_rules", "forwards"),
)


def reseed_reference_data() -> None:
    """Load the reference rows again if a flush took them (cheap when they are there)."""
    from django.apps import apps

    from yiwang.cases.models import Category
    from yiwang.core.calendar import invalidate_calendar

    if Category.objects.exists():
        return
    for module, function in _SEEDING_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
    invalidate_calendar()
