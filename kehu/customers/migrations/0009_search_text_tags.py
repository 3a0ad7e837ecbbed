"""Tag names become words of search_text (kehu.customers.services.search_key_values), so
that a tag is found through the same index as a name and the search needs no join per
row. Customers that carry tags get their search_text computed again; others keep it."""

from itertools import groupby

from django.db import migrations

BATCH = 2000


def _write(schema_editor, Customer, tags_of):
    from kehu.customers.services import search_key_values  # the rule itself, as 0007 does

    rows = Customer._base_manager.filter(pk__in=list(tags_of)).values_list(
        "pk", "name", "company", "mobile", "phone", "email", "wechat", "city", "search_text"
    )
    updates = []
    for pk, name, company, mobile, phone, email, wechat, city, old in rows:
        text = search_key_values(
            name=name,
            company=company,
            mobile=mobile,
            phone=phone,
            email=email,
            wechat=wechat,
            city=city,
            tags=tags_of[pk],
        )[-1]
        if text != old:
            updates.append((text, pk))
    if updates:
        table = schema_editor.quote_name(Customer._meta.db_table)
        with schema_editor.connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET search_text = %s WHERE id = %s", updates)  # noqa: S608


def tags_into_search_text(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    links = (
        Customer.tags.through.objects.order_by("customer_id", "tag_id")
        .values_list("customer_id", "tag__name")
        .iterator(chunk_size=BATCH * 2)
    )
    tags_of: dict[int, list[str]] = {}
    for pk, group in groupby(links, key=lambda link: link[0]):
        tags_of[pk] = [name for _pk, name in group]
        if len(tags_of) >= BATCH:
            _write(schema_editor, Customer, tags_of)
            tags_of = {}
    if tags_of:
        _write(schema_editor, Customer, tags_of)


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_partial_deleted_index")]
    operations = [migrations.RunPython(tags_into_search_text, migrations.RunPython.noop)]
