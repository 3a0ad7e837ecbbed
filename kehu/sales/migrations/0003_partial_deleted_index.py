"""deleted_at: a partial index of the deleted rows instead of a plain one (see
kehu.core.models.SoftDeleteModel)."""

from django.db import migrations, models

from kehu.core.migration_ops import unindex_deleted_at


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0002_stages_and_role_permissions"),
    ]

    operations = [
        unindex_deleted_at("sales", "contract"),
        unindex_deleted_at("sales", "opportunity"),
        unindex_deleted_at("sales", "order"),
        unindex_deleted_at("sales", "product"),
        unindex_deleted_at("sales", "quota"),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["deleted_at"],
                name="contract_deleted_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["deleted_at"],
                name="opp_deleted_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["deleted_at"],
                name="order_deleted_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["deleted_at"],
                name="product_deleted_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="quota",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["deleted_at"],
                name="quota_deleted_idx",
            ),
        ),
    ]
