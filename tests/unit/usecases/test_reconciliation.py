"""Reconciliation through the fakes: adoption by tag, missed updates and fills, abandonment, unreachable brokers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.builders import NIFTY_CALL, OWNER
from tests.fakes import FakeBroker, FakeBrokers, Fakes
from tests.unit.usecases.given import a_stored_draft
from trading.errors import BrokerNotConnected
from trading.ids import BrokerOrderId
from trading.model import OrderStatus
from trading.ports import OrderRequest
from trading.usecases.execution import execute_basket
from trading.usecases.reconciliation import reconcile_owner


def test_an_order_whose_placement_timed_out_is_adopted_by_its_tag_with_its_fills(fakes: Fakes) -> None:
    # Given the broker took the call but the placement's answer was lost
    draft = a_stored_draft(fakes)
    fakes.broker.unreachable.add(NIFTY_CALL.tradingsymbol)
    execution = execute_basket(fakes.ports, OWNER, draft.id, "in")
    call = next(o for o in execution.view.orders if o.instrument == NIFTY_CALL)
    assert call.broker_order_id is None
    fakes.broker.unreachable.clear()
    request = next(r for r in execution_requests(fakes, call.id))
    broker_order_id = fakes.broker.place_order(request)
    fakes.broker.fill(broker_order_id)
    # When
    report = reconcile_owner(fakes.ports, OWNER)
    # Then
    adopted = fakes.orders.get(OWNER, call.id)
    assert (adopted.broker_order_id, adopted.status, adopted.filled_quantity) == (
        broker_order_id,
        OrderStatus.COMPLETE,
        65,
    )
    assert (report.adopted, report.fills) == (1, 1)


def execution_requests(fakes: Fakes, order_id: str) -> list[OrderRequest]:
    """The ticket our order would have carried (the broker's copy is what a lost answer leaves behind)."""
    order = fakes.orders.orders[order_id]  # type: ignore[index]
    return [
        OrderRequest(
            order.instrument,
            order.side,
            order.quantity,
            order.order_type,
            order.product,
            order.variety,
            order.validity,
            order.price,
            order.trigger_price,
            order.id,
        )
    ]


def test_a_missed_postback_is_applied_and_a_second_pass_changes_nothing(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    execution = execute_basket(fakes.ports, OWNER, draft.id, "in")
    for order in execution.orders:
        assert order.broker_order_id is not None
        fakes.broker.fill(order.broker_order_id)
    first = reconcile_owner(fakes.ports, OWNER)
    second = reconcile_owner(fakes.ports, OWNER)
    assert (first.updated, first.fills) == (2, 2)
    assert (second.checked, second.updated, second.fills) == (0, 0, 0)
    assert {o.status for o in fakes.baskets.view(OWNER, draft.id).orders} == {OrderStatus.COMPLETE}


def test_an_order_the_broker_never_saw_is_abandoned_after_the_grace(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    fakes.broker.unreachable.add(NIFTY_CALL.tradingsymbol)
    execute_basket(fakes.ports, OWNER, draft.id, "in")
    assert reconcile_owner(fakes.ports, OWNER).abandoned == 0  # still within the grace
    fakes.clock.advance(minutes=3)
    report = reconcile_owner(fakes.ports, OWNER, grace=timedelta(minutes=2))
    assert report.abandoned == 1
    call = next(o for o in fakes.baskets.view(OWNER, draft.id).orders if o.instrument == NIFTY_CALL)
    assert call.status is OrderStatus.REJECTED
    assert "never reached it" in (call.status_message or "")


def test_reconciliation_never_places_or_cancels(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    execute_basket(fakes.ports, OWNER, draft.id, "in")
    placed, cancelled = len(fakes.broker.placed), list(fakes.broker.cancelled)
    reconcile_owner(fakes.ports, OWNER)
    assert (len(fakes.broker.placed), fakes.broker.cancelled) == (placed, cancelled)


def test_an_unreachable_broker_is_raised_when_it_is_the_only_one(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    execute_basket(fakes.ports, OWNER, draft.id, "in")
    fakes.brokers = FakeBrokers(FakeBroker(name="kite"))
    with pytest.raises(BrokerNotConnected):
        reconcile_owner(fakes.ports, OWNER)
    assert BrokerOrderId("B0001") in fakes.broker.book  # the paper session kept its book
