"""The rollups' ``key`` becomes their primary key; the ``id`` column goes.

No query read ``id``, the upserts name ``key``, and a rebuild built an index for each of the two
and drew a sequence value for every row it wrote (the daily rows' ``id`` index took 40 s at 10 M
cases). Each table: its unique constraint on ``key`` and ``id`` are dropped, and ``key`` is made
the primary key (on PostgreSQL, a new unique index: about a minute for the daily table at 10 M
cases, a few seconds for the others). The collation of ``key`` (0012) stays.

On PostgreSQL Django adds a second index to a text primary key for ``LIKE`` queries; no query
matches keys with ``LIKE``, and a rebuild would not build it again, so it is dropped here.
"""

from typing import Any

from django.db import migrations, models

# (model, length of its key): every rollup table.
TABLES = (
    ("dailyrollup", 120),
    ("daycategoryrollup", 80),
    ("daydepartmentrollup", 80),
    ("daydistrictcategoryrollup", 80),
    ("daydistrictrollup", 80),
    ("daystreetdepartmentrollup", 80),
    ("daystreetrollup", 80),
    ("monthcategoryrollup", 80),
    ("monthdepartmentrollup", 80),
    ("monthdistrictcategoryrollup", 80),
    ("monthdistrictrollup", 80),
    ("monthgridrollup", 80),
    ("monthlyrollup", 80),
    ("monthstreetrollup", 80),
    ("weekcategoryrollup", 80),
    ("weekdepartmentrollup", 80),
    ("weekdistrictcategoryrollup", 80),
    ("weekgridrollup", 80),
    ("yearcategoryrollup", 80),
    ("yeardistrictcategoryrollup", 80),
    ("yeargridrollup", 80),
)


def _drop_like_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s) "
            "AND indexname LIKE %s",
            [[f"analytics_{name}" for name, _length in TABLES], "%\\_like"],
        )
        for (index,) in cursor.fetchall():
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(index)}")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0012_key_collation_c")]

    operations = [
        migrations.AlterModelOptions(
            name="dailyrollup",
            options={"ordering": ["day", "key"], "verbose_name": "日统计", "verbose_name_plural": "日统计"},
        ),
        migrations.AlterModelOptions(
            name="monthlyrollup",
            options={"ordering": ["month", "key"], "verbose_name": "月统计", "verbose_name_plural": "月统计"},
        ),
        *(migrations.RemoveConstraint(model_name=name, name=f"analytics_{name}_key") for name, _ in TABLES),
        # id first: on PostgreSQL dropping it drops the old primary key, so the new one can be added.
        *(migrations.RemoveField(model_name=name, name="id") for name, _ in TABLES),
        *(
            migrations.AlterField(
                model_name=name,
                name="key",
                field=models.CharField(max_length=length, primary_key=True, serialize=False, verbose_name="维度键"),
            )
            for name, length in TABLES
        ),
        migrations.RunPython(_drop_like_indexes, migrations.RunPython.noop),
    ]
