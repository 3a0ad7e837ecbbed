"""The eight departments of a manufacturer that touches its customers (seed text 002) and
the built-in roles. Both stay editable by administrators."""

from django.db import migrations

DEPARTMENTS = [
    ("marketing", "市场部", "市場部", "Marketing"),
    ("sales", "营销部", "營銷部", "Sales"),
    ("service", "客户服务部", "客戶服務部", "Customer service"),
    ("rnd", "产品研发部", "產品研發部", "Product R&D"),
    ("production", "生产部", "生產部", "Production"),
    ("purchasing", "采购部", "採購部", "Purchasing"),
    ("quality", "质检部", "質檢部", "Quality control"),
    ("hr", "人力资源部", "人力資源部", "Human resources"),
]

VIEW_USERS = "accounts.view_users"
MANAGE_USERS = "accounts.manage_users"
VIEW_AUDIT = "audit.view"

ROLES = [
    ("administrator", "管理员", "管理員", "Administrator", "all", [VIEW_USERS, MANAGE_USERS, VIEW_AUDIT]),
    ("manager", "经理", "經理", "Manager", "department", [VIEW_USERS]),
    ("sales", "销售", "銷售", "Salesperson", "own", [VIEW_USERS]),
    ("service_agent", "客服专员", "客服專員", "Service agent", "team", [VIEW_USERS]),
    ("marketer", "市场专员", "市場專員", "Marketer", "department", [VIEW_USERS]),
    ("member", "部门成员", "部門成員", "Department member", "own", []),
    ("auditor", "审计员", "審計員", "Auditor", "all", [VIEW_USERS, VIEW_AUDIT]),
]


def seed(apps, schema_editor):
    Department = apps.get_model("accounts", "Department")
    Role = apps.get_model("accounts", "Role")
    for position, (code, hans, hant, en) in enumerate(DEPARTMENTS):
        Department.objects.get_or_create(
            code=code,
            defaults={"name_zh_hans": hans, "name_zh_hant": hant, "name_en": en, "position": position},
        )
    for code, hans, hant, en, scope, perms in ROLES:
        Role.objects.get_or_create(
            code=code,
            defaults={
                "name_zh_hans": hans, "name_zh_hant": hant, "name_en": en,
                "data_scope": scope, "permissions": perms, "is_system": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
