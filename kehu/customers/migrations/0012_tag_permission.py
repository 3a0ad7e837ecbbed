"""Grant the new permission to rename, merge and delete tags to the built-in roles that
manage the customer file (editable afterwards)."""

from django.db import migrations

TAGS = "customers.tags"
GRANTS = {"administrator": [TAGS], "manager": [TAGS]}


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, perms in GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None:
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


def revoke(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.all():
        if TAGS in role.permissions:
            role.permissions = [p for p in role.permissions if p != TAGS]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("customers", "0011_last_contact_sort_index")]
    operations = [migrations.RunPython(grant, revoke)]
