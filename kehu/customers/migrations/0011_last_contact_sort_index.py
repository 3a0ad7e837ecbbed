"""PostgreSQL: an index that gives the list's last-contact sorts in order.

"Recently contacted first" is ``last_contact_at DESC NULLS LAST, id DESC`` and "longest
without contact first" ``last_contact_at ASC NULLS FIRST, id ASC``: the same order read
forwards and backwards. cust_last_contact_idx (``last_contact_at``, PostgreSQL's default
NULLS LAST ascending) gives neither, so a search sorted that way read every match of a
common term and sorted it (~400 ms for "王" at a million customers). SQLite puts NULLs
first in ascending order and last in descending, so its cust_last_contact_idx already
serves both sorts: nothing to do there. Not in Meta.indexes, as Django cannot declare the
NULLS placement portably (SQLite rejects it in CREATE INDEX).
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS cust_last_contact_sort_idx ON customers_customer "
    "(last_contact_at DESC NULLS LAST, id DESC)"
)
DROP = "DROP INDEX IF EXISTS cust_last_contact_sort_idx"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_slim_customer_indexes")]

    operations = [migrations.RunPython(forward, backward)]
