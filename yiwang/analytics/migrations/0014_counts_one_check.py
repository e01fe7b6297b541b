"""One check per rollup row that no count is negative, instead of one per count.

A ``PositiveIntegerField`` is a column with its own ``CHECK (n >= 0)``: 17 per row, evaluated for
each of the 60 M rows a rebuild writes at 10 M cases (inserting 3 M daily rows: 4.5–5.4 s with
them, 3.4–3.7 s without). The counts become plain integers and each table gets one check of their
least. The tables and counts are written out, as a migration should be, rather than read from the
models. On PostgreSQL dropping the column checks is quick and adding the new one reads each table
once (49 s in all at 10 M cases). On SQLite each table is remade once.
"""

from typing import Any

from django.db import migrations, models
from django.db.migrations.operations.base import Operation
from django.db.models.functions import Least
from django.db.models.lookups import GreaterThanOrEqual

ROLLUPS = (
    "dailyrollup",
    "daycategoryrollup",
    "daydepartmentrollup",
    "daydistrictcategoryrollup",
    "daydistrictrollup",
    "daystreetdepartmentrollup",
    "daystreetrollup",
    "monthcategoryrollup",
    "monthdepartmentrollup",
    "monthdistrictcategoryrollup",
    "monthdistrictrollup",
    "monthgridrollup",
    "monthlyrollup",
    "monthstreetrollup",
    "weekcategoryrollup",
    "weekdepartmentrollup",
    "weekdistrictcategoryrollup",
    "weekgridrollup",
    "yearcategoryrollup",
    "yeardistrictcategoryrollup",
    "yeargridrollup",
)
COUNTS = (
    ("registered", "立案数"),
    ("dispatched", "派遣数"),
    ("signed", "签收数"),
    ("signed_in_time", "按时签收数"),
    ("resolved", "处置数"),
    ("resolved_in_time", "按期处置数"),
    ("reworked", "返工数"),
    ("closed", "结案数"),
    ("closed_in_time", "按期结案数"),
    ("called_back", "回访数"),
    ("contacted", "联系数"),
    ("solved", "解决数"),
    ("satisfied", "满意数"),
    ("basically_satisfied", "基本满意数"),
    ("unsatisfied", "不满意数"),
    ("reopened", "二次办理数"),
    ("overdue", "超时数"),
)


def _column_checks(schema_editor: Any, table: str) -> list[str]:
    """The checks of a single column (PostgreSQL): those of the counts, the tables' only ones."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [name for name, info in constraints.items() if info["check"] and len(info["columns"]) == 1]


def _one_check(apps: Any, schema_editor: Any) -> None:
    # Here the models are the new ones: plain integers, and the one check among their constraints.
    q = schema_editor.quote_name
    for rollup in ROLLUPS:
        model = apps.get_model("analytics", rollup)
        (constraint,) = model._meta.constraints
        if schema_editor.connection.vendor == "postgresql":
            for name in _column_checks(schema_editor, model._meta.db_table):
                schema_editor.execute(f"ALTER TABLE {q(model._meta.db_table)} DROP CONSTRAINT {q(name)}")
        # On SQLite this remakes the table once from the new model (the column checks go with it),
        # where altering each count would remake it 17 times: 40 s for the empty tables.
        schema_editor.add_constraint(model, constraint)


def _checks_per_count(apps: Any, schema_editor: Any) -> None:
    # PostgreSQL only. On SQLite the one check stays (it says what the 17 said), and a table is
    # remade from the model whenever it is next altered.
    if schema_editor.connection.vendor != "postgresql":
        return
    q = schema_editor.quote_name
    for rollup in ROLLUPS:
        model = apps.get_model("analytics", rollup)
        table = model._meta.db_table
        (constraint,) = model._meta.constraints
        schema_editor.remove_constraint(model, constraint)
        for name, _ in COUNTS:
            check = q(f"{table}_{name}_check")
            schema_editor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {check} CHECK ({q(name)} >= 0)")


def _check(rollup: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=GreaterThanOrEqual(Least(*(name for name, _ in COUNTS)), 0),
        name=f"{rollup}_counts_not_negative",
    )


class OneCheckPerRow(Operation):
    """The counts of every rollup become plain integers under one check. One operation rather than
    an AlterField per count: each of those renders the models again (357 of them took 36 s)."""

    reversible = True

    def state_forwards(self, app_label: str, state: Any) -> None:
        for rollup in ROLLUPS:
            model = state.models[app_label, rollup]
            for name, verbose in COUNTS:
                model.fields[name] = models.IntegerField(default=0, verbose_name=verbose)
            model.options["constraints"] = [*model.options.get("constraints", []), _check(rollup)]
            state.reload_model(app_label, rollup, delay=True)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        _one_check(to_state.apps, schema_editor)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        _checks_per_count(from_state.apps, schema_editor)

    def describe(self) -> str:
        return "One check per rollup row that no count is negative"


class Migration(migrations.Migration):
    dependencies = [("analytics", "0013_rollup_key_primary")]

    operations = [OneCheckPerRow()]
