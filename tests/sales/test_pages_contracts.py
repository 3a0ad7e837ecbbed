"""The contract pages: list and filters (incl. expired, not renewed), record and edit,
the contract's page, status moves, renewal, delete, attachments (upload, download headers,
limits), and the access matrix: the owner acts, a teammate and an outsider get 404 and
change nothing. Hostile text is escaped."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kehu.core.models import AuditEvent
from kehu.sales import services
from kehu.sales.choices import ContractStatus
from kehu.sales.models import Contract, ContractAttachment
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

LIST = "/sales/contracts/"
NEW = "/sales/contracts/new/"
HOSTILE = "<script>alert(1)</script>"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FORM = {
    "number": "",
    "title": "年度供货合同",
    "parties": "甲方：上海明珠贸易有限公司\r\n乙方：杭州云杉科技有限公司",
    "signed_on": "2025-12-20",
    "starts_on": "2026-01-01",
    "ends_on": "2026-12-31",
    "value": "¥120,000.50",
    "payment_terms": "预付30%\r\n验收后付70%",
    "delivery_terms": "2026年2月底前交付",
    "transaction_rules": "以书面订单为准",
    "default_liability": "逾期交货每日按合同金额0.05%支付违约金",
    "renewal": "manual",
    "remind_days": "30",
    "status": "draft",
}


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def url(contract, suffix=""):
    return f"/sales/contracts/{contract.pk}/{suffix}"


def record(actor, customer=None, **fields):
    values = {
        "customer": customer or factories.customer(actor, "上海明珠贸易有限公司"),
        "title": "年度供货合同",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "value": "120000",
        "default_liability": "违约金为合同金额的10%",
    }
    values.update(fields)
    return services.contract_create(actor=actor, **values)


def pdf(name="合同.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def stored(var_dir):
    folder = var_dir / "attachments"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def state(contract):
    fresh = Contract.all_objects.get(pk=contract.pk)
    return (fresh.title, fresh.status, fresh.version, fresh.deleted_at, fresh.value)


# --- list ---------------------------------------------------------------------------------


def test_anonymous_and_people_without_sales_rights(owner, outsider):
    response = Client().get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert signed_in(owner).get(LIST).status_code == 200
    assert f'href="{LIST}"' in signed_in(owner).get("/").content.decode()
    for url_ in (LIST, NEW):
        assert signed_in(outsider).get(url_).status_code == 404


def test_list_filters_and_columns(owner, teammate):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    running = record(owner, customer, status="active", title="供货", number="HT-A")
    ending = record(owner, customer, status="active", title="维保", ends_on="2026-06-30")
    expired = record(owner, customer, status="active", title="旧合同", ends_on="2026-03-31")
    Contract.objects.filter(pk=ending.pk).update(status=ContractStatus.EXPIRING)
    Contract.objects.filter(pk=expired.pk).update(status=ContractStatus.EXPIRED)
    record(teammate, factories.customer(teammate, "李娜"), title="别人的合同")
    client = signed_in(owner)

    response = client.get(LIST)
    page = response.content.decode()
    assert [c.title for c in response.context["page"]] == ["旧合同", "维保", "供货"]
    assert "别人的合同" not in page
    row = page.split(f'data-contract="{running.pk}"')[1].split("</tr>")[0]
    for text in ("HT-A", "供货", "上海明珠贸易有限公司", "2026-01-01", "2026-12-31"):
        assert text in row
    assert "¥120,000.00" in row and 'data-renewal="manual"' in row
    assert 'data-status="active"' in row and "张三" in row

    def titles(**query):
        return [c.title for c in client.get(LIST, query).context["page"]]

    assert titles(status="expiring") == ["维保"]
    assert titles(expired="on") == ["旧合同"]
    assert titles(ending_before="2026-06-30") == ["旧合同", "维保"]
    assert titles(q="HT-A") == ["供货"]
    assert titles(q="维保") == ["维保"]
    assert titles(q="上海明珠") == ["旧合同", "维保", "供货"]
    assert titles(owner=str(owner.pk)) == ["旧合同", "维保", "供货"]
    assert titles(owner=str(teammate.pk)) == ["旧合同", "维保", "供货"]  # not offered: ignored
    assert 'id="expired-view"' in page

    partial = client.get(LIST, {"expired": "on"}, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="contract-results">') and "<html" not in body
    assert "旧合同" in body and "维保" not in body
    for bad in ({"status": "nonsense"}, {"ending_before": "2026-02-30"}, {"page": "x"}):
        assert client.get(LIST, bad).status_code == 200


def test_a_manager_sees_the_teams_contracts(owner, team_a):
    manager = factories.user("mgr", role_code="manager", team_obj=team_a, name="赵经理")
    contract = record(owner)
    client = signed_in(manager)
    assert [c.pk for c in client.get(LIST).context["page"]] == [contract.pk]
    assert [c.pk for c in client.get(LIST, {"owner": owner.pk}).context["page"]] == [contract.pk]
    assert client.get(url(contract)).status_code == 200


# --- record and edit ------------------------------------------------------------------


def test_pick_a_customer_then_record_a_contract(owner, teammate):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    factories.customer(teammate, "上海别家")
    client = signed_in(owner)
    picker = client.get(NEW, {"q": "上海"}).content.decode()
    assert f'href="{NEW}?customer={customer.pk}"' in picker and "上海别家" not in picker
    form_page = client.get(NEW, {"customer": customer.pk})
    assert form_page.status_code == 200 and "上海明珠贸易有限公司" in form_page.content.decode()

    bad = client.post(f"{NEW}?customer={customer.pk}", {**FORM, "ends_on": "2025-12-31"})
    assert bad.status_code == 400
    assert "ends_on" in bad.context["form"].errors
    assert bad.context["form"]["default_liability"].value() == FORM["default_liability"]
    bad = client.post(f"{NEW}?customer={customer.pk}", {**FORM, "value": "12.345"})
    assert bad.status_code == 400 and "value" in bad.context["form"].errors
    assert not Contract.objects.exists()

    response = client.post(f"{NEW}?customer={customer.pk}", FORM)
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == url(contract)
    assert contract.number == f"HT-{contract.pk:08d}"
    assert (contract.customer, contract.owner, contract.status) == (customer, owner, "draft")
    assert str(contract.value) == "120000.50"
    assert contract.parties == "甲方：上海明珠贸易有限公司\n乙方：杭州云杉科技有限公司"
    assert contract.default_liability == FORM["default_liability"]
    assert (contract.signed_on, contract.remind_on) == (date(2025, 12, 20), date(2026, 12, 1))

    page = client.get(url(contract)).content.decode()
    assert "甲方：上海明珠贸易有限公司<br>乙方：杭州云杉科技有限公司" in page
    assert 'data-terms="default_liability"' in page and FORM["default_liability"] in page
    assert 'id="contract-status"' in page and 'data-field="remind_on">2026-12-01<' in page
    assert 'id="activate-button"' in page and 'id="renew-button"' not in page
    assert 'id="delete-contract"' not in page  # salespeople may not delete


def test_create_refuses_unseen_or_bad_customers(owner, teammate):
    theirs = factories.customer(teammate, "李娜")
    client = signed_in(owner)
    for value in (theirs.pk, "abc", 999999):
        assert client.get(NEW, {"customer": value}).status_code == 404
        assert client.post(f"{NEW}?customer={value}", FORM).status_code == 404
    assert not Contract.objects.exists()


def test_edit_keeps_input_on_conflict(owner):
    contract = record(owner)
    client = signed_in(owner)
    edit = url(contract, "edit/")
    form = client.get(edit).context["form"]
    assert form["title"].value() == "年度供货合同" and form["version"].value() == 1
    assert "number" not in form.fields and "status" not in form.fields
    data = {**FORM, "title": "年度供货合同（修订）", "ends_on": "2027-03-31", "version": 1}
    assert client.post(edit, data).status_code == 302
    contract.refresh_from_db()
    assert (contract.title, contract.ends_on, contract.version) == (
        "年度供货合同（修订）",
        date(2027, 3, 31),
        2,
    )
    assert contract.remind_on == date(2027, 3, 1)
    stale = client.post(edit, {**data, "title": "另一个人的修改", "version": 1})
    assert stale.status_code == 409 and stale.context["conflict"]
    page = stale.content.decode()
    assert 'id="conflict-message"' in page and 'value="另一个人的修改"' in page
    bad = client.post(edit, {**data, "starts_on": "2028-01-01", "version": 2})
    assert bad.status_code == 400 and "ends_on" in bad.context["form"].errors
    contract.refresh_from_db()
    assert (contract.title, contract.version) == ("年度供货合同（修订）", 2)


def test_hostile_text_is_escaped(owner, var_dir):
    customer = factories.customer(owner, HOSTILE)
    client = signed_in(owner)
    hostile = {key: HOSTILE for key in ("title", "parties", "payment_terms", "default_liability")}
    client.post(f"{NEW}?customer={customer.pk}", {**FORM, **hostile, "number": HOSTILE})
    contract = Contract.objects.get()
    assert contract.title == HOSTILE and contract.number == HOSTILE
    name = "<img src=x onerror=alert(1)>.pdf"
    client.post(url(contract, "attachments/"), {"file": pdf(name=name)})
    assert ContractAttachment.objects.get().original_name == name
    for page in (client.get(url(contract)), client.get(LIST), client.get(url(contract, "edit/"))):
        body = page.content.decode()
        assert HOSTILE not in body and "&lt;script&gt;" in body and "<img src=x" not in body


# --- status, renewal, delete --------------------------------------------------------------


def test_activate_terminate_and_renew(owner):
    contract = record(owner)
    client = signed_in(owner)
    status = url(contract, "status/")
    assert client.get(status).status_code == 405
    assert client.post(status, {"status": "active", "version": 1}).status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.version) == ("active", 2)
    client.post(status, {"status": "active", "version": 1})  # stale: refused
    client.post(status, {"status": "expired", "version": 2})  # not a move people make
    response = client.post(status, {"status": "terminated", "version": 2, "reason": " "})
    assert response.status_code == 302
    messages = [str(m) for m in client.get(url(contract)).context["messages"]]
    assert any(messages)
    contract.refresh_from_db()
    assert (contract.status, contract.version) == ("active", 2)

    page = client.get(url(contract)).content.decode()
    assert 'id="renew-button"' in page and 'id="terminate-contract"' in page
    renew = client.post(url(contract, "renew/"), {"version": 2})
    successor = Contract.objects.get(renewed_from=contract)
    assert renew["Location"] == url(successor)
    contract.refresh_from_db()
    assert contract.status == "renewed" and successor.status == "active"
    assert successor.default_liability == contract.default_liability
    new_page = client.get(url(successor)).content.decode()
    assert f'id="renews-link">{contract.number}<' in new_page
    old_page = client.get(url(contract)).content.decode()
    assert f'id="renewed-by-link">{successor.number}<' in old_page
    assert 'id="renew-button"' not in old_page and 'id="activate-button"' not in old_page
    client.post(url(contract, "renew/"), {"version": contract.version})  # twice: refused
    assert Contract.objects.count() == 2

    terminate = {"status": "terminated", "version": successor.version, "reason": "客户违约"}
    client.post(url(successor, "status/"), terminate)
    successor.refresh_from_db()
    assert successor.status == "terminated"
    event = AuditEvent.objects.filter(action="sales.contract.status").order_by("-id").first()
    assert event.changes["reason"] == "客户违约"


def test_delete_needs_the_delete_right(owner, admin_user):
    contract = record(owner)
    assert signed_in(owner).post(url(contract, "delete/"), {"version": 1}).status_code == 404
    admin = signed_in(admin_user)
    assert 'id="delete-contract"' in admin.get(url(contract)).content.decode()
    admin.post(url(contract, "delete/"), {"version": 9})  # stale: refused
    assert Contract.objects.filter(pk=contract.pk).exists()
    response = admin.post(url(contract, "delete/"), {"version": 1})
    assert response.status_code == 302 and response["Location"] == LIST
    assert not Contract.objects.filter(pk=contract.pk).exists()
    assert Contract.all_objects.get(pk=contract.pk).deleted_at is not None
    assert admin.get(url(contract)).status_code == 404


# --- attachments ----------------------------------------------------------------------


def test_upload_list_download_and_remove(owner, var_dir):
    contract = record(owner)
    client = signed_in(owner)
    page = client.get(url(contract)).content.decode()
    assert 'id="attach-form"' in page and "10.0\xa0MB" in page and 'id="no-attachments"' in page
    response = client.post(url(contract, "attachments/"), {"file": pdf()})
    assert response.status_code == 302 and response["Location"].endswith("#attachments")
    attachment = ContractAttachment.objects.get()
    assert stored(var_dir) == [attachment.stored_name]
    page = client.get(url(contract)).content.decode()
    link = f"/sales/contracts/{contract.pk}/attachments/{attachment.pk}/"
    assert f'href="{link}"' in page and "合同.pdf" in page

    download = client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == "sandbox"
    other = record(owner, contract.customer)
    assert client.get(f"/sales/contracts/{other.pk}/attachments/{attachment.pk}/").status_code == (
        404
    )

    assert client.get(link + "delete/").status_code == 405
    assert client.post(link + "delete/").status_code == 302
    assert not ContractAttachment.objects.exists() and stored(var_dir) == []
    assert client.get(link).status_code == 404


def test_refused_uploads_leave_nothing(owner, var_dir, settings):
    contract = record(owner)
    client = signed_in(owner)
    html = SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
    exe = SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/x-msdos")
    for upload in (html, exe):
        assert client.post(url(contract, "attachments/"), {"file": upload}).status_code == 302
    assert client.post(url(contract, "attachments/"), {}).status_code == 302
    settings.KEHU_ATTACHMENT_MAX_MB = 1
    big = pdf(data=PDF + b"0" * (1024 * 1024))
    response = client.post(url(contract, "attachments/"), {"file": big}, follow=True)
    assert response.status_code == 200
    assert "1.0\xa0MB" in " ".join(str(m) for m in response.context["messages"])
    # Declared far over the limit: refused before the body is read.
    huge = client.post(
        url(contract, "attachments/"),
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert huge.status_code == 302 and huge["Location"].endswith("#attachments")
    shown = [str(m) for m in client.get(url(contract)).context["messages"]]
    assert len(shown) == 1 and "1.0\xa0MB" in shown[0]
    assert not ContractAttachment.objects.exists() and stored(var_dir) == []
    assert AuditEvent.objects.filter(action="sales.contract.attach").count() == 0


def test_upload_is_csrf_protected(owner, var_dir):
    contract = record(owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner, backend="kehu.accounts.backends.KehuBackend")
    refused = client.post(url(contract, "attachments/"), {"file": pdf()})
    assert refused.status_code in (403, 404)
    assert not ContractAttachment.objects.exists() and stored(var_dir) == []
    client.get(url(contract))
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        url(contract, "attachments/"), {"csrfmiddlewaretoken": token, "file": pdf()}
    )
    assert accepted.status_code == 302 and ContractAttachment.objects.count() == 1


# --- access matrix --------------------------------------------------------------------


def test_teammate_and_outsider_get_404_and_change_nothing(owner, teammate, outsider, var_dir):
    contract = record(owner, status="active")
    attachment = services.attachment_add(
        actor=owner, contract=contract, name="a.pdf", stream=__import__("io").BytesIO(PDF)
    )
    before = state(contract)
    files = stored(var_dir)
    download = url(contract, f"attachments/{attachment.pk}/")
    for intruder in (teammate, outsider):
        client = signed_in(intruder)
        for path in (url(contract), url(contract, "edit/"), download):
            assert client.get(path).status_code == 404, path
        assert client.get(NEW, {"customer": contract.customer_id}).status_code == 404
        posts = [
            (url(contract, "edit/"), {**FORM, "title": "x", "version": 1}),
            (url(contract, "status/"), {"status": "terminated", "version": 1, "reason": "x"}),
            (url(contract, "renew/"), {"version": 1}),
            (url(contract, "delete/"), {"version": 1}),
            (url(contract, "attachments/"), {"file": pdf()}),
            (download + "delete/", {}),
            (f"{NEW}?customer={contract.customer_id}", FORM),
        ]
        for path, data in posts:
            assert client.post(path, data).status_code == 404, path
        assert (
            "年度供货合同" not in client.get(LIST).content.decode()
            if intruder == teammate
            else True
        )
    assert state(contract) == before
    assert Contract.all_objects.count() == 1
    assert list(ContractAttachment.objects.values_list("pk", flat=True)) == [attachment.pk]
    assert stored(var_dir) == files


def test_read_only_viewer_sees_no_actions(owner, auditor):
    contract = record(owner)
    client = signed_in(auditor)
    page = client.get(url(contract)).content.decode()
    assert "年度供货合同" in page
    for marker in ('id="edit-contract"', 'id="activate-button"', 'id="attach-form"', "data-remove"):
        assert marker not in page
    assert client.post(
        url(contract, "status/"), {"status": "active", "version": 1}
    ).status_code == (404)
    assert state(contract)[1] == "draft"
