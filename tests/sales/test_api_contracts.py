"""The contracts API: terms, lists and filters, status moves, renewal, soft delete, and
attachments (PDF/images only, size-limited, always downloaded as attachments) — with the
owner / teammate / outsider matrix (404 and nothing changed)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.sales import services
from kehu.sales.models import Contract, ContractAttachment
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def manager(db):
    return factories.user(
        "boss", role_code="manager", team_obj=factories.team("华东销售二组", "sales")
    )


@pytest.fixture
def rival(team_b):
    return factories.user("rival", role_code="sales", team_obj=team_b)


def make_contract(actor, customer, **fields):
    values = {
        "title": "年度供货合同",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "value": "120000",
        **fields,
    }
    return services.contract_create(actor=actor, customer=customer, **values)


def upload(client, contract, name, content, content_type="application/pdf"):
    return client.post(
        f"/api/v1/contracts/{contract.pk}/attachments",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
    )


def stored_files(var_dir):
    folder = var_dir / "attachments"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_create_get_list_filters_and_pages(owner, teammate):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    client = token_client(owner)
    created = client.post(
        "/api/v1/contracts",
        {
            "customer_id": customer.pk,
            "title": "年度供货合同",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "value": "1280.50",
            "parties": "甲方：明珠贸易\n乙方：本公司",
            "default_liability": "逾期交货每日按合同金额千分之一支付违约金",
            "renewal": "auto",
            "remind_days": 45,
            "status": "active",
        },
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["number"].startswith("HT-") and body["value"] == "1280.50"
    assert (body["status"], body["renewal"], body["remind_on"]) == ("active", "auto", "2026-11-16")
    assert body["customer_name"] == "上海明珠贸易有限公司" and body["owner_id"] == owner.pk
    later = make_contract(owner, customer, ends_on="2027-06-30", title="二期")
    expired = make_contract(owner, customer, ends_on="2026-03-31", title="旧合同")
    Contract.objects.filter(pk=expired.pk).update(status="expired")
    make_contract(teammate, factories.customer(teammate, "李四"))
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/contracts?limit=1&cursor={cursor}").json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [expired.pk, body["id"], later.pk]

    def ids(query):
        response = client.get(f"/api/v1/contracts?{query}")
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    assert ids("expired_not_renewed=true") == [expired.pk]
    assert ids("ending_before=2026-12-31") == [expired.pk, body["id"]]
    assert ids("status=draft") == [later.pk]
    assert ids("q=二期") == [later.pk]
    assert ids(f"customer_id={customer.pk}") == seen
    assert client.get(f"/api/v1/contracts/{later.pk}").json()["title"] == "二期"
    for bad in ("cursor=2026-13-40_1", "cursor=x", "status=void", "ending_before=2026/3/5"):
        response = client.get(f"/api/v1/contracts?{bad}")
        assert response.status_code == 422, bad
        assert bad.split("=")[0] in error_of(response)["fields"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"value": "-5"}, "value"),
        ({"value": "12.345"}, "value"),
        ({"starts_on": "2026/01/01"}, "starts_on"),
        ({"renewal": "sometimes"}, "renewal"),
        ({"remind_days": 400}, "remind_days"),
        ({"status": "expired"}, "status"),
    ],
)
def test_bad_contract_input_is_422(owner, change, field):
    customer = factories.customer(owner, "张三")
    payload = {
        "customer_id": customer.pk,
        "title": "合同",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "value": "100",
        **change,
    }
    response = token_client(owner).post("/api/v1/contracts", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Contract.all_objects.exists()


def test_end_before_start_is_a_rule_conflict(owner):
    customer = factories.customer(owner, "张三")
    response = token_client(owner).post(
        "/api/v1/contracts",
        {
            "customer_id": customer.pk,
            "title": "合同",
            "starts_on": "2026-12-31",
            "ends_on": "2026-01-01",
            "value": "1",
        },
        content_type=JSON,
    )
    assert response.status_code == 409 and "ends_on" in error_of(response)["fields"]
    assert not Contract.all_objects.exists()


def test_patch_status_renew_and_delete(owner, manager):
    contract = make_contract(owner, factories.customer(owner, "张三"))
    client = token_client(owner)
    url = f"/api/v1/contracts/{contract.pk}"
    changed = client.patch(
        url, {"version": 1, "ends_on": "2027-01-31", "payment_terms": "月结30天"}, content_type=JSON
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["ends_on"], changed.json()["version"]) == ("2027-01-31", 2)
    stale = client.patch(url, {"version": 1, "title": "旧"}, content_type=JSON)
    assert stale.status_code == 409
    contract.refresh_from_db()
    assert (contract.title, contract.version) == ("年度供货合同", 2)
    no_reason = client.post(
        f"{url}/status", {"status": "terminated", "version": 2}, content_type=JSON
    )
    assert no_reason.status_code == 409 and "reason" in error_of(no_reason)["fields"]
    active = client.post(f"{url}/status", {"status": "active", "version": 2}, content_type=JSON)
    assert active.status_code == 200 and active.json()["status"] == "active"
    renewed = client.post(f"{url}/renew", {"version": 3}, content_type=JSON)
    assert renewed.status_code == 201, renewed.content
    successor = renewed.json()
    assert (successor["starts_on"], successor["renewed_from_id"]) == ("2027-02-01", contract.pk)
    assert successor["status"] == "active" and successor["payment_terms"] == "月结30天"
    assert client.get(url).json()["status"] == "renewed"
    twice = client.post(f"{url}/renew", {"version": 4}, content_type=JSON)
    assert twice.status_code == 409
    # Deleting needs the delete permission (a manager's) and the current version.
    assert client.delete(f"{url}?version=4").status_code == 404
    boss = token_client(manager)
    assert boss.delete(f"{url}?version=1").status_code == 409
    assert boss.delete(f"{url}?version=4").status_code == 204
    assert client.get(url).status_code == 404
    assert Contract.all_objects.get(pk=contract.pk).deleted_at is not None


def test_attachments_pdf_ok_html_refused_oversized_refused_and_download(owner, settings, var_dir):
    contract = make_contract(owner, factories.customer(owner, "张三"))
    client = token_client(owner)
    ok = upload(client, contract, "合同 扫描件.pdf", PDF)
    assert ok.status_code == 201, ok.content
    body = ok.json()
    assert (body["original_name"], body["content_type"], body["size"]) == (
        "合同 扫描件.pdf",
        "application/pdf",
        len(PDF),
    )
    assert len(stored_files(var_dir)) == 1 and stored_files(var_dir)[0].endswith(".pdf")
    assert "合同" not in stored_files(var_dir)[0]
    # HTML dressed up as a PDF: the content decides, and it is refused.
    html = upload(client, contract, "evil.pdf", b"<html><script>alert(1)</script></html>")
    assert html.status_code == 422 and "file" in error_of(html)["fields"]
    svg = upload(client, contract, "x.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    assert svg.status_code == 422
    settings.KEHU_ATTACHMENT_MAX_MB = 1
    big = upload(client, contract, "big.pdf", PDF + b"0" * (1024 * 1024))
    assert big.status_code == 413 and error_of(big)["code"] == "too_large"
    assert "file" in error_of(big)["fields"]
    assert len(stored_files(var_dir)) == 1 and ContractAttachment.objects.count() == 1
    listed = client.get(f"/api/v1/contracts/{contract.pk}/attachments").json()
    assert [a["id"] for a in listed] == [body["id"]]
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "inline" not in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == PDF
    removed = client.delete(f"/api/v1/contracts/attachments/{body['id']}")
    assert removed.status_code == 204
    assert stored_files(var_dir) == [] and not ContractAttachment.objects.exists()
    assert client.get(body["download_url"]).status_code == 404


def test_access_matrix_owner_teammate_outsider(owner, teammate, outsider, rival, var_dir):
    customer = factories.customer(owner, "张三")
    contract = make_contract(owner, customer)
    attachment = services.attachment_add(
        actor=owner, contract=contract, name="a.pdf", stream=io.BytesIO(PDF)
    )
    url = f"/api/v1/contracts/{contract.pk}"
    assert token_client(owner).get(url).status_code == 200
    for user in (teammate, outsider, rival):
        client = token_client(user)
        reads = [
            client.get(url),
            client.get(f"{url}/attachments"),
            client.get(f"/api/v1/contracts/attachments/{attachment.pk}/download"),
        ]
        assert [r.status_code for r in reads] == [404] * 3, user
        listed = client.get("/api/v1/contracts").json().get("items", [])
        assert contract.pk not in {c["id"] for c in listed}
        writes = [
            client.patch(url, {"version": 1, "title": "hacked"}, content_type=JSON),
            client.post(f"{url}/status", {"status": "active", "version": 1}, content_type=JSON),
            client.post(f"{url}/renew", {"version": 1}, content_type=JSON),
            client.delete(f"{url}?version=1"),
            upload(client, contract, "b.pdf", PDF),
            client.delete(f"/api/v1/contracts/attachments/{attachment.pk}"),
        ]
        assert [w.status_code for w in writes] == [404] * 6, user
    contract.refresh_from_db()
    assert (contract.title, contract.version, contract.status) == ("年度供货合同", 1, "draft")
    assert contract.deleted_at is None and ContractAttachment.objects.count() == 1
    assert len(stored_files(var_dir)) == 1
    assert not Contract.all_objects.exclude(pk=contract.pk).exists()
    # Nor may anyone make a contract with a customer they cannot see.
    response = token_client(rival).post(
        "/api/v1/contracts",
        {
            "customer_id": customer.pk,
            "title": "x",
            "starts_on": str(date(2026, 1, 1)),
            "ends_on": "2026-02-01",
            "value": "1",
        },
        content_type=JSON,
    )
    assert response.status_code == 404 and "customer_id" in error_of(response)["fields"]


def test_a_manager_sees_the_teams_contracts(owner, rival, manager):
    mine = make_contract(owner, factories.customer(owner, "张三"))
    make_contract(rival, factories.customer(rival, "王五"))
    listed = token_client(manager).get("/api/v1/contracts").json()["items"]
    assert [c["id"] for c in listed] == [mine.pk]
