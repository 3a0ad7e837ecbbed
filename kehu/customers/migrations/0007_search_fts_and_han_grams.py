"""Fast search at a million customers.

* search_text gains its Han n-gram words (see kehu.customers.search_keys.search_text), so
  one- and two-character Chinese queries use the trigram index too.
* An index for the list's default order (-updated_at, -id).
* SQLite: an FTS5 table with the trigram tokenizer over search_text (external content,
  kept in sync by triggers); PostgreSQL has had its pg_trgm GIN index since 0002. A SQLite
  without FTS5 trigram (older than 3.34, or built without FTS5) keeps working: search then
  falls back to LIKE, and this is logged.
"""

import logging
import sqlite3

from django.db import migrations, models

from kehu.customers.search_keys import SEPARATOR, with_han_grams

log = logging.getLogger("kehu.customers")

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_customer_fts USING fts5("
    "search_text, content='customers_customer', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_fts_ai AFTER INSERT ON customers_customer "
    "BEGIN INSERT INTO customers_customer_fts(rowid, search_text) "
    "VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_fts_ad AFTER DELETE ON customers_customer "
    "BEGIN INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_fts_au AFTER UPDATE OF search_text "
    "ON customers_customer "
    "BEGIN INSERT INTO customers_customer_fts(customers_customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO customers_customer_fts(rowid, search_text) VALUES (new.id, new.search_text); "
    "END",
    "INSERT INTO customers_customer_fts(customers_customer_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS customers_customer_fts_ai",
    "DROP TRIGGER IF EXISTS customers_customer_fts_ad",
    "DROP TRIGGER IF EXISTS customers_customer_fts_au",
    "DROP TABLE IF EXISTS customers_customer_fts",
]


def add_han_grams(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    rows = (
        Customer._base_manager.exclude(search_text="")
        .exclude(search_text__endswith=SEPARATOR)
        .values_list("pk", "search_text")
        .order_by("pk")
    )
    batch = []
    for pk, text in rows.iterator(chunk_size=2000):
        new = with_han_grams(text.split(SEPARATOR))
        if new != text:
            batch.append(Customer(pk=pk, search_text=new))
        if len(batch) >= 2000:
            Customer._base_manager.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Customer._base_manager.bulk_update(batch, ["search_text"])


def sqlite_fts_forward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    if sqlite3.sqlite_version_info < (3, 34, 0):
        log.warning(
            "SQLite %s has no FTS5 trigram tokenizer (3.34+): customer search uses LIKE.",
            sqlite3.sqlite_version,
        )
        return
    try:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SAVEPOINT kehu_fts")
            for sql in SQLITE_FORWARD:
                cursor.execute(sql)
            cursor.execute("RELEASE SAVEPOINT kehu_fts")
    except Exception as exc:  # a build without FTS5: search still works, with LIKE
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("ROLLBACK TO SAVEPOINT kehu_fts")
            cursor.execute("RELEASE SAVEPOINT kehu_fts")
        log.warning("No FTS5 trigram index (%s): customer search uses LIKE.", exc)


def sqlite_fts_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_role_permissions")]
    operations = [
        migrations.RunPython(add_han_grams, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["-updated_at", "-id"], name="cust_updated_idx"),
        ),
        migrations.RunPython(sqlite_fts_forward, sqlite_fts_backward),
    ]
