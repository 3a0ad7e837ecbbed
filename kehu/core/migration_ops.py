"""Migration operations shared by the apps."""

from __future__ import annotations

from django.db import migrations, models


def _drop_plain_index(model_name: str, column: str):  # type: ignore[no-untyped-def]
    def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
        app_label = forward.app_label  # set below by the caller's migration
        table = apps.get_model(app_label, model_name)._meta.db_table
        name = schema_editor._create_index_name(table, [column], suffix="")
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return forward


def unindex_deleted_at(app_label: str, model_name: str) -> migrations.SeparateDatabaseAndState:
    """``deleted_at`` loses its plain index (``db_index=True`` before).

    Django would rebuild the whole table on SQLite to drop an index of a field (and lose
    the triggers on it, like the customers' FTS5 ones); this drops just the index, by the
    name Django gave it, on both databases."""
    forward = _drop_plain_index(model_name, "deleted_at")
    forward.app_label = app_label  # type: ignore[attr-defined]
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(
                model_name=model_name,
                name="deleted_at",
                field=models.DateTimeField(blank=True, null=True, verbose_name="deleted at"),
            )
        ],
        database_operations=[migrations.RunPython(forward, migrations.RunPython.noop)],
    )
