"""deleted_at: a partial index of the deleted rows instead of a plain one (see
kehu.core.models.SoftDeleteModel)."""

from django.db import migrations, models

from kehu.core.migration_ops import unindex_deleted_at


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_search_fts_and_han_grams"),
    ]

    operations = [
        unindex_deleted_at("customers", "contact"),
        unindex_deleted_at("customers", "customer"),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["deleted_at"],
                name="contact_deleted_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["deleted_at"],
                name="cust_deleted_idx",
            ),
        ),
    ]
