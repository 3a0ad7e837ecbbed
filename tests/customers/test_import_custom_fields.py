"""Custom fields in the customer import: mapped by their label in any language, checked
with the same rules as the form and API, written exactly, kept in the history."""

from __future__ import annotations

import pytest

from kehu.customers import custom_fields
from kehu.customers.models import Customer, CustomerChange
from kehu.dataio import services
from tests import factories
from tests.dataio.helpers import csv_bytes, import_file, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(admin_user):
    def define(key, kind, zh, **extra):
        return custom_fields.custom_field_create(
            actor=admin_user,
            key=key,
            kind=kind,
            label_en=key.title(),
            label_zh_hans=zh,
            label_zh_hant=zh,
            **extra,
        )

    return [
        define("budget", "number", "预算"),
        define("grade", "choice", "评级", choices=["A", "B", "C"]),
        define("since", "date", "合作开始"),
        define("wechat_group", "text", "微信群"),
    ]


HEADER = ["姓名", "手机", "预算", "评级", "合作开始", "Wechat_Group"]


def test_columns_are_guessed_by_label_and_values_stored_exactly(admin_user, fields):
    data = csv_bytes(
        [
            HEADER,
            ["张三", "13800000001", "12500.50", "A", "2024-03-05", "华东群"],
            ["李四", "13800000002", "", "", "", ""],
        ]
    )
    job = import_file(admin_user, "c.csv", data)
    assert job.mapping["评级"] == "custom.grade"
    assert job.mapping["预算"] == "custom.budget" and job.mapping["Wechat_Group"] == (
        "custom.wechat_group"
    )
    assert (job.created_count, job.rejected_count) == (2, 0)
    zhang = Customer.objects.get(name="张三")
    assert zhang.custom == {
        "budget": "12500.5",
        "grade": "A",
        "since": "2024-03-05",
        "wechat_group": "华东群",
    }
    assert Customer.objects.get(name="李四").custom == {}
    # The same value the form and API would store for it.
    assert zhang.custom == custom_fields.clean_custom_values(
        {"budget": "12500.50", "grade": "A", "since": "2024-03-05", "wechat_group": "华东群"},
        partial=False,
    )


def test_a_bad_value_rejects_its_row_naming_the_field(admin_user, fields):
    data = csv_bytes(
        [
            HEADER,
            ["张三", "13800000001", "很多", "A", "", ""],
            ["李四", "13800000002", "", "Z", "", ""],
            ["王五", "13800000003", "7", "B", "", ""],
        ]
    )
    job = import_file(admin_user, "c.csv", data)
    assert (job.created_count, job.rejected_count) == (1, 2)
    messages = [e.errors for e in job.row_errors.order_by("row_number")]
    assert "Budget" in messages[0][0] and "Grade" in messages[1][0]
    assert Customer.objects.get().custom == {"budget": 7, "grade": "B"}


def test_a_required_custom_field_must_be_mapped_and_filled(admin_user, fields):
    custom_fields.custom_field_update(actor=admin_user, field=fields[1], required=True)
    job = upload(admin_user, "c.csv", csv_bytes([["姓名"], ["张三"]]))
    assert set(services.missing_required(job)) & {"Grade", "评级"}
    data = csv_bytes([HEADER, ["张三", "", "", "B", "", ""], ["李四", "", "", "", "", ""]])
    job = import_file(admin_user, "c.csv", data)
    assert (job.created_count, job.rejected_count) == (1, 1)
    assert Customer.objects.get().name == "张三"


def test_an_update_sets_custom_values_and_keeps_them_in_the_history(admin_user, fields):
    existing = factories.customer(admin_user, "张三", mobile="13800000001", custom={"grade": "C"})
    data = csv_bytes([HEADER, ["张三", "13800000001", "99", "A", "", ""]])
    job = import_file(admin_user, "c.csv", data, options={"on_duplicate": "update"})
    assert job.updated_count == 1
    existing.refresh_from_db()
    assert existing.custom == {"grade": "A", "budget": 99}
    change = CustomerChange.objects.filter(customer=existing, field="custom.grade").latest("id")
    assert (change.old_value, change.new_value) == ("C", "A")
    assert CustomerChange.objects.filter(customer=existing, field="custom.budget").exists()
