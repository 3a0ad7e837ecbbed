"""Exports of the customer list: permission, scope, masking, formula neutralisation, CSV
(UTF-8 with BOM) and XLSX, audit with the row count, custom fields, the API and the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from django.utils import translation

from kehu.accounts.models import Role
from kehu.cli import main as kehu_main
from kehu.core.models import AuditEvent
from kehu.core.permissions import Perm
from kehu.customers import exports
from kehu.customers.models import Customer, CustomField
from kehu.customers.selectors import CustomerFilters
from tests import factories
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db

PAGE = "/customers/export/"
API = "/api/v1/customers/export"
PREFIXES = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]


def grant(role_code: str, *perms: str) -> None:
    role = Role.objects.get(code=role_code)
    role.permissions = sorted(set(role.permissions) | set(perms))
    role.save(update_fields=["permissions"])


def revoke(role_code: str, *perms: str) -> None:
    role = Role.objects.get(code=role_code)
    role.permissions = sorted(set(role.permissions) - set(perms))
    role.save(update_fields=["permissions"])


@pytest.fixture
def sales_export():
    """Salespeople may export (not granted by default)."""
    grant("sales", Perm.EXPORT_CUSTOMERS)


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def read_xlsx(data: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def export_page(client, query: str = "", **data):
    form = {"format": "csv", "columns": ["name", "mobile"], "query": query, **data}
    return client.post(PAGE, form)


# --- Permission and scope -------------------------------------------------------------------


def test_roles_without_export_get_404_and_no_link(owner, outsider):
    factories.customer(owner, "张三")
    for user in (owner, outsider):
        client = signed_in(user)
        assert client.get(PAGE).status_code == 404
        assert export_page(client).status_code == 404
        response = token_client(user).post(API, {"format": "csv"}, content_type="application/json")
        assert response.status_code == 404
    assert 'id="export-link"' not in signed_in(owner).get("/customers/").content.decode()
    assert not AuditEvent.objects.filter(action="customer.export").exists()


def test_export_has_only_the_users_customers(owner, teammate, outsider, sales_export):
    mine = factories.customer(owner, "张三", mobile="13812345678")
    factories.customer(teammate, "李娜", mobile="13900001111")
    client = signed_in(owner)
    list_page = client.get("/customers/", {"q": "张"}).content.decode()
    assert 'id="export-link" href="/customers/export/?q=%E5%BC%A0"' in list_page
    page = client.get(PAGE, {"q": "张"})
    assert page.status_code == 200
    assert page.context["count"] == 1
    assert 'value="q=%E5%BC%A0"' in page.content.decode()
    response = export_page(client)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Kehu-Row-Count"] == "1"
    rows = read_csv(content(response))
    assert rows[1:] == [[mine.name, "138****5678"]]


def test_manager_exports_the_department(owner, teammate, team_b):
    manager = factories.user("boss", role_code="manager", team_obj=owner.team)
    factories.customer(owner, "张三")
    factories.customer(teammate, "李娜")
    factories.customer(factories.user("agent", role_code="sales", team_obj=team_b), "王五")
    response = export_page(signed_in(manager))
    names = sorted(row[0] for row in read_csv(content(response))[1:])
    assert names == sorted(["张三", "李娜"])


def test_filters_and_sort_carry_over(owner, sales_export):
    factories.customer(owner, "乙", city="杭州", stage="active")
    factories.customer(owner, "甲", city="杭州", stage="active")
    factories.customer(owner, "丙", city="上海", stage="active")
    response = export_page(signed_in(owner), query="city=杭州&stage=active&sort=name")
    names = [row[0] for row in read_csv(content(response))[1:]]
    assert names == sorted(["甲", "乙"])
    event = AuditEvent.objects.get(action="customer.export")
    assert event.row_count == 2
    assert event.changes["filters"] == {"city": "杭州", "stage": "active", "sort": "name"}
    assert event.changes["columns"] == ["name", "mobile"]
    assert event.changes["format"] == "csv" and event.changes["unmasked"] is False


def test_bad_filters_or_columns_are_refused(owner, sales_export):
    factories.customer(owner, "张三")
    client = signed_in(owner)
    response = export_page(client, query="created_from=2026-99-99")
    assert response.status_code == 400
    assert 'id="export-filter-errors"' in response.content.decode()
    response = export_page(client, columns=["name", "password"])
    assert response.status_code == 400
    response = export_page(client, columns=[])
    assert response.status_code == 400 and 'id="columns-error"' in response.content.decode()
    response = export_page(client, format="pdf")
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="customer.export").exists()


# --- Masking ---------------------------------------------------------------------------------

MASKED = ["mobile", "phone", "id_number", "street", "address_text"]


@pytest.fixture
def pii_customer(owner):
    customer = factories.customer(
        owner,
        "张三",
        mobile="13812345678",
        phone="+862161234567",
        street="南京东路100号",
        address_text="上海市黄浦区南京东路100号",
    )
    Customer.objects.filter(pk=customer.pk).update(id_number="110101199003071234")
    return customer


def test_masked_fields_stay_masked_even_for_roles_that_may_reveal(pii_customer, admin_user):
    # The administrator may reveal, but did not ask to.
    response = export_page(signed_in(admin_user), columns=MASKED)
    (row,) = read_csv(content(response))[1:]
    assert row == ["138****5678", "216****4567", "110***********1234", "南京****", "上海****"]


def test_unmasked_values_only_on_request_and_audited(pii_customer, admin_user):
    response = export_page(signed_in(admin_user), columns=MASKED, reveal="on")
    (row,) = read_csv(content(response))[1:]
    # A leading "+" would make a spreadsheet compute the number: kept, as text.
    assert row == [
        "'+8613812345678",
        "'+862161234567",
        "110101199003071234",
        "南京东路100号",
        "上海市黄浦区南京东路100号",
    ]
    assert AuditEvent.objects.get(action="customer.export").changes["unmasked"] is True


def test_reveal_is_ignored_or_refused_without_the_permission(owner, pii_customer, sales_export):
    revoke("sales", Perm.REVEAL_CUSTOMER_PII)
    client = signed_in(owner)
    assert 'name="reveal"' not in client.get(PAGE).content.decode()
    response = export_page(client, columns=["mobile"], reveal="on")
    assert read_csv(content(response))[1:] == [["138****5678"]]
    api = token_client(owner).post(
        API,
        {"format": "csv", "columns": ["mobile"], "reveal": True},
        content_type="application/json",
    )
    assert api.status_code == 404
    events = AuditEvent.objects.filter(action="customer.export")
    assert [e.changes["unmasked"] for e in events] == [False]


# --- Hostile values ---------------------------------------------------------------------------


@pytest.fixture
def hostile(owner):
    rows = []
    for i, prefix in enumerate(PREFIXES):
        customer = factories.customer(owner, f"客户{i}")
        Customer.objects.filter(pk=customer.pk).update(
            name=f'{prefix}HYPERLINK("http://evil.example","x")',
            company=f"{prefix}1+1",
            notes=prefix + "长" * 10_000,
            wechat="a\x01b\x07c\x1bd",  # (PostgreSQL stores no NUL)
            city="<script>alert(1)</script>",
        )
        rows.append(customer.pk)
    return rows


COLUMNS = ["id", "name", "company", "notes", "wechat", "city"]


def _check_hostile_rows(rows: list[list], expected_ids: list[int], xml: bool = False) -> None:
    by_id = {int(row[0]): row for row in rows}
    assert sorted(by_id) == sorted(expected_ids)
    for i, pk in enumerate(sorted(expected_ids)):
        # XML (and so XLSX) reads a bare carriage return back as a line feed.
        prefix = "\n" if xml and PREFIXES[i] == "\r" else PREFIXES[i]
        _id, name, company, notes, wechat, city = by_id[pk]
        assert name == "'" + prefix + 'HYPERLINK("http://evil.example","x")'
        assert company == "'" + prefix + "1+1"
        assert notes == "'" + prefix + "长" * 10_000  # long values whole
        assert wechat == "a\u2401b\u2407c\u241bd"  # control characters visible, not lost
        assert city == "<script>alert(1)</script>"


def test_csv_neutralises_every_formula_prefix(owner, hostile, sales_export):
    response = export_page(signed_in(owner), columns=COLUMNS)
    rows = read_csv(content(response))[1:]
    _check_hostile_rows(rows, hostile)
    for row in rows:
        for cell in row[1:]:
            assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"}


def test_xlsx_opens_and_has_the_right_rows(owner, hostile, sales_export):
    response = export_page(signed_in(owner), columns=COLUMNS, format="xlsx")
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    rows = read_xlsx(content(response))
    assert len(rows) == 1 + len(hostile)
    _check_hostile_rows([list(r) for r in rows[1:]], hostile, xml=True)
    # No cell was stored as a formula.
    book = openpyxl.load_workbook(
        io.BytesIO(content(export_page(signed_in(owner), columns=COLUMNS, format="xlsx")))
    )
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)


def test_xlsx_types_dates_tags_and_custom_fields(owner, sales_export):
    CustomField.objects.create(
        key="budget", label_en="Budget", label_zh_hans="预算", label_zh_hant="預算", kind="number"
    )
    CustomField.objects.create(
        key="fav", label_en="Favourite", label_zh_hans="喜好", label_zh_hant="喜好", kind="text"
    )
    CustomField.objects.create(
        key="old",
        label_en="Old",
        label_zh_hans="旧",
        label_zh_hant="舊",
        kind="text",
        is_active=False,
    )
    customer = factories.customer(owner, "张三", tags=["VIP", "展会"], stage="active")
    Customer.objects.filter(pk=customer.pk).update(
        custom={"budget": "12.5", "fav": "=evil()", "old": "x"}
    )
    keys = [key for key, _label in exports.column_choices()]
    assert "custom.budget" in keys and "custom.fav" in keys and "custom.old" not in keys
    owner.language = "en"
    owner.save(update_fields=["language"])
    columns = ["name", "tags", "stage", "created_at", "custom.budget", "custom.fav"]
    rows = read_xlsx(content(export_page(signed_in(owner), columns=columns, format="xlsx")))
    assert rows[0] == ["Name", "Tags", "Stage", "Created", "Budget", "Favourite"]
    name, tags, stage, created, budget, fav = rows[1]
    assert (name, tags, stage, fav) == ("张三", "VIP, 展会", "Active", "'=evil()")
    assert float(budget) == 12.5
    assert created.year >= 2026  # a real date cell
    assert export_page(signed_in(owner), columns=["custom.old"]).status_code == 400


def test_header_in_the_users_language(owner, sales_export):
    factories.customer(owner, "张三")
    owner.language = "zh-hans"
    owner.save(update_fields=["language"])
    header = read_csv(content(export_page(signed_in(owner), columns=["name", "mobile"])))[0]
    with translation.override("zh-hans"):
        assert header == [str(exports.BUILT_IN[1].label), str(exports.BUILT_IN[7].label)]
    assert header != ["Name", "Mobile"]


# --- The pure function and the audit event ----------------------------------------------------


def test_customer_export_writes_a_file_and_audits_the_exact_count(owner, sales_export, tmp_path):
    owner = type(owner).objects.get(pk=owner.pk)  # the role with the new permission
    for i in range(7):
        factories.customer(owner, f"客户{i}")
    result = exports.customer_export(
        actor=owner,
        filters=CustomerFilters(),
        columns=["name"],
        fmt="csv",
        directory=str(tmp_path),
    )
    assert result.rows == 7
    assert len(read_csv(Path(result.path).read_bytes())) == 8
    event = AuditEvent.objects.get(action="customer.export")
    assert event.row_count == 7 and event.actor == owner


def test_chunks_bigger_than_one_batch(owner, sales_export, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 3)
    for i in range(8):
        factories.customer(owner, f"客户{i}", tags=[f"T{i}"])
    response = export_page(signed_in(owner), columns=["name", "tags"])
    rows = read_csv(content(response))[1:]
    assert len(rows) == 8
    assert {row[1] for row in rows} == {f"T{i}" for i in range(8)}
    assert all(row[1] == "T" + row[0][2:] for row in rows)


# --- API ----------------------------------------------------------------------------------------


def test_api_export_csv_and_xlsx(owner, teammate, sales_export):
    factories.customer(owner, "张三", mobile="13812345678", city="杭州")
    factories.customer(owner, "李四", city="上海")
    factories.customer(teammate, "王五", city="杭州")
    client = token_client(owner)
    response = client.post(
        API,
        {"format": "csv", "columns": ["name", "mobile"], "filters": {"city": "杭州"}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert read_csv(content(response))[1:] == [["张三", "138****5678"]]
    response = client.post(API, {"format": "xlsx"}, content_type="application/json")
    assert response.status_code == 200
    assert len(read_xlsx(content(response))) == 3
    assert AuditEvent.objects.filter(action="customer.export").count() == 2


def test_api_export_validation(owner, sales_export):
    client = token_client(owner)
    for payload, field in (
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "columns": ["nope"]}, "columns"),
        ({"format": "csv", "columns": []}, "columns"),
        ({"format": "csv", "filters": {"created_from": "2026-02-30"}}, "filters.created_from"),
        ({"format": "csv", "filters": {"sort": "password"}}, "filters.sort"),
        ({"format": "csv", "filters": {"evil": 1}}, "filters.evil"),
    ):
        response = client.post(API, payload, content_type="application/json")
        assert response.status_code == 422, (payload, response.content)
        assert field in response.json()["error"]["fields"], response.json()


# --- CLI ------------------------------------------------------------------------------------------


def run_cli(*args: str) -> int:
    with translation.override("en"):
        try:
            return kehu_main(list(args))
        except SystemExit as exc:
            return int(exc.code or 0)


def test_cli_exports_with_the_users_scope_and_masking(owner, teammate, tmp_path, capsys):
    manager = factories.user("boss", role_code="manager", team_obj=owner.team)
    factories.customer(owner, "张三", mobile="13812345678", city="杭州")
    factories.customer(teammate, "李娜", mobile="13900001111", city="上海")
    factories.customer(factories.user("far", role_code="sales"), "王五")  # no department
    out = tmp_path / "c.csv"
    assert run_cli("export", "customers", "--format", "csv", "--out", str(out), "--as", "boss") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 2 and summary["out"] == str(out)
    rows = read_csv(out.read_bytes())
    assert sorted((r[0], r[2]) for r in rows[1:]) == [
        ("张三", "138****5678"),
        ("李娜", "139****1111"),
    ]
    xlsx = tmp_path / "c.xlsx"
    assert (
        run_cli(
            "export",
            "customers",
            "--format",
            "xlsx",
            "--out",
            str(xlsx),
            "--as",
            "boss",
            "--city",
            "杭州",
            "--columns",
            "name,mobile",
            "--owner",
            "owner",
        )
        == 0
    )
    assert read_xlsx(xlsx.read_bytes())[1:] == [["张三", "138****5678"]]
    event = AuditEvent.objects.filter(action="customer.export").order_by("-id").first()
    assert event.actor == manager and event.row_count == 1


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--as", "nobody"], "nobody"),
        (["--as", "owner"], "may not export"),
        (["--as", "boss", "--created-from", "2026-13-01"], "--created-from"),
        (["--as", "boss", "--sort", "password"], "--sort"),
        (["--as", "boss", "--columns", "name,password"], "password"),
        (["--as", "boss", "--team", "no such team"], "no such team"),
        (["--as", "boss", "--stage", "royalty"], "--stage"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(owner, tmp_path, capsys, extra, needle):
    factories.user("boss", role_code="manager", team_obj=owner.team)
    out = tmp_path / "x.csv"
    code = run_cli("export", "customers", "--format", "csv", "--out", str(out), *extra)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and needle in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_cli_refuses_to_overwrite_and_bad_folders(owner, tmp_path, capsys):
    factories.user("boss", role_code="manager", team_obj=owner.team)
    out = tmp_path / "x.csv"
    out.write_text("keep me")
    base = ("export", "customers", "--format", "csv", "--as", "boss")
    assert run_cli(*base, "--out", str(out)) == 2
    assert out.read_text() == "keep me"
    assert run_cli(*base, "--out", str(out), "--force") == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert run_cli(*base, "--out", str(tmp_path / "missing" / "x.csv")) == 2
    assert run_cli("export", "customers", "--format", "pdf", "--out", "x", "--as", "boss") == 2
    capsys.readouterr()


def test_fast_mask_of_chinese_numbers_matches_phonenumbers():
    """masking.mask_phone's shortcut for +86 numbers gives what phonenumbers gives."""
    import random

    import phonenumbers

    from kehu.customers.masking import mask_phone

    def by_phonenumbers(value: str) -> str:
        number = phonenumbers.parse(value, None)
        national = str(number.national_number)
        return f"{national[:3]}****{national[-4:]}"

    rnd = random.Random(2026)
    for _i in range(2000):
        digits = str(rnd.randint(1, 9)) + "".join(
            str(rnd.randint(0, 9)) for _j in range(rnd.randint(6, 10))
        )
        assert mask_phone("+86" + digits) == by_phonenumbers("+86" + digits)
    assert mask_phone("+4915123456789") == "+49 151****6789"
