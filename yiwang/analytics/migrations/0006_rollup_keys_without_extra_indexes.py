"""The rollup tables lose the indexes no query reads: one per dimension (every query filters on the
period first, served by the (period, dimension) indexes) and, on PostgreSQL, the LIKE index that
``unique=True`` adds to the text key (now a UniqueConstraint). A rebuild builds a third fewer
indexes.

The dimensions are altered by one operation (:class:`DimensionIndexes`) instead of one AlterField
each: every AlterField of a foreign key re-renders the models it points at, 12 s for these 36 on
every new database (each test worker's included).
"""

from django.db import migrations, models
from django.db.migrations.operations.base import Operation

DIMENSIONS = {
    "dailyrollup": ["category", "community", "department", "district", "grid", "street"],
    "daycategoryrollup": ["category", "district", "street"],
    "daydepartmentrollup": ["department", "district"],
    "daydistrictrollup": ["district"],
    "daystreetdepartmentrollup": ["department", "district", "street"],
    "daystreetrollup": ["district", "street"],
    "monthcategoryrollup": ["category", "district", "street"],
    "monthdepartmentrollup": ["department", "district"],
    "monthdistrictrollup": ["district"],
    "monthgridrollup": ["community", "district", "grid", "street"],
    "monthlyrollup": ["department", "district", "street"],
    "monthstreetrollup": ["district", "street"],
    "yeargridrollup": ["community", "district", "grid", "street"],
}


class DimensionIndexes(Operation):
    """Set ``db_index`` of the listed foreign keys, dropping or creating their single-column index
    (the schema editor's own statements, found by introspection like AlterField does)."""

    reversible = True

    def __init__(self, fields: dict[str, list[str]], db_index: bool) -> None:
        self.fields = fields
        self.db_index = db_index

    def deconstruct(self):  # type: ignore[no-untyped-def]
        return (self.__class__.__qualname__, [self.fields, self.db_index], {})

    def state_forwards(self, app_label, state):  # type: ignore[no-untyped-def]
        self._set(app_label, state, self.db_index)

    def state_backwards(self, app_label, state):  # type: ignore[no-untyped-def]
        self._set(app_label, state, not self.db_index)

    def _set(self, app_label, state, db_index):  # type: ignore[no-untyped-def]
        for model_name, names in self.fields.items():
            fields = state.models[app_label, model_name].fields
            for name in names:
                field = fields[name].clone()
                field.db_index = db_index
                fields[name] = field
            # related_name="+": the models pointed at do not change, so nothing else is re-rendered.
            state.reload_model(app_label, model_name, delay=True)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        self._apply(app_label, schema_editor, to_state, self.db_index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        self._apply(app_label, schema_editor, to_state, not self.db_index)

    def _apply(self, app_label, schema_editor, state, db_index):  # type: ignore[no-untyped-def]
        for model_name, names in self.fields.items():
            model = state.apps.get_model(app_label, model_name)
            for name in names:
                field = model._meta.get_field(name)
                if db_index:
                    schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
                    continue
                for index in schema_editor._constraint_names(
                    model, [field.column], index=True, type_=models.Index.suffix
                ):
                    schema_editor.execute(schema_editor._delete_index_sql(model, index))

    def describe(self) -> str:
        return f"Set db_index={self.db_index} on the rollup dimensions"


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_year_grid_level"),
        ("cases", "0008_open_counts_index"),
        ("grids", "0002_initial"),
        ("people", "0002_more_roles"),
    ]

    operations = [
        DimensionIndexes(DIMENSIONS, db_index=False),
        migrations.AlterField(
            model_name="dailyrollup",
            name="key",
            field=models.CharField(max_length=120, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="daycategoryrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="daydepartmentrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="daydistrictrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="daystreetdepartmentrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="daystreetrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="monthcategoryrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="monthdepartmentrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="monthdistrictrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="monthgridrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="monthlyrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="monthstreetrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AlterField(
            model_name="yeargridrollup",
            name="key",
            field=models.CharField(max_length=80, verbose_name="维度键"),
        ),
        migrations.AddConstraint(
            model_name="dailyrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_dailyrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="daycategoryrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_daycategoryrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="daydepartmentrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_daydepartmentrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="daydistrictrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_daydistrictrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="daystreetdepartmentrollup",
            constraint=models.UniqueConstraint(
                fields=("key",), name="analytics_daystreetdepartmentrollup_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="daystreetrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_daystreetrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="monthcategoryrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_monthcategoryrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="monthdepartmentrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_monthdepartmentrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="monthdistrictrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_monthdistrictrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="monthgridrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_monthgridrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="monthlyrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_monthlyrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="monthstreetrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_monthstreetrollup_key"),
        ),
        migrations.AddConstraint(
            model_name="yeargridrollup",
            constraint=models.UniqueConstraint(fields=("key",), name="analytics_yeargridrollup_key"),
        ),
    ]
