"""Importing historical orders: formats, the bad rows of the issue, matching customers,
orders spanning batches, a crash and resume, dry run, re-import, the CLI and access."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent
from kehu.dataio import registry, services
from kehu.dataio.models import ImportJob, ImportRowError, JobStatus
from kehu.sales import services as sales
from kehu.sales.models import Order, OrderLine, Payment
from tests import factories
from tests.conftest import signed_in, token_client
from tests.dataio.helpers import csv_bytes, run, upload

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
D = Decimal


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return tmp_path


@pytest.fixture
def manager(team_a):
    """May import orders (department scope: sees the owner's and the teammate's customers)."""
    return factories.user("boss", role_code="manager", team_obj=team_a, name="赵经理")


@pytest.fixture
def products(admin_user):
    tea = sales.product_create(
        actor=admin_user, code="TEA", list_price="1280.50", tax_rate="0.13", name_zh_hans="茶"
    )
    cup = sales.product_create(
        actor=admin_user, code="CUP", list_price="88.00", tax_rate="0.13", name_zh_hans="杯"
    )
    return tea, cup


@pytest.fixture
def people(owner, teammate, team_b):
    """Customers: two the manager sees (owner's, teammate's), one in another department."""
    rival = factories.user("rival", role_code="sales", team_obj=team_b)
    return (
        factories.customer(owner, "张三", mobile="13800000001", email="zs@example.cn"),
        factories.customer(teammate, "李四", mobile="13800000002"),
        factories.customer(rival, "王五", mobile="13800000003", email="ww@example.cn"),
    )


def orders_file(rows: list[list[object]], **kwargs) -> bytes:
    return csv_bytes(rows, **kwargs)


def import_orders(actor, name: str, data: bytes, *, dry_run=False, batch_size=None, **options):
    job = upload(actor, name, data, kind="orders", options=options or None)
    return run(actor, job, dry_run=dry_run, batch_size=batch_size)


def errors_of(job) -> dict[int, list[str]]:
    return dict(ImportRowError.objects.filter(job=job).values_list("row_number", "errors"))


def order(number: str) -> Order:
    return Order.objects.get(number=number)


# --- Formats ---------------------------------------------------------------------------------

GBK_HEADER = ["订单号", "下单时间", "客户编号", "手机", "商品编码", "品名", "数量", "单价", "优惠",
              "金额", "实收", "渠道", "业务员"]  # fmt: skip


def test_gbk_csv_groups_lines_matches_customers_and_computes_totals(
    manager, teammate, products, people
):
    zhang, li, _wang = people
    data = orders_file(
        [
            GBK_HEADER,
            ["SO1", "2024/3/5 14:30", f"C{zhang.pk:06d}", "", "TEA", "", "2", "￥1,280.50", "",
             "￥2,561.00", "￥2,600.00", "门店", "teammate"],
            ["SO1", "2024/3/5 14:30", f"C{zhang.pk:06d}", "", "CUP", "", "1", "", "10", "", "",
             "门店", "teammate"],
            ["SO2", "2024年3月6日", "", "138 0000 0002", "", "礼盒", "3", "99.90", "9.70", "290",
             "", "小程序", ""],
            ["SO3", "20240307", "", "139 1111 2222", "", "散装茶", "1.5", "20", "", "", "30",
             "抖音", ""],
        ],
        encoding="gbk",
    )  # fmt: skip
    job = import_orders(manager, "订单.csv", data)
    assert (job.status, job.encoding, job.created_count, job.rejected_count) == (
        "done", "gb18030", 4, 0,
    )  # fmt: skip
    so1, so2, so3 = order("SO1"), order("SO2"), order("SO3")
    assert so1.customer == zhang and so1.import_job_id == job.pk
    assert so1.ordered_at == datetime(2024, 3, 5, 14, 30, tzinfo=SHANGHAI)
    assert (so1.owner, so1.team_id, so1.channel) == (teammate, teammate.team_id, "store")
    # 2 × 1280.50 + (88.00 − 10) ; tax included at 13 %: 294.63 + 8.97
    assert (so1.subtotal, so1.discount_total, so1.total, so1.tax_total) == (
        D("2649.00"), D("10.00"), D("2639.00"), D("303.60"),
    )  # fmt: skip
    assert (so1.paid_total, so1.payment_status, so1.delivery_status) == (
        D("2600.00"), "partial", "delivered",
    )  # fmt: skip
    lines = list(so1.lines.order_by("id"))
    assert [(ln.description, ln.quantity, ln.unit_price, ln.total) for ln in lines] == [
        ("茶", D("2"), D("1280.50"), D("2561.00")),
        ("杯", D("1"), D("88.00"), D("78.00")),
    ]
    payment = Payment.objects.get(order=so1)
    assert (payment.amount, payment.paid_at, payment.recorded_by) == (
        D("2600.00"), so1.ordered_at, manager,
    )  # fmt: skip
    assert (so2.customer, so2.total, so2.channel, so2.owner) == (li, D("290.00"), "wechat", manager)
    assert so2.payment_status == "unpaid"
    # Nobody with this mobile: an anonymous consumer's order, labelled with the masked mobile.
    assert (so3.customer, so3.consumer_label, so3.total) == (None, "139****2222", D("30.00"))
    assert (so3.channel, so3.notes, so3.payment_status) == ("other", "渠道: 抖音", "paid")
    event = AuditEvent.objects.get(action="sales.order.import")
    assert (event.actor, event.row_count, event.changes["orders"]) == (manager, 4, [None, 3])
    assert not services.job_file(job).exists()


def test_utf8_bom_csv_with_english_headers_matches_by_email(manager, products, people):
    zhang = people[0]
    header = ["Order No", "Order Date", "Customer Email", "SKU", "Qty", "Unit Price", "Discount",
              "Amount", "Paid", "Channel", "Payment Method", "Notes"]  # fmt: skip
    data = orders_file(
        [header, ["E-1", "2024-03-05", "ZS@Example.CN", "CUP", "3", "¥88", "¥4.00", "¥260.00",
                  "¥260", "Online shop", "支付宝", "gift"]],
        encoding="utf-8-sig",
    )  # fmt: skip
    job = import_orders(manager, "orders.csv", data)
    assert (job.encoding, job.created_count, job.rejected_count) == ("utf-8-sig", 1, 0)
    assert job.mapping == dict(zip(header, [
        "number", "ordered_at", "customer_email", "product_code", "quantity", "unit_price",
        "discount", "line_total", "paid", "channel", "payment_method", "notes",
    ], strict=True))  # fmt: skip
    e1 = order("E-1")
    assert (e1.customer, e1.total, e1.channel, e1.notes, e1.payment_status) == (
        zhang, D("260.00"), "online", "gift", "paid",
    )  # fmt: skip
    assert Payment.objects.get(order=e1).method == "alipay"


def test_xlsx_with_date_cells_and_numbers(manager, products, people, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["单号", "日期", "客户手机", "货号", "数量", "单价", "金额"])
    sheet.append(["X1", datetime(2024, 3, 5, 9, 30), 13800000001, "TEA", 1, 1280.5, 1280.5])
    sheet.append(["X1", datetime(2024, 3, 5, 9, 30), 13800000001, "CUP", 3, 88, 264])
    sheet.append(["X2", datetime(2024, 3, 6), None, "CUP", 0.5, 12.34 * 3, None])
    path = tmp_path / "订单.xlsx"
    book.save(path)
    job = import_orders(manager, "订单.xlsx", path.read_bytes())
    assert (job.created_count, job.rejected_count) == (3, 0), errors_of(job)
    x1, x2 = order("X1"), order("X2")
    assert (x1.customer, x1.total, x1.lines.count()) == (people[0], D("1544.50"), 2)
    assert x1.ordered_at == datetime(2024, 3, 5, 9, 30, tzinfo=SHANGHAI)
    # 0.5 × 37.02 (a float written out as 37.019999999999996) = 18.51
    assert (x2.customer, x2.consumer_label, x2.total) == (None, "", D("18.51"))


# --- The bad rows of the issue ---------------------------------------------------------------


def issue_file(zhang) -> bytes:
    code = f"C{zhang.pk:06d}"
    return orders_file(
        [
            GBK_HEADER,
            ["SO1001", "2024/3/5", code, "", "TEA", "", "2", "¥1,280.50", "", "¥2,561.00",
             "¥2,561.00", "门店", ""],  # row 2
            ["SO1001", "2024/3/5", code, "", "CUP", "", "1", "", "", "", "", "门店", ""],
            ["SO1002", "2024年3月5日", "", "138 0000 0002", "", "礼盒", "3", "￥99.90", "9.70",
             "", "", "线上", ""],  # row 4
            ["SO1003", "2024-03-06 10:15", "C999999", "", "TEA", "", "1", "", "", "", "", "", ""],
            ["SO1004", "2024/3/7", code, "", "TEA", "", "-2", "", "", "", "", "", ""],  # row 6
            ["SO1005", "2024/13/45", code, "", "TEA", "", "1", "", "", "", "", "", ""],
            ["SO1006", "2024.3.8", code, "", "NOPE", "", "1", "", "", "", "", "", ""],  # row 8
            ["SO1007", "20240309", code, "", "", "服务费", "1", "1,000", "", "999.00", "", "",
             ""],  # row 9
            ["SO1008", "2024/3/10", "", "", "", "包装", "2", "1.5元", "", "", "", "", ""],
            ["SO1009", "2024/3/11", code, "", "", "定金", "1", "abc", "", "", "", "", ""],
            ["SO1010", "2024/3/12", code, "", "", "赠品", "1", "0", "", "", "", "", "nobody"],
        ]
    )  # fmt: skip


def test_the_issues_bad_rows_are_rejected_and_good_rows_load_once(manager, products, people):
    zhang, li, _wang = people
    data = issue_file(zhang)
    job = import_orders(manager, "bad.csv", data, unmatched="reject")
    assert (job.status, job.created_count, job.skipped_count, job.rejected_count) == (
        "done", 3, 0, 8,
    )  # fmt: skip
    assert sorted(Order.objects.values_list("number", flat=True)) == ["SO1001", "SO1002"]
    so1001, so1002 = order("SO1001"), order("SO1002")
    assert (so1001.customer, so1001.total, so1001.tax_total, so1001.paid_total) == (
        zhang, D("2649.00"), D("304.75"), D("2561.00"),
    )  # fmt: skip
    assert so1001.ordered_at == datetime(2024, 3, 5, tzinfo=SHANGHAI)  # 2024/3/5
    assert (so1002.customer, so1002.total) == (li, D("290.00"))  # 3 × 99.90 − 9.70
    assert so1002.ordered_at == datetime(2024, 3, 5, tzinfo=SHANGHAI)  # 2024年3月5日
    assert OrderLine.objects.count() == 3
    assert sum(Order.objects.values_list("total", flat=True)) == D("2939.00")
    errors = errors_of(job)
    assert errors == {
        5: ["客户编号: Unknown customer."],
        6: ["数量: Enter a quantity greater than zero."],
        7: ["下单时间: Enter a date such as 2024-03-05 or 2024年3月5日 (a time may follow)."],
        8: ["商品编码: Unknown product code."],
        9: ["金额: 999.00 is not quantity × unit price − discount (1000.00)."],
        10: ["客户编号: Unknown customer."],  # no customer given: reject mode refuses it
        11: ["单价: Enter an amount such as ¥1,280.50."],
        12: ["业务员: No active colleague with this user name you may credit."],
    }
    report = services.report_file(job).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    assert [r[0] for r in rows[1:]] == ["5", "6", "7", "8", "9", "10", "11", "12"]
    assert rows[0][1:-1] == GBK_HEADER and rows[2][7] == "'-2"  # formula-safe

    # The same file again: nothing is loaded twice.
    again = import_orders(manager, "bad.csv", data, unmatched="reject")
    assert (again.created_count, again.skipped_count, again.rejected_count) == (0, 3, 8)
    assert Order.objects.count() == 2 and OrderLine.objects.count() == 3
    assert Payment.objects.count() == 1

    # Anonymous mode: the unknown customers become anonymous consumers' orders.
    third = import_orders(manager, "bad.csv", data)
    assert (third.created_count, third.skipped_count, third.rejected_count) == (2, 3, 6)
    assert order("SO1003").customer is None and order("SO1008").customer is None


def test_row_errors_are_in_the_jobs_language(manager, products, people):
    job = upload(manager, "bad.csv", issue_file(people[0]), kind="orders")
    job.language = "zh-hans"
    job.save()
    job = run(manager, job)
    with translation.override("zh-hans"):
        expected = translation.gettext("Enter a quantity greater than zero.")
    assert errors_of(job)[6] == [f"数量: {expected}"]


def test_an_order_with_a_bad_line_is_not_loaded_at_all(manager, products):
    data = orders_file(
        [["订单号", "日期", "商品编码", "数量"], ["A", "2024-03-05", "TEA", "1"],
         ["A", "2024-03-05", "TEA", "0"], ["A", "2024-03-05", "CUP", "1"],
         ["B", "2024-03-05", "CUP", "1"]]
    )  # fmt: skip
    job = import_orders(manager, "a.csv", data)
    assert (job.created_count, job.rejected_count) == (1, 3)
    assert list(Order.objects.values_list("number", flat=True)) == ["B"]
    errors = errors_of(job)
    assert errors[3] == ["数量: Enter a quantity greater than zero."]
    assert errors[2] == errors[4] == ["Not loaded: another line of order A was rejected (row 3)."]


def test_paid_amounts_must_agree_and_not_exceed_the_total(manager, products):
    data = orders_file(
        [["订单号", "日期", "商品编码", "数量", "实收"],
         ["A", "2024-03-05", "CUP", "1", "88"], ["A", "2024-03-05", "CUP", "1", "88"],
         ["B", "2024-03-05", "CUP", "1", "50"], ["B", "2024-03-05", "CUP", "1", "60"],
         ["C", "2024-03-05", "CUP", "1", "100"]]
    )  # fmt: skip
    job = import_orders(manager, "p.csv", data)
    assert (job.created_count, job.rejected_count) == (2, 3)
    a = order("A")
    assert (a.total, a.paid_total, a.payment_status) == (D("176.00"), D("88.00"), "partial")
    errors = errors_of(job)
    assert errors[4] == errors[5] == ["实收: The lines of this order give different paid amounts."]
    assert errors[6] == ["实收: More than the order's total 88.00."]


def test_rows_without_an_order_number_get_stable_numbers(manager, products):
    data = orders_file(
        [["日期", "商品编码", "数量"], ["2024-03-05", "TEA", "1"], ["2024-03-06", "CUP", "2"]]
    )
    job = import_orders(manager, "n.csv", data)
    numbers = sorted(Order.objects.values_list("number", flat=True))
    assert job.created_count == 2 and len(numbers) == 2
    assert all(n.startswith("IMP-") and n.endswith(("-2", "-3")) for n in numbers)
    again = import_orders(manager, "n-copy.csv", data)  # the same content under another name
    assert (again.created_count, again.skipped_count) == (0, 2)
    assert sorted(Order.objects.values_list("number", flat=True)) == numbers


def test_an_order_entered_by_hand_is_not_touched(manager, owner):
    manual = sales.order_create(
        actor=owner, number="SO1", lines=[{"description": "水", "unit_price": "2"}]
    )
    data = orders_file(
        [["订单号", "日期", "品名", "单价"], ["SO1", "2024-03-05", "茶", "10"],
         ["SO2", "2024-03-05", "茶", "10"]]
    )  # fmt: skip
    job = import_orders(manager, "m.csv", data)
    assert (job.created_count, job.skipped_count) == (1, 1)
    manual.refresh_from_db()
    assert (manual.total, manual.lines.count(), manual.version) == (D("2.00"), 1, 1)


def test_hostile_cells_are_kept_verbatim_or_rejected(manager):
    data = orders_file(
        [["订单号", "日期", "品名", "单价", "备注", "发货状态"],
         ["H1", "2024-03-05", '=HYPERLINK("http://x")', "1", "<script>x</script>", ""],
         ["H2", "2024-03-05", "茶\x07叶", "1", "", "已发货"],
         ["H3", "2024-03-05", "长" * 201, "1", "", ""],
         ["H4", "2024-03-05", "茶", "1", "", "丢了"],
         ["H5", "2024-03-05", "茶", "1", "", "未发货"]]
    )  # fmt: skip
    job = import_orders(manager, "h.csv", data)
    assert (job.created_count, job.rejected_count) == (3, 2)
    h1 = order("H1")
    assert h1.lines.get().description == '=HYPERLINK("http://x")'
    assert h1.notes == "<script>x</script>"
    assert order("H2").lines.get().description == "茶叶"  # control character dropped
    assert order("H5").delivery_status == "pending"
    errors = errors_of(job)
    assert errors[4] == ["品名: At most 200 characters."]
    assert errors[5] == ["发货状态: Not one of the choices."]


def test_dry_run_writes_nothing_then_the_same_job_runs(manager, products):
    data = orders_file(
        [["订单号", "日期", "商品编码", "数量"], ["A", "2024-03-05", "TEA", "1"],
         ["A", "2024-03-05", "CUP", "1"], ["B", "2024-03-05", "CUP", "-1"],
         ["C", "2024-03-05", "CUP", "1"]]
    )  # fmt: skip
    job = upload(manager, "d.csv", data, kind="orders")
    job = run(manager, job, dry_run=True, batch_size=1)  # "A" spans two batches
    assert (job.status, job.dry_run, job.created_count, job.rejected_count) == (
        "done", True, 3, 1,
    )  # fmt: skip
    assert Order.objects.count() == OrderLine.objects.count() == 0
    assert not AuditEvent.objects.filter(action="sales.order.import").exists()
    assert services.job_file(job).exists()
    job = run(manager, job)
    assert (job.dry_run, job.created_count, job.rejected_count) == (False, 3, 1)
    assert Order.objects.count() == 2 and OrderLine.objects.count() == 3


# --- Batches, crash and resume ---------------------------------------------------------------


def test_lines_of_one_order_across_a_batch_boundary_make_one_order(manager, products):
    data = orders_file(
        [["订单号", "日期", "商品编码", "数量", "实收"],
         ["A", "2024-03-05", "TEA", "1", ""], ["A", "2024-03-05", "CUP", "1", ""],
         ["A", "2024-03-05", "CUP", "2", "1000"], ["B", "2024-03-05", "CUP", "1", "88"],
         ["A", "2024-03-05", "CUP", "1", "1000"]]
    )  # fmt: skip
    job = import_orders(manager, "s.csv", data, batch_size=2)
    assert (job.created_count, job.rejected_count) == (5, 0)
    a = order("A")
    assert a.lines.count() == 4 and a.total == D("1632.50")  # 1280.50 + 4 × 88
    # 13 % included: 147.31 + 10.12 + 20.25 + 10.12
    assert (a.subtotal, a.tax_total) == (D("1632.50"), D("187.80"))
    assert (a.paid_total, a.payment_status, a.version) == (D("1000.00"), "partial", 3)
    assert Payment.objects.filter(order=a).count() == 1
    assert Order.objects.count() == 2
    assert AuditEvent.objects.filter(action="sales.order.import").count() == 3  # per batch


class Boom(Exception):
    pass


def test_killed_half_way_then_resumed_loads_every_line_exactly_once(manager, products, monkeypatch):
    header = ["订单号", "日期", "商品编码", "数量", "单价"]
    rows = [  # batches of 3: rows 2-4, 5-7 (crashes), 8-9
        ["X", "2024-03-05", "TEA", "0", ""],  # 2: a bad line of X
        ["Y", "2024-03-05", "TEA", "1", ""],  # 3
        ["", "2024-03-06", "CUP", "2", ""],  # 4: no number
        ["Y", "2024-03-05", "CUP", "1", ""],  # 5: Y spans batches 1 and 2
        ["X", "2024-03-05", "CUP", "1", ""],  # 6: X was rejected in batch 1
        ["", "2024-03-07", "CUP", "3", "¥10"],  # 7
        ["Z", "2024-03-08", "CUP", "1", ""],  # 8
        ["Z", "2024-03-08", "TEA", "1", ""],  # 9
    ]
    job = upload(manager, "big.csv", orders_file([header, *rows]), kind="orders")
    services.job_start(actor=manager, job=job, dry_run=False, enqueue=False)
    importer = registry.get("orders")
    original = type(importer).process_batch
    calls = {"n": 0}

    def crash_in_second(self, *args, **kwargs):
        calls["n"] += 1
        result = original(self, *args, **kwargs)
        if calls["n"] == 2:
            raise Boom  # after the batch's writes, before its commit
        return result

    monkeypatch.setattr(type(importer), "process_batch", crash_in_second)
    with pytest.raises(Boom):
        services.run_import(job.pk, batch_size=3)
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (JobStatus.FAILED, 3)
    assert Order.objects.filter(number__startswith="IMP-").count() == 1
    assert order("Y").lines.count() == 1 and OrderLine.objects.count() == 2
    monkeypatch.setattr(type(importer), "process_batch", original)
    services.job_resume(actor=manager, job=job, enqueue=False)
    services.run_import(job.pk, batch_size=3)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.rejected_count) == (
        "done", 8, 6, 2,
    )  # fmt: skip
    assert Order.objects.count() == 4 and OrderLine.objects.count() == 6
    assert order("Y").total == D("1368.50") and order("Y").lines.count() == 2
    assert order("Z").total == D("1368.50") and order("Z").lines.count() == 2
    numbered = Order.objects.filter(number__startswith="IMP-").order_by("ordered_at")
    assert [o.total for o in numbered] == [D("176.00"), D("30.00")]
    assert errors_of(job)[6] == ["Not loaded: another line of order X was rejected earlier."]
    # and once more from the start: everything is there already
    again = import_orders(manager, "big.csv", orders_file([header, *rows]))
    assert (again.created_count, again.skipped_count, again.rejected_count) == (0, 6, 2)
    assert OrderLine.objects.count() == 6


# --- Customers the importer may see ----------------------------------------------------------


def visibility_file(suffix: str, wang) -> bytes:
    return orders_file(
        [["订单号", "日期", "客户编号", "手机", "邮箱", "顾客", "品名", "单价"],
         [f"A{suffix}", "2024-03-05", str(wang.pk), "", "", "", "茶", "10"],
         [f"B{suffix}", "2024-03-05", "", "13800000003", "", "", "茶", "10"],
         [f"C{suffix}", "2024-03-05", "", "", "WW@example.cn", "散客", "茶", "10"],
         [f"D{suffix}", "2024-03-05", "", "", "zs@example.cn", "", "茶", "10"]]
    )  # fmt: skip


def test_matching_sees_only_customers_visible_to_the_importer(manager, admin_user, people):
    zhang, _li, wang = people  # wang: another department's customer
    job = import_orders(manager, "v.csv", visibility_file("1", wang))
    assert job.created_count == 4
    assert [order(f"{n}1").customer_id for n in "ABCD"] == [None, None, None, zhang.pk]
    assert [order(f"{n}1").consumer_label for n in "ABCD"] == ["", "138****0003", "散客", ""]
    job = import_orders(manager, "v.csv", visibility_file("2", wang), unmatched="reject")
    assert (job.created_count, job.rejected_count) == (1, 3)
    assert list(errors_of(job).values()) == [  # named after the column that held the value
        ["客户编号: Unknown customer."],
        ["手机: Unknown customer."],
        ["邮箱: Unknown customer."],
    ]
    job = import_orders(admin_user, "v.csv", visibility_file("3", wang))
    assert [order(f"{n}3").customer_id for n in "ABCD"] == [wang.pk, wang.pk, wang.pk, zhang.pk]


# --- Access, API, pages, CLI -----------------------------------------------------------------

SIMPLE = orders_file([["订单号", "日期", "品名", "单价"], ["A", "2024-03-05", "茶", "10"]])


def test_a_salesperson_without_the_permission_cannot_import_orders(owner, manager):
    with pytest.raises(AccessDenied):
        upload(owner, "o.csv", SIMPLE, kind="orders")
    client = token_client(owner)
    response = client.post(
        "/api/v1/imports", {"kind": "orders", "file": SimpleUploadedFile("o.csv", SIMPLE)}
    )
    assert response.status_code == 404
    page = signed_in(owner).post(
        "/imports/new/", {"kind": "orders", "file": SimpleUploadedFile("o.csv", SIMPLE)}
    )
    assert page.status_code == 422 and b'data-error-for="kind"' in page.content
    assert b'value="orders"' not in signed_in(owner).get("/imports/").content
    # Someone else's orders import is not there for them.
    job = upload(manager, "o.csv", SIMPLE, kind="orders")
    assert client.get(f"/api/v1/imports/{job.pk}").status_code == 404
    assert (
        client.post(
            f"/api/v1/imports/{job.pk}/start", {"dry_run": False}, content_type="application/json"
        ).status_code
        == 404
    )
    assert signed_in(owner).get(f"/imports/{job.pk}/").status_code == 404
    assert ImportJob.objects.count() == 1 and Order.objects.count() == 0


def test_api_and_pages_start_an_orders_import(manager, django_capture_on_commit_callbacks):
    client = token_client(manager)
    response = client.post(
        "/api/v1/imports", {"kind": "orders", "file": SimpleUploadedFile("o.csv", SIMPLE)}
    )
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["kind"] == "orders" and job["options"] == {"unmatched": "anonymous"}
    assert job["mapping"] == {"订单号": "number", "日期": "ordered_at", "品名": "description",
                              "单价": "unit_price"}  # fmt: skip
    url = f"/api/v1/imports/{job['id']}"
    body = {"options": {"unmatched": "reject"}}
    assert client.patch(url, body, content_type="application/json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{url}/start", {"dry_run": False}, content_type="application/json")
    body = client.get(url).json()
    assert (body["status"], body["created"], body["rejected"]) == ("done", 0, 1)
    # The page offers orders to a manager and starts one.
    pages = signed_in(manager)
    assert b'value="orders"' in pages.get("/imports/").content
    response = pages.post(
        "/imports/new/", {"kind": "orders", "file": SimpleUploadedFile("o.csv", SIMPLE)}
    )
    assert response.status_code == 302
    page = pages.get(response.url).content.decode()
    assert "opt_unmatched" in page
    pk = int(response.url.rstrip("/").rsplit("/", 1)[1])
    form = {"col_0": "number", "col_1": "ordered_at", "col_2": "description", "col_3": "unit_price",
            "opt_unmatched": "anonymous", "dry_run": "0"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert pages.post(f"/imports/{pk}/start/", form).status_code == 302
    assert order("A").consumer_label == "" and order("A").total == D("10.00")


def test_options_are_checked(manager):
    job = upload(manager, "o.csv", SIMPLE, kind="orders")
    with pytest.raises(ValidationError):
        services.job_configure(actor=manager, job=job, options={"unmatched": "merge"})
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.job_configure(actor=manager, job=job, mapping={"日期": ""})  # date required
    assert "Order date" in caught.value.message_dict["mapping"][0]


def test_cli_prints_the_json_summary(manager, owner, products, tmp_path, capsys):
    from kehu.cli import main

    path = tmp_path / "订单.csv"
    path.write_bytes(issue_file(factories.customer(owner, "张三")))
    try:
        assert main(["import", "orders", str(path), "--as", "boss", "--dry-run"]) == 0
        dry = json.loads(capsys.readouterr().out)
        assert (dry["dry_run"], dry["created"], dry["rejected"]) == (True, 5, 6)
        assert Order.objects.count() == 0
        code = main(["import", "orders", str(path), "--as", "boss", "--unmatched", "reject"])
        out = json.loads(capsys.readouterr().out)
        assert code == 0
        assert (out["created"], out["updated"], out["skipped"], out["rejected"]) == (2, 0, 0, 9)
        assert out["error_report"].endswith(".csv") and out["status"] == "done"
        with pytest.raises(SystemExit) as caught:
            main(["import", "orders", str(path), "--as", "boss", "--unmatched", "merge"])
        assert caught.value.code == 2
        with pytest.raises(SystemExit) as caught:
            main(["import", "orders", str(path), "--as", "owner"])
        assert caught.value.code == 2 and "owner may not import" in capsys.readouterr().err
    finally:
        translation.deactivate()
