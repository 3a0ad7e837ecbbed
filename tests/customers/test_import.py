"""Customer import: formats, validation in the job's language, duplicates, dry run,
resume after a crash, hostile input and the error report."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import translation

from kehu.core.models import AuditEvent
from kehu.customers.models import Contact, Customer, CustomerChange, Tag
from kehu.dataio import registry, services
from kehu.dataio.models import ImportJob, ImportRowError, JobStatus
from tests import factories
from tests.dataio.helpers import csv_bytes, import_file, run, upload

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "手机", "邮箱", "公司", "城市", "标签", "备注"]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _rows(n: int, start: int = 0) -> list[list[str]]:
    return [
        [f"客户{i}", f"138{i:08d}", f"c{i}@example.cn", "", "上海", "VIP", ""]
        for i in range(start, start + n)
    ]


def test_gbk_file_creates_customers_owned_by_the_importer(owner):
    data = csv_bytes(
        [HEADER, ["张三", "138 1234 5678", "ZS@Example.cn", "腾讯", "深圳", "VIP，展会", "老客户"]],
        encoding="gbk",
    )
    job = import_file(owner, "客户.csv", data)
    assert (job.status, job.encoding, job.created_count, job.rejected_count) == (
        "done", "gb18030", 1, 0,
    )  # fmt: skip
    customer = Customer.objects.get()
    assert customer.owner == owner and customer.team_id == owner.team_id
    assert customer.source == "import"
    assert customer.mobile == "+8613812345678" and customer.mobile_digits == "13812345678"
    assert customer.email == "zs@example.cn"
    assert customer.name_initials == "zs"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "展会"]
    assert CustomerChange.objects.filter(customer=customer, field="import").count() == 1
    event = AuditEvent.objects.get(action="customer.import")
    assert event.row_count == 1 and event.actor == owner
    assert not services.job_file(job).exists()  # the upload is removed once loaded


def test_utf8_bom_semicolon_file(owner):
    data = csv_bytes([["Name", "Mobile", "Gender", "Birthday"], ["Li Na", "13912345678", "女", "1990/3/5"]],
                     encoding="utf-8-sig", delimiter=";")  # fmt: skip
    job = import_file(owner, "c.csv", data)
    assert job.encoding == "utf-8-sig" and job.created_count == 1
    customer = Customer.objects.get()
    assert (customer.gender, str(customer.birthday)) == ("female", "1990-03-05")


def test_gb18030_file(owner):
    data = csv_bytes([["客户名称", "手机号"], ["𠀀王", "13712345678"]], encoding="gb18030")
    job = import_file(owner, "c.csv", data)
    assert job.created_count == 1 and Customer.objects.get().name == "𠀀王"


def test_xlsx_file(owner, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["客户名称", "手机", "出生日期", "客户等级", "联系人", "职位"])
    from datetime import date

    book.active.append(
        ["某某科技有限公司", 13812345678, date(1980, 1, 2), "重点", "王五", "采购经理"]
    )
    path = tmp_path / "x.xlsx"
    book.save(path)
    job = import_file(owner, "客户.xlsx", path.read_bytes())
    assert job.created_count == 1, list(ImportRowError.objects.values_list("errors", flat=True))
    customer = Customer.objects.get()
    assert (customer.kind, customer.tier, str(customer.birthday)) == (
        "organisation", "key", "1980-01-02",
    )  # fmt: skip
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.role, contact.is_primary) == ("王五", "采购经理", True)


def test_vcard_creates_individual_customers(owner):
    from tests.dataio.test_readers import VCARD_3, VCARD_4, VCARD_QP

    job = import_file(owner, "contacts.vcf", (VCARD_3 + VCARD_4 + VCARD_QP).encode())
    assert (job.created_count, job.rejected_count) == (4, 0), list(
        ImportRowError.objects.values_list("errors", flat=True)
    )
    names = set(Customer.objects.values_list("name", flat=True))
    assert names == {"张三", "李娜", "John Smith", "王五先生的长名字"}
    zhang = Customer.objects.get(name="张三")
    assert zhang.kind == "individual" and zhang.company == "腾讯科技 市场部"
    assert zhang.city == "深圳" and zhang.phone == "+861065529988"
    assert "经理" in zhang.notes  # the job title is kept in the notes
    li = Customer.objects.get(name="李娜")
    assert li.mobile == "+8613912345678" and li.birthday is None and "03" in li.notes


def test_row_errors_in_the_jobs_language(owner):
    data = csv_bytes([HEADER, ["", "123", "not-an-email", "", "", "", ""]])
    job = upload(owner, "c.csv", data)
    job.language = "zh-hans"
    job.save()
    job = run(owner, job)
    error = ImportRowError.objects.get(job=job)
    assert error.row_number == 2
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        expected = gettext("Enter a valid email address.")
    assert any(expected in message for message in error.errors)
    assert len(error.errors) == 3  # name, mobile, email


def test_dry_run_writes_nothing_but_counts(owner):
    data = csv_bytes([HEADER, *_rows(3), ["bad", "1", "", "", "", "", ""], _rows(1)[0]])
    job = upload(owner, "c.csv", data)
    before = AuditEvent.objects.filter(action="customer.import").count()
    job = run(owner, job, dry_run=True)
    assert (job.status, job.dry_run) == ("done", True)
    assert (job.created_count, job.skipped_count, job.rejected_count) == (3, 1, 1)
    assert Customer.objects.count() == 0 and Tag.objects.count() == 0
    assert CustomerChange.objects.count() == 0
    assert AuditEvent.objects.filter(action="customer.import").count() == before
    assert services.job_file(job).exists()
    # …then the same job for real
    job = run(owner, job)
    assert (job.dry_run, job.created_count, job.skipped_count, job.rejected_count) == (
        False, 3, 1, 1,
    )  # fmt: skip
    assert Customer.objects.count() == 3
    assert ImportRowError.objects.filter(job=job).count() == 1


def _existing(owner):
    return factories.customer(owner, "张三", mobile="13800000001", email="old@example.cn")


def test_duplicate_policy_skip(owner):
    existing = _existing(owner)
    data = csv_bytes([HEADER, ["张三丰", "13800000001", "", "", "杭州", "", ""],
                      ["王五", "", "OLD@example.cn", "", "", "", ""],
                      ["新人", "13800000009", "", "", "", "", ""],
                      ["新人二", "13800000009", "", "", "", "", ""]])  # fmt: skip
    job = import_file(owner, "c.csv", data, options={"on_duplicate": "skip"})
    assert (job.created_count, job.skipped_count, job.updated_count) == (1, 3, 0)
    existing.refresh_from_db()
    assert existing.city == "" and existing.version == 1


def test_duplicate_policy_update(owner):
    existing = _existing(owner)
    data = csv_bytes([HEADER, ["张三", "13800000001", "", "", "杭州", "重要", "新备注"],
                      ["新人", "13800000009", "", "", "", "", ""],
                      ["新人", "13800000009", "", "", "苏州", "", ""]])  # fmt: skip
    job = import_file(owner, "c.csv", data, options={"on_duplicate": "update"})
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 2, 0)
    existing.refresh_from_db()
    assert existing.city == "杭州" and existing.version == 2
    assert "新备注" in existing.notes
    assert list(existing.tags.values_list("name", flat=True)) == ["重要"]
    change = CustomerChange.objects.get(customer=existing, field="city")
    assert (change.old_value, change.new_value, change.actor) == ("", "杭州", owner)
    assert Customer.objects.get(name="新人").city == "苏州"  # a later row in the file wins


def test_imported_tags_are_searchable_also_when_only_tags_change(owner):
    from kehu.customers.selectors import CustomerFilters, customer_list

    existing = _existing(owner)
    data = csv_bytes([HEADER, ["张三", "13800000001", "", "", "", "展会2026", ""],
                      ["李娜", "13800000007", "", "", "", "Newsletter", ""]])  # fmt: skip
    job = import_file(owner, "c.csv", data, options={"on_duplicate": "update"})
    assert (job.created_count, job.updated_count) == (1, 1)

    def found(q):
        return set(
            customer_list(actor=owner, filters=CustomerFilters(q=q)).values_list("name", flat=True)
        )

    assert found("展会2026") == {"张三"} and found("newsletter") == {"李娜"}
    existing.refresh_from_db()
    assert existing.version == 2  # a tag added is a change of the record


def test_update_never_touches_someone_elses_customer(owner, outsider, team_b):
    other = factories.user("other-sales", role_code="sales", team_obj=team_b)
    theirs = factories.customer(other, "赵六", mobile="13800000002")
    data = csv_bytes([HEADER, ["赵六", "13800000002", "", "", "广州", "", ""]])
    job = import_file(owner, "c.csv", data, options={"on_duplicate": "update"})
    assert (job.updated_count, job.rejected_count) == (0, 1)
    theirs.refresh_from_db()
    assert theirs.city == "" and theirs.owner == other


def test_duplicate_policy_create(owner):
    _existing(owner)
    data = csv_bytes([HEADER, ["张三", "13800000001", "", "", "", "", ""]])
    job = import_file(owner, "c.csv", data, options={"on_duplicate": "create"})
    assert (
        job.created_count == 1 and Customer.objects.filter(mobile_digits="13800000001").count() == 2
    )


def test_duplicates_by_name_and_company_across_batches(owner):
    rows = [["客户甲", "", "", "某公司", "", "", ""]] * 3
    job = upload(owner, "c.csv", csv_bytes([HEADER, *rows]))
    services.job_start(actor=owner, job=job, dry_run=False, enqueue=False)
    services.run_import(job.pk, batch_size=1)  # each row its own batch: found in the database
    job.refresh_from_db()
    assert (job.created_count, job.skipped_count) == (1, 2)


class Boom(Exception):
    pass


def test_killed_half_way_then_resumed_loads_every_row_exactly_once(owner, monkeypatch):
    data = csv_bytes([HEADER, *_rows(50), ["", "bad", "", "", "", "", ""]])
    job = upload(owner, "c.csv", data)
    services.job_start(actor=owner, job=job, dry_run=False, enqueue=False)
    importer = registry.get("customers")
    original = type(importer).process_batch
    calls = {"n": 0}

    def crash_in_third(self, *args, **kwargs):
        calls["n"] += 1
        result = original(self, *args, **kwargs)
        if calls["n"] == 3:
            raise Boom  # after the batch's writes, before its commit
        return result

    monkeypatch.setattr(type(importer), "process_batch", crash_in_third)
    with pytest.raises(Boom):
        services.run_import(job.pk, batch_size=10)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.processed_rows == 20 and Customer.objects.count() == 20
    monkeypatch.setattr(type(importer), "process_batch", original)
    services.job_resume(actor=owner, job=job, enqueue=False)
    services.run_import(job.pk, batch_size=10)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.rejected_count) == (
        "done", 51, 50, 1,
    )  # fmt: skip
    assert Customer.objects.count() == 50
    assert Customer.objects.values("mobile_digits").distinct().count() == 50
    assert ImportRowError.objects.filter(job=job).count() == 1


def test_a_job_abandoned_by_a_dead_worker_is_resumed(owner):
    from datetime import timedelta

    from django.utils import timezone

    job = upload(owner, "c.csv", csv_bytes([HEADER, *_rows(5)]))
    services.job_start(actor=owner, job=job, dry_run=False, enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert services.run_import(job.pk) is not None  # stale: taken over
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now()
    )
    assert services.run_import(job.pk) is None  # fresh heartbeat: someone else runs it
    assert Customer.objects.count() == 5


HOSTILE = [
    ["<script>alert(1)</script>", "13812340001", "", "", "", "", '=HYPERLINK("http://x")'],
    ["=1+2", "13812340002", "", "", "", "", "@SUM(A1)"],
    ["张\x07三\x1b", "13812340003", "", "", "", "", ""],
    ["长" * 10_000, "13812340004", "", "", "", "", ""],
    ["+cmd|' /C calc'!A0", "not a phone", "a@@b", "", "", "", ""],
    ["-2+3", "13812340005", "bad email", "", "", "", "x" * 10_000],
]


def test_hostile_input_is_rejected_or_kept_verbatim_and_the_report_is_formula_safe(owner):
    job = import_file(owner, "h.csv", csv_bytes([HEADER, *HOSTILE]))
    assert (job.created_count, job.rejected_count) == (3, 3)
    names = set(Customer.objects.values_list("name", flat=True))
    assert names == {"<script>alert(1)</script>", "=1+2", "张三"}  # controls stripped
    assert Customer.objects.get(name="=1+2").notes == "@SUM(A1)"
    path = services.report_file(job)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "Row" and rows[0][-1] == "Errors" and rows[0][1:-1] == HEADER
    assert [r[0] for r in rows[1:]] == ["5", "6", "7"]
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", cell
    assert rows[2][1] == "'+cmd|' /C calc'!A0"
    assert len(rows[1][1]) == 10_000  # nothing of the rejected row is lost
    assert rows[3][1] == "'-2+3" and "x" * 10_000 in rows[3]


def test_options_and_mapping_are_checked(owner):
    from django.core.exceptions import ValidationError

    job = upload(owner, "c.csv", csv_bytes([HEADER, *_rows(1)]))
    with pytest.raises(ValidationError):
        services.job_configure(actor=owner, job=job, options={"on_duplicate": "merge"})
    with pytest.raises(ValidationError):
        services.job_configure(actor=owner, job=job, mapping={"手机": "name", "姓名": "name"})
    with pytest.raises(ValidationError):
        services.job_configure(actor=owner, job=job, mapping={"nope": "name"})
    with pytest.raises(ValidationError):  # no column for the required name
        services.job_configure(actor=owner, job=job, mapping={"姓名": ""})


def test_upload_limits(owner, settings):
    from django.core.exceptions import ValidationError

    settings.KEHU_IMPORT_MAX_MB = 1
    with pytest.raises(ValidationError):
        upload(owner, "big.csv", b"name\n" + b"x" * (1024 * 1024 + 10))
    with pytest.raises(ValidationError):
        upload(owner, "c.exe", b"name\n")
    with pytest.raises(ValidationError):
        upload(owner, "c.csv", b"")
    assert list(services.imports_dir().glob("*.csv")) == []  # nothing left behind
    job = upload(owner, "../../etc/passwd.csv", b"name\nx\n")
    assert job.original_name == "passwd.csv" and "passwd" not in job.file_path


def test_update_goes_to_the_duplicate_changed_last_never_a_deleted_or_merged_one(owner):
    from datetime import timedelta

    from django.utils import timezone

    older = factories.customer(owner, "张三", mobile="13800000001")
    newer = factories.customer(owner, "张三", mobile="13800000001")
    deleted = factories.customer(owner, "张三", mobile="13800000001")
    merged = factories.customer(owner, "张三", mobile="13800000001")
    now = timezone.now()
    Customer.all_objects.filter(pk=older.pk).update(updated_at=now - timedelta(days=1))
    Customer.all_objects.filter(pk=newer.pk).update(updated_at=now - timedelta(hours=1))
    # changed later still, but gone: a soft-deleted record, and one merged into another
    Customer.all_objects.filter(pk=deleted.pk).update(updated_at=now, deleted_at=now)
    Customer.all_objects.filter(pk=merged.pk).update(updated_at=now, merged_into=older)
    data = csv_bytes([HEADER, ["张三", "13800000001", "", "", "杭州", "", ""]])
    job = import_file(owner, "c.csv", data, options={"on_duplicate": "update"})
    assert (job.created_count, job.updated_count) == (0, 1)
    cities = dict(Customer.all_objects.values_list("pk", "city"))
    assert cities == {older.pk: "", newer.pk: "杭州", deleted.pk: "", merged.pk: ""}


def test_a_row_that_breaks_the_reader_fails_the_job_after_the_batches_before_it(owner, monkeypatch):
    # Batches are read and checked one ahead in a helper thread: an error there must
    # still reach the job in order, after every batch before it is committed.
    data = csv_bytes([HEADER, *_rows(30)])
    job = upload(owner, "c.csv", data)
    services.job_start(actor=owner, job=job, dry_run=False, enqueue=False)
    importer = registry.get("customers")
    original = type(importer).prepare_batch

    def break_on_row_21(self, job, rows, **kwargs):
        if any(number == 22 for number, _values in rows):  # data row 21 (the header is 1)
            raise Boom
        return original(self, job, rows, **kwargs)

    monkeypatch.setattr(type(importer), "prepare_batch", break_on_row_21)
    with pytest.raises(Boom):
        services.run_import(job.pk, batch_size=10)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.processed_rows == 20 and Customer.objects.count() == 20
    monkeypatch.setattr(type(importer), "prepare_batch", original)
    services.job_resume(actor=owner, job=job, enqueue=False)
    services.run_import(job.pk, batch_size=10)
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 30)
    assert Customer.objects.count() == 30
