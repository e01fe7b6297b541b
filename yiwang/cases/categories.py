"""The shipped category tree and default deadlines, loaded idempotently from ``cases/fixtures``.

* GB/T 47678.5-2026 管理部件 and 管理事项 (``gbt47678_5_2026_components_matters.csv``). Both
  kinds reuse the same 5-digit codes, so stored codes carry a prefix: ``BJ-01`` / ``BJ-01001`` for
  components, ``SX-06`` / ``SX-06001`` for matters.
* The 12345 demand taxonomy: the five kinds of demand × topic (two levels, names only, from the
  TipDM 2020 label list: ``demand_topics.csv``). Codes: ``DM-TS`` (投诉), ``DM-TS-03`` (first-level
  topic 3), ``DM-TS-0302`` (its second-level topic 2), numbered in file order.

The functions take the model classes as arguments so that the data migration (historical models)
and the ``load_categories`` command (real models) share them. Loading creates missing rows and
refreshes names; it never overwrites what an administrator edited (limits, flags, urgency).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STANDARD_CSV = FIXTURES / "gbt47678_5_2026_components_matters.csv"
TOPICS_CSV = FIXTURES / "demand_topics.csv"

KIND_PREFIX = {"管理部件": ("component", "BJ"), "管理事项": ("matter", "SX")}
# (code, stored value, name); 举报 cases protect the whistle-blower: confidential and not public.
DEMAND_KINDS = [
    ("ZX", "consultation", "咨询"),
    ("QZ", "help", "求助"),
    ("TS", "complaint", "投诉"),
    ("JB", "report", "举报"),
    ("JY", "suggestion", "建议"),
]
CONFIDENTIAL_TOPICS = {"纪检监察"}

# Defaults per urgency (category = NULL), from Beijing's DB11 12345 rules (standards.md §3.2):
# 派单 1 h / 2 h / 24 h and 反馈 2 h (emergencies) / 24 h (水电气热) / 7 days (general). Complex
# cases (复杂疑难, 15 days) get there through an approved extension. Editable in the admin.
DEFAULT_POLICIES = [
    ("emergency", Decimal(1), "hours", Decimal(2), "hours", "突发事件等：派单1小时，反馈2小时"),
    ("urgent", Decimal(2), "hours", Decimal(24), "hours", "水电气热等民生保障：派单2小时，反馈24小时"),
    (
        "normal",
        Decimal(24),
        "hours",
        Decimal(7),
        "days",
        "一般诉求：派单24小时，反馈7天（复杂疑难可延期至15天）",
    ),
]


@dataclass
class Row:
    code: str
    name: str
    kind: str
    parent_code: str = ""
    standard_ref: str = ""
    standard_code: str = ""
    demand_kind: str = ""
    is_public: bool = True
    is_confidential: bool = False
    sort_order: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def standard_rows() -> list[Row]:
    rows: list[Row] = []
    majors: set[str] = set()
    with STANDARD_CSV.open(encoding="utf-8", newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh)):
            kind, prefix = KIND_PREFIX[rec["kind"]]
            major = f"{prefix}-{rec['major_code']}"
            if major not in majors:
                majors.add(major)
                rows.append(
                    Row(
                        major,
                        rec["major_name"],
                        kind,
                        standard_ref=rec["standard_ref"],
                        standard_code=rec["major_code"],
                        sort_order=n,
                    )
                )
            rows.append(
                Row(
                    f"{prefix}-{rec['code']}",
                    rec["name"],
                    kind,
                    major,
                    rec["standard_ref"],
                    rec["code"],
                    sort_order=n,
                )
            )
    return rows


def demand_rows() -> list[Row]:
    with TOPICS_CSV.open(encoding="utf-8", newline="") as fh:
        pairs = [(rec["一级分类"], rec["二级分类"]) for rec in csv.DictReader(fh)]
    firsts: list[str] = []
    seconds: dict[str, list[str]] = {}
    for first, second in pairs:
        if first not in seconds:
            firsts.append(first)
            seconds[first] = []
        seconds[first].append(second)
    rows: list[Row] = []
    for k, (code, value, name) in enumerate(DEMAND_KINDS):
        secret = value == "report"
        root = f"DM-{code}"
        rows.append(
            Row(
                root,
                name,
                "demand",
                demand_kind=value,
                is_public=not secret,
                is_confidential=secret,
                sort_order=k,
            )
        )
        for i, first in enumerate(firsts, start=1):
            conf = secret or first in CONFIDENTIAL_TOPICS
            top = f"{root}-{i:02d}"
            rows.append(
                Row(
                    top,
                    first,
                    "demand",
                    root,
                    demand_kind=value,
                    is_public=not conf,
                    is_confidential=conf,
                    sort_order=i,
                )
            )
            for j, second in enumerate(seconds[first], start=1):
                rows.append(
                    Row(
                        f"{top}{j:02d}",
                        second,
                        "demand",
                        top,
                        demand_kind=value,
                        is_public=not conf,
                        is_confidential=conf,
                        sort_order=j,
                    )
                )
    return rows


def all_rows() -> list[Row]:
    """Every shipped category, parents before children."""
    return standard_rows() + demand_rows()


def load_categories(category_model: Any) -> int:
    """Create missing categories and refresh the names of shipped ones; returns rows created."""
    existing = {c.code: c for c in category_model.objects.all()}
    created = 0
    rows = all_rows()
    depths: dict[str, int] = {}
    for row in rows:  # parents come before their children
        depths[row.code] = depths[row.parent_code] + 1 if row.parent_code else 0
    # Create level by level so that parents have primary keys before their children.
    for depth in range(3):
        batch = []
        for row in rows:
            if depths[row.code] != depth:
                continue
            obj = existing.get(row.code)
            if obj is None:
                parent = existing[row.parent_code] if row.parent_code else None
                batch.append(
                    category_model(
                        code=row.code,
                        name=row.name,
                        kind=row.kind,
                        parent=parent,
                        standard_ref=row.standard_ref,
                        standard_code=row.standard_code,
                        demand_kind=row.demand_kind,
                        is_public=row.is_public,
                        is_confidential=row.is_confidential,
                        sort_order=row.sort_order,
                    )
                )
            elif obj.name != row.name:
                obj.name = row.name
                obj.save(update_fields=["name", "updated_at"])
        for obj in category_model.objects.bulk_create(batch):
            existing[obj.code] = obj
        created += len(batch)
        if any(obj.pk is None for obj in batch):  # backends that do not return keys
            existing.update(
                {c.code: c for c in category_model.objects.filter(code__in=[o.code for o in batch])}
            )
    return created


def load_default_policies(policy_model: Any) -> int:
    """Create the default deadline rows (category NULL) that are missing; returns rows created."""
    created = 0
    for urgency, accept, accept_unit, resolve, resolve_unit, note in DEFAULT_POLICIES:
        if not policy_model.objects.filter(category__isnull=True, urgency=urgency).exists():
            policy_model.objects.create(
                category=None,
                urgency=urgency,
                accept_amount=accept,
                accept_unit=accept_unit,
                resolve_amount=resolve,
                resolve_unit=resolve_unit,
                note=note,
            )
            created += 1
    return created
