"""Order sync through the fakes: place and cancel, updates that never regress, fills applied once."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.builders import NIFTY_CALL, OWNER, a_fill, an_order, placed
from tests.unit.usecases.given import a_live_basket, a_stored_draft
from trading.errors import Conflict, ValidationError
from trading.ids import BasketId, BrokerOrderId
from trading.model import BasketStatus, OrderStatus, OrderType, OrderUpdate, Side
from trading.usecases.execution import execute_basket
from trading.usecases.exits import exit_basket
from trading.usecases.orders import (
    OrderInput,
    apply_fill,
    apply_order_update_to,
    cancel_all_orders,
    cancel_order,
    on_broker_update,
    place_order,
    settle_basket,
    sync_order,
)

if TYPE_CHECKING:
    from tests.fakes import Fakes


def an_order_input(basket_id: BasketId, **overrides: object) -> OrderInput:
    fields: dict[str, object] = {
        "basket_id": basket_id,
        "exchange": "NFO",
        "tradingsymbol": NIFTY_CALL.tradingsymbol,
        "side": Side.BUY,
        "quantity": 65,
        **overrides,
    }
    return OrderInput(**fields)  # type: ignore[arg-type]


def test_an_order_is_placed_only_in_a_live_basket(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    with pytest.raises(Conflict, match="only to a LIVE basket"):
        place_order(fakes.ports, OWNER, an_order_input(draft.id), "o-1")
    live = a_live_basket(fakes)
    order = place_order(fakes.ports, OWNER, an_order_input(live.id), "o-2")
    assert order.broker_order_id is not None
    assert fakes.broker.placed[-1].tag == order.id


def test_a_quantity_off_the_lot_size_is_refused(fakes: Fakes) -> None:
    live = a_live_basket(fakes)
    placed_before = len(fakes.broker.placed)
    with pytest.raises(ValidationError):
        place_order(fakes.ports, OWNER, an_order_input(live.id, quantity=64), "o-3")
    assert len(fakes.broker.placed) == placed_before


def test_a_cancelled_order_is_synced_from_the_broker_and_cannot_be_cancelled_again(fakes: Fakes) -> None:
    live = a_live_basket(fakes)
    order = place_order(
        fakes.ports, OWNER, an_order_input(live.id, order_type=OrderType.LIMIT, price=Decimal("1.00")), "o-4"
    )
    cancelled = cancel_order(fakes.ports, OWNER, order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    with pytest.raises(Conflict, match="can no longer be cancelled"):
        cancel_order(fakes.ports, OWNER, order.id)


def test_cancel_all_cancels_only_working_orders(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    execute_basket(fakes.ports, OWNER, draft.id, "in")
    cancelled = cancel_all_orders(fakes.ports, OWNER, draft.id)
    assert [o.status for o in cancelled] == [OrderStatus.CANCELLED, OrderStatus.CANCELLED]
    assert cancel_all_orders(fakes.ports, OWNER, draft.id) == []


def test_order_updates_never_regress_and_terminal_is_final(fakes: Fakes) -> None:
    # Given a stored order at the broker
    order = placed(an_order())
    fakes.orders.add_all([order])
    bid = order.broker_order_id
    assert bid is not None
    # When COMPLETE arrives before OPEN, then a late CANCELLED
    apply_order_update_to(fakes.ports, order, OrderUpdate(bid, OrderStatus.COMPLETE))
    apply_order_update_to(fakes.ports, order, OrderUpdate(bid, OrderStatus.OPEN))
    apply_order_update_to(fakes.ports, order, OrderUpdate(bid, OrderStatus.CANCELLED))
    # Then it stays COMPLETE, saved once
    stored = fakes.orders.get(OWNER, order.id)
    assert (stored.status, stored.version) == (OrderStatus.COMPLETE, 2)


def test_an_update_saved_on_a_stale_copy_is_retried_on_the_stored_one(fakes: Fakes) -> None:
    order = placed(an_order())
    fakes.orders.add_all([order])
    stale = fakes.orders.get(OWNER, order.id)
    bid = order.broker_order_id
    assert bid is not None
    apply_order_update_to(fakes.ports, order, OrderUpdate(bid, OrderStatus.OPEN))
    apply_order_update_to(fakes.ports, stale, OrderUpdate(bid, OrderStatus.COMPLETE))
    stored = fakes.orders.get(OWNER, order.id)
    assert (stored.status, stored.version) == (OrderStatus.COMPLETE, 3)


def test_a_fill_is_applied_once_to_its_order_and_position(fakes: Fakes) -> None:
    order = placed(an_order())
    fakes.orders.add_all([order])
    fill = a_fill(order)
    assert apply_fill(fakes.ports, order, fill) is True
    assert apply_fill(fakes.ports, order, fill) is False
    stored = fakes.orders.get(OWNER, order.id)
    assert stored.filled_quantity == fill.quantity
    [position] = fakes.orders.positions.values()
    assert position.net_quantity == fill.quantity


def test_a_fill_of_another_order_is_refused(fakes: Fakes) -> None:
    order, other = placed(an_order()), placed(an_order())
    fakes.orders.add_all([order, other])
    with pytest.raises(ValidationError, match="does not belong"):
        apply_fill(fakes.ports, order, a_fill(other))


def test_a_postback_applies_status_and_exact_fills_and_ignores_strangers(fakes: Fakes) -> None:
    # Given an executed basket whose call rests at the broker
    draft = a_stored_draft(fakes)
    execution = execute_basket(fakes.ports, OWNER, draft.id, "in")
    call = next(o for o in execution.orders if o.side is Side.BUY)
    assert call.broker_order_id is not None
    fakes.broker.fill(call.broker_order_id, quantity=30)
    fakes.broker.fill(call.broker_order_id)
    update = fakes.broker.order_update(call.broker_order_id)
    # When the postback arrives twice
    on_broker_update(fakes.ports, "paper", update)
    again = on_broker_update(fakes.ports, "paper", update)
    # Then both trades were counted once
    assert again is not None
    assert (again.status, again.filled_quantity) == (OrderStatus.COMPLETE, 65)
    assert len(fakes.orders.recorded_fills) == 2
    stranger = OrderUpdate(BrokerOrderId("B9999"), OrderStatus.COMPLETE)
    assert on_broker_update(fakes.ports, "paper", stranger) is None


def test_sync_order_brings_status_and_fills_from_the_broker(fakes: Fakes) -> None:
    draft = a_stored_draft(fakes)
    execution = execute_basket(fakes.ports, OWNER, draft.id, "in")
    order = execution.orders[0]
    assert order.broker_order_id is not None
    fakes.broker.fill(order.broker_order_id)
    synced = sync_order(fakes.ports, order)
    assert (synced.status, synced.filled_quantity) == (OrderStatus.COMPLETE, order.quantity)


def test_settle_closes_an_exiting_basket_only_when_flat_and_idle(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    assert settle_basket(fakes.ports, OWNER, basket.id).status is BasketStatus.LIVE
    exit_ = exit_basket(fakes.ports, OWNER, basket.id, "out")
    assert settle_basket(fakes.ports, OWNER, basket.id).status is BasketStatus.EXITING
    for order in exit_.orders:
        assert order.broker_order_id is not None
        fakes.broker.fill(order.broker_order_id)
        sync_order(fakes.ports, order)
    assert settle_basket(fakes.ports, OWNER, basket.id).status is BasketStatus.CLOSED


def test_a_terminal_status_in_a_report_is_taken_from_the_broker_not_from_the_report(fakes: Fakes) -> None:
    # Given an order resting OPEN at the broker
    draft = a_stored_draft(fakes)
    order = execute_basket(fakes.ports, OWNER, draft.id, "in").orders[0]
    assert order.broker_order_id is not None
    # When a report (a postback body, checksum replayed) claims it COMPLETE and fully filled
    forged = OrderUpdate(order.broker_order_id, OrderStatus.COMPLETE, filled_quantity=order.quantity)
    applied = on_broker_update(fakes.ports, "paper", forged)
    # Then the broker's own history decides: still OPEN, nothing filled, no fill recorded
    assert applied is not None
    assert (applied.status, applied.filled_quantity) == (OrderStatus.OPEN, 0)
    assert len(fakes.orders.recorded_fills) == 0
