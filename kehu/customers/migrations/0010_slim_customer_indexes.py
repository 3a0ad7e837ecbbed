"""Fewer indexes on customers_customer (and customers_customerchange): each one costs every
insert, and an import writes hundreds of thousands of rows. Dropped, as nothing needs them:

* the single-column indexes of the foreign keys owner, team and department: the composite
  indexes (owner, -updated_at), (team, -updated_at) and (department, -updated_at) start
  with the same column and serve the same lookups (scopes, PROTECT / SET NULL on delete);
  likewise customerchange.customer, which cust_change_idx (customer, -changed_at) serves;
* the ``varchar_pattern_ops`` twins (``…_like``) that ``db_index=True`` adds on PostgreSQL
  to mobile_digits, email_lower and name_initials: duplicate checks look these up by
  equality, and the search's short-query probe (kehu.customers.search._prefix_ids) by a
  range, which the plain B-tree serves; nothing filters them with LIKE 'x%'.

The plain B-trees of those three columns stay, renamed to cust_*_idx so that they can be
declared in Meta.indexes (index names are limited to 30 characters there): a rename on
PostgreSQL, no rebuild. SQLite cannot rename an index: there it is dropped and created
again under the new name. The table itself is never rebuilt, so SQLite's FTS5 triggers
on customers_customer stay as they are.

measured on PostgreSQL 15 (2 cores; COPY of 99,017 imported rows into the table, commit
included): 25 indexes 8.7 s, these 17 (with the trigram index) 8.0 s, the B-trees alone
without the trigram index 3.3 s → 2.4 s.
"""

from django.conf import settings
from django.db import migrations, models

CUSTOMER = "customers_customer"
DROPPED = [
    "customers_customer_owner_id_fbb2798e",
    "customers_customer_team_id_677425ba",
    "customers_customer_department_id_738c8343",
    "customers_customerchange_customer_id_bbb75bde",
    # PostgreSQL only (db_index=True on a CharField); IF EXISTS elsewhere.
    "customers_customer_mobile_digits_94cbf2f8_like",
    "customers_customer_email_lower_2ac6941a_like",
    "customers_customer_name_initials_27649238_like",
]
# (column, the name Django gave its db_index, the name in Meta.indexes)
RENAMED = [
    ("mobile_digits", "customers_customer_mobile_digits_94cbf2f8", "cust_mobile_digits_idx"),
    ("email_lower", "customers_customer_email_lower_2ac6941a", "cust_email_lower_idx"),
    ("name_initials", "customers_customer_name_initials_27649238", "cust_name_initials_idx"),
]
RESTORED = [  # backwards: (index, table, column, PostgreSQL opclass or "")
    ("customers_customer_owner_id_fbb2798e", CUSTOMER, "owner_id", ""),
    ("customers_customer_team_id_677425ba", CUSTOMER, "team_id", ""),
    ("customers_customer_department_id_738c8343", CUSTOMER, "department_id", ""),
    ("customers_customerchange_customer_id_bbb75bde", "customers_customerchange", "customer_id", ""),
    ("customers_customer_mobile_digits_94cbf2f8_like", CUSTOMER, "mobile_digits",
     "varchar_pattern_ops"),
    ("customers_customer_email_lower_2ac6941a_like", CUSTOMER, "email_lower",
     "varchar_pattern_ops"),
    ("customers_customer_name_initials_27649238_like", CUSTOMER, "name_initials",
     "varchar_pattern_ops"),
]  # fmt: skip


def _rename(schema_editor, column: str, old: str, new: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX IF EXISTS {old} RENAME TO {new}")
    else:
        schema_editor.execute(f"DROP INDEX IF EXISTS {old}")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {new} ON {CUSTOMER} ({column})")


def forward(apps, schema_editor):
    for name in DROPPED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for column, old, new in RENAMED:
        _rename(schema_editor, column, old, new)


def backward(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for column, old, new in RENAMED:
        _rename(schema_editor, column, new, old)
    for name, table, column, opclass in RESTORED:
        if opclass and not postgres:
            continue
        suffix = f" {opclass}" if opclass else ""
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column}{suffix})")


def _fk(to, on_delete, verbose_name, related_name="customers"):
    return models.ForeignKey(
        blank=True,
        db_index=False,
        null=True,
        on_delete=on_delete,
        related_name=related_name,
        to=to,
        verbose_name=verbose_name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_seed_departments_roles"),
        ("customers", "0009_search_text_tags"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Plain AlterField would rebuild the whole table on SQLite (and drop its FTS5
            # triggers with it): the database side is done by hand, index by index.
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AlterField(
                    model_name="customer",
                    name="owner",
                    field=_fk(settings.AUTH_USER_MODEL, models.PROTECT, "owner"),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="team",
                    field=_fk("accounts.team", models.SET_NULL, "team"),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="department",
                    field=_fk("accounts.department", models.SET_NULL, "department"),
                ),
                migrations.AlterField(
                    model_name="customerchange",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.CASCADE,
                        related_name="changes",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="mobile_digits",
                    field=models.CharField(blank=True, max_length=32),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="email_lower",
                    field=models.CharField(blank=True, max_length=254),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="name_initials",
                    field=models.CharField(blank=True, max_length=100),
                ),
                migrations.AddIndex(
                    model_name="customer",
                    index=models.Index(fields=["mobile_digits"], name="cust_mobile_digits_idx"),
                ),
                migrations.AddIndex(
                    model_name="customer",
                    index=models.Index(fields=["email_lower"], name="cust_email_lower_idx"),
                ),
                migrations.AddIndex(
                    model_name="customer",
                    index=models.Index(fields=["name_initials"], name="cust_name_initials_idx"),
                ),
            ],
        ),
    ]
