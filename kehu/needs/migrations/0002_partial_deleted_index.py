"""deleted_at: a partial index of the deleted rows instead of a plain one (see
kehu.core.models.SoftDeleteModel)."""

from django.db import migrations, models

from kehu.core.migration_ops import unindex_deleted_at


class Migration(migrations.Migration):
    dependencies = [
        ("needs", "0001_initial"),
    ]

    operations = [
        unindex_deleted_at("needs", "need"),
        migrations.AddIndex(
            model_name="need",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["deleted_at"],
                name="need_deleted_idx",
            ),
        ),
    ]
