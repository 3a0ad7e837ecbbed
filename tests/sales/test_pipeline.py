"""Pipeline services: stage moves are version-checked, audited and race-safe; won and
lost; a won opportunity can create the order or the contract."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, ConflictError, RuleViolation
from kehu.sales import selectors, services
from kehu.sales.choices import ContractStatus, OpportunityStatus
from kehu.sales.models import Opportunity, PipelineStage
from tests import factories
from tests.conftest import is_postgres

pytestmark = pytest.mark.django_db


def stages() -> list[PipelineStage]:
    return list(PipelineStage.objects.filter(is_active=True).order_by("position"))


def test_a_move_is_audited_and_a_stale_move_conflicts(owner, teammate):
    customer = factories.customer(owner)
    opp = services.opportunity_create(actor=owner, customer=customer, title="扩容", amount="8000")
    assert opp.stage == stages()[0]
    moved = services.opportunity_move(
        actor=owner, opportunity=opp, stage=stages()[2], expected_version=opp.version
    )
    event = AuditEvent.objects.get(action="sales.opportunity.move")
    assert event.changes == {"stage": [stages()[0].pk, stages()[2].pk]}
    assert event.actor == owner
    with pytest.raises(ConflictError):  # a card dragged from a stale board
        services.opportunity_move(
            actor=owner, opportunity=opp, stage=stages()[1], expected_version=opp.version
        )
    with pytest.raises(AccessDenied):  # own scope: the teammate cannot move it
        services.opportunity_move(
            actor=teammate, opportunity=moved, stage=stages()[1], expected_version=moved.version
        )
    moved.refresh_from_db()
    assert moved.stage == stages()[2]
    assert AuditEvent.objects.filter(action="sales.opportunity.move").count() == 1


def test_lost_needs_a_reason_and_closed_cards_do_not_move(owner):
    opp = services.opportunity_create(
        actor=owner, customer=factories.customer(owner), title="年度采购", amount="1000"
    )
    with pytest.raises(ValidationError):
        services.opportunity_close(
            actor=owner, opportunity=opp, status="lost", expected_version=opp.version
        )
    lost = services.opportunity_close(
        actor=owner, opportunity=opp, status="lost", expected_version=opp.version, reason="预算取消"
    )
    assert lost.status == OpportunityStatus.LOST and lost.closed_at is not None
    with pytest.raises(RuleViolation):
        services.opportunity_move(
            actor=owner, opportunity=lost, stage=stages()[1], expected_version=lost.version
        )
    reopened = services.opportunity_close(
        actor=owner, opportunity=lost, status="open", expected_version=lost.version
    )
    assert reopened.status == OpportunityStatus.OPEN and reopened.lost_reason == ""


def test_winning_creates_the_order_or_the_contract(owner):
    customer = factories.customer(owner)
    opp = services.opportunity_create(actor=owner, customer=customer, title="净水器", amount="5999")
    won = services.opportunity_win(
        actor=owner, opportunity=opp, expected_version=opp.version, create="order"
    )
    assert won.status == OpportunityStatus.WON
    assert won.order.customer == customer and won.order.total == Decimal("5999.00")
    other = services.opportunity_create(actor=owner, customer=customer, title="维保", amount="3600")
    won = services.opportunity_win(
        actor=owner, opportunity=other, expected_version=other.version, create="contract"
    )
    assert won.contract.status == ContractStatus.DRAFT
    assert won.contract.value == Decimal("3600.00")


def test_board_counts_and_sums_by_stage(owner):
    customer = factories.customer(owner)
    first, third = stages()[0], stages()[2]
    for amount, stage in (("100", first), ("250.50", first), ("1000", third)):
        services.opportunity_create(
            actor=owner, customer=customer, title="x", amount=amount, stage=stage
        )
    board = {column.stage.pk: column for column in selectors.pipeline_board(actor=owner)}
    assert (board[first.pk].count, board[first.pk].amount) == (2, Decimal("350.50"))
    assert board[third.pk].weighted == Decimal("500.00")  # 50 %
    assert board[stages()[1].pk].count == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_dragging_one_card_at_once_exactly_one_wins():
    if not is_postgres():
        pytest.skip("needs PostgreSQL")
    from tests.conftest import seed_reference_data

    seed_reference_data()
    team = factories.team("拖拽组")
    boss = factories.user("boss", role_code="manager", team_obj=team)
    seller = factories.user("seller", role_code="sales", team_obj=team)
    opp = services.opportunity_create(
        actor=seller, customer=factories.customer(seller), title="并发", amount="10"
    )
    targets = [stages()[1], stages()[3]]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(actor, stage) -> None:
        try:
            barrier.wait(5)
            services.opportunity_move(
                actor=actor, opportunity=opp, stage=stage, expected_version=opp.version
            )
            outcomes.append(f"moved:{stage.pk}")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=move, args=(who, stage))
        for who, stage in zip((boss, seller), targets, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "moved"]
    winner = int(next(o for o in outcomes if o.startswith("moved")).split(":")[1])
    stored = Opportunity.objects.get(pk=opp.pk)
    assert stored.stage_id == winner and stored.version == opp.version + 1
    assert AuditEvent.objects.filter(action="sales.opportunity.move").count() == 1
