"""The shipped fields of work (治理领域), loaded idempotently (data migration and demo).

Each names the case category its hidden dangers are registered under by default (GB/T 47678.5
管理事项 codes, loaded by ``cases``; a missing category leaves the default empty, and the grid
worker then picks one per finding). Loading creates missing rows and never overwrites what an
administrator edited.
"""

from __future__ import annotations

from typing import Any

# (code, name, description, default category code, default target kind, sort)
DEFAULT_FIELDS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("gas", "燃气安全", "餐饮商户、人员密集场所燃气使用安全排查", "SX-01057", "organisation", 10),
    ("fire_exit", "消防通道", "楼栋、重点场所消防通道占用与消防设施排查", "SX-09012", "building", 20),
    ("self_built", "自建房", "经营性自建房安全隐患排查整治", "SX-06001", "building", 30),
    ("listening", "民生倾听", "走访重点人群，倾听诉求，发现问题转为案件办理", "", "resident", 40),
)


def load_default_fields(field_model: Any, category_model: Any) -> int:
    """Create the missing default fields; returns how many were created."""
    created = 0
    for code, name, description, category_code, kind, sort in DEFAULT_FIELDS:
        if field_model.objects.filter(code=code).exists():
            continue
        category = category_model.objects.filter(code=category_code).first() if category_code else None
        field_model.objects.create(
            code=code, name=name, description=description, category=category, target_kind=kind, sort=sort
        )
        created += 1
    return created


def ensure_default_fields() -> int:
    """:func:`load_default_fields` with the real models (demo, tests after a flush)."""
    from yiwang.cases.models import Category
    from yiwang.governance.campaigns.models import CampaignField

    return load_default_fields(CampaignField, Category)
