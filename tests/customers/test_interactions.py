from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.core.access import AccessDenied
from kehu.customers import selectors, services
from kehu.customers.models import Customer, Interaction
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_an_interaction_updates_last_contact_and_becomes_a_followup(owner):
    c = factories.customer(owner, "张三")
    services.interaction_record(
        actor=owner,
        customer=c,
        channel="call",
        summary="询问报价",
        outcome="有意向",
        next_step="发送报价单",
        next_step_due=timezone.localdate(),
    )
    c.refresh_from_db()
    assert c.last_contact_at is not None
    due = list(selectors.followups_due(actor=owner))
    assert [i.next_step for i in due] == ["发送报价单"]
    services.followup_done(actor=owner, interaction=due[0])
    assert list(selectors.followups_due(actor=owner)) == []
    # An older interaction does not move last contact back.
    before = c.last_contact_at
    services.interaction_record(
        actor=owner,
        customer=c,
        channel="note",
        summary="补记",
        happened_at=before - timedelta(days=3),
    )
    c.refresh_from_db()
    assert c.last_contact_at == before


def test_bad_interactions_are_refused_and_outsiders_cannot_add(owner, outsider):
    c = factories.customer(owner, "张三")
    for fields, bad in (
        ({"channel": "pigeon", "summary": "x"}, "channel"),
        ({"channel": "call", "summary": "  "}, "summary"),
        (
            {"channel": "call", "summary": "x", "happened_at": timezone.now() + timedelta(days=2)},
            "happened_at",
        ),
        ({"channel": "call", "summary": "x", "next_step_due": timezone.localdate()}, "next_step"),
    ):
        with pytest.raises(ValidationError) as exc:
            services.interaction_record(actor=owner, customer=c, **fields)
        assert bad in exc.value.message_dict
    with pytest.raises(AccessDenied):
        services.interaction_record(actor=outsider, customer=c, channel="call", summary="x")
    assert Interaction.objects.count() == 0


def test_interactions_api_and_page(owner, teammate):
    c = factories.customer(owner, "张三")
    url = f"/api/v1/customers/{c.pk}/interactions"
    created = token_client(owner).post(
        url, {"channel": "visit", "summary": "上门拜访", "next_step": "回访"}, content_type=JSON
    )
    assert created.status_code == 201, created.content
    assert [i["summary"] for i in token_client(owner).get(url).json()] == ["上门拜访"]
    assert token_client(teammate).get(url).status_code == 404
    refused = token_client(teammate).post(
        url, {"channel": "call", "summary": "x"}, content_type=JSON
    )
    assert refused.status_code == 404
    bad = token_client(owner).post(
        url, {"channel": "call", "summary": "x", "happened_at": 5}, content_type=JSON
    )
    assert bad.status_code == 422 and "happened_at" in error_of(bad)["fields"]
    client = signed_in(owner)
    response = client.post(
        f"/customers/{c.pk}/interactions/", {"channel": "call", "summary": "<b>电话</b>"}
    )
    assert response.status_code == 302
    page = client.get(f"/customers/{c.pk}/").content.decode()
    assert "&lt;b&gt;电话&lt;/b&gt;" in page and "上门拜访" in page
    assert (
        signed_in(teammate)
        .post(f"/customers/{c.pk}/interactions/", {"channel": "call", "summary": "x"})
        .status_code
        == 404
    )
    assert Interaction.objects.filter(customer=c).count() == 2
    assert Customer.objects.get(pk=c.pk).last_contact_at is not None
