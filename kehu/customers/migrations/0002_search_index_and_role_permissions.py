"""Substring search on PostgreSQL through pg_trgm, and customer permissions for the
built-in roles (administrators can change roles afterwards)."""

from django.db import migrations

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS cust_search_trgm_idx ON customers_customer "
    "USING gin (search_text gin_trgm_ops)",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS cust_search_trgm_idx"]

VIEW, CHANGE, DELETE, CLAIM, TRANSFER = (
    "customers.view", "customers.change", "customers.delete", "customers.claim",
    "customers.transfer",
)
GRANTS = {
    "administrator": [VIEW, CHANGE, DELETE, CLAIM, TRANSFER],
    "manager": [VIEW, CHANGE, DELETE, CLAIM, TRANSFER],
    "sales": [VIEW, CHANGE, CLAIM],
    "service_agent": [VIEW, CHANGE],
    "marketer": [VIEW],
    "member": [VIEW],
    "auditor": [VIEW],
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_FORWARD:
            schema_editor.execute(sql)
    grant(apps)


def grant(apps):
    Role = apps.get_model("accounts", "Role")
    for code, perms in GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None:
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial"), ("accounts", "0002_seed_departments_roles")]
    operations = [migrations.RunPython(forward, backward)]
