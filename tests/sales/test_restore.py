"""Deleted orders, contracts and opportunities come back (API), within the deleter's
scope; a contract file's download is audited."""

from __future__ import annotations

import pytest

from kehu.core.models import AuditEvent
from kehu.sales import services
from kehu.sales.models import Contract, Opportunity, Order
from tests import factories
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(team_a):
    return factories.user("boss", role_code="manager", team_obj=team_a)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_restore_deleted_sales_records(owner, manager, team_b):
    customer = factories.customer(owner)
    order = services.order_create(actor=owner, lines=[{"description": "茶", "unit_price": "9"}])
    contract = services.contract_create(
        actor=owner,
        customer=customer,
        title="供货",
        starts_on="2026-01-01",
        ends_on="2026-12-31",
        value="100",
    )
    opportunity = services.opportunity_create(
        actor=owner, customer=customer, title="扩容", amount="10"
    )
    services.order_delete(actor=manager, order=order, expected_version=order.version)
    services.contract_delete(actor=manager, contract=contract, expected_version=contract.version)
    services.opportunity_delete(
        actor=manager, opportunity=opportunity, expected_version=opportunity.version
    )
    other_manager = factories.user("far", role_code="manager", team_obj=team_b)
    seller, outsider = token_client(owner), token_client(other_manager)
    boss = token_client(manager)
    for path, model, pk in (
        ("orders", Order, order.pk),
        ("contracts", Contract, contract.pk),
        ("opportunities", Opportunity, opportunity.pk),
    ):
        url = f"/api/v1/{path}/{pk}/restore"
        # The salesperson may not delete, so may not restore; another department's
        # manager does not see it: both 404, and it stays deleted.
        assert seller.post(url).status_code == 404
        assert outsider.post(url).status_code == 404
        assert model.all_objects.get(pk=pk).deleted_at is not None
        response = boss.post(url)
        assert response.status_code == 200, response.content
        assert response.json()["id"] == pk
        assert model.objects.filter(pk=pk).exists()
        assert boss.post(url).status_code == 404  # not deleted any more
        assert AuditEvent.objects.filter(
            action=f"sales.{model._meta.model_name}.restore", object_id=str(pk)
        ).exists()
    assert boss.post("/api/v1/orders/99999999999999999999/restore").status_code in (404, 422)


def test_downloading_a_contract_file_is_audited(owner, var_dir):
    import io

    customer = factories.customer(owner)
    contract = services.contract_create(
        actor=owner,
        customer=customer,
        title="供货",
        starts_on="2026-01-01",
        ends_on="2026-12-31",
        value="100",
    )
    attachment = services.attachment_add(
        actor=owner, contract=contract, name="合同.pdf", stream=io.BytesIO(b"%PDF-1.4 signed")
    )
    page = signed_in(owner).get(f"/sales/contracts/{contract.pk}/attachments/{attachment.pk}/")
    assert page.status_code == 200
    assert b"".join(page.streaming_content).startswith(b"%PDF")
    api = token_client(owner).get(f"/api/v1/contracts/attachments/{attachment.pk}/download")
    assert api.status_code == 200
    events = AuditEvent.objects.filter(action="sales.contract.download", object_id=str(contract.pk))
    assert events.count() == 2
    assert events.first().changes["file"] == "合同.pdf"
